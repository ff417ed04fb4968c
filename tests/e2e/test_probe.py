"""The contract probe reads the PowerClerk emulator's answers, reports where they drift from the
spec's response models, learns every identifier it needs from those answers, never writes, and
never says "pass" for an operation it did not check."""

from __future__ import annotations

import datetime as dt
import io
import json
import socket
from pathlib import Path
from typing import Any

import httpx
import pytest
from powerclerk import PowerClerk

from emulator.server import EmulatorServer
from generator.drift import ProbeReport, drift_command, run_probe
from generator.pipeline import load_api
from tests.conftest import ADMIN, DEMO, SPECS, Client
from tests.e2e.conftest import PROGRAM_ID, client_kwargs

API = load_api(SPECS / "powerclerk")
READS = {op.wire_name for op in API.operations if op.method == "GET"}  # every one is probed
ADMIN_READS = {op.wire_name for op in API.operations if op.admin_only} & READS
TODAY = dt.date(2026, 6, 1)


@pytest.fixture
def sandbox(emulator: EmulatorServer, tmp_path: Path) -> EmulatorServer:
    """A submitted project with an attachment and an inquiry thread, so that earlier answers
    supply every path parameter the read-only operations need."""
    bill = tmp_path / "bill.pdf"
    bill.write_bytes(b"%PDF-1.4 utility bill\n")
    with PowerClerk(**client_kwargs(emulator, ADMIN)) as pc:
        project_id = pc.projects.create(PROGRAM_ID).project_id
        pc.projects.set_draft_data(PROGRAM_ID, project_id, "APPLICATION", body={"Project": {
            "DataFields": [{"DataFieldId": "INSTALLER_NAME", "Value": "Sunny Installs"},
                           {"DataFieldId": "SYSTEM_SIZE", "Value": "7.5"}]}})
        pc.attachments.upload(PROGRAM_ID, project_id, "APPLICATION", "UTILITY_BILL", bill)
        pc.projects.submit(PROGRAM_ID, project_id, "APPLICATION")
        pc.inquiries.add_note(PROGRAM_ID, project_id, text="Please resend the bill")
    # A run makes about 20 calls, within 60 a minute; these tests make several runs each.
    emulator.settings.rate_limit = 1000
    return emulator


def _env(server: EmulatorServer, creds: Client = ADMIN, **changes: str) -> dict[str, str]:
    return {
        "POWERCLERK_BASE_URL": server.base_url,
        "POWERCLERK_TOKEN_URL": server.token_url,
        "POWERCLERK_CLIENT_ID": creds.client_id,
        "POWERCLERK_CLIENT_SECRET": creds.client_secret,
        "POWERCLERK_API_KEY": creds.api_key,
        "POWERCLERK_PROGRAM_ID": PROGRAM_ID,
        **changes,
    }


def _command(env: dict[str, str], **options: Any) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = drift_command(SPECS, "powerclerk", environ=env, out=out, err=err, today=TODAY,
                         **options)
    return code, out.getvalue(), err.getvalue()


def _report(env: dict[str, str], **options: Any) -> tuple[int, dict[str, Any]]:
    code, out, err = _command(env, fmt="json", **options)
    assert out, err
    return code, json.loads(out)


def _run(server: EmulatorServer, creds: Client = ADMIN, **options: Any) -> ProbeReport:
    return run_probe(API, base_url=server.base_url, token_url=server.token_url,
                     client_id=creds.client_id, client_secret=creds.client_secret,
                     api_key=creds.api_key, pinned={"ProgramId": PROGRAM_ID}, **options)


def _rules(server: EmulatorServer) -> set[tuple[str, str, str]]:
    return {(f.rule, f.operation, f.path) for f in _run(server).findings}


def test_the_probe_verifies_every_read_operation(sandbox: EmulatorServer) -> None:
    report = _run(sandbox)
    assert report.findings == [] and report.skipped == []
    assert sorted(report.verified) == sorted(READS)  # each once, every GET of the spec
    code, document = _report(_env(sandbox))
    assert code == 0
    assert document["counts"] == {"verified": len(READS), "skipped": 0, "skipped_accepted": 0,
                                  "failed": 0}
    assert {o["operation"] for o in document["operations"]} == READS
    text = _command(_env(sandbox))[1]
    assert f"operations: {len(READS)} verified, 0 skipped, 0 failed — pass" in text


def test_probe_fresh_emulator_verifies_every_read(emulator: EmulatorServer) -> None:
    code, document = _report(_env(emulator))
    assert [o for o in document["operations"] if o["outcome"] != "verified"] == []
    assert document["counts"]["verified"] == len(READS)
    assert code == 0


def test_identifiers_come_from_answers_and_wait_for_their_sources(
    sandbox: EmulatorServer,
) -> None:
    sent: list[httpx.Request] = []
    with httpx.Client(event_hooks={"request": [sent.append]}) as http:
        _run(sandbox, http=http)
    paths = [r.url.path for r in sent[1:]]
    [project] = {p.split("/Projects/")[1].split("/")[0] for p in paths if "/Projects/" in p}
    # The project id was read from GetProjects, and the attachment call came after a project
    # data answer that named the uploaded attachment (not the definition without a file).
    assert paths.index(f"/services/v2/Programs/{PROGRAM_ID}/Projects") < min(
        i for i, p in enumerate(paths) if project in p)
    metadata = [p for p in paths if p.endswith("/Metadata")]
    assert len(metadata) == 1  # the first identifier combination tried answered


def test_a_wrong_base_url_is_exit_2_and_names_it(sandbox: EmulatorServer) -> None:
    wrong = sandbox.base_url + "/nowhere"
    code, out, err = _command(_env(sandbox, POWERCLERK_BASE_URL=wrong))
    assert code == 2
    assert f"is the base URL {wrong} right?" in err
    assert f"first failing request: GET {wrong}/services/v2/Programs" in err
    assert "pass" not in out and "INCOMPLETE" in out


def _ignore(tmp_path: Path, expires: str) -> Path:
    path = tmp_path / "drift-ignore.yaml"
    path.write_text("ignore:\n" + "".join(
        f"  - {{skip: {name}, reason: the CI user is no admin, expires: {expires}}}\n"
        for name in sorted(ADMIN_READS)))
    return path


def test_a_skip_without_an_ignore_entry_is_exit_2(sandbox: EmulatorServer) -> None:
    code, document = _report(_env(sandbox, creds=DEMO))
    assert code == 2
    outcomes = {o["operation"]: o for o in document["operations"]}
    assert {name for name, o in outcomes.items() if o["outcome"] == "skipped"} == ADMIN_READS
    assert "not authorised (HTTP 403)" in {outcomes[name]["reason"] for name in ADMIN_READS}
    # Its ThreadId was to come from an answer the credentials were refused.
    assert outcomes["GetNotesInInquiryThread"]["reason"] == (
        "identifiers not learned: ThreadId (none in the answers of GetInquiryThreads)")
    text = _command(_env(sandbox, creds=DEMO))[1]
    assert f"{len(ADMIN_READS)} operation(s) skipped and not accepted" in text
    assert "pass" not in text.splitlines()[-1]
    assert all(o["accepted_by"] is None for o in outcomes.values())


def test_a_skip_accepted_by_a_skip_entry_is_exit_0(sandbox: EmulatorServer,
                                                  tmp_path: Path) -> None:
    code, document = _report(_env(sandbox, creds=DEMO),
                             ignore_file=_ignore(tmp_path, "2026-12-31"))
    assert code == 0
    accepted = {o["operation"]: o["accepted_by"] for o in document["operations"]
                if o["outcome"] == "skipped"}
    assert set(accepted) == ADMIN_READS
    assert all(entry["reason"] == "the CI user is no admin" for entry in accepted.values())
    assert document["counts"]["skipped_accepted"] == len(ADMIN_READS)
    text = _command(_env(sandbox, creds=DEMO), ignore_file=_ignore(tmp_path, "2026-12-31"))[1]
    assert "— accepted by ignore entry #" in text
    assert text.rstrip().endswith("pass (fail on breaking)")


def test_an_expired_skip_entry_is_reported_and_exit_2(sandbox: EmulatorServer,
                                                     tmp_path: Path) -> None:
    code, document = _report(_env(sandbox, creds=DEMO),
                             ignore_file=_ignore(tmp_path, "2026-01-31"))
    assert code == 2
    assert len(document["expired_ignores"]) == len(ADMIN_READS)
    assert {f["operation"] for f in document["findings"]
            if f["rule"] == "ignore-entry-expired"} == ADMIN_READS
    assert document["counts"]["skipped_accepted"] == 0


def test_an_extra_field_is_non_breaking(sandbox: EmulatorServer) -> None:
    sandbox.settings.response_mutations = {
        "GetProjects": {"add": {"Projects[].ProjectOwner.Phone": "555-0100"}},
        # One finding per path, however many list items carry the key.
        "GetProjectData": {"add": {"Project.DataFields[].Unit": "kW"}},
    }
    findings = _run(sandbox).findings
    assert [(f.rule, f.operation, f.path, f.level, f.codegen) for f in findings] == [
        ("response-property-unknown", "GetProjectData", "$.Project.DataFields[].Unit",
         "non-breaking", True),
        ("response-property-unknown", "GetProjects", "$.Projects[].ProjectOwner.Phone",
         "non-breaking", True),
    ]
    assert _command(_env(sandbox))[0] == 0  # default --fail-on breaking
    code, out, _ = _command(_env(sandbox), fail_on="non-breaking")
    assert code == 1
    assert "$.Projects[].ProjectOwner.Phone" in out


def test_a_dropped_required_field_is_breaking(sandbox: EmulatorServer) -> None:
    sandbox.settings.response_mutations = {
        "GetProjects": {"remove": ["Projects[].ProjectOwner.Email"]}}
    assert _rules(sandbox) == {("response-required-property-missing", "GetProjects",
                                "$.Projects[].ProjectOwner.Email")}
    code, out, _ = _command(_env(sandbox), fmt="markdown")
    assert code == 1
    assert "response-required-property-missing" in out


def test_a_changed_type_is_breaking(sandbox: EmulatorServer) -> None:
    sandbox.settings.response_mutations = {
        "GetProjects": {"retype": {"RequestTimestamp": 1700000000}},
        "GetForms": {"retype": {"Forms[].Name": None}},  # not nullable in the spec
    }
    findings = {(f.operation, f.path): (f.old, f.new) for f in _run(sandbox).findings}
    assert findings == {("GetProjects", "$.RequestTimestamp"): ("string", "integer"),
                        ("GetForms", "$.Forms[].Name"): ("string", "null")}
    code, out, _ = _command(_env(sandbox))
    assert code == 1
    assert "response-property-type-mismatch" in out


def test_the_probe_only_reads(sandbox: EmulatorServer) -> None:
    sent: list[httpx.Request] = []
    before = sandbox.traffic.requests
    with httpx.Client(event_hooks={"request": [sent.append]}) as http:
        report = _run(sandbox, http=http)
    token, *calls = sent
    assert (token.method, str(token.url)) == ("POST", sandbox.token_url)
    assert {r.method for r in calls} == {"GET"}
    assert len(calls) >= len(report.verified)
    # The emulator saw exactly these operations, nothing this client did not log.
    assert sandbox.traffic.requests - before == len(calls)


def test_admin_only_operations_are_skipped_without_admin_rights(
    sandbox: EmulatorServer,
) -> None:
    report = _run(sandbox, creds=DEMO)
    assert report.findings == []
    skipped = dict(report.skipped)
    assert ADMIN_READS <= set(skipped)
    assert "GetPrograms" in report.verified
    # After the first 403 the other admin-only operations are not even called.
    assert sum(skipped[name] == "not authorised (HTTP 403)" for name in ADMIN_READS) == 1
    assert all(skipped[name].startswith("not authorised") for name in ADMIN_READS
               if name != "GetNotesInInquiryThread")  # its ThreadId comes from a refused one


def test_a_wrong_secret_is_exit_2(sandbox: EmulatorServer) -> None:
    code, out, err = _command(_env(sandbox, POWERCLERK_CLIENT_SECRET="wrong"))
    assert code == 2 and "INCOMPLETE: 1 error(s)" in out
    assert "token" in err and "wrong" not in err


def test_an_unreachable_api_is_exit_2() -> None:
    with socket.socket() as closed:  # a port nothing listens on once the socket is closed
        closed.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{closed.getsockname()[1]}"
    env = {"POWERCLERK_BASE_URL": url, "POWERCLERK_TOKEN_URL": url + "/connect/token",
           "POWERCLERK_CLIENT_ID": "id", "POWERCLERK_CLIENT_SECRET": "secret",
           "POWERCLERK_API_KEY": "key", "POWERCLERK_PROGRAM_ID": PROGRAM_ID}
    code, _, err = _command(env)
    assert code == 2
    assert "ConnectError" in err


def test_a_missing_setting_is_exit_2_and_named(sandbox: EmulatorServer) -> None:
    env = _env(sandbox)
    del env["POWERCLERK_PROGRAM_ID"]
    code, _, err = _command(env)
    assert code == 2
    assert "POWERCLERK_PROGRAM_ID" in err


def test_a_server_error_is_exit_2(sandbox: EmulatorServer) -> None:
    sandbox.faults.inject("GetForms", status=500)
    code, _, err = _command(_env(sandbox))
    assert code == 2
    assert "GetForms answered HTTP 500" in err
