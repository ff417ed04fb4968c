"""Stage 4: IR -> JSON Schema (2020-12). Used to drive datamodel-code-generator, and by the
emulator to validate request bodies exactly as the spec describes them."""

from __future__ import annotations

from typing import Any

from generator.model.ir import Api, Field, Model, TypeRef
from generator.model.scalars import SCALARS

_CONSTRAINT_KEYS = {
    "minimum": "minimum",
    "maximum": "maximum",
    "min_length": "minLength",
    "max_length": "maxLength",
    "min_items": "minItems",
    "max_items": "maxItems",
}

DEFS = "#/$defs/"  # where references point; the OpenAPI export puts models elsewhere


def type_schema(ref: TypeRef, refs: str = DEFS) -> dict[str, Any]:
    if ref.kind == "union":
        return {"anyOf": [type_schema(option, refs) for option in ref.options]}
    if ref.kind == "scalar":
        return dict(SCALARS[ref.name].schema)
    if ref.kind == "model":
        return {"$ref": refs + ref.name}
    assert ref.item is not None
    if ref.kind == "list":
        return {"type": "array", "items": type_schema(ref.item, refs)}
    return {"type": "object", "additionalProperties": type_schema(ref.item, refs)}


def constraints_schema(constraints: tuple[tuple[str, Any], ...]) -> dict[str, Any]:
    """Spec constraints (`max_length: 5`) as JSON Schema keywords (`maxLength: 5`)."""
    return {_CONSTRAINT_KEYS[key]: value for key, value in constraints}


def field_schema(
    field: Field,
    strict_enums: bool,
    refs: str = DEFS,
    checked: bool = False,
    items: bool = True,
    decimal_text_type: str = "",
) -> dict[str, Any]:
    """`decimal_text_type`, for the models stage only: the Python type that reads a decimal sent
    as text and writes it back as text (a `customTypePath` for datamodel-code-generator)."""
    schema: dict[str, Any]
    text = SCALARS[field.type.name].text_schema if field.wire == "string" else None
    if text is not None:
        schema = (
            {"type": "string", "customTypePath": decimal_text_type}
            if decimal_text_type
            else dict(text)
        )
    else:
        schema = type_schema(field.type, refs)
    # Response models stay tolerant: a new enum member from the server must not break reading.
    if field.enum and strict_enums:
        schema["enum"] = list(field.enum)
    schema.update(constraints_schema(field.constraints))
    if field.pattern and checked:  # of a list: of each item
        if "items" not in schema:
            schema["pattern"] = field.pattern
        elif items:
            schema["items"]["pattern"] = field.pattern
    if field.nullable:
        schema = {"anyOf": [schema, {"type": "null"}]}
    description = _flag_inferred(field.description, field.confidence, "")
    if description:
        schema["description"] = description
    if field.deprecated:
        schema["deprecated"] = True
    return schema


def model_schema(
    model: Model, refs: str = DEFS, item_patterns: bool = True, decimal_text_type: str = ""
) -> dict[str, Any]:
    strict = model.extra == "forbid"
    # Patterns bind what is sent; an answer of the server is read as it comes.
    checked = strict or model.role == "request"
    schema: dict[str, Any] = {
        "type": "object",
        "title": model.name,
        "properties": {
            f.wire_name: field_schema(
                f, strict, refs, checked, item_patterns, decimal_text_type
            )
            for f in model.fields
        },
    }
    required = [f.wire_name for f in model.fields if f.required]
    if required:
        schema["required"] = required
    if strict:
        schema["additionalProperties"] = False
    description = _flag_inferred(model.description, model.confidence, model.source)
    if description:
        schema["description"] = description
    return schema


def _flag_inferred(description: str, confidence: str, source: str) -> str:
    """Inferred shapes say so wherever the docs show them (model and field docstrings)."""
    if confidence != "inferred":
        return description
    note = f"Inferred, not documented: {source}" if source else "Inferred, not documented."
    return f"{description}\n\n{note}" if description else note


def api_schema(
    api: Api, refs: str = DEFS, item_patterns: bool = True, decimal_text_type: str = ""
) -> dict[str, Any]:
    """Every model of the API under `$defs`, in name order; references start with `refs`.
    `item_patterns=False` leaves out the patterns of list items (see
    generator/codegen/models.py)."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$defs": {
            m.name: model_schema(m, refs, item_patterns, decimal_text_type) for m in api.models
        },
    }


def validator_schema(api: Api, model: str) -> dict[str, Any]:
    """A self-contained schema that accepts exactly the documents `model` describes."""
    return {**api_schema(api), "$ref": f"#/$defs/{model}"}
