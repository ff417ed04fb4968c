"""`apigen pull-schemas <api>`: ask every operation for its request and response schema (the
spec's `schema_discovery` query flag) and store each answer, normalized, as
specs/<api>/schemas/<WireName>.<kind>.json for `generate` to merge (generator/enrich.py)."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import httpx

from generator.drift.live import (
    TIMEOUT,
    Credentials,
    MissingSetting,
    Pacer,
    Progress,
    TokenError,
    credentials_from_env,
    fetch_schema,
    fetch_token,
    request_rate,
    schema_jobs,
)
from generator.drift.redaction import redact
from generator.enrich import Kind, schema_file
from generator.model.ir import Api
from generator.pipeline import load_api
from generator.spec.errors import SpecError


@dataclass
class PullReport:
    stored: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # already on disk, not forced
    failed: list[tuple[str, str]] = field(default_factory=list)  # (file, why)

    @property
    def ok(self) -> bool:
        return not self.failed


def store_schema(schemas_dir: Path, wire_name: str, kind: Kind, schema: dict[str, Any]) -> Path:
    """Write one live schema where `generate` reads it, all at once (a reader never sees half
    a file), in a stable form that diffs well in review."""
    target = schema_file(schemas_dir, wire_name, kind)
    text = json.dumps(schema, sort_keys=True, indent=2) + "\n"
    handle, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return target


def pull_schemas(
    api: Api,
    out_dir: Path,
    credentials: Credentials,
    *,
    force: bool = False,
    rate: float | None = None,
    progress: TextIO = sys.stderr,
    transport: httpx.BaseTransport | None = None,
) -> PullReport:
    """Fetch and store every missing schema (all with `force`); one failure does not stop the
    rest. `rate` is requests per second; default: the spec's rate limit."""
    if api.schema_discovery is None:
        raise MissingSetting(f"the {api.name} spec has no api.schema_discovery")
    report = PullReport()
    todo = []
    for op, kind in schema_jobs(api):
        target = schema_file(out_dir, op.wire_name, kind)
        if target.exists() and not force:
            report.skipped.append(target.name)
        else:
            todo.append((op, kind, target))
    if not todo:
        return report
    pacer, bar = Pacer(request_rate(api, rate)), Progress(progress, len(todo))
    secrets = credentials.secrets()
    with httpx.Client(timeout=TIMEOUT, transport=transport) as http:
        pacer.wait()
        token = fetch_token(http, credentials, api)
        secrets = (*secrets, token)
        out_dir.mkdir(parents=True, exist_ok=True)
        for done, (op, kind, target) in enumerate(todo):
            bar.show(done, target.stem)
            pacer.wait()
            try:
                payload = fetch_schema(http, api, credentials, token, op, kind)
            except ValueError as exc:
                report.failed.append((target.name, redact(str(exc), secrets)))
                continue
            store_schema(out_dir, op.wire_name, kind, payload)
            report.stored.append(target.name)
        bar.finish()
    return report


def pull_command(
    specs: Path,
    name: str,
    *,
    force: bool = False,
    rate: float | None = None,
    environ: Mapping[str, str] = os.environ,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> int:
    """The whole `apigen pull-schemas` command; returns its exit status: 0 every schema is
    stored, 1 some could not be fetched (the rest are kept; run again to resume), 2 a spec
    or setting problem."""
    try:
        api = load_api(specs / name)
        credentials = credentials_from_env(api, environ)
        report = pull_schemas(
            api, specs / name / "schemas", credentials, force=force, rate=rate, progress=err
        )
    except SpecError as exc:
        for problem in exc.problems:
            print(problem, file=err)
        return 2
    except (MissingSetting, OSError) as exc:
        print(f"apigen pull-schemas: {exc}", file=err)
        return 2
    except TokenError as exc:
        print(f"apigen pull-schemas: {exc}", file=err)
        return 1
    print(
        f"{len(report.stored)} schema(s) stored, {len(report.skipped)} already there"
        f"{' (--force refetches them)' if report.skipped else ''}, "
        f"{len(report.failed)} failed",
        file=out,
    )
    for file, why in report.failed:
        print(f"  {file}: {why}", file=err)
    return 0 if report.ok else 1
