"""Reading the emulator data files beside a spec (`<api dir>/emulator/*.yaml`) with the line and
column of every key, so that a problem names `file:line:col`, the key and the rule."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from generator.spec.errors import SpecError
from generator.spec.load import Document, load_api_dir


class DataError(ValueError):
    """Bad emulator data: the message names the file, line and column, the key and the rule."""


def read_folder(folder: Path) -> dict[str, Document]:
    """Every `*.yaml` file of the folder by file name, positions kept (malformed YAML is a
    DataError naming where)."""
    if not any(folder.glob("*.yaml")):
        return {}
    try:
        documents = load_api_dir(folder)
    except SpecError as exc:
        raise DataError(str(exc)) from None
    by_name = {}
    for document in documents:
        name = Path(document.path).name
        by_name[name] = dataclasses.replace(document, path=str(folder / name))
    return by_name


def problem(document: Document, keys: Sequence[str | int], message: str,
            at: Sequence[str | int] | None = None) -> DataError:
    """`<file>:<line>:<col>: <dotted key>: <message>`, the position that of `at` (default: the
    key itself)."""
    dotted = ".".join(str(k) for k in keys)
    where = document.loc(keys if at is None else at)
    return DataError(f"{where}: {dotted + ': ' if dotted else ''}{message}")


def expect(document: Document, keys: Sequence[str | int], value: Any, kind: type | tuple[type, ...],
           ) -> Any:
    """`value` if it is of `kind`, else a DataError naming the expected type."""
    kinds = _kinds(kind)
    if isinstance(value, kinds) and (bool in kinds or not isinstance(value, bool)):
        return value
    names = " or ".join(k.__name__ for k in kinds)
    raise problem(document, keys, f"expected a {names}, not {type(value).__name__}")


def _kinds(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def check_keys(document: Document, keys: Sequence[str | int], value: Any,
               known: Sequence[str], *, required: Sequence[str] = ()) -> dict[str, Any]:
    """A mapping with only `known` keys and every `required` one."""
    mapping = expect(document, keys, value, dict)
    for key in mapping:
        if key not in known:
            raise problem(document, (*keys, key),
                          f"unknown key (known: {', '.join(sorted(known))})")
    for key in required:
        if key not in mapping:
            raise problem(document, keys, f"{key} is required")
    return mapping
