"""The generated PowerClerk clients drive the emulator over loopback through a project's life."""

from __future__ import annotations

import hashlib
import io
import tracemalloc
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from powerclerk import AsyncPowerClerk, NotFoundError, PermissionDeniedError, PowerClerk
from powerclerk.types import AttachmentMetadata

from emulator.server import EmulatorServer
from tests.conftest import DEMO as DEMO_CLIENT
from tests.e2e.conftest import PROGRAM_ID

APPLICATION = "APPLICATION"  # custom id of the application form (public id XXUC5V2KKAGV)
UTILITY_BILL = "UTILITY_BILL"  # custom id of an attachment definition


def _fill(pc: PowerClerk, project_id: str) -> None:
    pc.projects.set_draft_data(
        PROGRAM_ID,
        project_id,
        APPLICATION,
        body={
            "Project": {
                "DataFields": [
                    {"DataFieldId": "INSTALLER_NAME", "Value": "Sunny Installs"},
                    {"DataFieldId": "SYSTEM_SIZE", "Value": "7.5"},
                    {"DataFieldId": "QGF4FF6M6CVZ", "Values": ["2026-11-14", "2026-12-01"]},
                    {"DataFieldId": "R2YX21RVSF51", "Value": "false"},
                ]
            }
        },
    )


def test_full_project_lifecycle_sync(
    make_client: Callable[..., PowerClerk], tmp_path: Path
) -> None:
    with make_client() as pc:
        programs = pc.programs.list()
        assert PROGRAM_ID in [p.program_id for p in programs]
        forms = pc.programs.list_forms(PROGRAM_ID)
        assert APPLICATION in [f.custom_id for f in forms]
        schema = pc.programs.get_form_schema(PROGRAM_ID, APPLICATION)
        assert schema.name
        statuses = pc.programs.list_statuses(PROGRAM_ID)
        assert statuses

        created = pc.projects.create(PROGRAM_ID)
        assert created.project_number is None
        assert created.current_status is not None and created.current_status.name == "Unsubmitted"
        project_id = created.project_id

        _fill(pc, project_id)
        draft = pc.projects.get_draft_data(PROGRAM_ID, project_id, APPLICATION)
        values = {f.data_field_id: (f.value, f.values) for f in draft.data_fields or []}
        assert values["10SQ28XRTZ9M"][0] == "Sunny Installs"
        assert values["QGF4FF6M6CVZ"][1] == ["2026-11-14", "2026-12-01"]

        bill = tmp_path / "bill.pdf"
        bill.write_bytes(b"%PDF-1.4 utility bill\n" * 100)
        uploaded = pc.attachments.upload(PROGRAM_ID, project_id, APPLICATION, UTILITY_BILL, bill)
        assert isinstance(uploaded, AttachmentMetadata)  # the upload step answers typed
        assert (uploaded.file_name, uploaded.file_size) == ("bill.pdf", bill.stat().st_size)

        submitted = pc.projects.submit(PROGRAM_ID, project_id, APPLICATION)
        number = submitted.project_number
        assert number and number.startswith("EX-")

        # The project number now works wherever the project id does.
        by_number = pc.projects.get_submitted_data(PROGRAM_ID, number, APPLICATION)
        assert by_number.project_id == project_id
        listed = pc.projects.list(PROGRAM_ID, limit=10)
        assert project_id in [p.project_id for p in listed.projects]
        assert project_id in [p.project_id for p in pc.projects.iter(PROGRAM_ID)]

        meta = pc.attachments.get_metadata(PROGRAM_ID, number, UTILITY_BILL)
        assert meta.file_name == "bill.pdf"
        meta = pc.attachments.set_metadata(
            PROGRAM_ID, number, UTILITY_BILL, attachment_status="Approve", note="ok"
        )
        assert (meta.attachment_status, meta.note) == ("Approved", "ok")
        copy = tmp_path / "copy.pdf"
        assert (
            pc.attachments.download(PROGRAM_ID, number, UTILITY_BILL, copy) == bill.stat().st_size
        )
        assert copy.read_bytes() == bill.read_bytes()

        pc.statuses.set(PROGRAM_ID, number, "APPROVED", auto_communication=False)
        history = pc.statuses.get_history(PROGRAM_ID, number)
        assert len(history) >= 2

        owner = pc.projects.set_owner(PROGRAM_ID, number, owner_email="o@example.com")
        assert owner.email == "o@example.com"

        note = pc.inquiries.add_note(PROGRAM_ID, number, text="Please resend the bill")
        assert note
        threads = pc.inquiries.list_threads(PROGRAM_ID, number)
        assert threads
        thread_id = threads[0].thread_id
        assert pc.inquiries.list_notes(PROGRAM_ID, thread_id)
        pc.inquiries.set_thread_status(PROGRAM_ID, thread_id, "Closed")
        pc.inquiries.set_thread_external_id(PROGRAM_ID, thread_id, "CRM-42")

        everything = pc.projects.get_all_data(PROGRAM_ID, number)
        assert everything.project_id == project_id


async def test_lifecycle_sample_async(make_async_client: Callable[..., AsyncPowerClerk]) -> None:
    async with make_async_client() as pc:
        created = (await pc.projects.create(PROGRAM_ID))
        await pc.projects.set_draft_data(
            PROGRAM_ID,
            created.project_id,
            APPLICATION,
            body={
                "Project": {
                    "DataFields": [
                        {"DataFieldId": "INSTALLER_NAME", "Value": "Async Solar"},
                        {"DataFieldId": "SYSTEM_SIZE", "Value": "3"},
                    ]
                }
            },
        )
        submitted = (await pc.projects.submit(PROGRAM_ID, created.project_id, APPLICATION))
        data = await pc.projects.get_submitted_data(
            PROGRAM_ID, submitted.project_number, APPLICATION
        )
        assert data.project_id == created.project_id
        seen = [p.project_id async for p in pc.projects.iter(PROGRAM_ID, page_size=2)]
        assert created.project_id in seen
        sink = io.BytesIO()
        await pc.attachments.upload(
            PROGRAM_ID,
            created.project_id,
            APPLICATION,
            UTILITY_BILL,
            b"abc" * 1000,
            filename="a.txt",
        )
        await pc.attachments.download(PROGRAM_ID, created.project_id, UTILITY_BILL, sink)
        assert sink.getvalue() == b"abc" * 1000


def test_pagination_is_lazy_and_complete(
    make_client: Callable[..., PowerClerk], emulator: EmulatorServer
) -> None:
    with make_client() as pc:
        ids = {pc.projects.create(PROGRAM_ID).project_id for _ in range(7)}
        before = emulator.traffic.requests
        pages = pc.projects.iter(PROGRAM_ID, page_size=3)
        assert emulator.traffic.requests == before  # nothing fetched until iterated
        assert {p.project_id for p in pages} >= ids
        assert emulator.traffic.requests - before == 3  # 3 + 3 + 1


def test_large_attachment_streams_both_ways(
    make_client: Callable[..., PowerClerk], tmp_path: Path
) -> None:
    size = 48 * 1024 * 1024
    big = tmp_path / "big.bin"
    digest = hashlib.sha256()
    with big.open("wb") as out:
        block = bytes(range(256)) * 4096  # 1 MiB
        for i in range(size // len(block)):
            chunk = block[i % 256 :] + block[: i % 256]
            digest.update(chunk)
            out.write(chunk)
    with make_client() as pc:
        project_id = pc.projects.create(PROGRAM_ID).project_id
        # Client and emulator share this process, so the traced peak covers both ends: neither
        # may hold the file (48 MiB) in memory.
        tracemalloc.start()
        try:
            pc.attachments.upload(PROGRAM_ID, project_id, APPLICATION, UTILITY_BILL, big)
            upload_peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.reset_peak()
            with (tmp_path / "back.bin").open("wb") as sink:
                written = pc.attachments.download(PROGRAM_ID, project_id, UTILITY_BILL, sink)
            download_peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert written == size
    assert upload_peak < 16 * 1024 * 1024, upload_peak
    assert download_peak < 16 * 1024 * 1024, download_peak
    back = hashlib.sha256((tmp_path / "back.bin").read_bytes()).hexdigest()
    assert back == digest.hexdigest()


def test_errors_carry_status_body_method_and_url_but_no_secret(
    make_client: Callable[..., PowerClerk],
) -> None:
    with make_client(DEMO_CLIENT) as pc:
        with pytest.raises(NotFoundError) as missing:
            pc.projects.get_draft_data(PROGRAM_ID, "NOSUCHPROJECT", APPLICATION)
        with pytest.raises(PermissionDeniedError) as denied:
            pc.statuses.get_history(PROGRAM_ID, "NOSUCHPROJECT")
    err = missing.value
    assert err.status_code == 404 and err.method == "GET"
    assert "/services/v2/Programs/" in err.url and "NOSUCHPROJECT" in err.url
    assert isinstance(err.body, dict) and err.body.get("Message")
    assert denied.value.status_code == 403
    for text in (str(err), repr(err), str(denied.value), repr(pc)):
        for secret in (DEMO_CLIENT.client_secret, DEMO_CLIENT.api_key):
            assert secret not in text


def test_request_models_reject_a_misspelt_key_before_sending(
    make_client: Callable[..., PowerClerk],
    emulator: EmulatorServer,
) -> None:
    from powerclerk import RequestValidationError

    with make_client() as pc:
        project_id = pc.projects.create(PROGRAM_ID).project_id
        before = emulator.traffic.requests
        with pytest.raises(RequestValidationError):
            pc.projects.set_draft_data(
                PROGRAM_ID, project_id, APPLICATION, body={"Project": {"DataFeilds": []}}
            )
        assert emulator.traffic.requests == before


def test_polling_with_changed_since(make_client: Callable[..., PowerClerk],
                                    emulator: EmulatorServer) -> None:
    with make_client() as pc:
        pc.projects.create(PROGRAM_ID)
        first = pc.projects.list(PROGRAM_ID)
        later = pc.projects.create(PROGRAM_ID).project_id
        changed = pc.projects.list(PROGRAM_ID, changed_since=first.request_timestamp)
        assert [p.project_id for p in changed.projects] == [later]

        before = emulator.traffic.requests
        with pytest.raises(ValueError, match="no time zone"):
            pc.projects.list(PROGRAM_ID, changed_since=datetime(2026, 1, 1))
        assert emulator.traffic.requests == before  # refused before sending
