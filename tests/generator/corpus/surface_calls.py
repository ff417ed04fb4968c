"""Run in a subprocess over generated packages (`python -m tests.generator.corpus.surface_calls
plan.json`): import every module of each, then call every operation through httpx's
MockTransport and check that the request carries the spec's wire names and that the answer's
wire keys come back. Prints one line per problem; exit 1 if there is any."""

from __future__ import annotations

import importlib
import io
import json
import pkgutil
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

TOKEN_URL = "https://id.example.test/token"
FILE = b"file \x00\xff content"
BASE = "https://sandbox.example.test/v2"


def _argument(kind: str, enum: list[Any] | None) -> Any:
    if enum:
        return enum[0]
    return {"string": "v", "integer": 7, "boolean": True, "decimal": Decimal("1.5"),
            "date": date(2026, 1, 31), "list[string]": ["a", "b"]}[kind]


def _call(package: str, client_class: str, call: dict[str, Any]) -> list[str]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if str(request.url) == TOKEN_URL:
            return httpx.Response(200, json={"access_token": "tok", "expires_in": 3600})
        seen.append(request)
        if call["download"]:
            return httpx.Response(200, content=FILE)
        return httpx.Response(200, json=call["response"])

    module = importlib.import_module(package)
    http = httpx.Client(transport=httpx.MockTransport(handler))
    client = getattr(module, client_class)(client_id="id", client_secret="secret",
                                           api_key="key", environment="sandbox",
                                           http_client=http, rate_limit=None)
    kwargs = {name: _argument(kind, enum) for name, kind, enum in call["args"]}
    if call["body"] is not None:
        kwargs["body"] = call["body"]
    if call["upload"]:
        kwargs["source"] = FILE
    if call["download"]:
        kwargs["destination"] = io.BytesIO()
    where = f"{package}.{call['resource']}.{call['method']}"
    try:
        method = getattr(getattr(client, call["resource"]), call["method"])
        result = list(method(**kwargs)) if call.get("iterate") else method(**kwargs)
    except Exception as exc:  # a broken package: report it, with its place
        return [f"{where}: {type(exc).__name__}: {exc}"]
    problems = []
    if call.get("iterate"):
        if len(result) != 1:
            return [f"{where}: {len(result)} items from a page of one"]
        result, call = result[0], {**call, "response": call["item"]}
    request = seen[-1]
    if request.url.raw_path.decode().split("?")[0] != call["path"]:
        problems.append(f"{where}: path {request.url.raw_path!r}, expected {call['path']!r}")
    missing = set(call["query"]) - {key for key, _ in request.url.params.multi_items()}
    missing |= {h for h in call["headers"] if h.lower() not in request.headers}
    if missing:
        problems.append(f"{where}: wire names not sent: {sorted(missing)}")
    if call["body"] is not None and set(json.loads(request.content)) != set(call["body"]):
        problems.append(f"{where}: body keys {sorted(json.loads(request.content))}, "
                        f"expected {sorted(call['body'])}")
    if call["upload"] and request.read() != FILE:
        problems.append(f"{where}: the file was not sent as the body")
    if call["download"]:
        if result != len(FILE) or kwargs["destination"].getvalue() != FILE:
            problems.append(f"{where}: the download did not arrive whole")
        return problems
    answer = result.model_dump(by_alias=True, exclude_unset=True, mode="json")
    if set(answer) != set(call["response"]):
        problems.append(f"{where}: answer keys {sorted(answer)}, "
                        f"expected {sorted(call['response'])}")
    return problems


def main(plan_file: str) -> int:
    plan = json.loads(Path(plan_file).read_text(encoding="utf-8"))
    problems = []
    for api in plan:
        try:
            package = importlib.import_module(api["package"])
            for info in pkgutil.walk_packages(package.__path__, api["package"] + "."):
                importlib.import_module(info.name)
        except Exception as exc:
            problems.append(f"{api['package']}: import failed: {type(exc).__name__}: {exc}")
            continue
        for call in api["calls"]:
            problems += _call(api["package"], api["client_class"], call)
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
