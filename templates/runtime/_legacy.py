"""The V1 -> V2 translation engine. The moves themselves are data in `_migration.py`, generated
from the spec; this module only knows how to apply each kind of move to a payload."""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

_MISSING = object()


@dataclass(frozen=True, slots=True)
class Move:
    kind: str  # rename | move | flatten | removed | added | format | type_changed | optional
    from_path: str = ""
    to_path: str = ""
    field: str = ""
    old: str = ""
    new: str = ""


def _us_date(value: Any) -> Any:
    match = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", value) if isinstance(value, str) else None
    return f"{match[3]}-{int(match[1]):02d}-{int(match[2]):02d}" if match else value


def _bool_text(value: Any) -> Any:
    return {"True": "true", "False": "false"}.get(value, value) if isinstance(value, str) else value


def _to_bool(value: Any) -> Any:
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return value


# Conversions the translator can apply, by (old, new) as the spec writes them. A format change
# not listed here is recorded in MIGRATION.md but leaves values as they are.
CONVERTERS: Mapping[tuple[str, str], Callable[[Any], Any]] = {
    ("MM/dd/yyyy", "yyyy-MM-dd"): _us_date,
    ("True/False", "true/false"): _bool_text,
    ("string", "boolean"): _to_bool,
}


def _split(path: str) -> tuple[str, bool, str]:
    """`Forms[].Name` -> ('Forms', True, 'Name'); `Url.Value` -> ('Url', False, 'Value')."""
    head, _, rest = path.partition(".")
    return head.removesuffix("[]"), head.endswith("[]"), rest


def _children(data: Any, key: str, is_list: bool) -> list[Any]:
    value = data.get(key) if isinstance(data, dict) else None
    if is_list:
        return [item for item in value or () if isinstance(item, dict)]
    return [value] if isinstance(value, dict) else []


def _pop(data: Any, path: str) -> Any:
    key, is_list, rest = _split(path)
    if not rest:
        return data.pop(key, _MISSING) if isinstance(data, dict) else _MISSING
    found = [_pop(child, rest) for child in _children(data, key, is_list)]
    return found if is_list else (found[0] if found else _MISSING)


def _put(data: dict[str, Any], path: str, value: Any) -> None:
    key, is_list, rest = _split(path)
    if not rest:
        data[key] = value
    elif is_list:  # value holds one entry per list element, in order
        for child, item in zip(_children(data, key, True), value, strict=False):
            if item is not _MISSING:
                _put(child, rest, item)
    else:
        child = data.get(key)
        if not isinstance(child, dict):
            child = data[key] = {}
        _put(child, rest, value)


def _convert(data: Any, path: str, convert: Callable[[Any], Any]) -> None:
    key, is_list, rest = _split(path)
    if not isinstance(data, dict) or key not in data:
        return
    if rest:
        for child in _children(data, key, is_list):
            _convert(child, rest, convert)
    elif is_list and isinstance(data[key], list):
        data[key] = [convert(v) for v in data[key]]
    else:
        data[key] = convert(data[key])


def apply(move: Move, data: dict[str, Any]) -> None:
    """Apply one move, in place, to the part of a V1 payload that belongs to the move's model."""
    if move.kind in ("rename", "move", "flatten"):
        value = _pop(data, move.from_path)
        if value is not _MISSING:
            _put(data, move.to_path, value)
    elif move.kind == "removed":
        _pop(data, move.from_path)
    elif move.kind in ("format", "type_changed"):
        convert = CONVERTERS.get((move.old, move.new))
        if convert is not None:
            _convert(data, move.field, convert)


def translate(
    model: str,
    data: Any,
    moves: Mapping[str, tuple[Move, ...]],
    nested: Mapping[str, tuple[tuple[str, bool, str], ...]],
) -> Any:
    """Rewrite a V1-shaped payload for `model` (and every model nested in it) into V2 shape."""
    if not isinstance(data, dict):
        return data
    for move in moves.get(model, ()):
        apply(move, data)
    for key, is_list, child_model in nested.get(model, ()):
        for child in _children(data, key, is_list):
            translate(child_model, child, moves, nested)
    return data


def read_path(obj: Any, attrs: tuple[str, ...]) -> Any:
    """Follow Python attribute names; a list along the way yields a list of results."""
    for i, attr in enumerate(attrs):
        if obj is None:
            return None
        if isinstance(obj, list):
            return [read_path(item, attrs[i:]) for item in obj]
        obj = getattr(obj, attr)
    return obj


def warn_legacy(model: str, v1_name: str, v2_path: str, attrs: tuple[str, ...]) -> None:
    warnings.warn(
        f"{model}.{v1_name} is the V1 name; read .{'.'.join(attrs)} instead "
        f"(V2 wire path {v2_path})",
        DeprecationWarning,
        stacklevel=3,
    )
