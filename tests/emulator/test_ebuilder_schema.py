"""e-Builder emulator: schema discovery (?schema=true) and served schema changes."""

from __future__ import annotations

from jsonschema import Draft202012Validator

HEADER = "CommitmentHeader"


def test_request_and_response_schemas(eb):
    request = eb.put("/Commitments/StatusUpdate", params={"schema": "true"})
    assert request.status_code == 200
    schema = request.json()
    Draft202012Validator.check_schema(schema)
    assert schema["$ref"] == "#/$defs/CommitmentsUpdateStatusRequest"
    assert "ImportResponse" not in schema["$defs"]  # only what the request reaches
    # names and values case-insensitive, any method, no body needed
    response = eb.get("/commitments/import", params={"SCHEMA": "True", "schematype": "Response"})
    assert response.json()["$ref"] == "#/$defs/ImportResponse"
    assert eb.get("/Commitments/Import").status_code == 405


def test_changed_schema_is_served_and_enforced(eb, eb_emulator):
    eb_emulator.settings.schema_changes = {"CommitmentsImport": {"request": {
        "add": {"data[].header.tenantNote": {"type": "string"}},
        "remove": ["data[].header.scopeOfWork"],
        "retype": {"data[].header.description": "integer"},
    }}}
    schema = eb.post("/Commitments/Import", params={"schema": "true"}).json()
    props = schema["$defs"][HEADER]["properties"]
    assert props["tenantNote"] == {"type": "string"}
    assert "scopeOfWork" not in props
    assert props["description"]["type"] == "integer"
    row = {"projectIdentifier": "My Project A", "commitmentType": "Contract",
           "commitmentNumber": "N1", "description": 7, "companyName": "ACME Corp",
           "TenantNote": "accepted, in any case"}
    accepted = eb.post("/Commitments/Import", json={"data": [{"header": row}]})
    assert accepted.json()["success"] in (True, "true"), accepted.text
    refused = eb.post("/Commitments/Import", json={"data": [
        {"header": {**row, "commitmentNumber": "N2", "description": "text"}}]})
    assert refused.status_code == 400  # the (changed) schema is enforced on the request
    assert "Expected Integer but got String" in refused.json()["messages"][0]
    # response schemas change the same way; other operations keep theirs
    eb_emulator.settings.schema_changes = {"ProjectsImport": {"response": {
        "add": {"importedCount": {"type": "integer"}}}}}
    served = eb.post("/Projects/Import", params={"schema": "true", "schemaType": "response"})
    assert "importedCount" in served.json()["$defs"]["ImportResponse"]["properties"]
    plain = eb.post("/Companies/Import", params={"schema": "true", "schemaType": "response"})
    assert "importedCount" not in plain.json()["$defs"]["ImportResponse"]["properties"]
