"""The journal of a bulk import (`journal=` of every `*_many` method): a SQLite file that says,
after any crash, what was imported. It holds the run's identity (operation, settings), every
batch with its records and its state, and every record's outcome. A batch is written down
(`planned`) before it is sent, marked `sent` just before the request leaves and `confirmed`
once its answer is read; a batch whose answer never came is `in_doubt`. Each step is one
committed transaction (WAL mode), so a kill at any point leaves the last step whole.

A resumed run with the same journal and the same input skips the confirmed batches (their
outcomes come from the journal), sends the planned ones, and reports the batches in doubt
without sending them again unless asked (`resend_in_doubt=True`). A journal written for other
input or other settings is refused (`JournalMismatchError`) before anything is sent.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal
from enum import Enum
from typing import Any, Literal

from ._base_client import encode_json

State = Literal["planned", "sent", "confirmed", "in_doubt"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS run (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS batches (
    number INTEGER PRIMARY KEY, first INTEGER NOT NULL, size INTEGER NOT NULL,
    digest TEXT NOT NULL, state TEXT NOT NULL, body TEXT, note TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS records (
    batch INTEGER NOT NULL, position INTEGER NOT NULL, record TEXT NOT NULL,
    sent INTEGER NOT NULL, errors TEXT NOT NULL DEFAULT '[]', PRIMARY KEY (batch, position)
);
"""


class JournalMismatchError(ValueError):
    """The journal belongs to another run: other input or other settings. Nothing was sent."""


@dataclass(frozen=True, slots=True)
class JournaledBatch:
    number: int  # from 1
    first: int  # position of its first record in the input
    size: int  # records of the input in it, sent or rejected before sending
    digest: str
    state: State
    note: str  # why it is in doubt, or why it was not applied


@dataclass(frozen=True, slots=True)
class JournaledRecord:
    index: int  # position in the input
    record: Any  # its wire form (or the input itself, for a record rejected before sending)
    sent: bool  # False: rejected before sending
    errors: tuple[str, ...]


def _text(value: Any) -> str:
    return encode_json(value).decode("utf-8")


def _value(text: str) -> Any:
    return json.loads(text, parse_float=Decimal)


def jsonable(value: Any) -> Any:
    """A record as the caller passed it, in a form JSON can hold: models by their wire names,
    and a value JSON has no word for (a record the model refused may hold any) by its repr."""
    to_wire = getattr(value, "to_wire", None)
    if callable(to_wire):
        return jsonable(to_wire())
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, float | Decimal) and not math.isfinite(value):
        return repr(value)
    if value is None or isinstance(value, str | int | float | Decimal | date | time | Enum):
        return value  # bool is an int; datetime a date
    return repr(value)


def digest(body: Mapping[str, Any] | None, rejected: Sequence[tuple[int, Any, Sequence[str]]]
           ) -> str:
    """What identifies a batch of the input: the body it sends and the records it rejects."""
    text = _text([body, [[i, jsonable(r), list(e)] for i, r, e in rejected]])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Journal:
    """One journal file, opened for one run (`identity`: the operation and the settings)."""

    def __init__(self, path: str | os.PathLike[str], identity: Mapping[str, Any]) -> None:
        self.path = os.fspath(path)
        self._db = sqlite3.connect(self.path, isolation_level=None)
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")  # a committed step survives a crash
            with self._transaction():
                for statement in filter(str.strip, _SCHEMA.split(";")):
                    self._db.execute(statement)
                mine = _text(identity)
                found = self._run("identity")
                if found is None:
                    self._db.execute("INSERT INTO run VALUES ('identity', ?)", (mine,))
            if found is not None and found != mine:
                raise JournalMismatchError(self._settings_differ(_value(found), identity))
        except BaseException:
            self._db.close()
            raise

    def _settings_differ(self, theirs: Mapping[str, Any], mine: Mapping[str, Any]) -> str:
        changed = [f"{key} {_text(theirs.get(key))} there, {_text(mine.get(key))} here"
                   for key in sorted({*theirs, *mine}) if theirs.get(key) != mine.get(key)]
        return (f"journal {self.path} belongs to a run with other settings ("
                f"{'; '.join(changed)}): resume with the same settings, or use a new journal")

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)

    def _run(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM run WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def close(self) -> None:
        self._db.close()

    # -- what a resumed run reads ---------------------------------------------------------

    def batches(self) -> list[JournaledBatch]:
        rows = self._db.execute(
            "SELECT number, first, size, digest, state, note FROM batches ORDER BY number")
        return [JournaledBatch(*row) for row in rows]

    def input_end(self) -> int | None:
        """How many records the input had, once a run read it to its end."""
        found = self._run("input_end")
        return None if found is None else int(found)

    def body(self, number: int) -> dict[str, Any] | None:
        row = self._db.execute("SELECT body FROM batches WHERE number = ?", (number,)).fetchone()
        return None if row is None or row[0] is None else _value(row[0])

    def records(self, number: int) -> list[JournaledRecord]:
        rows = self._db.execute(
            "SELECT position, record, sent, errors FROM records WHERE batch = ? "
            "ORDER BY position", (number,))
        return [JournaledRecord(p, _value(r), bool(s), tuple(_value(e))) for p, r, s, e in rows]

    def mismatch(self, why: str) -> JournalMismatchError:
        return JournalMismatchError(
            f"journal {self.path} belongs to a run with other input ({why}): resume with the "
            f"same input, or use a new journal")

    # -- what a run writes, one committed step each ---------------------------------------

    def plan(self, number: int, first: int, size: int, batch_digest: str,
             body: Mapping[str, Any] | None, sent: Sequence[tuple[int, Any]],
             rejected: Sequence[tuple[int, Any, Sequence[str]]]) -> None:
        """A batch and its records, before anything of it is sent."""
        with self._transaction():
            self._db.execute(
                "INSERT INTO batches (number, first, size, digest, state, body) "
                "VALUES (?, ?, ?, ?, 'planned', ?)",
                (number, first, size, batch_digest, None if body is None else _text(body)))
            self._db.executemany(
                "INSERT INTO records (batch, position, record, sent, errors) "
                "VALUES (?, ?, ?, ?, ?)",
                [(number, i, _text(r), 1, "[]") for i, r in sent]
                + [(number, i, _text(jsonable(r)), 0, _text(list(e))) for i, r, e in rejected])

    def sending(self, number: int) -> None:
        self._state(number, "sent", "")

    def confirm(self, number: int, errors: Mapping[int, Sequence[str]]) -> None:
        """The answer was read: each sent record's errors (none: it was accepted)."""
        with self._transaction():
            self._db.executemany(
                "UPDATE records SET errors = ? WHERE batch = ? AND position = ? AND sent = 1",
                [(_text(list(e)), number, i) for i, e in errors.items()])
            self._db.execute("UPDATE batches SET state = 'confirmed', note = '' WHERE number = ?",
                             (number,))

    def doubt(self, number: int, why: str) -> None:
        self._state(number, "in_doubt", why)

    def not_applied(self, number: int, why: str) -> None:
        """Refused outright (the server applied nothing): sent again by the next run."""
        self._state(number, "planned", why)

    def finish(self, records: int) -> None:
        with self._transaction():
            self._db.execute("INSERT OR REPLACE INTO run VALUES ('input_end', ?)", (str(records),))

    def _state(self, number: int, state: State, note: str) -> None:
        with self._transaction():
            self._db.execute("UPDATE batches SET state = ?, note = ? WHERE number = ?",
                             (state, note, number))


class _Transaction:
    """BEGIN IMMEDIATE … COMMIT, rolled back on an error."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: object, *rest: object) -> None:
        self._db.execute("COMMIT" if kind is None else "ROLLBACK")
