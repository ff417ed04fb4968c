"""The generated e-Builder clients against the emulator over loopback: every operation, bulk
imports, the two-step upload, tokens, the daily quota, and what goes over the wire."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from ebuilder import (
    AsyncEBuilder,
    BatchFailedError,
    BatchResult,
    EBuilder,
    FileTooLargeError,
    IncompleteUploadError,
    QuotaExceededError,
)

from emulator.server import EmulatorServer
from tests.conftest import EB_USER

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = json.loads((ROOT / "tests/fixtures/ebuilder/seed_examples.json").read_text())["examples"]
# Seed examples that cannot succeed as written (the seed says why), with what the client reports.
EXPECTED_FAILURES = {
    "/Commitments/StatusUpdate": "Project",  # names "Project A", which the document never creates
    "/Invoices/StatusUpdate": "",  # its invoice is imported further down the page
}


def _kwargs(server: EmulatorServer, **extra: Any) -> dict[str, Any]:
    return {
        "base_url": server.base_url,
        "username": EB_USER.client_id,
        "password": EB_USER.client_secret,
        **extra,
    }


@pytest.fixture
def client(eb_emulator: EmulatorServer) -> Iterator[EBuilder]:
    with EBuilder(**_kwargs(eb_emulator)) as eb:
        yield eb


def _method(client: EBuilder | AsyncEBuilder, route: tuple[str, str]) -> Callable[..., Any]:
    from ebuilder import OPERATIONS

    op = next(o for o in OPERATIONS.values() if (o.method, o.path) == route)
    return getattr(getattr(client, op.resource), op.python_name)  # type: ignore[no-any-return]


def _arguments(body: dict[str, Any]) -> dict[str, Any]:
    """A comment body (wire names) as the keyword arguments create_comment takes."""
    from ebuilder.types import CommentCreateRequest

    names = {f.alias or n: n for n, f in CommentCreateRequest.model_fields.items()}
    return {names[key]: value for key, value in body.items()}


def _submitted_instance(server: EmulatorServer) -> str:
    return next(p.guid for p in server.state.processes.values() if not p.draft)


def test_every_operation_once_with_the_seed_examples(
    client: EBuilder, eb_emulator: EmulatorServer, tmp_path: Path
) -> None:
    called: set[str] = set()
    first_requests = {}
    for example in EXAMPLES:
        if example["kind"] == "request":
            first_requests.setdefault((example["method"], example["path"]), example["body"])
    for (method, path), body in first_requests.items():
        call = _method(client, (method, path))
        if path == "/Documents/Create":  # the seed's file only exists as a size: send a real one
            pdf = tmp_path / "contract_2023.pdf"
            pdf.write_bytes(b"%PDF-1.4\n" + b"0" * 4000)
            body = {k: v for k, v in body.items() if k not in ("fileName", "fileSize")}
            answer = client.documents.create_and_upload(pdf, body=body)
            assert answer.success
        elif path == "/Documents/Upload":  # the seed's base64 is cut short ("...")
            small = tmp_path / "report_Q3.pdf"
            small.write_bytes(b"%PDF-1.4 quarterly report\n")
            body = {k: v for k, v in body.items() if k != "base64EncodedFile"}
            assert client.documents.upload_file(small, body=body).success
        elif "{processInstanceId}" in path:
            answer = call(_submitted_instance(eb_emulator), **_arguments(body))
            assert answer.success and answer.comment_id and answer.support_id
        else:
            result = call(body=body)
            if isinstance(result, BatchResult):
                sent = body.get("data") or []
                assert len(result.outcomes) == len(sent)
                if path in EXPECTED_FAILURES:
                    assert not result.ok and result.failed
                    assert all(o.error_messages for o in result.failed)
                else:
                    assert result.ok, (path, result.messages, result.failed)
            else:
                assert result.success
        called.add(path)
    assert len(called) == 30


async def test_async_sample(eb_emulator: EmulatorServer, tmp_path: Path) -> None:
    async with AsyncEBuilder(**_kwargs(eb_emulator)) as eb:
        companies = await eb.companies.import_(
            body={"data": [{"companyName": "Async Co", "companyNumber": "A-1"}]}
        )
        assert companies.ok
        bulk = await eb.companies.import_many(
            [{"companyName": f"Async {i}", "companyNumber": f"A-{i + 2}"} for i in range(30)],
            batch_size=7,
        )
        assert bulk.ok and len(bulk.outcomes) == 30 and len(bulk.batches) == 5
        doc = tmp_path / "plan.pdf"
        doc.write_bytes(b"plan" * 1000)
        answer = await eb.documents.create_and_upload(
            doc, body={"projectName": "My Project A", "folderPath": "/Documents/Plans"}
        )
        assert answer.success
        results = await asyncio.gather(
            *(
                eb.companies.import_(body={"data": [{"companyName": f"Gathered {i}"}]})
                for i in range(5)
            )
        )
        assert all(r.ok for r in results)
    assert eb_emulator.traffic.token_requests == 1


def test_bulk_import_of_10000_records_accounts_for_every_one(
    client: EBuilder, eb_emulator: EmulatorServer
) -> None:
    records: list[dict[str, Any]] = []
    rejected_here, rejected_there = set(), set()
    for i in range(10_000):
        record: dict[str, Any] = {"companyName": f"Company {i:05d}", "companyNumber": f"N{i:05d}"}
        if i % 2500 == 17:  # no companyName: refused by the client, never sent
            del record["companyName"]
            rejected_here.add(i)
        elif i % 1000 == 3:  # a number another company already has: refused by the server
            record["companyNumber"] = "N00000"
            rejected_there.add(i)
        records.append(record)
    seen: list[tuple[int, int]] = []
    bulk = client.companies.import_many(
        records, batch_size=500, progress=lambda done, total: seen.append((done, total))
    )
    assert [o.index for o in bulk.outcomes] == list(range(10_000))
    assert {o.index for o in bulk.failed} == rejected_here | rejected_there
    assert all(o.error_messages for o in bulk.failed)
    assert all(bulk.outcomes[i].record is records[i] for i in (0, 17, 3, 9999))
    assert len(bulk.batches) == 20 and not bulk.stopped
    assert seen[-1] == (10_000, 10_000)
    imported = {k for (k,) in eb_emulator.state.companies if k.startswith("company ")}
    assert len(imported) == 10_000 - len(rejected_here) - len(rejected_there)


def test_bulk_import_can_stop_at_the_first_failing_batch(client: EBuilder) -> None:
    records = [{"companyName": f"Stop {i}", "companyNumber": f"S{i}"} for i in range(30)]
    records[12]["companyNumber"] = "S0"  # duplicate of the first record's number
    bulk = client.companies.import_many(records, batch_size=10, on_failure="stop")
    assert bulk.stopped and len(bulk.batches) == 2
    assert [o.index for o in bulk.failed] == [12]
    assert [o.index for o in bulk.not_sent] == list(range(20, 30))
    with pytest.raises(BatchFailedError) as caught:
        client.companies.import_(
            body={"data": [{"companyName": "X", "companyNumber": "S0"}]}, strict=True
        )
    assert caught.value.result.failed[0].error_messages


def test_two_step_upload_streams_the_file_with_the_returned_headers(
    client: EBuilder,
    eb_emulator: EmulatorServer,
    tmp_path: Path,
) -> None:
    big = tmp_path / "drawings.pdf"
    big.write_bytes(bytes(range(256)) * 20_000)  # ~5 MB, over the base64 limit
    answer = client.documents.create_and_upload(
        big, body={"projectName": "My Project A", "folderPath": "/Documents/Drawings"}
    )
    assert answer.upload_parameters is not None
    stored = [d for d in eb_emulator.state.documents.values() if d.name == "drawings.pdf"]
    assert len(stored) == 1 and stored[0].status == "complete" and stored[0].path is not None
    assert stored[0].path.read_bytes() == big.read_bytes()
    with pytest.raises(FileTooLargeError):
        client.documents.upload_file(
            big, body={"projectName": "My Project A", "folderPath": "/Documents/Drawings"}
        )


def test_expired_upload_window_reports_the_incomplete_record(
    client: EBuilder,
    eb_emulator: EmulatorServer,
    tmp_path: Path,
) -> None:
    eb_emulator.settings.upload_window = 0.0
    doc = tmp_path / "late.pdf"
    doc.write_bytes(b"late")
    with pytest.raises(IncompleteUploadError) as caught:
        client.documents.create_and_upload(
            doc, body={"projectName": "My Project A", "folderPath": "/Documents"}
        )
    assert "incomplete" in str(caught.value)
    assert caught.value.record["uploadParameters"]["uri"]
    late = [d for d in eb_emulator.state.documents.values() if d.name == "late.pdf"]
    assert len(late) == 1 and late[0].status == "incomplete"


def test_token_revoked_mid_run_is_renewed_once(
    client: EBuilder, eb_emulator: EmulatorServer
) -> None:
    assert client.companies.import_(body={"data": [{"companyName": "Before"}]}).ok
    eb_emulator.auth.revoke_tokens()
    assert client.companies.import_(body={"data": [{"companyName": "After"}]}).ok
    assert eb_emulator.traffic.token_requests == 2
    assert ("after",) in eb_emulator.state.companies  # imported (once: names are unique keys)


def test_daily_quota_is_its_own_error_and_never_retried(
    client: EBuilder, eb_emulator: EmulatorServer
) -> None:
    eb_emulator.settings.daily_quota = 2
    for i in range(2):
        assert client.companies.import_(body={"data": [{"companyName": f"Q{i}"}]}).ok
    calls = eb_emulator.traffic.requests
    with pytest.raises(QuotaExceededError) as caught:
        client.companies.import_(body={"data": [{"companyName": "Q2"}]})
    assert caught.value.status_code == 426
    assert eb_emulator.traffic.requests == calls + 1  # one attempt, no retry


def test_keys_go_out_canonical_and_string_success_is_read(eb_emulator: EmulatorServer) -> None:
    sent: list[dict[str, Any]] = []

    def capture(request: httpx.Request) -> None:
        if request.url.path.endswith("/Import"):
            sent.append(json.loads(request.content))

    eb_emulator.settings.success_form = "string"
    eb_emulator.settings.validate_responses = False  # the spec types success as boolean
    http = httpx.Client(event_hooks={"request": [capture]})
    with EBuilder(**_kwargs(eb_emulator, http_client=http)) as eb:
        result = eb.commitments.import_(
            body={
                "Options": {"ProjectIdentifier": "ProjectName"},
                "Data": [
                    {
                        "Header": {
                            "ProjectIdentifier": "My Project A",
                            "CommitmentType": "Contract",
                            "CommitmentNumber": "C-77",
                            "Description": "d",
                            "CompanyName": "ACME Corp",
                            "DefaultRetainagePercent": "10",
                        },
                        "Items": [
                            {
                                "CommitmentItemNumber": "001",
                                "BudgetLineItem": "b1.1000",
                                "Amount": "5000.50",
                            }
                        ],
                    }
                ],
            }
        )
    http.close()
    assert result.ok and result.response.success is True
    header = sent[0]["data"][0]["header"]
    assert set(sent[0]) == {"options", "data"}
    assert header["commitmentNumber"] == "C-77" and header["defaultRetainagePercent"] == 10
    assert sent[0]["data"][0]["items"][0]["amount"] == 5000.5


def test_comment_errors_carry_the_message_and_support_id(
    client: EBuilder, eb_emulator: EmulatorServer
) -> None:
    from ebuilder import APIStatusError

    unknown = "00000000-0000-0000-0000-000000000000"
    with pytest.raises(APIStatusError) as caught:
        client.process_instances.create_comment(unknown, comment_text="hello")
    body = caught.value.body
    assert isinstance(body, dict) and body.get("supportId")
    assert caught.value.message


def test_comment_limits_refuse_before_sending(
    client: EBuilder, eb_emulator: EmulatorServer
) -> None:
    from ebuilder import RequestValidationError

    before = eb_emulator.traffic.requests
    with pytest.raises(RequestValidationError):
        client.process_instances.create_comment(
            _submitted_instance(eb_emulator),
            comment_text="x", documents=["11111111-1111-1111-1111-111111111111"] * 101,
        )
    assert eb_emulator.traffic.requests == before
