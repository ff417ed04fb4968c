"""The ASGI app: one route per spec operation, each running auth, rate limit and request checks
before the operation's handler (or the generic one)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import tempfile
from math import ceil
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from emulator import powerclerk
from emulator.auth import Auth
from emulator.errors import ApiError
from emulator.faults import Faults
from emulator.generic import placeholder
from emulator.handler import Behaviour, Call, Handler, Upload
from emulator.ratelimit import RateLimiter
from emulator.settings import Client, Settings
from emulator.validation import model_validator, problems, read_params
from generator.ir import Api, Operation, build_api
from generator.load import load_api_dir
from generator.validate import validate

BEHAVIOURS: dict[str, Behaviour] = {"powerclerk": powerclerk.BEHAVIOUR}
_FILENAME = re.compile(r"""filename\*?=(?:UTF-8'')?"?([^";]+)"?""", re.IGNORECASE)


def load_api(api_dir: Path) -> Api:
    documents = load_api_dir(api_dir)
    validate(documents)
    return build_api(documents)


class Emulator:
    """Everything one running app holds; `app.state.emulator` points here."""

    def __init__(self, api: Api, settings: Settings) -> None:
        self.api = api
        self.settings = settings
        self.auth = Auth(settings)
        self.limiter = RateLimiter()
        self.faults = Faults()
        self.behaviour = BEHAVIOURS.get(api.name, Behaviour())
        self.state = self.behaviour.make_state() if self.behaviour.make_state else None
        self._validators: dict[tuple[str, bool], Draft202012Validator] = {}

    def reset(self) -> None:
        """Seeded state, no MFA session tokens or faults, zero counters; access tokens stay
        valid so that a client kept across tests keeps working."""
        if self.state is not None:
            self.state.reset()
        self.auth.reset()
        self.limiter.reset()
        self.faults.reset()

    def validator(self, model: str, *, closed: bool = False) -> Draft202012Validator:
        if (model, closed) not in self._validators:
            self._validators[model, closed] = model_validator(self.api, model, closed=closed)
        return self._validators[model, closed]

    # -- one operation ------------------------------------------------------------------

    async def handle(self, op: Operation, request: Request) -> Response:
        upload = None
        try:
            handler = self.behaviour.handlers.get(op.wire_name)
            call, upload = await self._prepare(op, handler, request)
            return self._answer(op, self._run(op, handler, call))
        except ApiError as exc:
            return JSONResponse(exc.body(), exc.status, headers=exc.headers)
        finally:
            if upload is not None:  # a handler that kept the file has moved it away
                with contextlib.suppress(FileNotFoundError):
                    upload.path.unlink()

    def _check_access(self, op: Operation, request: Request, handler: Handler | None) -> Client:
        api, settings = self.api, self.settings
        key = self.auth.api_key(request, api.api_key_header) if api.api_key_header else ""
        client = self.auth.client(request)
        limit, window = settings.rate_limit, settings.rate_window
        wait = self.limiter.admit(key or client.client_id, limit, window)
        if wait is not None:
            headers = {"Retry-After": str(max(1, ceil(wait)))} if settings.send_retry_after else {}
            status = api.rate_limit.status if api.rate_limit else 429
            raise ApiError(status, "Too Many Requests", headers=headers)
        if op.mfa == "required" and client.mfa_totp_secret is None:
            raise ApiError(401, f"MFA is required: {op.wire_name} needs an MFA-enabled account.")
        self.auth.check_mfa(request, client, api.mfa_otp_header, api.mfa_session_header,
                            totp_only=bool(handler and handler.totp_only))
        if op.admin_only:
            self.auth.check_admin(client)
        return client

    async def _prepare(
        self, op: Operation, handler: Handler | None, request: Request
    ) -> tuple[Call, Upload | None]:
        client = self._check_access(op, request, handler)
        fault = self.faults.take(op.wire_name)
        if fault is not None:
            await asyncio.sleep(fault.delay)
            if fault.status is not None:
                raise ApiError(fault.status, f"Injected failure ({fault.status}).")
        params = read_params(op.params, request.query_params, request.headers)
        body, upload = None, None
        if op.body.kind == "json":
            body = await self._json_body(op, request)
        elif op.body.kind == "binary":
            upload = await _stream_to_file(request, self._upload_dir())
        call = Call(self.api, op, client, self.auth, dict(request.path_params), params,
                    request.headers, body, upload, self.state)
        return call, upload

    async def _json_body(self, op: Operation, request: Request) -> Any:
        raw = await request.body()
        if not raw.strip():
            # No body at all reads as {}: some setters' models have no required key.
            if any(f.required for f in self.api.model(op.body.model).fields):
                raise ApiError(400, f"A JSON body ({op.body.model}) is required.")
            raw = b"{}"
        try:
            body = json.loads(raw)
        except ValueError as exc:
            raise ApiError(400, f"The request body is not valid JSON: {exc}") from None
        errors = problems(self.validator(op.body.model), body)
        if errors:
            raise ApiError(400, f"The request body does not match {op.body.model}.", errors)
        return body

    def _upload_dir(self) -> Path | None:
        """Uploads land next to the stored files so that keeping one is a rename."""
        return getattr(self.state, "files_dir", None)

    def _run(self, op: Operation, handler: Handler | None, call: Call) -> Any:
        if handler is None:
            return generic_answer(self.api, op)
        lock = getattr(self.state, "lock", None) or contextlib.nullcontext()
        with lock:
            return handler.fn(call)

    def _answer(self, op: Operation, result: Any) -> Response:
        if isinstance(result, Response):
            return result
        if result is None:
            return Response(status_code=204)
        if self.settings.validate_responses and op.response.kind == "json":
            errors = problems(self.validator(op.response.model, closed=True), result)
            if errors:  # the handler drifted from the spec: say so loudly
                message = f"emulator answer of {op.wire_name} is not a valid {op.response.model}"
                raise ApiError(500, message, errors)
        return JSONResponse(result)


def generic_answer(api: Api, op: Operation) -> Any:
    """The smallest answer the spec allows, for operations no handler implements yet."""
    if op.response.kind == "json":
        return placeholder(api, op.response.model)
    if op.response.kind == "binary":
        return Response(b"emulator placeholder content\n", media_type="application/octet-stream")
    return None


async def _stream_to_file(request: Request, directory: Path | None) -> Upload:
    """Write the raw body to a temporary file chunk by chunk; uploads may be large."""
    fd, name = tempfile.mkstemp(prefix="upload-", dir=directory)
    try:
        with os.fdopen(fd, "wb") as out:
            async for chunk in request.stream():
                out.write(chunk)
    except BaseException:  # e.g. the client went away mid-upload
        os.unlink(name)
        raise
    match = _FILENAME.search(request.headers.get("Content-Disposition", ""))
    return Upload(
        path=Path(name),
        content_type=request.headers.get("Content-Type", "application/octet-stream"),
        file_name=match.group(1) if match else None,
    )


def _route_order(op: Operation) -> tuple:
    # Literal segments sort before {params}: /Projects/ByNumber must win over /Projects/{Id}.
    return tuple((seg.startswith("{"), seg) for seg in op.path.strip("/").split("/"))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return JSONResponse({"Message": exc.detail}, exc.status_code, headers=exc.headers)


def create_app(api_dir: Path, settings: Settings) -> Starlette:
    emulator = Emulator(load_api(api_dir), settings)
    api = emulator.api

    def endpoint(op: Operation):
        async def run(request: Request) -> Response:
            return await emulator.handle(op, request)

        return run

    async def token(request: Request) -> Response:
        emulator.limiter.count_token_request()
        return await emulator.auth.token_endpoint(request)

    routes = [Route(api.auth.token_path or settings.token_path, token, methods=["POST"])]
    routes += [
        Route(api.base_path + op.path, endpoint(op), methods=[op.method], name=op.wire_name)
        for op in sorted(api.operations, key=_route_order)
    ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: _http_error})
    app.state.emulator = emulator
    return app
