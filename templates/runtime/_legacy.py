"""The V1 -> V2 translation engine. The moves themselves are data in `_migration.py`, generated
from the spec; this module only knows how to apply each kind of move to a payload."""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterable, Mapping
from copy import deepcopy
from dataclasses import dataclass, field
from typing import Any

_MISSING = object()


@dataclass(frozen=True, slots=True)
class Move:
    kind: str  # rename | move | flatten | removed | added | format | type_changed | optional
    #            | instances
    from_path: str = ""
    to_path: str = ""
    field: str = ""
    old: str = ""
    new: str = ""
    key: str = ""  # instances: item key naming one field
    value: str = ""  # instances: item key holding one instance's V1 value
    when_type: tuple[str, ...] = ()  # format: only values of fields typed so in the form schema


@dataclass(frozen=True, slots=True)
class FieldTypes:
    """Where a form schema lists its data fields, and which keys give their id and type."""

    schema: str  # model name
    items: str  # wire name of the list of definitions
    keys: tuple[str, ...]  # keys identifying a field, in a definition and in a value entry
    type: str  # key of a definition holding its type


class V1TranslationError(ValueError):
    """A V1 payload that cannot be translated without losing or inventing data."""


class UnconvertedValuesWarning(UserWarning):
    """`from_v1` left values as V1 sent them, because it could not tell their field's type."""


def _us_date(value: Any) -> Any:
    match = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", value) if isinstance(value, str) else None
    return f"{match[3]}-{int(match[1]):02d}-{int(match[2]):02d}" if match else value


def _us_date_to_midnight(value: Any) -> Any:
    """A V1 date where V2 has a timestamp: V1 gave no time or offset, so midnight, no offset."""
    date = _us_date(value)
    return f"{date}T00:00:00" if date is not value else value


def _bool_text(value: Any) -> Any:
    return {"True": "true", "False": "false"}.get(value, value) if isinstance(value, str) else value


def _to_bool(value: Any) -> Any:
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return value


# Conversions the translator can apply, by (old, new) as the spec writes them. A format change
# not listed here is recorded in MIGRATION.md (as not converted) but leaves values as they are.
CONVERTERS: Mapping[tuple[str, str], Callable[[Any], Any]] = {
    ("MM/dd/yyyy", "yyyy-MM-dd"): _us_date,
    ("MM/dd/yyyy", "yyyy-MM-ddTHH:mm:sszz"): _us_date_to_midnight,
    ("True/False", "true/false"): _bool_text,
    ("string", "boolean"): _to_bool,
}


@dataclass(slots=True)
class Report:
    """What one translation left alone, so that `from_v1` can say so."""

    untyped: set[str] = field(default_factory=set)  # field ids, when no form schema was given
    unknown: set[str] = field(default_factory=set)  # field ids the form schema does not define

    def warn(self, model: str) -> None:
        if self.untyped:
            warnings.warn(
                f"from_v1({model}): values of {', '.join(sorted(self.untyped))} left as V1 sent "
                "them: their format is converted only for fields of the types MIGRATION.md "
                "names, and no form_schema= was given to tell the types",
                UnconvertedValuesWarning,
                stacklevel=3,
            )
        if self.unknown:
            warnings.warn(
                f"from_v1({model}): values of {', '.join(sorted(self.unknown))} left as V1 sent "
                "them: the form_schema given does not define these fields",
                UnconvertedValuesWarning,
                stacklevel=3,
            )


def _split(path: str) -> tuple[str, bool, str]:
    """`Forms[].Name` -> ('Forms', True, 'Name'); `Url.Value` -> ('Url', False, 'Value')."""
    head, _, rest = path.partition(".")
    return head.removesuffix("[]"), head.endswith("[]"), rest


def _children(data: Any, key: str, is_list: bool) -> list[Any]:
    value = data.get(key) if isinstance(data, dict) else None
    if is_list:
        return [item for item in value or () if isinstance(item, dict)]
    return [value] if isinstance(value, dict) else []


def _reach(data: Any, path: str) -> list[Any]:
    """The objects at `path` ('' is `data` itself); `a[]` stands for each item of list `a`."""
    if not path:
        return [data] if isinstance(data, dict) else []
    key, is_list, rest = _split(path)
    return [node for child in _children(data, key, is_list) for node in _reach(child, rest)]


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
    elif isinstance(data[key], list):  # a list of values (one per instance) is converted each
        data[key] = [convert(v) for v in data[key]]
    else:
        data[key] = convert(data[key])


def _drop_empty(data: dict[str, Any], path: str) -> None:
    """V2 leaves out a key that has no value, where V1 sent it empty."""
    parent, _, key = path.rpartition(".")
    for node in _reach(data, parent):
        if key in node and node[key] in ("", None, [], {}):
            del node[key]


def _instance_number(raw: Any, where: str) -> int:
    text = str(raw).strip()
    if not text.isdigit() or int(text) < 1:
        raise V1TranslationError(f"{where}: instance {raw!r} is not a number from 1 up")
    return int(text)


def _group_instances(entries: list[Any], move: Move, where: str) -> list[Any]:
    """One V1 entry per instance -> one V2 entry per field, its values in instance order."""
    index = move.from_path.rpartition(".")[2]
    target = move.to_path.rpartition(".")[2]
    out: list[Any] = []
    plain: set[Any] = set()
    groups: dict[Any, tuple[dict[str, Any], dict[int, Any]]] = {}
    for entry in entries:
        if not isinstance(entry, dict) or index not in entry:
            out.append(entry)
            plain.add(entry.get(move.key) if isinstance(entry, dict) else None)
            continue
        name = entry.get(move.key)
        label = f"{where}: {move.key}={name!r}"
        number = _instance_number(entry[index], label)
        if name not in groups:
            merged = {k: v for k, v in entry.items() if k not in (index, move.value)}
            groups[name] = (merged, {})
            out.append(merged)
        values = groups[name][1]
        if number in values:
            raise V1TranslationError(f"{label}: {index} {number} appears twice")
        values[number] = entry.get(move.value)
    for name, (merged, values) in groups.items():
        label = f"{where}: {move.key}={name!r}"
        if name in plain:
            raise V1TranslationError(f"{label} appears both with and without {index}")
        missing = sorted(set(range(1, max(values) + 1)) - set(values))
        if missing:
            raise V1TranslationError(
                f"{label} has {index} {', '.join(map(str, sorted(values)))} but not "
                f"{', '.join(map(str, missing))}: V1 numbers instances 1..n, and the V2 list "
                f"{target} has no way to leave a gap"
            )
        merged[target] = [values[n] for n in sorted(values)]
    return out


def _regroup(data: dict[str, Any], move: Move, model: str) -> None:
    list_path = move.from_path.rpartition("[].")[0]
    parent, _, key = list_path.rpartition(".")
    for node in _reach(data, parent):
        if isinstance(node.get(key), list):
            node[key] = _group_instances(node[key], move, f"{model}.{list_path}")


def _field_id(entry: Mapping[str, Any], spec: FieldTypes, types: Mapping[str, str]) -> str:
    """The first of the entry's ids that the form schema defines, else its first id."""
    ids = [str(entry[k]) for k in spec.keys if entry.get(k) not in (None, "")]
    return next((i for i in ids if i in types), ids[0] if ids else f"(no {spec.keys[0]})")


def _convert_typed(
    data: dict[str, Any],
    move: Move,
    convert: Callable[[Any], Any],
    spec: FieldTypes,
    types: Mapping[str, str] | None,
    report: Report,
) -> None:
    list_path, inside, leaf = move.field.rpartition("[].")
    for entry in _reach(data, list_path + inside.removesuffix(".")):  # the model, or its items
        if entry.get(leaf) in (None, "", []):
            continue
        field_id = _field_id(entry, spec, types or {})
        if types is None:
            report.untyped.add(field_id)
        elif field_id not in types:
            report.unknown.add(field_id)
        elif types[field_id] in move.when_type:
            _convert(entry, leaf, convert)


@dataclass(frozen=True, slots=True)
class Translation:
    """The moves of one API, and what `from_v1` was told about field types."""

    moves: Mapping[str, tuple[Move, ...]]
    nested: Mapping[str, tuple[tuple[str, bool, str], ...]]
    field_types: FieldTypes | None = None
    types: Mapping[str, str] | None = None  # field id -> type, from the form schema given

    def apply(self, move: Move, data: dict[str, Any], model: str, report: Report) -> None:
        """Apply one move, in place, to the part of a V1 payload that belongs to `model`."""
        if move.kind in ("rename", "move", "flatten"):
            value = _pop(data, move.from_path)
            if value is not _MISSING:
                _put(data, move.to_path, value)
        elif move.kind == "removed":
            _pop(data, move.from_path)
        elif move.kind == "optional":
            _drop_empty(data, move.field)
        elif move.kind == "instances":
            _regroup(data, move, model)
        elif move.kind in ("format", "type_changed"):
            convert = CONVERTERS.get((move.old, move.new))
            if convert is None:
                pass
            elif not move.when_type:
                _convert(data, move.field, convert)
            elif self.field_types is not None:  # validation makes typed moves name field types
                _convert_typed(data, move, convert, self.field_types, self.types, report)

    def translate(self, model: str, data: Any, report: Report) -> Any:
        """Rewrite a V1-shaped payload for `model` (and every model nested in it) into V2 shape."""
        if not isinstance(data, dict):
            return data
        for move in self.moves.get(model, ()):
            self.apply(move, data, model, report)
        for key, is_list, child_model in self.nested.get(model, ()):
            for child in _children(data, key, is_list):
                self.translate(child_model, child, report)
        return data

    def with_form_schema(self, form_schema: Any) -> Translation:
        """This translation, told the field types that `form_schema` defines.

        `form_schema` is the schema model (or the answer wrapping it) as a pydantic model or a
        dict, V2- or V1-shaped, or a list of them (a payload spanning several forms)."""
        spec = self.field_types
        if spec is None:
            raise TypeError("this API records no field types: form_schema= does not apply")
        types: dict[str, str] = {}
        schemas = form_schema if isinstance(form_schema, list | tuple) else [form_schema]
        for schema in schemas:
            for definition in self._definitions(schema, spec):
                for key in spec.keys:
                    if definition.get(key) not in (None, ""):
                        types[str(definition[key])] = str(definition.get(spec.type))
        return Translation(self.moves, self.nested, spec, types)

    def _definitions(self, schema: Any, spec: FieldTypes) -> Iterable[dict[str, Any]]:
        if hasattr(schema, "model_dump"):
            schema = schema.model_dump(by_alias=True, mode="json")
        if not isinstance(schema, Mapping):
            raise TypeError(f"form_schema: expected a {spec.schema} model or dict, got {schema!r}")
        data = deepcopy(dict(schema))  # translated in place below; the caller's stays as given
        if spec.items not in data:  # the answer that wraps the schema model
            inner = [v for v in data.values() if isinstance(v, dict) and spec.items in v]
            if len(inner) != 1:
                raise V1TranslationError(
                    f"form_schema: no {spec.items!r} list found (expected a {spec.schema})"
                )
            data = inner[0]
        data = self.translate(spec.schema, data, Report())  # a V1 schema has V1 names
        return [d for d in data.get(spec.items) or () if isinstance(d, dict)]


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
