"""Secret masking for the generator's own HTTP tools (pull-schemas, drift, probe): the rule of
the generated clients' runtime (templates/runtime/_redact.py), loaded from that one file so that
both mask secrets alike."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterable
from pathlib import Path

_SOURCE = Path(__file__).resolve().parents[2] / "templates" / "runtime" / "_redact.py"
_NAME = "generator._runtime_redact"


def _load() -> object:
    if _NAME not in sys.modules:
        spec = importlib.util.spec_from_file_location(_NAME, _SOURCE)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[_NAME] = module
        spec.loader.exec_module(module)
    return sys.modules[_NAME]


_rule = _load()
Redactor = _rule.Redactor  # type: ignore[attr-defined]
MASK: str = _rule.MASK  # type: ignore[attr-defined]


def redact(text: str, secrets: Iterable[str], field_names: Iterable[str] = ()) -> str:
    """`text` with every one of `secrets` and every credential-shaped value masked."""
    redactor = Redactor(field_names)
    redactor.add(*secrets)
    return str(redactor.text(text))
