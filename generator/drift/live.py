"""Talking to a live API for pull-schemas, drift and the probe: credentials from the
environment, the token request, pacing, one schema request and the progress bar.

Talks HTTP with httpx directly: the generator never imports a generated package. Credentials
come from environment variables only, so they never sit in shell history or process lists."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TextIO

import httpx

from generator.enrich import KINDS, DuplicateKey, Kind, inert_text, read_json
from generator.model.ir import PATH_PARAM, Api, Operation

# Stands in for every path parameter: a schema request must not touch a real record.
PLACEHOLDER = "00000000-0000-0000-0000-000000000000"
BAR_WIDTH = 20
TIMEOUT = 60.0


class MissingSetting(ValueError):
    """An environment variable the run needs is not set."""


class TokenError(RuntimeError):
    """The run cannot go on at all: no access token."""


class FetchError(ValueError):
    """One schema could not be fetched; `status` is the HTTP status when the server answered
    (drift tells a removed endpoint, 404/405, from a failure), `url` the request's address."""

    def __init__(self, message: str, status: int | None = None, url: str = ""):
        super().__init__(message)
        self.status, self.url = status, url


@dataclass(frozen=True)
class Credentials:
    """Where and as whom to call. `identity` is the username or client id."""

    base_url: str
    token_url: str
    identity: str
    secret: str = field(repr=False)
    api_key: str = field(default="", repr=False)

    def secrets(self) -> tuple[str, ...]:
        return tuple(s for s in (self.secret, self.api_key) if s)


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


def request_rate(api: Api, rate: float | None) -> float | None:
    """Requests per second: `rate` when given, else the spec's rate limit (None: no pacing)."""
    if rate is None and api.rate_limit is not None:
        return api.rate_limit.operations / api.rate_limit.per_seconds
    return rate


class Pacer:
    """At most `rate` requests per second, evenly spaced (no burst to trip a server limit)."""

    def __init__(self, rate: float | None):
        self.interval = 1 / rate if rate else 0.0
        self.next = 0.0

    def wait(self) -> None:
        now = time.monotonic()
        if now < self.next:
            time.sleep(self.next - now)
        self.next = max(now, self.next) + self.interval


def fetch_token(http: httpx.Client, creds: Credentials, api: Api) -> str:
    """An access token by the spec's grant; TokenError says why there is none."""
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
        raise TokenError(
            f"token request to {creds.token_url} failed: {type(exc).__name__}"
        ) from None
    if not response.is_success:
        raise TokenError(
            f"token request to {creds.token_url} answered HTTP {response.status_code}"
        )
    try:
        token = response.json()["access_token"]
    except (ValueError, KeyError, TypeError):
        token = None
    if not isinstance(token, str) or not token:
        raise TokenError(f"the token endpoint {creds.token_url} returned no access_token")
    return token


def schema_jobs(api: Api) -> list[tuple[Operation, Kind]]:
    """Only the kinds an operation has a JSON model for: nothing else could be enriched."""
    return [
        (op, kind)
        for op in api.operations
        for kind in KINDS
        if (op.body if kind == "request" else op.response).kind == "json"
    ]


def fetch_schema(
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


class Progress:
    """A one-line progress bar on `stream` (a terminal), redrawn in place."""

    def __init__(self, stream: TextIO, total: int):
        self.stream, self.total, self.width = stream, total, 0

    def show(self, done: int, label: str) -> None:
        filled = BAR_WIDTH * done // self.total if self.total else BAR_WIDTH
        line = f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done}/{self.total} {label}"
        self.stream.write("\r" + line.ljust(self.width))  # pad over a longer previous line
        self.stream.flush()
        self.width = len(line)

    def finish(self) -> None:
        self.show(self.total, "done")
        self.stream.write("\n")
