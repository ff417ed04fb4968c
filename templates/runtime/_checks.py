"""The request rules of an operation that a JSON Schema of the body cannot say: parameter
patterns and lengths, and "one of these places is required" across the body and the parameters.
Pure and without imports of the package, so the generator's emulator support runs this same file
on its own description of an operation (duck-typed: `params` with the attributes used below;
`requires` holds the `_spec.Requirement`s that client and generator share)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from typing import Any


@cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _at(body: Any, path: str) -> Any:
    """The value at a dotted path into a JSON body (None where a step is missing)."""
    for key in path.split("."):
        if not isinstance(body, Mapping):
            return None
        body = body.get(key)
    return body


def _present(value: Any) -> bool:
    return value is not None and value != "" and value != [] and value != {}


def _param_problems(param: Any, value: Any) -> list[str]:
    where = f"{param.location} parameter {param.wire_name}"
    values = list(value) if isinstance(value, list | tuple) else [value]
    problems = []
    for item in values:
        if item is None or isinstance(item, bool | int | float):
            continue  # types are the signature's and the server's concern, not a text rule
        text = str(item)
        if param.min_length and len(text) < param.min_length:
            problems.append(f"{where}: at least {param.min_length} characters")
        if param.pattern and not _compiled(param.pattern).search(text):
            rule = f"a valid {param.format}" if param.format else f"matching {param.pattern}"
            problems.append(f"{where}: {text!r} is not {rule}")
    return problems


def request_problems(op: Any, params: Mapping[str, Any], body: Any) -> list[str]:
    """What is wrong with a request by the operation's rules, one message per problem ([] when
    nothing is). `params`: every parameter value by wire name; `body`: the JSON body or None."""
    problems = []
    for param in op.params:
        if param.wire_name in params:
            problems.extend(_param_problems(param, params[param.wire_name]))
    for rule in op.requires:
        values = (
            _at(body, place.path) if place.location == "body" else params.get(place.path)
            for place in rule.one_of
        )
        if not any(_present(v) for v in values):
            problems.append(str(rule))
    return problems
