"""Batch imports: pair every input record with the errors the server echoed for it, and split a
large list of records into batches. The shape of an answer comes from the spec (`batch_result`).

Progress of a bulk import (`progress=`): `True` draws a bar on stderr only when stderr is a
terminal (rich's bar when rich is installed, the `progress` extra; a plain one otherwise) and
writes nothing at all when it is not (a log file or a pipe gets no `\r`). A function
`(done, total)` is called after every batch; the async client also awaits an `async def` one,
and the sync client refuses it with TypeError before sending anything (it has no event loop to
run it on, and silently never running it would lose the progress).
"""

from __future__ import annotations

import inspect
import sys
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

import pydantic
from pydantic import BaseModel

from ._base import WireModel, to_wire_body
from ._exceptions import (
    APIError,
    APIStatusError,
    OutcomeUnknownError,
    RequestValidationError,
    ResponseValidationError,
    listed,
)
from ._spec import BatchResultShape, Operation

if TYPE_CHECKING:
    from ._base_client import AsyncAPIClient, RequestOptions, SyncAPIClient

R = TypeVar("R", bound=BaseModel)
OnFailure = Literal["continue", "stop"]
Progress = bool | Callable[[int, int], None] | Callable[[int, int], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class RecordOutcome:
    """One input record and what the server said about it (no messages: it was accepted).
    `in_doubt`: it was sent in a batch that may have been applied, but no answer says so."""

    index: int  # position in the caller's list
    record: Any  # the record as the caller passed it
    error_messages: tuple[str, ...] = ()
    in_doubt: bool = False

    @property
    def ok(self) -> bool:
        return not self.error_messages and not self.in_doubt


@dataclass(slots=True)
class BatchResult(Generic[R]):
    """The answer to one batch call, with every record next to its errors."""

    response: R
    success: bool
    outcomes: list[RecordOutcome]
    messages: list[str]
    support_id: str | None
    unmatched: list[Mapping[str, Any]]  # echoed failing records no input could be matched to

    @property
    def failed(self) -> list[RecordOutcome]:
        return [o for o in self.outcomes if not o.ok]

    @property
    def ok(self) -> bool:
        return self.success and not self.failed and not self.unmatched


@dataclass(slots=True)
class BulkResult(Generic[R]):
    """Every batch of a bulk import; `outcomes` and `not_sent` together cover every record the
    caller passed. After an error that interrupted the import (`error`), `in_doubt` lists the
    records of the batch whose outcome is unknown (they are in `outcomes` too)."""

    batches: list[BatchResult[R]] = field(default_factory=list)
    outcomes: list[RecordOutcome] = field(default_factory=list)
    not_sent: list[RecordOutcome] = field(default_factory=list)  # after a stop or an error
    stopped: bool = False
    in_doubt: list[RecordOutcome] = field(default_factory=list)
    error: APIError | None = None

    @property
    def failed(self) -> list[RecordOutcome]:
        return [o for o in self.outcomes if not o.ok]

    @property
    def ok(self) -> bool:
        return not self.stopped and not self.failed and all(b.ok for b in self.batches)


class BatchFailedError(APIError):
    """Raised in strict mode, or as BulkInterruptedError: carries the whole result, so nothing
    the server said is lost."""

    def __init__(self, result: BatchResult[Any] | BulkResult[Any]) -> None:
        self.result = result
        failed = result.failed
        first = next((o.error_messages[0] for o in failed if o.error_messages), "")
        batches = [result] if isinstance(result, BatchResult) else result.batches
        messages = [m for b in batches for m in b.messages]
        detail = first or (messages[0] if messages else "the server reported a failure")
        ids = [b.support_id for b in batches if b.support_id and not b.ok]
        quoted = f" (support id: {listed(ids)})" if ids else ""
        super().__init__(
            f"{len(failed)} of {len(result.outcomes)} record(s) failed: {detail}{quoted}"
        )


class BulkInterruptedError(BatchFailedError):
    """An error stopped a bulk import in one of its batches. `result` holds the outcomes of
    every batch before it (the server applied them), the failing batch's records (`in_doubt`
    when it may have been applied) and the records `not_sent`; `error` (also `__cause__`) is
    the error itself."""

    def __init__(self, result: BulkResult[Any], error: APIError, batch: int) -> None:
        self.result = result
        self.error = error
        done = sum(len(b.outcomes) for b in result.batches)
        APIError.__init__(
            self,
            f"batch {batch} was interrupted: {type(error).__name__}: {error}; the outcomes of "
            f"{done} record(s) sent before are in .result, {len(result.in_doubt)} record(s) are "
            f"in doubt (outcome unknown), {len(result.not_sent)} were not sent",
        )


def _truthy(value: Any) -> bool:
    # The API spells success as true, "true" or "True".
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def _text(value: Any) -> str:
    """A comparable form of an echoed or sent value (5000, 5000.0, "5000" and Decimal agree)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal) or isinstance(value, str):
        try:
            return format(Decimal(str(value)).normalize(), "f")
        except InvalidOperation:
            return str(value)
    return str(value)


def _scalars(record: Any, skip: str) -> set[tuple[str, str]]:
    """(lower-cased key, value) pairs anywhere in a record, for matching echoes to inputs."""
    found: set[tuple[str, str]] = set()
    if isinstance(record, Mapping):
        for key, value in record.items():
            if key == skip:
                continue
            if isinstance(value, Mapping | list):
                found |= _scalars(value, skip)
            elif value is not None and value != "":
                found.add((str(key).lower(), _text(value)))
    elif isinstance(record, list):
        for item in record:
            found |= _scalars(item, skip)
    return found


def _errors(record: Any, key: str) -> list[str]:
    """Every error message in an echoed record, at whatever level the server put it."""
    if isinstance(record, list):
        return [m for item in record for m in _errors(item, key)]
    if not isinstance(record, Mapping):
        return []
    own = record.get(key) or []
    nested = [m for k, v in record.items() if k != key for m in _errors(v, key)]
    return [str(m) for m in own] + nested


def _echoes(records: Any) -> list[Mapping[str, Any]]:
    """Echoed records flattened: the API nests them one list deeper for some operations."""
    if isinstance(records, Mapping):
        return [records]
    if isinstance(records, list):
        return [r for item in records for r in _echoes(item)]
    return []


def build_result(
    shape: BatchResultShape,
    response: R,
    body: Mapping[str, Any],
    sent: Sequence[Any],
    originals: Sequence[Any],
    indexes: Sequence[int] | None = None,
) -> BatchResult[R]:
    """Pair the server's answer with the records sent (wire form) and as the caller gave them."""
    messages = [str(m) for m in body.get(shape.messages) or []] if shape.messages else []
    if shape.error_description and body.get(shape.error_description):
        messages.insert(0, str(body[shape.error_description]))
    if shape.success in body:
        success = _truthy(body[shape.success])
    else:  # an answer with no success flag fails only if it describes an error
        success = not (shape.error_description and body.get(shape.error_description))
    failed = [
        (echo, found)
        for echo in _echoes(body.get(shape.records))
        if (found := _errors(echo, shape.record_errors))
    ]
    # Only an answer that echoes failed records needs the records sent indexed (most don't).
    signatures = [_scalars(record, shape.record_errors) for record in sent] if failed else []
    # (key, value) -> the records holding it; a value every record shares tells none apart, so
    # scoring only uses the others (and stays linear when a whole batch is echoed back).
    holders: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, signature in enumerate(signatures):
        for pair in signature:
            holders[pair].append(i)
    errors: dict[int, list[str]] = {}
    unmatched: list[Mapping[str, Any]] = []
    for echo, found in failed:
        mine = _scalars(echo, shape.record_errors)
        scores: Counter[int] = Counter()
        for pair in mine:
            if len(holders.get(pair, ())) < len(sent):
                scores.update(i for i in holders.get(pair, ()) if i not in errors)
        if not scores:  # nothing distinctive: the best overlap among records still free
            scores.update({i: len(mine & s) for i, s in enumerate(signatures)
                           if i not in errors and mine & s})
        if scores:
            best = max(scores.items(), key=lambda item: (item[1], -item[0]))[0]
            errors[best] = found
        else:
            unmatched.append(echo)
    if not success and not errors and not unmatched:
        # A failure with no per-record detail concerns every record of the batch.
        detail = messages or ["the server rejected the batch without details"]
        errors = {i: detail for i in range(len(sent))}
    support = body.get(shape.support_id) if shape.support_id else None
    positions = range(len(originals)) if indexes is None else indexes
    return BatchResult(
        response=response,
        success=success,
        outcomes=[
            RecordOutcome(position, original, tuple(errors.get(i, ())))
            for i, (position, original) in enumerate(zip(positions, originals, strict=True))
        ],
        messages=messages,
        support_id=str(support) if support else None,
        unmatched=unmatched,
    )


def _shape(client: SyncAPIClient | AsyncAPIClient, op: Operation) -> BatchResultShape:
    shape = client._config.batch_result
    if shape is None or op.batch is None:
        raise ValueError(f"{op.python_name} is not a batch operation")
    return shape


# Statuses that judge the records sent; auth, quota and rate-limit answers stay errors.
_RECORD_STATUSES = (400, 409, 422)


def _answer(exc: APIStatusError, shape: BatchResultShape) -> Mapping[str, Any] | None:
    """A rejection of the records whose body is a batch answer is data (which records failed),
    not an error."""
    body = exc.body
    if exc.status_code in _RECORD_STATUSES and isinstance(body, Mapping) and (
        shape.success in body or shape.records in body
    ):
        return body
    return None


def _parsed(model: type[R], body: Mapping[str, Any], exc: APIStatusError) -> R:
    try:
        return model.model_validate(body)
    except pydantic.ValidationError:
        raise exc from None


def send_batch(
    client: SyncAPIClient, op: Operation, model: type[R], wire: dict[str, Any], *,
    path: Mapping[str, Any] | None = None, query: Mapping[str, Any] | None = None,
    strict: bool = False, originals: Sequence[Any] | None = None,
    indexes: Sequence[int] | None = None, options: RequestOptions | None = None,
) -> BatchResult[R]:
    """One batch call; a partial failure is returned as data unless `strict`."""
    shape = _shape(client, op)
    sent = wire.get(op.batch.records) or [] if op.batch else []
    try:
        response = client.request(op, path=path, query=query, json=wire, options=options)
        parsed, body = client.parse_model(response, model), response.json()
    except APIStatusError as exc:
        answer = _answer(exc, shape)
        if answer is None:
            raise
        parsed, body = _parsed(model, answer, exc), answer
    result = build_result(shape, parsed, body, sent, sent if originals is None else originals,
                          indexes)
    if strict and not result.ok:
        raise BatchFailedError(result)
    return result


async def send_batch_async(
    client: AsyncAPIClient, op: Operation, model: type[R], wire: dict[str, Any], *,
    path: Mapping[str, Any] | None = None, query: Mapping[str, Any] | None = None,
    strict: bool = False, originals: Sequence[Any] | None = None,
    indexes: Sequence[int] | None = None, options: RequestOptions | None = None,
) -> BatchResult[R]:
    """One batch call; a partial failure is returned as data unless `strict`."""
    shape = _shape(client, op)
    sent = wire.get(op.batch.records) or [] if op.batch else []
    try:
        response = await client.request(op, path=path, query=query, json=wire, options=options)
        parsed, body = client.parse_model(response, model), response.json()
    except APIStatusError as exc:
        answer = _answer(exc, shape)
        if answer is None:
            raise
        parsed, body = _parsed(model, answer, exc), answer
    result = build_result(shape, parsed, body, sent, sent if originals is None else originals,
                          indexes)
    if strict and not result.ok:
        raise BatchFailedError(result)
    return result


@dataclass(slots=True)
class _Chunk:
    """One batch, ready to send: its records that passed validation, and those that did not."""

    wire: dict[str, Any] | None  # None: no valid record left to send
    indexes: list[int]  # positions, in the caller's list, of the records in `wire`
    originals: list[Any]
    rejected: list[RecordOutcome]


def _validated_chunk(
    op: Operation, request_model: type[WireModel], records: Sequence[Any], start: int,
    keep: Mapping[str, Any],
) -> _Chunk:
    """Validate a batch before sending; a record the model rejects fails alone, not its batch."""
    assert op.batch is not None
    pending = list(enumerate(records, start))
    rejected: list[RecordOutcome] = []
    kept = {k: v for k, v in keep.items() if v is not None}
    while pending:
        try:
            wire = to_wire_body(request_model, {**kept, op.batch.records: [r for _, r in pending]})
            return _Chunk(wire, [i for i, _ in pending], [r for _, r in pending], rejected)
        except RequestValidationError as exc:
            bad: dict[int, list[str]] = {}
            for problem in exc.fields:
                loc = problem.wire_path
                if len(loc) >= 2 and loc[0] == op.batch.records and isinstance(loc[1], int):
                    where = ".".join(map(str, loc[2:])) or "record"
                    bad.setdefault(loc[1], []).append(f"{where}: {problem.message}")
            if not bad:
                raise  # the shared fields (e.g. options) are wrong: no record can be sent
            rejected += [RecordOutcome(pending[i][0], pending[i][1], tuple(m))
                         for i, m in sorted(bad.items())]
            pending = [p for i, p in enumerate(pending) if i not in bad]
    return _Chunk(None, [], [], rejected)


class _Bar:
    """The bar of `progress=True`: drawn on stderr when it is a terminal, else nothing."""

    def __init__(self, total: int) -> None:
        self._stream = sys.stderr
        self._total = total
        self._on = bool(getattr(self._stream, "isatty", lambda: False)())
        self._rich: Any = None
        if not self._on:
            return
        try:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, TextColumn
            from rich.progress import Progress as RichProgress
        except ImportError:
            return  # the plain bar below
        self._rich = RichProgress(
            TextColumn("records"), BarColumn(), MofNCompleteColumn(),
            console=Console(file=self._stream), auto_refresh=False,
        )
        self._task = self._rich.add_task("records", total=total)
        self._rich.start()

    def update(self, done: int) -> None:
        if self._rich is not None:
            self._rich.update(self._task, completed=done, refresh=True)
        elif self._on:
            filled = 30 * done // max(self._total, 1)
            self._stream.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {done}/{self._total} records")
            self._stream.flush()

    def close(self) -> None:
        if self._rich is not None:
            self._rich.stop()
        elif self._on:
            self._stream.write("\n")
            self._stream.flush()


class _Report:
    """What `progress=` asks for after each batch (see the module docstring)."""

    def __init__(self, progress: Progress, total: int, *, awaits: bool) -> None:
        if callable(progress) and not awaits and _is_async(progress):
            raise TypeError(
                "progress= is an async function: the sync client cannot await it; pass a "
                "plain function, or use the async client"
            )
        self._callback = progress if callable(progress) else None
        self._total = total
        self._bar = _Bar(total) if progress is True else None

    def __enter__(self) -> _Report:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._bar is not None:
            self._bar.close()

    def sync(self, done: int) -> None:
        if self._callback is not None:
            result = self._callback(done, self._total)
            if inspect.isawaitable(result):  # e.g. a partial of an async function
                if inspect.iscoroutine(result):
                    result.close()  # never awaited: no "was never awaited" warning
                raise TypeError("progress= returned an awaitable: use the async client")
        if self._bar is not None:
            self._bar.update(done)

    async def async_(self, done: int) -> None:
        if self._callback is not None:
            result = self._callback(done, self._total)
            if inspect.isawaitable(result):
                await result
        if self._bar is not None:
            self._bar.update(done)


def _is_async(function: Callable[..., Any]) -> bool:
    # A coroutine function, a partial of one, or an object whose __call__ is one.
    return inspect.iscoroutinefunction(function) or inspect.iscoroutinefunction(
        type(function).__call__
    )


def _check(batch_size: int, on_failure: str) -> None:
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    if on_failure not in ("continue", "stop"):
        raise ValueError("on_failure must be 'continue' or 'stop'")


def _record(bulk: BulkResult[R], chunk: _Chunk, result: BatchResult[R] | None) -> bool:
    """Add a batch to the bulk result; True when it failed."""
    outcomes = list(chunk.rejected)
    if result is not None:
        bulk.batches.append(result)
        outcomes += result.outcomes
    bulk.outcomes += sorted(outcomes, key=lambda o: o.index)
    return bool(chunk.rejected) or (result is not None and not result.ok)


def _stop(bulk: BulkResult[Any], records: Sequence[Any], after: int,
          why: str = "an earlier batch failed") -> None:
    bulk.stopped = True
    bulk.not_sent = [RecordOutcome(i, r, (f"not sent: {why}",))
                     for i, r in enumerate(records[after:], after)]


def _interrupted(bulk: BulkResult[Any], chunk: _Chunk, records: Sequence[Any], after: int,
                 error: APIError, batch: int) -> BulkInterruptedError:
    """Record the failing batch and the rest, and the error to raise. A batch whose answer
    says nothing sure (a broken exchange, a 5xx, a 2xx that cannot be read) is in doubt;
    one refused outright (auth, rate limit, a rule) was not applied."""
    doubt = isinstance(error, OutcomeUnknownError | ResponseValidationError)
    why = (f"outcome unknown: {error}",) if doubt else (f"not applied: {error}",)
    sent = [RecordOutcome(i, r, why, in_doubt=doubt)
            for i, r in zip(chunk.indexes, chunk.originals, strict=True)]
    bulk.outcomes += sorted([*chunk.rejected, *sent], key=lambda o: o.index)
    bulk.in_doubt = sent if doubt else []
    bulk.error = error
    _stop(bulk, records, after, f"batch {batch} was interrupted")
    return BulkInterruptedError(bulk, error, batch)


def send_batches(
    client: SyncAPIClient, op: Operation, model: type[R], request_model: type[WireModel],
    records: Sequence[Any], keep: Mapping[str, Any], *, batch_size: int,
    on_failure: OnFailure, progress: Progress, strict: bool,
    path: Mapping[str, Any] | None = None, query: Mapping[str, Any] | None = None,
    options: RequestOptions | None = None,
) -> BulkResult[R]:
    """Send `records` in batches; every record ends up in `outcomes` (or `not_sent`)."""
    _check(batch_size, on_failure)
    bulk: BulkResult[R] = BulkResult()
    with _Report(progress, len(records), awaits=False) as report:
        for start in range(0, len(records), batch_size):
            batch = records[start:start + batch_size]
            chunk = _validated_chunk(op, request_model, batch, start, keep)
            result = None
            if chunk.wire is not None:
                try:
                    result = send_batch(client, op, model, chunk.wire, path=path, query=query,
                                        originals=chunk.originals, indexes=chunk.indexes,
                                        options=options)
                except APIError as exc:
                    number, end = start // batch_size + 1, start + batch_size
                    raise _interrupted(bulk, chunk, records, end, exc, number) from exc
            failed = _record(bulk, chunk, result)
            report.sync(min(start + batch_size, len(records)))
            if failed and on_failure == "stop":
                _stop(bulk, records, start + batch_size)
                break
    if strict and not bulk.ok:
        raise BatchFailedError(bulk)
    return bulk


async def send_batches_async(
    client: AsyncAPIClient, op: Operation, model: type[R], request_model: type[WireModel],
    records: Sequence[Any], keep: Mapping[str, Any], *, batch_size: int,
    on_failure: OnFailure, progress: Progress, strict: bool,
    path: Mapping[str, Any] | None = None, query: Mapping[str, Any] | None = None,
    options: RequestOptions | None = None,
) -> BulkResult[R]:
    """Send `records` in batches; every record ends up in `outcomes` (or `not_sent`)."""
    _check(batch_size, on_failure)
    bulk: BulkResult[R] = BulkResult()
    with _Report(progress, len(records), awaits=True) as report:
        for start in range(0, len(records), batch_size):
            batch = records[start:start + batch_size]
            chunk = _validated_chunk(op, request_model, batch, start, keep)
            result = None
            if chunk.wire is not None:
                try:
                    result = await send_batch_async(
                        client, op, model, chunk.wire, path=path, query=query,
                        originals=chunk.originals, indexes=chunk.indexes, options=options,
                    )
                except APIError as exc:
                    number, end = start // batch_size + 1, start + batch_size
                    raise _interrupted(bulk, chunk, records, end, exc, number) from exc
            failed = _record(bulk, chunk, result)
            await report.async_(min(start + batch_size, len(records)))
            if failed and on_failure == "stop":
                _stop(bulk, records, start + batch_size)
                break
    if strict and not bulk.ok:
        raise BatchFailedError(bulk)
    return bulk

