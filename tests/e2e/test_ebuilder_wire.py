"""What the generated e-Builder clients put on the wire, seen by a recording proxy on 127.0.0.1
in front of the emulator: amounts the docs give as strings (D2), and the documented 301 ("The
requested resource should be accessed through the returned URI in the Location header")."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
import pytest
from ebuilder import AsyncEBuilder, EBuilder, RequestValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from emulator.server import EmulatorServer
from tests.conftest import EB_USER
from tests.loopback import serve

MOVED = "/old"  # the proxy answers 301 for every path under it, to the same path without it
_KEPT_REQUEST_HEADERS = ("authorization", "content-type", "accept", "user-agent")


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    authorization: str | None
    body: bytes


class RecordingProxy:
    def __init__(self) -> None:
        self.upstream = ""
        self.lock = threading.Lock()
        self.seen: list[Seen] = []

    def imports(self) -> list[Seen]:
        with self.lock:
            return [s for s in self.seen if s.path.endswith("/Import")]

    async def handle(self, request: Request) -> Response:
        body = await request.body()
        path = request.url.path
        with self.lock:
            self.seen.append(Seen(request.method, path, request.headers.get("authorization"), body))
        if path.startswith(MOVED + "/"):
            return Response(status_code=301, headers={"Location": path.removeprefix(MOVED)})
        headers = {k: v for k, v in request.headers.items() if k in _KEPT_REQUEST_HEADERS}
        async with httpx.AsyncClient() as http:
            answer = await http.request(
                request.method,
                self.upstream + path,
                params=request.url.query,
                content=body,
                headers=headers,
            )
        kept = {k: v for k, v in answer.headers.items() if k in ("content-type", "allow")}
        return Response(answer.content, answer.status_code, headers=kept)


@pytest.fixture(scope="module")
def proxy_url(ebuilder_emulator: EmulatorServer) -> Iterator[tuple[RecordingProxy, str]]:
    proxy = RecordingProxy()
    proxy.upstream = ebuilder_emulator.base_url
    methods = ["GET", "POST", "PUT"]
    with serve(Starlette(routes=[Route("/{rest:path}", proxy.handle, methods=methods)])) as url:
        yield proxy, url


@pytest.fixture
def proxy(
    proxy_url: tuple[RecordingProxy, str], eb_emulator: EmulatorServer
) -> tuple[RecordingProxy, str]:
    recorder, _ = proxy_url
    with recorder.lock:
        recorder.seen.clear()
    return proxy_url


def _kwargs(base_url: str, token_url: str) -> dict[str, Any]:
    return {
        "base_url": base_url,
        "token_url": token_url,
        "username": EB_USER.client_id,
        "password": EB_USER.client_secret,
    }


def _items(seen: Seen) -> list[dict[str, Any]]:
    return [item for row in json.loads(seen.body)["data"] for item in row.get("items", [])]


# What goes in (a Decimal, an int, a float or a string) and the text the docs' examples show.
CASES = {
    "commitment_processes": (
        {"processPrefix": "CP", "importMode": "LineItem", "projectIdentifier": "ProjectName"},
        {
            "projectIdentifier": "My Project A",
            "subject": "S",
            "commitmentNumber": "C-D2",
            "companyName": "ACME Corp",
            "commitmentType": "Contract",
        },
        {
            "budgetLineItem": "b1.1000",
            "commitmentItemNumber": "001",
            "description": "i",
            "amount": Decimal("5000.10"),
            "quantity": 60,
            "unitCost": "83.335",
        },
        {"amount": "5000.10", "quantity": "60", "unitCost": "83.335"},
    ),
    "master_commitment_processes": (
        {"processPrefix": "MCP", "importMode": "LineItem"},
        {"companyName": "ACME Corp", "masterCommitmentType": "Contract", "subject": "S"},
        {
            "description": "i",
            "itemNumber": "001",
            "amount": 50000,
            "quantity": Decimal("1E+1"),
            "unitCost": 5000.0,
        },
        {"amount": "50000", "quantity": "10", "unitCost": "5000.0"},
    ),
    "master_commitments": (
        {"projectIdentifier": "ProjectName"},
        {"companyName": "ACME Corp", "masterCommitmentType": "Contract", "status": "Active"},
        {
            "description": "i",
            "itemNumber": "001",
            "amount": "100000",
            "quantity": "2",
            "unitCost": Decimal("50000.00"),
        },
        {"amount": "100000", "quantity": "2", "unitCost": "50000.00"},
    ),
}


@pytest.mark.parametrize("resource", sorted(CASES))
def test_d2_amounts_documented_as_strings_arrive_as_exact_text(
    proxy: tuple[RecordingProxy, str], eb_emulator: EmulatorServer, resource: str
) -> None:
    recorder, url = proxy
    options, header, item, expected = CASES[resource]
    body = {"options": options, "data": [{"header": header, "items": [item]}]}
    with EBuilder(**_kwargs(url, eb_emulator.token_url)) as eb:
        result = getattr(eb, resource).import_(body=body)
    assert result.ok, result  # the emulator checks request bodies against the spec's schema
    [seen] = recorder.imports()
    [sent] = _items(seen)
    assert {key: sent[key] for key in expected} == expected
    assert b'"amount":"' in seen.body  # a JSON string on the wire, not a number


def test_d2_a_non_numeric_amount_is_refused_before_sending(
    proxy: tuple[RecordingProxy, str], eb_emulator: EmulatorServer
) -> None:
    recorder, url = proxy
    options, header, item, _ = CASES["commitment_processes"]
    body = {
        "options": options,
        "data": [{"header": header, "items": [{**item, "amount": "5,000"}]}],
    }
    with EBuilder(**_kwargs(url, eb_emulator.token_url)) as eb, pytest.raises(
        RequestValidationError
    ):
        eb.commitment_processes.import_(body=body)
    assert recorder.imports() == []


def _master_commitment() -> dict[str, Any]:
    options, header, item, _ = CASES["master_commitments"]
    return {"options": options, "data": [{"header": header, "items": [item]}]}


def _assert_followed_once(recorder: RecordingProxy) -> None:
    first, second = recorder.imports()
    assert first.path == MOVED + "/api/v2/MasterCommitments/Import"
    assert second.path == "/api/v2/MasterCommitments/Import"
    assert (second.method, second.body) == (first.method, first.body) == ("POST", first.body)
    assert second.authorization == first.authorization  # same origin: the token goes along
    assert second.authorization is not None and second.authorization.startswith("Bearer ")


def test_301_location_is_followed_for_an_import_sync(
    proxy: tuple[RecordingProxy, str], eb_emulator: EmulatorServer
) -> None:
    recorder, url = proxy
    with EBuilder(**_kwargs(url + MOVED, eb_emulator.token_url)) as eb:
        result = eb.master_commitments.import_(body=_master_commitment())
    assert result.ok, result
    _assert_followed_once(recorder)


def test_301_location_is_followed_for_an_import_async(
    proxy: tuple[RecordingProxy, str], eb_emulator: EmulatorServer
) -> None:
    recorder, url = proxy

    async def run() -> Any:
        async with AsyncEBuilder(**_kwargs(url + MOVED, eb_emulator.token_url)) as eb:
            return await eb.master_commitments.import_(body=_master_commitment())

    assert asyncio.run(run()).ok
    _assert_followed_once(recorder)
