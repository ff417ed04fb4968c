"""Stage 1: read the YAML files of one API, keeping the line and column of every key."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

from generator.errors import Loc, Problem, SpecError


@dataclass(frozen=True)
class Document:
    """One parsed spec file. `data` keeps ruamel's position info for error messages."""

    path: str
    data: Any

    def loc(self, keys: Sequence[str | int] = ()) -> Loc:
        """Where the key at `keys` (or its nearest ancestor that has a position) sits."""
        node, line, col = self.data, 0, 0
        for key in keys:
            lc = getattr(node, "lc", None)
            if isinstance(node, CommentedMap) and key in node:
                line, col = lc.key(key) if lc is not None else (line, col)
            elif isinstance(node, CommentedSeq) and isinstance(key, int) and key < len(node):
                line, col = lc.item(key) if lc is not None else (line, col)
            else:
                break
            node = node[key]
        return Loc(self.path, line + 1, col + 1)


def display_path(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)


def load_api_dir(api_dir: Path) -> list[Document]:
    """Parse every `*.yaml` file of one API, in name order, reporting all syntax errors at once."""
    files = sorted(api_dir.glob("*.yaml"))
    if not files:
        raise SpecError([Problem(Loc(display_path(api_dir)), "", "no *.yaml spec files here")])
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    documents, problems = [], []
    for file in files:
        shown = display_path(file)
        try:
            data = yaml.load(file.read_text(encoding="utf-8"))
        except MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            loc = Loc(shown, mark.line + 1, mark.column + 1) if mark else Loc(shown)
            problems.append(Problem(loc, "", f"malformed YAML: {exc.problem or exc.context}"))
            continue
        except (UnicodeDecodeError, OSError) as exc:
            problems.append(Problem(Loc(shown), "", f"cannot read file: {exc}"))
            continue
        documents.append(Document(shown, data if data is not None else CommentedMap()))
    if problems:
        raise SpecError(problems)
    return documents
