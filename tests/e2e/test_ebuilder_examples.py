"""Every request example of the e-Builder document validates with its generated request model and
serializes back with no key or value lost; every response example parses with its response
model. The examples are the seed's own (tests/fixtures/ebuilder/seed_examples.json)."""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import ebuilder
import pytest
from ebuilder import OPERATIONS

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = json.loads((ROOT / "tests/fixtures/ebuilder/seed_examples.json").read_text())["examples"]
BY_ROUTE = {(op.method, op.path): op for op in OPERATIONS.values()}


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    try:
        return Decimal(str(value)) if isinstance(value, int | float | Decimal | str) else None
    except InvalidOperation:
        return None


def _lost(original: Any, sent: Any, where: str = "$") -> list[str]:
    """Keys or values of `original` missing from `sent` (keys compared ignoring case, as the
    server does; a numeric string may come back as the same number)."""
    if isinstance(original, dict):
        if not isinstance(sent, dict):
            return [f"{where}: object became {type(sent).__name__}"]
        folded = {k.lower(): k for k in sent}
        problems = []
        for key, value in original.items():
            if key.lower() not in folded:
                problems.append(f"{where}.{key}: missing")
            else:
                problems += _lost(value, sent[folded[key.lower()]], f"{where}.{key}")
        return problems
    if isinstance(original, list):
        if not isinstance(sent, list) or len(sent) != len(original):
            return [f"{where}: list changed"]
        return [
            p
            for i, (a, b) in enumerate(zip(original, sent, strict=True))
            for p in _lost(a, b, f"{where}[{i}]")
        ]
    if original == sent and type(original) is type(sent):
        return []
    a, b = _number(original), _number(sent)
    if a is not None and b is not None and a == b:
        return []
    return [f"{where}: {original!r} became {sent!r}"]


def _id(example: dict[str, Any]) -> str:
    return f"{example['method']} {example['path']} {example['title']}"


def _model(example: dict[str, Any], kind: str) -> type[Any]:
    op = BY_ROUTE[(example["method"], example["path"])]
    name = op.request_model if kind == "request" else op.response_model
    return getattr(ebuilder.types, name)  # type: ignore[no-any-return]


def _whole_file(example: dict[str, Any]) -> Any:
    """The document cuts a base64 file short ("JVBERi0xLjQKJcOkw7zDtsO..."); the body keeps the
    whole base64 quanta before the cut, which the file field's canonical-base64 check takes."""
    limit = BY_ROUTE[(example["method"], example["path"])].file
    body = example["body"]
    text = body.get(limit.field) if limit and isinstance(body, dict) else None
    if not (isinstance(text, str) and text.endswith("...")):
        return body
    kept = text[:-3]
    return {**body, limit.field: kept[: len(kept) // 4 * 4]}


def test_every_operation_has_an_example_route() -> None:
    assert {(e["method"], e["path"]) for e in EXAMPLES} == set(BY_ROUTE)


@pytest.mark.parametrize("example", [e for e in EXAMPLES if e["kind"] == "request"], ids=_id)
def test_request_example_round_trips(example: dict[str, Any]) -> None:
    model = _model(example, "request")
    body = _whole_file(example)
    sent = model.model_validate(body).to_wire()
    assert _lost(body, sent) == []
    json.dumps(sent, default=str)  # JSON-ready


@pytest.mark.parametrize("example", [e for e in EXAMPLES if e["kind"] != "request"], ids=_id)
def test_response_example_parses(example: dict[str, Any]) -> None:
    parsed = _model(example, "response").model_validate(example["body"])
    assert parsed.model_dump(by_alias=True, exclude_unset=True)
