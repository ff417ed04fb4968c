"""Request checks driven by the spec: typed query/header parameters and JSON bodies."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker, ValidationError
from jsonschema.exceptions import best_match
from starlette.datastructures import Headers, QueryParams

from emulator.errors import ApiError
from generator.model.ir import Api, Param
from generator.model.scalars import SCALARS
from generator.model.schema import validator_schema
from generator.model.text_numbers import read_as_text


def _checker() -> FormatChecker:
    # jsonschema's own date-time check needs a package we do not install.
    checker = FormatChecker(formats=())
    for row in SCALARS.values():
        if row.schema.get("type") == "string" and "format" in row.schema:  # date, date-time
            checker.checks(row.schema["format"], raises=ValueError)(_text_check(row.read))
    return checker


def _text_check(read: Callable[[str], Any]) -> Callable[[Any], Any]:
    """A format check that reads a string as `read` does (another JSON type is not its to judge)."""
    return lambda value: not isinstance(value, str) or read(value)


FORMATS = _checker()


def model_validator(api: Api, model: str, *, closed: bool = False) -> Draft202012Validator:
    """Validates what `model` describes; `closed` also refuses keys the spec does not declare
    (models without any field stay open), which is how the emulator checks its own answers."""
    return schema_validator(validator_schema(api, model), closed=closed)


def schema_validator(schema: dict[str, Any], *, closed: bool = False) -> Draft202012Validator:
    """A validator of `schema` (changed in place when `closed`)."""
    if closed:
        for definition in schema["$defs"].values():
            if definition["properties"]:
                definition.setdefault("additionalProperties", False)
    return Draft202012Validator(schema, format_checker=FORMATS)


def problems(validator: Draft202012Validator, document: Any) -> list[str]:
    """'<json path>: <problem>' for every violation, in document order."""
    errors = sorted(validator.iter_errors(document), key=lambda e: [str(p) for p in e.path])
    return [f"{e.json_path}: {e.message}" for e in errors]


def _convert(param: Param, text: str) -> Any:
    kind = param.type
    if kind.startswith("list["):
        item = Param(param.wire_name, param.python_name, param.location, kind[5:-1], False)
        return [_convert(item, part) for part in text.split(",")]
    return SCALARS[kind].read(text)


def _check(param: Param, text: str) -> Any:
    value = _convert(param, text)
    if param.enum and value not in param.enum:
        raise ValueError(f"expected one of {', '.join(map(str, param.enum))}")
    for key, bound in param.constraints:
        if (key == "minimum" and value < bound) or (key == "maximum" and value > bound):
            raise ValueError(f"{key} is {bound}")
    return value


def read_params(params: tuple[Param, ...], query: QueryParams, headers: Headers) -> dict[str, Any]:
    """Typed values of the query and header parameters, by wire name; 400 on a bad one."""
    values: dict[str, Any] = {}
    errors = []
    for param in params:
        if param.location == "path":
            continue
        source = query if param.location == "query" else headers
        raw = ",".join(source.getlist(param.wire_name)) if param.wire_name in source else None
        if raw is None:
            if param.required:
                errors.append(f"{param.wire_name}: required {param.location} parameter missing")
            elif param.default is not None:
                values[param.wire_name] = param.default
            continue
        try:
            values[param.wire_name] = _check(param, raw)
        except ValueError as exc:
            errors.append(f"{param.wire_name}: {exc} (got {raw!r})")
    if errors:
        raise ApiError(400, "The request parameters are invalid.", errors)
    return values


# -- key matching (spec `keys: case_insensitive`, field aliases) ------------------------------


def field_aliases(api: Api) -> dict[str, dict[str, str]]:
    """model name -> {alias: wire name}, from the fields' `aliases`."""
    return {
        m.name: {alias: f.wire_name for f in m.fields for alias in f.aliases}
        for m in api.models
        if any(f.aliases for f in m.fields)
    }


def _alternatives(defs: dict[str, Any], node: dict[str, Any]) -> list[tuple[dict, str]]:
    """The concrete schemas `node` may stand for ($ref and anyOf resolved), each with the name
    of the model it came from ('' for inline schemas)."""
    found, todo = [], [(node, "")]
    while todo:
        current, model = todo.pop(0)
        if "$ref" in current:
            name = current["$ref"].rsplit("/", 1)[-1]
            todo.append((defs[name], name))
        elif "anyOf" in current:
            todo.extend((option, model) for option in current["anyOf"])
        else:
            found.append((current, model))
    return found


def canonical_document(
    schema: dict[str, Any],
    document: Any,
    aliases: dict[str, dict[str, str]],
    fold: Callable[[str], str],
    *,
    coerce: bool = False,
) -> Any:
    """`document` with every object key renamed to the property it matches under `fold` (or to
    the wire name of a matching alias). Keys of open maps (no properties) stay as sent; a key
    that matches nothing, or whose property is already filled, stays too, for validation to
    report. With `coerce` (spec accept_numbers_as_strings), scalars are read as Json.NET reads
    them: a number where only a string fits becomes its text where the string takes it
    (generator/model/text_numbers.py, which the OpenAPI export states too), a numeric string where
    only a number fits becomes that number."""
    defs = schema.get("$defs", {})

    def walk(node: dict[str, Any], value: Any) -> Any:
        options = _alternatives(defs, node)
        if isinstance(value, dict):
            props: dict[str, Any] = {}
            names: dict[str, str] = {}
            open_values = [o["additionalProperties"] for o, _ in options
                           if isinstance(o.get("additionalProperties"), dict)]
            for option, model in options:
                props.update(option.get("properties", {}))
                names.update({fold(k): k for k in option.get("properties", {})})
                names.update({fold(a): w for a, w in aliases.get(model, {}).items()})
            out: dict[str, Any] = {}
            for key, item in value.items():
                name = names.get(fold(key), str(key))  # JSON keys are text
                if name in out:
                    name = key
                sub = props.get(name) or (open_values[0] if open_values else {})
                out[name] = walk(sub, item)
            return out
        if isinstance(value, list):
            items = [o["items"] for o, _ in options if isinstance(o.get("items"), dict)]
            return [walk(items[0], v) for v in value] if items else value
        return _coerced(value, [o for o, _ in options]) if coerce else value

    return walk(schema, document)


def _coerced(value: Any, options: list[dict[str, Any]]) -> Any:
    types = {o.get("type") for o in options}
    if None in types or isinstance(value, bool):  # an open schema takes anything as it is
        return value
    if isinstance(value, int | float) and not types & {"number", "integer"}:
        texts = (read_as_text(o, value) for o in options)
        return next((text for text in texts if text is not None), value)
    if isinstance(value, str) and types & {"number", "integer"} and "string" not in types:
        with contextlib.suppress(InvalidOperation):
            number = Decimal(value.strip())
            if number.is_finite():
                return int(number) if number == number.to_integral_value() else float(number)
    return value


# -- Json.NET Schema wording, for APIs that answer validation errors that way ---------------

_JSON_TYPES = {bool: "Boolean", int: "Integer", float: "Float", str: "String", list: "Array",
               dict: "Object", type(None): "Null"}


def _jsonnet_path(path: Any) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _expected_types(schema: dict[str, Any]) -> list[str] | None:
    options = schema.get("anyOf", [schema])
    names = []
    for option in options:
        if "$ref" in option:
            names.append("Object")
        elif isinstance(option.get("type"), str):
            names.append(option["type"].title())
        else:
            return None
    return names


def jsonnet_message(error: ValidationError) -> str:
    """'Invalid type. Expected Boolean but got String. Path 'isPrivate'.' and its siblings."""
    kind, bound, value = error.validator, error.validator_value, error.instance
    expected = _expected_types(error.schema) if kind in ("type", "anyOf") else None
    got = _JSON_TYPES.get(type(value), "Object")
    if kind == "anyOf" and error.context and (expected is None or got in expected
                                               or (got == "Integer" and "Number" in expected)):
        return jsonnet_message(best_match(error.context))  # right type, something deeper failed
    if expected is not None:
        text = f"Invalid type. Expected {', '.join(expected)} but got {got}."
    elif kind == "required":
        missing = ", ".join(p for p in bound if p not in value)
        text = f"Required properties are missing from object: {missing}."
    elif kind == "additionalProperties":
        extra = ", ".join(k for k in value if k not in error.schema.get("properties", {}))
        text = (f"Property '{extra}' has not been defined and the schema does not allow "
                "additional properties.")
    elif kind in ("maxItems", "minItems"):
        word = "exceeds maximum" if kind == "maxItems" else "is less than minimum"
        text = f"Array item count {len(value)} {word} count of {bound}."
    elif kind in ("maxLength", "minLength"):
        word = "exceeds maximum" if kind == "maxLength" else "is less than minimum"
        shown = value if len(value) <= 40 else value[:40] + "..."
        text = f"String '{shown}' {word} length of {bound}."
    elif kind == "enum":
        text = f"Value {value!r} is not defined in enum."
    else:
        text = error.message[:1].upper() + error.message[1:] + "."
    return f"{text} Path '{_jsonnet_path(error.absolute_path)}'."
