"""Run schemathesis (`st run`, all checks) against a running emulator with the exported
`generated/<api>/openapi.json`, and read its NDJSON report back as a list of failures.

The CLI runs in a subprocess, so the fuzzer and the emulator (a thread of this process) each have
a core; the run is deterministic (fixed seed, derandomized generation, no example database, one
worker). Checks are switched off per operation only by `exclusions.yaml`, each with its reason."""

from __future__ import annotations

import base64
import json
import os
import shlex
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from emulator.server import EmulatorServer
from emulator.settings import Client

ROOT = Path(__file__).resolve().parents[2]
EXCLUSIONS = Path(__file__).with_name("exclusions.yaml")
ST = Path(sys.executable).with_name("st")  # the schemathesis CLI of this interpreter's venv
# Every check `--checks all` would run (schemathesis 4.32.5); exclusions may name only these.
CHECKS = frozenset({
    "not_a_server_error", "status_code_conformance", "content_type_conformance",
    "response_headers_conformance", "response_schema_conformance", "negative_data_rejection",
    "positive_data_acceptance", "missing_required_header", "unsupported_method",
    "allow_header_conformance", "use_after_free", "ensure_resource_availability",
    "ignored_auth", "object_level_authorization",
})
_MAX_SHOWN = 600  # characters of a request or response body in a failure message


@dataclass(frozen=True)
class Exclusion:
    api: str
    operation: str  # operationId
    check: str
    reason: str


def load_exclusions(path: Path = EXCLUSIONS) -> list[Exclusion]:
    """The exclusions file, checked: each entry names an API, operation, check and a reason."""
    entries = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    if not isinstance(entries, list):
        raise ValueError(f"{path.name}: expected a list of exclusions")
    out = []
    for i, entry in enumerate(entries):
        where = f"{path.name} entry {i + 1}"
        keys = {"api", "operation", "check", "reason"}
        if not isinstance(entry, dict) or set(entry) != keys:
            raise ValueError(f"{where}: needs exactly the keys {sorted(keys)}")
        if entry["check"] not in CHECKS:
            raise ValueError(f"{where}: unknown check {entry['check']!r}")
        if not str(entry["reason"]).strip():
            raise ValueError(f"{where}: the reason is empty")
        out.append(Exclusion(**{k: str(v) for k, v in entry.items()}))
    return out


@dataclass(frozen=True)
class Failure:
    """One distinct failure: an operation, the check that failed and the exchange that shows it."""

    operation: str  # "METHOD /path" as in the OpenAPI document
    check: str
    title: str
    message: str
    request: str  # curl-like, credentials left out
    status: int | None
    response: str

    def __str__(self) -> str:
        return (f"{self.operation} — {self.check}: {self.title}\n"
                f"  {self.message.strip().replace(chr(10), chr(10) + '  ')}\n"
                f"  request : {self.request}\n"
                f"  response: {self.status} {self.response}")


@dataclass
class RunResult:
    api: str
    exit_code: int
    failures: list[Failure]
    test_cases: int
    seconds: float
    output: str  # the CLI's own text, for what the report does not say (a crash, a bad config)
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        by_check: dict[str, int] = {}
        for failure in self.failures:
            by_check[failure.check] = by_check.get(failure.check, 0) + 1
        checks = ", ".join(f"{name} {count}" for name, count in sorted(by_check.items()))
        return (f"{self.api}: {len(self.failures)} distinct failure(s) in {self.test_cases} test "
                f"cases, {self.seconds:.0f} s" + (f" ({checks})" if checks else ""))

    def report(self) -> str:
        """What a failing test says: the summary, then each failure with its exchange."""
        lines = [self.summary(), ""]
        lines += [f"{i}. {failure}\n" for i, failure in enumerate(self.failures, 1)]
        if not self.failures and self.exit_code != 0:
            lines.append(f"st exited {self.exit_code} without a failure in its report:\n"
                         + self.output[-3000:])
        return "\n".join(lines)


# -- authentication --------------------------------------------------------------------------


def _token(server: EmulatorServer, grant: dict[str, str]) -> str:
    response = httpx.post(server.token_url, data=grant, timeout=30)
    response.raise_for_status()
    return str(response.json()["access_token"])


def _account(server: EmulatorServer) -> Client:
    """An admin account without MFA where the emulator has one (some operations are for admins
    only; MFA would need a fresh one-time password on every call), else any without MFA."""
    plain = [c for c in server.settings.clients if not c.mfa_totp_secret]
    if not plain:
        raise ValueError("the emulator has no account without MFA to run the contract test as")
    return next((c for c in plain if c.is_admin), plain[0])


def auth_config(server: EmulatorServer, document: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Credentials for each security scheme of the document (`auth.openapi` of the config): a
    token from the emulator's token endpoint, by the flow the document names, and the API key."""
    account = _account(server)
    out: dict[str, dict[str, str]] = {}
    for name, scheme in document["components"]["securitySchemes"].items():
        flows = scheme.get("flows", {})
        if scheme["type"] == "oauth2" and "clientCredentials" in flows:
            out[name] = {"bearer": _token(server, {
                "grant_type": "client_credentials", "client_id": account.client_id,
                "client_secret": account.client_secret})}
        elif scheme["type"] == "oauth2" and "password" in flows:  # the secret is the password
            out[name] = {"bearer": _token(server, {
                "grant_type": "password", "username": account.client_id,
                "password": account.client_secret})}
        elif scheme["type"] == "apiKey":
            out[name] = {"api_key": account.api_key}
        else:
            raise ValueError(f"no credentials for security scheme {name!r} ({scheme['type']})")
    return out


# -- the schemathesis configuration ----------------------------------------------------------


def _toml(value: Any) -> str:
    return json.dumps(value) if not isinstance(value, bool) else str(value).lower()


def config_text(
    auth: dict[str, dict[str, str]], exclusions: Iterable[Exclusion], *, seed: int,
    max_examples: int, max_steps: int, continue_on_failure: bool,
) -> str:
    """A schemathesis.toml; exclusions become per-operation `checks.<name>.enabled = false`."""
    lines = [
        f"seed = {seed}", "workers = 1", "color = false",
        f"continue-on-failure = {_toml(continue_on_failure)}",
        "[generation]", f"max-examples = {max_examples}", "deterministic = true",
        'database = "none"',
        "[phases.stateful]", f"max-steps = {max_steps}",
        # Every check on, here and not with `--checks all`: that flag would also override the
        # per-operation exclusions below.
        "[checks]", *(f"{check}.enabled = true" for check in sorted(CHECKS)),
    ]
    for scheme, values in auth.items():
        lines.append(f"[auth.openapi.{scheme}]")
        lines += [f"{key} = {_toml(value)}" for key, value in values.items()]
    by_operation: dict[str, list[str]] = {}
    for exclusion in exclusions:
        by_operation.setdefault(exclusion.operation, []).append(exclusion.check)
    for operation, checks in by_operation.items():
        lines += ["[[operations]]", f"include-operation-id = {_toml(operation)}"]
        lines += [f"checks.{check}.enabled = false" for check in checks]
    return "\n".join(lines) + "\n"


# -- reading the NDJSON report ---------------------------------------------------------------


def _text(payload: dict[str, str] | None) -> str:
    if not payload:
        return ""
    raw = base64.b64decode(payload.get("$base64", "")) if "$base64" in payload else b""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return f"<{len(raw)} bytes, not text>"
    return text if len(text) <= _MAX_SHOWN else text[:_MAX_SHOWN] + "…"


def _curl(request: dict[str, Any]) -> str:
    headers = request.get("headers", {})
    parts = ["curl", "-X", request.get("method", "?")]
    for name, values in headers.items():
        if name.lower() in ("content-type", "accept"):
            parts += ["-H", f"{name}: {values[0]}"]
    body = _text(request.get("body"))
    if body:
        parts += ["-d", body]
    parts.append(request.get("uri", "?"))
    return shlex.join(parts) + "  # plus the auth headers"


def _events(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                yield json.loads(line)


def read_report(path: Path) -> tuple[list[Failure], int]:
    """Distinct failures (one per operation and check, the first seen) and the number of test
    cases. Messages vary with the generated data (the method tried, the field broken), so they
    do not make a failure distinct."""
    failures: dict[tuple[str, str], Failure] = {}
    cases = 0
    for event in _events(path):
        scenario = event.get("ScenarioFinished")
        if not scenario:
            continue
        recorder = scenario["recorder"]
        cases += len(recorder.get("cases", {}))
        for case_id, checks in recorder.get("checks", {}).items():
            for check in checks:
                if check["status"] != "failure":
                    continue
                info = check["failure_info"]["failure"]
                key = (info["operation"], check["name"])
                if key in failures:
                    continue
                exchange = recorder.get("interactions", {}).get(case_id) or {}
                response = exchange.get("response") or {}
                failures[key] = Failure(
                    operation=info["operation"], check=check["name"], title=info["title"],
                    message=info["message"], request=_curl(exchange.get("request") or {}),
                    status=response.get("status_code"), response=_text(response.get("content")),
                )
    return sorted(failures.values(), key=lambda f: (f.operation, f.check, f.message)), cases


# -- one run ---------------------------------------------------------------------------------


def run_schemathesis(
    server: EmulatorServer, api: str, workdir: Path, *, exclusions: Iterable[Exclusion] = (),
    seed: int = 1, max_examples: int = 10, max_steps: int = 10, continue_on_failure: bool = True,
    timeout: float = 900,
) -> RunResult:
    """`st run` with all checks on every phase against `server`; returns what it found. With
    `continue_on_failure` an operation's other failures are looked for after its first."""
    openapi = ROOT / "generated" / api / "openapi.json"
    document = json.loads(openapi.read_text(encoding="utf-8"))
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "schemathesis.toml"
    config.write_text(config_text(auth_config(server, document), exclusions, seed=seed,
                                  max_examples=max_examples, max_steps=max_steps,
                                  continue_on_failure=continue_on_failure),
                      encoding="utf-8")
    report = workdir / "report.ndjson"
    command = [
        str(ST), "--config-file", str(config), "run", str(openapi), "--url", server.api_url,
        "--report", "ndjson", "--report-ndjson-path", str(report),
    ]
    env = {**os.environ, "NO_COLOR": "1"}
    started = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=workdir,
                          env=env, check=False)
    seconds = time.monotonic() - started
    output = done.stdout + done.stderr
    if not report.exists():
        raise RuntimeError(f"schemathesis wrote no report (exit {done.returncode}):\n{output}")
    failures, cases = read_report(report)
    return RunResult(api, done.returncode, failures, cases, seconds, output,
                     _warnings(output))


def _warnings(output: str) -> list[str]:
    """The CLI's warning lines (`⚠️ ...`), e.g. operations that only answered 404."""
    return [line.strip() for line in output.splitlines() if line.strip().startswith("⚠")]
