"""The documented inconsistencies of the e-Builder docs (specs/ebuilder/DECISIONS.md), decided
in the spec and checked here on the generated client: what it accepts, what it sends."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from ebuilder import OPERATIONS, EBuilder, types
from ebuilder._base_client import encode_json
from pydantic import ValidationError

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


def test_a6_process_prefix_travels_only_in_options() -> None:
    assert not any(
        p.wire_name.lower() == "processprefix" for o in OPERATIONS.values() for p in o.params
    )
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


def test_base_url_is_required() -> None:
    with pytest.raises(TypeError):
        EBuilder(username="u", password="p")  # type: ignore[call-arg]
