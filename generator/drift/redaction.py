"""Secret masking for the generator's own HTTP tools (pull-schemas, drift, probe): the rule of
the generated clients' runtime (templates/runtime/_redact.py), loaded from that one file so that
both mask secrets alike."""

from __future__ import annotations

from collections.abc import Iterable

from generator.templates import load_runtime

_rule = load_runtime("_redact.py")
Redactor = _rule.Redactor  # type: ignore[attr-defined]
MASK: str = _rule.MASK  # type: ignore[attr-defined]


def redact(text: str, secrets: Iterable[str], field_names: Iterable[str] = ()) -> str:
    """`text` with every one of `secrets` and every credential-shaped value masked."""
    redactor = Redactor(field_names)
    redactor.add(*secrets)
    return str(redactor.text(text))
