"""Documents valid against a spec model, for operations with no specific handler: the records
the API's state holds where a list's items are such a model, else the smallest valid value."""

from __future__ import annotations

from typing import Any

from generator.model.ir import Api, Field, TypeRef
from generator.model.scalars import SCALARS

Records = dict[str, list[dict[str, Any]]]  # model name -> wire documents


def placeholder(api: Api, model: str, records: Records | None = None,
                _stack: tuple[str, ...] = ()) -> dict[str, Any]:
    """Every required field with a value of its type, and every list of records the state
    holds; other optional fields are left out."""
    records = records or {}
    doc = {}
    for f in api.model(model).fields:
        item = f.type.item if f.type.kind == "list" else None
        if item is not None and item.kind == "model" and item.name in records:
            doc[f.wire_name] = list(records[item.name])
        elif f.required:
            doc[f.wire_name] = _field_value(api, f, records, (*_stack, model))
    return doc


def _field_value(api: Api, field: Field, records: Records, stack: tuple[str, ...]) -> Any:
    if field.enum:
        return field.enum[0]
    if field.nullable and field.type.kind == "model" and field.type.name in stack:
        return None  # a nullable self-reference: stop the recursion here
    value = _value(api, field.type, records, stack)
    bounds = dict(field.constraints)
    if isinstance(value, str) and field.type.name == "string":
        value = value.ljust(bounds.get("min_length", 0), "x")[: bounds.get("max_length")]
    elif isinstance(value, int) and not isinstance(value, bool):
        value = max(value, bounds.get("minimum", value))
        value = min(value, bounds.get("maximum", value))
    return value


def _value(api: Api, ref: TypeRef, records: Records, stack: tuple[str, ...]) -> Any:
    if ref.kind == "scalar":
        return SCALARS[ref.name].placeholder
    if ref.kind == "model":
        return placeholder(api, ref.name, records, stack)
    return [] if ref.kind == "list" else {}
