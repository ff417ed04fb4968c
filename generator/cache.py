"""A content-addressed cache for the two slow stages (datamodel-code-generator and ruff).

A key hashes every input of the step: the generator's version and the code of the stage, the
tool's version, its configuration, and the content itself. A hit is therefore byte for byte what
recomputing would give; an edit to a spec, a template or a pulled schema changes some input and
misses. Entries live in $APIGEN_CACHE_DIR (default ~/.cache/apigen); APIGEN_NO_CACHE=1 turns the
cache off. A cache that cannot be read or written only costs time.
"""

from __future__ import annotations

import functools
import hashlib
import os
from importlib.metadata import version
from pathlib import Path

from generator import __version__


def _root() -> Path | None:
    if os.environ.get("APIGEN_NO_CACHE"):
        return None
    explicit = os.environ.get("APIGEN_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "apigen"


def key(*parts: str | bytes) -> str:
    """A digest of all parts, length-prefixed so that no two part lists collide."""
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.hexdigest()


@functools.cache
def stage_inputs(stage_file: str, *tools: str) -> tuple[str | bytes, ...]:
    """What every key of one stage starts with: the generator's version, the stage's own code
    and the versions of the tools it runs (read once per process: a key is made per file)."""
    return (__version__, Path(stage_file).read_bytes(), *(f"{t} {version(t)}" for t in tools))


def directory(kind: str) -> Path | None:
    """The folder of one kind of entry (None when the cache is off)."""
    root = _root()
    return None if root is None else root / kind


def _path(kind: str, digest: str) -> Path | None:
    folder = directory(kind)
    return None if folder is None else folder / digest[:2] / digest


def get_bytes(kind: str, digest: str) -> bytes | None:
    path = _path(kind, digest)
    if path is None:
        return None
    try:
        return path.read_bytes()
    except OSError:
        return None


def put_bytes(kind: str, digest: str, data: bytes) -> None:
    path = _path(kind, digest)
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_name(f".{digest}.{os.getpid()}.tmp")
        temp.write_bytes(data)
        os.replace(temp, path)  # readers never see half an entry
    except OSError:
        pass


def has(kind: str, digest: str) -> bool:
    path = _path(kind, digest)
    return path is not None and path.is_file()


def get(kind: str, digest: str) -> str | None:
    data = get_bytes(kind, digest)
    try:
        return None if data is None else data.decode("utf-8")
    except UnicodeDecodeError:  # a damaged entry is a miss
        return None


def put(kind: str, digest: str, text: str) -> None:
    put_bytes(kind, digest, text.encode("utf-8"))
