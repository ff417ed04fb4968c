"""The one table of the spec's scalar types and checked formats. A row holds everything the
generator, the OpenAPI export and the emulator derive from a scalar's name; each of them looks
the row up instead of keeping its own mapping (OpenAPI 3.1 takes the JSON Schema as is, so no
scalar has a separate OpenAPI form; a checked format adds OpenAPI's own `format` word)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import Any

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,7})?(Z|[+-]\d{2}:\d{2})$")
_INTEGER = re.compile(r"[+-]?\d+")


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


def _integer(text: str) -> int:
    if not _INTEGER.fullmatch(text):
        raise ValueError("expected an integer")
    return int(text)


def _number(text: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation:
        raise ValueError("expected a number") from None


def _boolean(text: str) -> bool:
    if text.lower() not in ("true", "false"):
        raise ValueError("expected true or false")
    return text.lower() == "true"


def _text(text: str) -> str:
    return text


@dataclass(frozen=True)
class Scalar:
    """One scalar type of the spec language (`type: decimal`)."""

    name: str  # as a spec writes it
    schema: Mapping[str, Any]  # its JSON Schema (2020-12): models, emulator checks, OpenAPI
    annotation: str  # its Python annotation in generated code
    module: str  # the module `annotation` is imported from ("" for a builtin)
    literals: tuple[type, ...]  # the Python types a YAML value of it (an example) may have
    read: Callable[[str], Any]  # its value from wire text (a query or header parameter)
    example: Any  # a value for README snippets
    placeholder: Any  # the emulator's smallest valid value, where no record says more
    # Its JSON Schema where the spec sends it as text (`wire: string`); None: it cannot be.
    text_schema: Mapping[str, Any] | None = None
    # What a request body takes for it (a TypedDict's annotation), where that is more than
    # `annotation`: the models read a date from its ISO text, a decimal from a number or text.
    accepts: str = ""

    @property
    def input_annotation(self) -> str:
        return self.accepts or self.annotation


_SCHEMA = MappingProxyType  # a row's schemas are shared: read-only

# A `decimal` field with `wire: string`: exact decimal text, no exponent ("5000", "-0.25").
DECIMAL_TEXT = _SCHEMA({"type": "string", "format": "decimal", "pattern": r"^-?[0-9]+(\.[0-9]+)?$"})

_ROWS = (
    Scalar("string", _SCHEMA({"type": "string"}), annotation="str", module="",
           literals=(str,), read=_text, example="text", placeholder="string"),
    Scalar("integer", _SCHEMA({"type": "integer"}), annotation="int", module="",
           literals=(int,), read=_integer, example=1, placeholder=0),
    Scalar("number", _SCHEMA({"type": "number"}), annotation="float", module="",
           literals=(int, float), read=_number, example=1.5, placeholder=0),
    Scalar("decimal", _SCHEMA({"type": "number", "format": "decimal"}), annotation="Decimal",
           module="decimal", literals=(str, int, float), read=_number, example=10.5,
           placeholder=0, text_schema=DECIMAL_TEXT, accepts="Decimal | float | str"),
    Scalar("boolean", _SCHEMA({"type": "boolean"}), annotation="bool", module="",
           literals=(bool,), read=_boolean, example=True, placeholder=False),
    # dates are written as their text, in YAML as on the wire
    Scalar("date", _SCHEMA({"type": "string", "format": "date"}), annotation="date",
           module="datetime", literals=(str,), read=parse_date, example="2026-01-31",
           placeholder="2024-01-01", accepts="date | str"),
    Scalar("datetime", _SCHEMA({"type": "string", "format": "date-time"}),
           annotation="datetime", module="datetime", literals=(str,), read=parse_datetime,
           example="2026-01-31T09:30:00-08:00", placeholder="2024-01-01T00:00:00+00:00",
           accepts="datetime | str"),
    Scalar("any", _SCHEMA({}), annotation="Any", module="typing", literals=(object,),
           read=_text, example="...", placeholder=None),
)
SCALARS: Mapping[str, Scalar] = MappingProxyType({row.name: row for row in _ROWS})


def scalar_of_json_type(json_type: str) -> str:
    """The scalar a bare JSON Schema type (`{"type": "integer"}`) reads as; '' if none."""
    return next((row.name for row in _ROWS if row.schema == {"type": json_type}), "")


@dataclass(frozen=True)
class Format:
    """A `format` every generated check understands (client, emulator, OpenAPI), as the pattern
    a value must match. Other `format` values only describe the wire text."""

    name: str  # as a spec writes it, and OpenAPI's `format` word
    pattern: str
    example: str  # a value for README snippets


FORMATS: Mapping[str, Format] = MappingProxyType({
    # the ASCII address of RFC 5321: at most 254 characters, a dot-atom local part of at most
    # 64, dotted host labels
    "email": Format(
        "email",
        r"^(?=.{1,254}$)(?=[^@]{1,64}@)"
        r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
        r"@[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$",
        "user@example.com",
    ),
    # GUIDs: syntax only, any version
    "uuid": Format(
        "uuid",
        r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
        "3f2b8c1e-0d4a-4c6b-9e7f-1a2b3c4d5e6f",
    ),
})
# Canonical base64 text, padded to whole quanta: what a server decodes without guessing (the
# pattern of a file carried in a JSON body, checked like a format).
BASE64_TEXT = r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"
