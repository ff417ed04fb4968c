"""The contract probe reads the PowerClerk emulator's answers, reports where they drift from the
spec's response models, and never writes."""

from __future__ import annotations

import io
import json
import socket
from pathlib import Path
from typing import Any

import httpx
import pytest
from powerclerk import PowerClerk

from emulator.server import EmulatorServer
from generator.pipeline import load_api
from generator.probe import ProbeReport, probe, probe_command, run_probe
from tests.conftest import ADMIN, DEMO, SPECS, Client
from tests.e2e.conftest import PROGRAM_ID, client_kwargs

API = load_api(SPECS / "powerclerk")
READ_ONLY = {op.wire_name for op in API.operations
             if op.method == "GET" and op.response.kind == "json"}


@pytest.fixture
def sandbox(emulator: EmulatorServer, tmp_path: Path) -> EmulatorServer:
    """A submitted project with an attachment and an inquiry thread, so that earlier answers
    supply every path parameter the read-only operations need."""
    bill = tmp_path / "bill.pdf"
    bill.write_bytes(b"%PDF-1.4 utility bill\n")
    with PowerClerk(**client_kwargs(emulator, ADMIN)) as pc:
        project_id = pc.projects.create(PROGRAM_ID).project.project_id
        pc.projects.set_draft_data(PROGRAM_ID, project_id, "APPLICATION", body={"Project": {
            "DataFields": [{"DataFieldId": "INSTALLER_NAME", "Value": "Sunny Installs"},
                           {"DataFieldId": "SYSTEM_SIZE", "Value": "7.5"}]}})
        pc.attachments.upload(PROGRAM_ID, project_id, "APPLICATION", "UTILITY_BILL", bill)
        pc.projects.submit(PROGRAM_ID, project_id, "APPLICATION")
        pc.inquiries.add_note(PROGRAM_ID, project_id, body={"Text": "Please resend the bill"})
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
    code = probe_command(SPECS, "powerclerk", environ=env, out=out, err=err, **options)
    return code, out.getvalue(), err.getvalue()


def _run(server: EmulatorServer, creds: Client = ADMIN, **options: Any) -> ProbeReport:
    return run_probe(API, base_url=server.base_url, token_url=server.token_url,
                     client_id=creds.client_id, client_secret=creds.client_secret,
                     api_key=creds.api_key, program_id=PROGRAM_ID, **options)


def _rules(server: EmulatorServer) -> set[tuple[str, str, str]]:
    return {(f.rule, f.operation, f.path) for f in _run(server).findings}


def test_a_matching_api_is_clean(sandbox: EmulatorServer) -> None:
    report = _run(sandbox)
    assert report.findings == []
    # Every read-only operation was reached except those the seeded data cannot fill.
    assert set(report.called) | {name for name, _ in report.skipped} == READ_ONLY
    assert {"GetPrograms", "GetProjects", "GetNotesInInquiryThread",
            "GetAttachmentMetadata"} <= set(report.called)
    code, out, _ = _command(_env(sandbox), fmt="json")
    assert code == 0
    assert json.loads(out)["findings"] == []


def test_an_extra_field_is_non_breaking(sandbox: EmulatorServer) -> None:
    sandbox.settings.response_mutations = {
        "GetProjects": {"add": {"Projects[].ProjectOwner.Phone": "555-0100"}},
        # One finding per path, however many list items carry the key.
        "GetProjectData": {"add": {"Project.DataFields[].Unit": "kW"}},
    }
    findings = probe(API, base_url=sandbox.base_url, token_url=sandbox.token_url,
                     client_id=ADMIN.client_id, client_secret=ADMIN.client_secret,
                     api_key=ADMIN.api_key, program_id=PROGRAM_ID)
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
    assert len(calls) >= len(report.called)
    # The emulator saw exactly these operations, nothing this client did not log.
    assert sandbox.traffic.requests - before == len(calls)


def test_admin_only_operations_are_skipped_without_admin_rights(
    sandbox: EmulatorServer,
) -> None:
    report = _run(sandbox, creds=DEMO)
    assert report.findings == []
    admin_only = {op.wire_name for op in API.operations if op.admin_only} & READ_ONLY
    skipped = dict(report.skipped)
    assert admin_only <= set(skipped)
    assert "GetPrograms" in report.called
    # After the first 403 the other admin-only operations are not even called.
    assert sum("403" in skipped[name] for name in admin_only) == 1


def test_a_wrong_secret_is_exit_2(sandbox: EmulatorServer) -> None:
    code, out, err = _command(_env(sandbox, POWERCLERK_CLIENT_SECRET="wrong"))
    assert (code, out) == (2, "")
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
