"""Schema discovery (spec `schema_discovery`): any operation answers `?schema=true` with the JSON
schema of its request or response body instead of running. `settings.schema_changes` serves a
changed schema (a property added, removed or retyped) and `settings.schema_replacements` a whole
other one, so that enrichment and drift can be exercised; request changes are enforced too."""

from __future__ import annotations

import copy
from typing import Any

from starlette.datastructures import QueryParams

from emulator.errors import ApiError, InvalidRequest
from generator.model.ir import Api
from generator.model.schema import validator_schema

KINDS = ("request", "response")


def requested_kind(api: Api, query: QueryParams) -> str | None:
    """'request' or 'response' when the call asks for a schema, else None."""
    discovery = api.schema_discovery
    if discovery is None or query.get(discovery.flag, "").lower() != "true":
        return None
    kind = (query.get(discovery.kind) or "request").lower()  # some operations default to ''
    if kind not in KINDS:
        raise InvalidRequest(400, f"{discovery.kind} must be one of: {', '.join(KINDS)}.")
    return kind


def model_schema(api: Api, model: str) -> dict[str, Any]:
    """validator_schema of `model`, with only the definitions it reaches."""
    schema = validator_schema(api, model)
    defs, kept, todo = schema["$defs"], {}, [model]
    while todo:
        name = todo.pop()
        if name not in kept:
            kept[name] = defs[name]
            todo.extend(_refs(defs[name]))
    schema["$defs"] = {name: kept[name] for name in sorted(kept)}
    return schema


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"].rsplit("/", 1)[-1]] if "$ref" in node else []
        return found + [r for value in node.values() for r in _refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in _refs(value)]
    return []


def served_schema(
    api: Api, model: str, change: dict[str, Any] | None, replacement: Any
) -> dict[str, Any]:
    """The schema of `model` as served: the replacement when it is a schema, else the derived
    one with `change` applied."""
    if isinstance(replacement, dict):
        return copy.deepcopy(replacement)
    schema = model_schema(api, model)
    return changed(schema, change) if change else schema


def changed(schema: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    """A copy of `schema` with one `settings.schema_changes` entry applied. Definitions are
    shared within the schema, so a change to a model shows wherever the schema uses it."""
    schema = copy.deepcopy(schema)
    for path, added in change.get("add", {}).items():
        owner, name = _owner(schema, path)
        owner.setdefault("properties", {})[name] = added
    for path in change.get("remove", []):
        owner, name = _owner(schema, path)
        owner.get("properties", {}).pop(name, None)
        if name in owner.get("required", []):
            owner["required"] = [r for r in owner["required"] if r != name]
    for path, new in change.get("retype", {}).items():
        owner, name = _owner(schema, path)
        old = owner.get("properties", {}).get(name, {})
        retyped = {"type": new} if isinstance(new, str) else dict(new)
        if "description" in old:
            retyped.setdefault("description", old["description"])
        owner.setdefault("properties", {})[name] = retyped
    return schema


def _owner(schema: dict[str, Any], path: str) -> tuple[dict[str, Any], str]:
    """The object schema that holds the last property of `path` ('data[].header.note'), and
    that property's name."""
    *walk, last = path.split(".")
    node = _object(schema, schema, path)
    for part in walk:
        name = part.removesuffix("[]")
        try:
            node = node["properties"][name]
        except KeyError:
            message = f"schema_changes: no property {name!r} on the way to {path!r}"
            raise ApiError(500, message) from None
        if part.endswith("[]"):
            node = _resolve(schema, node, "array")["items"]
        node = _object(schema, node, path)
    return node, last


def _resolve(schema: dict[str, Any], node: dict[str, Any], json_type: str) -> dict[str, Any]:
    """Follow $ref and pick the anyOf branch of `json_type` (nullable fields are anyOfs)."""
    while "$ref" in node or "anyOf" in node:
        if "$ref" in node:
            node = schema["$defs"][node["$ref"].rsplit("/", 1)[-1]]
        else:
            node = next((o for o in node["anyOf"]
                         if "$ref" in o or o.get("type") == json_type), node["anyOf"][0])
    return node


def _object(schema: dict[str, Any], node: dict[str, Any], path: str) -> dict[str, Any]:
    node = _resolve(schema, node, "object")
    if node.get("type") != "object":
        raise ApiError(500, f"schema_changes: {path!r} does not lead through objects")
    return node
