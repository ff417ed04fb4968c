"""The request rules of an operation, checked on the server side (the emulator engine): parameter
patterns and lengths, and `requires` (one of several places must hold a value). The check is the
one the generated clients run before sending (templates/runtime/_checks.py), loaded from the
runtime so that client and server can never disagree; the JSON Schema of the body (formats as
patterns, lengths, required fields) is checked separately, from generator.model.schema."""

from __future__ import annotations

from typing import Any

from generator.model.ir import Operation
from generator.templates import load_runtime


def request_problems(op: Operation, params: dict[str, Any], body: Any) -> list[str]:
    """What is wrong with a request by `op`'s rules ([] when nothing is); each message names the
    place and the rule, e.g. `options.processPrefix or query processPrefix: one is required`.

    `params`: the request's parameter values by wire name (path, query and header together);
    `body`: the parsed JSON body, or None."""
    problems: list[str] = load_runtime("_checks.py").request_problems(op, params, body)
    return problems
