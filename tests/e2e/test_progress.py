"""Progress of bulk imports, through the generated e-Builder clients against the emulator over
loopback: `progress=True` draws rich's bar on a terminal (a plain one without rich) and writes
nothing when stderr is not a terminal; an `async def` callback is awaited by the async client and
refused by the sync one before anything is sent."""

from __future__ import annotations

import asyncio
import io
import re
import sys
from typing import Any

import pytest
from ebuilder import AsyncEBuilder, EBuilder

from emulator.server import EmulatorServer
from tests.conftest import EB_USER


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _kwargs(server: EmulatorServer) -> dict[str, Any]:
    return {"base_url": server.base_url, "username": EB_USER.client_id,
            "password": EB_USER.client_secret}


def _records(tag: str, count: int = 5) -> list[dict[str, str]]:
    return [{"companyName": f"{tag} {i}", "companyNumber": f"{tag}{i}"} for i in range(count)]


def test_no_terminal_no_output(eb_emulator: EmulatorServer,
                               capfd: pytest.CaptureFixture[str]) -> None:
    with EBuilder(**_kwargs(eb_emulator)) as eb:
        bulk = eb.companies.import_many(_records("Quiet"), batch_size=2, progress=True)
    assert bulk.ok and len(bulk.batches) == 3
    out, err = capfd.readouterr()
    assert (out, err) == ("", "")


def test_a_terminal_gets_rich_bar(eb_emulator: EmulatorServer,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    with EBuilder(**_kwargs(eb_emulator)) as eb:
        eb.companies.import_many(_records("Rich"), batch_size=2, progress=True)
    drawn = terminal.getvalue()
    assert "records" in drawn and "5/5" in drawn and "\x1b[" in drawn  # rich's escape codes
    assert "records/s" in drawn


def test_without_rich_a_terminal_gets_a_plain_bar(eb_emulator: EmulatorServer,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    monkeypatch.setitem(sys.modules, "rich.progress", None)  # import fails: rich not installed
    with EBuilder(**_kwargs(eb_emulator)) as eb:
        eb.companies.import_many(_records("Plain"), batch_size=2, progress=True)
    last = terminal.getvalue().rsplit("\r", 1)[-1]
    assert re.fullmatch(rf"\[{'#' * 30}\] 5/5 records, \d+ records/s\n", last), last
    assert terminal.getvalue().count("\r") == 3


def test_the_async_client_awaits_an_async_callback(eb_emulator: EmulatorServer) -> None:
    seen: list[tuple[int, int]] = []

    async def progress(done: int, total: int) -> None:
        await asyncio.sleep(0)  # only an awaited coroutine gets past this point
        seen.append((done, total))

    async def run() -> None:
        async with AsyncEBuilder(**_kwargs(eb_emulator)) as eb:
            await eb.companies.import_many(_records("Async"), batch_size=2, progress=progress)

    asyncio.run(run())
    assert seen == [(2, 5), (4, 5), (5, 5)]


def test_the_async_client_takes_a_plain_callback_too(eb_emulator: EmulatorServer) -> None:
    seen: list[tuple[int, int]] = []

    async def run() -> None:
        async with AsyncEBuilder(**_kwargs(eb_emulator)) as eb:
            await eb.companies.import_many(_records("Mixed"), batch_size=4,
                                           progress=lambda done, total: seen.append((done, total)))

    asyncio.run(run())
    assert seen == [(4, 5), (5, 5)]


def test_the_sync_client_refuses_an_async_callback_before_sending(
    eb_emulator: EmulatorServer,
) -> None:
    async def progress(done: int, total: int) -> None:
        raise AssertionError("never called")

    with EBuilder(**_kwargs(eb_emulator)) as eb:
        before = eb_emulator.traffic.requests
        with pytest.raises(TypeError, match="the sync client cannot await it"):
            eb.companies.import_many(_records("Refused"), batch_size=2, progress=progress)
        assert eb_emulator.traffic.requests == before
