"""What a call returns besides its typed result: the raw HTTP response (`with_raw_response`) and
a response whose body is streamed rather than read (`with_streaming_response`).

A raw call runs the plain method unchanged while the client notes the last 2xx response it
received (a context variable, so threads and tasks do not see each other's); the wrapper then
hands back that response together with the method's own result, so `.parse()` returns exactly
what the plain method returns (or raises what it raised)."""

from __future__ import annotations

import contextlib
import contextvars
import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, TypeVar

import httpx

from ._exceptions import ResponseValidationError
from ._redact import Redactor

if TYPE_CHECKING:
    from pydantic import BaseModel

P = ParamSpec("P")
R = TypeVar("R")


class _Seen:
    """One 2xx response a raw call received, and the answer model read from it (if any)."""

    __slots__ = ("response", "redactor", "answer")

    def __init__(self, response: httpx.Response, redactor: Redactor) -> None:
        self.response = response
        self.redactor = redactor
        self.answer: BaseModel | None = None


_Captured = list[_Seen]
# The list the running raw call collects responses into; None outside a raw call.
_CAPTURED: contextvars.ContextVar[_Captured | None] = contextvars.ContextVar(
    "captured_responses", default=None
)


def note_response(response: httpx.Response, redactor: Redactor) -> None:
    """Called by the client for each 2xx response it accepts, with the client's secrets."""
    sink = _CAPTURED.get()
    if sink is not None:
        sink.append(_Seen(response, redactor))


def note_answer(response: httpx.Response, answer: BaseModel) -> None:
    """Called by the client with the model it read from a response's body."""
    for seen in reversed(_CAPTURED.get() or ()):
        if seen.response is response:
            seen.answer = answer
            return


class _ResponseView:
    """Status, headers and the httpx response; the repr shows no header values (they may carry
    cookies or echoed credentials) and the URL with the client's secrets masked."""

    def __init__(self, response: httpx.Response, redactor: Redactor) -> None:
        self.http_response = response
        self._redactor = redactor

    @property
    def status_code(self) -> int:
        return self.http_response.status_code

    @property
    def headers(self) -> httpx.Headers:
        return self.http_response.headers

    @property
    def url(self) -> httpx.URL:
        return self.http_response.request.url

    def __repr__(self) -> str:
        url = self._redactor.text(str(self.url))
        method = self.http_response.request.method
        return f"<{type(self).__name__} [{self.status_code}] {method} {url}>"

    __str__ = __repr__


class RawResponse(_ResponseView, Generic[R]):
    """A call's final HTTP response; `.parse()` is the typed result the plain method returns,
    `.answer` the whole answer as its model (where the method returns one field of it, the
    wrapper around that field)."""

    def __init__(
        self,
        response: httpx.Response,
        redactor: Redactor,
        result: R | None = None,
        error: BaseException | None = None,
        answer: BaseModel | None = None,
    ) -> None:
        super().__init__(response, redactor)
        self._result: Any = result  # None exactly when the method returns None
        self._error = error
        self.answer = answer  # None: the answer has no JSON body, or it did not fit its model

    def parse(self) -> R:
        """The typed result; raises the error the plain method raised reading the body (a
        `ResponseValidationError`), while status and headers stay available."""
        if self._error is not None:
            raise self._error
        result: R = self._result
        return result


def _raw(captured: _Captured, method: Callable[..., Any], result: Any,
         error: BaseException | None) -> RawResponse[Any]:
    if not captured:
        raise RuntimeError(f"{method.__name__} received no response to return")
    final = captured[-1]  # the call's final response
    return RawResponse(final.response, final.redactor, result, error, final.answer)


@contextlib.contextmanager
def _capturing() -> Iterator[_Captured]:
    """The responses the client accepts while the block runs (in this thread or task)."""
    sink: _Captured = []
    token = _CAPTURED.set(sink)
    try:
        yield sink
    finally:
        _CAPTURED.reset(token)


def to_raw_response_wrapper(method: Callable[P, R]) -> Callable[P, RawResponse[R]]:
    """The method, returning its `RawResponse` instead of its result."""

    @functools.wraps(method)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> RawResponse[R]:
        with _capturing() as sink:
            try:
                return _raw(sink, method, method(*args, **kwargs), None)
            except ResponseValidationError as exc:
                return _raw(sink, method, None, exc)

    return wrapped


def async_to_raw_response_wrapper(
    method: Callable[P, Awaitable[R]],
) -> Callable[P, Awaitable[RawResponse[R]]]:
    """The async method, returning its `RawResponse` instead of its result."""

    @functools.wraps(method)
    async def wrapped(*args: P.args, **kwargs: P.kwargs) -> RawResponse[R]:
        with _capturing() as sink:
            try:
                return _raw(sink, method, await method(*args, **kwargs), None)
            except ResponseValidationError as exc:
                return _raw(sink, method, None, exc)

    return wrapped


class StreamedResponse(_ResponseView):
    """A download whose body has not been read: iterate `iter_bytes()` inside the `with` block;
    leaving the block closes the connection."""

    def iter_bytes(self, chunk_size: int | None = None) -> Iterator[bytes]:
        return self.http_response.iter_bytes(chunk_size)

    def read(self) -> bytes:
        """The whole body at once (only for bodies known to be small)."""
        return self.http_response.read()

    def close(self) -> None:
        self.http_response.close()


class AsyncStreamedResponse(_ResponseView):
    """The async `StreamedResponse`: `async for chunk in response.iter_bytes()`."""

    def iter_bytes(self, chunk_size: int | None = None) -> AsyncIterator[bytes]:
        return self.http_response.aiter_bytes(chunk_size)

    async def read(self) -> bytes:
        return await self.http_response.aread()

    async def close(self) -> None:
        await self.http_response.aclose()


class StreamedResponseManager:
    """`with client.with_streaming_response.<resource>.<method>(...) as response:` sends the
    request when the block is entered (retries and auth as for any call, until the response
    head arrives) and closes the response when it is left."""

    def __init__(self, open_: Callable[[], StreamedResponse]) -> None:
        self._open = open_
        self._response: StreamedResponse | None = None

    def __enter__(self) -> StreamedResponse:
        self._response = self._open()
        return self._response

    def __exit__(self, *exc_info: object) -> None:
        if self._response is not None:
            self._response.close()


class AsyncStreamedResponseManager:
    """`async with ...` counterpart of `StreamedResponseManager`."""

    def __init__(self, open_: Callable[[], Awaitable[AsyncStreamedResponse]]) -> None:
        self._open = open_
        self._response: AsyncStreamedResponse | None = None

    async def __aenter__(self) -> AsyncStreamedResponse:
        self._response = await self._open()
        return self._response

    async def __aexit__(self, *exc_info: object) -> None:
        if self._response is not None:
            await self._response.close()
