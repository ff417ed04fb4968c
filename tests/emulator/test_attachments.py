"""Attachment upload (streamed raw body), review and download."""

from __future__ import annotations

import hashlib
import os

from tests.conftest import ADMIN
from tests.emulator.conftest import APPLICATION, program_path, submitted_project

CHUNK = 1024 * 1024


def test_large_upload_round_trip(emulator, api, connect):
    project = submitted_project(api)
    size, digest = 30 * CHUNK + 123, hashlib.sha256()
    block = os.urandom(CHUNK)

    def body():  # streamed by httpx, never held whole in memory
        sent = 0
        while sent < size:
            part = block[: min(CHUNK, size - sent)]
            digest.update(part)
            sent += len(part)
            yield part

    base = program_path(f"/Projects/{project['ProjectNumber']}")
    uploaded = api.post(
        f"{base}/Forms/{APPLICATION}/Attachments/UTILITY_BILL",  # custom attachment id
        content=body(),
        headers={"Content-Type": "application/pdf",
                 "Content-Disposition": 'attachment; filename="bill.pdf"'},
    )
    assert uploaded.status_code == 200, uploaded.text
    meta = uploaded.json()["AttachmentMetadata"]
    assert meta["FileName"] == "bill.pdf"
    assert meta["FileSize"] == size
    assert meta["AttachmentStatus"] == "Pending"
    assert meta["Uploader"]["Email"] == "demo-client@example.test"

    back = hashlib.sha256()
    with api.stream("GET", f"{base}/Attachments/W9FJ4K2LQ7ZA") as download:
        assert download.status_code == 200
        assert download.headers["Content-Type"] == "application/pdf"
        assert 'filename="bill.pdf"' in download.headers["Content-Disposition"]
        for part in download.iter_bytes():
            back.update(part)
    assert back.hexdigest() == digest.hexdigest()
    # The upload left no temporary file behind (the seeded project's file is stored too).
    stored = {p.name for p in emulator.state.files_dir.iterdir()}
    assert f"{project['ProjectId']}-W9FJ4K2LQ7ZA" in stored
    assert [name for name in stored if name.startswith("upload-")] == []


def test_review_and_admin_download(api, connect):
    admin = connect(ADMIN)
    project = submitted_project(api)
    base = program_path(f"/Projects/{project['ProjectId']}/Attachments/UTILITY_BILL")
    assert api.get(f"{base}/Metadata").json()["AttachmentMetadata"]["FileName"] is None
    assert api.get(base).status_code == 404  # nothing uploaded yet
    upload = program_path(
        f"/Projects/{project['ProjectId']}/Forms/APPLICATION/Attachments/UTILITY_BILL")
    assert api.post(upload, content=b"a,b\n1,2\n", headers={"Content-Type": "text/csv"}
                    ).status_code == 200

    assert api.post(f"{base}/Metadata", json={"AttachmentStatus": "Approve"}).status_code == 403
    for action, status in (("Approve", "Approved"), ("Save", "Approved"),
                           ("Reject", "Rejected"), ("Unmark", "Pending")):
        answer = admin.post(f"{base}/Metadata", json={"AttachmentStatus": action, "Note": "ok"})
        assert answer.json()["AttachmentMetadata"]["AttachmentStatus"] == status
    bad = admin.post(f"{base}/Metadata", json={"AttachmentStatus": "Approved"})
    assert bad.status_code == 400

    assert api.get(f"{base}/AsAdmin").status_code == 403
    as_admin = admin.get(f"{base}/AsAdmin")
    assert as_admin.content == b"a,b\n1,2\n"
    assert as_admin.headers["Content-Type"].startswith("text/csv")
