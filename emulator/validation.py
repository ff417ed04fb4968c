"""Request checks driven by the spec: typed query/header parameters and JSON bodies."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from starlette.datastructures import Headers, QueryParams

from emulator.errors import ApiError
from generator.ir import Api, Param
from generator.schema import validator_schema

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,7})?(Z|[+-]\d{2}:\d{2})$")


def parse_date(text: str) -> date:
    if not _DATE.match(text):
        raise ValueError("expected a date as yyyy-MM-dd")
    return date.fromisoformat(text)


def parse_datetime(text: str) -> datetime:
    """ISO-8601 with an offset; fractions of up to 7 digits, as .NET writes them."""
    match = _DATETIME.match(text)
    if not match:
        raise ValueError("expected ISO-8601 with offset, e.g. 2024-01-31T09:30:00-08:00")
    fraction = match.group(1) or ""
    return datetime.fromisoformat(text.replace(fraction, fraction[:7], 1))  # Python takes 6


def _checker() -> FormatChecker:
    # jsonschema's own date-time check needs a package we do not install.
    checker = FormatChecker(formats=())
    checker.checks("date", raises=ValueError)(lambda v: not isinstance(v, str) or parse_date(v))
    checker.checks("date-time", raises=ValueError)(
        lambda v: not isinstance(v, str) or parse_datetime(v)
    )
    return checker


FORMATS = _checker()


def model_validator(api: Api, model: str, *, closed: bool = False) -> Draft202012Validator:
    """Validates what `model` describes; `closed` also refuses keys the spec does not declare
    (models without any field stay open), which is how the emulator checks its own answers."""
    schema = validator_schema(api, model)
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
    if kind == "integer":
        if not re.fullmatch(r"[+-]?\d+", text):
            raise ValueError("expected an integer")
        return int(text)
    if kind in ("number", "decimal"):
        try:
            return Decimal(text)
        except InvalidOperation:
            raise ValueError("expected a number") from None
    if kind == "boolean":
        if text.lower() not in ("true", "false"):
            raise ValueError("expected true or false")
        return text.lower() == "true"
    if kind == "date":
        return parse_date(text)
    if kind == "datetime":
        return parse_datetime(text)
    return text


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
