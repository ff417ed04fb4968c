"""`apigen drift <api>`: compare what the live API says about itself with what the clients were
generated from, and fail CI on the changes that matter.

An API with `schema_discovery` gets the schema check (generator/drift/check.py); one without
goes to the contract probe (generator/drift/probe.py). Every operation ends verified, skipped
(with the reason) or failed (findings at or above `--fail-on`, or its schema could not be
fetched); the report counts them.

Exit status: 0 no finding at or above `--fail-on`; 1 such findings; 2 the check could not be
completed (unreachable, refused credentials, an answer that is not a JSON object, any schema that
could not be fetched, every request answering 404, a bad ignore file), an operation was skipped
and no `skip` entry of the ignore file accepts it, or no operation was checked at all. A failed
fetch or a skip never reads as "no drift"."""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TextIO

import httpx

from generator.drift.check import DriftResult, FetchFailure, check_drift, update_schemas
from generator.drift.findings import LEVELS, Level
from generator.drift.ignores import ConfigError, load_ignores
from generator.drift.live import MissingSetting, credentials_from_env
from generator.drift.probe import ProbeError, run_probe, scope_parameters
from generator.drift.report import EXIT_ERROR, FORMATS, Format, apply_ignores, render
from generator.model.ir import Api
from generator.model.names import snake
from generator.pipeline import enriched_api
from generator.spec.errors import SpecError


def drift_command(
    specs: Path,
    api_name: str,
    *,
    fail_on: Level = "breaking",
    fmt: Format = "text",
    ignore_file: Path | None = None,
    update: bool = False,
    operations: Sequence[str] = (),
    rate: float | None = None,
    environ: Mapping[str, str] = os.environ,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
    today: dt.date | None = None,
    transport: httpx.BaseTransport | None = None,
) -> int:
    """The whole `apigen drift` command; returns its exit status (see the module docstring).
    The report goes to `out`; errors are also told on `err`."""
    if fail_on not in LEVELS or fmt not in FORMATS:
        print(f"apigen drift: --fail-on is one of {LEVELS}, --format one of {FORMATS}", file=err)
        return EXIT_ERROR
    api_dir = specs / api_name
    try:
        entries = load_ignores(ignore_file) if ignore_file else []
        api, _ = enriched_api(api_dir)
        unknown = sorted(set(operations) - {op.wire_name for op in api.operations})
        if unknown:
            raise ConfigError(f"no operation {', '.join(unknown)} in the {api_name} spec")
        if api.schema_discovery is None:
            if update or operations:
                raise ConfigError(f"--update and --operation need schema_discovery, which "
                                  f"{api_name} lacks")
            result = _probe(api, environ)
        else:
            credentials = credentials_from_env(api, environ)
            result = check_drift(
                api, api_dir / "schemas", credentials, operations=operations, rate=rate,
                progress=err if err.isatty() else None, transport=transport,
            )
        if update:
            written = update_schemas(result, api_dir / "schemas")
            print(f"apigen drift: {len(written)} live schema(s) written to {api_dir / 'schemas'}",
                  file=err)
    except SpecError as exc:
        for problem in exc.problems:
            print(problem, file=err)
        return EXIT_ERROR
    except (ConfigError, MissingSetting, OSError, ValueError) as exc:
        print(f"apigen drift: {exc}", file=err)
        return EXIT_ERROR
    report = apply_ignores(api.name, fail_on, result, entries, today or dt.date.today())
    out.write(render(report, fmt))
    for error in report.errors:
        print(f"apigen drift: {error}", file=err)
    return report.exit_code()


def _probe(api: Api, environ: Mapping[str, str]) -> DriftResult:
    """An API that cannot describe itself is checked by reading live answers against the
    response models (generator/probe.py); its findings and skips get the same ignores and
    reports."""
    credentials = credentials_from_env(api, environ)
    pinned = {}
    for name in scope_parameters(api):  # every call stays inside one sandbox
        variable = f"{api.name.upper()}_{snake(name).upper()}"
        pinned[name] = environ.get(variable, "")
        if not pinned[name]:
            raise MissingSetting(f"set the environment variable {variable} (the sandbox's "
                                 f"{name}; every probe call stays inside it)")
    try:
        probed = run_probe(api, base_url=credentials.base_url, token_url=credentials.token_url,
                           client_id=credentials.identity, client_secret=credentials.secret,
                           api_key=credentials.api_key, pinned=pinned)
    except ProbeError as exc:
        return DriftResult(errors=[FetchFailure("", None, str(exc))])
    return DriftResult(findings=probed.findings, checked=probed.verified,
                       skipped=probed.skipped)
