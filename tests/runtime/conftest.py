"""Fixtures for the runtime engine tests: the six runtime modules assembled into a scratch package
`rtpkg`, and a scriptable API served by uvicorn on loopback (real HTTP, nothing mocked)."""

from __future__ import annotations

import asyncio
import hashlib
import importlib
import inspect
import shutil
import sys
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qsl

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from generator.templates import runtime_files
from tests.loopback import serve

RUNTIME = runtime_files()  # every runtime module: its file name in a package, its source
MODULES = tuple(Path(name).stem for name in RUNTIME)

CLIENT_ID = "client-id-1"
CLIENT_SECRET = "cs-SUPERSECRET-4f1b"
PASSWORD = "pw-SUPERSECRET-99"
API_KEY = "ak-SUPERSECRET-77"
MFA_SESSION = "mfa-SUPERSECRET-session"
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
BASE_PATH = "/api/v2"


# ----------------------------------------------------------------------------- the package


@pytest.fixture(scope="session")
def rt(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleNamespace]:
    """The runtime as a freshly copied package; every public name of its modules, flattened."""
    root = tmp_path_factory.mktemp("pkg")
    package = root / "rtpkg"
    package.mkdir()
    for module in MODULES:
        shutil.copy(RUNTIME[f"{module}.py"], package / f"{module}.py")
    (package / "__init__.py").write_text("")
    sys.path.insert(0, str(root))
    names: dict[str, Any] = {}
    for module in MODULES:
        mod = importlib.import_module(f"rtpkg.{module}")
        names[module.lstrip("_")] = mod
        names.update({k: v for k, v in vars(mod).items() if not k.startswith("_")})
    yield SimpleNamespace(**names)
    sys.path.remove(str(root))


# ----------------------------------------------------------------------------- the server


@dataclass
class Reply:
    status: int = 200
    json: Any = None
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    def response(self) -> Response:
        if self.json is not None:
            return JSONResponse(self.json, self.status, headers=self.headers)
        return Response(self.body, self.status, headers=self.headers)


@dataclass
class Hit:
    t: float  # time.monotonic() when the request reached the app
    method: str
    path: str  # raw, still percent-encoded
    query: list[tuple[str, str]]
    headers: dict[str, str]
    body: bytes  # only the first MiB is kept
    size: int
    sha256: str


class Emulator:
    """State of the fake API; tests script it and inspect what arrived."""

    Reply = Reply
    CLIENT_ID, CLIENT_SECRET, PASSWORD, API_KEY = CLIENT_ID, CLIENT_SECRET, PASSWORD, API_KEY
    MFA_SESSION, TOTP_SECRET = MFA_SESSION, TOTP_SECRET

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.replies: dict[str, deque[Reply]] = defaultdict(deque)
        self.hits: list[Hit] = []
        self.token_requests: list[tuple[dict[str, str], dict[str, str]]] = []  # (form, headers)
        self.token_replies: deque[Reply] = deque()
        self.token_delay = 0.0
        self.expires_in: float | None = 3600
        self.revoked: set[str] = set()
        self.items = 0
        self.blob = b""
        self.blob_cuts: deque[int] = deque()  # per download: stop after this many bytes

    def queue(self, path: str, *replies: Reply) -> None:
        self.replies[BASE_PATH + path].extend(replies)

    def calls(self, path: str | None = None) -> list[Hit]:
        with self.lock:
            return [h for h in self.hits if path is None or h.path == BASE_PATH + path]

    @property
    def tokens(self) -> int:
        return len(self.token_requests)


EMU = Emulator()


async def _token(request: Request) -> Response:
    form = dict(parse_qsl((await request.body()).decode()))
    with EMU.lock:
        EMU.token_requests.append((form, dict(request.headers)))
        number = len(EMU.token_requests)
        scripted = EMU.token_replies.popleft() if EMU.token_replies else None
    await asyncio.sleep(EMU.token_delay)
    if scripted is not None:
        return scripted.response()
    payload: dict[str, Any] = {"access_token": f"tok-{number}", "token_type": "Bearer"}
    if EMU.expires_in is not None:
        payload["expires_in"] = EMU.expires_in
    return JSONResponse(payload)


async def _api(request: Request) -> Response:
    arrived = time.monotonic()
    digest, size, kept = hashlib.sha256(), 0, bytearray()
    async for chunk in request.stream():
        digest.update(chunk)
        size += len(chunk)
        if len(kept) < 1 << 20:
            kept.extend(chunk)
    path = request.scope["raw_path"].decode()
    hit = Hit(
        arrived,
        request.method,
        path,
        parse_qsl(request.url.query, keep_blank_values=True),
        dict(request.headers),
        bytes(kept),
        size,
        digest.hexdigest(),
    )
    with EMU.lock:
        EMU.hits.append(hit)
        scripted = EMU.replies[path].popleft() if EMU.replies[path] else None
    if request.headers.get("authorization", "").removeprefix("Bearer ") in EMU.revoked:
        return JSONResponse({"Message": "token revoked"}, 401)
    if scripted is not None:
        return scripted.response()
    route = path.removeprefix(BASE_PATH)
    if route == "/items":
        limit, offset = int(request.query_params["Limit"]), int(request.query_params["Offset"])
        ids = range(offset, min(offset + limit, EMU.items))
        return JSONResponse({"Items": [{"Id": i} for i in ids], "Total": EMU.items})
    if route == "/blob":
        return _blob()
    return JSONResponse(
        {"method": hit.method, "size": size, "sha256": hit.sha256, "body": kept.decode("latin-1")}
    )


def _blob() -> Response:
    blob = EMU.blob
    cut = EMU.blob_cuts.popleft() if EMU.blob_cuts else len(blob)

    async def chunks() -> Any:
        for start in range(0, cut, 256 * 1024):
            yield blob[start : min(start + 256 * 1024, cut)]
        # Falling short of Content-Length makes the server drop the connection.

    return StreamingResponse(
        chunks(),
        headers={"Content-Length": str(len(blob)), "Content-Type": "application/octet-stream"},
    )


@pytest.fixture(scope="session")
def server() -> Iterator[str]:
    app = Starlette(
        routes=[
            Route("/oauth/token", _token, methods=["POST"]),
            Route("/{rest:path}", _api, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
        ]
    )
    with serve(app) as url:
        yield url


@pytest.fixture
def emu(server: str) -> Emulator:
    EMU.reset()
    return EMU


# ----------------------------------------------------------------------------- spec objects


@pytest.fixture
def config(rt: SimpleNamespace, server: str) -> Any:
    return rt.ApiConfig(
        name="acme",
        title="Acme",
        version="1.2.3",
        base_path=BASE_PATH,
        environments={
            "test": rt.Environment("test", server, ""),
            "prod": rt.Environment("prod", "https://api.acme.invalid", "https://id.acme.invalid/t"),
        },
        auth_kind="oauth2_client_credentials",
        token_path="/oauth/token",
        token_lifetime=3600.0,
        refresh_margin=60.0,
        api_key_header="X-Api-Key",
        mfa_otp_header="X-Mfa-Otp",
        mfa_session_header="X-Mfa-Session",
        rate_limit_operations=None,
        rate_limit_seconds=60.0,
        rate_limit_status=429,
        quota_status=426,
        default_content_type="application/json",
        errors=rt.ErrorShape(message_fields=("Message", "error"), detail_fields=("Errors",),
                             id_fields=("supportId",), id_headers=("X-Request-Id",)),
    )


@pytest.fixture
def make_op(rt: SimpleNamespace) -> Callable[..., Any]:
    def make(path: str = "/things", method: str = "GET", **kw: Any) -> Any:
        fields: dict[str, Any] = {
            "wire_name": "Op",
            "python_name": "op",
            "resource": "things",
            "method": method,
            "path": path,
            "params": (),
            "body": "none",
            "body_content_type": "",
            "request_model": "",
            "response": "json",
            "response_model": "",
            "idempotent": method in ("GET", "PUT", "DELETE"),
            "admin_only": False,
            "mfa": "if_enabled",
            "deprecated": "",
            "confidence": "documented",
            "source": "",
            "pagination": None,
            "v1_wire_name": "",
            "v1_path": "",
        }
        fields.update(kw)
        return rt.Operation(**fields)

    return make


# ----------------------------------------------------------------------------- clients


class Blocking:
    """Drives an AsyncAPIClient from a plain test through one private event loop, so that
    behaviour tests run against both clients."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self._loop = asyncio.new_event_loop()

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.client, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            result = attr(*args, **kwargs)
            if inspect.isawaitable(result):
                return self._loop.run_until_complete(result)
            if hasattr(result, "__aiter__"):
                return iter(self._loop.run_until_complete(_collect(result)))
            return result

        return call

    def close(self) -> None:
        self._loop.run_until_complete(self.client.aclose())
        self._loop.close()


async def _collect(iterator: Any) -> list[Any]:
    return [item async for item in iterator]


@pytest.fixture(params=["sync", "async"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def make_client(rt: SimpleNamespace, config: Any, emu: Emulator) -> Iterator[Callable[..., Any]]:
    """make_client(kind="sync"|"async", **client kwargs); async clients come wrapped in
    Blocking unless raw=True."""
    opened: list[Any] = []

    def make(kind: str = "sync", *, raw: bool = False, cfg: Any = None, **kw: Any) -> Any:
        kw.setdefault("credentials", rt.ClientCredentials(CLIENT_ID, CLIENT_SECRET))
        if "base_url" not in kw:
            kw.setdefault("environment", "test")
        kw.setdefault("api_key", API_KEY)
        cls = rt.SyncAPIClient if kind == "sync" else rt.AsyncAPIClient
        client = cls(config=cfg or config, **kw)
        if kind == "async" and not raw:
            client = Blocking(client)
        if not raw:
            opened.append(client)
        return client

    yield make
    for client in opened:
        client.close()


@pytest.fixture
def fast_config(config: Any) -> Callable[..., Any]:
    return lambda **kw: replace(config, **kw)
