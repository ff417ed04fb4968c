"""Construction, secrets hygiene and the sync/async API surface."""

from __future__ import annotations

import inspect
import logging
from dataclasses import replace

import httpx
import pytest


def test_secret_repr(rt):
    secret = rt.Secret("hunter2")
    assert repr(secret) == str(secret) == "Secret('***')"
    assert f"{secret}" == "Secret('***')"
    assert secret.get_secret_value() == "hunter2"


def test_secrets_absent_from_repr_exceptions_and_logs(rt, make_client, make_op, emu, caplog):
    caplog.set_level(logging.DEBUG)
    client = make_client(mfa=rt.Mfa(session_token=emu.MFA_SESSION), max_retries=1)
    pw_client = make_client(credentials=rt.PasswordCredentials("ann", emu.PASSWORD))
    texts = [repr(client), repr(pw_client), repr(rt.Mfa(totp_secret=emu.TOTP_SECRET))]
    emu.queue("/things", emu.Reply(401), emu.Reply(503), emu.Reply(503))
    with pytest.raises(rt.InternalServerError) as info:
        client.request(make_op(), json={"x": 1})
    texts += [str(info.value), repr(info.value), repr(vars(info.value))]
    emu.queue("/things", emu.Reply(401), emu.Reply(401))
    with pytest.raises(rt.AuthenticationError) as info:
        pw_client.request(make_op())
    texts += [str(info.value), repr(info.value), repr(vars(info.value))]
    texts += [r.getMessage() for r in caplog.records]
    assert any("503" in r.getMessage() for r in caplog.records if r.name == "acme")
    blob = "\n".join(texts)
    for secret in (emu.CLIENT_SECRET, emu.PASSWORD, emu.API_KEY, emu.MFA_SESSION, emu.TOTP_SECRET):
        assert secret not in blob
    assert "tok-" not in blob  # access tokens
    assert "Secret('***')" in repr(client)


def test_logs_carry_method_url_status_attempt(rt, make_client, make_op, emu, caplog):
    caplog.set_level(logging.DEBUG, logger="acme")
    emu.queue("/things", emu.Reply(503))
    make_client().request(make_op())
    messages = [r.getMessage() for r in caplog.records if r.name == "acme"]
    assert any("GET" in m and "/api/v2/things" in m and "503" in m for m in messages)
    assert any("attempt 2" in m for m in messages)
    assert any("retry 1 of 4" in m for m in messages)


def test_environment_and_base_url_rules(rt, config, server):
    creds = rt.ClientCredentials("id", "secret")
    with pytest.raises(ValueError, match="test, prod"):
        rt.SyncAPIClient(config=config, credentials=creds)
    with pytest.raises(ValueError, match="test, prod"):
        rt.SyncAPIClient(config=config, credentials=creds, environment="test", base_url=server)
    with pytest.raises(ValueError, match="unknown environment 'staging'; known: test, prod"):
        rt.SyncAPIClient(config=config, credentials=creds, environment="staging")
    prod = rt.SyncAPIClient(config=config, credentials=creds, environment="prod")
    assert prod._tokens.token_url == "https://id.acme.invalid/t"
    custom = rt.SyncAPIClient(config=config, credentials=creds, base_url="https://x.invalid/")
    assert custom.base_url == "https://x.invalid"
    assert custom._tokens.token_url == "https://x.invalid/oauth/token"
    matched = rt.SyncAPIClient(
        config=config, credentials=creds, base_url="https://api.acme.invalid/"
    )
    assert matched._tokens.token_url == "https://id.acme.invalid/t"
    explicit = rt.SyncAPIClient(
        config=config, credentials=creds, base_url="https://x.invalid", token_url="https://t/x"
    )
    assert explicit._tokens.token_url == "https://t/x"
    with pytest.raises(ValueError, match="token URL"):
        rt.SyncAPIClient(
            config=replace(config, token_path=""), credentials=creds, base_url="https://x.invalid"
        )
    for client in (prod, custom, matched, explicit):
        client.close()


def test_rate_limit_defaults_from_config(rt, config):
    creds = rt.ClientCredentials("id", "secret")
    cfg = replace(config, rate_limit_operations=60, rate_limit_seconds=60.0)
    with rt.SyncAPIClient(config=cfg, credentials=creds, environment="test") as client:
        assert (client._limiter.operations, client._limiter.per_seconds) == (60, 60.0)
    with rt.SyncAPIClient(
        config=cfg, credentials=creds, environment="test", rate_limit=5, rate_window=1.0
    ) as client:
        assert (client._limiter.operations, client._limiter.per_seconds) == (5, 1.0)
    with rt.SyncAPIClient(config=cfg, credentials=creds, environment="test", rate_limit=None) as c:
        assert c._limiter is None


def test_passed_in_http_client_is_not_closed(rt, config, make_op, emu):
    http = httpx.Client()
    creds = rt.ClientCredentials("id", "secret")
    with rt.SyncAPIClient(
        config=config, credentials=creds, environment="test", http_client=http
    ) as c:
        c.request(make_op())
    assert not http.is_closed
    http.close()


async def test_passed_in_async_http_client_is_not_closed(rt, config, make_op, emu):
    http = httpx.AsyncClient()
    creds = rt.ClientCredentials("id", "secret")
    async with rt.AsyncAPIClient(
        config=config, credentials=creds, environment="test", http_client=http
    ) as client:
        await client.request(make_op())
    assert not http.is_closed
    await http.aclose()


def _public(cls: type) -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(member)
        for name, member in inspect.getmembers(cls, callable)
        if not name.startswith("_") or name == "__init__"
    }


def test_sync_and_async_expose_the_same_api(rt):
    sync, async_ = _public(rt.SyncAPIClient), _public(rt.AsyncAPIClient)
    assert set(sync) - {"close"} == set(async_) - {"aclose"}
    for name, signature in sync.items():
        if name == "close":
            continue
        other = async_[name]
        assert [(p.name, p.kind, p.default) for p in signature.parameters.values()] == [
            (p.name, p.kind, p.default) for p in other.parameters.values()
        ], name
    for name in ("request", "request_model", "download", "upload"):
        assert inspect.iscoroutinefunction(getattr(rt.AsyncAPIClient, name))
    assert not inspect.iscoroutinefunction(rt.AsyncAPIClient.paginate)  # returns an AsyncIterator
    assert hasattr(rt.AsyncAPIClient, "__aenter__") and hasattr(rt.SyncAPIClient, "__enter__")
    assert set(_public(rt.SyncAPIClient)) >= {
        "request",
        "request_model",
        "paginate",
        "download",
        "upload",
        "close",
    }
