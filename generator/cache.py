"""One wrapper for the slow pure stages (parse, meta-schema, datamodel-code-generator, ruff,
Jinja's compiler, the modules only part of the API shapes): a stage's result is kept under a
key that hashes everything it reads.

The rule, in one place: key = sha256 of the stage's name, its code (its module's source and any
file it names), the versions of the libraries it names, Python's and apigen's versions, and its
arguments serialised canonically. An argument that is itself a kept result (a `Keyed`, such as a
parsed document) stands in by the key it was made under, so a later stage's key covers all that
an earlier one read. A hit is therefore what recomputing would give; any edit to a spec, a
template, a generator module, a library or a ruff setting changes some input and misses.

An entry holds its own key and a checksum of its value: a damaged, truncated or foreign entry is a
miss, and values are plain data (a pickle that may name no class but the date types YAML makes),
so an entry can never run code (but Jinja's compiled templates, which are code, as they are in
Jinja's own file cache). Entries live in $APIGEN_CACHE_DIR (default ~/.cache/apigen);
APIGEN_NO_CACHE=1 turns the cache off. A cache that cannot be read or written only costs time.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import io
import os
import pickle
import sys
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any, Generic, ParamSpec, Protocol, TypeVar, runtime_checkable

from generator import __version__

P = ParamSpec("P")
R = TypeVar("R")

_MAGIC = b"apigen-cache 1\n"
# What a kept value may hold besides Python's plain types: YAML's timestamps.
_DATE_TYPES = {t.__name__: t for t in (datetime.date, datetime.datetime, datetime.time,
                                       datetime.timedelta, datetime.timezone)}


@runtime_checkable
class Keyed(Protocol):
    """A kept result passed to a later stage: it stands in by the key it was made under."""

    @property
    def cache_key(self) -> str: ...


def _root() -> Path | None:
    if os.environ.get("APIGEN_NO_CACHE"):
        return None
    explicit = os.environ.get("APIGEN_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "apigen"


def _feed(digest: Any, value: object) -> None:
    """Value into the hash, tagged and length-prefixed, so that no two values collide (dicts in
    key order, so their insertion order does not count)."""
    def chunk(tag: bytes, data: bytes) -> None:
        digest.update(tag + len(data).to_bytes(8, "big"))
        digest.update(data)

    if isinstance(value, str):
        chunk(b"s", value.encode("utf-8", "surrogatepass"))
    elif isinstance(value, bytes):
        chunk(b"b", value)
    elif value is None or isinstance(value, bool | int | float):
        chunk(b"v", repr(value).encode())
    elif isinstance(value, tuple | list):
        chunk(b"l", str(len(value)).encode())
        for item in value:
            _feed(digest, item)
    elif isinstance(value, dict):
        chunk(b"d", str(len(value)).encode())
        for item_key, item in sorted(value.items()):
            _feed(digest, item_key)
            _feed(digest, item)
    elif isinstance(value, Keyed) and value.cache_key:
        chunk(b"k", value.cache_key.encode())
    else:  # its identity would be missing from the key: refuse rather than serve stale output
        raise TypeError(f"a cached stage cannot key on a {type(value).__name__}")


class _PlainPickler(pickle.Pickler):
    def reducer_override(self, obj: Any) -> Any:
        # Called only for what is not a plain type (None, bool, int, float, str, bytes, list,
        # tuple, dict, set, frozenset): a date and the class it names are kept too.
        if type(obj) in _DATE_TYPES.values() or obj in _DATE_TYPES.values():
            return NotImplemented
        raise TypeError(f"a cached stage returned a {type(obj).__name__}, not plain data")


class _PlainUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if module == "datetime" and name in _DATE_TYPES:
            return _DATE_TYPES[name]
        raise pickle.UnpicklingError(f"{module}.{name} is not plain data")


def encode_entry(key: str, value: object) -> bytes:
    """What the entry of `key` holds: a header naming the key and the value's checksum, then
    the value."""
    buffer = io.BytesIO()
    _PlainPickler(buffer, protocol=5).dump(value)
    payload = buffer.getvalue()
    return _MAGIC + key.encode() + hashlib.sha256(payload).digest() + payload


def decode_entry(key: str, data: bytes) -> Any | None:
    """The value of an entry, or None when it is not a whole entry of `key`."""
    head = _MAGIC + key.encode()
    checksum, payload = data[len(head) : len(head) + 32], data[len(head) + 32 :]
    if not data.startswith(head) or hashlib.sha256(payload).digest() != checksum:
        return None
    try:
        return _PlainUnpickler(io.BytesIO(payload)).load()
    except Exception:  # a valid checksum over a forged value: still only a miss
        return None


class Stage:
    """The kept results of one pure function, by the rule above. `lookup` and `store` serve
    callers that schedule the computation themselves (a batch through ruff, worker processes,
    Jinja's compiler); `stage()` wraps a plain function. A stage never returns None (a miss)."""

    def __init__(self, name: str, code: Sequence[str | Path], tools: Sequence[str] = ()) -> None:
        self.name, self.code, self.tools = name, tuple(map(Path, code)), tuple(tools)

    @functools.cached_property
    def _identity(self) -> bytes:
        """The code and versions part of every key (read once per process)."""
        digest = hashlib.sha256()
        _feed(digest, [self.name, sys.version, __version__,
                       *(path.read_bytes() for path in self.code),
                       *(f"{tool} {version(tool)}" for tool in self.tools)])
        return digest.digest()

    def key(self, *args: object) -> str:
        digest = hashlib.sha256(self._identity)
        _feed(digest, args)
        return digest.hexdigest()

    def _path(self, key: str) -> Path | None:
        root = _root()
        return None if root is None else root / self.name / key[:2] / key

    def lookup(self, *args: object) -> Any | None:
        return self._get(self.key(*args)) if _root() is not None else None

    def store(self, value: object, *args: object) -> None:
        """Keep `value` as the result for `args` (the caller's claim: it is what the function
        gives for them)."""
        if _root() is not None:
            self._put(self.key(*args), value)

    def _get(self, key: str) -> Any | None:
        path = self._path(key)
        try:
            return None if path is None else decode_entry(key, path.read_bytes())
        except OSError:
            return None

    def _put(self, key: str, value: object) -> None:
        """Written whole or not at all (a fresh temporary file, then a rename), so that runs
        at the same time never read half an entry."""
        path = self._path(key)
        if path is None or value is None:
            return
        data = encode_entry(key, value)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, temp = tempfile.mkstemp(prefix=f".{key}.", suffix=".tmp", dir=path.parent)
            try:
                with os.fdopen(handle, "wb") as out:
                    out.write(data)
                os.replace(temp, path)
            except BaseException:
                os.unlink(temp)
                raise
        except OSError:
            pass

    def batch(self, items: Iterable[tuple[Any, ...]]) -> Batch:
        """Many calls at once: the kept results now, the others when the caller has them."""
        items = list(items)
        return Batch(self, items, [self.lookup(*item) for item in items])


@dataclass
class Batch:
    """Calls of one stage whose misses the caller computes, all at once or in other processes,
    and hands back to `complete`."""

    stage: Stage
    items: list[tuple[Any, ...]]
    found: list[Any | None]

    @property
    def missing(self) -> list[tuple[Any, ...]]:
        """The calls whose results the cache lacks, in order."""
        return [item for item, value in zip(self.items, self.found, strict=True) if value is None]

    def complete(self, values: Iterable[Any]) -> list[Any]:
        """All results, in order, given those of `missing` (which are kept)."""
        computed = iter(values)
        out = []
        for item, value in zip(self.items, self.found, strict=True):
            if value is None:
                value = next(computed)
                self.stage.store(value, *item)
            out.append(value)
        return out


@dataclass(frozen=True)
class Run(Generic[R]):
    value: R
    key: str  # what a later stage keys on to stand for this result
    fresh: bool  # computed now, not taken from the cache


class Cached(Stage, Generic[P, R]):
    """A pure function whose results are kept (see `stage`)."""

    def __init__(self, fn: Callable[P, R], name: str, tools: Sequence[str],
                 reads: Sequence[str | Path]) -> None:
        module = sys.modules[fn.__module__].__file__
        assert module is not None
        super().__init__(name, [module, *reads], tools)
        self.fn = fn
        functools.update_wrapper(self, fn)

    def run(self, *args: P.args, **kwargs: P.kwargs) -> Run[R]:
        if kwargs:
            raise TypeError(f"the {self.name} stage takes positional arguments (its key)")
        if _root() is None:
            return Run(self.fn(*args, **kwargs), "", fresh=True)
        key = self.key(*args)
        kept = self._get(key)
        if kept is not None:
            return Run(kept, key, fresh=False)
        value = self.fn(*args, **kwargs)
        self._put(key, value)
        return Run(value, key, fresh=True)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        return self.run(*args, **kwargs).value


def stage(
    name: str, *tools: str, reads: Sequence[str | Path] = ()
) -> Callable[[Callable[P, R]], Cached[P, R]]:
    """Keep the results of a pure function. Its code is its module's source and the files in
    `reads`; `tools` names the libraries whose versions count."""
    def wrap(fn: Callable[P, R]) -> Cached[P, R]:
        return Cached(fn, name, tools, reads)

    return wrap
