"""Per-call options, `with_options`, raw and streamed responses and pages of the generated
PowerClerk clients, against the emulator over loopback (faults from the real fault proxy)."""

from __future__ import annotations

import math
import time
import tracemalloc
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from powerclerk import (
    APIConnectionError,
    APITimeoutError,
    AsyncPowerClerk,
    InternalServerError,
    PowerClerk,
    ResponseValidationError,
)
from powerclerk.types import NewProjectResponse, ProgramsResponse

from emulator.server import EmulatorServer
from tests.conftest import ADMIN
from tests.e2e.conftest import PROGRAM_ID, client_kwargs
from tests.fault_proxy import FaultProxy

APPLICATION = "APPLICATION"
UTILITY_BILL = "UTILITY_BILL"
STALL = 1.5  # seconds the proxy holds a stalled request before it hangs up


@pytest.fixture
def proxy(emulator: EmulatorServer) -> Iterator[FaultProxy]:
    with FaultProxy(emulator.port, stall=STALL) as proxy:
        yield proxy


def _through(emulator: EmulatorServer, proxy: FaultProxy, cls: Any = PowerClerk, **kw: Any) -> Any:
    """A client whose API calls go through the proxy (its tokens straight to the emulator)."""
    return cls(**client_kwargs(emulator, ADMIN, base_url=proxy.url, **kw))


def _seen(proxy: FaultProxy, path: str) -> list[Any]:
    return [s for s in proxy.seen if path in s.target]


# ----------------------------------------------------------------------------- timeout


def test_a_per_call_timeout_wins_over_the_clients_both_ways(
    emulator: EmulatorServer, proxy: FaultProxy
) -> None:
    with _through(emulator, proxy, timeout=30.0, max_retries=0) as pc:
        proxy.inject("stall", path="/Programs")
        started = time.monotonic()
        with pytest.raises(APITimeoutError):
            pc.programs.list(timeout=0.3)
        assert time.monotonic() - started < STALL - 0.5
    with _through(emulator, proxy, timeout=0.3, max_retries=0) as pc:
        proxy.inject("stall", path="/Programs")
        started = time.monotonic()
        with pytest.raises(APIConnectionError) as info:  # the proxy hangs up first
            pc.programs.list(timeout=STALL + 5)
        assert not isinstance(info.value, APITimeoutError)
        assert time.monotonic() - started >= STALL - 0.1


async def test_a_per_call_timeout_applies_to_the_async_client(
    emulator: EmulatorServer, proxy: FaultProxy
) -> None:
    async with _through(emulator, proxy, AsyncPowerClerk, timeout=30.0, max_retries=0) as pc:
        proxy.inject("stall", path="/Programs")
        started = time.monotonic()
        with pytest.raises(APITimeoutError):
            await pc.programs.list(timeout=0.3)
        assert time.monotonic() - started < STALL - 0.5


# ----------------------------------------------------------------------------- extra_*


def test_extra_headers_query_and_body_reach_the_server(
    emulator: EmulatorServer, proxy: FaultProxy
) -> None:
    with _through(emulator, proxy) as pc:
        number = _submitted(pc)
        owner = pc.projects.set_owner(
            PROGRAM_ID,
            number,
            owner_email="body@example.com",
            extra_headers={"X-Trace-Id": "trace-77", "user-agent": "mine/1.0"},
            extra_query={"trace": "q-77"},
            extra_body={"OwnerEmail": "extra@example.com"},
        )
    assert owner.email == "extra@example.com"  # extra_body's field won, and was applied
    (seen,) = _seen(proxy, "/Owner")
    assert "trace=q-77" in seen.target
    head = seen.head.lower()
    assert "x-trace-id: trace-77" in head
    assert "user-agent: mine/1.0" in head and head.count("user-agent:") == 1


async def test_extra_body_becomes_the_body_of_a_call_without_one(
    emulator: EmulatorServer, proxy: FaultProxy
) -> None:
    async with _through(emulator, proxy, AsyncPowerClerk) as pc:
        await pc.projects.create(PROGRAM_ID, extra_body={"Ignored": True}, extra_query={"a": 1})
    (seen,) = _seen(proxy, "/NewProject")
    assert "a=1" in seen.target and "content-type: application/json" in seen.head.lower()


def test_extra_body_is_refused_for_a_binary_body(
    make_client: Callable[..., PowerClerk], emulator: EmulatorServer
) -> None:
    with make_client() as pc:
        project_id = pc.projects.create(PROGRAM_ID).project_id
        before = emulator.traffic.requests
        with pytest.raises(ValueError, match="binary body"):
            pc.attachments.upload(
                PROGRAM_ID, project_id, APPLICATION, UTILITY_BILL, b"x", extra_body={"a": 1}
            )
        assert emulator.traffic.requests == before  # nothing sent


# ----------------------------------------------------------------------------- with_options


def test_with_options_copies_share_the_token_but_not_the_settings(
    emulator: EmulatorServer, proxy: FaultProxy
) -> None:
    with _through(emulator, proxy, max_retries=2) as pc:
        pc.programs.list()
        tokens = emulator.traffic.token_requests
        strict = pc.with_options(max_retries=0, timeout=0.3)
        assert (pc.max_retries, strict.max_retries) == (2, 0)
        assert strict.programs is not pc.programs
        proxy.inject("unavailable", path="/Programs")
        with pytest.raises(InternalServerError):  # the copy's budget: no retry
            strict.programs.list()
        proxy.inject("unavailable", path="/Programs")
        assert pc.programs.list()  # the original still retries
        proxy.inject("stall", path="/Programs")
        with pytest.raises(APITimeoutError):  # the copy's timeout
            strict.programs.list()
        strict.close()  # leaves the shared pool open
        assert pc.programs.list()
        assert emulator.traffic.token_requests == tokens  # one token for both
        with pytest.raises(ValueError, match="max_retries"):
            pc.with_options(max_retries=-1)


# ----------------------------------------------------------------------------- raw responses


def test_raw_response_has_status_headers_and_the_typed_result(
    make_client: Callable[..., PowerClerk],
) -> None:
    with make_client() as pc:
        raw = pc.with_raw_response.projects.create(PROGRAM_ID)
        assert raw.status_code == 200 and raw.headers["content-type"].startswith("application/json")
        assert isinstance(raw.http_response, httpx.Response)
        created = raw.parse()  # what the method returns: the project inside the answer
        assert created.project_id and isinstance(raw.answer, NewProjectResponse)
        assert raw.answer.project is created
        assert raw.http_response.json()["Project"]["ProjectId"] == created.project_id
        assert repr(raw).startswith("<RawResponse [200] POST http")
        for text in (repr(raw), str(raw)):
            assert ADMIN.client_secret not in text and ADMIN.api_key not in text
        assert pc.with_raw_response.projects.set_owner.__name__ == "set_owner"


async def test_async_raw_response(make_async_client: Callable[..., AsyncPowerClerk]) -> None:
    async with make_async_client() as pc:
        raw = await pc.with_raw_response.programs.list()
        assert raw.status_code == 200
        assert isinstance(raw.answer, ProgramsResponse)
        assert raw.parse() == raw.answer.programs
        assert [p.program_id for p in raw.parse()] == [
            p.program_id for p in await pc.programs.list()
        ]


def test_raw_response_keeps_status_when_the_body_does_not_parse(
    emulator: EmulatorServer, proxy: FaultProxy
) -> None:
    with _through(emulator, proxy) as pc:
        proxy.inject("wrong_shape", path="/Programs")
        raw = pc.with_raw_response.programs.list()
        assert raw.status_code == 200
        with pytest.raises(ResponseValidationError):
            raw.parse()


# ----------------------------------------------------------------------------- streaming


def _with_bill(pc: PowerClerk, data: bytes) -> str:
    project_id = pc.projects.create(PROGRAM_ID).project_id
    pc.attachments.upload(PROGRAM_ID, project_id, APPLICATION, UTILITY_BILL, data,
                          filename="bill.bin")
    return project_id


def test_streaming_download_yields_chunks_without_reading_the_body(
    make_client: Callable[..., PowerClerk],
) -> None:
    data = bytes(range(256)) * (64 * 1024)  # 16 MiB
    with make_client() as pc:
        project_id = _with_bill(pc, data)
        stream = pc.with_streaming_response.attachments.download
        tracemalloc.start()
        try:
            with stream(PROGRAM_ID, project_id, UTILITY_BILL) as response:
                assert response.status_code == 200
                assert int(response.headers["content-length"]) == len(data)
                count, size, first = 0, 0, b""
                for chunk in response.iter_bytes(64 * 1024):
                    first = first or chunk
                    count, size = count + 1, size + len(chunk)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert response.http_response.is_closed
    assert size == len(data) and count > 1 and first == data[: len(first)]
    assert peak < 8 * 1024 * 1024, peak  # never the whole body in memory


async def test_async_streaming_download(
    make_client: Callable[..., PowerClerk], make_async_client: Callable[..., AsyncPowerClerk]
) -> None:
    data = b"0123456789" * 50_000
    with make_client() as sync_pc:
        project_id = _with_bill(sync_pc, data)
    async with make_async_client() as pc:
        stream = pc.with_streaming_response.attachments.download
        async with stream(PROGRAM_ID, project_id, UTILITY_BILL) as response:
            chunks = [chunk async for chunk in response.iter_bytes(10_000)]
    assert len(chunks) > 1 and b"".join(chunks) == data


# ----------------------------------------------------------------------------- pages


def _submitted(pc: PowerClerk) -> str:
    """A new submitted project's number."""
    project_id = pc.projects.create(PROGRAM_ID).project_id
    pc.projects.set_draft_data(PROGRAM_ID, project_id, APPLICATION, body={"Project": {
        "DataFields": [{"DataFieldId": "INSTALLER_NAME", "Value": "Pages Solar"},
                       {"DataFieldId": "SYSTEM_SIZE", "Value": "4"}]}})
    number = pc.projects.submit(PROGRAM_ID, project_id, APPLICATION).project_number
    assert number
    return number


def test_pages_walk_every_item_and_stop(
    make_client: Callable[..., PowerClerk], emulator: EmulatorServer
) -> None:
    with make_client() as pc:
        for _ in range(4):
            pc.projects.create(PROGRAM_ID)
        total = len(pc.projects.list(PROGRAM_ID, limit=1000).projects)
        before = emulator.traffic.requests
        first = pc.projects.list_page(PROGRAM_ID, page_size=3)
        assert len(first.items) == 3 and first.has_next_page()
        assert emulator.traffic.requests - before == 1  # one page, one request
        second = first.next_page()
        assert {p.project_id for p in second.items}.isdisjoint(p.project_id for p in first.items)
        pages = list(first.iter_pages())
        assert not pages[-1].has_next_page()
        with pytest.raises(RuntimeError, match="has_next_page"):
            pages[-1].next_page()
        everything = [p.project_id for p in first]
        assert len(everything) == len(set(everything)) == total
        assert everything == [p.project_id for p in pc.projects.iter(PROGRAM_ID, page_size=3)]
        assert len(pages) == math.ceil(total / 3) + (total % 3 == 0)
        assert first.response.projects == first.items  # the page as the API sent it
        assert repr(first) == "Page(items=3, has_next_page=True)"


async def test_async_pages(make_async_client: Callable[..., AsyncPowerClerk]) -> None:
    async with make_async_client() as pc:
        for _ in range(3):
            await pc.projects.create(PROGRAM_ID)
        first = await pc.projects.list_page(PROGRAM_ID, page_size=2)
        assert len(first.items) == 2 and first.has_next_page()
        second = await first.next_page()
        assert second.items and second.items[0] not in first.items
        everything = [p.project_id async for p in first]
        assert everything == [p.project_id async for p in pc.projects.iter(PROGRAM_ID)]
        last = [page async for page in first.iter_pages()][-1]
        assert not last.has_next_page()
        with pytest.raises(RuntimeError):
            await last.next_page()


def test_page_requests_carry_the_per_call_options(
    emulator: EmulatorServer, proxy: FaultProxy
) -> None:
    with _through(emulator, proxy) as pc:
        for _ in range(3):
            pc.projects.create(PROGRAM_ID)
        items = list(pc.projects.list_page(PROGRAM_ID, page_size=2, extra_query={"t": "1"}))
    listed = [s for s in _seen(proxy, "/Projects") if s.method == "GET"]
    assert len(listed) == math.ceil(len(items) / 2) + (len(items) % 2 == 0)
    assert all("t=1" in s.target for s in listed)
