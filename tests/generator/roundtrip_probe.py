"""Run in a fresh interpreter with the generated packages on PYTHONPATH:
`python roundtrip_probe.py CASES.json` reads [api, model, record] cases and prints, as JSON, the
number checked and every record that does not come back exactly: through `to_wire()`, through
`model_dump(by_alias=True, exclude_unset=True)` and through JSON (`model_dump_json`)."""

from __future__ import annotations

import importlib
import json
import sys
from typing import Any


def check(api: str, model: str, record: dict[str, Any]) -> str:
    cls = getattr(importlib.import_module(f"{api}.types"), model)
    try:
        value = cls.model_validate(record)
    except Exception as exc:  # noqa: BLE001 - any failure is the finding
        return f"{type(exc).__name__}: {exc}"[:400]
    outputs = {
        "to_wire": value.to_wire(),
        "model_dump": value.model_dump(by_alias=True, exclude_unset=True),
        "json": json.loads(value.model_dump_json(by_alias=True, exclude_unset=True)),
    }
    wrong = {how: out for how, out in outputs.items() if out != record}
    return json.dumps(wrong, ensure_ascii=True)[:400] if wrong else ""


def main(path: str) -> None:
    with open(path, encoding="utf-8") as stream:
        cases = json.load(stream)
    failures = []
    for api, model, record in cases:
        why = check(api, model, record)
        if why:
            failures.append([api, model, record, why])
    json.dump({"checked": len(cases), "failures": failures}, sys.stdout, ensure_ascii=True)


if __name__ == "__main__":
    main(sys.argv[1])
