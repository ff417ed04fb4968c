"""The exceptions raised by the client. Every one derives from APIError."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

import httpx

from ._redact import Redactor


class APIError(Exception):
    """Root of every error raised by the client."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class MfaConfigurationError(APIError):
    """The operation requires MFA and the client was built without it (nothing was sent)."""


class RequestValidationError(APIError, ValueError):
    """The request breaks a rule of the operation (a parameter's format, a value one of several
    places must hold); nothing was sent. `problems` lists each broken rule."""

    def __init__(self, operation: str, problems: list[str]) -> None:
        super().__init__(f"{operation}: " + "; ".join(problems))
        self.problems = problems


class APIConnectionError(APIError):
    """The server could not be reached or the exchange broke off."""

    def __init__(self, message: str, *, method: str, url: str) -> None:
        super().__init__(message)
        self.method = method
        self.url = url

    def __str__(self) -> str:
        return f"{self.method} {self.url} — {self.message}"


class APITimeoutError(APIConnectionError):
    """The server did not answer in time."""


class APIStatusError(APIError):
    """The server answered with a non-2xx status."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        method: str,
        url: str,
        body: Any,
        reason: str = "",
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.method = method
        self.url = url
        self.body = body  # parsed JSON when the response was JSON, else its text
        self.reason = reason or _phrase(status_code)
        self.retry_after = retry_after  # seconds the server asked to wait (Retry-After), if any

    def __str__(self) -> str:
        head = f"{self.status_code} {self.reason}".rstrip()
        tail = "" if self.message in ("", self.reason) else f" — {self.message}"
        return f"{head}: {self.method} {self.url}{tail}"


class BadRequestError(APIStatusError):
    pass


class AuthenticationError(APIStatusError):
    """401 from the API, or any refusal from the token endpoint (then url is the token URL)."""


class PermissionDeniedError(APIStatusError):
    pass


class NotFoundError(APIStatusError):
    pass


class ConflictError(APIStatusError):
    pass


class UnprocessableEntityError(APIStatusError):
    pass


class RateLimitError(APIStatusError):
    """The rate limit status was still returned after all retries, or the server asked to wait
    longer than the client's `max_retry_wait` (then `retry_after` says how long)."""


class QuotaExceededError(APIStatusError):
    """The quota status (e.g. daily quota exhausted); never retried."""


class InternalServerError(APIStatusError):
    pass


class OutcomeUnknownError(APIError):
    """A call that is not idempotent (an import, a create) was sent, and no answer says whether
    the server applied it: the connection broke after sending, the answer timed out, or the
    server answered 5xx. It was not sent again. Check its effect before repeating it, or you may
    apply it twice. Every instance is also the connection, timeout or status error it came from,
    and carries `method`, `url` and `operation` (the operation's wire name)."""

    operation: str = ""


class OutcomeUnknownConnectionError(OutcomeUnknownError, APIConnectionError):
    """The exchange broke off after the request was sent."""

    def __init__(self, message: str, *, method: str, url: str, operation: str) -> None:
        super().__init__(message, method=method, url=url)
        self.operation = operation


class OutcomeUnknownTimeoutError(OutcomeUnknownError, APITimeoutError):
    """No answer in time after the request was sent."""

    def __init__(self, message: str, *, method: str, url: str, operation: str) -> None:
        super().__init__(message, method=method, url=url)
        self.operation = operation


class OutcomeUnknownServerError(OutcomeUnknownError, InternalServerError):
    """A 5xx answer to a request that is not idempotent: the server may have applied it."""


class ResponseValidationError(APIError):
    """A 2xx response whose body does not fit the response model."""

    def __init__(
        self, message: str, *, method: str, url: str, body: Any, errors: list[Any]
    ) -> None:
        super().__init__(message)
        self.method = method
        self.url = url
        self.body = body
        self.errors = errors  # pydantic's error list; empty when the body was not JSON

    def __str__(self) -> str:
        return f"{self.method} {self.url} — {self.message}"


_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
}


def status_error(status: int, quota_status: int, rate_limit_status: int) -> type[APIStatusError]:
    """The exception class for a non-2xx status, given the API's quota and rate limit statuses."""
    if quota_status and status == quota_status:
        return QuotaExceededError
    if status == rate_limit_status:
        return RateLimitError
    if status >= 500:
        return InternalServerError
    return _BY_STATUS.get(status, APIStatusError)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def error_from_response(
    response: httpx.Response,
    cls: type[APIStatusError],
    message_fields: tuple[str, ...],
    redactor: Redactor,
    *,
    note: str = "",
    retry_after: float | None = None,
) -> APIStatusError:
    """Build `cls` from a non-2xx response whose body has been read; `note` ends the message.

    The client's secrets are masked in the body first, for servers that echo the request.
    """
    text = redactor.text(response.text)
    body: Any = text
    if "json" in response.headers.get("content-type", "").lower():
        try:
            body = redactor.data(json.loads(text))
        except ValueError:
            pass
    reason = response.reason_phrase or _phrase(response.status_code)
    message = _message(body, message_fields) or reason
    return cls(
        f"{message}; {note}" if note else message,
        status_code=response.status_code,
        method=response.request.method,
        url=redactor.text(str(response.request.url)),
        body=body,
        reason=reason,
        retry_after=retry_after,
    )


def _message(body: Any, fields: tuple[str, ...]) -> str:
    if not isinstance(body, dict):
        return ""
    for field in fields:
        value = body.get(field)
        if isinstance(value, str) and value.strip():
            return value.strip()
        if value not in (None, "", [], {}):
            return json.dumps(value, separators=(",", ":"), default=str)
    return ""


class RedirectError(APIStatusError):
    """A 301 the client did not follow: no Location, a loop, or more hops than allowed (a call
    that is not idempotent is re-sent to one Location only). Nothing was sent to `location`.
    `chain` lists every URI the call was sent to, in order."""

    def __init__(self, message: str, *, method: str, url: str, location: str, chain: list[str]):
        super().__init__(message, status_code=301, method=method, url=url, body=None)
        self.location = location
        self.chain = chain
