"""The HTTP engine behind every generated client.

`_BaseClient` holds all the policy (URLs, headers, bodies, retry decisions, error mapping,
backoff); `SyncAPIClient` and `AsyncAPIClient` only do the I/O.
"""

from __future__ import annotations

import asyncio
import copy
import email.utils
import json
import logging
import random
import os
import re
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from datetime import time as dtime
from decimal import Decimal
from enum import Enum
from typing import IO, Any, Generic, TypeVar
from urllib.parse import quote

import httpx
import pydantic

from ._auth import ClientCredentials, Mfa, PasswordCredentials, Secret, TokenCache
from ._checks import request_problems
from ._exceptions import (
    APIConnectionError,
    APITimeoutError,
    InternalServerError,
    MfaConfigurationError,
    OutcomeUnknownConnectionError,
    OutcomeUnknownServerError,
    OutcomeUnknownTimeoutError,
    QuotaExceededError,
    RequestValidationError,
    ResponseValidationError,
    error_from_response,
    status_error,
)
from ._files import (
    CHUNK_SIZE,
    BodySource,
    Destination,
    DownloadTarget,
    RequestBody,
    content_disposition,
    guess_content_type,
)
from ._pagination import AsyncPage, Cursor, Page
from ._ratelimit import RateLimiter
from ._redact import RedactingLog, Redactor
from ._redirects import STATUS as REDIRECT_STATUS
from ._redirects import Redirects
from ._response import (
    AsyncStreamedResponse,
    AsyncStreamedResponseManager,
    StreamedResponse,
    StreamedResponseManager,
    note_answer,
    note_response,
)
from ._spec import ApiConfig, Operation

M = TypeVar("M", bound=pydantic.BaseModel)
T = TypeVar("T")
_HttpT = TypeVar("_HttpT", httpx.Client, httpx.AsyncClient)
_Self = TypeVar("_Self", bound="_BaseClient[Any]")

_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")
_RETRY_STATUSES = frozenset({500, 502, 503, 504})
_BACKOFF_BASE = 0.5
_BACKOFF_CAP = 30.0
# Nothing reached the server: safe to retry any operation.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# The request may have been processed: retried only for idempotent operations.
_MAYBE_SENT = (httpx.NetworkError, httpx.TimeoutException, httpx.RemoteProtocolError)
_UNKNOWN = (
    "outcome unknown: the server may have applied {op}; it was not sent again, so check its "
    "effect before repeating it"
)


class _FromConfig(Enum):
    FROM_CONFIG = "from config"


FROM_CONFIG = _FromConfig.FROM_CONFIG


def _isoformat(value: date | dtime) -> str:
    # A timestamp without an offset means different instants to client and server.
    if isinstance(value, datetime) and value.utcoffset() is None:
        raise ValueError(
            f"{value!r} has no time zone; pass an aware datetime, e.g. with tzinfo=timezone.utc"
        )
    return value.isoformat()


def _scalar(value: Any) -> str:
    """The wire form of a path, query or header value."""
    if isinstance(value, Enum):
        return _scalar(value.value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date | dtime):
        return _isoformat(value)
    return str(value)


def encode_json(value: Any) -> bytes:
    """JSON-encode `value`; Decimal becomes a JSON number with its exact digits."""
    marker = secrets.token_hex(8)  # random, so no string in the payload can collide with it
    decimals: list[str] = []

    def default(obj: Any) -> Any:
        if isinstance(obj, Decimal):
            if not obj.is_finite():
                raise ValueError(f"{obj} has no JSON representation")
            # Most amounts are integers or floats of the very same value: encoded natively.
            if obj == obj.to_integral_value():
                return int(obj)
            as_float = float(obj)
            if Decimal(repr(as_float)) == obj:
                return as_float
            decimals.append(str(obj))
            return f"{marker}:{len(decimals) - 1}"
        if isinstance(obj, date | dtime):
            return _isoformat(obj)
        if isinstance(obj, Enum):
            return obj.value
        raise TypeError(f"{type(obj).__name__} is not JSON serializable")

    text = json.dumps(
        value, default=default, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    if decimals:
        text = re.sub(f'"{marker}:(\\d+)"', lambda m: decimals[int(m.group(1))], text)
    return text.encode("utf-8")


def backoff(retry: int) -> float:
    """Capped exponential backoff with full jitter; `retry` counts from 0."""
    return random.uniform(0.0, min(_BACKOFF_CAP, _BACKOFF_BASE * 2**retry))


def retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date), None if absent."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _wire_keyed(op: Operation, location: str, values: Mapping[str, Any] | None) -> dict[str, Any]:
    """Accept python or wire names for the operation's parameters; return wire-keyed values."""
    names = {p.python_name: p.wire_name for p in op.params if p.location == location}
    return {names.get(key, key): value for key, value in (values or {}).items()}


@dataclass(frozen=True, slots=True)
class RequestOptions:
    """The per-call options of a generated method. `timeout`: seconds (or an `httpx.Timeout`)
    for each HTTP exchange of this call, None keeping the client's; `extra_headers` and
    `extra_query`: sent besides the generated ones and winning over them (the credentials
    headers are always the client's); `extra_body`: fields merged into the JSON body, refused
    for a binary body."""

    timeout: float | httpx.Timeout | None = None
    extra_headers: Mapping[str, str] | None = None
    extra_query: Mapping[str, Any] | None = None
    extra_body: Mapping[str, Any] | None = None

    def __repr__(self) -> str:
        # Names only: a value may be a credential the client does not know of.
        keys = {
            "extra_headers": self.extra_headers,
            "extra_query": self.extra_query,
            "extra_body": self.extra_body,
        }
        shown = [f"timeout={self.timeout!r}"] + [
            f"{name}={sorted(values)!r}" for name, values in keys.items() if values
        ]
        return f"RequestOptions({', '.join(shown)})"


_NO_OPTIONS = RequestOptions()


@dataclass(slots=True)
class _Call:
    """One logical call, prepared once; every attempt adds fresh auth headers."""

    op: Operation
    url: str
    params: list[tuple[str, str]]
    headers: dict[str, str]
    body: RequestBody | None
    timeout: float | httpx.Timeout
    target: DownloadTarget | None = None
    authorized: bool = True  # False once a redirect left the origin: no secrets sent there


def _check_timeout(timeout: float | httpx.Timeout) -> None:
    if not isinstance(timeout, httpx.Timeout) and timeout <= 0:
        raise ValueError("timeout must be > 0")


def _set_header(headers: dict[str, str], name: str, value: str) -> None:
    """Replace a header whatever the case it was first written in."""
    for key in [k for k in headers if k.lower() == name.lower()]:
        del headers[key]
    headers[name] = value


def _params(values: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Query pairs of wire-keyed values; a list repeats its parameter."""
    params: list[tuple[str, str]] = []
    for name, value in values.items():
        many = value if isinstance(value, list | tuple | set | frozenset) else [value]
        params.extend((name, _scalar(v)) for v in many if v is not None)
    return params


class _Attempts:
    """Retry bookkeeping of one call: after each attempt, says how long to wait before the next
    one, or raises the final error."""

    def __init__(self, client: _BaseClient[Any], call: _Call) -> None:
        self._client = client
        self._call = call
        self.number = 1
        self._retries = 0
        self._reauthed = False
        self._redirects = Redirects(call.op.idempotent, client._redactor)

    def _replayable(self) -> bool:
        call = self._call
        return (call.body is None or call.body.replayable) and (
            call.target is None or call.target.restartable
        )

    def _retry(self, request: httpx.Request, wait: float, why: str) -> float:
        self._client._log.debug(
            "%s %s: %s, retry %d of %d in %.3fs",
            request.method,
            request.url,
            why,
            self._retries + 1,
            self._client.max_retries,
            wait,
        )
        self._retries += 1
        self.number += 1
        return wait

    def after_response(self, response: httpx.Response, token: Secret) -> float:
        """Called for a non-2xx response whose body has been read."""
        client, config, op = self._client, self._client._config, self._call.op
        status = response.status_code
        if status == REDIRECT_STATUS:
            return self._redirect(response)
        tokens = client._tokens
        if (status == 401 and self._call.authorized and not self._reauthed
                and self._replayable() and tokens.worth_refreshing(token)):
            # The token may have been revoked early; one fresh token, one more try (not counted).
            self._reauthed = True
            tokens.invalidate(token)
            self.number += 1
            client._log.debug(
                "%s %s: 401, retrying with a new token", response.request.method, response.url
            )
            return 0.0
        cls = status_error(status, config.quota_status, config.rate_limit_status)
        asked = retry_after(response.headers.get("retry-after"))
        note = ""
        if status == 401 and self._reauthed:
            tokens.refused(token)
            note = "a new access token was refused as well, so the token is not the cause"
        elif status == 401 and not tokens.worth_refreshing(token):
            note = "a new access token was refused as well before, so no other one was fetched"
        # A rate-limited request was not processed, so it is safe to repeat for any method.
        retryable = cls is not QuotaExceededError and (
            status == config.rate_limit_status or (status in _RETRY_STATUSES and op.idempotent)
        )
        if retryable and self._retries < client.max_retries and self._replayable():
            if asked is None:
                return self._retry(response.request, backoff(self._retries), f"status {status}")
            if asked <= client.max_retry_wait:
                return self._retry(response.request, asked, f"status {status}")
            note = (f"the server asks to wait {asked:g} s (Retry-After), longer than "
                    f"max_retry_wait={client.max_retry_wait:g} s: not retried")
        if cls is InternalServerError and not op.idempotent:
            cls = OutcomeUnknownServerError
            note = _UNKNOWN.format(op=op.wire_name)
        error = error_from_response(response, cls, config.errors,
                                    client._redactor, note=note, retry_after=asked)
        if isinstance(error, OutcomeUnknownServerError):
            error.operation = op.wire_name
        raise error

    def _redirect(self, response: httpx.Response) -> float:
        """Send the call to the 301's Location next (see _redirects), at once."""
        call = self._call
        if not self._replayable():
            why = "the request body is a one-shot stream; send it to the Location again yourself"
            raise self._redirects.refusal(response, why)
        target = self._redirects.follow(response)
        call.url, call.params = target, []  # the Location is the whole URI, query included
        call.authorized = call.authorized and self._redirects.same_origin
        self.number += 1
        self._client._log.debug(
            "%s %s: 301, sending it to %s%s",
            response.request.method,
            response.request.url,
            self._client._redactor.uri(target),
            "" if call.authorized else " without credentials (another origin)",
        )
        return 0.0

    def after_error(self, exc: httpx.TransportError, request: httpx.Request) -> float:
        """Called inside the `except` for a transport error."""
        op = self._call.op
        not_sent = isinstance(exc, _NOT_SENT)
        maybe_sent = not not_sent and isinstance(exc, _MAYBE_SENT)
        retryable = not_sent or (maybe_sent and op.idempotent)
        if retryable and self._retries < self._client.max_retries and self._replayable():
            return self._retry(request, backoff(self._retries), type(exc).__name__)
        redactor = self._client._redactor
        raw = str(exc) or "no detail"
        detail = redactor.text(raw)
        message = f"{type(exc).__name__}: {detail}"
        url = redactor.text(str(request.url))
        timeout = isinstance(exc, httpx.TimeoutException)
        error: APIConnectionError
        if maybe_sent and not op.idempotent:
            cls = OutcomeUnknownTimeoutError if timeout else OutcomeUnknownConnectionError
            error = cls(f"{message}; {_UNKNOWN.format(op=op.wire_name)}", method=request.method,
                        url=url, operation=op.wire_name)
        else:
            error = (APITimeoutError if timeout else APIConnectionError)(
                message, method=request.method, url=url
            )
        # The library's own text is not shown when it held a secret (h11 quotes bad headers).
        raise error from (exc if detail == raw else None)


class _BaseClient(Generic[_HttpT]):
    """Everything but the I/O; the subclasses add `_new_http`, `_execute` and the methods."""

    def __init__(
        self,
        *,
        config: ApiConfig,
        credentials: ClientCredentials | PasswordCredentials,
        environment: str | None = None,
        base_url: str | None = None,
        token_url: str | None = None,
        api_key: str | None = None,
        mfa: Mfa | None = None,
        rate_limit: int | None | _FromConfig = FROM_CONFIG,
        rate_window: float | None = None,
        max_retries: int = 4,
        timeout: float = 30.0,
        http_client: _HttpT | None = None,
        max_retry_wait: float = 60.0,
    ) -> None:
        """`rate_limit`: operations per `rate_window` seconds (default: the API's published
        limit); None disables client-side limiting. `timeout` applies to every HTTP exchange.
        An `http_client` passed in is used as is and not closed by `close()`. A `Retry-After`
        longer than `max_retry_wait` seconds is not waited for: the error is raised with its
        `retry_after`."""
        self._config = config
        self.base_url, token = self._resolve_urls(config, environment, base_url, token_url)
        if max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        _check_timeout(timeout)
        if max_retry_wait < 0:
            raise ValueError("max_retry_wait must be >= 0")
        if api_key is not None and not config.api_key_header:
            raise ValueError(f"the {config.title} API takes no API key")
        if mfa is not None:
            mfa.check(config)
        self.max_retries = max_retries
        self.max_retry_wait = max_retry_wait
        self._timeout: float | httpx.Timeout = timeout
        self._api_key = None if api_key is None else Secret(api_key)
        self._mfa = mfa
        self._credentials = credentials
        self._redactor = Redactor(
            (config.api_key_header, config.mfa_otp_header, config.mfa_session_header)
        )
        self._redactor.add(api_key, *credentials.secrets(), *(mfa.secrets() if mfa else ()))
        self._user_agent = f"{config.name}-python/{config.version}"
        self._log = RedactingLog(logging.getLogger(config.name), self._redactor)
        operations = config.rate_limit_operations if rate_limit is FROM_CONFIG else rate_limit
        window = config.rate_limit_seconds if rate_window is None else rate_window
        self._limiter = None if operations is None else RateLimiter(operations, window)
        self._tokens = TokenCache(
            config,
            credentials,
            token,
            timeout=timeout,
            user_agent=self._user_agent,
            redactor=self._redactor,
        )
        self._owns_http = http_client is None
        self._http: _HttpT = http_client if http_client is not None else self._new_http()

    def _new_http(self) -> _HttpT:
        raise NotImplementedError

    def _bind_resources(self) -> None:
        """Where a generated client attaches its resources (again, on a copy)."""

    def with_options(
        self: _Self, *, timeout: float | httpx.Timeout | None = None, max_retries: int | None = None
    ) -> _Self:
        """A copy of this client with another default `timeout` and/or `max_retries`; this
        client is unchanged. The copy shares the connection pool, the access-token cache, the
        rate limiter and the secrets (same credentials, same server: one token and one rate
        budget for both). Closing the copy leaves the pool open: close the original."""
        if timeout is not None:
            _check_timeout(timeout)
        if max_retries is not None and max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        clone = copy.copy(self)
        clone._owns_http = False
        if timeout is not None:
            clone._timeout = timeout
        if max_retries is not None:
            clone.max_retries = max_retries
        clone._bind_resources()
        return clone

    @staticmethod
    def _resolve_urls(
        config: ApiConfig, environment: str | None, base_url: str | None, token_url: str | None
    ) -> tuple[str, str]:
        known = ", ".join(config.environments) or "none"
        if (environment is None) == (base_url is None):
            prefix = config.env_prefix
            where = f" (or set {prefix}_ENVIRONMENT or {prefix}_BASE_URL)" if prefix else ""
            raise ValueError(
                f"pass exactly one of environment= (known: {known}) or base_url={where}"
            )
        if environment is not None:
            env = config.environments.get(environment)
            if env is None:
                raise ValueError(f"unknown environment {environment!r}; known: {known}")
        else:
            # A base_url that is a known environment's also gets that environment's token URL.
            wanted = str(base_url).rstrip("/")
            env = next(
                (e for e in config.environments.values() if e.base_url.rstrip("/") == wanted),
                None,
            )
        base = (env.base_url if env is not None else str(base_url)).rstrip("/")
        env_token = env.token_url if env is not None else ""
        fallback = base + config.token_path if config.token_path else ""
        token = token_url or env_token or fallback
        if not token:
            raise ValueError("cannot determine the token URL; pass token_url=")
        return base, token

    def __repr__(self) -> str:
        limiter = repr(self._limiter) if self._limiter is not None else "None"
        return (
            f"{type(self).__name__}(api={self._config.name!r}, base_url={self.base_url!r}, "
            f"token_url={self._tokens.token_url!r}, credentials={self._credentials!r}, "
            f"api_key={self._api_key!r}, mfa={self._mfa!r}, rate_limiter={limiter}, "
            f"max_retries={self.max_retries})"
        )

    # ----- request preparation (shared) -----

    def _prepare(
        self,
        op: Operation,
        path: Mapping[str, Any] | None,
        query: Mapping[str, Any] | None,
        headers: Mapping[str, Any] | None,
        body: RequestBody | None = None,
        body_headers: Mapping[str, str] | None = None,
        target: DownloadTarget | None = None,
        payload: Any = None,
        options: RequestOptions | None = None,
    ) -> _Call:
        options = options or _NO_OPTIONS
        if self._mfa is None:
            self._refuse_without_mfa(op, query, headers)
        given = {
            name: value
            for location, values in (("path", path), ("query", query), ("header", headers))
            for name, value in _wire_keyed(op, location, values).items()
            if value is not None
        }
        problems = request_problems(op, given, payload)
        if problems:
            raise RequestValidationError(op.python_name, problems)
        prepared = {"User-Agent": self._user_agent}
        if op.response != "binary":
            prepared["Accept"] = "application/json"
        for name, value in _wire_keyed(op, "header", headers).items():
            if value is not None:
                prepared[name] = _scalar(value)
        prepared.update(body_headers or {})
        for name, text in (options.extra_headers or {}).items():
            _set_header(prepared, name, text)
        params = self._query(op, query)
        if options.extra_query:
            params = [(k, v) for k, v in params if k not in options.extra_query]
            params += _params(options.extra_query)
        timeout = self._timeout if options.timeout is None else options.timeout
        _check_timeout(timeout)
        url = self._url(op, path)
        return _Call(op, url, params, prepared, body, timeout, target)

    @staticmethod
    def _refuse_without_mfa(
        op: Operation, query: Mapping[str, Any] | None, headers: Mapping[str, Any] | None
    ) -> None:
        """Nothing is sent that the server would refuse for want of MFA."""
        if op.mfa == "required":
            raise MfaConfigurationError(f"{op.python_name} requires MFA; pass mfa= to the client")
        given = {**_wire_keyed(op, "query", query), **_wire_keyed(op, "header", headers)}
        for param in op.params:
            value = given.get(param.wire_name)
            if param.mfa_when_true and value is not None and _scalar(value).lower() == "true":
                raise MfaConfigurationError(
                    f"{op.python_name}: {param.python_name}=True requires MFA; "
                    "pass mfa= to the client"
                )

    def _url(self, op: Operation, path: Mapping[str, Any] | None) -> str:
        values = _wire_keyed(op, "path", path)
        python = {p.wire_name: p.python_name for p in op.params}

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if values.get(name) is None:
                missing = f"missing path parameter {python.get(name, name)!r}"
                raise RequestValidationError(op.python_name, [missing])
            return quote(_scalar(values[name]), safe="")

        return self.base_url + self._config.base_path + _PLACEHOLDER.sub(substitute, op.path)

    def _query(self, op: Operation, query: Mapping[str, Any] | None) -> list[tuple[str, str]]:
        return _params(_wire_keyed(op, "query", query))

    @staticmethod
    def _merged_body(
        op: Operation, payload: Any, binary: bool, options: RequestOptions | None
    ) -> Any:
        """The JSON payload with `extra_body` merged in (its fields win)."""
        extra = options.extra_body if options is not None else None
        if not extra:
            return payload
        if binary:
            raise ValueError(
                f"{op.python_name} sends a binary body: extra_body= has no JSON body to go into"
            )
        if payload is None:
            return dict(extra)
        if not isinstance(payload, Mapping):
            raise ValueError(f"{op.python_name}: extra_body= needs a JSON object body")
        return {**payload, **extra}

    def _json_body(
        self,
        op: Operation,
        payload: Any,
        content: bytes | IO[bytes] | None,
        content_type: str | None,
    ) -> tuple[RequestBody | None, dict[str, str]]:
        if payload is not None and content is not None:
            raise ValueError("pass json= or content=, not both")
        if payload is not None:
            kind = content_type or op.body_content_type or self._config.default_content_type
            return self._body(RequestBody(encode_json(payload)), kind or "application/json")
        if isinstance(content, str):  # RequestBody would take it for a path
            raise TypeError("content= takes bytes or a binary file; use upload() for a path")
        if content is not None:
            kind = content_type or op.body_content_type or "application/octet-stream"
            return self._body(RequestBody(content), kind)
        return None, {}

    def _upload_body(
        self, op: Operation, source: BodySource, content_type: str | None, filename: str | None
    ) -> tuple[RequestBody, dict[str, str]]:
        body = RequestBody(source)
        kind = (
            content_type
            or guess_content_type(filename or body.name)
            or op.body_content_type
            or "application/octet-stream"
        )
        headers = self._body(body, kind)[1]
        # A path or a named file object names the upload unless the caller said otherwise.
        filename = filename or (os.path.basename(body.name) if body.name else None)
        if filename:
            headers["Content-Disposition"] = content_disposition(filename)
        return body, headers

    @staticmethod
    def _body(body: RequestBody, kind: str) -> tuple[RequestBody, dict[str, str]]:
        headers = {"Content-Type": kind}
        if body.length is not None:
            headers["Content-Length"] = str(body.length)
        return body, headers

    @staticmethod
    def _cursor(op: Operation, query: Mapping[str, Any] | None, page_size: int | None) -> Cursor:
        return Cursor.first(op, _wire_keyed(op, "query", query), page_size)

    def _request_args(self, call: _Call, token: Secret) -> dict[str, Any]:
        """Arguments of `build_request` for one attempt; secrets are added only here."""
        headers = dict(call.headers)
        if call.authorized:
            headers["Authorization"] = f"Bearer {token.get_secret_value()}"
            if self._api_key is not None:
                headers[self._config.api_key_header] = self._api_key.get_secret_value()
            if self._mfa is not None:
                codes = self._mfa.headers(self._config)  # a fresh code every attempt
                self._redactor.add(*codes.values(), rotating=True)
                headers.update(codes)
        return {
            "method": call.op.method,
            "url": call.url,
            "params": call.params or None,  # None keeps a query that is part of the URL
            "headers": headers,
            "timeout": call.timeout,
        }

    def _sent(self, request: httpx.Request, attempts: _Attempts) -> None:
        self._log.debug("%s %s (attempt %d)", request.method, request.url, attempts.number)

    def _received(self, response: httpx.Response, attempts: _Attempts) -> None:
        self._log.debug(
            "%s %s -> %d (attempt %d)",
            response.request.method,
            response.request.url,
            response.status_code,
            attempts.number,
        )

    def parse_model(self, response: httpx.Response, model: type[M]) -> M:
        """Read a 2xx JSON body into `model`; a body that does not fit is
        ResponseValidationError."""
        redactor = self._redactor
        method, url = response.request.method, redactor.text(str(response.request.url))
        # Said outright: the call was applied, so repeating it would apply it again.
        applied = f"; the server answered {response.status_code}, so the request was processed"
        try:
            data = response.json()
        except ValueError:
            kind = response.headers.get("content-type") or "no content type"
            raise ResponseValidationError(
                f"expected a JSON {model.__name__}, got {kind}{applied}",
                method=method,
                url=url,
                body=redactor.text(response.text),
                errors=[],
            ) from None
        try:
            answer = model.model_validate(data)
        except pydantic.ValidationError as exc:
            errors = exc.errors(include_url=False)
            first = errors[0]
            where = ".".join(str(part) for part in first["loc"]) or "body"
            raise ResponseValidationError(
                f"response does not fit {model.__name__} ({len(errors)} error(s); "
                f"{where}: {first['msg']}){applied}",
                method=method,
                url=url,
                body=redactor.data(data),
                errors=[redactor.data(error) for error in errors],
            ) from None
        note_answer(response, answer)
        return answer


def _read(response: httpx.Response) -> httpx.Response:
    response.read()
    return response


async def _aread(response: httpx.Response) -> httpx.Response:
    await response.aread()
    return response


def _same(response: httpx.Response) -> httpx.Response:
    return response


async def _asame(response: httpx.Response) -> httpx.Response:
    return response


class SyncAPIClient(_BaseClient[httpx.Client]):
    """Blocking client; thread-safe (one token, one rate limiter for all threads)."""

    def _new_http(self) -> httpx.Client:
        return httpx.Client(timeout=self._timeout)

    def _sleep(self, seconds: float) -> None:  # tests may replace it
        time.sleep(seconds)

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self: _Self) -> _Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _execute(
        self, call: _Call, consume: Callable[[httpx.Response], T], keep_open: bool = False
    ) -> T:
        """Run the call's attempts; `consume` reads the 2xx response, which is closed after
        unless `keep_open` (a streamed response, closed by its reader)."""
        attempts = _Attempts(self, call)
        while True:
            token = self._tokens.get_sync(self._http)
            if self._limiter is not None:
                self._limiter.acquire()
            content = call.body.sync_content() if call.body is not None else None
            request = self._http.build_request(content=content, **self._request_args(call, token))
            self._sent(request, attempts)
            try:
                response = self._http.send(request, stream=True)
                keep = False
                try:
                    self._received(response, attempts)
                    if response.is_success:
                        note_response(response, self._redactor)
                        result = consume(response)
                        keep = keep_open
                        return result
                    response.read()
                finally:
                    if not keep:
                        response.close()
            except httpx.TransportError as exc:
                wait = attempts.after_error(exc, request)
            else:
                wait = attempts.after_response(response, token)
            if wait > 0:
                self._sleep(wait)

    def request(
        self,
        op: Operation,
        *,
        path: Mapping[str, Any] | None = None,
        query: Mapping[str, Any] | None = None,
        headers: Mapping[str, Any] | None = None,
        json: Any = None,
        content: bytes | IO[bytes] | None = None,
        content_type: str | None = None,
        options: RequestOptions | None = None,
    ) -> httpx.Response:
        """Send `op` under the full retry/auth policy; return the 2xx response, body read."""
        payload = self._merged_body(op, json, content is not None, options)
        body, body_headers = self._json_body(op, payload, content, content_type)
        call = self._prepare(
            op, path, query, headers, body, body_headers, payload=payload, options=options
        )
        return self._execute(call, _read)

    def request_model(
        self,
        op: Operation,
        model: type[M],
        *,
        path: Mapping[str, Any] | None = None,
        query: Mapping[str, Any] | None = None,
        headers: Mapping[str, Any] | None = None,
        json: Any = None,
        content: bytes | IO[bytes] | None = None,
        content_type: str | None = None,
        options: RequestOptions | None = None,
    ) -> M:
        response = self.request(
            op,
            path=path,
            query=query,
            headers=headers,
            json=json,
            content=content,
            content_type=content_type,
            options=options,
        )
        return self.parse_model(response, model)

    def _pager(
        self,
        op: Operation,
        model: type[M],
        path: Mapping[str, Any] | None,
        headers: Mapping[str, Any] | None,
        options: RequestOptions | None,
    ) -> Callable[[Cursor], Page[Any]]:
        def fetch(at: Cursor) -> Page[Any]:
            response = self.request_model(
                op, model, path=path, query=at.params(), headers=headers, options=options
            )
            items = at.items(response)
            return Page(items, response, at.after(len(items)), fetch)

        return fetch

    def page(
        self,
        op: Operation,
        model: type[M],
        *,
        path: Mapping[str, Any] | None = None,
        query: Mapping[str, Any] | None = None,
        headers: Mapping[str, Any] | None = None,
        page_size: int | None = None,
        options: RequestOptions | None = None,
    ) -> Page[Any]:
        """The page at `query`'s offset (0 by default); iterating it yields every item on."""
        cursor = self._cursor(op, query, page_size)
        return self._pager(op, model, path, headers, options)(cursor)

    def paginate(
        self,
        op: Operation,
        model: type[M],
        *,
        path: Mapping[str, Any] | None = None,
        query: Mapping[str, Any] | None = None,
        headers: Mapping[str, Any] | None = None,
        page_size: int | None = None,
        options: RequestOptions | None = None,
    ) -> Iterator[Any]:
        """Lazily yield the items of every page (arguments are checked at once)."""
        cursor = self._cursor(op, query, page_size)
        fetch = self._pager(op, model, path, headers, options)

        def items() -> Iterator[Any]:
            yield from fetch(cursor)

        return items()

    def download(
        self,
        op: Operation,
        destination: Destination,
        *,
        path: Mapping[str, Any] | None = None,
        query: Mapping[str, Any] | None = None,
        headers: Mapping[str, Any] | None = None,
        options: RequestOptions | None = None,
    ) -> int:
        """Stream the response body into a path (atomically) or a binary stream; return its size."""
        target = DownloadTarget(destination)
        call = self._prepare(op, path, query, headers, target=target, options=options)
        return self._execute(call, lambda r: target.write_sync(r.iter_bytes(CHUNK_SIZE)))

    def stream(
        self,
        op: Operation,
        *,
        path: Mapping[str, Any] | None = None,
        query: Mapping[str, Any] | None = None,
        headers: Mapping[str, Any] | None = None,
        options: RequestOptions | None = None,
    ) -> StreamedResponseManager:
        """The response with its body unread, for `with ... as response` (arguments are checked
        at once; the request is sent when the block is entered)."""
        call = self._prepare(op, path, query, headers, options=options)

        def open_() -> StreamedResponse:
            response = self._execute(call, _same, keep_open=True)
            return StreamedResponse(response, self._redactor)

        return StreamedResponseManager(open_)

    def upload(
        self,
        op: Operation,
        source: BodySource,
        *,
        path: Mapping[str, Any] | None = None,
        query: Mapping[str, Any] | None = None,
        headers: Mapping[str, Any] | None = None,
        content_type: str | None = None,
        filename: str | None = None,
        options: RequestOptions | None = None,
    ) -> httpx.Response:
        """Stream `source` (path, binary file object or bytes) as the request body."""
        self._merged_body(op, None, True, options)
        body, body_headers = self._upload_body(op, source, content_type, filename)
        call = self._prepare(op, path, query, headers, body, body_headers, options=options)
        return self._execute(call, _read)


class AsyncAPIClient(_BaseClient[httpx.AsyncClient]):
    """asyncio client; one token and one rate limiter for all tasks."""

    def _new_http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(timeout=self._timeout)

    async def _sleep(self, seconds: float) -> None:  # tests may replace it
        await asyncio.sleep(seconds)

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self: _Self) -> _Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def _execute(
        self,
        call: _Call,
        consume: Callable[[httpx.Response], Awaitable[T]],
        keep_open: bool = False,
    ) -> T:
        """Run the call's attempts; `consume` reads the 2xx response, which is closed after
        unless `keep_open` (a streamed response, closed by its reader)."""
        attempts = _Attempts(self, call)
        while True:
            token = await self._tokens.get_async(self._http)
            if self._limiter is not None:
                await self._limiter.acquire_async()
            content = call.body.async_content() if call.body is not None else None
            request = self._http.build_request(content=content, **self._request_args(call, token))
            self._sent(request, attempts)
            try:
                response = await self._http.send(request, stream=True)
                keep = False
                try:
                    self._received(response, attempts)
                    if response.is_success:
                        note_response(response, self._redactor)
                        result = await consume(response)
                        keep = keep_open
                        return result
                    await response.aread()
                finally:
                    if not keep:
                        await response.aclose()
            except httpx.TransportError as exc:
                wait = attempts.after_error(exc, request)
            else:
                wait = attempts.after_response(response, token)
            if wait > 0:
                await self._sleep(wait)

    async def request(
        self,
        op: Operation,
        *,
        path: Mapping[str, Any] | None = None,
        query: Mapping[str, Any] | None = None,
        headers: Mapping[str, Any] | None = None,
        json: Any = None,
        content: bytes | IO[bytes] | None = None,
        content_type: str | None = None,
        options: RequestOptions | None = None,
    ) -> httpx.Response:
        """Send `op` under the full retry/auth policy; return the 2xx response, body read."""
        payload = self._merged_body(op, json, content is not None, options)
        body, body_headers = self._json_body(op, payload, content, content_type)
        call = self._prepare(
            op, path, query, headers, body, body_headers, payload=payload, options=options
        )
        return await self._execute(call, _aread)

    async def request_model(
        self,
        op: Operation,
        model: type[M],
        *,
        path: Mapping[str, Any] | None = None,
        query: Mapping[str, Any] | None = None,
        headers: Mapping[str, Any] | None = None,
        json: Any = None,
        content: bytes | IO[bytes] | None = None,
        content_type: str | None = None,
        options: RequestOptions | None = None,
    ) -> M:
        response = await self.request(
            op,
            path=path,
            query=query,
            headers=headers,
            json=json,
            content=content,
            content_type=content_type,
            options=options,
        )
        return self.parse_model(response, model)

    def _pager(
        self,
        op: Operation,
        model: type[M],
        path: Mapping[str, Any] | None,
        headers: Mapping[str, Any] | None,
        options: RequestOptions | None,
    ) -> Callable[[Cursor], Awaitable[AsyncPage[Any]]]:
        async def fetch(at: Cursor) -> AsyncPage[Any]:
            response = await self.request_model(
                op, model, path=path, query=at.params(), headers=headers, options=options
            )
            items = at.items(response)
            return AsyncPage(items, response, at.after(len(items)), fetch)

        return fetch

    async def page(
        self,
        op: Operation,
        model: type[M],
        *,
        path: Mapping[str, Any] | None = None,
        query: Mapping[str, Any] | None = None,
        headers: Mapping[str, Any] | None = None,
        page_size: int | None = None,
        options: RequestOptions | None = None,
    ) -> AsyncPage[Any]:
        """The page at `query`'s offset (0 by default); `async for` over it yields every item
        on."""
        cursor = self._cursor(op, query, page_size)
        return await self._pager(op, model, path, headers, options)(cursor)

    def paginate(
        self,
        op: Operation,
        model: type[M],
        *,
        path: Mapping[str, Any] | None = None,
        query: Mapping[str, Any] | None = None,
        headers: Mapping[str, Any] | None = None,
        page_size: int | None = None,
        options: RequestOptions | None = None,
    ) -> AsyncIterator[Any]:
        """Lazily yield the items of every page (arguments are checked at once)."""
        cursor = self._cursor(op, query, page_size)
        fetch = self._pager(op, model, path, headers, options)

        async def items() -> AsyncIterator[Any]:
            async for item in await fetch(cursor):
                yield item

        return items()

    async def download(
        self,
        op: Operation,
        destination: Destination,
        *,
        path: Mapping[str, Any] | None = None,
        query: Mapping[str, Any] | None = None,
        headers: Mapping[str, Any] | None = None,
        options: RequestOptions | None = None,
    ) -> int:
        """Stream the response body into a path (atomically) or a binary stream; return its size."""
        target = DownloadTarget(destination)
        call = self._prepare(op, path, query, headers, target=target, options=options)

        async def consume(response: httpx.Response) -> int:
            return await target.write_async(response.aiter_bytes(CHUNK_SIZE))

        return await self._execute(call, consume)

    def stream(
        self,
        op: Operation,
        *,
        path: Mapping[str, Any] | None = None,
        query: Mapping[str, Any] | None = None,
        headers: Mapping[str, Any] | None = None,
        options: RequestOptions | None = None,
    ) -> AsyncStreamedResponseManager:
        """The response with its body unread, for `async with ... as response` (arguments are
        checked at once; the request is sent when the block is entered)."""
        call = self._prepare(op, path, query, headers, options=options)

        async def open_() -> AsyncStreamedResponse:
            response = await self._execute(call, _asame, keep_open=True)
            return AsyncStreamedResponse(response, self._redactor)

        return AsyncStreamedResponseManager(open_)

    async def upload(
        self,
        op: Operation,
        source: BodySource,
        *,
        path: Mapping[str, Any] | None = None,
        query: Mapping[str, Any] | None = None,
        headers: Mapping[str, Any] | None = None,
        content_type: str | None = None,
        filename: str | None = None,
        options: RequestOptions | None = None,
    ) -> httpx.Response:
        """Stream `source` (path, binary file object or bytes) as the request body."""
        self._merged_body(op, None, True, options)
        body, body_headers = self._upload_body(op, source, content_type, filename)
        call = self._prepare(op, path, query, headers, body, body_headers, options=options)
        return await self._execute(call, _aread)
