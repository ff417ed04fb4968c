"""e-Builder emulator: the two-step pre-signed upload and the base64 upload."""

from __future__ import annotations

import base64
import time

import httpx

CREATE = {"projectName": "My Project A", "folderPath": "/Documents/Contracts",
          "fileName": "contract.pdf"}


def create(eb, server, size: int) -> tuple[dict, str]:
    """Step one: the upload parameters and the guid of the (incomplete) document."""
    response = eb.post("/Documents/Create", json={**CREATE, "fileSize": size})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] is True
    guid = next(g for g, d in server.state.documents.items() if d.status == "incomplete")
    return body["uploadParameters"], guid


def test_presigned_upload_round_trip(eb, eb_emulator):
    data = b"%PDF-1.4 " * 1000
    params, guid = create(eb, eb_emulator, len(data))
    assert params["httpMethod"] == "PUT"
    assert params["headers"]["content-Length"] == str(len(data))
    assert params["expiresAt"].endswith("+00:00")
    put = httpx.put(params["uri"], content=data, headers=params["headers"])
    assert put.status_code == 200 and put.content == b""
    document = eb_emulator.state.documents[guid]
    assert document.status == "complete" and document.path.read_bytes() == data
    assert httpx.put(params["uri"], content=data, headers=params["headers"]).status_code == 403


def test_upload_refused_on_wrong_header_or_size_and_stays_incomplete(eb, eb_emulator):
    params, guid = create(eb, eb_emulator, 10)
    changed = {**params["headers"], "x-amz-meta-s-vn": "2"}
    wrong = httpx.put(params["uri"], content=b"0123456789", headers=changed)
    assert wrong.status_code == 403 and b"SignatureDoesNotMatch" in wrong.content
    missing = {k: v for k, v in params["headers"].items() if k != "x-amz-meta-s-fid"}
    assert httpx.put(params["uri"], content=b"0123456789", headers=missing).status_code == 403
    assert eb_emulator.state.documents[guid].status == "incomplete"
    # header names are case-insensitive, values are not
    upper = {k.upper(): v for k, v in params["headers"].items()}
    assert httpx.put(params["uri"], content=b"0123456789", headers=upper).status_code == 200


def test_upload_after_expiry_is_refused(eb, eb_emulator):
    eb_emulator.settings.upload_window = 1
    params, guid = create(eb, eb_emulator, 3)
    time.sleep(2.1)  # the expiry has whole-second resolution, like S3's Expires
    late = httpx.put(params["uri"], content=b"abc", headers=params["headers"])
    assert late.status_code == 403 and b"Request has expired" in late.content
    assert eb_emulator.state.documents[guid].status == "incomplete"


def test_base64_upload_and_limit(eb, eb_emulator):
    body = {"fileName": "r.pdf", "folderPath": "/Documents/Reports", "projectName": "My Project A"}
    ok = eb.post("/Documents/Upload", json={**body, "base64EncodedFile":
                                            base64.b64encode(b"hello").decode()})
    assert ok.status_code == 200 and ok.json() == {"success": True}
    assert any(d.name == "r.pdf" and d.status == "complete"
               for d in eb_emulator.state.documents.values())
    limit = 3 * 1024 * 1024  # the spec's max_bytes, applied to the decoded file (H11)
    big = eb.post("/Documents/Upload", json={**body, "base64EncodedFile":
                                             base64.b64encode(b"x" * (limit + 1)).decode()})
    assert big.status_code == 400
    assert big.json()["messages"] == ["File size exceeds the 3 MB limit."]
    eb_emulator.settings.base64_limit = 1024 * 1024
    smaller = eb.post("/Documents/Upload", json={**body, "base64EncodedFile":
                                                 base64.b64encode(b"x" * (limit // 2)).decode()})
    assert smaller.json()["messages"] == ["File size exceeds the 1 MB limit."]
    no_project = eb.post("/Documents/Create", json={**CREATE, "projectName": "X", "fileSize": 1})
    assert no_project.status_code == 404  # the spec's errors
    assert no_project.json()["messages"] == ["Project not found."]
