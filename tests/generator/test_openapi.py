"""The OpenAPI 3.1 export: valid, complete (every operation, parameter and model), byte-stable,
and faithful to the spec's auth, deprecations and notes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from generator.cli import main
from generator.codegen.openapi import openapi_document, render_openapi
from generator.model.scalars import BASE64_TEXT
from generator.pipeline import enriched_api
from tests.generator.conftest import FIXTURE_SPECS, ROOT, tree_digest

API_DIRS = [
    *sorted(p.parent for p in (ROOT / "specs").glob("*/api.yaml")),
    FIXTURE_SPECS / "mini",
    FIXTURE_SPECS / "bulk",
]


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [r for value in node.values() for r in _refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in _refs(value)]
    return []


def _resolve(doc: dict[str, Any], node: dict[str, Any]) -> Any:
    """The node itself, or what its local `$ref` points at (KeyError if nothing)."""
    if "$ref" not in node:
        return node
    ref = node["$ref"]
    assert ref.startswith("#/"), ref
    target: Any = doc
    for part in ref[2:].split("/"):
        target = target[part]
    return target


def _parameters(doc: dict[str, Any], exported: dict[str, Any]) -> dict[tuple[str, str], Any]:
    resolved = (_resolve(doc, p) for p in exported.get("parameters", []))
    return {(p["name"], p["in"]): p for p in resolved}


@pytest.mark.parametrize("api_dir", API_DIRS, ids=lambda p: p.name)
def test_export_is_valid_openapi_31_with_every_operation_and_model(api_dir: Path) -> None:
    api, _ = enriched_api(api_dir)
    doc = openapi_document(api)
    validate(doc)  # raises on any violation of the OpenAPI 3.1 schema
    assert doc["openapi"] == "3.1.0"
    assert doc["info"] == {
        "title": api.title,
        "version": api.version,
        "description": doc["info"]["description"],
    }
    assert doc["info"]["description"].startswith(api.description.strip())
    for op in api.operations:
        exported = doc["paths"][op.path][op.method.lower()]
        assert exported["operationId"] == op.wire_name
        assert exported["tags"] == [op.resource]
        assert exported["summary"] == op.summary
        assert exported.get("deprecated", False) == bool(op.deprecated)
        parameters = _parameters(doc, exported)
        # A `requires` rule across body and parameters: the body form only (see below).
        in_body = {p for r in op.requires for p in r.one_of if p.location == "body"}
        left_out = {(p.path, p.location) for r in op.requires if in_body
                    for p in r.one_of if p.location != "body"}
        for param in op.params:
            if (param.wire_name, param.location) in left_out:
                assert (param.wire_name, param.location) not in parameters
                continue
            out = parameters[(param.wire_name, param.location)]
            assert out["required"] == param.required
            assert out.get("deprecated", False) == param.deprecated
            values = out["schema"].get("items", out["schema"])  # a list constrains its items
            assert values.get("enum", []) == list(param.enum)
        if op.body.kind == "json":
            schema = exported["requestBody"]["content"][op.body.content_type]["schema"]
            ref = {"$ref": f"#/components/schemas/{op.body.model_name}"}
            assert schema == ref or (in_body and schema["allOf"][0] == ref)
        elif op.body.kind == "binary":
            media = exported["requestBody"]["content"][op.body.content_type]
            assert media["schema"] == {"type": "string", "format": "binary"}
        else:
            assert "requestBody" not in exported
        success = exported["responses"]["200"]
        if op.response.kind == "json":
            schema = success["content"][op.response.content_type]["schema"]
            assert schema == {"$ref": f"#/components/schemas/{op.response.model_name}"}
        elif op.response.kind == "binary":
            [media] = success["content"].values()
            assert media["schema"] == {"type": "string", "format": "binary"}
        else:
            assert "content" not in success
        assert exported["responses"]["default"] == {"$ref": "#/components/responses/Error"}
    operations = sum(len(methods) for methods in doc["paths"].values())
    assert operations == len(api.operations)
    schemas = doc["components"]["schemas"]
    assert list(schemas) == [m.name for m in api.models]
    for model in api.models:
        assert set(schemas[model.name]["properties"]) == {f.wire_name for f in model.fields}
    error = doc["components"]["responses"]["Error"]["content"]["application/json"]["schema"]
    assert error == {"$ref": f"#/components/schemas/{api.error_model.name}"}
    refs = _refs(doc)
    assert refs and all(r.startswith("#/components/") for r in refs)  # no `#/$defs/` left
    for ref in refs:
        assert _resolve(doc, {"$ref": ref})


@pytest.mark.parametrize("api", ["powerclerk", "ebuilder"])
def test_committed_export_is_what_the_spec_gives(api: str) -> None:
    spec, _ = enriched_api(ROOT / "specs" / api)
    committed = (ROOT / "generated" / api / "openapi.json").read_bytes()
    assert committed == render_openapi(spec).encode("utf-8")
    assert committed.endswith(b"}\n")
    assert json.loads(committed) == openapi_document(spec)


def test_security_schemes_follow_the_specs_auth() -> None:
    powerclerk = openapi_document(enriched_api(ROOT / "specs" / "powerclerk")[0])
    schemes = powerclerk["components"]["securitySchemes"]
    assert set(schemes) == {"oauth2", "apiKey"}
    flow = schemes["oauth2"]["flows"]["clientCredentials"]
    assert flow == {
        "tokenUrl": "https://identity.cleanpowerdemo.com/PCITrial/connect/token",
        "scopes": {},
    }
    other = "production: https://identity.powerclerk.com/connect/token"
    assert other in schemes["oauth2"]["description"]
    assert schemes["apiKey"] == {"type": "apiKey", "in": "header", "name": "X-ApiKey"}
    assert powerclerk["security"] == [{"oauth2": [], "apiKey": []}]  # both on every call
    assert [s["url"] for s in powerclerk["servers"]] == [
        "https://api.cleanpowerdemo.com/PCITrial/services/v2",
        "https://api.powerclerk.com/services/v2",
    ]
    # MFA headers are shared parameters of every operation; one operation cannot do without.
    mfa = powerclerk["components"]["parameters"]
    assert [p["name"] for p in mfa.values()] == ["Mfa-One-Time-Password", "Mfa-Session-Token"]
    for methods in powerclerk["paths"].values():
        for exported in methods.values():
            headers = _parameters(powerclerk, exported)
            assert ("Mfa-Session-Token", "header") in headers
    create = powerclerk["paths"]["/Accounts/MfaSessionTokens"]["post"]
    assert "Requires MFA." in create["description"]
    listing = powerclerk["paths"]["/Programs/{ProgramId}/Projects"]["get"]
    assert "Requires MFA." not in listing.get("description", "")

    ebuilder = openapi_document(enriched_api(ROOT / "specs" / "ebuilder")[0])
    schemes = ebuilder["components"]["securitySchemes"]
    assert schemes == {
        "oauth2": {
            "type": "oauth2",
            "description": schemes["oauth2"]["description"],
            "flows": {"password": {"tokenUrl": "/api/v2/Authenticate", "scopes": {}}},
        }
    }
    assert "Access tokens last 14399 s." in schemes["oauth2"]["description"]
    assert ebuilder["security"] == [{"oauth2": []}]
    # No fixed host: a relative server (the tenant's), against which the token URL resolves.
    assert [s["url"] for s in ebuilder["servers"]] == ["/api/v2"]
    assert "parameters" not in ebuilder["components"]  # no MFA


def test_token_path_is_resolved_on_each_environments_host(spec_copy: Path) -> None:
    api_yaml = spec_copy / "mini" / "api.yaml"
    text = api_yaml.read_text()
    text = text.replace(
        ', token_url: "https://id.example.test/token"}',
        '}\n    live: {base_url: "https://live.example.test"}',
    )
    text = text.replace('"https://sandbox.example.test"', '"https://sandbox.example.test/t1"')
    text = text.replace(
        "kind: oauth2_client_credentials,", "kind: oauth2_password, token_path: /token,"
    )
    api_yaml.write_text(text)
    doc = openapi_document(enriched_api(spec_copy / "mini")[0])
    validate(doc)
    oauth2 = doc["components"]["securitySchemes"]["oauth2"]
    assert oauth2["flows"] == {
        "password": {"tokenUrl": "https://sandbox.example.test/t1/token", "scopes": {}}
    }
    assert "live: https://live.example.test/token" in oauth2["description"]
    assert [s["description"] for s in doc["servers"]] == ["sandbox", "live"]


def test_deprecations_inferred_shapes_and_v1_moves_are_carried(spec_copy: Path) -> None:
    widgets = spec_copy / "mini" / "widgets.yaml"
    text = widgets.read_text()
    text = text.replace(
        "    summary: List the widgets of a shop.\n",
        "    summary: List the widgets of a shop.\n    deprecated: Use the search instead.\n",
    )
    text = text.replace(
        "      offset: {in: query, type: integer}\n",
        "      offset: {in: query, type: integer, deprecated: true}\n",
    )
    text = text.replace(
        "      Email: {type: string}\n", "      Email: {type: string, deprecated: true}\n"
    )
    widgets.write_text(text)
    doc = openapi_document(enriched_api(spec_copy / "mini")[0])
    validate(doc)
    listing = doc["paths"]["/Shops/{ShopId}/Widgets"]["get"]
    assert listing["deprecated"] is True
    assert "Deprecated: Use the search instead." in listing["description"]
    offset = next(p for p in listing["parameters"] if p["name"] == "offset")
    assert offset["deprecated"] is True
    limit = next(p for p in listing["parameters"] if p["name"] == "limit")
    assert "deprecated" not in limit
    assert doc["components"]["schemas"]["Owner"]["properties"]["Email"]["deprecated"] is True
    create = doc["paths"]["/Shops/{ShopId}/Widgets"]["post"]
    assert "deprecated" not in create
    assert create["x-apigen-confidence"] == "inferred"
    assert "Inferred, not documented: Inferred from the V1 path." in create["description"]
    assert create["x-apigen-v1"] == {
        "operationId": "CreateWidget",
        "method": "POST",
        "path": "/v1/Shops/{ShopId}/NewWidget",
        "changes": [
            {
                "kind": "path_changed",
                "from": "/Shops/{ShopId}/NewWidget",
                "to": "/Shops/{ShopId}/Widgets",
            }
        ],
    }
    assert doc["x-apigen-v1"] == {
        "basePath": "/v1",
        "changes": [{"kind": "prefix", "from": "/v1", "to": "/v2", "note": "all operations"}],
    }
    moves = doc["components"]["schemas"]["Widget"]["x-apigen-v1-moves"]
    assert moves[0] == {"kind": "move", "from": "OwnerEmail", "to": "Owner.Email"}
    assert listing["x-apigen-pagination"] == {
        "style": "offset",
        "limit": "limit",
        "offset": "offset",
        "maxPage": 100,
        "items": "Widgets",
    }
    limited = doc["paths"]["/Shops/{ShopId}/Widgets"]["post"]["responses"]["429"]
    assert limited["description"].startswith("Rate limit: more than")


def test_powerclerk_records_its_deprecated_v1_and_downloads() -> None:
    api, _ = enriched_api(ROOT / "specs" / "powerclerk")
    doc = openapi_document(api)
    assert doc["x-apigen-v1"]["shutDown"] == "2026-04-03"
    assert [c["kind"] for c in doc["x-apigen-v1"]["changes"]] == [c.kind for c in api.v1_changes]
    path = "/Programs/{ProgramId}/Projects/{ProjectId}/Attachments/{AttachmentId}"
    download = doc["paths"][path]["get"]["responses"]["200"]
    # served in the file's own media type, which the spec says as a range
    assert download["content"] == {"*/*": {"schema": {"type": "string", "format": "binary"}}}
    project_id = _parameters(doc, doc["paths"][path]["get"])[("ProjectId", "path")]
    assert "ProjectNumber once the project has been submitted" in project_id["description"]
    assert "application/xml" in doc["info"]["description"]  # what the document leaves out


def test_ebuilder_amounts_sent_as_text_are_decimal_strings() -> None:
    doc = openapi_document(enriched_api(ROOT / "specs" / "ebuilder")[0])
    schemas = doc["components"]["schemas"]
    amount = schemas["CommitmentProcessItem"]["properties"]["amount"]
    # text, or a number, which the server reads as its exact decimal text
    assert {k: amount[k] for k in ("type", "format")} == {
        "type": ["string", "number"], "format": "decimal"}
    check = Draft202012Validator({"pattern": amount["pattern"]})
    assert all(check.is_valid(text) for text in ("5000", "5000.10", "-0.25", "60"))
    assert not any(check.is_valid(text) for text in ("1e3", "5,000", "abc", "", "1."))
    # where the document types an amount as a number, it stays one
    assert schemas["CommitmentItem"]["properties"]["amount"]["type"] == "number"


def test_powerclerk_marks_parameters_that_need_mfa_when_true_and_move_conflicts() -> None:
    """The seed: "reveal_sensitive_data parameter which, if set to true, requires MFA"."""
    doc = openapi_document(enriched_api(ROOT / "specs" / "powerclerk")[0])
    marked = {
        (path, name)
        for path, item in doc["paths"].items()
        for operation in item.values()
        for (name, _), param in _parameters(doc, operation).items()
        if param.get("x-apigen-mfa-when-true")
    }
    data = "/Programs/{ProgramId}/Projects/{ProjectId}"
    assert marked == {
        (f"{data}/Data", "reveal_sensitive_data"),
        (f"{data}/Forms/{{FormId}}/Draft/Data", "reveal_sensitive_data"),
        (f"{data}/Forms/{{FormId}}/Data", "reveal_sensitive_data"),
    }
    moves = doc["components"]["schemas"]["ProjectSummary"]["x-apigen-v1-moves"]
    public_id = next(m for m in moves if m.get("from") == "StatusPublicId")
    assert public_id["to"] == "CurrentStatus.PublicId" and "StatusId" in public_id["conflict"]


def test_bulk_fixture_marks_batches_and_files() -> None:
    doc = openapi_document(enriched_api(FIXTURE_SPECS / "bulk")[0])
    imports = doc["paths"]["/Items/Import"]["post"]
    assert imports["x-apigen-batch"] == {"records": "data", "keep": ["options"]}
    assert doc["x-apigen-batch-result"]["recordErrors"] == "errorMessages"
    upload = doc["paths"]["/Files/Upload"]["post"]
    assert upload["x-apigen-file"] == {
        "field": "content",
        "encoding": "base64",
        "maxBytes": 1024,
        "nameField": "fileName",
    }
    inline = doc["components"]["schemas"]["InlineFile"]["properties"]["content"]
    # contentEncoding only annotates; the pattern (canonical base64) is what is checked
    assert inline == {"type": "string", "contentEncoding": "base64", "pattern": BASE64_TEXT}
    create = doc["paths"]["/Files/Create"]["post"]
    assert create["x-apigen-presigned-upload"]["expiresAt"] == "upload.expiresAt"
    assert imports["responses"]["426"]["description"] == "The account's call quota is used up."
    assert "Not idempotent" in imports["description"]
    assert doc["servers"] == [{"url": "/api/v1", "description": "Relative to the tenant's host."}]


def test_openapi_command_writes_only_the_export(tmp_path: Path, spec_copy: Path) -> None:
    out = tmp_path / "out"
    assert main(["generate", "--specs", str(spec_copy), "--out", str(out)]) == 0
    export = out / "mini" / "openapi.json"
    generated = export.read_bytes()
    export.unlink()
    before = tree_digest(out)
    assert main(["openapi", "mini", "--specs", str(spec_copy), "--out", str(out)]) == 0
    assert export.read_bytes() == generated  # the same bytes `generate` writes
    after = tree_digest(out)
    del after["mini/openapi.json"]
    assert after == before  # nothing else touched, nothing deleted
    assert json.loads(generated)["info"]["title"] == "Mini API"


def test_openapi_command_on_a_broken_spec_writes_nothing(
    tmp_path: Path, spec_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    widgets = spec_copy / "mini" / "widgets.yaml"
    widgets.write_text(widgets.read_text().replace("method: GET", "method: FETCH", 1))
    assert main(["openapi", "--specs", str(spec_copy), "--out", str(tmp_path / "out")]) == 2
    assert "widgets.yaml" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_declared_statuses_follow_the_operation_with_the_error_model() -> None:
    for api_dir in API_DIRS:
        api, _ = enriched_api(api_dir)
        doc = openapi_document(api)
        for op in api.operations:
            responses = doc["paths"][op.path][op.method.lower()]["responses"]
            declared = {s for s in responses if s.isdigit() and s != "200"}
            expected = {"401"}
            expected |= {"400"} if op.params or op.body.kind != "none" else set()
            mfa = bool(api.mfa_otp_header)
            expected |= {"403"} if op.admin_only or mfa else set()
            expected |= {"404"} if op.params_in("path") else set()
            expected |= {str(rule.status) for rule in op.errors}  # the spec's business rules
            expected |= {str(api.quota_status)} if api.quota_status else set()
            expected |= {str(api.rate_limit.status)} if api.rate_limit else set()
            assert declared == expected, (api.name, op.wire_name)
            error_name = api.error_model.name if api.error_model else ""
            error = {"schema": {"$ref": f"#/components/schemas/{error_name}"}}
            for status in declared:
                content = responses[status].get("content")
                assert content == ({"application/json": error} if api.error_model else None)
            assert responses["default"] == {"$ref": "#/components/responses/Error"}
            for rule in op.errors:
                assert rule.when[1:].rstrip(".") in responses[str(rule.status)]["description"]


def test_request_rules_and_checked_formats_are_exported() -> None:
    api, _ = enriched_api(ROOT / "specs" / "ebuilder")
    doc = openapi_document(api)
    imports = doc["paths"]["/NonCostProcesses/Import"]["post"]
    assert imports["x-apigen-requires"][0]["oneOf"] == [
        {"in": "body", "name": "options.processPrefix"},
        {"in": "query", "name": "processPrefix"},
    ]
    assert "Requires one of: `options.processPrefix` in the body or the query parameter " \
        "`processPrefix`." in imports["description"]
    # OpenAPI cannot say "body or query": the export asks for the body form (stricter, never
    # looser) and leaves the query parameter out, saying so.
    assert ("processPrefix", "query") not in _parameters(doc, imports)
    assert "leaves out the query parameter `processPrefix`" in imports["description"]
    body = imports["requestBody"]
    assert body["required"] is True
    check = Draft202012Validator(body["content"]["application/json"]["schema"]["allOf"][1])
    assert check.is_valid({"options": {"processPrefix": "RFI"}, "data": []})
    for bad in ({}, {"options": {}}, {"options": {"processPrefix": ""}},
                {"options": {"processPrefix": None}}):
        assert not check.is_valid(bad), bad
    comment = doc["paths"]["/ProcessInstances/{processInstanceId}/Comments/Create"]["post"]
    instance = _parameters(doc, comment)[("processInstanceId", "path")]["schema"]
    assert instance["format"] == "uuid" and instance["pattern"].startswith("^[0-9a-fA-F]{8}-")
    documents = doc["components"]["schemas"]["CommentCreateRequest"]["properties"]["documents"]
    assert documents["items"]["format"] == "uuid" and documents["maxItems"] == 100
    pc = openapi_document(enriched_api(ROOT / "specs" / "powerclerk")[0])
    owner = pc["components"]["schemas"]["SetProjectOwnerRequest"]["properties"]["OwnerEmail"]
    assert owner["format"] == "email" and "pattern" in owner
    # Answers are read as they come: no format or pattern on response fields.
    answer = pc["components"]["schemas"]["ProjectOwner"]["properties"]["Email"]
    assert "pattern" not in json.dumps(answer) and "format" not in json.dumps(answer)


def test_field_examples_are_the_schemas_examples() -> None:
    """Every field `example` of the spec is its property's `examples` (of a list: one list
    holding it), and each validates against the property's own schema."""
    api, _ = enriched_api(ROOT / "specs" / "powerclerk")
    schemas = openapi_document(api)["components"]["schemas"]
    given = [(m.name, f) for m in api.models for f in m.fields if f.example is not None]
    assert given
    for model, field in given:
        prop = schemas[model]["properties"][field.wire_name]
        expected = [field.example] if field.type.kind == "list" else field.example
        assert prop["examples"] == [expected], (model, field.wire_name)
        schema = {**prop, "$defs": schemas}
        assert Draft202012Validator(schema).is_valid(expected), (model, field.wire_name)
    numbers = schemas["GetProjectByNumberRequest"]["properties"]["ProjectNumbers"]
    assert numbers["examples"] == [["EX-00001"]]
