"""`apigen probe <api>`: drift for an API that does not describe itself. Call the read-only
operations (GET with a JSON answer) of a sandbox program and check each live answer against
the response model's JSON Schema: keys the model lacks, required keys missing, values of
another JSON type and unknown enum values become findings, as the drift check reports them.

Never sends anything but GET (plus the token request): path parameters come from earlier
answers, so an operation whose parameters no answer has supplied is skipped, not guessed."""

from __future__ import annotations

import datetime as dt
import itertools
import os
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import quote

import httpx

from generator.drift import (
    EXIT_ERROR,
    FORMATS,
    ConfigError,
    Format,
    apply_ignores,
    load_ignores,
    render,
)
from generator.errors import SpecError
from generator.findings import LEVELS, Finding, Level
from generator.ir import PATH_PARAM, Api, Operation
from generator.pipeline import load_api
from generator.pull import (
    Credentials,
    MissingSetting,
    PullError,
    _redact,
    _token,
    credentials_from_env,
)
from generator.schema import validator_schema

TIMEOUT = 60.0
# Values tried per operation when the first ones answer 404 (an attachment definition with no
# file yet, a data field without a custom list); keeps the run far below a 60/min rate limit.
MAX_TRIES = 3
_JSON_TYPES = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}


class ProbeError(RuntimeError):
    """The API could not be reached, authenticated or read: no verdict on drift."""


@dataclass
class ProbeReport:
    findings: list[Finding] = field(default_factory=list)
    called: list[str] = field(default_factory=list)  # wire names answered and checked
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (wire name, why)


def _json_type(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return "integer"
    if isinstance(value, float):
        return "number"
    return _JSON_TYPES.get(type(value), type(value).__name__)


def _accepts(schema_type: str, actual: str) -> bool:
    return schema_type == actual or (schema_type == "number" and actual == "integer")


class _Checker:
    """Walks one answer alongside the model's schema; `$ref`s name the model in scope so that
    enums (which response schemas leave out to stay tolerant) come from the IR."""

    def __init__(self, api: Api, op: Operation) -> None:
        self.api, self.op = api, op
        self.schema = validator_schema(api, op.response.model)
        self.findings: dict[tuple[str, str], Finding] = {}  # (rule, path): first seen

    def _add(self, rule: str, level: Level, path: str, old: Any, new: Any, codegen: bool,
             message: str) -> None:
        self.findings.setdefault((rule, path), Finding(
            rule, level, "response", self.op.wire_name, path, old, new, codegen, message))

    def check(self, node: dict[str, Any], value: Any, path: str, model: str = "",
              prop: str = "") -> None:
        if "$ref" in node:
            model = node["$ref"].rsplit("/", 1)[-1]
            node = self.schema["$defs"][model]
        if "anyOf" in node:
            branch = next((b for b in node["anyOf"] if self._fits(b, value)), None)
            if branch is None:
                self._mismatch(node, value, path)
            else:
                self.check(branch, value, path, model, prop)
            return
        expected = node.get("type")
        if expected and not _accepts(expected, _json_type(value)):
            self._mismatch(node, value, path)
        elif expected == "object":
            self._object(node, value, path, model)
        elif expected == "array":
            for item in value:  # a list field's enum lists its items' values
                self.check(node["items"], item, f"{path}[]", model, prop)
        elif model and prop and value is not None:
            self._enum(model, prop, value, path)

    def _fits(self, node: dict[str, Any], value: Any) -> bool:
        while "$ref" in node:
            node = self.schema["$defs"][node["$ref"].rsplit("/", 1)[-1]]
        if "anyOf" in node:
            return any(self._fits(b, value) for b in node["anyOf"])
        return "type" not in node or _accepts(node["type"], _json_type(value))

    def _object(self, node: dict[str, Any], value: dict[str, Any], path: str, model: str) -> None:
        properties = node.get("properties", {})
        for name in node.get("required", []):
            if name not in value:
                self._add("response-required-property-missing", "breaking", f"{path}.{name}",
                          "required", None, True,
                          f"{model or 'the model'} requires {name}; the live answer omits it")
        extra = node.get("additionalProperties")
        for name, item in value.items():
            if name in properties:
                self.check(properties[name], item, f"{path}.{name}", model, name)
            elif isinstance(extra, dict):  # a map: its keys are data, not fields
                self.check(extra, item, f"{path}.*")
            else:
                self._add("response-property-unknown", "non-breaking", f"{path}.{name}", None,
                          _json_type(item), True,
                          f"{model or 'the model'} has no field {name}; the generated model "
                          "drops it")

    def _mismatch(self, node: dict[str, Any], value: Any, path: str) -> None:
        self._add("response-property-type-mismatch", "breaking", path, _describe(node),
                  _json_type(value), True, "the live value does not parse as the model's type")

    def _enum(self, model: str, prop: str, value: Any, path: str) -> None:
        spec_field = self.api.model(model).field(prop)  # $defs hold exactly the IR's models
        if spec_field and spec_field.enum and value not in spec_field.enum:
            self._add("response-property-enum-value-unknown", "potentially-breaking", path,
                      list(spec_field.enum), value, False,
                      f"{value!r} is not among the documented values")


def _describe(node: dict[str, Any]) -> str:
    """The type a schema node expects, for a finding's `old` ('string|null', 'ProjectOwner')."""
    if "$ref" in node:
        return str(node["$ref"].rsplit("/", 1)[-1])
    if "anyOf" in node:
        return "|".join(_describe(b) for b in node["anyOf"])
    return str(node.get("type", "any"))


def check_answer(api: Api, op: Operation, document: Any) -> list[Finding]:
    """Findings for one live answer of `op`, one per (rule, path)."""
    checker = _Checker(api, op)
    checker.check(checker.schema, document, "$")
    return list(checker.findings.values())


def _harvest(document: Any, names: set[str], into: dict[str, list[str]]) -> None:
    """Every string value under a key named like a path parameter, in document order."""
    if isinstance(document, dict):
        for key, value in document.items():
            if key in names and isinstance(value, str) and value and value not in into[key]:
                into[key].append(value)
            _harvest(value, names, into)
    elif isinstance(document, list):
        for item in document:
            _harvest(item, names, into)


def _probed(api: Api) -> list[Operation]:
    """The read-only JSON operations, those with fewer path parameters first."""
    ops = [op for op in api.operations if op.method == "GET" and op.response.kind == "json"]
    return sorted(ops, key=lambda op: (len(PATH_PARAM.findall(op.path)), op.wire_name))


class _Session:
    def __init__(self, api: Api, http: httpx.Client, creds: Credentials, token: str) -> None:
        self.api, self.http, self.creds = api, http, creds
        self.headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        if api.api_key_header:
            self.headers[api.api_key_header] = creds.api_key
        self.secrets = (*creds.secrets(), token)

    def get(self, op: Operation, values: Mapping[str, str]) -> tuple[int, Any]:
        """(status, parsed JSON) of a success, 403 or 404; ProbeError for anything else."""
        assert op.method == "GET"  # the probe must never change the sandbox
        url = self.creds.base_url + self.api.base_path + PATH_PARAM.sub(
            lambda m: quote(values[m[1]], safe=""), op.path)  # ids are server data
        try:
            response = self.http.get(url, headers=self.headers)
        except httpx.HTTPError as exc:
            raise ProbeError(f"{op.wire_name}: request failed: {type(exc).__name__}") from None
        if response.status_code in (403, 404):
            return response.status_code, None
        if not response.is_success:
            detail = _redact(response.text[:200], self.secrets)
            raise ProbeError(f"{op.wire_name} answered HTTP {response.status_code}: {detail}")
        try:
            return response.status_code, response.json()
        except ValueError:
            raise ProbeError(f"{op.wire_name} answered a body that is not JSON") from None


def run_probe(
    api: Api,
    *,
    base_url: str,
    token_url: str,
    client_id: str,
    client_secret: str,
    api_key: str,
    program_id: str | None,
    http: httpx.Client | None = None,
) -> ProbeReport:
    """Call every read-only JSON operation that earlier answers can fill, check the answers."""
    creds = Credentials(base_url.rstrip("/"), token_url, client_id, client_secret, api_key)
    names = {p.wire_name for op in api.operations for p in op.params_in("path")}
    values: dict[str, list[str]] = {name: [] for name in names}
    pinned = {"ProgramId": [program_id]} if program_id else {}  # stay inside the sandbox
    report = ProbeReport()
    client = http or httpx.Client(timeout=TIMEOUT)
    try:
        try:
            token = _token(client, creds, api)
        except PullError as exc:
            raise ProbeError(str(exc)) from None
        session = _Session(api, client, creds, token)
        pending, admin_denied = _probed(api), False
        while pending:
            op = next((o for o in pending if all(
                (pinned | values).get(p) for p in PATH_PARAM.findall(o.path))), None)
            if op is None:
                break
            pending.remove(op)
            if op.admin_only and admin_denied:
                report.skipped.append((op.wire_name, "admin only; an earlier one was refused"))
                continue
            status, document = 0, None
            for combo in _combos(op, pinned | values):
                status, document = session.get(op, combo)
                if status != 404:
                    break
            if status == 403:
                admin_denied = admin_denied or op.admin_only
                report.skipped.append((op.wire_name, "HTTP 403: not allowed for these credentials"))
            elif status == 404:
                report.skipped.append((op.wire_name, "HTTP 404 for every value tried"))
            else:
                report.called.append(op.wire_name)
                report.findings += check_answer(api, op, document)
                _harvest(document, names, values)
        for op in pending:
            missing = [p for p in PATH_PARAM.findall(op.path) if not (pinned | values).get(p)]
            report.skipped.append((op.wire_name, f"no answer supplied {', '.join(missing)}"))
    finally:
        if http is None:
            client.close()
    report.findings.sort(key=Finding.sort_key)
    return report


def _combos(op: Operation, values: Mapping[str, list[str]]) -> Iterator[dict[str, str]]:
    params = PATH_PARAM.findall(op.path)
    for combo in itertools.islice(itertools.product(*(values[p] for p in params)), MAX_TRIES):
        yield dict(zip(params, combo, strict=True))


def probe(
    api: Api,
    *,
    base_url: str,
    token_url: str,
    client_id: str,
    client_secret: str,
    api_key: str,
    program_id: str | None,
    http: httpx.Client | None = None,
) -> list[Finding]:
    """The findings of one probe run (see run_probe); ProbeError when there is no verdict."""
    return run_probe(api, base_url=base_url, token_url=token_url, client_id=client_id,
                     client_secret=client_secret, api_key=api_key, program_id=program_id,
                     http=http).findings


def probe_command(
    specs: Path,
    api_name: str,
    *,
    fail_on: Level = "breaking",
    fmt: Format = "text",
    ignore_file: Path | None = None,
    environ: Mapping[str, str] = os.environ,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
    today: dt.date | None = None,
) -> int:
    """The whole `apigen probe` command, reported as `apigen drift` reports (ignore file, text,
    markdown or JSON); its exit status: 0 no finding at or above `fail_on`, 1 some, 2 a spec or
    setting problem or the API could not be reached, authenticated or read. Settings:
    <API>_BASE_URL, _TOKEN_URL, _CLIENT_ID, _CLIENT_SECRET, _API_KEY and _PROGRAM_ID (the
    sandbox program every call stays in)."""
    if fail_on not in LEVELS or fmt not in FORMATS:
        print(f"apigen probe: --fail-on is one of {LEVELS}, --format one of {FORMATS}", file=err)
        return EXIT_ERROR
    try:
        entries = load_ignores(ignore_file) if ignore_file else []
        api = load_api(specs / api_name)
        creds = credentials_from_env(api, environ)
        program_var = f"{api.name.upper()}_PROGRAM_ID"
        program_id = environ.get(program_var, "")
        if not program_id:
            raise MissingSetting(f"set the environment variable {program_var} (sandbox program)")
        result = run_probe(api, base_url=creds.base_url, token_url=creds.token_url,
                           client_id=creds.identity, client_secret=creds.secret,
                           api_key=creds.api_key, program_id=program_id)
    except SpecError as exc:
        for problem in exc.problems:
            print(problem, file=err)
        return EXIT_ERROR
    except (ConfigError, MissingSetting, ProbeError, OSError) as exc:
        print(f"apigen probe: {exc}", file=err)
        return EXIT_ERROR
    for wire_name, why in result.skipped:
        print(f"apigen probe: skipped {wire_name}: {why}", file=err)
    report = apply_ignores(api.name, fail_on, result.findings, entries, [],
                           today or dt.date.today())
    report.compared = len(result.called)
    out.write(render(report, fmt))
    return report.exit_code()
