"""The exceptions the client raises: one tree, so `except APIError` catches every failure.

    APIError
    ├── ConfigurationError             (also ValueError) the client lacks a setting it needs
    │                                  (a credential neither passed nor in the environment)
    ├── MfaConfigurationError          the operation needs MFA, the client has none
    ├── RequestValidationError         (also ValueError) a parameter breaks a rule, or the body
    │   │                              does not fit its model; `fields` says where
    │   └── FileTooLargeError          a file over the operation's size limit
    ├── APIConnectionError             the server could not be reached, or the exchange broke
    │   ├── APITimeoutError
    │   │   └── OutcomeUnknownTimeoutError
    │   └── OutcomeUnknownConnectionError
    ├── APIStatusError                 a non-2xx answer: `status_code`, `body`, `errors`,
    │   │                              `request_id`
    │   ├── BadRequestError            400
    │   ├── AuthenticationError        401, or any refusal from the token endpoint
    │   ├── PermissionDeniedError      403
    │   ├── NotFoundError              404
    │   ├── ConflictError              409
    │   ├── UnprocessableEntityError   422
    │   ├── RateLimitError             the API's rate limit status
    │   ├── QuotaExceededError         the API's quota status
    │   ├── InternalServerError        5xx
    │   │   └── OutcomeUnknownServerError
    │   └── RedirectError              a 301 the client did not follow
    ├── OutcomeUnknownError            a call that is not idempotent may have been applied (the
    │                                  three OutcomeUnknown... classes above)
    ├── ResponseValidationError        a 2xx answer that does not fit its model
    ├── BatchFailedError               a batch with failures, in strict mode
    │   └── BulkInterruptedError       an error stopped a bulk import
    └── IncompleteUploadError          a record was created but its file never arrived

RequestValidationError and its subclass mean nothing was sent. Every message names what the call
was (the method and URL, the operation) and what the server said (its message, its list of
errors, first `SHOWN_ERRORS` of them, and the id to quote to its support), with the client's
secrets masked (`_redact`). The wire names of an error answer's parts come from the spec
(`_spec.ErrorShape`). BatchFailedError, BulkInterruptedError, FileTooLargeError and
IncompleteUploadError are defined beside the code that raises them (`_batch`, `_uploads`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import httpx

from ._redact import Redactor
from ._spec import ErrorShape

SHOWN_ERRORS = 5  # items of an error list shown in a message; the rest are counted
_LONGEST_ERROR = 300  # characters of one item shown


def listed(items: Sequence[str], limit: int = SHOWN_ERRORS) -> str:
    """`items` joined for a message: the first `limit`, then how many more there are."""
    shown = [item if len(item) <= _LONGEST_ERROR else item[:_LONGEST_ERROR] + "…"
             for item in items[:limit]]
    more = len(items) - limit
    return "; ".join(shown) + (f" (and {more} more)" if more > 0 else "")


class APIError(Exception):
    """Root of every error raised by the client."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigurationError(APIError, ValueError):
    """The client was built without a setting it needs: neither passed nor in the environment.
    The message names the argument and the environment variable."""


class MfaConfigurationError(APIError):
    """The operation requires MFA and the client was built without it (nothing was sent)."""


def _dotted(path: Sequence[str | int]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "body"


@dataclass(frozen=True, slots=True)
class FieldProblem:
    """One value of a request body its model refuses: where it is, by wire names and by Python
    names (`("records", 0, "projectName")`, `("records", 0, "project_name")`), and why."""

    wire_path: tuple[str | int, ...]
    python_path: tuple[str | int, ...]
    message: str

    @property
    def wire(self) -> str:
        """The wire path as text: `records[0].projectName`."""
        return _dotted(self.wire_path)

    @property
    def python(self) -> str:
        """The Python path as text: `records[0].project_name`."""
        return _dotted(self.python_path)

    def __str__(self) -> str:
        where = self.wire if self.wire == self.python else f"{self.wire} ({self.python})"
        return f"{where}: {self.message}"


class RequestValidationError(APIError, ValueError):
    """The request breaks a rule of the operation (a parameter's format, a value one of several
    places must hold) or its body does not fit its model; nothing was sent. `problems` lists
    each problem as text; `fields` holds the body's problems with their field paths."""

    def __init__(
        self, subject: str, problems: Sequence[str], fields: Iterable[FieldProblem] = ()
    ) -> None:
        """`subject` opens the message: the operation, or the body that was refused."""
        self.fields = list(fields)
        self.problems = [*problems, *(str(f) for f in self.fields)]
        super().__init__(f"{subject}: {listed(self.problems)}")


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
        errors: Sequence[str] = (),
        request_id: str | None = None,
        request_id_name: str = "",
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.method = method
        self.url = url
        self.body = body  # parsed JSON when the response was JSON, else its text
        self.reason = reason or _phrase(status_code)
        self.retry_after = retry_after  # seconds the server asked to wait (Retry-After), if any
        self.errors = list(errors)  # the server's list of errors, every one
        self.request_id = request_id  # the id the server gave the call, to quote to its support
        self._request_id_name = request_id_name  # the key or header it came in

    def __str__(self) -> str:
        head = f"{self.status_code} {self.reason}".rstrip()
        text = f"{head}: {self.method} {self.url}"
        if self.message not in ("", self.reason):
            text += f" — {self.message}"
        if self.errors:
            text += " Errors: " if text.endswith((".", "!", "?")) else "; errors: "
            text += listed(self.errors)
        if self.request_id:
            text += f" ({self._request_id_name or 'request id'}: {self.request_id})"
        return text


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
    shape: ErrorShape,
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
    message = _message(body, shape.message_fields)
    errors = [e for e in _details(body, shape) if e != message]
    id_name, request_id = _request_id(response, body, shape, redactor)
    message = message or reason
    return cls(
        f"{message}; {note}" if note else message,
        status_code=response.status_code,
        method=response.request.method,
        url=redactor.text(str(response.request.url)),
        body=body,
        reason=reason,
        retry_after=retry_after,
        errors=errors,
        request_id=request_id,
        request_id_name=id_name,
    )


def _item(value: Any, fields: tuple[str, ...]) -> str:
    """One entry of an error list as text: a string, an object's message, or compact JSON."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, Mapping):
        found = _message(value, fields)
        if found:
            return found
    return json.dumps(value, separators=(",", ":"), default=str)


def _message(body: Any, fields: tuple[str, ...]) -> str:
    """The first message field present; of a list, its first entry (the rest are details)."""
    if not isinstance(body, Mapping):
        return ""
    for field in fields:
        value = body.get(field)
        if isinstance(value, list) and value:
            value = value[0]
        if isinstance(value, str) and value.strip():
            return value.strip()
        if value not in (None, "", [], {}):
            return json.dumps(value, separators=(",", ":"), default=str)
    return ""


def _details(body: Any, shape: ErrorShape) -> list[str]:
    if not isinstance(body, Mapping):
        return []
    details: list[str] = []
    for field in shape.detail_fields:
        value = body.get(field)
        items = value if isinstance(value, list) else [] if value in (None, "", {}) else [value]
        details += [text for item in items if (text := _item(item, shape.message_fields))]
    return details


def _request_id(
    response: httpx.Response, body: Any, shape: ErrorShape, redactor: Redactor
) -> tuple[str, str | None]:
    """(where it came from, the id) of the first id field or header the answer carries."""
    if isinstance(body, Mapping):
        for field in shape.id_fields:
            value = body.get(field)
            if value not in (None, ""):
                return field, str(value)
    for header in shape.id_headers:
        value = response.headers.get(header)
        if value:
            return header, redactor.text(value)
    return "", None


class RedirectError(APIStatusError):
    """A 301 the client did not follow: no Location, a loop, or more hops than allowed (a call
    that is not idempotent is re-sent to one Location only). Nothing was sent to `location`.
    `chain` lists every URI the call was sent to, in order."""

    def __init__(self, message: str, *, method: str, url: str, location: str, chain: list[str]):
        super().__init__(message, status_code=301, method=method, url=url, body=None)
        self.location = location
        self.chain = chain
