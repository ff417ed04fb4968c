"""Spec-driven request checks: query parameter types and JSON bodies."""

from __future__ import annotations

import pytest

from tests.emulator.conftest import APPLICATION, new_project, program_path


@pytest.mark.parametrize("query", [
    "limit=abc", "limit=1001", "offset=-1", "changed_since=2024-01-01",
    "changed_since=2024-01-01T00:00:00",  # no offset
])
def test_bad_query_parameter(api, query):
    response = api.get(program_path(f"/Projects?{query}"))
    assert response.status_code == 400
    name = query.split("=")[0]
    assert any(e.startswith(f"{name}:") for e in response.json()["Errors"])


def test_good_query_parameters(api):
    query = "limit=10&offset=0&changed_since=2024-01-01T00:00:00.1234567%2B02:00"
    assert api.get(program_path(f"/Projects?{query}")).status_code == 200


def test_body_validation_names_the_field(api):
    project = new_project(api)
    path = program_path(f"/Projects/{project['ProjectId']}/Forms/{APPLICATION}/Draft/Data")
    response = api.post(path, json={"Project": {"DataFields": [{"Value": "x", "Colour": 1}]}})
    assert response.status_code == 400
    errors = response.json()["Errors"]
    assert any("$.Project.DataFields[0]" in e and "DataFieldId" in e for e in errors)
    assert any("Colour" in e for e in errors)  # request models reject unknown keys
    not_json = api.post(path, content=b"{oops", headers={"Content-Type": "application/json"})
    assert not_json.status_code == 400


@pytest.mark.parametrize(("field", "value", "status", "problem"), [
    ("NOPE", "x", 404, "no data field"),  # the spec's errors: an unknown DataFieldId is 404
    ("R2YX21RVSF51", "True", 400, "true or false"),  # V1 spelling is refused in V2
    ("SYSTEM_SIZE", "2000", 400, "outside"),
    ("UTILITY", "Acme", 400, "not one of"),
])
def test_data_field_values_checked(api, field, value, status, problem):
    project = new_project(api)
    path = program_path(f"/Projects/{project['ProjectId']}/Forms/{APPLICATION}/Draft/Data")
    response = api.post(path, json={"Project": {"DataFields": [
        {"DataFieldId": field, "Value": value}]}})
    assert response.status_code == status
    assert problem in " ".join(response.json()["Errors"])


def test_multi_instance_dates_checked(api):
    project = new_project(api)
    path = program_path(f"/Projects/{project['ProjectId']}/Forms/{APPLICATION}/Draft/Data")
    bad = api.post(path, json={"Project": {"DataFields": [
        {"DataFieldId": "QGF4FF6M6CVZ", "Values": ["11/14/2022"]}]}})
    assert bad.status_code == 400
    assert "yyyy-MM-dd" in bad.json()["Errors"][0]


def test_unknown_ids_are_404(api):
    project = new_project(api)["ProjectId"]
    for path in (
        "/Programs/NOSUCHPROGRAM/Forms",
        program_path(f"/Projects/NOSUCHPROJECT/Forms/{APPLICATION}/Draft/Data"),
        program_path(f"/Projects/{project}/Forms/NOSUCHFORM/Draft/Data"),
        program_path(f"/Projects/{project}/Attachments/NOSUCHATTACHMENT/Metadata"),
    ):
        response = api.get(path)
        assert response.status_code == 404, path
        assert response.json()["Message"]
