"""A 301 is followed to its Location ("The requested resource should be accessed through the
returned URI in the Location header"), against real servers on 127.0.0.1, sync and async."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.loopback import serve
from tests.runtime.conftest import API_KEY, BASE_PATH


class OtherOrigin:
    """A second server (another port, so another origin): records what reaches it, and answers
    a scripted 301 for the paths in `moves`."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.hits: list[tuple[str, str, dict[str, str], bytes]] = []
        self.moves: dict[str, str] = {}

    async def handle(self, request: Request) -> Response:
        body = await request.body()
        with self.lock:
            self.hits.append((request.method, request.url.path, dict(request.headers), body))
        location = self.moves.get(request.url.path)
        if location:
            return Response(status_code=301, headers={"Location": location})
        return JSONResponse({"served": "other origin"})


@pytest.fixture(scope="module")
def other() -> Iterator[tuple[OtherOrigin, str]]:
    recorder = OtherOrigin()
    app = Starlette(routes=[Route("/{rest:path}", recorder.handle, methods=["GET", "POST", "PUT"])])
    with serve(app) as url:
        yield recorder, url


def _moved(emu: Any, path: str, location: str) -> None:
    emu.queue(path, emu.Reply(301, headers={"Location": location}))


def test_idempotent_call_follows_with_same_method_body_and_credentials(
    kind, make_client, make_op, emu
):
    client = make_client(kind)
    _moved(emu, "/things", f"{BASE_PATH}/moved?page=2")  # relative to the request URI
    response = client.request(make_op(method="PUT"), query={"page": "1"}, json={"a": 1})
    assert response.status_code == 200
    [first] = emu.calls("/things")
    [second] = emu.calls("/moved")
    assert (second.method, second.body) == ("PUT", first.body) and second.body == b'{"a":1}'
    assert second.query == [("page", "2")]  # the Location is the whole URI, query included
    assert second.headers["authorization"] == first.headers["authorization"]
    assert second.headers["x-api-key"] == API_KEY


def test_idempotent_chain_is_bounded(rt, kind, make_client, make_op, emu):
    client = make_client(kind)
    hops = ["/things", *(f"/hop{n}" for n in range(1, 7))]
    for here, there in zip(hops, hops[1:], strict=False):
        _moved(emu, here, BASE_PATH + there)
    with pytest.raises(rt.RedirectError) as info:
        client.request(make_op())
    assert len(emu.calls()) == 6  # the call and 5 redirects; /hop6 is never asked
    assert not emu.calls("/hop6")
    assert info.value.status_code == 301
    assert info.value.location == BASE_PATH + "/hop6"
    assert [u.rsplit("/", 1)[1] for u in info.value.chain] == [h[1:] for h in hops[:6]]
    assert "5 redirect(s) already followed" in str(info.value)


def test_a_loop_is_an_error_naming_the_uris(rt, kind, make_client, make_op, emu, server):
    client = make_client(kind)
    _moved(emu, "/things", BASE_PATH + "/elsewhere")
    _moved(emu, "/elsewhere", BASE_PATH + "/things")
    with pytest.raises(rt.RedirectError) as info:
        client.request(make_op())
    things, elsewhere = f"{server}{BASE_PATH}/things", f"{server}{BASE_PATH}/elsewhere"
    assert f"redirect loop: {things} -> {elsewhere} -> {things}" in str(info.value)
    assert len(emu.calls()) == 2


def test_a_301_without_location_is_an_error(rt, kind, make_client, make_op, emu):
    client = make_client(kind)
    emu.queue("/things", emu.Reply(301))
    with pytest.raises(rt.RedirectError, match="no Location header"):
        client.request(make_op())
    assert len(emu.calls()) == 1


def test_a_write_is_sent_to_one_location_only(rt, kind, make_client, make_op, emu):
    client = make_client(kind)
    op = make_op(method="POST")
    assert not op.idempotent
    _moved(emu, "/things", BASE_PATH + "/moved")
    assert client.request(op, json={"n": 1}).status_code == 200
    assert [h.body for h in emu.calls("/moved")] == [b'{"n":1}']  # once, the same body

    emu.reset()
    _moved(emu, "/things", BASE_PATH + "/moved")
    _moved(emu, "/moved", BASE_PATH + "/again")
    with pytest.raises(rt.RedirectError) as info:
        client.request(op, json={"n": 2})
    assert info.value.location == BASE_PATH + "/again"
    assert "the most for a call that is not idempotent" in str(info.value)
    assert [h.path for h in emu.calls()] == [BASE_PATH + "/things", BASE_PATH + "/moved"]


def test_a_one_shot_body_is_not_sent_again(rt, kind, make_client, make_op, emu):
    client = make_client(kind)
    _moved(emu, "/things", BASE_PATH + "/moved")

    read_end, write_end = os.pipe()  # a pipe cannot seek back: its bytes go out once
    os.write(write_end, b"only once")
    os.close(write_end)
    with open(read_end, "rb") as stream, pytest.raises(rt.RedirectError, match="one-shot stream"):
        client.request(make_op(method="PUT"), content=stream)
    assert not emu.calls("/moved")


def test_credentials_never_go_to_another_origin(kind, make_client, make_op, emu, other, server):
    recorder, other_url = other
    recorder.hits.clear()
    recorder.moves = {"/back": f"{server}{BASE_PATH}/home"}  # and back to the first origin
    client = make_client(kind)
    _moved(emu, "/things", f"{other_url}/landing")
    response = client.request(make_op(), json=None)
    assert response.json() == {"served": "other origin"}
    [(method, path, headers, _)] = recorder.hits
    assert (method, path) == ("GET", "/landing")
    assert "authorization" not in headers and "x-api-key" not in headers
    sent = emu.calls("/things")[0].headers
    assert sent["authorization"] not in str(headers)  # the token is nowhere in what it got

    recorder.hits.clear()
    _moved(emu, "/things", f"{other_url}/back")
    assert client.request(make_op()).status_code == 200
    [home] = emu.calls("/home")  # the chain left the origin once: no credentials ever again
    assert "authorization" not in home.headers and "x-api-key" not in home.headers
