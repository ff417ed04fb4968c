"""The OpenAPI 3.1 export: valid, complete (every operation, parameter and model), byte-stable,
and faithful to the spec's auth, deprecations and notes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate

from generator.cli import main
from generator.openapi import openapi_document, render_openapi
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


def _resolve(doc: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = doc
    for part in ref[2:].split("/"):
        node = node[part]
    return node


@pytest.mark.parametrize("api_dir", API_DIRS, ids=lambda p: p.name)
def test_export_is_valid_openapi_31_with_every_operation_and_model(api_dir: Path) -> None:
    api, _ = enriched_api(api_dir)
    doc = openapi_document(api)
    validate(doc)  # raises on any violation of the OpenAPI 3.1 schema
    assert doc["openapi"] == "3.1.0"
    for op in api.operations:
        exported = doc["paths"][op.path][op.method.lower()]
        assert exported["operationId"] == op.wire_name
        assert exported["tags"] == [op.resource]
        names = {(p["name"], p["in"]) for p in exported.get("parameters", [])}
        assert {(p.wire_name, p.location) for p in op.params} <= names
        if op.body.kind == "json":
            schema = exported["requestBody"]["content"]["application/json"]["schema"]
            assert schema == {"$ref": f"#/components/schemas/{op.body.model}"}
        if op.response.kind == "json":
            schema = exported["responses"]["200"]["content"]["application/json"]["schema"]
            assert schema == {"$ref": f"#/components/schemas/{op.response.model}"}
    operations = sum(len(methods) for methods in doc["paths"].values())
    assert operations == len(api.operations)
    schemas = doc["components"]["schemas"]
    assert set(schemas) == {m.name for m in api.models}
    for model in api.models:
        assert set(schemas[model.name]["properties"]) == {f.wire_name for f in model.fields}
    for ref in _refs(doc):
        assert _resolve(doc, ref) is not None


@pytest.mark.parametrize("api", ["powerclerk", "ebuilder"])
def test_committed_export_is_what_the_spec_gives(api: str) -> None:
    spec, _ = enriched_api(ROOT / "specs" / api)
    committed = (ROOT / "generated" / api / "openapi.json").read_text(encoding="utf-8")
    assert committed == render_openapi(spec)
    assert render_openapi(spec) == render_openapi(enriched_api(ROOT / "specs" / api)[0])


def test_security_schemes_follow_the_specs_auth() -> None:
    powerclerk = openapi_document(enriched_api(ROOT / "specs" / "powerclerk")[0])
    schemes = powerclerk["components"]["securitySchemes"]
    flow = schemes["oauth2"]["flows"]["clientCredentials"]
    assert flow["tokenUrl"] == "https://identity.cleanpowerdemo.com/PCITrial/connect/token"
    assert schemes["apiKey"] == {"type": "apiKey", "in": "header", "name": "X-ApiKey"}
    assert powerclerk["security"] == [{"oauth2": [], "apiKey": []}]  # both on every call
    mfa = [p["name"] for p in powerclerk["paths"]["/Programs/{ProgramId}/Projects"]["get"]
           ["parameters"] if p["in"] == "header"]
    assert mfa == ["Mfa-One-Time-Password", "Mfa-Session-Token"]

    ebuilder = openapi_document(enriched_api(ROOT / "specs" / "ebuilder")[0])
    schemes = ebuilder["components"]["securitySchemes"]
    assert schemes == {
        "oauth2": {
            "type": "oauth2",
            "description": schemes["oauth2"]["description"],
            "flows": {"password": {"tokenUrl": "/api/v2/Authenticate", "scopes": {}}},
        }
    }
    assert "14399" in schemes["oauth2"]["description"]
    assert ebuilder["servers"][0]["url"] == "{baseUrl}/api/v2"  # a tenant's own host


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
    assert doc["components"]["schemas"]["Owner"]["properties"]["Email"]["deprecated"] is True
    create = doc["paths"]["/Shops/{ShopId}/Widgets"]["post"]
    assert create["x-apigen-confidence"] == "inferred"
    assert "Inferred, not documented: Inferred from the V1 path." in create["description"]
    assert create["x-apigen-v1"]["path"] == "/v1/Shops/{ShopId}/NewWidget"
    moves = doc["components"]["schemas"]["Widget"]["x-apigen-v1-moves"]
    assert {"kind": "move", "from": "OwnerEmail", "to": "Owner.Email"} in moves


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
    assert json.loads(generated)["info"]["title"]


def test_openapi_command_on_a_broken_spec_writes_nothing(
    tmp_path: Path, spec_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    widgets = spec_copy / "mini" / "widgets.yaml"
    widgets.write_text(widgets.read_text().replace("method: GET", "method: FETCH", 1))
    assert main(["openapi", "--specs", str(spec_copy), "--out", str(tmp_path / "out")]) == 2
    assert "widgets.yaml" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_bulk_fixture_marks_batches_and_files() -> None:
    doc = openapi_document(enriched_api(FIXTURE_SPECS / "bulk")[0])
    imports = doc["paths"]["/Items/Import"]["post"]
    assert imports["x-apigen-batch"] == {"records": "data", "keep": ["options"]}
    upload = doc["paths"]["/Files/Upload"]["post"]
    assert upload["x-apigen-file"]["maxBytes"] == 1024
    assert "426" in imports["responses"]  # the quota answer
