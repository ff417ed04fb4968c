"""Emulator configuration: the API clients it knows and the knobs tests turn."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, fields

DEFAULT_PORT = 8400  # where `apigen emulator` and `make emulator` listen unless told otherwise


@dataclass(frozen=True)
class Client:
    """One account: its identity and secret (client id and secret, or username and password),
    the API key some APIs add, admin rights and MFA."""

    client_id: str
    client_secret: str
    api_key: str = ""
    is_admin: bool = False
    mfa_totp_secret: str | None = None  # set = MFA enabled for this account


@dataclass
class Settings:
    """Read on every request, so a test may change a field while the server runs."""

    rate_limit: int = 60  # operations per API key ...
    rate_window: float = 60.0  # ... per this many seconds (sliding window)
    send_retry_after: bool = False  # the real API documents no Retry-After header
    token_lifetime: int | None = None  # None: the spec's auth.token_lifetime_seconds
    token_path: str = "/connect/token"
    mfa_session_max_minutes: int = 24 * 60
    # Check every handler answer against the spec's response model (500 when it drifts).
    validate_responses: bool = True
    # Empty: the accounts of the API's emulator data (credentials in emulator.yaml).
    clients: tuple[Client, ...] = ()
    # APIs whose spec has a daily quota: calls per API user per UTC day.
    daily_quota: int = 15000
    # Bulk imports (spec batch_result): HTTP status of an answer with failed records, and the
    # form of `success` on success: "documented" (per operation, as the API's docs show it),
    # "boolean" or "string".
    partial_failure_status: int = 200
    success_form: str = "documented"
    upload_window: float = 300.0  # seconds a pre-signed upload URI stays valid
    base64_limit: int | None = None  # decoded bytes of a file in a JSON body; None: the spec's
    # Live answers that drift from the spec, for the contract probe: {wire_name: {"add":
    # {path: value}, "remove": [path], "retype": {path: value}}}, paths like
    # "Projects[].ProjectOwner.Email". A mutated answer skips validate_responses.
    response_mutations: dict[str, dict] = field(default_factory=dict)
    # Served (and, for requests, enforced) schema changes, to exercise enrichment and drift:
    # {wire_name: {"request"|"response": {"add": {path: schema}, "remove": [path],
    #  "retype": {path: type or schema}}}}; paths as in moves: "data[].header.note".
    schema_changes: dict[str, dict[str, dict]] = field(default_factory=dict)
    # Whole schemas served verbatim instead of the derived (and changed) one, to exercise any
    # drift: {wire_name: {"request"|"response": JSON Schema}}. A request replacement is also
    # enforced. A string is served as text/html, the way a proxy's error page would be.
    schema_replacements: dict[str, dict[str, dict | str]] = field(default_factory=dict)

    def token_route(self, declared_path: str) -> str:
        """The path of the emulator's token endpoint: the spec's token path when it names one,
        else `token_path`."""
        return declared_path or self.token_path

    def client_by_id(self, client_id: str) -> Client | None:
        return next((c for c in self.clients if c.client_id == client_id), None)

    def client_by_key(self, api_key: str) -> Client | None:
        return next((c for c in self.clients if c.api_key == api_key), None)

    def restore(self, saved: Settings) -> None:
        """Copy every field of `saved` into this (shared) instance."""
        for f in fields(self):
            setattr(self, f.name, copy.copy(getattr(saved, f.name)))
