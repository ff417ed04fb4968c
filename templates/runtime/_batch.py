"""Batch imports: pair every input record with the errors the server echoed for it, and split
records (any iterable, read one batch at a time) into batches, journaled when asked (`_journal`).
The shape of an answer comes from the spec (`batch_result`).

Progress of a bulk import (`progress=`): `True` draws a bar on stderr only when stderr is a
terminal (rich's bar when rich is installed, the `progress` extra; a plain one otherwise) and
writes nothing at all when it is not (a log file or a pipe gets no `\r`); it shows records
per second and the time left. A function `(done, total)` is called after every batch (`total`
is None when the records come from an iterator of unknown length); the async client also
awaits an `async def` one, and the sync client refuses it with TypeError before sending
anything (it has no event loop to run it on, and silently never running it would lose the
progress).
"""

from __future__ import annotations

import inspect
import os
import sys
import time
from collections import Counter, defaultdict
from collections.abc import (
    AsyncGenerator,
    Awaitable,
    Callable,
    Generator,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
    Sized,
)
from contextlib import aclosing, closing
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from itertools import chain, islice
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
from ._journal import Journal, JournaledBatch, digest, jsonable
from ._spec import BatchResultShape, Operation

if TYPE_CHECKING:
    from ._base_client import AsyncAPIClient, RequestOptions, SyncAPIClient

R = TypeVar("R", bound=BaseModel)
OnFailure = Literal["continue", "stop"]
# (done, total); total is None when the records come from an iterator of unknown length.
Progress = (bool | Callable[[int, int | None], None]
            | Callable[[int, int | None], Awaitable[None]])


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
    caller passed. `in_doubt` lists the records whose outcome is unknown (they are in
    `outcomes` too): those of the batch an error interrupted (`error`), and, when resuming from
    a journal, those of the batches an earlier run sent without reading the answer."""

    batches: list[BatchResult[R]] = field(default_factory=list)
    outcomes: list[RecordOutcome] = field(default_factory=list)
    not_sent: list[RecordOutcome] = field(default_factory=list)  # after a stop or an error
    stopped: bool = False
    in_doubt: list[RecordOutcome] = field(default_factory=list)
    error: APIError | None = None
    resumed: int = 0  # batches settled by an earlier run (outcomes from the journal)

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
    """The bar of `progress=True`: drawn on stderr when it is a terminal, else nothing; with
    records per second and the time left (when the total is known)."""

    def __init__(self, total: int | None) -> None:
        self._stream = sys.stderr
        self._total = total
        self._on = bool(getattr(self._stream, "isatty", lambda: False)())
        self._rich: Any = None
        self._started = time.monotonic()
        if not self._on:
            return
        try:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                TextColumn,
                TimeRemainingColumn,
            )
            from rich.progress import Progress as RichProgress
        except ImportError:
            return  # the plain bar below
        self._rich = RichProgress(
            TextColumn("records"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[rate]} records/s"), TimeRemainingColumn(),
            console=Console(file=self._stream), auto_refresh=False,
        )
        self._task = self._rich.add_task("records", total=total, rate="0")
        self._rich.start()

    def update(self, done: int) -> None:
        rate = f"{done / max(time.monotonic() - self._started, 1e-9):.0f}"
        if self._rich is not None:
            self._rich.update(self._task, completed=done, rate=rate, refresh=True)
        elif self._on:
            total = self._total
            if total is None:
                self._stream.write(f"\r{done} records, {rate} records/s")
            else:
                filled = 30 * done // max(total, 1)
                self._stream.write(
                    f"\r[{'#' * filled}{'.' * (30 - filled)}] {done}/{total} records, "
                    f"{rate} records/s")
            self._stream.flush()

    def close(self) -> None:
        if self._rich is not None:
            self._rich.stop()
        elif self._on:
            self._stream.write("\n")
            self._stream.flush()


class ProgressReport:
    """What `progress=` asks for after each batch (see the module docstring)."""

    def __init__(self, progress: Progress, total: int | None, *, awaits: bool) -> None:
        if callable(progress) and not awaits and _is_async(progress):
            raise TypeError(
                "progress= is an async function: the sync client cannot await it; pass a "
                "plain function, or use the async client"
            )
        self._callback = progress if callable(progress) else None
        self._total = total
        self._bar = _Bar(total) if progress is True else None

    def __enter__(self) -> ProgressReport:
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


@dataclass(slots=True)
class BatchReport(Generic[R]):
    """One batch of a bulk import, as `BulkPlan.batches` yields them in order."""

    number: int  # from 1
    outcomes: list[RecordOutcome]  # every input record of the batch, by position
    result: BatchResult[R] | None = None  # the answer, when this run sent the batch
    resumed: bool = False  # settled by an earlier run: the outcomes come from the journal
    error: APIError | None = None  # what interrupted the batch; the import stops there

    @property
    def failed(self) -> bool:
        return any(not o.ok for o in self.outcomes) or (
            self.result is not None and not self.result.ok)


@dataclass(slots=True)
class _Step:
    number: int
    chunk: _Chunk | None  # None: nothing to send, the outcomes are `known`
    known: list[RecordOutcome] = field(default_factory=list)
    resumed: bool = False


def _doubtful(error: APIError) -> bool:
    """A broken exchange, a 5xx, a 2xx that cannot be read: the server may have applied the
    batch. One refused outright (auth, rate limit, a rule) was not applied."""
    return isinstance(error, OutcomeUnknownError | ResponseValidationError)


class BulkPlan:
    """The batches of one bulk import, in order, with its journal when there is one: a resumed
    run's journaled batches first (checked against the input before anything is sent), then
    the rest of the input, read one batch at a time (see `_journal`)."""

    def __init__(
        self, op: Operation, request_model: type[WireModel], records: Iterable[Any],
        keep: Mapping[str, Any], *, batch_size: int, journal: str | os.PathLike[str] | None = None,
        resend_in_doubt: bool = False, path: Mapping[str, Any] | None = None,
        query: Mapping[str, Any] | None = None,
    ) -> None:
        if op.batch is None:
            raise ValueError(f"{op.python_name} is not a batch operation")
        self._op, self._model, self._keep = op, request_model, keep
        self._size, self._resend = batch_size, resend_in_doubt
        self._input: Iterator[Any] = iter(records)
        self._read = 0  # records taken from the input so far
        self._left: list[JournaledBatch] = []  # journaled batches not yet yielded
        identity = {"operation": op.wire_name, "batch_size": batch_size,
                    "path": dict(path or {}), "query": dict(query or {}),
                    "keep": {k: jsonable(v) for k, v in keep.items() if v is not None}}
        self.journal = Journal(journal, identity) if journal is not None else None

    def __enter__(self) -> BulkPlan:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.journal is not None:
            self.journal.close()

    def _take(self) -> tuple[int, list[Any]]:
        start = self._read
        batch = list(islice(self._input, self._size))
        self._read += len(batch)
        return start, batch

    def _chunk(self, start: int, batch: Sequence[Any]) -> _Chunk:
        return _validated_chunk(self._op, self._model, batch, start, self._keep)

    def _sent(self, chunk: _Chunk) -> list[Any]:
        """The wire form of each record a chunk sends, as the journal keeps it."""
        assert self._op.batch is not None
        return [] if chunk.wire is None else list(chunk.wire[self._op.batch.records])

    @staticmethod
    def _digest(chunk: _Chunk) -> str:
        return digest(chunk.wire, [(o.index, o.record, o.error_messages) for o in chunk.rejected])

    def steps(self) -> Iterator[_Step]:
        journal = self.journal
        known = journal.batches() if journal is not None else []
        if journal is not None:
            self._check_input(journal, known)
        self._left = list(known)
        while self._left:
            yield self._resumed(self._left.pop(0))
        number = len(known)
        while True:
            start, batch = self._take()
            if not batch:
                break
            number += 1
            chunk = self._chunk(start, batch)
            if journal is not None:
                journal.plan(number, start, len(batch), self._digest(chunk), chunk.wire,
                             list(zip(chunk.indexes, self._sent(chunk), strict=True)),
                             [(o.index, o.record, o.error_messages) for o in chunk.rejected])
            yield _Step(number, chunk)
        if journal is not None:
            journal.finish(self._read)

    def _check_input(self, journal: Journal, known: Sequence[JournaledBatch]) -> None:
        """Read the input the journal covers and compare it, batch by batch: a journal of
        other input is refused before anything is sent."""
        for batch in known:
            start, records = self._take()
            if not records:
                raise journal.mismatch(
                    f"the input has {start} record(s), the journal's batch {batch.number} "
                    f"starts at record {batch.first + 1}")
            if len(records) != batch.size or self._digest(self._chunk(start, records)) != (
                    batch.digest):
                raise journal.mismatch(
                    f"batch {batch.number}, records {start + 1} to {start + len(records)}, "
                    f"differs from the journal's")
        end = journal.input_end()
        extra = next(self._input, _END)
        if end is not None and extra is not _END:
            raise journal.mismatch(f"the journal's input ended after {end} record(s), this "
                                   f"one goes on")
        if extra is not _END:
            self._input = chain([extra], self._input)

    def _resumed(self, batch: JournaledBatch) -> _Step:
        assert self.journal is not None
        records = self.journal.records(batch.number)
        rejected = [RecordOutcome(r.index, r.record, r.errors) for r in records if not r.sent]
        sent = [r for r in records if r.sent]
        if batch.state == "confirmed":
            return _Step(batch.number, None, sorted(
                [*rejected, *(RecordOutcome(r.index, r.record, r.errors) for r in sent)],
                key=lambda o: o.index), resumed=True)
        if batch.state == "planned" or self._resend:
            chunk = _Chunk(self.journal.body(batch.number), [r.index for r in sent],
                           [r.record for r in sent], rejected)
            return _Step(batch.number, chunk, resumed=True)
        why = ("in doubt: an earlier run sent it and never read the answer"
               + (f" ({batch.note})" if batch.note else "")
               + "; resend_in_doubt=True sends it again")
        doubt = [RecordOutcome(r.index, r.record, (why,), in_doubt=True) for r in sent]
        return _Step(batch.number, None, sorted([*rejected, *doubt], key=lambda o: o.index),
                     resumed=True)

    def rest(self, why: str) -> Iterator[RecordOutcome]:
        """The records no batch took, not sent (`why`); reads the input to its end."""
        note = (f"not sent: {why}",)
        for batch in self._left:
            assert self.journal is not None
            yield from (RecordOutcome(r.index, r.record, note)
                        for r in self.journal.records(batch.number))
        self._left = []
        for index, record in enumerate(self._input, self._read):
            yield RecordOutcome(index, record, note)

    def sending(self, step: _Step) -> None:
        if self.journal is not None:
            self.journal.sending(step.number)

    def answered(self, step: _Step, result: BatchResult[R]) -> BatchReport[R]:
        assert step.chunk is not None
        if self.journal is not None:
            self.journal.confirm(step.number, {o.index: o.error_messages for o in result.outcomes})
        return BatchReport(step.number, _merged(step.chunk.rejected, result.outcomes), result,
                           step.resumed)

    def interrupted(self, step: _Step, error: APIError) -> BatchReport[Any]:
        assert step.chunk is not None
        doubt = _doubtful(error)
        if self.journal is not None:
            (self.journal.doubt if doubt else self.journal.not_applied)(step.number, str(error))
        why = (f"outcome unknown: {error}",) if doubt else (f"not applied: {error}",)
        sent = [RecordOutcome(i, r, why, in_doubt=doubt)
                for i, r in zip(step.chunk.indexes, step.chunk.originals, strict=True)]
        return BatchReport(step.number, _merged(step.chunk.rejected, sent), None, step.resumed,
                           error)

    def known(self, step: _Step) -> BatchReport[Any]:
        """A batch with nothing to send: settled before, or every record rejected (settled now)."""
        chunk = step.chunk
        if chunk is None:
            return BatchReport(step.number, step.known, None, step.resumed)
        if self.journal is not None:
            self.journal.confirm(step.number, {})
        return BatchReport(step.number, list(chunk.rejected), None, step.resumed)


_END = object()


def _merged(*groups: Sequence[RecordOutcome]) -> list[RecordOutcome]:
    return sorted((o for group in groups for o in group), key=lambda o: o.index)


def iter_batches(
    client: SyncAPIClient, plan: BulkPlan, op: Operation, model: type[R], *,
    path: Mapping[str, Any] | None = None, query: Mapping[str, Any] | None = None,
    options: RequestOptions | None = None,
) -> Generator[BatchReport[R], None, None]:
    """Send the plan's batches one by one, each report as soon as its answer is read; after
    an error, the report that carries it is the last."""
    for step in plan.steps():
        if step.chunk is None or step.chunk.wire is None:
            yield plan.known(step)
            continue
        plan.sending(step)
        try:
            result = send_batch(client, op, model, step.chunk.wire, path=path, query=query,
                                originals=step.chunk.originals, indexes=step.chunk.indexes,
                                options=options)
        except APIError as exc:
            yield plan.interrupted(step, exc)
            return
        yield plan.answered(step, result)


async def iter_batches_async(
    client: AsyncAPIClient, plan: BulkPlan, op: Operation, model: type[R], *,
    path: Mapping[str, Any] | None = None, query: Mapping[str, Any] | None = None,
    options: RequestOptions | None = None,
) -> AsyncGenerator[BatchReport[R], None]:
    """Send the plan's batches one by one, each report as soon as its answer is read; after
    an error, the report that carries it is the last."""
    for step in plan.steps():
        if step.chunk is None or step.chunk.wire is None:
            yield plan.known(step)
            continue
        plan.sending(step)
        try:
            result = await send_batch_async(
                client, op, model, step.chunk.wire, path=path, query=query,
                originals=step.chunk.originals, indexes=step.chunk.indexes, options=options)
        except APIError as exc:
            yield plan.interrupted(step, exc)
            return
        yield plan.answered(step, result)


class _Collector(Generic[R]):
    """Gathers the reports of a bulk import into one BulkResult."""

    def __init__(self, plan: BulkPlan, on_failure: OnFailure) -> None:
        self.plan, self.on_failure = plan, on_failure
        self.bulk: BulkResult[R] = BulkResult()
        self.done = 0  # records with an outcome

    def add(self, report: BatchReport[R]) -> bool:
        """Take one batch; True when the import stops after it (raises when interrupted)."""
        bulk = self.bulk
        bulk.outcomes += report.outcomes
        self.done += len(report.outcomes)
        if report.result is not None:
            bulk.batches.append(report.result)
        bulk.resumed += report.resumed and report.result is None
        bulk.in_doubt += [o for o in report.outcomes if o.in_doubt]
        if report.error is not None:
            bulk.error = report.error
            self._stop(f"batch {report.number} was interrupted")
            raise BulkInterruptedError(bulk, report.error, report.number) from report.error
        if report.failed and self.on_failure == "stop":
            self._stop("an earlier batch failed")
            return True
        return False

    def _stop(self, why: str) -> None:
        self.bulk.stopped = True
        self.bulk.not_sent = list(self.plan.rest(why))


def _total(records: Iterable[Any]) -> int | None:
    return len(records) if isinstance(records, Sized) else None


def send_batches(
    client: SyncAPIClient, op: Operation, model: type[R], request_model: type[WireModel],
    records: Iterable[Any], keep: Mapping[str, Any], *, batch_size: int,
    on_failure: OnFailure, progress: Progress, strict: bool,
    journal: str | os.PathLike[str] | None = None, resend_in_doubt: bool = False,
    path: Mapping[str, Any] | None = None, query: Mapping[str, Any] | None = None,
    options: RequestOptions | None = None,
) -> BulkResult[R]:
    """Send `records` in batches; every record ends up in `outcomes` (or `not_sent`)."""
    _check(batch_size, on_failure)
    with BulkPlan(op, request_model, records, keep, batch_size=batch_size, journal=journal,
                  resend_in_doubt=resend_in_doubt, path=path, query=query) as plan, \
            ProgressReport(progress, _total(records), awaits=False) as report:
        collector: _Collector[R] = _Collector(plan, on_failure)
        reports = iter_batches(client, plan, op, model, path=path, query=query, options=options)
        with closing(reports):
            for batch in reports:
                stop = collector.add(batch)
                report.sync(collector.done)
                if stop:
                    break
    bulk = collector.bulk
    if strict and not bulk.ok:
        raise BatchFailedError(bulk)
    return bulk


async def send_batches_async(
    client: AsyncAPIClient, op: Operation, model: type[R], request_model: type[WireModel],
    records: Iterable[Any], keep: Mapping[str, Any], *, batch_size: int,
    on_failure: OnFailure, progress: Progress, strict: bool,
    journal: str | os.PathLike[str] | None = None, resend_in_doubt: bool = False,
    path: Mapping[str, Any] | None = None, query: Mapping[str, Any] | None = None,
    options: RequestOptions | None = None,
) -> BulkResult[R]:
    """Send `records` in batches; every record ends up in `outcomes` (or `not_sent`)."""
    _check(batch_size, on_failure)
    with BulkPlan(op, request_model, records, keep, batch_size=batch_size, journal=journal,
                  resend_in_doubt=resend_in_doubt, path=path, query=query) as plan, \
            ProgressReport(progress, _total(records), awaits=True) as report:
        collector: _Collector[R] = _Collector(plan, on_failure)
        reports = iter_batches_async(client, plan, op, model, path=path, query=query,
                                     options=options)
        async with aclosing(reports):
            async for batch in reports:
                stop = collector.add(batch)
                await report.async_(collector.done)
                if stop:
                    break
    bulk = collector.bulk
    if strict and not bulk.ok:
        raise BatchFailedError(bulk)
    return bulk
