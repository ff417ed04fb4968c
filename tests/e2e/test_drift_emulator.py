"""`apigen drift` against the e-Builder emulator over loopback: a clean run, each exit status, the
ignore file, `--update`, and a table of schema changes served with `schema_replacements`, each
checked in both directions (request: the server must keep accepting; response: the client must
keep reading)."""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
import socket
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from emulator.server import EmulatorServer
from generator.drift import drift_command
from tests.conftest import EB_USER

ROOT = Path(__file__).resolve().parents[2]
REPORT_SCHEMA = json.loads((ROOT / "generator" / "drift" / "drift-report.schema.json").read_text())
OP = "ProjectsImport"  # one operation keeps each run to a token and two schema calls


@pytest.fixture
def specs(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "specs" / "ebuilder", tmp_path / "specs" / "ebuilder")
    return tmp_path / "specs"


def env(server: EmulatorServer, password: str = EB_USER.client_secret) -> dict[str, str]:
    return {"EBUILDER_BASE_URL": server.base_url, "EBUILDER_USERNAME": EB_USER.client_id,
            "EBUILDER_PASSWORD": password}


def drift(specs: Path, environ: dict[str, str], *args: str, **options: Any
          ) -> tuple[int, dict[str, Any], str]:
    out, err = io.StringIO(), io.StringIO()
    options.setdefault("operations", [OP])
    code = drift_command(specs, "ebuilder", fmt="json", rate=0, environ=environ, out=out,
                         err=err, **options)
    report = json.loads(out.getvalue()) if out.getvalue() else {}
    if report:
        Draft202012Validator(REPORT_SCHEMA).validate(report)
    return code, report, err.getvalue()


def served(eb: EmulatorServer, kind: str) -> dict[str, Any]:
    """The schema the emulator serves today (what the spec generates)."""
    op = next(o for o in eb.emulator.api.operations if o.wire_name == OP)
    answer = eb.emulator.schema(op, kind)
    assert answer is not None
    return json.loads(json.dumps(answer[0]))  # a copy the test may change


def test_clean_run_over_every_operation(eb_emulator: EmulatorServer, specs: Path) -> None:
    code, report, err = drift(specs, env(eb_emulator), operations=())
    assert code == 0, err
    assert report["findings"] == [] and report["errors"] == []


def test_added_required_request_property_fails(eb_emulator: EmulatorServer, specs: Path) -> None:
    schema = served(eb_emulator, "request")
    root = schema["$defs"]["ProjectsImportRequest"]
    root["properties"]["tenant"] = {"type": "string"}
    root["required"] = [*root.get("required", []), "tenant"]
    eb_emulator.settings.schema_replacements = {OP: {"request": schema}}
    code, report, _ = drift(specs, env(eb_emulator))
    assert code == 1
    [finding] = report["findings"]
    assert finding["level"] == "breaking" and finding["direction"] == "request"
    assert finding["path"].endswith("tenant") and "required" in finding["rule"]


def test_unreachable_server_is_exit_2(specs: Path) -> None:
    with socket.socket() as probe:  # a port nothing listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    environ = {"EBUILDER_BASE_URL": f"http://127.0.0.1:{port}",
               "EBUILDER_USERNAME": "u", "EBUILDER_PASSWORD": "p"}
    code, report, err = drift(specs, environ)
    assert code == 2 and "ConnectError" in report["errors"][0]["message"]
    assert "INCOMPLETE" not in err  # the JSON report went to out


def test_wrong_password_is_exit_2(eb_emulator: EmulatorServer, specs: Path) -> None:
    code, report, err = drift(specs, env(eb_emulator, "wrong-Password-1"))
    assert code == 2 and "token request" in report["errors"][0]["message"]
    assert "wrong-Password-1" not in err + json.dumps(report)


def test_schema_answer_that_is_not_json_is_exit_2(eb_emulator: EmulatorServer,
                                                   specs: Path) -> None:
    eb_emulator.settings.schema_replacements = {OP: {"response": "<html>maintenance</html>"}}
    code, report, _ = drift(specs, env(eb_emulator))
    assert code == 2
    assert report["errors"] == [
        {"operation": OP, "kind": "response", "message": "the answer is not JSON"}]


def test_ignore_entry_silences_exactly_its_finding(eb_emulator: EmulatorServer, specs: Path,
                                                   tmp_path: Path) -> None:
    schema = served(eb_emulator, "request")
    schema["$defs"]["ProjectsImportRequest"]["properties"].pop("options")
    eb_emulator.settings.schema_replacements = {OP: {"request": schema}}
    code, report, _ = drift(specs, env(eb_emulator), fail_on="non-breaking")
    assert code == 1
    [finding] = report["findings"]

    ignore = tmp_path / "ignore.yaml"
    ignore.write_text(f"ignore:\n  - rule: {finding['rule']}\n    operation: {OP}\n"
                      f"    path: '{finding['path']}'\n    reason: options are set in the UI\n"
                      f"  - rule: {finding['rule']}\n    operation: Other\n    reason: unrelated\n")
    code, report, _ = drift(specs, env(eb_emulator), fail_on="non-breaking", ignore_file=ignore)
    assert code == 0
    assert report["findings"] == [] and [i["finding"] for i in report["ignored"]] == [finding]


def test_expired_ignore_entry_is_reported(eb_emulator: EmulatorServer, specs: Path,
                                          tmp_path: Path) -> None:
    ignore = tmp_path / "ignore.yaml"
    ignore.write_text("ignore:\n  - {rule: request-property-removed, operation: ProjectsImport,"
                      " reason: temporary, expires: 2025-01-31}\n")
    code, report, _ = drift(specs, env(eb_emulator), ignore_file=ignore,
                            today=dt.date(2025, 2, 1))
    assert code == 1
    assert [f["rule"] for f in report["findings"]] == ["ignore-entry-expired"]
    assert report["expired_ignores"][0]["expires"] == "2025-01-31"


def test_update_writes_live_schemas_and_the_next_run_is_clean(
    eb_emulator: EmulatorServer, specs: Path
) -> None:
    schema = served(eb_emulator, "response")
    schema["$defs"]["ImportResponse"]["properties"]["traceId"] = {"type": "string"}
    eb_emulator.settings.schema_replacements = {OP: {"response": schema}}
    code, report, _ = drift(specs, env(eb_emulator), update=True, fail_on="non-breaking")
    assert code == 1 and report["findings"]
    stored = specs / "ebuilder" / "schemas" / f"{OP}.response.json"
    assert stored.read_text() == json.dumps(schema, sort_keys=True, indent=2) + "\n"
    assert (specs / "ebuilder" / "schemas" / f"{OP}.request.json").is_file()
    code, report, _ = drift(specs, env(eb_emulator), fail_on="non-breaking")
    assert (code, report["findings"]) == (0, [])


# -- the change table ----------------------------------------------------------------------------
# (id, base, revision, request level, response level, a word of the rule id). The property under
# test is `value` of a small object; base and revision are stored/served as whole schemas.

STR, INT, NUM = {"type": "string"}, {"type": "integer"}, {"type": "number"}


def obj(value: dict[str, Any] | None = None, *, required: bool = False,
        **extra: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object",
                              "properties": {"id": STR, **({"value": value} if value else {})}}
    if required:
        schema["required"] = ["value"]
    return {**schema, **extra}


B, P, NB = "breaking", "potentially-breaking", "non-breaking"
CASES: list[tuple[str, dict[str, Any], dict[str, Any], str | None, str | None, str]] = [
    ("optional-added", obj(), obj(STR), NB, NB, "added"),
    ("required-added", obj(), obj(STR, required=True), B, NB, "added"),
    ("optional-removed", obj(STR), obj(), P, P, "removed"),
    ("required-removed", obj(STR, required=True), obj(), P, B, "removed"),
    ("became-required", obj(STR), obj(STR, required=True), B, NB, "became-required"),
    ("became-optional", obj(STR, required=True), obj(STR), NB, B, "became-optional"),
    ("closed", obj(STR), obj(STR, additionalProperties=False), B, NB, "additional-properties"),
    ("opened", obj(STR, additionalProperties=False), obj(STR), NB, P, "additional-properties"),
    ("string-to-integer", obj(STR), obj(INT), B, B, "type"),
    ("integer-to-number", obj(INT), obj(NUM), NB, B, "type"),
    ("number-to-integer", obj(NUM), obj(INT), B, NB, "type"),
    ("string-to-object", obj(STR), obj({"type": "object"}), B, B, "type"),
    ("format-added", obj(STR), obj({"type": "string", "format": "uuid"}), B, NB, "format"),
    ("format-changed", obj({"type": "string", "format": "date-time"}),
     obj({"type": "string", "format": "email"}), B, B, "format"),
    ("became-nullable", obj(STR), obj({"anyOf": [STR, {"type": "null"}]}), NB, B, "nullable"),
    ("became-nullable-list", obj(STR), obj({"type": ["string", "null"]}), NB, B, "nullable"),
    ("became-not-nullable", obj({"type": ["string", "null"]}), obj(STR), B, NB, "nullable"),
    ("enum-value-added", obj({"enum": ["A", "B"]}), obj({"enum": ["A", "B", "C"]}), NB, P,
     "enum"),
    ("enum-value-removed", obj({"enum": ["A", "B"]}), obj({"enum": ["A"]}), B, NB, "enum"),
    ("became-enum", obj(STR), obj({"type": "string", "enum": ["A"]}), B, NB, "enum"),
    ("enum-dropped", obj({"type": "string", "enum": ["A"]}), obj(STR), NB, B, "enum"),
    ("max-length-set", obj(STR), obj({"type": "string", "maxLength": 5}), B, NB, "max-length"),
    ("max-length-decreased", obj({"type": "string", "maxLength": 9}),
     obj({"type": "string", "maxLength": 5}), B, NB, "max-length"),
    ("max-length-increased", obj({"type": "string", "maxLength": 5}),
     obj({"type": "string", "maxLength": 9}), NB, P, "max-length"),
    ("min-length-increased", obj({"type": "string", "minLength": 1}),
     obj({"type": "string", "minLength": 3}), B, NB, "min-length"),
    ("min-length-decreased", obj({"type": "string", "minLength": 3}),
     obj({"type": "string", "minLength": 1}), NB, P, "min-length"),
    ("minimum-increased", obj({"type": "integer", "minimum": 0}),
     obj({"type": "integer", "minimum": 5}), B, NB, "min"),
    ("maximum-decreased", obj({"type": "integer", "maximum": 9}),
     obj({"type": "integer", "maximum": 5}), B, NB, "max"),
    ("maximum-increased", obj({"type": "integer", "maximum": 5}),
     obj({"type": "integer", "maximum": 9}), NB, P, "max"),
    ("pattern-added", obj(STR), obj({"type": "string", "pattern": "^[A-Z]+$"}), B, NB, "pattern"),
    ("min-items-increased", obj({"type": "array", "items": STR, "minItems": 0}),
     obj({"type": "array", "items": STR, "minItems": 2}), B, NB, "min-items"),
    ("max-items-decreased", obj({"type": "array", "items": STR, "maxItems": 9}),
     obj({"type": "array", "items": STR, "maxItems": 2}), B, NB, "max-items"),
    ("unique-items-set", obj({"type": "array", "items": STR}),
     obj({"type": "array", "items": STR, "uniqueItems": True}), B, NB, "unique-items"),
    ("items-retyped", obj({"type": "array", "items": STR}), obj({"type": "array", "items": INT}),
     B, B, "type"),
    ("any-of-branch-added", obj({"anyOf": [STR, INT]}),
     obj({"anyOf": [STR, INT, {"type": "boolean"}]}), NB, B, "of"),
    ("any-of-branch-removed", obj({"anyOf": [STR, INT, {"type": "boolean"}]}),
     obj({"anyOf": [STR, INT]}), B, NB, "of"),
    ("const-added", obj(STR), obj({"type": "string", "const": "X"}), B, NB, "const"),
    ("multiple-of-added", obj(INT), obj({"type": "integer", "multipleOf": 5}), B, NB,
     "multiple-of"),
    ("nested-became-required", obj({"type": "object", "properties": {"n": STR}}),
     obj({"type": "object", "properties": {"n": STR}, "required": ["n"]}), B, NB,
     "became-required"),
    ("nested-retyped", obj({"type": "object", "properties": {"n": STR}}),
     obj({"type": "object", "properties": {"n": INT}}), B, B, "type"),
    ("description-only", obj(STR), obj({"type": "string", "description": "new words"}),
     None, None, ""),
    ("inline-to-ref", obj(STR), {**obj({"$ref": "#/$defs/Text"}), "$defs": {"Text": STR}},
     None, None, ""),
]


@pytest.fixture(scope="module")
def table_server() -> Any:
    from tests.conftest import start_emulator

    with start_emulator(ROOT / "specs" / "ebuilder") as server:
        yield server


@pytest.fixture(scope="module")
def table_specs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("drift-table") / "specs"
    shutil.copytree(ROOT / "specs" / "ebuilder", root / "ebuilder")
    (root / "ebuilder" / "schemas").mkdir()
    return root


@pytest.mark.parametrize(("case", "base", "revision", "request_level", "response_level", "word"),
                         CASES, ids=[c[0] for c in CASES])
def test_change_table_through_the_emulator(
    table_server: EmulatorServer, table_specs: Path, case: str, base: dict[str, Any],
    revision: dict[str, Any], request_level: str | None, response_level: str | None, word: str,
) -> None:
    # The base is the committed pulled schema; the emulator serves the revision verbatim.
    for kind in ("request", "response"):
        path = table_specs / "ebuilder" / "schemas" / f"{OP}.{kind}.json"
        path.write_text(json.dumps(base, sort_keys=True, indent=2) + "\n")
    table_server.settings.schema_replacements = {OP: {"request": revision, "response": revision}}
    code, report, err = drift(table_specs, env(table_server), fail_on="non-breaking")
    assert report["errors"] == [], err
    for direction, level in (("request", request_level), ("response", response_level)):
        found = {(f["rule"], f["level"]) for f in report["findings"]
                 if f["direction"] == direction}
        if level is None:
            assert found == set(), f"{case} {direction}: expected no finding, got {found}"
        else:
            assert any(lvl == level and word in rule and rule.startswith(direction)
                       for rule, lvl in found), f"{case} {direction}: expected {level}, {found}"
    assert code == (1 if report["findings"] else 0)
