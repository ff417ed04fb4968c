"""Stage 1: read the YAML files of one API, keeping the line and column of every key."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from generator import cache
from generator.spec.errors import Loc, Problem, SpecError

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
    cache_key: str = field(default="", compare=False)  # of its parse, for later stages' keys
    fresh: bool = field(default=False, compare=False)  # parsed now, not taken from the cache

    def loc(self, keys: Sequence[str | int] = ()) -> Loc:
        """Where the key at `keys` (or its nearest ancestor that has a position) sits."""
        keys = tuple(keys)
        while keys and keys not in self.positions:
            keys = keys[:-1]
        line, col = self.positions.get(keys, (0, 0))  # the document's start: line 1, column 1
        return Loc(self.path, line + 1, col + 1)


def display_path(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)


# Bounds on what one spec file may make the loader do; a real spec stays far below them.
MAX_FILE_BYTES = 8 * 1024 * 1024
MAX_DEPTH = 64  # nested mappings and lists (the spec language needs about a dozen)
MAX_NODES = 500_000  # values visited, counting each use of an alias anew
_STR_TAG = "tag:yaml.org,2002:str"
_FLOAT_TAG = "tag:yaml.org,2002:float"


def _shown_key(path: Path_) -> str:
    return ".".join(map(str, path))


class _Walk:
    """One pass over the composed YAML nodes, before any Python value is built: positions of
    keys and items, and every rule the plain load would break on later (duplicate keys, keys
    that are not text, too deep, aliases that multiply, values no spec can hold)."""

    def __init__(self) -> None:
        self.positions: dict[Path_, tuple[int, int]] = {}
        self.problems: list[tuple[int, int, str, str]] = []
        self.visited = 0

    def problem(self, node: yaml.Node, path: Path_, message: str) -> None:
        self.problems.append(
            (node.start_mark.line, node.start_mark.column, _shown_key(path), message)
        )

    def run(self, root: yaml.Node) -> None:
        stack: list[tuple[yaml.Node, Path_]] = [(root, ())]
        while stack:
            node, path = stack.pop()
            self.visited += 1
            if self.visited > MAX_NODES:
                self.problem(node, path, f"YAML aliases expand to more than {MAX_NODES} values "
                             "(an alias bomb?); write the repeated parts out")
                return
            if len(path) > MAX_DEPTH:
                self.problem(node, path, f"nested more than {MAX_DEPTH} levels deep")
                continue
            if isinstance(node, yaml.MappingNode):
                stack.extend(reversed(self.mapping(node, path)))
            elif isinstance(node, yaml.SequenceNode):
                for index, item in enumerate(node.value):
                    self.positions.setdefault((*path, index), _mark(item))
                stack.extend(reversed([(item, (*path, i)) for i, item in enumerate(node.value)]))
            else:
                self.scalar(node, path)

    def mapping(self, node: yaml.MappingNode, path: Path_) -> list[tuple[yaml.Node, Path_]]:
        seen: set[str] = set()
        children = []
        for key_node, value_node in node.value:
            key = key_node.value
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != _STR_TAG:
                kind = "a mapping or list" if not isinstance(key_node, yaml.ScalarNode) else (
                    key_node.tag.rsplit(":", 1)[-1])
                shown = key if isinstance(key, str) else "..."
                self.problem(key_node, (*path, shown), f"the key {shown!r} is read by YAML as "
                             f"{kind}, not as text; quote it")
                continue
            if key == "<<":
                self.problem(key_node, (*path, key), "merge keys ('<<') are not supported")
                continue
            if key in seen:
                self.problem(key_node, (*path, key), f"duplicate key {key!r}")
            seen.add(key)
            self.positions.setdefault((*path, key), _mark(key_node))
            self.check_text(key_node, (*path, key), key)
            children.append((value_node, (*path, key)))
        return children

    def scalar(self, node: yaml.Node, path: Path_) -> None:
        if node.tag == _FLOAT_TAG and node.value.lower().lstrip("+-") in (".inf", ".nan"):
            self.problem(node, path, f"{node.value} is not a finite number")
        elif node.tag == _STR_TAG:
            self.check_text(node, path, node.value)

    def check_text(self, node: yaml.Node, path: Path_, text: str) -> None:
        if any("\ud800" <= char <= "\udfff" for char in text):
            self.problem(node, path, "the text holds a lone surrogate (\\uD800-\\uDFFF), "
                         "which is not a Unicode character")


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line, node.start_mark.column


def _line_col(text: str, index: int) -> tuple[int, int]:
    """1-based line and column of a character offset."""
    line = text.count("\n", 0, index)
    return line + 1, index - (text.rfind("\n", 0, index) + 1) + 1


_RawProblem = tuple[int, int, str, str]  # 0-based line and column, key, message


@cache.stage("parse", "pyyaml")
def _parse(text: str) -> tuple[Any, dict[Path_, tuple[int, int]], list[_RawProblem]]:
    """(data, positions, problems) of one file's text; data is None when YAML or a rule of
    the walk failed. Kept: YAML parsing is most of the time of a warm run."""
    loader = _LOADER(text)
    try:
        node = loader.get_single_node()
        walk = _Walk()
        if node is not None:
            walk.run(node)
        if walk.problems:
            return None, {}, walk.problems
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line, mark.column) if mark else (0, 0)
        return None, {}, [(line, col, "", f"malformed YAML: {exc.problem or exc.context}")]
    except yaml.YAMLError as exc:
        return None, {}, [(0, 0, "", f"malformed YAML: {exc}")]
    finally:
        loader.dispose()
    return data if data is not None else {}, walk.positions, []


def _read(file: Path, shown: str) -> tuple[str | None, list[Problem]]:
    """The text of a spec file, or the reason it has none a YAML parser could read."""
    def fail(message: str, line: int = 1, col: int = 1) -> tuple[None, list[Problem]]:
        return None, [Problem(Loc(shown, line, col), "", message)]

    try:
        if file.is_dir():
            return fail("a directory where a YAML spec file is expected")
        with file.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        return fail(f"cannot read the file: {exc.strerror or exc}")
    if len(data) > MAX_FILE_BYTES:
        return fail(f"larger than {MAX_FILE_BYTES // (1024 * 1024)} MB; split it into files")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        good = data[: exc.start].decode("utf-8")
        return fail(f"not UTF-8 text (byte 0x{data[exc.start]:02x}); save it as UTF-8",
                    *_line_col(good, len(good)))
    if "\x00" in text:
        return fail("a NUL character: not a text file", *_line_col(text, text.index("\x00")))
    return text, []


def load_api_dir(api_dir: Path) -> list[Document]:
    """Parse every `*.yaml` file of one API, in name order, reporting all syntax errors at once."""
    try:
        files = sorted(api_dir.glob("*.yaml"))
    except OSError as exc:
        raise SpecError([Problem(Loc(display_path(api_dir), 1, 1), "",
                                 f"cannot list the folder: {exc.strerror or exc}")]) from exc
    if not files:
        raise SpecError([Problem(Loc(display_path(api_dir)), "", "no *.yaml spec files here")])
    documents, problems = [], []
    for file in files:
        shown = display_path(file)
        text, unreadable = _read(file, shown)
        if text is None:
            problems += unreadable
            continue
        parsed = _parse.run(text)
        data, positions, found = parsed.value
        problems += [Problem(Loc(shown, line + 1, col + 1), key, message)
                     for line, col, key, message in found]
        if data is not None:
            documents.append(Document(shown, data, positions, parsed.key, parsed.fresh))
    if problems:
        raise SpecError(problems)
    return documents
