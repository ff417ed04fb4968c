"""Per-record outcomes of a bulk-import body (an operation whose envelope has `batch`), and the
answer the spec's `batch_result` describes: `success`, `messages`, the failing records echoed
with their errors at the level that failed, and a support id."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from starlette.responses import JSONResponse

from emulator.errors import support_id
from generator.model.ir import Api, Operation
from generator.model.runtime_spec import BatchResultShape


@dataclass
class RecordErrors:
    record: list[str] = field(default_factory=list)  # the row itself (flat rows)
    header: list[str] = field(default_factory=list)
    items: dict[int, list[str]] = field(default_factory=dict)


def echoes_lists(api: Api, op: Operation) -> bool:
    """Whether the response model echoes each failing record as a list of its items."""
    shape = api.batch_result
    if shape is None or op.response.model is None:
        return False
    records = op.response.model.field(shape.records)
    return bool(records and records.type.item and records.type.item.kind == "list")


class Batch:
    """The records of one call; checks and handlers mark failures, then `answer()` renders."""

    def __init__(self, shape: BatchResultShape, records: list[Any], *, lists: bool,
                 failure_status: int) -> None:
        self.shape = shape
        self.records = records
        self.lists = lists
        self.failure_status = failure_status
        self.errors: dict[int, RecordErrors] = {}

    def fail(self, index: int, message: str, *, part: str = "", item: int | None = None) -> None:
        """Record a problem of record `index`: of its `header`, of item `item`, or of the
        record as a whole."""
        errors = self.errors.setdefault(index, RecordErrors())
        if item is not None:
            errors.items.setdefault(item, []).append(message)
        elif part == "header":
            errors.header.append(message)
        else:
            errors.record.append(message)

    def failed(self, index: int) -> bool:
        return index in self.errors

    def good(self) -> Iterator[tuple[int, Any]]:
        """The records not failed so far (checked as the iteration goes)."""
        for index, record in enumerate(self.records):
            if not self.failed(index):
                yield index, record

    def answer(self, success: bool | str = True) -> dict[str, Any] | JSONResponse:
        """`{success}` when every record went in; else the failure document, sent with
        `failure_status`."""
        shape = self.shape
        if not self.errors:
            return {shape.success: success}
        echoed = [self._echo(self.records[i], self.errors[i]) for i in sorted(self.errors)]
        body: dict[str, Any] = {shape.success: False}
        if shape.messages:
            body[shape.messages] = list(dict.fromkeys(
                m for e in self.errors.values()
                for m in [*e.record, *e.header, *(x for ms in e.items.values() for x in ms)]
            ))
        body[shape.records] = echoed
        if shape.support_id:
            body[shape.support_id] = support_id()
        return JSONResponse(body, self.failure_status)

    def _echo(self, record: Any, errors: RecordErrors) -> Any:
        key = self.shape.record_errors
        if not isinstance(record, dict):
            return {key: errors.record}
        if "header" not in record:  # a flat row
            return {**record, key: errors.record}
        header = dict(record["header"]) if isinstance(record["header"], dict) else {}
        if errors.record or errors.header:
            header[key] = [*errors.record, *errors.header]
        items = record.get("items") or []
        failing = [{**items[i], key: msgs} for i, msgs in sorted(errors.items.items())
                   if i < len(items) and isinstance(items[i], dict)]
        if self.lists:  # the failing items only; the header stands in when it failed
            return failing + ([header] if key in header else [])
        echo: dict[str, Any] = {"header": header}
        if failing:
            echo["items"] = failing
        return echo
