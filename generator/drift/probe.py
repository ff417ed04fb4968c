"""The contract probe: drift for an API that does not describe itself (`apigen drift` calls it
for an API without `schema_discovery`). Call every read-only operation (GET) inside one sandbox
and check each JSON answer against the response model's JSON Schema: keys the model lacks,
required keys missing, values of another JSON type and unknown enum values become findings, as
the drift check reports them; a binary answer is verified by arriving.

Never sends anything but GET (plus the token request), so it creates nothing on a live API. The
identifiers in paths are learned from the API's own answers: the IR says which GET operations'
response models carry a field of a path parameter's wire name (walking nested models and list
fields), so an operation runs after those that can supply its identifiers. An operation whose
identifiers no answer supplied, or that is refused, is skipped with the reason; `apigen drift`
makes a skip fail the run unless the ignore file accepts it."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

from generator.drift.findings import Finding, Level
from generator.drift.live import TIMEOUT, Credentials, TokenError, fetch_token
from generator.drift.redaction import redact
from generator.model.ir import PATH_PARAM, Api, Model, Operation, TypeRef
from generator.model.schema import validator_schema

# Identifier combinations tried per operation while they answer 404 (an attachment definition
# with no file yet, a data field without a custom list); keeps a run far below a 60/min limit.
MAX_TRIES = 10
_JSON_TYPES = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}
_REFUSED = (401, 403)

Path_ = tuple[str, ...]  # keys from an answer's root to a field; "[]" steps into list items


class ProbeError(RuntimeError):
    """The API could not be reached, authenticated or read: no verdict on drift."""


@dataclass
class ProbeReport:
    findings: list[Finding] = field(default_factory=list)
    verified: list[str] = field(default_factory=list)  # wire names answered and checked
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
        self.schema = validator_schema(api, op.response.model_name)
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


# -- where identifiers come from ------------------------------------------------------------


def _read_operations(api: Api) -> list[Operation]:
    """Every GET operation with an answer to check (JSON or a file)."""
    return [op for op in api.operations
            if op.method == "GET" and op.response.kind in ("json", "binary")]


def scope_parameters(api: Api) -> list[str]:
    """The path parameters every read operation with a path parameter takes (a program, a
    tenant): the probe is given their values, so that all its calls stay inside one sandbox."""
    param_sets = [PATH_PARAM.findall(op.path) for op in _read_operations(api)]
    param_sets = [params for params in param_sets if params]
    if not param_sets:
        return []
    return [p for p in param_sets[0] if all(p in params for params in param_sets)]


def _field_paths(model: Model, prefix: Path_, seen: frozenset[str]
                 ) -> Iterator[tuple[str, Path_]]:
    """(wire name, path) of every field reachable from `model`; a model already on the way
    down is not entered again (recursive models)."""
    for spec_field in model.fields:
        path = (*prefix, spec_field.wire_name)
        yield spec_field.wire_name, path
        yield from _type_paths(spec_field.type, path, seen)


def _type_paths(ref: TypeRef, path: Path_, seen: frozenset[str]) -> Iterator[tuple[str, Path_]]:
    if ref.kind == "list" and ref.item is not None:
        yield from _type_paths(ref.item, (*path, "[]"), seen)
    elif ref.kind == "union":
        for option in ref.options:
            yield from _type_paths(option, path, seen)
    elif ref.model is not None and ref.name not in seen:
        yield from _field_paths(ref.model, path, seen | {ref.name})
    # A map's keys are data, not field names: nothing under it names an identifier.


def identifier_sources(api: Api) -> dict[str, list[tuple[str, Path_]]]:
    """Path parameter wire name -> every (GET operation, path in its answer) of a field with
    the same wire name: where the probe learns that identifier's values."""
    wanted = {p for op in _read_operations(api) for p in PATH_PARAM.findall(op.path)}
    sources: dict[str, list[tuple[str, Path_]]] = {name: [] for name in wanted}
    for op in _read_operations(api):
        root = op.response.model
        if root is None:
            continue
        for name, path in _field_paths(root, (), frozenset({root.name})):
            if name in sources:
                sources[name].append((op.wire_name, path))
    return sources


def _values_at(document: Any, path: Path_) -> list[str]:
    nodes = [document]
    for key in path:
        if key == "[]":
            nodes = [item for node in nodes if isinstance(node, list) for item in node]
        else:
            nodes = [node[key] for node in nodes if isinstance(node, dict) and key in node]
    return [str(v) for v in nodes
            if isinstance(v, str | int) and not isinstance(v, bool) and str(v) != ""]


@dataclass(frozen=True)
class Learned:
    """An identifier value and the identifiers of the call whose answer gave it: an attachment
    id read from one project's data belongs with that project."""

    value: str
    context: tuple[tuple[str, str], ...] = ()


def identifier_combinations(params: list[str], learned: Mapping[str, list[Learned]]
            ) -> list[dict[str, str]]:
    """Identifier combinations to try, those whose values were learned together first; a
    value learned under another value of a shared parameter is not combined with it."""
    scored: dict[tuple[str, ...], int] = {}
    for picks in itertools.islice(itertools.product(*(learned[p] for p in params)), 1000):
        combo = dict(zip(params, (pick.value for pick in picks), strict=True))
        shared = [(k, v) for pick in picks for k, v in pick.context if k in combo]
        if all(combo[k] == v for k, v in shared):
            key = tuple(combo.values())
            scored[key] = max(scored.get(key, 0), len(shared))
    ranked = sorted(scored, key=lambda key: -scored[key])  # stable: answer order otherwise
    return [dict(zip(params, key, strict=True)) for key in ranked[:MAX_TRIES]]


# -- the run ---------------------------------------------------------------------------------


class _Session:
    def __init__(self, api: Api, http: httpx.Client, creds: Credentials, token: str) -> None:
        self.api, self.http, self.creds = api, http, creds
        self.headers = {"Authorization": f"Bearer {token}"}
        if api.api_key_header:
            self.headers[api.api_key_header] = creds.api_key
        self.secrets = (*creds.secrets(), token)
        self.answers: list[tuple[str, int]] = []  # (url, status) of every call, in order

    def get(self, op: Operation, values: Mapping[str, str]) -> tuple[int, Any]:
        """(status, parsed JSON or None) of a success, 401, 403 or 404; ProbeError otherwise."""
        assert op.method == "GET"  # the probe must never change the sandbox
        url = self.creds.base_url + self.api.base_path + PATH_PARAM.sub(
            lambda m: quote(values[m[1]], safe=""), op.path)  # ids are server data
        accept = "application/json" if op.response.kind == "json" else "*/*"
        try:
            response = self.http.get(url, headers={**self.headers, "Accept": accept})
        except httpx.HTTPError as exc:
            raise ProbeError(f"{op.wire_name}: request failed: {type(exc).__name__}") from None
        self.answers.append((url, response.status_code))
        if response.status_code in (*_REFUSED, 404):
            return response.status_code, None
        if not response.is_success:
            detail = redact(response.text, self.secrets)[:200]  # masked before it is cut
            raise ProbeError(f"{op.wire_name} answered HTTP {response.status_code}: {detail}")
        if op.response.kind != "json":
            return response.status_code, None
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
    pinned: Mapping[str, str],
    http: httpx.Client | None = None,
) -> ProbeReport:
    """Call every read-only operation whose identifiers earlier answers supplied, check the
    answers. ProbeError when there is no verdict, among others when every request answered
    404 (a wrong base URL reads as that, not as a clean run). `pinned` fixes identifiers
    (those of `scope_parameters`: the sandbox every call stays in), never learned."""
    creds = Credentials(base_url.rstrip("/"), token_url, client_id, client_secret, api_key)
    sources = identifier_sources(api)
    learned: dict[str, list[Learned]] = {name: [] for name in sources}
    for name, value in pinned.items():
        learned[name] = [Learned(value)]
        sources.pop(name, None)
    supplies: dict[str, set[str]] = {}  # operation -> the identifiers its answer carries
    for name, found in sources.items():
        for source, _ in found:
            supplies.setdefault(source, set()).add(name)
    report = ProbeReport()
    client = http or httpx.Client(timeout=TIMEOUT)
    try:
        try:
            token = fetch_token(client, creds, api)
        except TokenError as exc:
            raise ProbeError(str(exc)) from None
        session = _Session(api, client, creds, token)
        pending, refused = _read_operations(api), ""
        for op in list(pending):
            missing = [p.wire_name for p in op.params if p.required and p.location == "query"]
            if missing:  # the probe sends no query parameters: it has no values for them
                pending.remove(op)
                report.skipped.append((op.wire_name, "required query parameter(s) "
                                       f"{', '.join(missing)}: the probe has no value to send"))

        def waits_for(op: Operation) -> int:  # operations still to run that supply its ids
            needs = set(PATH_PARAM.findall(op.path))
            return sum(bool(supplies.get(o.wire_name, set()) & needs) for o in pending
                       if o is not op)

        while pending:
            ready = [o for o in pending if all(learned[p] for p in PATH_PARAM.findall(o.path))]
            if not ready:
                break
            op = min(ready, key=waits_for)
            pending.remove(op)
            if op.admin_only and refused:
                report.skipped.append((op.wire_name, f"not authorised (not called: {refused})"))
                continue
            status = _call(api, session, op, learned, sources, report)
            if op.admin_only and status in _REFUSED:  # the others would be refused too
                refused = f"the admin-only {op.wire_name} answered HTTP {status}"
        for op in pending:
            report.skipped.append((op.wire_name, _unlearned(op, learned, sources)))
    finally:
        if http is None:
            client.close()
    if not report.verified and session.answers and all(s == 404 for _, s in session.answers):
        raise ProbeError(f"every request answered HTTP 404: is the base URL {creds.base_url} "
                         f"right? first failing request: GET {session.answers[0][0]}")
    report.findings.sort(key=Finding.sort_key)
    return report


def _call(api: Api, session: _Session, op: Operation, learned: dict[str, list[Learned]],
          sources: Mapping[str, list[tuple[str, Path_]]], report: ProbeReport) -> int:
    """Try `op` with the learned identifiers until one combination answers; record the
    outcome and learn the identifiers its answer carries. Returns the last status."""
    params = PATH_PARAM.findall(op.path)
    combos = identifier_combinations(params, learned)
    status, document = 0, None
    for combo in combos:
        status, document = session.get(op, combo)
        if status != 404:
            break
    if status in _REFUSED:
        report.skipped.append((op.wire_name, f"not authorised (HTTP {status})"))
    elif status == 404:
        report.skipped.append((op.wire_name, f"HTTP 404 for each of the {len(combos)} "
                               f"identifier combination(s) tried ({', '.join(params)})"))
    else:
        report.verified.append(op.wire_name)
        if op.response.kind == "json":
            report.findings += check_answer(api, op, document)
            _learn(op, document, combo, sources, learned)
    return status


def _learn(op: Operation, document: Any, combo: Mapping[str, str],
          sources: Mapping[str, list[tuple[str, Path_]]], learned: dict[str, list[Learned]]
          ) -> None:
    context = tuple(combo.items())
    for name, found in sources.items():
        for source, path in found:
            if source != op.wire_name:
                continue
            for value in _values_at(document, path):
                item = Learned(value, context)
                if item not in learned[name]:
                    learned[name].append(item)


def _unlearned(op: Operation, learned: Mapping[str, list[Learned]],
               sources: Mapping[str, list[tuple[str, Path_]]]) -> str:
    """Why `op` could not be called: which identifiers no answer supplied, and from where
    they were to come."""
    reasons = []
    for name in dict.fromkeys(PATH_PARAM.findall(op.path)):
        if learned.get(name):
            continue
        found = sorted({source for source, _ in sources.get(name, []) if source != op.wire_name})
        reasons.append(f"{name} (no GET answer carries a field {name})" if not found else
                       f"{name} (none in the answers of {', '.join(found)})")
    return "identifiers not learned: " + "; ".join(reasons)
