"""`accept_numbers_as_strings`: which numbers a server that reads a number sent for a string as
that number's text takes, for one string schema, and the text it reads. The OpenAPI export states
it (the string's type widened) and the emulator applies it, so neither takes more than the other.

A number is taken where its text always meets the string's rules: for a plain string, any number;
for decimal text, any number (its exact digits, never an exponent); under `maxLength` N, an
integer of at most N characters (and at most 15 digits, exact in every JSON reader). Where an
enum, a pattern, a format or `minLength` above 1 applies, only a string is taken."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from generator.model.scalars import DECIMAL_TEXT

_MAX_DIGITS = 15


def numbers_taken(node: dict[str, Any]) -> dict[str, Any] | None:
    """The JSON Schema of the numbers taken where the string schema `node` fits, or None."""
    if node.get("type") != "string" or node.keys() & {"enum", "const", "contentEncoding"}:
        return None
    decimal = node.get("format") == "decimal" and node.get("pattern") == DECIMAL_TEXT["pattern"]
    if (not decimal and node.keys() & {"format", "pattern"}) or node.get("minLength", 0) > 1:
        return None
    if "maxLength" in node:
        digits = min(node["maxLength"], _MAX_DIGITS)
        return {"type": "integer", "minimum": 1 - 10 ** (digits - 1), "maximum": 10**digits - 1}
    return {"type": "number"}


def read_as_text(node: dict[str, Any], value: int | float) -> str | None:
    """The text the number `value` is read as where `node` fits, or None if it is not taken."""
    taken = numbers_taken(node)
    if taken is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    if taken["type"] == "number":
        return str(value) if isinstance(value, int) else format(Decimal(repr(value)), "f")
    if isinstance(value, float) and not value.is_integer():
        return None
    whole = int(value)
    return str(whole) if taken["minimum"] <= whole <= taken["maximum"] else None
