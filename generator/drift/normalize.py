"""A canonical form of a JSON Schema, so that a drift check compares meaning, not spelling.

Two schemas that accept the same documents but are written differently (inline vs `$ref`, split
into `allOf`, three ways of saying "nullable", a one-branch `anyOf`, reordered lists, changed
descriptions) normalise to the same dict. The result is only meant for diffing, never for
validation: a recursive reference becomes `{"$recursive": name}`, and a union that may be null but
has no `type` to carry "null" gets the marker `nullable: true`.
"""

from __future__ import annotations

import copy
import json
from typing import Any

# Words that do not change which documents are accepted; `default`, `readOnly` and
# `writeOnly` are kept because they change what a client sends or reads.
_ANNOTATIONS = frozenset(
    {"title", "description", "examples", "example", "$comment", "$schema", "$id", "deprecated",
     "externalDocs", "xml", "$anchor", "definitions", "$defs"}
)  # fmt: skip
_SUBSCHEMA = ("additionalProperties", "propertyNames", "contains", "not", "if", "then", "else",
              "unevaluatedProperties", "unevaluatedItems")  # fmt: skip
_SUBSCHEMA_MAP = ("properties", "patternProperties", "dependentSchemas")
_SUBSCHEMA_LIST = ("allOf", "anyOf", "oneOf", "prefixItems")
# In a conjunction the stricter bound wins.
_LOWER_BOUNDS = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties",
                 "minContains")  # fmt: skip
_UPPER_BOUNDS = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties",
                 "maxContains")  # fmt: skip
_NULL = {"type": ["null"]}


def key(value: Any) -> str:
    """A total order for JSON values (enum members, union branches)."""
    return json.dumps(value, sort_keys=True, default=str)


def normalize(schema: dict[str, Any]) -> dict[str, Any]:
    """The canonical form of `schema`; raises ValueError on an external or dangling `$ref`."""
    if not isinstance(schema, dict):
        raise ValueError(f"a schema must be an object, not {type(schema).__name__}")
    result = _Normalizer(schema).node(schema, ())
    return result if isinstance(result, dict) else {"not": {}}


class _Normalizer:
    def __init__(self, root: dict[str, Any]) -> None:
        self.root = root

    def lookup(self, ref: str) -> Any:
        if not ref.startswith("#"):
            raise ValueError(f"external $ref {ref!r} is not supported; inline it first")
        target: Any = self.root
        for part in filter(None, ref[1:].split("/")):
            part = part.replace("~1", "/").replace("~0", "~")
            if isinstance(target, dict) and part in target:
                target = target[part]
            elif isinstance(target, list) and part.isdigit() and int(part) < len(target):
                target = target[int(part)]
            else:
                raise ValueError(f"$ref {ref!r} points nowhere")
        return target

    def node(self, schema: Any, refs: tuple[str, ...]) -> Any:
        if schema is True:
            return {}
        if schema is False:
            return False
        if not isinstance(schema, dict):
            raise ValueError(f"a schema must be an object or a boolean, not {schema!r}")
        if "$ref" in schema:
            ref = schema["$ref"]
            if not isinstance(ref, str):
                raise ValueError(f"$ref must be a string, not {ref!r}")
            target = self.lookup(ref)
            if ref in refs:  # expanding it again would never end
                resolved: Any = {"$recursive": ref.rsplit("/", 1)[-1] or "#"}
            else:
                resolved = self.node(target, (*refs, ref))
            siblings = {k: v for k, v in schema.items() if k != "$ref"}
            rest = self.node(siblings, refs) if siblings else {}
            return conjoin(resolved, rest)

        out: dict[str, Any] = {}
        nullable = schema.get("nullable") is True
        for name, value in schema.items():
            if name in _ANNOTATIONS or name == "nullable" or name.startswith("x-"):
                continue
            if name in _SUBSCHEMA:
                out[name] = self.node(value, refs)
            elif name in _SUBSCHEMA_MAP:
                out[name] = {n: self.node(v, refs) for n, v in value.items()}
            elif name in _SUBSCHEMA_LIST:
                out[name] = [self.node(v, refs) for v in value]
            elif name == "items":
                # draft-4 tuples (`items: [...]`) are spelt `prefixItems` from 2020-12 on
                if isinstance(value, list):
                    out["prefixItems"] = [self.node(v, refs) for v in value]
                else:
                    out["items"] = self.node(value, refs)
            elif name == "additionalItems":
                if isinstance(schema.get("items"), list):
                    out["items"] = self.node(value, refs)
            else:
                out[name] = copy.deepcopy(value)

        if isinstance(out.get("type"), str):
            out["type"] = [out["type"]]
        for member in out.pop("allOf", []):
            out = _as_dict(conjoin(out, member))
        for union in ("oneOf", "anyOf"):
            if union not in out:
                continue
            branches = out.pop(union)
            rest = _unique([b for b in branches if b != _NULL])
            nullable = nullable or len(rest) < len(branches)
            if len(rest) == 1:
                out = _as_dict(conjoin(out, rest[0]))
            elif len(rest) > 1:
                out[union] = rest
            elif branches:  # only null was allowed
                out = _as_dict(conjoin(out, _NULL))
        if "enum" in out and None in out["enum"]:
            out["enum"] = [v for v in out["enum"] if v is not None]
            nullable = True
        if nullable:
            if "type" in out:
                out["type"] = [*out["type"], "null"]
            else:
                out["nullable"] = True
        return _tidy(out)


def conjoin(a: Any, b: Any) -> Any:
    """Both `a` and `b` (already normalised) as one schema; what cannot be merged stays in a
    residual `allOf`."""
    if b == {}:
        return a
    if a == {}:
        return b
    if not isinstance(a, dict) or not isinstance(b, dict) or "$recursive" in a or "$recursive" in b:
        return {"allOf": _unique([a, b])}
    out = copy.deepcopy(a)
    leftover: dict[str, Any] = {}
    for name, value in b.items():
        if name not in out or out[name] == value:
            out[name] = copy.deepcopy(value)
        elif name == "type":
            both = [t for t in out["type"] if t in value or (t == "integer" and "number" in value)]
            both += [t for t in value if t == "integer" and "number" in out["type"]]
            if both:
                out["type"] = both
            else:
                leftover[name] = value
        elif name == "required":
            out["required"] = [*out["required"], *value]
        elif name == "enum":
            out["enum"] = [v for v in out["enum"] if v in value]
        elif name in _LOWER_BOUNDS and _numbers(out[name], value):
            out[name] = max(out[name], value)
        elif name in _UPPER_BOUNDS and _numbers(out[name], value):
            out[name] = min(out[name], value)
        elif name in ("properties", "patternProperties", "dependentSchemas"):
            merged = dict(out[name])
            for n, v in value.items():
                merged[n] = conjoin(merged[n], v) if n in merged else v
            out[name] = merged
        elif name in ("items", "contains", "propertyNames") and isinstance(out[name], dict):
            out[name] = conjoin(out[name], value)
        elif name in ("readOnly", "writeOnly", "uniqueItems"):
            out[name] = bool(out[name] or value)
        elif name == "allOf":
            out["allOf"] = [*out["allOf"], *value]
        else:
            leftover[name] = value
    if "type" in out:  # a typed side decides nullability; the untyped marker is moot
        out.pop("nullable", None)
    if leftover:
        out["allOf"] = [*out.get("allOf", []), leftover]
    return _tidy(out)


def _tidy(out: dict[str, Any]) -> dict[str, Any]:
    """Sort and drop what has a single meaning but several spellings."""
    if "type" in out:
        out["type"] = sorted(set(out["type"]))
    if "required" in out:
        out["required"] = sorted(set(out["required"]))
        if not out["required"]:
            del out["required"]
    if "enum" in out:
        out["enum"] = _unique(out["enum"])
    if "allOf" in out:
        out["allOf"] = _unique(out["allOf"])
    for empty in ("additionalProperties", "unevaluatedProperties", "items", "propertyNames"):
        if out.get(empty) in ({}, True):
            del out[empty]
    for flag in ("uniqueItems", "readOnly", "writeOnly"):
        if out.get(flag) is False:
            del out[flag]
    # OpenAPI 3.0 spells an exclusive bound as a boolean next to minimum/maximum
    for bound, exclusive in (("minimum", "exclusiveMinimum"), ("maximum", "exclusiveMaximum")):
        if out.get(exclusive) is True and bound in out:
            out[exclusive] = out.pop(bound)
        elif out.get(exclusive) is False:
            del out[exclusive]
    return out


def _unique(values: list[Any]) -> list[Any]:
    return [v for _, v in sorted({key(v): v for v in values}.items())]


def _numbers(a: Any, b: Any) -> bool:
    return all(isinstance(x, int | float) and not isinstance(x, bool) for x in (a, b))


def _as_dict(schema: Any) -> dict[str, Any]:
    return schema if isinstance(schema, dict) else {"allOf": [schema]}
