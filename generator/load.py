"""Stage 1: read the YAML files of one API, keeping the line and column of every key."""

from __future__ import annotations

import datetime
import io
import os
import pickle
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from generator import cache
from generator.errors import Loc, Problem, SpecError

# libyaml's C parser when present (it ships in PyYAML's wheels): YAML parsing is most of the
# time of a warm `generate`.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class Document:
    """One parsed spec file: plain data, and where each key and list item sits in the file."""

    path: str
    data: Any
    positions: dict[Path_, tuple[int, int]] = field(default_factory=dict, compare=False)
    digest: str = field(default="", compare=False)  # of the file's text, for later caches
    fresh: bool = field(default=False, compare=False)  # parsed now, not taken from the cache

    def loc(self, keys: Sequence[str | int] = ()) -> Loc:
        """Where the key at `keys` (or its nearest ancestor that has a position) sits."""
        keys = tuple(keys)
        while keys and keys not in self.positions:
            keys = keys[:-1]
        line, col = self.positions.get(keys, (0, 0))
        return Loc(self.path, line + 1, col + 1)


def display_path(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)


def _positions(node: yaml.Node, path: Path_, out: dict[Path_, tuple[int, int]],
               problems: list[tuple[int, int, str]]) -> None:
    """Record the position of every mapping key and sequence item; note duplicate keys, which a
    plain YAML load would silently drop."""
    if isinstance(node, yaml.MappingNode):
        seen: set[Any] = set()
        for key_node, value_node in node.value:
            key = key_node.value
            mark = (key_node.start_mark.line, key_node.start_mark.column)
            if key in seen:
                problems.append((*mark, f"duplicate key {key!r}"))
            seen.add(key)
            out[(*path, key)] = mark
            _positions(value_node, (*path, key), out, problems)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            out[(*path, index)] = (item.start_mark.line, item.start_mark.column)
            _positions(item, (*path, index), out, problems)


def _parse(text: str, shown: str) -> tuple[Any, dict[Path_, tuple[int, int]], list[Problem]]:
    loader = _LOADER(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        loc = Loc(shown, mark.line + 1, mark.column + 1) if mark else Loc(shown)
        return None, {}, [Problem(loc, "", f"malformed YAML: {exc.problem or exc.context}")]
    except yaml.YAMLError as exc:
        return None, {}, [Problem(Loc(shown), "", f"malformed YAML: {exc}")]
    finally:
        loader.dispose()
    positions: dict[Path_, tuple[int, int]] = {}
    duplicates: list[tuple[int, int, str]] = []
    if node is not None:
        _positions(node, (), positions, duplicates)
    problems = [Problem(Loc(shown, line + 1, col + 1), "", message)
                for line, col, message in duplicates]
    return data if data is not None else {}, positions, problems


class _ParsedUnpickler(pickle.Unpickler):
    """Loads a cached parse: YAML's plain types, and nothing that could run code."""

    _ALLOWED = {("datetime", n) for n in ("date", "datetime", "timedelta", "timezone")}

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in self._ALLOWED:
            return getattr(datetime, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not a YAML type")


def _parse_cached(text: str, shown: str) -> tuple[Document | None, list[Problem]]:
    """Parse a file, or reuse the parse of the same text (YAML is most of a warm run's time)."""
    digest = cache.key(*cache.stage_inputs(__file__, "pyyaml"), text)
    hit = cache.get_bytes("parse", digest)
    if hit is not None:
        try:
            data, positions = _ParsedUnpickler(io.BytesIO(hit)).load()
            return Document(shown, data, positions, digest), []
        except Exception:  # a damaged entry is a miss
            pass
    data, positions, problems = _parse(text, shown)
    if data is None:
        return None, problems
    if not problems:
        cache.put_bytes("parse", digest, pickle.dumps((data, positions), protocol=5))
    return Document(shown, data, positions, digest, fresh=True), problems


def load_api_dir(api_dir: Path) -> list[Document]:
    """Parse every `*.yaml` file of one API, in name order, reporting all syntax errors at once."""
    files = sorted(api_dir.glob("*.yaml"))
    if not files:
        raise SpecError([Problem(Loc(display_path(api_dir)), "", "no *.yaml spec files here")])
    documents, problems = [], []
    for file in files:
        shown = display_path(file)
        try:
            text = file.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError) as exc:
            problems.append(Problem(Loc(shown), "", f"cannot read file: {exc}"))
            continue
        document, found = _parse_cached(text, shown)
        problems += found
        if document is not None:
            documents.append(document)
    if problems:
        raise SpecError(problems)
    return documents
