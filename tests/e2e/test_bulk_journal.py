"""Resumable bulk imports (`journal=` of `*_many`), through the generated e-Builder clients against
the emulator over loopback, with a real TCP fault proxy (tests/fault_proxy) where an exchange must
break: a resumed run skips what was answered, sends what never left, reports what is in doubt
and re-sends it only when asked; a journal of other input or settings is refused before anything
is sent. What was applied is counted in the emulator's state."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ebuilder
import pytest

from emulator.server import EmulatorServer
from tests.conftest import EB_USER
from tests.fault_proxy import FaultProxy


def _eb(server: EmulatorServer, base_url: str | None = None) -> ebuilder.EBuilder:
    return ebuilder.EBuilder(base_url=base_url or server.base_url, token_url=server.token_url,
                             username=EB_USER.client_id, password=EB_USER.client_secret,
                             timeout=1.5, rate_limit=None)


def _records(prefix: str, count: int = 30) -> list[dict[str, Any]]:
    return [{"companyName": f"{prefix} {i:02d}"} for i in range(count)]


def _companies(server: EmulatorServer, prefix: str) -> int:
    return sum(1 for (key, *_) in server.state.companies if str(key).startswith(prefix.lower()))


def _states(journal: Path) -> list[str]:
    with sqlite3.connect(journal) as db:
        return [row[0] for row in db.execute("SELECT state FROM batches ORDER BY number")]


@pytest.fixture
def proxy(eb_emulator: EmulatorServer) -> Iterator[FaultProxy]:
    with FaultProxy(eb_emulator.port, stall=4.0) as running:
        yield running


def test_a_finished_run_resumed_sends_nothing_and_reports_every_outcome(
        eb_emulator: EmulatorServer, tmp_path: Path) -> None:
    journal = tmp_path / "import.sqlite"
    records = [*_records("done co", 25), {"companyName": "done co 00"}]  # a duplicate
    with _eb(eb_emulator) as eb:
        first = eb.companies.import_many(records, batch_size=10, journal=journal)
        before = eb_emulator.traffic.requests
        again = eb.companies.import_many(iter(records), batch_size=10, journal=journal)
    assert eb_emulator.traffic.requests == before  # nothing sent: every batch was confirmed
    assert _states(journal) == ["confirmed"] * 3 and again.resumed == 3 and not again.batches
    assert [(o.index, o.error_messages) for o in again.outcomes] == [
        (o.index, o.error_messages) for o in first.outcomes]
    assert [o.index for o in again.failed] == [25] and again.failed[0].error_messages
    assert _companies(eb_emulator, "done co") == 25


@pytest.mark.parametrize("fault", ["reset_after", "stall", "bad_gateway", "reset_before"])
def test_a_batch_in_doubt_is_reported_then_resent_only_when_asked(
        eb_emulator: EmulatorServer, proxy: FaultProxy, tmp_path: Path, fault: str) -> None:
    journal, records = tmp_path / "import.sqlite", _records(f"doubt {fault}")
    proxy.inject(fault, path="/Companies/Import", skip=1)
    with _eb(eb_emulator, proxy.url) as eb, pytest.raises(ebuilder.BulkInterruptedError):
        eb.companies.import_many(records, batch_size=10, journal=journal)
    applied = fault != "reset_before"  # the proxy forwarded batch 2 before breaking the exchange
    assert _states(journal) == ["confirmed", "in_doubt"]
    assert _companies(eb_emulator, "doubt") == (20 if applied else 10)

    with _eb(eb_emulator) as eb:
        resumed = eb.companies.import_many(records, batch_size=10, journal=journal)
    assert [o.index for o in resumed.in_doubt] == list(range(10, 20))
    assert all(o.in_doubt and "resend_in_doubt=True" in o.error_messages[0]
               for o in resumed.in_doubt)
    assert [o.index for o in resumed.outcomes if o.ok] == [*range(10), *range(20, 30)]
    assert proxy.count("/Companies/Import") == 2  # the resumed run went around the proxy
    assert _companies(eb_emulator, "doubt") == (30 if applied else 20)  # batch 2 not re-sent
    assert _states(journal) == ["confirmed", "in_doubt", "confirmed"]

    with _eb(eb_emulator) as eb:
        resent = eb.companies.import_many(records, batch_size=10, journal=journal,
                                          resend_in_doubt=True)
    assert len(resent.batches) == 1 and resent.resumed == 2 and not resent.in_doubt
    # Applied before: the server now refuses every record of it as a duplicate; else it takes them.
    duplicates = [o.index for o in resent.failed if "already exists" in o.error_messages[0]]
    assert duplicates == (list(range(10, 20)) if applied else [])
    assert _companies(eb_emulator, "doubt") == 30  # every record once, none twice
    assert _states(journal) == ["confirmed"] * 3


def test_a_batch_refused_outright_is_sent_by_the_next_run(
        eb_emulator: EmulatorServer, proxy: FaultProxy, tmp_path: Path) -> None:
    journal, records = tmp_path / "import.sqlite", _records("refused co")
    proxy.inject("rate_limited", path="/Companies/Import", skip=1, retry_after="86400")
    with _eb(eb_emulator, proxy.url) as eb, pytest.raises(ebuilder.BulkInterruptedError) as info:
        eb.companies.import_many(records, batch_size=10, journal=journal)
    assert not info.value.result.in_doubt and _states(journal) == ["confirmed", "planned"]
    with _eb(eb_emulator) as eb:
        resumed = eb.companies.import_many(records, batch_size=10, journal=journal)
    assert resumed.ok and resumed.resumed == 1 and len(resumed.batches) == 2
    assert _companies(eb_emulator, "refused co") == 30


def _changed(records: list[dict[str, Any]], at: int) -> list[dict[str, Any]]:
    return [*records[:at], {"companyName": "someone else"}, *records[at + 1:]]


@pytest.mark.parametrize(("other", "says"), [
    (lambda r: _changed(r, 14), "batch 2, records 11 to 20, differs"),
    (lambda r: r[:10], "the input has 10 record(s), the journal's batch 2 starts at record 11"),
    (lambda r: r[:15], "batch 2, records 11 to 15, differs"),
])
def test_a_journal_with_other_input_is_refused_before_anything_is_sent(
        eb_emulator: EmulatorServer, proxy: FaultProxy, tmp_path: Path, other: Any,
        says: str) -> None:
    journal, records = tmp_path / "import.sqlite", _records("mine co")
    proxy.inject("reset_after", path="/Companies/Import", skip=1)  # batch 2 in doubt, 3 not sent
    with _eb(eb_emulator, proxy.url) as eb, pytest.raises(ebuilder.BulkInterruptedError):
        eb.companies.import_many(records, batch_size=10, journal=journal)
    before = eb_emulator.traffic.requests
    with _eb(eb_emulator) as eb, pytest.raises(ebuilder.JournalMismatchError) as info:
        eb.companies.import_many(other(records), batch_size=10, journal=journal,
                                 resend_in_doubt=True)
    assert says in str(info.value) and str(journal) in str(info.value)
    assert "other input" in str(info.value)
    assert eb_emulator.traffic.requests == before
    assert _states(journal) == ["confirmed", "in_doubt"]  # the journal is left as it was


def test_a_finished_journal_with_longer_input_or_other_settings_is_refused(
        eb_emulator: EmulatorServer, tmp_path: Path) -> None:
    journal, records = tmp_path / "import.sqlite", _records("set co", 20)
    with _eb(eb_emulator) as eb:
        eb.companies.import_many(records, batch_size=10, journal=journal)
        before = eb_emulator.traffic.requests
        with pytest.raises(ebuilder.JournalMismatchError, match="ended after 20 record"):
            eb.companies.import_many([*records, {"companyName": "one more"}], batch_size=10,
                                     journal=journal)
        with pytest.raises(ebuilder.JournalMismatchError) as info:
            eb.companies.import_many(records, batch_size=5, journal=journal)
        assert "batch_size 10 there, 5 here" in str(info.value)
        with pytest.raises(ebuilder.JournalMismatchError, match="keep"):
            eb.companies.import_many(records, batch_size=10, journal=journal,
                                     options={"updateDuplicates": True})
        with pytest.raises(ebuilder.JournalMismatchError, match="operation"):
            eb.projects.import_many([{"projectName": "x"}], batch_size=10, journal=journal)
    assert eb_emulator.traffic.requests == before


def test_records_stream_from_a_generator_one_batch_at_a_time(
        eb_emulator: EmulatorServer, tmp_path: Path) -> None:
    taken: list[int] = []
    seen: list[tuple[int, int | None]] = []

    def rows() -> Iterator[dict[str, Any]]:
        for i in range(25):
            taken.append(i)
            yield {"companyName": f"stream co {i:02d}"}

    def progress(done: int, total: int | None) -> None:
        seen.append((done, total))
        assert len(taken) <= done + 10  # never more than one batch read ahead

    with _eb(eb_emulator) as eb:
        bulk = eb.companies.import_many(rows(), batch_size=10, progress=progress,
                                        journal=tmp_path / "j.sqlite")
    assert bulk.ok and seen == [(10, None), (20, None), (25, None)]
    assert _companies(eb_emulator, "stream co") == 25


def test_async_client_resumes_from_the_same_journal(
        eb_emulator: EmulatorServer, proxy: FaultProxy, tmp_path: Path) -> None:
    journal, records = tmp_path / "import.sqlite", _records("async j co", 6)
    proxy.inject("reset_after", path="/Companies/Import", skip=1)

    async def run(base_url: str, resend: bool) -> Any:
        async with ebuilder.AsyncEBuilder(
            base_url=base_url, token_url=eb_emulator.token_url, username=EB_USER.client_id,
            password=EB_USER.client_secret, timeout=1.5,
        ) as eb:
            try:
                return await eb.companies.import_many(records, batch_size=2, journal=journal,
                                                      resend_in_doubt=resend)
            except ebuilder.BulkInterruptedError as exc:
                return exc

    first = asyncio.run(run(proxy.url, False))
    assert isinstance(first, ebuilder.BulkInterruptedError)
    resumed = asyncio.run(run(eb_emulator.base_url, False))
    assert [o.index for o in resumed.in_doubt] == [2, 3] and resumed.resumed == 2
    assert _companies(eb_emulator, "async j co") == 6
    assert _states(journal) == ["confirmed", "in_doubt", "confirmed"]


def test_records_the_model_rejects_are_journaled_with_their_batch(
        eb_emulator: EmulatorServer, tmp_path: Path) -> None:
    journal = tmp_path / "import.sqlite"
    records = [{"companyName": "kept co 1"}, {"companyName": "kept co 2", "isActive": "maybe"},
               {"companyName": "bad co 3", "isActive": float("nan")}, {"companyName": 4j}]
    with _eb(eb_emulator) as eb:
        first = eb.companies.import_many(records, batch_size=2, journal=journal)
        before = eb_emulator.traffic.requests
        again = eb.companies.import_many(records, batch_size=2, journal=journal)
    assert [o.index for o in first.failed] == [1, 2, 3]  # batch 2: nothing left to send
    assert len(first.batches) == 1 and _states(journal) == ["confirmed", "confirmed"]
    assert eb_emulator.traffic.requests == before and again.resumed == 2
    assert [(o.index, o.error_messages) for o in again.outcomes] == [
        (o.index, o.error_messages) for o in first.outcomes]
    assert "isActive" in again.outcomes[1].error_messages[0]
