"""A content-addressed cache for the two slow stages (datamodel-code-generator and ruff).

A key hashes every input of the step: the generator's version and the code of the stage, the
tool's version, its configuration, and the content itself. A hit is therefore byte for byte what
recomputing would give; an edit to a spec, a template or a pulled schema changes some input and
misses. Entries live in $APIGEN_CACHE_DIR (default ~/.cache/apigen); APIGEN_NO_CACHE=1 turns the
cache off. A cache that cannot be read or written only costs time.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


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


def _path(kind: str, digest: str) -> Path | None:
    root = _root()
    return None if root is None else root / kind / digest[:2] / digest


def get(kind: str, digest: str) -> str | None:
    path = _path(kind, digest)
    if path is None:
        return None
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return None


def put(kind: str, digest: str, text: str) -> None:
    path = _path(kind, digest)
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_name(f".{digest}.{os.getpid()}.tmp")
        temp.write_text(text, encoding="utf-8")
        os.replace(temp, path)  # readers never see half an entry
    except OSError:
        pass
