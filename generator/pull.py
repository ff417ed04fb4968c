"""`apigen pull-schemas <api>`: ask every operation for its request and response schema (the
spec's `schema_discovery` query flag) and store each answer, normalized, as
specs/<api>/schemas/<WireName>.<kind>.json for `generate` to merge (generator/enrich.py).

Talks HTTP with httpx directly: the generator never imports a generated package. Credentials
come from environment variables only, so they never sit in shell history or process lists."""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import httpx

from generator.enrich import KINDS, DuplicateKey, Kind, inert_text, read_json, schema_file
from generator.errors import SpecError
from generator.ir import PATH_PARAM, Api, Operation
from generator.pipeline import load_api
from generator.redaction import redact

# Stands in for every path parameter: a schema request must not touch a real record.
PLACEHOLDER = "00000000-0000-0000-0000-000000000000"
BAR_WIDTH = 20
TIMEOUT = 60.0


class MissingSetting(ValueError):
    """An environment variable the pull needs is not set."""


class PullError(RuntimeError):
    """The run cannot go on at all (no access token)."""


class FetchError(ValueError):
    """One schema could not be fetched; `status` is the HTTP status when the server answered
    (drift tells a removed endpoint, 404/405, from a failure), `url` the request's address."""

    def __init__(self, message: str, status: int | None = None, url: str = ""):
        super().__init__(message)
        self.status, self.url = status, url


@dataclass(frozen=True)
class Credentials:
    """Where and as whom to pull. `identity` is the username or client id."""

    base_url: str
    token_url: str
    identity: str
    secret: str = field(repr=False)
    api_key: str = field(default="", repr=False)

    def secrets(self) -> tuple[str, ...]:
        return tuple(s for s in (self.secret, self.api_key) if s)


@dataclass
class PullReport:
    stored: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # already on disk, not forced
    failed: list[tuple[str, str]] = field(default_factory=list)  # (file, why)

    @property
    def ok(self) -> bool:
        return not self.failed


def credentials_from_env(api: Api, environ: Mapping[str, str] = os.environ) -> Credentials:
    """`<API>_BASE_URL`, then `<API>_USERNAME`/`_PASSWORD` (password grant) or
    `<API>_CLIENT_ID`/`_CLIENT_SECRET`, and `<API>_API_KEY` when the API sends one.
    `<API>_TOKEN_URL` is needed only when neither the environments nor `token_path` say."""
    prefix = api.name.upper()

    def need(suffix: str, what: str) -> str:
        value = environ.get(f"{prefix}_{suffix}", "")
        if not value:
            raise MissingSetting(f"set the environment variable {prefix}_{suffix} ({what})")
        return value

    base_url = need("BASE_URL", "the API's base URL, without the base path").rstrip("/")
    env_token = next(
        (e.token_url for e in api.environments if e.base_url.rstrip("/") == base_url), ""
    )
    token_url = environ.get(f"{prefix}_TOKEN_URL", "") or env_token
    if not token_url and api.auth.token_path:
        token_url = base_url + api.auth.token_path
    if not token_url:
        token_url = need("TOKEN_URL", "the OAuth 2.0 token endpoint")
    if api.auth.kind == "oauth2_password":
        identity, secret = need("USERNAME", "API user"), need("PASSWORD", "its password or key")
    else:
        identity, secret = need("CLIENT_ID", "client id"), need("CLIENT_SECRET", "client secret")
    api_key = need("API_KEY", f"sent as {api.api_key_header}") if api.api_key_header else ""
    return Credentials(base_url, token_url, identity, secret, api_key)


class _Pacer:
    """At most `rate` requests per second, evenly spaced (no burst to trip a server limit)."""

    def __init__(self, rate: float | None):
        self.interval = 1 / rate if rate else 0.0
        self.next = 0.0

    def wait(self) -> None:
        now = time.monotonic()
        if now < self.next:
            time.sleep(self.next - now)
        self.next = max(now, self.next) + self.interval


def _token(http: httpx.Client, creds: Credentials, api: Api) -> str:
    form = (
        {"grant_type": "password", "username": creds.identity, "password": creds.secret}
        if api.auth.kind == "oauth2_password"
        else {
            "grant_type": "client_credentials",
            "client_id": creds.identity,
            "client_secret": creds.secret,
        }
    )
    try:
        response = http.post(creds.token_url, data=form, headers={"Accept": "application/json"})
    except httpx.HTTPError as exc:
        raise PullError(
            f"token request to {creds.token_url} failed: {type(exc).__name__}"
        ) from None
    if not response.is_success:
        raise PullError(f"token request to {creds.token_url} answered HTTP {response.status_code}")
    try:
        token = response.json()["access_token"]
    except (ValueError, KeyError, TypeError):
        token = None
    if not isinstance(token, str) or not token:
        raise PullError(f"the token endpoint {creds.token_url} returned no access_token")
    return token


def _jobs(api: Api) -> list[tuple[Operation, Kind]]:
    """Only the kinds an operation has a JSON model for: nothing else could be enriched."""
    return [
        (op, kind)
        for op in api.operations
        for kind in KINDS
        if (op.body if kind == "request" else op.response).kind == "json"
    ]


def _fetch(
    http: httpx.Client, api: Api, creds: Credentials, token: str, op: Operation, kind: Kind
) -> dict[str, Any]:
    """One schema as a JSON object; FetchError says why there is none."""
    assert api.schema_discovery is not None
    discovery = api.schema_discovery
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    if api.api_key_header:
        headers[api.api_key_header] = creds.api_key
    url = creds.base_url + api.base_path + PATH_PARAM.sub(PLACEHOLDER, op.path)
    try:
        response = http.request(
            op.method,
            url,
            params={discovery.flag: "true", discovery.kind: kind},
            headers=headers,
        )
    except httpx.HTTPError as exc:
        raise FetchError(f"request failed: {type(exc).__name__}") from None
    if not response.is_success:
        detail = inert_text(response.text)[:200]
        raise FetchError(
            f"HTTP {response.status_code}" + (f": {detail}" if detail else ""),
            response.status_code,
            f"{op.method} {url}",
        )
    try:
        payload = read_json(response.text)
    except DuplicateKey as exc:
        raise FetchError(f"the answer names a key twice, at {exc.path}") from None
    except (ValueError, RecursionError):
        raise FetchError("the answer is not JSON") from None
    if not isinstance(payload, dict):
        raise FetchError(f"the answer is a JSON {type(payload).__name__}, not an object")
    return payload


def _write_atomic(target: Path, text: str) -> None:
    handle, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _progress(stream: TextIO, done: int, total: int, label: str, width: list[int]) -> None:
    filled = BAR_WIDTH * done // total if total else BAR_WIDTH
    line = f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done}/{total} {label}"
    stream.write("\r" + line.ljust(width[0]))  # pad over a longer previous line
    stream.flush()
    width[0] = len(line)


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
    if rate is None and api.rate_limit is not None:
        rate = api.rate_limit.operations / api.rate_limit.per_seconds
    report = PullReport()
    jobs = _jobs(api)
    todo = []
    for op, kind in jobs:
        target = schema_file(out_dir, op.wire_name, kind)
        if target.exists() and not force:
            report.skipped.append(target.name)
        else:
            todo.append((op, kind, target))
    if not todo:
        return report
    pacer, width = _Pacer(rate), [0]
    secrets = credentials.secrets()
    with httpx.Client(timeout=TIMEOUT, transport=transport) as http:
        pacer.wait()
        token = _token(http, credentials, api)
        secrets = (*secrets, token)
        out_dir.mkdir(parents=True, exist_ok=True)
        for done, (op, kind, target) in enumerate(todo):
            _progress(progress, done, len(todo), target.stem, width)
            pacer.wait()
            try:
                payload = _fetch(http, api, credentials, token, op, kind)
            except ValueError as exc:
                report.failed.append((target.name, redact(str(exc), secrets)))
                continue
            _write_atomic(target, json.dumps(payload, sort_keys=True, indent=2) + "\n")
            report.stored.append(target.name)
        _progress(progress, len(todo), len(todo), "done", width)
        progress.write("\n")
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
    except PullError as exc:
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
