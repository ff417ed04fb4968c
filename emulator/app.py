"""The ASGI app: one route per spec operation, each running auth, rate limit and request checks
before the operation's handler (or the generic one)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import copy
import json
import math
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from starlette.applications import Starlette
from starlette.datastructures import QueryParams
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from emulator import behaviours, presigned
from emulator.auth import Auth
from emulator.batch import Batch, echoes_lists
from emulator.data import EmulatorData, load_api, load_data
from emulator.discovery import requested_kind, served_schema
from emulator.errors import ApiError, InvalidRequest, support_id
from emulator.faults import Faults
from emulator.generic import placeholder
from emulator.handler import Call, Handler
from emulator.ratelimit import RateLimiter
from emulator.records import RecordStore
from emulator.settings import Client, Settings
from emulator.uploads import Upload, stream_to_file
from emulator.validation import (
    canonical_document,
    field_aliases,
    jsonnet_message,
    model_validator,
    problems,
    read_params,
    schema_validator,
)
from generator.model import rules
from generator.model.ir import Api, Operation, key_fold
from generator.model.statuses import declared_statuses

_GRANTS = {"oauth2_client_credentials": "client_credentials", "oauth2_password": "password"}
# Every method reaches an operation path's endpoint, which answers 405 + Allow itself for those
# no operation takes (Starlette's own 405 would list the route's methods, not the spec's).
_EVERY_METHOD = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"]


class Emulator:
    """Everything one running app holds; `app.state.emulator` points here."""

    def __init__(self, api: Api, settings: Settings, data: EmulatorData) -> None:
        self.api = api
        self.settings = settings
        self.data = data
        self.auth = Auth(settings)
        self.limiter = RateLimiter()
        self.faults = Faults()
        self.presigned = presigned.PresignedUploads()
        self.behaviour = data.behaviour
        self.declarations = data.declarations
        make_state = self.behaviour.make_state
        self.records = (RecordStore(data.declarations.collections, data.seeds,
                                    case_insensitive=api.keys_case_insensitive)
                        if make_state or data.declarations.collections else None)
        # The hooks' state is built on the store; without hooks the store is the state.
        self.state = make_state(self.records) if make_state and self.records else self.records
        self._validators: dict[tuple[str, bool], Draft202012Validator] = {}
        # (model, schema change) -> (served schema, its validator)
        self._schemas: dict[tuple[str, str], tuple[dict, Draft202012Validator]] = {}
        self._aliases = field_aliases(api)
        self._fold = key_fold(api.keys_case_insensitive)
        shape = api.batch_result
        self._jsonnet = bool(shape and shape.error_description)  # Json.NET-style messages

    def reset(self) -> None:
        """Seeded state, no MFA session tokens, faults or pending uploads, zero counters;
        access tokens stay valid so that a client kept across tests keeps working."""
        if self.state is not None:
            self.state.reset()
        self.auth.reset()
        self.limiter.reset()
        self.faults.reset()
        self.presigned.reset()

    def close(self) -> None:
        """Remove the stored files."""
        for holder in {id(self.state): self.state, id(self.records): self.records}.values():
            if holder is not None:
                holder.close()

    def validator(self, model: str, *, closed: bool = False) -> Draft202012Validator:
        if (model, closed) not in self._validators:
            self._validators[model, closed] = model_validator(self.api, model, closed=closed)
        return self._validators[model, closed]

    def schema(self, op: Operation, kind: str) -> tuple[dict, Draft202012Validator] | None:
        """The request or response schema of `op` as served and enforced, with the change
        `settings.schema_changes` asks for; None when that payload is not JSON."""
        payload = op.body if kind == "request" else op.response
        if payload.kind != "json":
            return None
        change = self.settings.schema_changes.get(op.wire_name, {}).get(kind)
        replacement = self.settings.schema_replacements.get(op.wire_name, {}).get(kind)
        key = (payload.model_name, json.dumps([change, replacement], sort_keys=True))
        if key not in self._schemas:
            schema = served_schema(self.api, payload.model_name, change, replacement)
            self._schemas[key] = schema, schema_validator(schema)
        return self._schemas[key]

    # -- one operation ------------------------------------------------------------------

    async def handle(self, op: Operation, request: Request) -> Response:
        upload = None
        try:
            query = self._query(request, [op])
            if requested_kind(self.api, query):
                return self._discover(op, request, query)
            handler = self.behaviour.handlers.get(op.wire_name)
            call, upload = await self._prepare(op, handler, request, query)
            return self._answer(op, self._run(op, handler, call))
        except ApiError as exc:
            return self._error(exc)
        finally:
            if upload is not None:  # a handler that kept the file has moved it away
                with contextlib.suppress(FileNotFoundError):
                    upload.path.unlink()

    async def discover_only(self, ops: list[Operation], request: Request,
                            allow: dict[str, str]) -> Response:
        """A method no operation of this path takes: a schema request, or 405 + Allow."""
        try:
            query = self._query(request, ops)
            if not requested_kind(self.api, query):
                raise ApiError(405, f"Method {request.method} is not allowed here.",
                               headers=allow)
            return self._discover(ops[0], request, query)
        except ApiError as exc:
            return self._error(exc)

    def _discover(self, op: Operation, request: Request, query: QueryParams) -> Response:
        self._check_access(op, request, None)
        kind = requested_kind(self.api, query)
        raw = self.settings.schema_replacements.get(op.wire_name, {}).get(kind or "request")
        if isinstance(raw, str):
            return Response(raw, media_type="text/html")
        served = self.schema(op, kind or "request")
        if served is None:
            raise ApiError(404, f"{op.wire_name} has no JSON {kind} body.")
        return JSONResponse(served[0])

    def _query(self, request: Request, ops: list[Operation]) -> QueryParams:
        """The query, with names matched case-insensitively when the spec says keys are."""
        query = request.query_params
        if not self.api.keys_case_insensitive:
            return query
        names = [p.wire_name for op in ops for p in op.params_in("query")]
        if self.api.schema_discovery:
            names += [self.api.schema_discovery.flag, self.api.schema_discovery.kind]
        known = {self._fold(name): name for name in names}
        return QueryParams([(known.get(self._fold(k), k), v) for k, v in query.multi_items()])

    def _check_access(self, op: Operation, request: Request, handler: Handler | None) -> Client:
        api, settings = self.api, self.settings
        key = self.auth.api_key(request, api.api_key_header) if api.api_key_header else ""
        client = self.auth.client(request)
        limit, window = settings.rate_limit, settings.rate_window
        # An API without a published rate limit is only counted, never throttled.
        wait = self.limiter.admit(key or client.client_id, limit if api.rate_limit else math.inf,
                                  window)
        if wait is not None:
            retry = {"Retry-After": str(max(1, math.ceil(wait)))}
            headers = retry if settings.send_retry_after else {}
            status = api.rate_limit.status if api.rate_limit else 429
            raise ApiError(status, "Too Many Requests", headers=headers)
        if api.quota_status and not self.limiter.admit_daily(client.client_id,
                                                             settings.daily_quota):
            raise ApiError(api.quota_status, "API rate limit exceeded", support_id=False)
        if op.mfa == "required" and client.mfa_totp_secret is None:
            raise ApiError(403, f"{op.wire_name} needs an MFA-enabled account.")
        self.auth.check_mfa(request, client, api.mfa_otp_header, api.mfa_session_header,
                            totp_only=bool(handler and handler.totp_only))
        if op.admin_only:
            self.auth.check_admin(client)
        return client

    async def _prepare(
        self, op: Operation, handler: Handler | None, request: Request, query: QueryParams
    ) -> tuple[Call, Upload | None]:
        client = self._check_access(op, request, handler)
        fault = self.faults.take(op.wire_name)
        if fault is not None:
            await asyncio.sleep(fault.delay)
            if fault.status is not None:
                raise ApiError(fault.status, f"Injected failure ({fault.status}).")
        params = read_params(op.params, query, request.headers)
        body, batch, upload = None, None, None
        if op.body.kind == "json":
            body, batch = await self._json_body(op, request)
            upload = self._embedded_file(op, body)
        elif op.body.kind == "binary":
            upload = await stream_to_file(request, self.upload_dir())
            # The spec's binary body is required: no body at all (no bytes, no Content-Type) is
            # refused, an empty file is not.
            if upload.path.stat().st_size == 0 and "content-type" not in request.headers:
                raise ApiError(400, f"{op.wire_name} needs the file as the request body.")
        self._check_rules(op, {**request.path_params, **params}, body)
        call = Call(self.api, op, client, self.auth, dict(request.path_params), params,
                    request.headers, body, upload, self.state, self.settings,
                    str(request.base_url).rstrip("/"), batch, self.presigned,
                    op.wire_name in self.data.success_as_string, self.records,
                    self.declarations)
        return call, upload

    async def _json_body(self, op: Operation, request: Request) -> tuple[Any, Batch | None]:
        raw = await request.body()
        if not raw.strip():
            # No body at all reads as {}: some setters' models have no required key.
            if op.body.model is not None and any(f.required for f in op.body.model.fields):
                raise ApiError(400, f"A JSON body ({op.body.model_name}) is required.")
            raw = b"{}"
        try:
            body = json.loads(raw)
        except ValueError as exc:
            raise InvalidRequest(400, f"The request body is not valid JSON: {exc}") from None
        served = self.schema(op, "request")
        assert served is not None  # a JSON body has a schema
        schema, validator = served
        body = canonical_document(schema, body, self._aliases, self._fold,
                                  coerce=self.api.numbers_as_strings)
        # A body that fails the schema is a bad request, also when the problem sits inside one
        # record of a batch: only the outcomes of valid records are answered per record.
        errors = sorted(validator.iter_errors(body), key=lambda e: [str(p) for p in e.path])
        if errors:
            raise self._invalid(op, [self._message(e) for e in errors])
        return body, self._batch(op, body)

    def _check_rules(self, op: Operation, params: dict[str, Any], body: Any) -> None:
        """The spec's request rules (one-of-required, parameter formats and lengths), the only
        ones enforced beyond the body schema; the same check the generated clients run."""
        messages = rules.request_problems(op, params, body)
        if messages:
            raise self._invalid(op, messages)

    def _invalid(self, op: Operation, messages: list[str]) -> InvalidRequest:
        summary = ("There are error(s) in the request." if self._jsonnet  # Json.NET's summary
                   else f"The request body does not match {op.body.model_name}.")
        return InvalidRequest(400, summary, messages)

    def _message(self, error: Any) -> str:
        return jsonnet_message(error) if self._jsonnet else problems_text(error)

    def _batch(self, op: Operation, body: Any) -> Batch | None:
        shape = self.api.batch_result
        if op.batch is None or shape is None or not isinstance(body, dict):
            return None
        records = body.get(op.batch.records)
        if not isinstance(records, list):
            return None
        return Batch(shape, records, lists=echoes_lists(self.api, op),
                     failure_status=self.settings.partial_failure_status)

    def _embedded_file(self, op: Operation, body: Any) -> Upload | None:
        """A base64 file inside the JSON body (spec `file`), decoded to a temporary file after
        the size check."""
        spec = op.file
        if spec is None or spec.encoding != "base64" or not isinstance(body, dict):
            return None
        # The body schema checked the text (canonical base64, the spec's file encoding).
        data = base64.b64decode(body.get(spec.field) or "")
        limit = self.settings.base64_limit or spec.max_bytes
        if limit and len(data) > limit:
            raise ApiError(400, f"File size exceeds the {limit / 1048576:g} MB limit.")
        fd, name = tempfile.mkstemp(prefix="upload-", dir=self.upload_dir())
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        file_name = body.get(spec.name_field) if spec.name_field else None
        return Upload(Path(name), "application/octet-stream", file_name)

    def upload_dir(self) -> Path | None:
        """Uploads land next to the stored files so that keeping one is a rename."""
        return getattr(self.state, "files_dir", None)

    def lock(self) -> Any:
        return getattr(self.state, "lock", None) or contextlib.nullcontext()

    def _run(self, op: Operation, handler: Handler | None, call: Call) -> Any:
        declared = self.declarations.behaviours.get(op.wire_name)
        with self.lock():
            if handler is None and declared is None:
                collect = self.behaviour.records
                return generic_answer(self.api, op, collect(self.state) if collect else None)
            try:
                if handler is not None:
                    return handler.fn(call)
                assert declared is not None
                return behaviours.run(call, declared)
            except ApiError as exc:
                if exc.status < 500 and exc.status not in declared_statuses(self.api, op):
                    # the hook or behaviour knows a rule the spec does not state: say so loudly
                    source = "hook" if handler is not None else "behaviour"
                    message = f"{op.wire_name} {source} answered undeclared {exc.status}"
                    raise ApiError(500, message, [exc.message]) from exc
                raise

    def _answer(self, op: Operation, result: Any) -> Response:
        if isinstance(result, Response):
            return result
        if result is None:
            return Response(status_code=204)
        mutation = self.settings.response_mutations.get(op.wire_name)
        if mutation is not None:  # drifting on purpose: validation would only turn it into a 500
            return JSONResponse(mutated(result, mutation))
        if self.settings.validate_responses and op.response.kind == "json":
            errors = problems(self.validator(op.response.model_name, closed=True), result)
            if errors:  # the handler drifted from the spec: say so loudly
                message = (f"emulator answer of {op.wire_name} is not a valid "
                           f"{op.response.model_name}")
                raise ApiError(500, message, errors)
        return JSONResponse(result)

    def _error(self, exc: ApiError) -> Response:
        """An error in the API's own shape: its batch_result fields when it has them."""
        shape = self.api.batch_result
        if shape is None:
            return JSONResponse(exc.body(), exc.status, headers=exc.headers)
        body: dict[str, Any]
        if isinstance(exc, InvalidRequest) and shape.error_description:
            body = {shape.error_description: exc.message}
            messages = exc.errors
        else:
            body = {shape.success: False}
            messages = [exc.message, *exc.errors]
        if shape.messages:
            body[shape.messages] = messages
        if shape.support_id and exc.support_id:
            body[shape.support_id] = support_id()
        return JSONResponse(body, exc.status, headers=exc.headers)


def problems_text(error: Any) -> str:
    return f"{error.json_path}: {error.message}"


def mutated(document: Any, mutation: dict[str, Any]) -> Any:
    """A copy of a handler answer with one `settings.response_mutations` entry applied."""
    document = copy.deepcopy(document)
    for path, value in mutation.get("add", {}).items():
        for owner, name in _owners(document, path):
            owner[name] = copy.deepcopy(value)
    for path in mutation.get("remove", []):
        for owner, name in _owners(document, path):
            owner.pop(name, None)
    for path, value in mutation.get("retype", {}).items():
        for owner, name in _owners(document, path):
            if name in owner:  # retyping an absent key would be an addition
                owner[name] = copy.deepcopy(value)
    return document


def _owners(document: Any, path: str) -> list[tuple[dict[str, Any], str]]:
    """Every object that holds the last key of `path` ("Projects[].ProjectOwner.Email"), with
    that key; `[]` fans out over a list, a missing step yields nothing."""
    *walk, last = path.split(".")
    nodes = [document]
    for part in walk:
        name = part.removesuffix("[]")
        nodes = [n[name] for n in nodes if isinstance(n, dict) and n.get(name) is not None]
        if part.endswith("[]"):
            nodes = [item for n in nodes if isinstance(n, list) for item in n]
    return [(n, last) for n in nodes if isinstance(n, dict)]


def generic_answer(api: Api, op: Operation, records: dict[str, list[dict]] | None = None) -> Any:
    """The answer of an operation no hook implements: built from the response model and the
    records the state holds."""
    if op.response.kind == "json":
        return placeholder(api, op.response.model_name, records)
    if op.response.kind == "binary":
        return Response(b"emulator placeholder content\n", media_type="application/octet-stream")
    return None


def _route_order(path: str) -> tuple:
    # Literal segments sort before {params}: /Projects/ByNumber must win over /Projects/{Id}.
    return tuple((seg.startswith("{"), seg) for seg in path.strip("/").split("/"))


def _route(path: str, endpoint: Any, methods: list[str], api: Api) -> Route:
    route = Route(path, endpoint, methods=methods)
    if api.keys_case_insensitive:  # ASP.NET-style routing: /api/v2/noncostprocesses/import
        route.path_regex = re.compile(route.path_regex.pattern, re.IGNORECASE)
    return route


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return JSONResponse({"Message": exc.detail}, exc.status_code, headers=exc.headers)


def create_app(api_dir: Path, settings: Settings) -> Starlette:
    api = load_api(api_dir)
    data = load_data(api_dir, api)
    if settings.token_lifetime is None:
        settings.token_lifetime = api.auth.token_lifetime_seconds
    if not settings.clients:
        settings.clients = tuple(c.client for c in data.credentials.values())
    emulator = Emulator(api, settings, data)

    def endpoint(ops: list[Operation]):
        by_method = {op.method.upper(): op for op in ops}
        if "GET" in by_method:
            by_method.setdefault("HEAD", by_method["GET"])
        allow = {"Allow": ", ".join(sorted(by_method))}

        async def run(request: Request) -> Response:
            op = by_method.get(request.method)
            if op is not None:
                return await emulator.handle(op, request)
            return await emulator.discover_only(ops, request, allow)

        return run

    async def token(request: Request) -> Response:
        emulator.limiter.count_token_request()
        return await emulator.auth.token_endpoint(request, _GRANTS[api.auth.kind],
                                                  data.token_type)

    async def upload(request: Request) -> Response:
        return await emulator.presigned.receive(request, emulator.upload_dir(), emulator.lock())

    # One route per path, so that a method no operation takes gets 405 with every declared
    # method in Allow (or, with schema discovery, a schema when it asks for one).
    by_path: dict[str, list[Operation]] = {}
    for op in api.operations:
        for path in (op.path, *data.path_aliases.get(op.wire_name, ())):
            by_path.setdefault(path, []).append(op)
    routes = [_route(settings.token_route(api.auth.token_path), token, ["POST"], api)]
    routes += [_route(api.base_path + path, endpoint(by_path[path]), _EVERY_METHOD, api)
               for path in sorted(by_path, key=_route_order)]
    if any(op.presigned_upload for op in api.operations):
        routes.append(Route(presigned.PATH, upload, methods=["PUT"]))
    app = Starlette(routes=routes, exception_handlers={HTTPException: _http_error})
    app.state.emulator = emulator
    return app
