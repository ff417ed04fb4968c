"""Secret scan: accounts with distinctive secrets, DEBUG logging on the root logger, and errors
provoked through the fault proxy, including a careless server that echoes the request (headers
and body) in its error body and headers. Every secret that went over the wire (read back at the
proxy: access tokens and one-time codes too) is searched in log lines, str/repr, `.message`,
`.body`, `.errors` (the server's error list), formatted tracebacks and the client's repr:
0 leaks."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, quote_plus

import ebuilder
import powerclerk
import pytest

from emulator.server import EmulatorServer
from emulator.settings import Client
from tests.conftest import PROGRAM_ID
from tests.fault_proxy import FaultProxy

PC_SECRET = "pcsecret-Q7x9Lm2Vt4"
PC_KEY = "pckey-Zr8Wd3Ny6Hb1"
TOTP_SECRET = "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU"
EB_PASSWORD = "ebpass-Hq5Tn8Rc2Wv7"
SHORT_PASSWORD = "e"  # one letter: must be masked where it is a credential, and nowhere else
PC_CLIENT = Client("scan-client", PC_SECRET, PC_KEY, is_admin=True, mfa_totp_secret=TOTP_SECRET)
EB_CLIENT = Client("scan-user", EB_PASSWORD)
EB_SHORT = Client("short-user", SHORT_PASSWORD)


@dataclass
class Case:
    name: str
    exc: BaseException
    client: Any


@pytest.fixture
def pc(emulator: EmulatorServer) -> Iterator[tuple[EmulatorServer, FaultProxy, str]]:
    emulator.settings.clients = (*emulator.settings.clients, PC_CLIENT)
    session = emulator.auth.create_mfa_session(PC_CLIENT, 60).token
    with FaultProxy(emulator.port, stall=3.0) as proxy:
        yield emulator, proxy, session


@pytest.fixture
def eb(eb_emulator: EmulatorServer) -> Iterator[tuple[EmulatorServer, FaultProxy]]:
    eb_emulator.settings.clients = (*eb_emulator.settings.clients, EB_CLIENT, EB_SHORT)
    with FaultProxy(eb_emulator.port, stall=3.0) as proxy:
        yield eb_emulator, proxy


def _token_url(server: EmulatorServer, proxy: FaultProxy) -> str:
    return proxy.url + server.token_url.removeprefix(server.base_url)


def _caught(call: Callable[[], Any]) -> BaseException:
    try:
        call()
    except Exception as exc:  # the scan looks at whatever comes out
        return exc
    raise AssertionError("the provoked call did not fail")


def _sinks(case: Case) -> dict[str, str]:
    exc = case.exc
    sinks = {
        "str": str(exc),
        "repr": repr(exc),
        "message": str(getattr(exc, "message", "")),
        "body": json.dumps(getattr(exc, "body", None), default=str),
        "errors": json.dumps(getattr(exc, "errors", None), default=str),
        "traceback": "".join(traceback.format_exception(exc)),
        "client repr": repr(case.client),
    }
    if isinstance(exc, ebuilder.BulkInterruptedError):
        sinks["bulk result"] = repr(exc.result)
    return sinks


def _wire_secrets(proxy: FaultProxy) -> set[str]:
    """The access tokens, API keys and MFA values the client actually sent."""
    found: set[str] = set()
    for seen in proxy.seen:
        found |= set(re.findall(r"(?im)^authorization: *bearer +(\S+)", seen.head))
        found |= set(re.findall(r"(?im)^(?:x-apikey|mfa-[a-z-]+): *(\S+)", seen.head))
    return found


def _leaks(texts: dict[str, str], secrets: set[str]) -> list[str]:
    forms = {f for s in secrets for f in (s, quote(s, safe=""), quote_plus(s))}
    return [f"{where}: {form!r}" for where, text in texts.items() for form in forms
            if form in text]


def _scan(cases: list[Case], caplog: pytest.LogCaptureFixture, secrets: set[str]) -> int:
    """Assert 0 leaks over every case's sinks and the log; the number of texts searched."""
    texts = {f"{c.name} {where}": text for c in cases for where, text in _sinks(c).items()}
    texts |= {f"log {i} {r.name}": r.getMessage() for i, r in enumerate(caplog.records)}
    assert not _leaks(texts, secrets)
    return len(texts)


def _pc_client(server: EmulatorServer, proxy: FaultProxy, mfa: dict[str, str],
               cls: Any = powerclerk.PowerClerk) -> Any:
    return cls(base_url=proxy.url, token_url=_token_url(server, proxy),
               client_id=PC_CLIENT.client_id, client_secret=PC_SECRET, api_key=PC_KEY,
               rate_limit=None, timeout=1.0, max_retries=1, **mfa)


def test_powerclerk_scan(pc: tuple[EmulatorServer, FaultProxy, str],
                         caplog: pytest.LogCaptureFixture) -> None:
    server, proxy, session = pc
    caplog.set_level(logging.DEBUG)
    cases: list[Case] = []
    sent: set[str] = set()  # what went over the wire, read at the proxy before each reset
    token_path = server.token_url.removeprefix(server.base_url)
    provocations: list[tuple[str, dict[str, Any], Callable[[Any], Any]]] = [
        ("echo", {"path": "/Programs", "status": 400}, lambda c: c.programs.list()),
        ("echo", {"path": "/NewProject", "status": 500}, lambda c: c.projects.create(PROGRAM_ID)),
        ("echo", {"path": "/Programs", "status": 401, "times": 2}, lambda c: c.programs.list()),
        ("echo", {"path": "/Programs", "status": 429, "retry_after": "86400"},
         lambda c: c.programs.list()),
        ("echo", {"path": token_path, "status": 401}, lambda c: c.programs.list()),
        ("echo", {"path": token_path, "status": 200}, lambda c: c.programs.list()),
        ("reset_after", {"path": "/NewProject"}, lambda c: c.projects.create(PROGRAM_ID)),
        ("stall", {"path": "/NewProject"}, lambda c: c.projects.create(PROGRAM_ID)),
        ("invalid_json", {"path": "/Programs"}, lambda c: c.programs.list()),
    ]
    for label, mfa in (("totp", {"mfa_totp_secret": TOTP_SECRET}),
                       ("session", {"mfa_session_token": session})):
        for fault, options, call in provocations:
            sent |= _wire_secrets(proxy)
            proxy.reset()
            proxy.inject(fault, **options)
            with _pc_client(server, proxy, mfa) as client:
                exc = _caught(lambda: call(client))  # noqa: B023 (called at once)
            cases.append(Case(f"{label} {fault} {options}", exc, client))
            if fault == "echo" and options["status"] != 200:  # the echo reached the error
                assert "***" in json.dumps(getattr(exc, "body", None) or str(exc), default=str)
            if fault == "echo" and options["status"] != 200:
                assert exc.errors  # the echo reached the error list too, masked
                if options["path"] != token_path:  # token requests carry no Authorization
                    assert any("Authorization: Bearer ***" in e for e in exc.errors), exc.errors
    # the asyncio client, on the two echoes that matter most
    async def run(path: str) -> tuple[BaseException, Any]:
        async with _pc_client(server, proxy, {"mfa_totp_secret": TOTP_SECRET},
                              powerclerk.AsyncPowerClerk) as client:
            try:
                if path == "/Programs":
                    await client.programs.list()
                else:
                    await client.projects.create(PROGRAM_ID)
            except powerclerk.APIError as error:
                return error, client
        raise AssertionError("the provoked call did not fail")

    for status, path in ((400, "/Programs"), (500, "/NewProject")):
        proxy.inject("echo", path=path, status=status)
        exc, client = asyncio.run(run(path))
        cases.append(Case(f"async echo {status}", exc, client))
    secrets = {PC_SECRET, PC_KEY, TOTP_SECRET, session} | sent | _wire_secrets(proxy)
    assert len(secrets) >= 12  # the tokens and codes sent were seen at the proxy
    assert any("X-Echo-Authorization" in r.getMessage() for r in caplog.records)  # httpcore's
    texts = _scan(cases, caplog, secrets)
    assert len(cases) == 20 and texts > 120


def test_ebuilder_scan(eb: tuple[EmulatorServer, FaultProxy],
                       caplog: pytest.LogCaptureFixture) -> None:
    server, proxy = eb
    caplog.set_level(logging.DEBUG)
    token_path = server.token_url.removeprefix(server.base_url)
    cases: list[Case] = []
    sent: set[str] = set()
    records = [{"companyName": f"scan co {i}"} for i in range(6)]
    provocations: list[tuple[dict[str, Any], Callable[[Any], Any]]] = [
        ({"path": "/Companies/Import", "status": 400},
         lambda c: c.companies.import_(body={"data": records[:1]})),
        ({"path": "/Companies/Import", "status": 500, "skip": 1},
         lambda c: c.companies.import_many(records, batch_size=2)),
        ({"path": token_path, "status": 401}, lambda c: c.companies.import_(body={"data": []})),
        ({"path": token_path, "status": 200}, lambda c: c.companies.import_(body={"data": []})),
    ]
    for user in (EB_CLIENT, EB_SHORT):
        for options, call in provocations:
            sent |= _wire_secrets(proxy)
            proxy.reset()
            proxy.inject("echo", **options)
            client = ebuilder.EBuilder(base_url=proxy.url, token_url=_token_url(server, proxy),
                                       username=user.client_id, password=user.client_secret,
                                       timeout=1.0)
            with client:
                exc = _caught(lambda: call(client))  # noqa: B023 (called at once)
            cases.append(Case(f"{user.client_id} {options}", exc, client))
    secrets = {EB_PASSWORD} | sent | _wire_secrets(proxy)
    assert len(secrets) >= 3  # the access tokens sent were seen at the proxy
    texts = _scan(cases, caplog, secrets)
    assert len(cases) == 8 and texts > 40
    # The one-letter password: masked as a form value, every word with an "e" left as it was.
    short = [c for c in cases if c.name.startswith("short-user")]
    refused = next(c.exc for c in short if "'status': 401" in c.name)
    assert isinstance(refused, ebuilder.AuthenticationError)
    body = json.dumps(refused.body)
    assert "password=***" in body and f"password={SHORT_PASSWORD}&" not in body
    assert "Content-Type: application/x-www-form-urlencoded" in str(refused)
    assert "grant_type=password&username=short-user&password=***" in str(refused)
    assert not re.search(r"[A-Za-z0-9]\*\*\*|\*\*\*[A-Za-z0-9]", str(refused) + body)
