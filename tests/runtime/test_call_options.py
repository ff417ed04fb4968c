"""The runtime's per-call options, raw and streamed responses and pages, against the scripted
API on loopback."""

from __future__ import annotations

import asyncio
import json

import httpx
import pydantic
import pytest


class Item(pydantic.BaseModel):
    id: int = pydantic.Field(alias="Id")


class Listing(pydantic.BaseModel):
    items: list[Item] = pydantic.Field(alias="Items")


class Echo(pydantic.BaseModel):
    method: str


@pytest.fixture
def list_op(rt, make_op):
    pagination = rt.Pagination("Limit", "Offset", 1000, "Items", "items")
    params = (
        rt.Param("limit", "Limit", "query", False),
        rt.Param("offset", "Offset", "query", False),
        rt.Param("kind", "Kind", "query", False),
    )
    return make_op("/items", params=params, pagination=pagination)


def test_extra_query_and_headers_win_over_the_generated_ones(rt, kind, make_client, make_op, emu):
    client = make_client(kind)
    params = (rt.Param("limit", "Limit", "query", False), rt.Param("kind", "Kind", "query", False))
    options = rt.RequestOptions(
        extra_query={"Kind": "extra", "More": ["a", "b"]},
        extra_headers={"accept": "text/plain", "X-Trace": "t1"},
    )
    client.request(make_op(params=params), query={"kind": "given", "limit": 5}, options=options)
    hit = emu.calls("/things")[0]
    assert hit.query == [("Limit", "5"), ("Kind", "extra"), ("More", "a"), ("More", "b")]
    assert hit.headers["accept"] == "text/plain" and hit.headers["x-trace"] == "t1"
    assert hit.headers["authorization"].startswith("Bearer ")  # always the client's


def test_extra_body_is_merged_into_the_json_body(rt, kind, make_client, make_op, emu):
    client = make_client(kind)
    op = make_op(method="POST", body="json")
    options = rt.RequestOptions(extra_body={"b": 2, "a": "over"})
    client.request(op, json={"a": 1, "c": 3}, options=options)
    client.request(op, options=options)  # no body of its own: the extra fields are the body
    first, second = (json.loads(hit.body) for hit in emu.calls())
    assert first == {"a": "over", "c": 3, "b": 2}
    assert second == {"b": 2, "a": "over"}


def test_extra_body_is_refused_where_there_is_no_json_object(rt, make_client, make_op, emu):
    client = make_client()
    op = make_op(method="POST", body="json")
    options = rt.RequestOptions(extra_body={"a": 1})
    with pytest.raises(ValueError, match="binary body"):
        client.request(op, content=b"raw bytes", options=options)
    with pytest.raises(ValueError, match="binary body"):
        client.upload(make_op(method="POST", body="binary"), b"raw", options=options)
    with pytest.raises(ValueError, match="JSON object"):
        client.request(op, json=[1, 2], options=options)
    assert not emu.calls()


def test_a_per_call_timeout_is_checked_and_may_be_an_httpx_timeout(rt, make_client, make_op, emu):
    client = make_client()
    with pytest.raises(ValueError, match="timeout must be > 0"):
        client.request(make_op(), options=rt.RequestOptions(timeout=0))
    assert not emu.calls()
    timeout = httpx.Timeout(5.0, connect=1.0)
    assert client.request(make_op(), options=rt.RequestOptions(timeout=timeout)).status_code == 200


def test_request_options_repr_shows_names_not_values(rt):
    options = rt.RequestOptions(
        timeout=3, extra_headers={"X-Token": "s3cr3t-value"}, extra_body={"password": "pw-1"}
    )
    text = repr(options)
    assert text == "RequestOptions(timeout=3, extra_headers=['X-Token'], extra_body=['password'])"
    assert "s3cr3t" not in text and "pw-1" not in text


def test_with_options_copies_and_refuses_bad_values(rt, make_client, make_op, emu):
    client = make_client()
    copy = client.with_options(max_retries=0, timeout=2.5)
    assert type(copy) is type(client) and copy is not client
    assert (client.max_retries, copy.max_retries) == (4, 0)
    emu.queue("/things", emu.Reply(503))
    with pytest.raises(rt.InternalServerError):
        copy.request(make_op())
    emu.queue("/things", emu.Reply(503))
    assert client.request(make_op()).status_code == 200  # the original still retries
    assert emu.tokens == 1  # one token cache for both
    for bad in ({"timeout": -1}, {"max_retries": -1}):
        with pytest.raises(ValueError):
            client.with_options(**bad)
    copy.close()  # the pool stays open
    assert client.request(make_op()).status_code == 200


async def test_async_with_options(rt, make_client, make_op, emu):
    async with make_client("async", raw=True) as client:
        copy = client.with_options(max_retries=0)
        emu.queue("/things", emu.Reply(503))
        with pytest.raises(rt.InternalServerError):
            await copy.request(make_op())
        await copy.aclose()
        assert (await client.request(make_op())).status_code == 200


def test_raw_response_wrapper_returns_the_response_and_the_result(rt, make_client, make_op, emu):
    client = make_client()
    op = make_op()

    def call(tag: str) -> Echo:
        return client.request_model(op, Echo, query={"tag": tag})

    raw = rt.to_raw_response_wrapper(call)("x")
    assert raw.status_code == 200 and raw.parse() == Echo(method="GET")
    assert raw.http_response.request.url.params["tag"] == "x"
    leaked = rt.to_raw_response_wrapper(call)(emu.CLIENT_SECRET)  # a secret in the URL
    for text in (repr(leaked), str(leaked)):
        assert text.startswith("<RawResponse [200] GET http") and "tag=***" in text
        assert emu.CLIENT_SECRET not in text
    emu.queue("/things", emu.Reply(200, ["not", "an", "echo"]))
    bad = rt.to_raw_response_wrapper(call)("y")
    assert bad.status_code == 200
    with pytest.raises(rt.ResponseValidationError):
        bad.parse()
    emu.queue("/things", emu.Reply(404, {"Message": "gone"}))
    with pytest.raises(rt.NotFoundError):  # an error status is raised as by the method
        rt.to_raw_response_wrapper(call)("z")


async def test_async_raw_wrapper_keeps_concurrent_calls_apart(rt, make_client, make_op, emu):
    async with make_client("async", raw=True) as client:
        op = make_op()

        async def call(tag: str) -> Echo:
            await asyncio.sleep(0.01 if tag == "a" else 0)
            return await client.request_model(op, Echo, query={"tag": tag})

        wrapped = rt.async_to_raw_response_wrapper(call)
        raws = await asyncio.gather(*(wrapped(tag) for tag in "abc"))
    assert [r.http_response.request.url.params["tag"] for r in raws] == ["a", "b", "c"]


def test_streamed_response_is_retried_then_read_in_chunks(rt, kind, make_client, make_op, emu):
    emu.blob = bytes(range(256)) * 4096  # 1 MiB
    emu.queue("/blob", emu.Reply(503))
    op = make_op("/blob", response="binary")
    if kind == "sync":
        client = make_client()
        with client.stream(op) as response:
            assert response.status_code == 200
            chunks = list(response.iter_bytes(64 * 1024))
            assert repr(response).startswith("<StreamedResponse [200] GET http")
        assert response.http_response.is_closed
    else:
        async def read() -> list[bytes]:
            async with make_client("async", raw=True) as client:
                async with client.stream(op) as response:
                    return [chunk async for chunk in response.iter_bytes(64 * 1024)]

        chunks = asyncio.run(read())
    assert len(chunks) == 16 and b"".join(chunks) == emu.blob
    assert len(emu.calls("/blob")) == 2


def test_stream_arguments_are_checked_before_anything_is_sent(rt, make_client, make_op, emu):
    op = make_op("/blob/{Id}", response="binary", params=(rt.Param("id", "Id", "path", True),))
    with pytest.raises(ValueError, match="missing path parameter"):
        make_client().stream(op)
    assert not emu.calls()


def test_pages_and_their_cursor(make_client, list_op, emu):
    emu.items = 5
    client = make_client()
    page = client.page(list_op, Listing, query={"kind": "k"}, page_size=2)
    assert [i.id for i in page.items] == [0, 1] and page.has_next_page()
    assert repr(page) == "Page(items=2, has_next_page=True)"
    assert [i.id for i in page] == [0, 1, 2, 3, 4]
    assert [dict(h.query) for h in emu.calls("/items")] == [
        {"Kind": "k", "Limit": "2", "Offset": str(offset)} for offset in (0, 2, 4)
    ]
    with pytest.raises(ValueError, match="between 1 and 1000"):
        client.page(list_op, Listing, page_size=0)


async def test_async_pages(make_client, list_op, emu):
    emu.items = 4
    async with make_client("async", raw=True) as client:
        page = await client.page(list_op, Listing, page_size=2)
        assert [i.id async for i in page] == [0, 1, 2, 3]
        pages = [p async for p in page.iter_pages()]
        assert [len(p.items) for p in pages] == [2, 2, 0] and not pages[-1].has_next_page()
        with pytest.raises(RuntimeError):
            await pages[-1].next_page()
