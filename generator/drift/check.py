"""The schema check of `apigen drift`, for an API with `schema_discovery`: every operation's
live request and response schema is compared with its baseline, the committed pulled schema
(specs/<api>/schemas/<Wire>.<kind>.json) when there is one, else the schema `generate` builds
the model from. An operation whose schema requests answer 404/405 is reported as
`endpoint-removed`. Operations the live API has and the specs lack are not reported: discovery
only answers for paths we already know, and the API publishes no list of its operations."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import httpx

from generator.drift.diff import compare, compare_endpoints
from generator.drift.findings import Finding
from generator.drift.ignores import ConfigError
from generator.drift.live import (
    TIMEOUT,
    Credentials,
    FetchError,
    Pacer,
    Progress,
    TokenError,
    fetch_schema,
    fetch_token,
    request_rate,
    schema_jobs,
)
from generator.drift.pull import store_schema
from generator.drift.redaction import redact
from generator.enrich import Kind, schema_file
from generator.model.ir import Api
from generator.model.schema import validator_schema

_GONE = (404, 405)  # what a schema request to an operation the API dropped answers


@dataclass(frozen=True)
class FetchFailure:
    operation: str
    kind: Kind | None  # None: the whole run (token, connection)
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"operation": self.operation, "kind": self.kind, "message": self.message}

    def __str__(self) -> str:
        what = f"{self.operation} {self.kind}" if self.kind else self.operation or "run"
        return f"{what}: {self.message}"


@dataclass
class DriftResult:
    findings: list[Finding] = field(default_factory=list)
    errors: list[FetchFailure] = field(default_factory=list)
    live: dict[tuple[str, Kind], dict[str, Any]] = field(default_factory=dict)
    checked: list[str] = field(default_factory=list)  # operations whose answers were compared
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (operation, why)


def baseline(api: Api, schemas_dir: Path, wire_name: str, kind: Kind, model: str
             ) -> dict[str, Any]:
    """The committed pulled schema when there is one, else the schema `generate` uses."""
    pulled = schema_file(schemas_dir, wire_name, kind)
    if pulled.is_file():
        loaded = json.loads(pulled.read_text(encoding="utf-8"))
        if isinstance(loaded, dict):
            return loaded
        raise ConfigError(f"{pulled}: a pulled schema must be a JSON object")
    return validator_schema(api, model)


def check_drift(
    api: Api,
    schemas_dir: Path,
    credentials: Credentials,
    *,
    operations: Sequence[str] = (),
    rate: float | None = None,
    progress: TextIO | None = None,
    transport: httpx.BaseTransport | None = None,
) -> DriftResult:
    """Fetch every live schema of `operations` (default: all) and compare each with its
    baseline. Failures are collected, not raised, except those that stop the whole run."""
    selected = [op for op in api.operations if not operations or op.wire_name in operations]
    jobs = [(op, kind) for op, kind in schema_jobs(api) if op in selected]
    result, pacer = DriftResult(), Pacer(request_rate(api, rate))
    bar = Progress(progress, len(jobs)) if progress is not None else None
    result.skipped = [(op.wire_name, "no JSON request or response schema to compare")
                      for op in selected if all(job_op is not op for job_op, _ in jobs)]
    first_gone = ""  # the first request answering 404/405, to name in a wrong-base-URL error
    secrets = credentials.secrets()
    answers: dict[str, dict[Kind, int | None]] = {}  # operation -> kind -> failed status
    with httpx.Client(timeout=TIMEOUT, transport=transport) as http:
        pacer.wait()
        try:
            token = fetch_token(http, credentials, api)
        except TokenError as exc:
            result.errors.append(FetchFailure("", None, redact(str(exc), secrets)))
            return result
        secrets = (*secrets, token)
        for done, (op, kind) in enumerate(jobs):
            if bar is not None:
                bar.show(done, f"{op.wire_name}.{kind}")
            pacer.wait()
            try:
                answer = fetch_schema(http, api, credentials, token, op, kind)
                result.live[op.wire_name, kind] = answer
                answers.setdefault(op.wire_name, {})[kind] = None
            except FetchError as exc:
                message = redact(str(exc), secrets)
                if exc.status in (401, 403):  # every further call would be refused too
                    result.errors.append(FetchFailure(op.wire_name, kind, message))
                    return result
                answers.setdefault(op.wire_name, {})[kind] = exc.status
                if exc.status in _GONE:
                    first_gone = first_gone or f"{exc.url} (HTTP {exc.status})"
                else:
                    result.errors.append(FetchFailure(op.wire_name, kind, message))
        if bar is not None:
            bar.finish()
    gone = {name for name, kinds in answers.items() if all(s in _GONE for s in kinds.values())}
    if answers and gone == set(answers):  # not one operation left: the address is wrong
        result.errors.append(FetchFailure("", None, (
            f"every schema request answered HTTP 404/405: is the base URL "
            f"{credentials.base_url} right? first failing request: {first_gone}")))
        return result
    for name, kinds in answers.items():
        if name not in gone:  # one kind answers, the other is gone: not a clean removal
            result.errors += [
                FetchFailure(name, kind, f"HTTP {status}, while its other schema answers")
                for kind, status in kinds.items() if status in _GONE
            ]
    result.findings += compare_endpoints(sorted(answers), sorted(set(answers) - gone))
    for op, kind in jobs:
        live = result.live.get((op.wire_name, kind))
        if live is None:
            continue
        model = (op.body if kind == "request" else op.response).model_name
        base = baseline(api, schemas_dir, op.wire_name, kind, model)
        result.findings += compare(base, live, direction=kind, operation=op.wire_name)
    failed = {e.operation for e in result.errors}
    result.checked = [name for name in answers if name not in failed]
    return result


def update_schemas(result: DriftResult, schemas_dir: Path) -> list[Path]:
    """Store every live schema the way `pull-schemas` does, for a reviewable PR."""
    schemas_dir.mkdir(parents=True, exist_ok=True)
    return [store_schema(schemas_dir, wire_name, kind, schema)
            for (wire_name, kind), schema in sorted(result.live.items())]

