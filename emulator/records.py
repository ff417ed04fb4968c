"""The emulator's record store: named collections of records (wire-field documents) keyed by
the fields the emulator data declares, with parent links, ids from a seeded generator (the same
ids after every reset), the seeded records of `seeds.yaml`, and snapshots for all-or-nothing
imports. One lock guards it; the engine holds it while a handler or a behaviour runs."""

from __future__ import annotations

import copy
import random
import shutil
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator.model.ir import key_fold

Key = tuple[str, ...]
GUID_SEED = 20240601  # any fixed number: runs and resets give the same ids


@dataclass
class Record:
    """One stored record: its fields as the API spells them, its line items by item key, its
    status and the id of the record it belongs to (a project-level record names its project)."""

    id: str
    fields: dict[str, Any]
    items: dict[str, dict[str, Any]] = field(default_factory=dict)
    status: str = ""
    parent: str | None = None

    def value(self, name: str, fold: Callable[[str], str]) -> Any:
        """The field `name` at the top level, else inside one of the record's mapping fields
        (custom fields), names compared the way the API compares keys; `id` is the record's."""
        if name == "id":
            return self.id
        for source in (self.fields, *(v for v in self.fields.values() if isinstance(v, dict))):
            for key, value in source.items():
                if fold(key) == fold(name):
                    return value
        return None


@dataclass(frozen=True)
class CollectionDef:
    name: str
    key: tuple[str, ...]  # fields naming a record (within its parent)
    parent: str | None = None  # the collection of the records these belong to


class RecordStore:
    """Collections by name (each a dict: key tuple -> Record), plus the plain tables hooks keep
    (`table()`), all of them covered by `snapshot()` and cleared by `reset()`; uploaded files
    are kept in `files_dir`, emptied by `reset()` and removed by `close()`."""

    def __init__(self, collections: Mapping[str, CollectionDef], seeds: Any,
                 *, case_insensitive: bool) -> None:
        self.lock = threading.RLock()
        self.definitions = dict(collections)
        self.seeds = seeds
        self._fold = key_fold(case_insensitive)
        self._tables: dict[str, Any] = {}
        self._on_reset: list[Callable[[RecordStore], None]] = []
        self.files_dir = Path(tempfile.mkdtemp(prefix="emulator-files-"))
        self.reset()

    # -- keys and ids ----------------------------------------------------------------------

    def fold(self, value: Any) -> str:
        return self._fold(str(value))

    def key(self, *parts: Any) -> Key:
        """A lookup key: the API's key comparison applied to every part."""
        return tuple(self.fold(p) for p in parts)

    def new_id(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def record_key(self, name: str, fields: Mapping[str, Any], parent: Record | None) -> Key:
        definition = self.definitions[name]
        values = [fields.get(k) for k in definition.key]
        owner = [parent.id if parent else ""] if definition.parent else []
        return self.key(*owner, *values)

    # -- collections -----------------------------------------------------------------------

    def __getattr__(self, name: str) -> dict[Any, Any]:
        """`store.projects` is the collection `projects` (for hooks and tests)."""
        tables = self.__dict__.get("_tables", {})
        if name in tables:
            return tables[name]
        raise AttributeError(name)

    def collection(self, name: str) -> dict[Key, Record]:
        return self._tables[name]

    def put(self, name: str, fields: dict[str, Any], *, parent: Record | None = None,
            status: str = "", items: dict[str, dict[str, Any]] | None = None,
            record_id: str | None = None) -> Record:
        record = Record(record_id or self.new_id(), dict(fields), dict(items or {}), status,
                        parent.id if parent else None)
        self._tables[name][self.record_key(name, fields, parent)] = record
        return record

    def find(self, name: str, values: Mapping[str, Any], *,
             parent: Record | None = None) -> Record | None:
        """The record of `name` (under `parent`) whose fields hold `values`: by key when the
        values are the key, else by scanning, also inside mapping fields (custom fields)."""
        definition = self.definitions[name]
        if set(values) == set(definition.key):
            return self._tables[name].get(self.record_key(name, values, parent))
        wanted = {f: self.fold(v) for f, v in values.items()}
        for record in self.records(name, parent):
            found = {f: record.value(f, self.fold) for f in wanted}
            if all(v is not None and self.fold(v) == wanted[f] for f, v in found.items()):
                return record
        return None

    def records(self, name: str, parent: Record | None = None) -> Iterator[Record]:
        for record in self._tables[name].values():
            if parent is None or record.parent == parent.id:
                yield record

    def table(self, name: str) -> dict[Any, Any]:
        """A hook's own table (processes, documents, counters...), kept in snapshots too."""
        return self._tables.setdefault(name, {})

    # -- lifecycle -------------------------------------------------------------------------

    def on_reset(self, seed: Callable[[RecordStore], None]) -> None:
        """Run `seed` now and after every reset (a hook seeding its own tables)."""
        self._on_reset.append(seed)
        with self.lock:
            seed(self)

    def reset(self) -> None:
        with self.lock:
            self._rng = random.Random(GUID_SEED)
            shutil.rmtree(self.files_dir, ignore_errors=True)
            self.files_dir.mkdir(parents=True)
            self._tables = {name: {} for name in self.definitions}
            self._seed()
            for seed in self._on_reset:
                seed(self)

    def close(self) -> None:
        shutil.rmtree(self.files_dir, ignore_errors=True)

    def snapshot(self) -> dict[str, Any]:
        return copy.deepcopy(self._tables)

    def restore(self, saved: dict[str, Any]) -> None:
        """Back to a snapshot, in place: whoever holds a table keeps holding the live one."""
        for name, table in saved.items():
            live = self._tables.setdefault(name, table)
            live.clear()
            live.update(table)

    def _seed(self) -> None:
        """The records of seeds.yaml, collection by collection in file order (generated ids
        follow it); a record's `parent` lists its parent's key values from the top down."""
        seeds = self.seeds if isinstance(self.seeds, dict) else {}
        for name, rows in seeds.items():
            if name not in self.definitions:
                continue  # a hook's seeds
            for row in rows or ():
                parent = self.parent_of(name, row.get("parent") or [])
                self.put(name, row.get("fields") or {}, parent=parent,
                         status=row.get("status", ""), items=row.get("items"),
                         record_id=row.get("id"))

    def parent_of(self, name: str, path: list[Any]) -> Record | None:
        """The parent record named by key values from the top collection down."""
        chain: list[CollectionDef] = []
        parent = self.definitions[name].parent
        while parent is not None:
            chain.insert(0, self.definitions[parent])
            parent = self.definitions[parent].parent
        record = None
        values = list(path if isinstance(path, list) else [path])
        for definition in chain:
            taken, values = values[:len(definition.key)], values[len(definition.key):]
            record = self.find(definition.name, dict(zip(definition.key, taken, strict=True)),
                               parent=record)
            if record is None:
                raise KeyError(f"{name}: no {definition.name} record {taken}")
        return record
