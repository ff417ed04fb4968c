"""The verdict of `apigen drift`: the ignore file applied to a check's result, each
operation's outcome (verified, skipped or failed), the exit status, and the report as text,
Markdown or JSON (that one described by drift-report.schema.json beside this module)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any, Literal

from generator.drift.check import DriftResult, FetchFailure
from generator.drift.findings import LEVELS, Finding, Level, at_least
from generator.drift.ignores import IgnoreEntry

Format = Literal["text", "markdown", "json"]
FORMATS: tuple[Format, ...] = ("text", "markdown", "json")
REPORT_VERSION = 2
EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
Outcome = Literal["verified", "skipped", "failed"]
_CELL = 60  # longest old/new value shown in a Markdown cell


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

