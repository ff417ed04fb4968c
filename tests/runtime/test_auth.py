"""Tokens, 401 handling, API key and MFA headers."""

from __future__ import annotations

import asyncio
import sys
import threading
import time

import pyotp
import pytest


def test_token_cached_and_reused(kind, make_client, make_op, emu):
    client = make_client(kind)
    for _ in range(3):
        client.request(make_op())
    assert emu.tokens == 1
    form, headers = emu.token_requests[0]
    assert form == {
        "grant_type": "client_credentials",
        "client_id": emu.CLIENT_ID,
        "client_secret": emu.CLIENT_SECRET,
    }
    assert "x-api-key" not in headers  # the token request carries no API key
    hits = emu.calls("/things")
    assert len(hits) == 3
    assert {h.headers["authorization"] for h in hits} == {"Bearer tok-1"}
    assert hits[0].headers["x-api-key"] == emu.API_KEY
    assert hits[0].headers["user-agent"] == "acme-python/1.2.3"
    assert hits[0].headers["accept"] == "application/json"


def test_password_grant(rt, make_client, make_op, emu):
    client = make_client(credentials=rt.PasswordCredentials("ann", emu.PASSWORD))
    client.request(make_op())
    assert emu.token_requests[0][0] == {
        "grant_type": "password",
        "username": "ann",
        "password": emu.PASSWORD,
    }


def test_token_refreshed_before_expiry(kind, make_client, make_op, emu, fast_config):
    emu.expires_in = 0.8
    client = make_client(kind, cfg=fast_config(refresh_margin=0.3))
    client.request(make_op())
    client.request(make_op())
    assert emu.tokens == 1
    time.sleep(0.6)  # inside the refresh margin, before the real expiry
    client.request(make_op())
    assert emu.tokens == 2
    assert emu.calls("/things")[-1].headers["authorization"] == "Bearer tok-2"


def test_token_lifetime_from_config_when_expires_in_missing(make_client, make_op, emu, fast_config):
    emu.expires_in = None
    client = make_client(cfg=fast_config(token_lifetime=0.4, refresh_margin=0.1))
    client.request(make_op())
    time.sleep(0.35)
    client.request(make_op())
    assert emu.tokens == 2


def test_twenty_threads_fetch_one_token(make_client, make_op, emu):
    emu.token_delay = 0.2
    client = make_client()
    barrier = threading.Barrier(20)
    errors: list[BaseException] = []

    def call() -> None:
        barrier.wait()
        try:
            client.request(make_op())
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=call) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert emu.tokens == 1
    assert len(emu.calls("/things")) == 20


async def test_twenty_tasks_fetch_one_token(make_client, make_op, emu):
    emu.token_delay = 0.2
    async with make_client("async", raw=True) as client:
        await asyncio.gather(*(client.request(make_op()) for _ in range(20)))
    assert emu.tokens == 1
    assert len(emu.calls("/things")) == 20


def test_401_refreshes_once_and_retries(kind, make_client, make_op, emu):
    client = make_client(kind, max_retries=0)  # the auth retry does not count
    client.request(make_op())
    emu.queue("/things", emu.Reply(401, {"Message": "expired"}))
    client.request(make_op())
    hits = emu.calls("/things")
    assert len(hits) == 3
    assert [h.headers["authorization"] for h in hits] == ["Bearer tok-1"] * 2 + ["Bearer tok-2"]
    assert emu.tokens == 2


def test_second_401_raises(rt, kind, make_client, make_op, emu):
    client = make_client(kind)
    emu.queue("/things", emu.Reply(401, {"Message": "nope"}), emu.Reply(401, {"Message": "nope"}))
    with pytest.raises(rt.AuthenticationError) as info:
        client.request(make_op())
    assert info.value.status_code == 401
    assert info.value.body == {"Message": "nope"}
    assert len(emu.calls("/things")) == 2
    assert emu.tokens == 2


def test_concurrent_401s_cause_one_refresh(make_client, make_op, emu):
    client = make_client()
    client.request(make_op())
    emu.revoked.add("tok-1")
    threads = [threading.Thread(target=client.request, args=(make_op(),)) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert emu.tokens == 2
    assert sum(h.headers["authorization"] == "Bearer tok-2" for h in emu.calls()) == 10


def test_token_endpoint_refusal(rt, kind, make_client, make_op, emu, server):
    # A careless server that echoes the secret back must not leak it through the exception.
    emu.token_replies.append(
        emu.Reply(400, {"error": "invalid_client", "error_description": emu.CLIENT_SECRET})
    )
    client = make_client(kind)
    with pytest.raises(rt.AuthenticationError) as info:
        client.request(make_op())
    exc = info.value
    assert exc.url == server + "/oauth/token"
    assert exc.status_code == 400
    assert exc.body == {"error": "invalid_client", "error_description": "***"}
    for text in (str(exc), repr(exc), str(exc.body), exc.message):
        assert emu.CLIENT_SECRET not in text
    assert not emu.calls()


def test_mfa_session_token_header(rt, kind, make_client, make_op, emu):
    client = make_client(kind, mfa=rt.Mfa(session_token=emu.MFA_SESSION))
    client.request(make_op())
    assert emu.calls()[0].headers["x-mfa-session"] == emu.MFA_SESSION
    assert "x-mfa-otp" not in emu.calls()[0].headers


def test_mfa_totp_code_is_current(rt, kind, make_client, make_op, emu):
    client = make_client(kind, mfa=rt.Mfa(totp_secret=emu.TOTP_SECRET))
    client.request(make_op())
    code = emu.calls()[0].headers["x-mfa-otp"]
    assert pyotp.TOTP(emu.TOTP_SECRET).verify(code, valid_window=1)


def test_mfa_code_computed_per_attempt(rt, make_client, make_op, emu):
    codes = iter(["111111", "222222", "333333"])
    client = make_client(mfa=rt.Mfa(otp=lambda: next(codes)))
    emu.queue("/things", emu.Reply(503))
    client.request(make_op())
    client.request(make_op())
    assert [h.headers["x-mfa-otp"] for h in emu.calls()] == ["111111", "222222", "333333"]


def test_mfa_required_without_mfa_raises_before_sending(rt, kind, make_client, make_op, emu):
    client = make_client(kind)
    with pytest.raises(rt.MfaConfigurationError):
        client.request(make_op(mfa="required"))
    assert not emu.calls() and emu.tokens == 0


def test_parameter_that_needs_mfa_when_true_is_refused_without_mfa(
    rt, kind, make_client, make_op, emu
):
    reveal = rt.Param("reveal", "reveal_data", "query", False, mfa_when_true=True)
    op = make_op(params=(reveal,))
    client = make_client(kind)
    for value in (True, "true"):
        with pytest.raises(rt.MfaConfigurationError, match="reveal=True requires MFA"):
            client.request(op, query={"reveal": value})
    assert not emu.calls() and emu.tokens == 0
    client.request(op, query={"reveal_data": False})  # wire names work too; false needs no MFA
    client.request(op)
    assert [h.query for h in emu.calls()] == [[("reveal_data", "false")], []]


def test_parameter_that_needs_mfa_when_true_is_sent_with_mfa(rt, make_client, make_op, emu):
    reveal = rt.Param("reveal", "reveal_data", "query", False, mfa_when_true=True)
    client = make_client(mfa=rt.Mfa(session_token=emu.MFA_SESSION))
    client.request(make_op(params=(reveal,)), query={"reveal": True})
    (hit,) = emu.calls()
    assert hit.query == [("reveal_data", "true")]
    assert hit.headers["x-mfa-session"] == emu.MFA_SESSION


def test_mfa_needs_pyotp(rt, make_client, emu, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyotp", None)  # makes `import pyotp` fail
    with pytest.raises(ImportError, match=r"pip install 'acme\[mfa\]'"):
        make_client(mfa=rt.Mfa(totp_secret=emu.TOTP_SECRET))


def test_mfa_bad_totp_secret_fails_at_construction(rt, make_client):
    with pytest.raises(ValueError):
        make_client(mfa=rt.Mfa(totp_secret="SHORT"))


def test_mfa_takes_exactly_one_option(rt):
    with pytest.raises(ValueError):
        rt.Mfa()
    with pytest.raises(ValueError):
        rt.Mfa(session_token="a", totp_secret="b")


@pytest.mark.parametrize(
    ("reply", "problem"),
    [
        ({"json": {"access_token": ""}}, "access_token is empty"),
        ({"json": {"access_token": "   "}}, "access_token is empty"),
        ({"json": {"access_token": 123}}, "access_token is a JSON int, not a string"),
        ({"json": {"access_token": None}}, "the body has no access_token"),
        ({"json": {"token_type": "Bearer"}}, "the body has no access_token"),
        ({"json": ["tok"]}, "the body is a JSON list, not an object"),
        ({"json": {"access_token": "abc def"}}, "characters an HTTP header cannot carry"),
        ({"json": {"access_token": "abc\ndef"}}, "characters an HTTP header cannot carry"),
        ({"body": b"<html><body>Sign in</body></html>", "headers": {"content-type": "text/html"}},
         "the body is not JSON (text/html"),
        ({"body": b""}, "the body is not JSON"),
        ({"body": b'{"access_token": "tok', "headers": {"content-type": "application/json"}},
         "the body is not JSON (application/json)"),
    ],
)
def test_token_endpoint_garbage_is_an_authentication_error(
    rt, make_client, make_op, emu, server, reply, problem
):
    emu.token_replies.append(emu.Reply(200, **reply))
    client = make_client()
    with pytest.raises(rt.AuthenticationError) as info:
        client.request(make_op())
    exc = info.value
    assert problem in str(exc)
    assert exc.url == server + "/oauth/token" and exc.url in str(exc)
    assert exc.body is None
    assert emu.calls() == []  # nothing sent with a garbage token


def test_refresh_token_and_access_token_are_masked_when_echoed(rt, make_client, make_op, emu):
    emu.token_replies.append(
        emu.Reply(200, {"access_token": "tok-abcdef123", "refresh_token": "rt-SECRET-5566"})
    )
    emu.queue("/things", emu.Reply(400, {"Message": "got rt-SECRET-5566 and tok-abcdef123"}))
    client = make_client()
    with pytest.raises(rt.BadRequestError) as info:
        client.request(make_op())
    assert str(info.value).endswith("got *** and ***")
    assert info.value.body == {"Message": "got *** and ***"}


def test_a_refused_fresh_token_stops_the_refreshes(rt, make_client, make_op, emu):
    # The server refuses something else than the token (say the API key): every call is a 401.
    for _ in range(6):
        emu.queue("/things", emu.Reply(401, {"Message": "A valid X-Api-Key header is required."}))
    client = make_client()
    for _ in range(3):
        with pytest.raises(rt.AuthenticationError) as info:
            client.request(make_op())
    assert emu.tokens == 2  # the first token, one fresh one; none after it was refused as well
    assert len(emu.calls("/things")) == 4  # call 1 and its retry, then calls 2 and 3 once
    assert "a new access token was refused as well" in str(info.value)
