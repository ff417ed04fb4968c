"""`apigen drift <api>`: compare what the live API says about itself with what the clients were
generated from, and fail CI on the changes that matter.

For an API with `schema_discovery`, every operation's live request and response schema is
compared with its baseline: the committed pulled schema (specs/<api>/schemas/<Wire>.<kind>.json)
when there is one, else the schema `generate` builds the model from. An operation whose schema
requests answer 404/405 is reported as `endpoint-removed`. Operations the live API has and the
specs lack are not reported: discovery only answers for paths we already know, and the API
publishes no list of its operations. APIs without `schema_discovery` go to the contract probe
(generator/probe.py).

Every operation ends verified, skipped (with the reason) or failed (findings at or above
`--fail-on`, or its schema could not be fetched); the report counts them.

Exit status: 0 no finding at or above `--fail-on`; 1 such findings; 2 the check could not be
completed (unreachable, refused credentials, an answer that is not a JSON object, any schema that
could not be fetched, every request answering 404, a bad ignore file), an operation was skipped
and no `skip` entry of the ignore file accepts it, or no operation was checked at all. A failed
fetch or a skip never reads as "no drift"."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TextIO

import httpx
import yaml

from generator.diff import compare, compare_endpoints
from generator.enrich import Kind, schema_file
from generator.errors import SpecError
from generator.findings import LEVELS, Finding, Level, at_least
from generator.ir import Api
from generator.names import snake
from generator.pipeline import enriched_api
from generator.probe import ProbeError, run_probe, scope_parameters
from generator.pull import (
    TIMEOUT,
    Credentials,
    FetchError,
    MissingSetting,
    PullError,
    _fetch,
    _jobs,
    _Pacer,
    _progress,
    _token,
    _write_atomic,
    credentials_from_env,
)
from generator.redaction import redact
from generator.schema import validator_schema

Format = Literal["text", "markdown", "json"]
FORMATS: tuple[Format, ...] = ("text", "markdown", "json")
REPORT_VERSION = 2
EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
_GONE = (404, 405)  # what a schema request to an operation the API dropped answers
_ENTRY_KEYS = {"rule", "operation", "path", "reason", "expires"}
_SKIP_KEYS = {"skip", "reason", "expires"}
Outcome = Literal["verified", "skipped", "failed"]
_CELL = 60  # longest old/new value shown in a Markdown cell


class ConfigError(ValueError):
    """The ignore file or the command's arguments are unusable."""


# -- ignore file ---------------------------------------------------------------------------


@dataclass(frozen=True)
class IgnoreEntry:
    """One accepted change, or (`rule` empty) one accepted skip of the operation(s)
    `operation`. `operation` and `path` may hold `*` (any run of characters)."""

    index: int  # 1-based position in the file, to name the entry in messages
    rule: str
    operation: str
    path: str
    reason: str
    expires: dt.date | None = None

    @property
    def is_skip(self) -> bool:
        return not self.rule

    def accepts_skip(self, operation: str) -> bool:
        return self.is_skip and _glob(self.operation).fullmatch(operation) is not None

    def matches(self, finding: Finding) -> bool:
        # Never by message: wording may change, rule/operation/path are the stable identity.
        return (
            not self.is_skip
            and finding.rule == self.rule
            and _glob(self.operation).fullmatch(finding.operation) is not None
            and _glob(self.path).fullmatch(finding.path) is not None
        )

    def expired(self, today: dt.date) -> bool:
        return self.expires is not None and today > self.expires  # valid through that day

    def describe(self) -> str:
        if self.is_skip:
            return f"ignore entry #{self.index} (skip {self.operation})"
        return f"ignore entry #{self.index} ({self.rule} {self.operation} {self.path})"

    def to_json(self) -> dict[str, Any]:
        if self.is_skip:
            return {"skip": self.operation, "reason": self.reason,
                    "expires": self.expires.isoformat() if self.expires else None}
        return {
            "rule": self.rule,
            "operation": self.operation,
            "path": self.path,
            "reason": self.reason,
            "expires": self.expires.isoformat() if self.expires else None,
        }


def _glob(pattern: str) -> re.Pattern[str]:
    # Not fnmatch: JSON paths contain `[]`, which fnmatch would read as a character class.
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")))


def load_ignores(path: Path) -> list[IgnoreEntry]:
    """`ignore:` - a list of {rule, operation, path, reason, expires?: YYYY-MM-DD} (accepted
    findings) and {skip: operation, reason, expires?} (accepted skips)."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: not a readable YAML file: {exc}") from None
    raw = document.get("ignore") if isinstance(document, dict) else None
    if not isinstance(raw, list):
        raise ConfigError(f"{path}: expected a mapping with an `ignore:` list of entries")
    return [_entry(path, index, item) for index, item in enumerate(raw, 1)]


def _entry(path: Path, index: int, item: Any) -> IgnoreEntry:
    where = f"{path}: ignore entry #{index}"
    if not isinstance(item, dict):
        raise ConfigError(f"{where}: must be a mapping")
    if "skip" in item:
        where += f" (skip {item['skip']})"
        keys, values = _SKIP_KEYS, {"skip": item["skip"]}
    else:
        where += (f" ({item.get('rule', '?')} {item.get('operation', '*')} "
                  f"{item.get('path', '*')})")
        # The rule is never a wildcard: one entry accepts one kind of change.
        keys, values = _ENTRY_KEYS, {"rule": item.get("rule"),
                                     "operation": item.get("operation", "*"),
                                     "path": item.get("path", "*")}
    unknown = sorted(set(map(str, item)) - keys)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}")
    for key, value in values.items():
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{where}: `{key}` must be a non-empty string")
    reason = item.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise ConfigError(f"{where}: has no `reason`; say why the change or skip is accepted")
    expires = item.get("expires")
    if isinstance(expires, str):  # YAML reads an unquoted YYYY-MM-DD as a date already
        try:
            expires = dt.date.fromisoformat(expires)
        except ValueError:
            pass
    if expires is not None and type(expires) is not dt.date:
        raise ConfigError(f"{where}: `expires` must be a date, YYYY-MM-DD")
    if "skip" in values:
        return IgnoreEntry(index, "", values["skip"], "*", reason.strip(), expires)
    return IgnoreEntry(index, values["rule"], values["operation"], values["path"],
                       reason.strip(), expires)


# -- the check -----------------------------------------------------------------------------


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
    if rate is None and api.rate_limit is not None:
        rate = api.rate_limit.operations / api.rate_limit.per_seconds
    selected = [op for op in api.operations if not operations or op.wire_name in operations]
    jobs = [(op, kind) for op, kind in _jobs(api) if op in selected]
    result, pacer, width = DriftResult(), _Pacer(rate), [0]
    result.skipped = [(op.wire_name, "no JSON request or response schema to compare")
                      for op in selected if all(job_op is not op for job_op, _ in jobs)]
    first_gone = ""  # the first request answering 404/405, to name in a wrong-base-URL error
    secrets = credentials.secrets()
    answers: dict[str, dict[Kind, int | None]] = {}  # operation -> kind -> failed status
    with httpx.Client(timeout=TIMEOUT, transport=transport) as http:
        pacer.wait()
        try:
            token = _token(http, credentials, api)
        except PullError as exc:
            result.errors.append(FetchFailure("", None, redact(str(exc), secrets)))
            return result
        secrets = (*secrets, token)
        for done, (op, kind) in enumerate(jobs):
            if progress is not None:
                _progress(progress, done, len(jobs), f"{op.wire_name}.{kind}", width)
            pacer.wait()
            try:
                result.live[op.wire_name, kind] = _fetch(http, api, credentials, token, op, kind)
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
        if progress is not None:
            _progress(progress, len(jobs), len(jobs), "done", width)
            progress.write("\n")
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
        model = (op.body if kind == "request" else op.response).model
        base = baseline(api, schemas_dir, op.wire_name, kind, model)
        result.findings += compare(base, live, direction=kind, operation=op.wire_name)
    failed = {e.operation for e in result.errors}
    result.checked = [name for name in answers if name not in failed]
    return result


def update_schemas(result: DriftResult, schemas_dir: Path) -> list[Path]:
    """Store every live schema the way `pull-schemas` does, for a reviewable PR."""
    schemas_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for (wire_name, kind), schema in sorted(result.live.items()):
        target = schema_file(schemas_dir, wire_name, kind)
        _write_atomic(target, json.dumps(schema, sort_keys=True, indent=2) + "\n")
        written.append(target)
    return written


# -- applying the ignore file and deciding ----------------------------------------------------


@dataclass(frozen=True)
class OperationOutcome:
    operation: str
    outcome: Outcome
    reason: str = ""  # why skipped or failed
    accepted_by: IgnoreEntry | None = None  # the `skip` entry that accepts this skip

    def to_json(self) -> dict[str, Any]:
        return {"operation": self.operation, "outcome": self.outcome, "reason": self.reason,
                "accepted_by": self.accepted_by.to_json() if self.accepted_by else None}

    def __str__(self) -> str:
        text = f"{self.outcome} {self.operation}" + (f": {self.reason}" if self.reason else "")
        if self.accepted_by:
            text += f" — accepted by {self.accepted_by.describe()}: {self.accepted_by.reason}"
        return text


@dataclass
class Report:
    api: str
    fail_on: Level
    findings: list[Finding]
    ignored: list[tuple[Finding, IgnoreEntry]]
    expired: list[IgnoreEntry]
    unused: list[IgnoreEntry]
    errors: list[FetchFailure]
    operations: list[OperationOutcome] = field(default_factory=list)

    def summary(self) -> dict[Level, int]:
        return {level: sum(f.level == level for f in self.findings) for level in LEVELS[::-1]}

    def counts(self) -> dict[str, int]:
        outcomes = [o.outcome for o in self.operations]
        return {"verified": outcomes.count("verified"), "skipped": outcomes.count("skipped"),
                "skipped_accepted": sum(o.accepted_by is not None for o in self.operations),
                "failed": outcomes.count("failed")}

    def unaccepted_skips(self) -> list[OperationOutcome]:
        return [o for o in self.operations if o.outcome == "skipped" and o.accepted_by is None]

    def exit_code(self) -> int:
        checked = [o for o in self.operations if o.outcome != "skipped"]
        if self.errors or self.unaccepted_skips() or not checked:
            return EXIT_ERROR
        failing = any(at_least(f.level, self.fail_on) for f in self.findings)
        return EXIT_FINDINGS if failing else EXIT_CLEAN

    def to_json(self) -> dict[str, Any]:
        return {
            "version": REPORT_VERSION,
            "api": self.api,
            "fail_on": self.fail_on,
            "findings": [f.to_json() for f in self.findings],
            "ignored": [{"finding": f.to_json(), "entry": e.to_json()} for f, e in self.ignored],
            "expired_ignores": [e.to_json() for e in self.expired],
            "errors": [e.to_json() for e in self.errors],
            "operations": [o.to_json() for o in self.operations],
            "counts": self.counts(),
            "summary": self.summary(),
        }


def apply_ignores(
    api: str,
    fail_on: Level,
    result: DriftResult,
    entries: list[IgnoreEntry],
    today: dt.date,
) -> Report:
    """Drop the findings a live entry accepts, accept the skips a live `skip` entry names, and
    give each operation its outcome. An expired entry applies no more and becomes a breaking
    finding of its own, so that CI makes someone look again."""
    live = [e for e in entries if not e.expired(today)]
    expired = [e for e in entries if e.expired(today)]
    kept, ignored, used = [], [], set()
    for finding in result.findings:
        entry = next((e for e in live if e.matches(finding)), None)
        if entry is None:
            kept.append(finding)
        else:
            ignored.append((finding, entry))
            used.add(entry.index)
    outcomes = []
    for name, why in result.skipped:
        entry = next((e for e in live if e.accepts_skip(name)), None)
        used.update([entry.index] if entry else [])
        outcomes.append(OperationOutcome(name, "skipped", why, entry))
    errors = {e.operation: e.message for e in reversed(result.errors) if e.operation}
    for name in result.checked:
        failing = sum(f.operation == name and at_least(f.level, fail_on) for f in kept)
        outcomes.append(OperationOutcome(name, "failed", f"{failing} finding(s) at or above "
                                         f"{fail_on}") if failing else
                        OperationOutcome(name, "verified"))
    outcomes += [OperationOutcome(name, "failed", message) for name, message in errors.items()
                 if name not in result.checked]
    kept += [
        Finding(
            "ignore-entry-expired", "breaking", "endpoint", e.operation, e.path,
            old=e.expires.isoformat() if e.expires else None, new=None,
            message=f"{e.describe()} expired; its reason was: {e.reason}",
        )
        for e in expired
    ]
    unused = [e for e in live if e.index not in used]
    return Report(api, fail_on, sorted(kept, key=Finding.sort_key), ignored, expired, unused,
                  result.errors, sorted(outcomes, key=lambda o: o.operation))


# -- output ----------------------------------------------------------------------------------


def _verdict(report: Report) -> str:
    counts = ", ".join(f"{n} {level}" for level, n in report.summary().items())
    tail = f"; {len(report.ignored)} ignored" if report.ignored else ""
    n = report.counts()
    operations = (f"{n['verified']} verified, {n['skipped']} skipped"
                  + (f" ({n['skipped_accepted']} accepted)" if n["skipped_accepted"] else "")
                  + f", {n['failed']} failed")
    code, unaccepted = report.exit_code(), len(report.unaccepted_skips())
    # Never "no drift" when something could not be checked.
    if code == EXIT_ERROR and report.errors:
        verdict = f"INCOMPLETE: {len(report.errors)} error(s), drift unknown"
    elif code == EXIT_ERROR and unaccepted:
        verdict = (f"INCOMPLETE: {unaccepted} operation(s) skipped and not accepted by the "
                   "ignore file, drift unknown for them")
    elif code == EXIT_ERROR:
        verdict = "INCOMPLETE: no operation could be checked, drift unknown"
    elif code == EXIT_FINDINGS:
        verdict = f"FAIL: findings at or above {report.fail_on}"
    else:
        verdict = f"pass (fail on {report.fail_on})"
    return f"{report.api}: {counts}{tail}; operations: {operations} — {verdict}"


def render_text(report: Report) -> str:
    lines = [f"drift {report.api}"]
    lines += [f"  {f}" for f in report.findings]
    if report.ignored:
        lines.append("ignored:")
        lines += [f"  {f.rule} {f.operation} {f.path} — {e.reason}" for f, e in report.ignored]
    if report.errors:
        lines.append("errors (drift unknown for these):")
        lines += [f"  {e}" for e in report.errors]
    lines.append("operations:")
    lines += [f"  {o}" for o in report.operations]
    lines += [f"note: {e.describe()} matched nothing; remove it?" for e in report.unused]
    lines.append(_verdict(report))
    return "\n".join(lines) + "\n"


def _text(text: str) -> str:
    """Safe inside a Markdown table cell (server text may hold pipes and backticks)."""
    return text.replace("|", "\\|").replace("`", "'").replace("\n", " ")


def _value(value: Any) -> str:
    text = "" if value is None else json.dumps(value, sort_keys=True)
    return _text(text if len(text) <= _CELL else text[: _CELL - 1] + "…")


def render_markdown(report: Report) -> str:
    """For $GITHUB_STEP_SUMMARY and PR comments."""
    lines = [f"### API drift: {report.api}", ""]
    if report.findings:
        lines += ["| level | rule | operation | path | old → new | python surface |",
                  "|---|---|---|---|---|---|"]
        lines += [
            f"| {f.level} | `{f.rule}` | {_text(f.operation)} | `{_text(f.path)}` "
            f"| {_value(f.old)} → {_value(f.new)} | {'yes' if f.codegen else ''} |"
            for f in report.findings
        ]
        lines.append("")
    if report.ignored:
        lines.append(f"<details><summary>{len(report.ignored)} ignored</summary>\n")
        lines += [f"- `{f.rule}` {f.operation} `{f.path}`: {e.reason}" for f, e in report.ignored]
        lines += ["", "</details>", ""]
    if report.errors:
        lines += ["**Errors** (drift unknown for these):", ""]
        lines += [f"- {_text(str(e))}" for e in report.errors]
        lines.append("")
    if report.operations:
        lines += ["| operation | outcome | reason |", "|---|---|---|"]
        lines += [
            f"| {_text(o.operation)} | {o.outcome} | {_text(o.reason)}"
            + (f" — accepted by {_text(o.accepted_by.describe())}: {_text(o.accepted_by.reason)}"
               if o.accepted_by else "") + " |"
            for o in report.operations
        ]
        lines.append("")
    lines += [f"> note: {e.describe()} matched nothing" for e in report.unused]
    lines.append(f"**{_verdict(report)}**")
    return "\n".join(lines) + "\n"


def render(report: Report, fmt: Format) -> str:
    if fmt == "json":
        return json.dumps(report.to_json(), indent=2, sort_keys=True) + "\n"
    return render_markdown(report) if fmt == "markdown" else render_text(report)


# -- the command -----------------------------------------------------------------------------


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
