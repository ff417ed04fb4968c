"""`apigen pull-schemas` against a tiny local API: what is asked, what is stored, resuming,
failures, and credentials (from the environment only, never shown)."""

from __future__ import annotations

import io
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from generator.drift import MissingSetting, credentials_from_env, pull_command
from generator.pipeline import load_api

CLIENT_ID, CLIENT_SECRET, API_KEY = "pull-client", "s3cret-client-Secret", "k3y-Api-Key-value"
TOKEN = "tok-abc123-bearer"
SECRETS = (CLIENT_SECRET, API_KEY, TOKEN)


@dataclass
class FakeApi:
    """Answers `?schema=true&schemaType=...` for any path, once a valid token is sent."""

    port: int = 0
    calls: list[tuple[str, str, str]] = field(default_factory=list)  # method, path, kind
    fail: set[tuple[str, str]] = field(default_factory=set)  # (method, kind) given a 500

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def token(self, request: Request) -> Response:
        form = dict(parse_qsl((await request.body()).decode()))  # python-multipart not needed
        if (form.get("client_id"), form.get("client_secret")) != (CLIENT_ID, CLIENT_SECRET):
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        return JSONResponse({"access_token": TOKEN, "expires_in": 3600})

    async def schema(self, request: Request) -> Response:
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return PlainTextResponse("no token", status_code=401)
        if request.headers.get("x-apikey") != API_KEY:
            return PlainTextResponse("no key", status_code=401)
        query = request.query_params
        if query.get("schema") != "true" or query.get("schemaType") not in ("request", "response"):
            return PlainTextResponse("not a schema request", status_code=400)
        kind = query["schemaType"]
        self.calls.append((request.method, request.url.path, kind))
        if (request.method, kind) in self.fail:
            # A careless server echoing what it was sent: the pull must not repeat it.
            echoed = f"boom {request.headers['authorization']} {API_KEY}"
            return PlainTextResponse(echoed, status_code=500)
        if request.url.path.endswith("/not-json"):
            return PlainTextResponse("<html>", status_code=200)
        # Keys deliberately unsorted, to see the stored file normalized.
        return JSONResponse(
            {
                "type": "object",
                "title": f"{request.method} {kind}",
                "properties": {"b": {}, "a": {}},
            }
        )


@pytest.fixture(scope="module")
def server() -> Iterator[FakeApi]:
    fake = FakeApi()
    app = Starlette(
        routes=[
            Route("/token", fake.token, methods=["POST"]),
            Route("/{path:path}", fake.schema, methods=["GET", "POST", "PUT", "DELETE"]),
        ]
    )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        fake.port = probe.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=fake.port, log_level="warning")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not uv.started:
        assert thread.is_alive() and time.monotonic() < deadline, "test server did not start"
        time.sleep(0.01)
    yield fake
    uv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def fake(server: FakeApi) -> FakeApi:
    server.calls.clear()
    server.fail.clear()
    return server


@pytest.fixture
def specs(spec_copy: Path) -> Path:
    api_yaml = spec_copy / "mini" / "api.yaml"
    text = api_yaml.read_text().replace(
        "  rate_limit:", "  schema_discovery: {flag: schema, kind: schemaType}\n  rate_limit:"
    )
    api_yaml.write_text(text)
    return spec_copy


def env(fake: FakeApi, **overrides: str) -> dict[str, str]:
    values = {
        "MINI_BASE_URL": fake.base_url,
        "MINI_TOKEN_URL": fake.base_url + "/token",
        "MINI_CLIENT_ID": CLIENT_ID,
        "MINI_CLIENT_SECRET": CLIENT_SECRET,
        "MINI_API_KEY": API_KEY,
    }
    values.update(overrides)
    return {k: v for k, v in values.items() if v}


def pull(specs: Path, environ: dict[str, str], **kwargs: Any) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = pull_command(specs, "mini", environ=environ, out=out, err=err, rate=1000, **kwargs)
    return code, out.getvalue(), err.getvalue()


EXPECTED = ["CreateWidget.request.json", "CreateWidget.response.json", "GetWidgets.response.json"]
PLACEHOLDER_PATH = "/v2/Shops/00000000-0000-0000-0000-000000000000/Widgets"


def test_every_json_payload_is_asked_for_and_stored_normalized(fake: FakeApi, specs: Path) -> None:
    code, out, err = pull(specs, env(fake))
    assert code == 0, err
    schemas = specs / "mini" / "schemas"
    assert sorted(p.name for p in schemas.iterdir()) == EXPECTED  # no temp file left behind
    assert sorted(fake.calls) == [
        ("GET", PLACEHOLDER_PATH, "response"),  # GetWidgets has no body: no request schema
        ("POST", PLACEHOLDER_PATH, "request"),
        ("POST", PLACEHOLDER_PATH, "response"),
    ]
    text = (schemas / "CreateWidget.request.json").read_text()
    payload = {"properties": {"a": {}, "b": {}}, "title": "POST request", "type": "object"}
    assert text == json.dumps(payload, sort_keys=True, indent=2) + "\n"
    assert "3 schema(s) stored, 0 already there, 0 failed" in out
    assert "\r[####################] 3/3 done" in err


def test_resume_skips_stored_files_and_force_refetches(fake: FakeApi, specs: Path) -> None:
    schemas = specs / "mini" / "schemas"
    schemas.mkdir()
    kept = schemas / "GetWidgets.response.json"
    kept.write_text("{}\n")
    code, out, _ = pull(specs, env(fake))
    assert code == 0
    assert kept.read_text() == "{}\n"
    assert ("GET", PLACEHOLDER_PATH, "response") not in fake.calls and len(fake.calls) == 2
    assert "2 schema(s) stored, 1 already there (--force refetches them)" in out

    fake.calls.clear()
    code, out, _ = pull(specs, env(fake))
    assert (code, fake.calls) == (0, [])
    assert "0 schema(s) stored, 3 already there" in out

    code, out, _ = pull(specs, env(fake), force=True)
    assert code == 0 and len(fake.calls) == 3
    assert json.loads(kept.read_text())["title"] == "GET response"


def test_a_failing_operation_is_reported_and_the_others_are_stored(
    fake: FakeApi, specs: Path
) -> None:
    fake.fail.add(("GET", "response"))
    code, out, err = pull(specs, env(fake))
    assert code == 1
    assert "2 schema(s) stored, 0 already there, 1 failed" in out
    assert "GetWidgets.response.json: HTTP 500: boom Bearer *** ***" in err
    schemas = specs / "mini" / "schemas"
    stored = "".join(p.read_text() for p in schemas.iterdir())
    assert not any(secret in out + err + stored for secret in SECRETS)
    assert sorted(p.name for p in schemas.iterdir()) == EXPECTED[:2]
    fake.fail.clear()
    fake.calls.clear()
    assert pull(specs, env(fake))[0] == 0  # resumes with the one that failed
    assert fake.calls == [("GET", PLACEHOLDER_PATH, "response")]


def test_answers_that_are_not_json_objects_fail(fake: FakeApi, specs: Path) -> None:
    specs_file = specs / "mini" / "widgets.yaml"
    specs_file.write_text(
        specs_file.read_text().replace(
            "    path: /Shops/{ShopId}/Widgets\n    summary: Create",
            "    path: /Shops/{ShopId}/Widgets/not-json\n    summary: Create",
        )
    )
    code, out, err = pull(specs, env(fake))
    assert code == 1
    assert "1 schema(s) stored, 0 already there, 2 failed" in out
    assert "CreateWidget.request.json: the answer is not JSON" in err
    schemas = specs / "mini" / "schemas"
    assert sorted(p.name for p in schemas.iterdir()) == ["GetWidgets.response.json"]
    # the next run fetches only what is missing
    fake.calls.clear()
    pull(specs, env(fake))
    assert [c[0] for c in fake.calls] == ["POST", "POST"]


def test_credentials_come_from_the_environment_and_a_missing_one_is_named(
    fake: FakeApi, specs: Path
) -> None:
    code, _, err = pull(specs, env(fake, MINI_CLIENT_SECRET=""))
    assert code == 2 and "MINI_CLIENT_SECRET" in err
    code, _, err = pull(specs, env(fake, MINI_API_KEY=""))
    assert code == 2 and "MINI_API_KEY" in err
    code, _, err = pull(specs, env(fake, MINI_TOKEN_URL=""))  # no token_path, no env match
    assert code == 2 and "MINI_TOKEN_URL" in err
    code, _, err = pull(specs, env(fake, MINI_CLIENT_SECRET="wrong-secret"))
    assert code == 1 and "HTTP 401" in err and "wrong-secret" not in err
    assert fake.calls == [] and not (specs / "mini" / "schemas").exists()


def test_password_grant_variables(specs: Path) -> None:
    api = load_api(specs / "mini")
    api = replace(api, auth=replace(api.auth, kind="oauth2_password", token_path="/auth"))
    base = {"MINI_BASE_URL": "https://tenant.example.test/", "MINI_API_KEY": "k"}
    with pytest.raises(MissingSetting, match="MINI_USERNAME"):
        credentials_from_env(api, base)
    with pytest.raises(MissingSetting, match="MINI_PASSWORD"):
        credentials_from_env(api, {**base, "MINI_USERNAME": "u"})
    creds = credentials_from_env(api, {**base, "MINI_USERNAME": "u", "MINI_PASSWORD": "pw-x"})
    assert creds.token_url == "https://tenant.example.test/auth"
    assert "pw-x" not in repr(creds)


def test_rate_limit_spaces_requests(fake: FakeApi, specs: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    started = time.monotonic()
    assert pull_command(specs, "mini", environ=env(fake), out=out, err=err, rate=10) == 0
    # token + 3 schema requests, 0.1 s apart
    assert time.monotonic() - started >= 0.3
