"""`apigen drift` without a server: the ignore file (matching, expiry, the missing-reason error),
the three report formats (JSON checked against its published schema) and the exit-code policy.
Fetching is exercised through httpx.MockTransport; the emulator runs are in tests/e2e."""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from jsonschema import Draft202012Validator

from generator.drift import (
    ConfigError,
    DriftResult,
    FetchFailure,
    Finding,
    IgnoreEntry,
    Report,
    apply_ignores,
    drift_command,
    load_ignores,
    render,
)

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "specs"
REPORT_SCHEMA = json.loads(
    (ROOT / "generator" / "drift" / "drift-report.schema.json").read_text()
)
TODAY = dt.date(2025, 6, 1)
ENV = {
    "EBUILDER_BASE_URL": "https://eb.test",
    "EBUILDER_USERNAME": "user",
    "EBUILDER_PASSWORD": "pw-Secret-123",
}
REQUIRED = Finding("request-property-became-required", "breaking", "request", "CommitmentsImport",
                   "$.data[].header.note", old=False, new=True, message="now required")
ENUM = Finding("response-property-enum-value-added", "potentially-breaking", "response",
               "ProjectsImport", "$.status", old=None, new="Archived", codegen=True)
ADDED = Finding("response-property-added", "non-breaking", "response", "ProjectsImport",
                "$.extra", new={"type": "string"})


def entry(rule: str = REQUIRED.rule, operation: str = "*", path: str = "*",
          expires: dt.date | None = None, index: int = 1) -> IgnoreEntry:
    return IgnoreEntry(index, rule, operation, path, "accepted in ticket 42", expires)


def applied(findings: list[Finding], fail_on: str = "breaking",
            entries: list[IgnoreEntry] | None = None, errors: list[FetchFailure] | None = None,
            today: dt.date = TODAY, skipped: list[tuple[str, str]] | None = None) -> Report:
    """The report of a run that checked ProjectsImport and the findings' operations."""
    checked = sorted({f.operation for f in findings} | {"ProjectsImport"})
    result = DriftResult(findings=findings, errors=errors or [], checked=checked,
                         skipped=skipped or [])
    return apply_ignores("ebuilder", fail_on, result, entries or [], today)  # type: ignore[arg-type]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "drift-ignore.yaml"
    path.write_text(text)
    return path


# -- ignore file -------------------------------------------------------------------------------


def test_ignore_file_is_read(tmp_path: Path) -> None:
    entries = load_ignores(write(tmp_path, """
ignore:
  - rule: request-property-became-required
    operation: CommitmentsImport
    path: $.data[].header.note
    reason: the server fills it in
    expires: 2025-12-31
  - {rule: response-property-added, reason: additive, expires: "2026-01-02"}
"""))
    assert entries[0] == IgnoreEntry(1, REQUIRED.rule, "CommitmentsImport",
                                     "$.data[].header.note", "the server fills it in",
                                     dt.date(2025, 12, 31))
    assert (entries[1].operation, entries[1].path) == ("*", "*")
    assert entries[1].expires == dt.date(2026, 1, 2)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("ignore:\n  - {rule: x, operation: Op, path: $.a}\n", "#1 (x Op $.a): has no `reason`"),
        ("ignore:\n  - {rule: x, reason: ok}\n  - {rule: y, reason: ' '}\n", "#2 (y * *)"),
        ("ignore:\n  - {rule: x, reason: ok, expires: next week}\n", "`expires` must be a date"),
        ("ignore:\n  - {rule: x, reason: ok, message: m}\n", "unknown key(s) message"),
        ("ignore:\n  - {reason: ok, path: $.a}\n", "`rule` must be a non-empty string"),
        ("- {rule: x, reason: ok}\n", "an `ignore:` list"),
        ("ignore: [\n", "not a readable YAML file"),
    ],
)
def test_bad_ignore_file_names_the_entry(tmp_path: Path, text: str, problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_ignores(write(tmp_path, text))
    assert problem in str(caught.value)


def test_bad_ignore_file_exits_2_before_any_call(tmp_path: Path) -> None:
    ignore = write(tmp_path, "ignore:\n  - {rule: x, operation: Op}\n")
    out, err = io.StringIO(), io.StringIO()
    code = drift_command(SPECS, "ebuilder", ignore_file=ignore, environ=ENV, out=out, err=err,
                         transport=httpx.MockTransport(_never))
    assert code == 2
    assert "ignore entry #1 (x Op *): has no `reason`" in err.getvalue()
    assert out.getvalue() == ""


def _never(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"no call expected, got {request.url}")


@pytest.mark.parametrize(
    ("ignore", "silenced"),
    [
        (entry(), True),
        (entry(operation="CommitmentsImport", path="$.data[].header.note"), True),
        (entry(operation="Commitments*", path="$.data[].*"), True),
        (entry(path="$.data[].header"), False),  # a parent path is not the finding's path
        (entry(operation="ProjectsImport"), False),
        (entry(rule="request-property-removed"), False),
        (entry(path="$.data.header.note"), False),  # `[]` is literal, not a character class
    ],
)
def test_ignore_matches_rule_operation_and_path(ignore: IgnoreEntry, silenced: bool) -> None:
    report = applied([REQUIRED, ENUM], entries=[ignore])
    assert (REQUIRED not in report.findings) is silenced
    assert ENUM in report.findings
    assert [f for f, _ in report.ignored] == ([REQUIRED] if silenced else [])
    assert report.unused == ([] if silenced else [ignore])


def test_ignore_never_matches_by_message() -> None:
    by_message = entry(rule=REQUIRED.message)
    report = applied([REQUIRED], entries=[by_message])
    assert report.findings == [REQUIRED]


def test_entry_applies_through_its_expiry_day_then_is_reported() -> None:
    ignore = entry(expires=TODAY)
    on_the_day = applied([REQUIRED], entries=[ignore])
    assert on_the_day.findings == [] and on_the_day.exit_code() == 0

    later = applied([REQUIRED], entries=[ignore], today=TODAY + dt.timedelta(days=1))
    assert REQUIRED in later.findings  # no longer silenced
    expired = [f for f in later.findings if f.rule == "ignore-entry-expired"]
    assert [(f.level, f.old) for f in expired] == [("breaking", "2025-06-01")]
    assert "accepted in ticket 42" in expired[0].message
    assert later.expired == [ignore] and later.unused == []
    assert later.exit_code() == 1


def test_an_expired_entry_fails_even_when_its_change_is_gone() -> None:
    report = applied([], entries=[entry(expires=dt.date(2025, 1, 1))])
    assert [f.rule for f in report.findings] == ["ignore-entry-expired"]
    assert report.exit_code() == 1


# -- exit codes ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("findings", "fail_on", "code"),
    [
        ([], "breaking", 0),
        ([ADDED, ENUM], "breaking", 0),
        ([ADDED, ENUM], "potentially-breaking", 1),
        ([ADDED], "potentially-breaking", 0),
        ([ADDED], "non-breaking", 1),
        ([REQUIRED], "breaking", 1),
    ],
)
def test_exit_code_follows_fail_on(findings: list[Finding], fail_on: str, code: int) -> None:
    report = applied(findings, fail_on=fail_on)  # type: ignore[arg-type]
    assert report.exit_code() == code


@pytest.mark.parametrize("findings", [[], [REQUIRED]])
def test_any_error_is_exit_2_and_never_reads_as_clean(findings: list[Finding]) -> None:
    error = FetchFailure("ProjectsImport", "response", "the answer is not JSON")
    report = applied(findings, errors=[error])
    assert report.exit_code() == 2
    for fmt in ("text", "markdown"):
        text = render(report, fmt)  # type: ignore[arg-type]
        assert "INCOMPLETE" in text and "ProjectsImport response: the answer is not JSON" in text
        assert "pass" not in text


# -- report formats --------------------------------------------------------------------------


def full_report() -> object:
    entries = [entry(operation="CommitmentsImport", index=1),
               entry(rule="response-property-added", expires=dt.date(2025, 1, 1), index=2),
               entry(rule="response-type-changed", index=3),
               IgnoreEntry(4, "", "Documents*", "*", "no sample document in the sandbox")]
    errors = [FetchFailure("", None, "token request answered HTTP 401")]
    skipped = [("DocumentsImport", "no JSON request or response schema to compare"),
               ("UsersImport", "identifiers not learned: UserId")]
    return applied([REQUIRED, ENUM, ADDED], entries=entries, errors=errors, skipped=skipped)


def test_json_report_matches_its_published_schema() -> None:
    document = json.loads(render(full_report(), "json"))  # type: ignore[arg-type]
    Draft202012Validator(REPORT_SCHEMA).validate(document)
    assert document["version"] == 2 and document["fail_on"] == "breaking"
    assert [f["rule"] for f in document["findings"]] == [
        "ignore-entry-expired", "response-property-enum-value-added", "response-property-added"]
    assert document["ignored"][0]["finding"]["rule"] == REQUIRED.rule
    assert document["ignored"][0]["entry"]["reason"] == "accepted in ticket 42"
    assert document["expired_ignores"][0]["expires"] == "2025-01-01"
    assert document["errors"] == [
        {"operation": "", "kind": None, "message": "token request answered HTTP 401"}]
    assert document["summary"] == {"breaking": 1, "potentially-breaking": 1, "non-breaking": 1}
    # REQUIRED is ignored: CommitmentsImport passes; ENUM is below --fail-on breaking.
    assert [(o["operation"], o["outcome"], o["reason"], o["accepted_by"])
            for o in document["operations"]] == [
        ("CommitmentsImport", "verified", "", None),
        ("DocumentsImport", "skipped", "no JSON request or response schema to compare",
         {"skip": "Documents*", "reason": "no sample document in the sandbox", "expires": None}),
        ("ProjectsImport", "verified", "", None),
        ("UsersImport", "skipped", "identifiers not learned: UserId", None),
    ]
    assert document["counts"] == {"verified": 2, "skipped": 2, "skipped_accepted": 1,
                                  "failed": 0}


def test_text_report_lists_findings_ignores_errors_and_unused_entries() -> None:
    text = render(full_report(), "text")  # type: ignore[arg-type]
    assert str(ENUM) in text
    assert "ignored:\n  request-property-became-required CommitmentsImport" in text
    assert "note: ignore entry #3 (response-type-changed * *) matched nothing" in text
    assert ("operations:\n  verified CommitmentsImport\n  skipped DocumentsImport: no JSON "
            "request or response schema to compare — accepted by ignore entry #4 (skip "
            "Documents*): no sample document in the sandbox\n") in text
    assert "  skipped UsersImport: identifiers not learned: UserId\n" in text
    assert "operations: 2 verified, 2 skipped (1 accepted), 0 failed" in text
    assert text.rstrip().endswith("drift unknown")


def test_markdown_report_is_a_table_for_the_step_summary() -> None:
    piped = Finding("response-property-enum-value-added", "potentially-breaking", "response",
                    "ProjectsImport", "$.status", old=None, new="A|B`C", codegen=True)
    report = applied([piped, ADDED])
    lines = render(report, "markdown").splitlines()  # type: ignore[arg-type]
    assert lines[0] == "### API drift: ebuilder"
    assert "| level | rule | operation | path | old → new | python surface |" in lines
    row = next(line for line in lines if "enum-value-added" in line)
    assert row == ('| potentially-breaking | `response-property-enum-value-added` | ProjectsImport '
                   '| `$.status` |  → "A\\|B\'C" | yes |')
    assert lines[-1].startswith("**ebuilder: 0 breaking, 1 potentially-breaking, 1 non-breaking")
    assert lines[-1].endswith("pass (fail on breaking)**")


# -- fetching (no server: httpx.MockTransport) ---------------------------------------------------


def mock(schema: Callable[[httpx.Request], httpx.Response]) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/Authenticate"):
            return httpx.Response(200, json={"access_token": "tok-Secret-xyz"})
        return schema(request)

    return httpx.MockTransport(handle)


def run(transport: httpx.MockTransport, **options: object) -> tuple[int, dict, str]:
    out, err = io.StringIO(), io.StringIO()
    options.setdefault("operations", ["ProjectsImport"])
    code = drift_command(SPECS, "ebuilder", fmt="json", rate=0, environ=ENV, out=out, err=err,
                         transport=transport, **options)  # type: ignore[arg-type]
    report = json.loads(out.getvalue()) if out.getvalue() else {}
    if report:
        Draft202012Validator(REPORT_SCHEMA).validate(report)
    return code, report, err.getvalue()


@pytest.mark.parametrize(
    ("answer", "why"),
    [
        (httpx.Response(200, text="<html>"), "the answer is not JSON"),
        (httpx.Response(200, json=["a"]), "a JSON list, not an object"),
        (httpx.Response(500, text="boom"), "HTTP 500: boom"),
        (httpx.Response(401, text="expired"), "HTTP 401"),
    ],
)
def test_a_schema_that_cannot_be_read_is_exit_2(answer: httpx.Response, why: str) -> None:
    code, report, err = run(mock(lambda request: answer))
    assert code == 2
    assert why in report["errors"][0]["message"]
    assert report["errors"][0]["operation"] == "ProjectsImport"
    assert why in err


def test_a_refused_token_is_exit_2_and_secrets_stay_hidden() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(401, json={"e": "nope"}))
    code, report, err = run(transport)
    assert code == 2 and "HTTP 401" in report["errors"][0]["message"]
    assert ENV["EBUILDER_PASSWORD"] not in err + json.dumps(report)


def test_an_operation_whose_schemas_are_gone_is_endpoint_removed() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if "Projects" in request.url.path:
            return httpx.Response(404, text="Not Found")
        return httpx.Response(200, json={"type": "object"})

    code, report, _ = run(mock(answer), operations=["ProjectsImport", "CommitmentsImport"])
    assert code == 1
    assert [(f["rule"], f["level"]) for f in report["findings"]
            if f["operation"] == "ProjectsImport"] == [("endpoint-removed", "breaking")]
    assert {o["operation"]: o["outcome"] for o in report["operations"]} == {
        "CommitmentsImport": "failed", "ProjectsImport": "failed"}


def test_every_schema_gone_is_a_wrong_base_url_exit_2() -> None:
    code, report, err = run(mock(lambda request: httpx.Response(404, text="Not Found")),
                            operations=["ProjectsImport", "CommitmentsImport"])
    assert code == 2
    assert report["findings"] == [] and report["counts"]["verified"] == 0
    [error] = report["errors"]
    assert f"is the base URL {ENV['EBUILDER_BASE_URL']} right?" in error["message"]
    assert "first failing request: POST https://eb.test/" in error["message"]
    assert "(HTTP 404)" in error["message"] and error["message"] in err


def test_a_skip_is_exit_2_unless_a_live_skip_entry_accepts_it() -> None:
    skip = [("UsersImport", "identifiers not learned: UserId")]
    assert applied([], skipped=skip).exit_code() == 2
    text = render(applied([], skipped=skip), "text")  # type: ignore[arg-type]
    assert "INCOMPLETE: 1 operation(s) skipped and not accepted" in text and "pass" not in text
    accept = IgnoreEntry(1, "", "UsersImport", "*", "no users in the sandbox", TODAY)
    report = applied([], entries=[accept], skipped=skip)
    assert report.exit_code() == 0 and report.unused == []
    assert report.operations[1].accepted_by == accept
    later = applied([], entries=[accept], skipped=skip, today=TODAY + dt.timedelta(days=1))
    assert later.exit_code() == 2 and later.operations[1].accepted_by is None
    assert [(f.rule, f.operation) for f in later.findings] == [
        ("ignore-entry-expired", "UsersImport")]
    assert "ignore entry #1 (skip UsersImport) expired" in later.findings[0].message


def test_nothing_checked_is_exit_2() -> None:
    result = DriftResult(skipped=[("UsersImport", "identifiers not learned: UserId")])
    accept = IgnoreEntry(1, "", "*", "*", "accepted")
    report = apply_ignores("ebuilder", "breaking", result, [accept], TODAY)
    assert report.exit_code() == 2
    assert "INCOMPLETE: no operation could be checked" in render(report, "text")


def test_skip_entries_are_read_and_checked(tmp_path: Path) -> None:
    [skip] = load_ignores(write(tmp_path, (
        "ignore:\n  - {skip: GetAttachmentAsAdmin, reason: no admin in CI, "
        "expires: 2026-12-31}\n")))
    assert skip == IgnoreEntry(1, "", "GetAttachmentAsAdmin", "*", "no admin in CI",
                               dt.date(2026, 12, 31))
    assert skip.accepts_skip("GetAttachmentAsAdmin") and not skip.accepts_skip("GetForms")
    with pytest.raises(ConfigError, match=r"#1 \(skip X\): has no `reason`"):
        load_ignores(write(tmp_path, "ignore:\n  - {skip: X}\n"))
    with pytest.raises(ConfigError, match="unknown key"):
        load_ignores(write(tmp_path, "ignore:\n  - {skip: X, path: $.a, reason: r}\n"))


def test_only_one_schema_gone_is_an_error_not_a_removal() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.params["schemaType"] == "request":
            return httpx.Response(405)
        return httpx.Response(200, json={"type": "object"})

    code, report, _ = run(mock(answer))
    assert code == 2
    assert "other schema answers" in report["errors"][0]["message"]


def test_unknown_operation_and_missing_credentials_are_exit_2() -> None:
    err = io.StringIO()
    assert drift_command(SPECS, "ebuilder", operations=["Nope"], environ=ENV, err=err) == 2
    assert "no operation Nope" in err.getvalue()
    err = io.StringIO()
    assert drift_command(SPECS, "ebuilder", environ={}, err=err) == 2
    assert "EBUILDER_BASE_URL" in err.getvalue()


def test_an_api_without_discovery_goes_to_the_probe() -> None:
    err = io.StringIO()
    env = {"POWERCLERK_BASE_URL": "https://pc.test", "POWERCLERK_TOKEN_URL": "https://pc.test/t",
           "POWERCLERK_CLIENT_ID": "c", "POWERCLERK_CLIENT_SECRET": "s",
           "POWERCLERK_API_KEY": "k"}
    assert drift_command(SPECS, "powerclerk", environ=env, err=err) == 2
    assert "POWERCLERK_PROGRAM_ID" in err.getvalue()
    err = io.StringIO()
    assert drift_command(SPECS, "powerclerk", update=True, environ=env, err=err) == 2
    assert "--update and --operation need schema_discovery" in err.getvalue()
