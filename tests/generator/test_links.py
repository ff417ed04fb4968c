"""OpenAPI links and parameter examples: derived from the spec by one rule
(generator/model/links.py), so that a stateful tester reaches records that exist."""

from __future__ import annotations

from typing import Any

from generator.codegen.openapi import openapi_document
from generator.model.ir import PATH_PARAM
from generator.model.links import operation_links
from generator.pipeline import load_api
from tests.generator.conftest import ROOT

POWERCLERK = ROOT / "specs" / "powerclerk"


def _operations(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {op["operationId"]: op for path in document["paths"].values() for op in path.values()}


def _paths(document: dict[str, Any]) -> dict[str, str]:
    return {op["operationId"]: path for path, item in document["paths"].items()
            for op in item.values()}


def test_a_created_project_links_to_the_operations_on_it() -> None:
    document = openapi_document(load_api(POWERCLERK))
    operations = _operations(document)
    links = operations["CreateNewProject"]["responses"]["200"]["links"]
    assert links["GetProjectData"] == {
        "operationId": "GetProjectData",
        "parameters": {"ProgramId": "$request.path.ProgramId",
                       "ProjectId": "$response.body#/Project/ProjectId"},
    }
    assert set(links) == {op for op, path in _paths(document).items() if "{ProjectId}" in path}
    # A thread comes from a note; the MFA session token from its creation.
    note_links = operations["SetInquiryNote"]["responses"]["200"]["links"]
    assert note_links["GetNotesInInquiryThread"]["parameters"]["ThreadId"] == (
        "$response.body#/Note/ThreadId")
    token_links = operations["CreateMfaSessionToken"]["responses"]["200"]["links"]
    assert token_links["DeleteMfaSessionToken"]["parameters"] == {
        "TokenId": "$response.body#/TokenId"}


def test_links_follow_the_rule_for_every_operation() -> None:
    api = load_api(POWERCLERK)
    by_name = {op.wire_name: op for op in api.operations}
    links = operation_links(api)
    assert links  # the rule finds some: it is not vacuous
    for source, found in links.items():
        producer = by_name[source]
        assert not producer.idempotent  # reads echo ids; only writes create them
        mine = PATH_PARAM.findall(producer.path)
        for link in found:
            theirs = PATH_PARAM.findall(by_name[link.target].path)
            params = dict(link.parameters)
            assert set(params) <= set(theirs)
            for name, value in params.items():
                if name in mine:
                    assert value == f"$request.path.{name}"
                else:  # from the answer, scoped by the producer's own path parameters
                    assert value.startswith("$response.body#/") and value.endswith(f"/{name}")
                    assert set(theirs[: theirs.index(name)]) <= set(mine)


def test_reads_and_apis_without_producers_have_no_links() -> None:
    operations = _operations(openapi_document(load_api(POWERCLERK)))
    assert "links" not in operations["GetProjects"]["responses"]["200"]
    ebuilder = openapi_document(load_api(ROOT / "specs" / "ebuilder"))
    assert not any("links" in op["responses"]["200"] for op in _operations(ebuilder).values())


def test_path_examples_are_exported() -> None:
    operations = _operations(openapi_document(load_api(POWERCLERK)))
    params = {p["name"]: p for p in operations["GetProjectData"]["parameters"] if "name" in p}
    assert params["ProgramId"]["example"] == "R3XE87VP6NB6"
    assert params["FormId"]["example"] == "XXUC5V2KKAGV"
    assert "example" not in params["ProjectId"]  # created at run time: the links give it
