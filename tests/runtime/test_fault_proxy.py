"""The generated clients against the emulators through a real TCP fault proxy (tests/fault_proxy):
every fault x {idempotent, not idempotent} x Retry-After, with what arrived counted at the proxy
and what was applied counted in the emulator's state. A call that is not idempotent is never
sent twice, and when it may have been applied the error says so."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import ebuilder
import powerclerk
import pytest

from emulator.server import EmulatorServer
from tests.conftest import ADMIN, EB_USER, PROGRAM_ID
from tests.fault_proxy import FAULTS, FaultProxy

TIMEOUT = 1.5  # the client's; a stall lasts longer
STALL = 4.0
BIG_WAIT = "86400"  # a day: more than max_retry_wait
# Faults after which the request may have been applied (or, seen from the client, might have).
TRANSPORT = ("reset_before", "reset_after", "close_before", "close_after", "stall",
             "stall_body", "truncated")
HEADED = tuple(name for name, (_, head) in FAULTS.items() if head and name != "echo")


def _cases() -> list[tuple[str, str | None]]:
    cases: list[tuple[str, str | None]] = []
    for name in FAULTS:
        if name == "echo":  # the secret scan's
            continue
        cases.append((name, None))
        if name in HEADED:
            cases += [(name, "1"), (name, BIG_WAIT)]
    return cases


CASES = _cases()


@pytest.fixture
def pc_proxy(emulator: EmulatorServer) -> Iterator[FaultProxy]:
    with FaultProxy(emulator.port, stall=STALL) as proxy:
        yield proxy


@pytest.fixture
def eb_proxy(eb_emulator: EmulatorServer) -> Iterator[FaultProxy]:
    with FaultProxy(eb_emulator.port, stall=STALL) as proxy:
        yield proxy


def _pc(emulator: EmulatorServer, proxy: FaultProxy, cls: Any = powerclerk.PowerClerk) -> Any:
    return cls(
        base_url=proxy.url, token_url=emulator.token_url, client_id=ADMIN.client_id,
        client_secret=ADMIN.client_secret, api_key=ADMIN.api_key, rate_limit=None,
        timeout=TIMEOUT, max_retries=2,
    )


def _eb(emulator: EmulatorServer, proxy: FaultProxy) -> ebuilder.EBuilder:
    return ebuilder.EBuilder(
        base_url=proxy.url, token_url=emulator.token_url, username=EB_USER.client_id,
        password=EB_USER.client_secret, timeout=TIMEOUT, max_retries=2,
    )


def _check_unknown(exc: BaseException, pkg: Any, name: str, wire_name: str) -> None:
    """The error of a non-idempotent call whose request may have been applied."""
    assert isinstance(exc, pkg.OutcomeUnknownError), repr(exc)
    assert exc.operation == wire_name
    assert exc.method == "POST" and "/" in exc.url
    assert "outcome unknown" in str(exc) and "not sent again" in str(exc)
    if name in ("stall", "stall_body"):
        assert isinstance(exc, pkg.OutcomeUnknownTimeoutError | pkg.APITimeoutError)
    elif name in TRANSPORT:
        assert isinstance(exc, pkg.OutcomeUnknownConnectionError | pkg.APIConnectionError)
    else:
        assert isinstance(exc, pkg.OutcomeUnknownServerError | pkg.InternalServerError)


@pytest.mark.parametrize(("name", "retry_after"), CASES)
def test_not_idempotent_create(emulator: EmulatorServer, pc_proxy: FaultProxy, name: str,
                               retry_after: str | None) -> None:
    """projects.create (POST NewProject) once through the fault: never re-sent, 0 duplicates."""
    before = len(emulator.state.projects)
    pc_proxy.inject(name, path="/NewProject", retry_after=retry_after)
    forwarded, _ = FAULTS[name]
    with _pc(emulator, pc_proxy) as pc:
        if name == "rate_limited" and retry_after != BIG_WAIT:
            # A rate-limited request was not processed: repeating it is safe, even for a POST.
            pc.projects.create(PROGRAM_ID)
            assert pc_proxy.count("/NewProject") == 2
            assert len(emulator.state.projects) == before + 1
            return
        with pytest.raises(powerclerk.APIError) as info:
            pc.projects.create(PROGRAM_ID)
    exc = info.value
    assert pc_proxy.count("/NewProject") == 1  # not sent again
    applied = len(emulator.state.projects) - before
    assert applied == (1 if forwarded else 0)  # the proxy's word: 0 duplicates
    if name == "rate_limited":
        assert isinstance(exc, powerclerk.RateLimitError) and exc.retry_after == 86400
        assert "max_retry_wait" in str(exc)
    elif name in ("invalid_json", "wrong_shape"):
        assert isinstance(exc, powerclerk.ResponseValidationError)
        assert "answered 200, so the request was processed" in str(exc)
    else:
        _check_unknown(exc, powerclerk, name, "CreateNewProject")
        if retry_after is not None and name in ("unavailable", "bad_gateway"):
            assert isinstance(exc, powerclerk.APIStatusError)
            assert exc.retry_after == float(retry_after)


@pytest.mark.parametrize(("name", "retry_after"), CASES)
def test_idempotent_list(emulator: EmulatorServer, pc_proxy: FaultProxy, name: str,
                         retry_after: str | None) -> None:
    """programs.list (GET) once through the fault: retried when the answer was lost, unless the
    server asks to wait longer than max_retry_wait."""
    pc_proxy.inject(name, path="/Programs", retry_after=retry_after)
    with _pc(emulator, pc_proxy) as pc:
        if name in ("invalid_json", "wrong_shape"):
            with pytest.raises(powerclerk.ResponseValidationError):
                pc.programs.list()
            assert pc_proxy.count("/Programs") == 1  # a 2xx is an answer: not repeated
            return
        if retry_after == BIG_WAIT and name in ("unavailable", "bad_gateway", "rate_limited"):
            with pytest.raises(powerclerk.APIStatusError) as info:
                pc.programs.list()
            exc = info.value
            assert exc.retry_after == 86400 and "max_retry_wait=60" in str(exc)
            expected = powerclerk.RateLimitError if name == "rate_limited" else (
                powerclerk.InternalServerError)
            assert isinstance(exc, expected)
            assert not isinstance(exc, powerclerk.OutcomeUnknownError)  # a GET: safe to repeat
            assert pc_proxy.count("/Programs") == 1
            return
        programs = pc.programs.list()
    assert [p.program_id for p in programs] == [PROGRAM_ID]
    assert pc_proxy.count("/Programs") == 2  # the fault, then one retry


@pytest.mark.parametrize("name", [*TRANSPORT, "unavailable", "bad_gateway"])
def test_not_idempotent_async(emulator: EmulatorServer, pc_proxy: FaultProxy, name: str) -> None:
    """The asyncio client takes the same decisions."""
    before = len(emulator.state.projects)
    pc_proxy.inject(name, path="/NewProject")

    async def run() -> BaseException:
        async with _pc(emulator, pc_proxy, powerclerk.AsyncPowerClerk) as pc:
            with pytest.raises(powerclerk.APIError) as info:
                await pc.projects.create(PROGRAM_ID)
            return info.value

    exc = asyncio.run(run())
    _check_unknown(exc, powerclerk, name, "CreateNewProject")
    assert pc_proxy.count("/NewProject") == 1
    assert len(emulator.state.projects) - before == (1 if FAULTS[name][0] else 0)


def _companies(server: EmulatorServer, prefix: str) -> int:
    return sum(1 for (key, *_) in server.state.companies if str(key).startswith(prefix))


@pytest.mark.parametrize("name", [*TRANSPORT, "unavailable", "bad_gateway", "invalid_json",
                                  "wrong_shape", "rate_limited"])
def test_bulk_import_interrupted_in_batch_two(eb_emulator: EmulatorServer, eb_proxy: FaultProxy,
                                              name: str) -> None:
    """import_many of 3 batches, the 2nd broken: the 1st batch's outcomes are kept, the 2nd's
    records are in doubt (or not applied), the 3rd is not sent, and nothing is sent twice."""
    records = [{"companyName": f"fault co {i:02d}"} for i in range(30)]
    eb_proxy.inject(name, path="/Companies/Import", skip=1, retry_after=BIG_WAIT)
    with _eb(eb_emulator, eb_proxy) as eb, pytest.raises(ebuilder.BulkInterruptedError) as info:
        eb.companies.import_many(records, batch_size=10)
    exc = info.value
    bulk = exc.result
    assert isinstance(exc, ebuilder.BatchFailedError) and exc.error is exc.__cause__
    assert bulk.error is exc.error and bulk.stopped
    assert [o.index for o in bulk.batches[0].outcomes] == list(range(10))
    assert all(o.ok for o in bulk.batches[0].outcomes)
    assert [o.index for o in bulk.outcomes] == list(range(20))
    assert [o.index for o in bulk.not_sent] == list(range(20, 30))
    forwarded = FAULTS[name][0]
    doubt = name not in ("rate_limited",)
    assert [o.index for o in bulk.in_doubt] == (list(range(10, 20)) if doubt else [])
    assert all(o.in_doubt == doubt and not o.ok for o in bulk.outcomes[10:])
    assert f"{len(bulk.in_doubt)} record(s) are in doubt" in str(exc)
    assert eb_proxy.count("/Companies/Import") == 2  # batch 2 not re-sent, batch 3 not sent
    assert _companies(eb_emulator, "fault co") == (20 if forwarded else 10)  # 0 duplicates



def test_a_rejected_api_key_does_not_loop_on_token_refreshes(emulator: EmulatorServer) -> None:
    """PowerClerk checks the API key on every call: a wrong one is a 401 that no new token
    cures, so after one fresh token is refused as well the client fetches no more."""
    with powerclerk.PowerClerk(
        base_url=emulator.base_url, token_url=emulator.token_url, client_id=ADMIN.client_id,
        client_secret=ADMIN.client_secret, api_key="not-the-key", rate_limit=None,
    ) as pc:
        for _ in range(5):
            with pytest.raises(powerclerk.AuthenticationError) as info:
                pc.programs.list()
    assert emulator.traffic.token_requests == 2
    assert "a new access token was refused as well" in str(info.value)
    assert "not-the-key" not in str(info.value)


def test_bulk_import_interrupted_async(eb_emulator: EmulatorServer, eb_proxy: FaultProxy) -> None:
    records = [{"companyName": f"async co {i:02d}"} for i in range(6)]
    eb_proxy.inject("reset_after", path="/Companies/Import", skip=1)

    async def run() -> ebuilder.BulkInterruptedError:
        async with ebuilder.AsyncEBuilder(
            base_url=eb_proxy.url, token_url=eb_emulator.token_url, username=EB_USER.client_id,
            password=EB_USER.client_secret, timeout=TIMEOUT,
        ) as eb:
            with pytest.raises(ebuilder.BulkInterruptedError) as info:
                await eb.companies.import_many(records, batch_size=2)
            return info.value

    bulk = asyncio.run(run()).result
    assert isinstance(bulk.error, ebuilder.OutcomeUnknownConnectionError)
    assert [o.index for o in bulk.batches[0].outcomes] == [0, 1]
    assert [o.index for o in bulk.in_doubt] == [2, 3]
    assert [o.index for o in bulk.not_sent] == [4, 5]
    assert eb_proxy.count("/Companies/Import") == 2
    assert _companies(eb_emulator, "async co") == 4
