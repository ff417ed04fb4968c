"""The request rules of an operation, checked on the server side (the emulator engine): parameter
patterns and lengths, and `requires` (one of several places must hold a value). The check is the
one the generated clients run before sending (templates/runtime/_checks.py), loaded from the
runtime so that client and server can never disagree; the JSON Schema of the body (formats as
patterns, lengths, required fields) is checked separately, from generator.model.schema."""

from __future__ import annotations

import importlib.util
import sys
from functools import cache
from types import ModuleType
from typing import Any

from generator.codegen.render import TEMPLATES
from generator.model.ir import Operation

_CHECKS = TEMPLATES / "runtime" / "_checks.py"


@cache
def _runtime_checks() -> ModuleType:
    name = "apigen_runtime_checks"
    spec = importlib.util.spec_from_file_location(name, _CHECKS)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def request_problems(op: Operation, params: dict[str, Any], body: Any) -> list[str]:
    """What is wrong with a request by `op`'s rules ([] when nothing is); each message names the
    place and the rule, e.g. `options.processPrefix or query processPrefix: one is required`.

    `params`: the request's parameter values by wire name (path, query and header together);
    `body`: the parsed JSON body, or None."""
    problems: list[str] = _runtime_checks().request_problems(op, params, body)
    return problems
