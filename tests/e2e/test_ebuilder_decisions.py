"""The documented inconsistencies of the e-Builder docs (specs/ebuilder/DECISIONS.md), decided
in the spec and checked here on the generated client: what it accepts, what it sends."""

from __future__ import annotations

import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from ebuilder import OPERATIONS, ConfigurationError, EBuilder, FileTooLargeError, types
from ebuilder._base_client import encode_json
from ebuilder._batch import build_result
from ebuilder._operations import CONFIG
from pydantic import ValidationError

from emulator.server import EmulatorServer
from generator.drift import PLACEHOLDER, Credentials, pull_schemas
from generator.pipeline import load_api
from tests.conftest import EB_USER

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = json.loads((ROOT / "tests/fixtures/ebuilder/seed_examples.json").read_text())["examples"]
BY_ROUTE = {(op.method, op.path): op for op in OPERATIONS.values()}

EXPECTED_ROUTES = {
    "AccountCodeOptionsImport": ("POST", "/AccountCodeOptions/Import"),
    "AccountFundingProcessesImport": ("POST", "/AccountFundingProcesses/Import"),
    "BudgetChangeProcessesImport": ("POST", "/BudgetChangeProcesses/Import"),
    "BudgetChangesStatus": ("PUT", "/BudgetChanges/Status"),
    "BudgetChangesImport": ("POST", "/BudgetChanges/Import"),
    "BudgetLineItemsImport": ("POST", "/BudgetLineItems/Import"),
    "CommitmentChangesStatus": ("PUT", "/CommitmentChanges/Status"),
    "CommitmentChangesUpdate": ("PUT", "/CommitmentChanges"),
    "CommitmentChangesImport": ("POST", "/CommitmentChanges/Import"),
    "CommitmentProcessesImport": ("POST", "/CommitmentProcesses/Import"),
    "CommitmentChangeProcessesImport": ("POST", "/CommitmentChangeProcesses/Import"),
    "CommitmentsStatusUpdate": ("PUT", "/Commitments/StatusUpdate"),
    "CommitmentsImport": ("POST", "/Commitments/Import"),
    "CompaniesImport": ("POST", "/Companies/Import"),
    "ContactsImport": ("POST", "/Contacts/Import"),
    "DocumentsCreate": ("POST", "/Documents/Create"),
    "DocumentsImport": ("POST", "/Documents/Import"),
    "DocumentsUpload": ("POST", "/Documents/Upload"),
    "NonCostProcessesDynamicGridImport": ("POST", "/NonCostProcesses/DynamicGrid/Import"),
    "InvoiceProcessesImport": ("POST", "/InvoiceProcesses/Import"),
    "InvoicesStatusUpdate": ("POST", "/Invoices/StatusUpdate"),
    "InvoicesImport": ("POST", "/Invoices/Import"),
    "MasterCommitmentChangeProcessesImport": ("POST", "/MasterCommitmentChangeProcesses/Import"),
    "MasterCommitmentChangesImport": ("POST", "/MasterCommitmentChanges/Import"),
    "MasterCommitmentProcessesImport": ("POST", "/MasterCommitmentProcesses/Import"),
    "MasterCommitmentsImport": ("POST", "/MasterCommitments/Import"),
    "NonCostProcessesImport": ("POST", "/NonCostProcesses/Import"),
    "ProcessInstancesCommentsCreate": (
        "POST",
        "/ProcessInstances/{processInstanceId}/Comments/Create",
    ),
    "ProjectFundingSourcesImport": ("POST", "/ProjectFundingSources/Import"),
    "ProjectsImport": ("POST", "/Projects/Import"),
}


def _wire(model: type[Any], data: dict[str, Any]) -> dict[str, Any]:
    return model.model_validate(data).to_wire()  # type: ignore[no-any-return]


def test_a1_a2_a3_routes_methods_and_no_retry_of_any_import() -> None:
    assert {w: (o.method, o.path) for w, o in OPERATIONS.items()} == EXPECTED_ROUTES
    assert not any(o.idempotent for o in OPERATIONS.values())


def test_a4_comment_path_parameter() -> None:
    op = OPERATIONS["ProcessInstancesCommentsCreate"]
    assert [(p.wire_name, p.location) for p in op.params] == [("processInstanceId", "path")]


def test_a6_process_prefix_in_options_or_the_query_one_of_them_required() -> None:
    process_imports = [o for o in OPERATIONS.values() if o.requires]
    assert len(process_imports) == 8
    for op in process_imports:
        (rule,) = op.requires
        assert [(p.location, p.path) for p in rule.one_of] == [
            ("body", "options.processPrefix"),
            ("query", "processPrefix"),
        ]
        assert [p.wire_name for p in op.params if p.location == "query"] == ["processPrefix"]
    assert "processPrefix" in {f.alias for f in types.ProcessImportOptions.model_fields.values()}


def test_a8_dynamic_grid_lives_under_non_cost_processes() -> None:
    assert OPERATIONS["NonCostProcessesDynamicGridImport"].resource == "non_cost_processes"


def test_b1_account_code_options_have_no_options_block() -> None:
    assert "options" not in types.AccountCodeOptionsImportRequest.model_fields


def test_b3_b4_document_bodies_are_flat_single_objects() -> None:
    assert "options" not in types.DocumentCreateRequest.model_fields
    for field in types.DocumentUploadRequest.model_fields.values():
        assert "list" not in str(field.annotation)


def test_b5_flat_non_cost_rows_are_refused_before_sending() -> None:
    with pytest.raises(ValidationError):
        types.NonCostProcessesImportRequest.model_validate(
            {"data": [{"projectIdentifier": "P", "processCounter": "58"}]}
        )


def test_b6_the_single_record_update_has_no_bulk_helper() -> None:
    from ebuilder.resources import CommitmentChanges

    assert not hasattr(CommitmentChanges, "update_many")
    assert hasattr(CommitmentChanges, "import_many")


def test_c1_c14_pascal_case_in_canonical_camel_case_out() -> None:
    sent = _wire(
        types.BudgetChangesImportRequest,
        {
            "options": {"ProjectIdentifier": "ProjectName", "AbortOnException": False},
            "data": [
                {
                    "header": {
                        "ProjectIdentifier": "P",
                        "BudgetChangeNumber": "015",
                        "ReasonCode": "R",
                        "Description": "d",
                        "DateOfChange": "09/01/2023",
                    },
                    "items": [
                        {"ItemNumber": "001", "ChangeItemAmount": 5000, "BudgetLineItem": "b1.1000"}
                    ],
                }
            ],
        },
    )
    assert sent["options"] == {"projectIdentifier": "ProjectName", "abortOnException": False}
    assert set(sent["data"][0]["header"]) == {
        "projectIdentifier",
        "budgetChangeNumber",
        "reasonCode",
        "description",
        "dateOfChange",
    }
    assert set(sent["data"][0]["items"][0]) == {"itemNumber", "changeItemAmount", "budgetLineItem"}


def test_c7_date_of_change_sent_in_each_tables_spelling() -> None:
    header = types.CommitmentChangeHeader.model_validate(
        {
            "projectIdentifier": "P",
            "commitmentNumber": "1",
            "commitmentChangeNumber": "2",
            "dateOfChange": "09/01/2023",
            "reasonCode": "R",
            "description": "d",
        }
    )
    assert header.to_wire()["dateofChange"] == "09/01/2023"


def test_c8_notice_to_proceed_either_spelling() -> None:
    for key in ("noticeToProceedDate", "noticetoProceedDate"):
        header = types.MasterCommitmentHeader.model_validate({"companyName": "C", key: "x"})
        assert header.to_wire()["noticetoProceedDate"] == "x"


def test_c9_allowance_alias_is_sent_under_the_canonical_name() -> None:
    item = types.CommitmentProcessItem.model_validate(
        {"budgetLineItem": "b1", "isAllowanceItem": True}
    )
    assert item.to_wire() == {"budgetLineItem": "b1", "isAllowance": True}


def test_c10_id_suffix_casing() -> None:
    row = types.CompanyRow.model_validate({"companyName": "C", "externalId": "X1"})
    assert row.to_wire()["externalID"] == "X1"


def test_c11_address_stays_at_its_level() -> None:
    sent = _wire(
        types.ContactsImportRow,
        {
            "header": {"companyName": "C", "address": "1 Company Rd"},
            "items": [{"firstName": "A", "lastName": "B", "address": "2 Home St"}],
        },
    )
    assert sent["header"]["address"] == "1 Company Rd"
    assert sent["items"][0]["address"] == "2 Home St"


def test_c12_change_item_names_differ_by_endpoint() -> None:
    imports = {f.alias for f in types.CommitmentChangeItem.model_fields.values()}
    processes = {f.alias for f in types.CommitmentChangeProcessItem.model_fields.values()}
    assert {"commitmentChangeItemNumber", "amount"} <= imports
    assert {"itemNumber", "itemAmount", "itemQuantity", "itemDescription"} <= processes


def test_d1_option_is_text_of_at_most_five_characters() -> None:
    assert types.AccountCodeOption.model_validate({"option": 578}).to_wire() == {"option": "578"}
    with pytest.raises(ValidationError):
        types.AccountCodeOption.model_validate({"option": "578test"})


@pytest.mark.parametrize("amount", ["5000", 5000, 5000.0, Decimal("5000")])
def test_d2_amounts_as_numbers_or_numeric_strings_go_out_as_numbers(amount: Any) -> None:
    item = types.CommitmentItem.model_validate({"amount": amount})
    assert json.loads(encode_json(item.to_wire())) == {"amount": 5000}


# The item fields the seed types "string" in these three imports (examples "5000", "60",
# "50000", "100000"); every other amount, quantity and percent stays a JSON number.
STRING_AMOUNTS = {
    (model, field)
    for model in ("CommitmentProcessItem", "MasterCommitmentProcessItem", "MasterCommitmentItem")
    for field in ("amount", "quantity", "unitCost")
}


def test_d2_only_the_amounts_documented_as_strings_are_sent_as_text() -> None:
    api = load_api(ROOT / "specs" / "ebuilder")
    wire_strings = {(m.name, f.wire_name) for m in api.models for f in m.fields if f.wire}
    assert wire_strings == STRING_AMOUNTS


@pytest.mark.parametrize(
    ("given", "text"),
    [
        (Decimal("5000.10"), "5000.10"),  # every digit kept, the trailing zero too
        (5000, "5000"),
        ("60", "60"),
        ("5000.10", "5000.10"),
        (Decimal("1E+3"), "1000"),  # never an exponent
        (0.25, "0.25"),
        ("-12.5", "-12.5"),
    ],
)
@pytest.mark.parametrize(("model", "field"), sorted(STRING_AMOUNTS))
def test_d2_string_amounts_go_out_as_exact_text(
    model: str, field: str, given: Any, text: str
) -> None:
    cls = getattr(types, model)
    base = (
        {"budgetLineItem": "b1.1000"} if model == "CommitmentProcessItem" else {"description": "d"}
    )
    item = cls.model_validate({**base, field: given})
    wire = item.to_wire()
    assert json.loads(encode_json(wire))[field] == text
    again = cls.model_validate(json.loads(encode_json(wire)))  # the round trip
    python = next(name for name, info in cls.model_fields.items() if info.alias == field)
    assert getattr(again, python) == Decimal(text)
    assert again.to_wire()[field] == text


@pytest.mark.parametrize("given", ["abc", "5,000", "", "NaN", "Infinity", True])
def test_d2_a_non_numeric_amount_is_refused_client_side(given: Any) -> None:
    with pytest.raises(ValidationError):
        types.CommitmentProcessItem.model_validate({"budgetLineItem": "b1.1000", "amount": given})


@pytest.mark.parametrize("flag", [True, "true"])
def test_d3_approval_requested_bool_or_string(flag: Any) -> None:
    header = types.CommitmentProcessHeader.model_validate(
        {"projectIdentifier": "P", "approvalRequested": flag}
    )
    assert header.to_wire()["approvalRequested"] == flag


@pytest.mark.parametrize("value", [True, "ProjectName"])
def test_d4_documents_create_project_identifier_bool_or_string(value: Any) -> None:
    body = {
        "projectName": "P",
        "folderPath": "/Documents",
        "fileName": "a.pdf",
        "fileSize": 1,
        "projectIdentifier": value,
    }
    assert _wire(types.DocumentCreateRequest, body)["projectIdentifier"] == value


def test_d8_upload_headers_are_strings_and_file_size_an_integer() -> None:
    answer = types.DocumentsCreateResponse.model_validate(
        {
            "success": True,
            "uploadParameters": {
                "uri": "https://s3.example/x",
                "headers": {"content-Length": "204800"},
                "httpMethod": "PUT",
                "expiresAt": "2023-09-01T18:00:00.000+00:00",
            },
        }
    )
    assert answer.upload_parameters is not None
    assert answer.upload_parameters.headers == {"content-Length": "204800"}
    with pytest.raises(ValidationError):
        types.DocumentCreateRequest.model_validate(
            {"projectName": "P", "folderPath": "/D", "fileName": "a", "fileSize": "big"}
        )


def test_e1_project_identifier_required_only_where_documented() -> None:
    for model in (types.CommitmentChangeProcessImportOptions, types.CommitmentStatusUpdateOptions):
        with pytest.raises(ValidationError):
            model.model_validate(
                {"processPrefix": "CCP", "importMode": "Entity"}
                if "Process" in model.__name__
                else {}
            )
    assert types.CostImportOptions.model_validate({}).to_wire() == {}


def test_e3_company_name_required_item_fields_optional() -> None:
    with pytest.raises(ValidationError):
        types.CompanyRow.model_validate({"companyNumber": "1"})
    assert types.CommitmentItem.model_validate({}).to_wire() == {}


def test_e6_only_documented_enumerations_are_enforced() -> None:
    with pytest.raises(ValidationError):
        types.ProcessImportOptions.model_validate({"processPrefix": "CP", "importMode": "entity"})
    header = types.CommitmentProcessHeader.model_validate(
        {"projectIdentifier": "P", "status": "Any Tenant Status"}
    )
    assert header.to_wire()["status"] == "Any Tenant Status"


@pytest.mark.parametrize("date", ["05.28.2021", "09/01/2023", "2023-09-01", "2018-05-28T00:00:00"])
def test_g1_dates_pass_through_unchanged(date: str) -> None:
    header = types.CommitmentHeader.model_validate(
        {
            "projectIdentifier": "P",
            "commitmentType": "Contract",
            "commitmentNumber": "1",
            "description": "d",
            "companyName": "C",
            "commitmentDate": date,
        }
    )
    assert header.to_wire()["commitmentDate"] == date


def test_h7_commitment_change_processes_have_no_cost_number_option() -> None:
    with pytest.raises(ValidationError):
        types.CommitmentChangeProcessImportOptions.model_validate(
            {
                "processPrefix": "CCP",
                "importMode": "Entity",
                "projectIdentifier": "ProjectName",
                "updatesOnlyViaCostNumber": True,
            }
        )


def test_h10_project_rows_have_no_state() -> None:
    with pytest.raises(ValidationError):
        types.ProjectRow.model_validate({"projectName": "P", "state": "FL"})


def test_comment_limits_are_checked_before_sending() -> None:
    with pytest.raises(ValidationError):
        types.CommentCreateRequest.model_validate({"commentText": ""})
    with pytest.raises(ValidationError):
        types.CommentCreateRequest.model_validate(
            {"commentText": "x", "documents": ["00000000-0000-0000-0000-000000000000"] * 101}
        )
    with pytest.raises(ValidationError):
        types.CommentCreateRequest.model_validate({"commentText": "x" * 1_000_001})
    assert types.CommentCreateRequest.model_validate({"commentText": "x" * 1_000_000})


def test_base_url_is_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EBUILDER_BASE_URL", raising=False)
    with pytest.raises(ConfigurationError, match="pass base_url= or set EBUILDER_BASE_URL"):
        EBuilder(username="u", password="p")


def _example(kind: str, method: str, path: str) -> dict[str, Any]:
    return next(  # type: ignore[no-any-return]
        e["body"] for e in EXAMPLES if (e["kind"], e["method"], e["path"]) == (kind, method, path)
    )


def _client(server: EmulatorServer, **extra: Any) -> EBuilder:
    return EBuilder(
        base_url=server.base_url, username=EB_USER.client_id, password=EB_USER.client_secret,
        **extra,
    )


def test_a7_schema_discovery_uses_each_operations_method_and_always_names_the_kind(
    tmp_path: Path,
) -> None:
    asked: list[tuple[str, str, dict[str, str]]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/token":
            return httpx.Response(200, json={"access_token": "t"})
        asked.append((request.method, request.url.path, dict(request.url.params)))
        return httpx.Response(200, json={"type": "object"})

    report = pull_schemas(
        load_api(ROOT / "specs" / "ebuilder"),
        tmp_path,
        Credentials("http://eb.test", "http://eb.test/token", "user", "secret"),
        rate=1000,
        progress=io.StringIO(),
        transport=httpx.MockTransport(answer),
    )
    assert report.ok and report.stored
    routes = {
        (op.method, "/api/v2" + op.path.replace("{processInstanceId}", PLACEHOLDER))
        for op in OPERATIONS.values()
    }
    assert {(method, path) for method, path, _ in asked} == routes
    assert {path for method, path, _ in asked if method == "PUT"} == {
        "/api/v2/BudgetChanges/Status",
        "/api/v2/CommitmentChanges/Status",
        "/api/v2/CommitmentChanges",
        "/api/v2/Commitments/StatusUpdate",
    }
    comments = [q for _, path, q in asked if path.endswith("/Comments/Create")]
    assert sorted(q["schemaType"] for q in comments) == ["request", "response"]
    assert all(q["schema"] == "true" and q["schemaType"] for _, _, q in asked)


def test_b5_the_emulator_refuses_flat_non_cost_rows_like_the_spec(
    eb_emulator: EmulatorServer,
) -> None:
    token = httpx.post(
        eb_emulator.token_url,
        data={"grant_type": "password", "username": EB_USER.client_id,
              "password": EB_USER.client_secret},
    ).json()["access_token"]
    answer = httpx.post(
        eb_emulator.api_url + "/NonCostProcesses/Import",
        headers={"Authorization": f"Bearer {token}"},
        json={
            "options": {"processPrefix": "RFI", "importMode": "Entity"},
            "data": [{"projectIdentifier": "My Project A", "subject": "Flat row"}],
        },
    )
    assert answer.status_code == 400, answer.text  # the body fails the spec: a bad request
    assert "header" in json.dumps(answer.json())
    assert not any(
        p.fields.get("subject") == "Flat row" for p in eb_emulator.state.processes.values()
    )


def test_b9_d6_g2_grid_cells_sit_inside_row_data() -> None:
    with pytest.raises(ValidationError):
        types.DynamicGridRow.model_validate(
            {"rowNumber": "1", "columnVariableName": "C", "columnData": "x", "rowData": []}
        )
    cells = [
        {"columnVariableName": "Custom_Decimal_column", "columnData": "12.50"},
        {"columnVariableName": "Custom_Date_Column", "columnData": "09/01/2023"},
    ]
    row = types.DynamicGridRow.model_validate({"rowNumber": 1, "rowData": cells})
    assert row.to_wire() == {"rowNumber": "1", "rowData": cells}


def test_e4_budget_line_item_required_only_in_commitment_process_items() -> None:
    with pytest.raises(ValidationError):
        types.CommitmentProcessItem.model_validate({"amount": 1})
    assert types.CommitmentProcessItem.model_validate({"budgetLineItem": "b1"})
    assert types.CommitmentItem.model_validate({"amount": 1}).to_wire() == {"amount": 1}
    change = {"commitmentChangeItemNumber": "1", "commitmentItemNumber": "1", "amount": 1}
    assert "budgetLineItem" not in _wire(types.CommitmentChangeItem, change)


def test_e5_h5_project_identifier_where_each_master_or_account_model_says() -> None:
    def aliases(model: type[Any]) -> set[str]:
        return {f.alias for f in model.model_fields.values()}

    for header in (
        types.AccountFundingProcessHeader,
        types.MasterCommitmentHeader,
        types.MasterCommitmentProcessHeader,
    ):
        assert "projectIdentifier" not in aliases(header), header.__name__
    assert types.MasterCommitmentChangeProcessHeader.model_fields[
        "project_identifier"
    ].is_required()
    with pytest.raises(ValidationError):
        types.MasterCommitmentChangeProcessHeader.model_validate({"masterCommitmentNumber": "M"})
    assert "projectIdentifier" in aliases(types.CostImportOptions)  # MasterCommitments options
    for header in (types.NonCostProcessHeader, types.CommitmentProcessHeader):
        assert header.model_fields["project_identifier"].is_required()


@pytest.mark.parametrize(
    "example",
    [e for e in EXAMPLES if e["kind"] == "success"],
    ids=lambda e: f"{e['method']} {e['path']}",
)
def test_f1_every_seed_success_example_reads_as_success(example: dict[str, Any]) -> None:
    op = BY_ROUTE[(example["method"], example["path"])]
    parsed = getattr(types, op.response_model).model_validate(example["body"])
    assert parsed.success is True


def test_h3_process_counter_with_prefix_or_bare(eb_emulator: EmulatorServer) -> None:
    options = {"processPrefix": "RFI", "importMode": "Entity"}
    rows = [
        {"header": {"projectIdentifier": "My Project A", "processCounter": counter, **extra}}
        for counter, extra in (("RFI-0023", {}), ("23", {"trackingPrefix": "RFI"}))
    ]
    for row in rows:
        row["header"].update(
            step="Review", action="Comment", comment=row["header"]["processCounter"]
        )
    with _client(eb_emulator) as eb:
        result = eb.non_cost_processes.import_(body={"options": options, "data": rows})
    assert result.ok, result.failed
    instance = next(p for p in eb_emulator.state.processes.values() if p.counter == "RFI-0023")
    assert [comment for _, _, comment in instance.actions][-2:] == ["RFI-0023", "23"]


def test_h4_preferred_lookup_names_are_accepted() -> None:
    lookup = {"projectIdentifier": "My Project A", "commitmentChangeNumber": "CC-1"}
    assert _wire(types.CommitmentChangeLookup, lookup) == lookup


def test_h6_c3_status_update_error_echo_keeps_both_messages_on_its_record() -> None:
    sent = _example("request", "PUT", "/Commitments/StatusUpdate")["data"]
    body = _example("error", "PUT", "/Commitments/StatusUpdate")
    assert sent[0]["CommitmentNumber"] == "1002"  # PascalCase in, camelCase in the echo
    result = build_result(
        CONFIG.batch_result, types.ImportResponse.model_validate(body), body, sent, sent
    )
    assert not result.ok and not result.unmatched
    assert result.outcomes[0].error_messages == (
        "Commitment must be in approved status",
        "current status is Void",
    )


def test_h8_documents_name_the_project_by_project_name() -> None:
    create = {"folderPath": "/D", "fileName": "a.pdf", "fileSize": 1}
    upload = {"folderPath": "/D", "fileName": "a.pdf", "base64EncodedFile": "eA=="}
    for model, body in (
        (types.DocumentCreateRequest, create),
        (types.DocumentUploadRequest, upload),
    ):
        assert model.model_fields["project_name"].is_required()
        with pytest.raises(ValidationError):
            model.model_validate(body)
        assert _wire(model, {**body, "projectName": "P"})["projectName"] == "P"
    with pytest.raises(ValidationError):  # projectIdentifier does not stand in for it
        types.DocumentCreateRequest.model_validate({**create, "projectIdentifier": "P"})


def test_h11_the_upload_limit_is_three_mib_of_decoded_file(
    eb_emulator: EmulatorServer, tmp_path: Path
) -> None:
    limit = 3 * 1024 * 1024
    body = {"projectName": "My Project A", "folderPath": "/Documents/Reports"}
    over, at = tmp_path / "over.pdf", tmp_path / "at.pdf"
    over.write_bytes(b"x" * (limit + 1))
    at.write_bytes(b"x" * limit)
    with _client(eb_emulator) as eb:
        before = eb_emulator.traffic.requests
        with pytest.raises(FileTooLargeError):
            eb.documents.upload_file(over, body=body)
        assert eb_emulator.traffic.requests == before  # refused without a request
        assert eb.documents.upload_file(at, body=body).success


def test_h12_guids_need_not_be_version_4() -> None:
    guid = "948576E3-4daa-2512-408b-ae444a45af58"
    comment = types.CommentCreateRequest.model_validate({"commentText": "x", "documents": [guid]})
    assert comment.to_wire()["documents"] == [guid]
    assert _wire(types.CommitmentChangeLookup, {"projectID": guid}) == {"projectID": guid}
