"""Pagination, uploads, downloads, JSON bodies, URLs and query strings."""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import io
import json
import os
from decimal import Decimal

import pydantic
import pytest


class Item(pydantic.BaseModel):
    id: int = pydantic.Field(alias="Id")


class Page(pydantic.BaseModel):
    items: list[Item] = pydantic.Field(alias="Items")


@pytest.fixture
def list_op(rt, make_op):
    pagination = rt.Pagination("Limit", "Offset", 1000, "Items", "items")
    params = (
        rt.Param("limit", "Limit", "query", False),
        rt.Param("offset", "Offset", "query", False),
    )
    return make_op("/items", params=params, pagination=pagination)


def test_paginate_2500_items_in_3_calls(kind, make_client, list_op, emu):
    emu.items = 2500
    client = make_client(kind)
    ids = [item.id for item in client.paginate(list_op, Page)]
    assert ids == list(range(2500))
    assert [dict(h.query) for h in emu.calls("/items")] == [
        {"Limit": "1000", "Offset": str(offset)} for offset in (0, 1000, 2000)
    ]


async def test_paginate_async_is_lazy(make_client, list_op, emu):
    emu.items = 2500
    async with make_client("async", raw=True) as client:
        pages = client.paginate(list_op, Page, page_size=1000)
        assert not emu.calls()
        first = await pages.__anext__()
        assert first.id == 0 and len(emu.calls()) == 1
        rest = [item.id async for item in pages]
    assert rest == list(range(1, 2500))
    assert len(emu.calls("/items")) == 3


def test_paginate_start_offset_and_page_size(make_client, list_op, emu):
    emu.items = 250
    client = make_client()
    ids = [i.id for i in client.paginate(list_op, Page, query={"offset": 100}, page_size=100)]
    assert ids == list(range(100, 250))
    assert [dict(h.query)["Offset"] for h in emu.calls()] == ["100", "200"]


def test_paginate_exact_multiple_stops_on_empty_page(make_client, list_op, emu):
    emu.items = 200
    assert len(list(make_client().paginate(list_op, Page, page_size=100))) == 200
    assert len(emu.calls()) == 3


def test_paginate_rejects_bad_page_size_at_once(make_client, list_op, make_op):
    client = make_client()
    with pytest.raises(ValueError, match="1000"):
        client.paginate(list_op, Page, page_size=1001)
    with pytest.raises(ValueError, match="not paginated"):
        client.paginate(make_op(), Page)


@pytest.fixture(scope="module")
def big_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("up") / "big.bin"
    digest = hashlib.sha256()
    with open(path, "wb") as f:
        for _ in range(20):
            chunk = os.urandom(1 << 20)
            digest.update(chunk)
            f.write(chunk)
    return path, digest.hexdigest()


def test_upload_20mb_file_by_path(kind, make_client, make_op, emu, big_file):
    path, digest = big_file
    client = make_client(kind)
    response = client.upload(make_op("/upload", "PUT", body="binary"), path)
    assert response.json()["sha256"] == digest
    hit = emu.calls("/upload")[0]
    assert hit.size == 20 << 20 and hit.sha256 == digest
    assert hit.headers["content-length"] == str(20 << 20)
    assert hit.headers["content-type"] == "application/octet-stream"


def test_upload_file_object_retried_after_seek(make_client, make_op, emu, big_file):
    path, digest = big_file
    client = make_client()
    emu.queue("/upload", emu.Reply(503))
    with open(path, "rb") as f:
        client.upload(make_op("/upload", "PUT", body="binary"), f)
    assert [h.sha256 for h in emu.calls("/upload")] == [digest, digest]


def test_upload_stream_without_length_goes_chunked(kind, make_client, make_op, emu):
    class Pipe:
        def __init__(self) -> None:
            self.parts = [b"a" * 70000, b"b" * 5]

        def read(self, size: int = -1) -> bytes:
            return self.parts.pop(0) if self.parts else b""

    client = make_client(kind)
    client.upload(make_op("/upload", "POST", body="binary"), Pipe(), content_type="text/plain")
    hit = emu.calls("/upload")[0]
    assert hit.size == 70005
    assert hit.headers.get("transfer-encoding") == "chunked"
    assert hit.headers["content-type"] == "text/plain"


def test_upload_bytes_with_filename(kind, make_client, make_op, emu):
    client = make_client(kind)
    client.upload(make_op("/upload", "PUT", body="binary"), b"%PDF-1.7", filename='re"port ü.pdf')
    hit = emu.calls("/upload")[0]
    assert hit.body == b"%PDF-1.7"
    assert hit.headers["content-type"] == "application/pdf"
    assert hit.headers["content-disposition"] == (
        'attachment; filename="re\\"port ?.pdf"; filename*=UTF-8\'\'re%22port%20%C3%BC.pdf'
    )


@pytest.fixture
def blob(emu):
    emu.blob = os.urandom(3 << 20)
    return emu.blob


def test_download_to_path_and_stream(kind, make_client, make_op, blob, tmp_path):
    client = make_client(kind)
    op = make_op("/blob", response="binary")
    target = tmp_path / "out.bin"
    assert client.download(op, target) == len(blob)
    assert target.read_bytes() == blob
    buffer = io.BytesIO()
    assert client.download(op, buffer) == len(blob)
    assert buffer.getvalue() == blob
    assert os.listdir(tmp_path) == ["out.bin"]


def test_interrupted_download_leaves_no_file(rt, kind, make_client, make_op, emu, blob, tmp_path):
    client = make_client(kind, max_retries=0)
    emu.blob_cuts.append(1 << 20)
    target = tmp_path / "out.bin"
    with pytest.raises(rt.APIConnectionError):
        client.download(make_op("/blob", response="binary"), target)
    assert os.listdir(tmp_path) == []


def test_interrupted_download_keeps_previous_file(rt, make_client, make_op, emu, blob, tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    emu.queue("/blob", emu.Reply(500, {"Message": "disk on fire"}))
    with pytest.raises(rt.InternalServerError):
        make_client(max_retries=0).download(make_op("/blob", response="binary"), target)
    assert os.listdir(tmp_path) == ["out.bin"] and target.read_bytes() == b"old"


def test_download_retry_restarts(kind, make_client, make_op, emu, blob, tmp_path):
    client = make_client(kind)
    op = make_op("/blob", response="binary")
    emu.blob_cuts.extend([1 << 20, 2 << 20])
    buffer = io.BytesIO(b"prefix:")
    buffer.seek(0, io.SEEK_END)
    assert client.download(op, buffer) == len(blob)
    assert buffer.getvalue() == b"prefix:" + blob
    emu.blob_cuts.append(1 << 20)
    assert client.download(op, tmp_path / "f.bin") == len(blob)
    assert (tmp_path / "f.bin").read_bytes() == blob
    assert os.listdir(tmp_path) == ["f.bin"]
    assert emu.calls("/blob")[0].headers["accept"] == "*/*"  # not JSON for a binary response


def test_decimal_and_dates_in_json_body(kind, make_client, make_op, emu):
    client = make_client(kind)
    payload = {
        "Amount": Decimal("12345678901234567890.123"),
        "Tiny": Decimal("1E-30"),
        "When": dt.datetime(2024, 5, 6, 7, 8, 9, tzinfo=dt.UTC),
        "Day": dt.date(2024, 5, 6),
        "Text": "12345678901234567890.123",
    }
    client.request(make_op(method="POST", body="json"), json=payload)
    hit = emu.calls()[0]
    raw = hit.body.decode()
    assert '"Amount":12345678901234567890.123,' in raw
    assert json.loads(raw, parse_float=Decimal) == {
        "Amount": Decimal("12345678901234567890.123"),
        "Tiny": Decimal("1E-30"),
        "When": "2024-05-06T07:08:09+00:00",
        "Day": "2024-05-06",
        "Text": "12345678901234567890.123",
    }
    assert hit.headers["content-type"] == "application/json"


def test_encode_json_rejects_nan(rt):
    with pytest.raises(ValueError):
        rt.encode_json({"x": Decimal("NaN")})


class Color(enum.Enum):
    RED = "red"


def test_url_and_query_building(rt, kind, make_client, make_op, emu):
    op = make_op(
        "/Programs/{ProgramId}/Runs/{RunId}",
        params=(
            rt.Param("program_id", "ProgramId", "path", True),
            rt.Param("run_id", "RunId", "path", True),
            rt.Param("active", "Active", "query", False),
            rt.Param("trace_id", "X-Trace", "header", False),
        ),
    )
    client = make_client(kind)
    query = {
        "active": True,
        "Since": dt.date(2024, 1, 2),
        "Color": Color.RED,
        "Tag": ["a", "b c"],
        "Skip": None,
    }
    client.request(
        op, path={"program_id": "a/b c", "RunId": 7}, query=query, headers={"trace_id": 5}
    )
    hit = emu.calls()[0]
    assert hit.path == "/api/v2/Programs/a%2Fb%20c/Runs/7"
    assert hit.query == [
        ("Active", "true"),
        ("Since", "2024-01-02"),
        ("Color", "red"),
        ("Tag", "a"),
        ("Tag", "b c"),
    ]
    assert hit.headers["x-trace"] == "5"


def test_missing_path_param_names_it(rt, make_client, make_op, emu):
    op = make_op(
        "/Programs/{ProgramId}", params=(rt.Param("program_id", "ProgramId", "path", True),)
    )
    with pytest.raises(ValueError, match="program_id"):
        make_client().request(op, path={"program_id": None})
    assert not emu.calls()


def test_request_model_validation_errors(rt, kind, make_client, make_op, emu):
    client = make_client(kind)
    emu.queue("/things", emu.Reply(200, {"Items": [{"Id": "not a number"}]}))
    with pytest.raises(rt.ResponseValidationError) as info:
        client.request_model(make_op(), Page)
    assert info.value.body == {"Items": [{"Id": "not a number"}]}
    assert info.value.errors[0]["loc"] == ("Items", 0, "Id")
    assert "Page" in str(info.value)
    emu.queue("/things", emu.Reply(200, body=b"plain", headers={"Content-Type": "text/plain"}))
    with pytest.raises(rt.ResponseValidationError, match="text/plain"):
        client.request_model(make_op(), Page)
    emu.queue("/things", emu.Reply(200, {"Items": [{"Id": 3}]}))
    assert client.request_model(make_op(), Page).items[0].id == 3


def test_a_response_is_read_by_wire_names_only(rt, kind, make_client, make_op, emu):
    class Answer(rt.ResponseModel):  # `message` is one field's Python name, another's wire name
        message: str | None = pydantic.Field(None, alias="Message")
        message_lowercase: str | None = pydantic.Field(None, alias="message")

    class Loose(rt.AcceptsOtherKeys, rt.ResponseModel):  # keys matched ignoring case
        _case_insensitive_keys = True
        remark: str | None = pydantic.Field(None, alias="Other")
        note: str | None = pydantic.Field(None, alias="Remark")

    client = make_client(kind)
    emu.queue("/things", emu.Reply(200, {"message": "lower"}), emu.Reply(200, {"remark": "x"}))
    answer = client.request_model(make_op(), Answer)
    assert (answer.message, answer.message_lowercase) == (None, "lower")
    loose = client.request_model(make_op(), Loose)  # "remark" is Remark, not the Python remark
    assert (loose.note, loose.remark) == ("x", None)
