"""Static description of an API, instantiated by the generated code and read by the engine."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True, slots=True)
class Param:
    python_name: str
    wire_name: str
    location: Literal["path", "query", "header"]
    required: bool
    pattern: str = ""  # the text of a value must match (checked before sending)
    format: str = ""  # the format the pattern stands for, named in the error
    min_length: int = 0
    mfa_when_true: bool = False  # sending it as true needs MFA


@dataclass(frozen=True, slots=True)
class Place:
    """A body path (a.b) or a parameter, by wire name."""

    location: Literal["body", "path", "query", "header"]
    path: str

    def __str__(self) -> str:
        return self.path if self.location == "body" else f"{self.location} {self.path}"


@dataclass(frozen=True, slots=True)
class Requirement:
    one_of: tuple[Place, ...]  # at least one must hold a value


@dataclass(frozen=True, slots=True)
class Pagination:
    limit_param: str  # wire names of the query parameters
    offset_param: str
    max_page: int
    items: str  # wire name of the list field in the page JSON
    items_attr: str  # its python attribute on the response model


@dataclass(frozen=True, slots=True)
class Batch:
    records: str  # wire name of the body's list of records, which a bulk helper splits
    keep: tuple[str, ...]  # body fields repeated in every batch


@dataclass(frozen=True, slots=True)
class FileLimit:
    field: str  # wire name of the body field carrying the file
    encoding: Literal["base64"]
    max_bytes: int  # decoded size
    name_field: str  # "" = none


@dataclass(frozen=True, slots=True)
class Presigned:
    """Dotted wire paths into a create call's answer, and request fields filled from the file."""

    uri: str
    headers: str
    method: str
    expires_at: str
    size_field: str
    name_field: str


@dataclass(frozen=True, slots=True)
class BatchShape:
    """Wire names of the parts of a batch answer."""

    success: str
    records: str
    record_errors: str
    messages: str
    support_id: str
    error_description: str


@dataclass(frozen=True, slots=True)
class Operation:
    wire_name: str
    python_name: str
    resource: str
    method: str
    path: str  # template with {WireName} placeholders, relative to ApiConfig.base_path
    params: tuple[Param, ...]
    body: Literal["json", "binary", "none"]
    body_content_type: str
    request_model: str
    response: Literal["json", "binary", "none"]
    response_model: str
    idempotent: bool
    admin_only: bool
    mfa: Literal["if_enabled", "required"]
    deprecated: str  # "" = not deprecated, otherwise the reason
    confidence: Literal["documented", "inferred"]
    source: str
    pagination: Pagination | None
    v1_wire_name: str
    v1_path: str
    batch: Batch | None = None
    file: FileLimit | None = None
    presigned: Presigned | None = None
    requires: tuple[Requirement, ...] = ()


@dataclass(frozen=True, slots=True)
class Environment:
    name: str
    base_url: str
    token_url: str  # "" = base_url + ApiConfig.token_path


@dataclass(frozen=True, slots=True)
class ApiConfig:
    name: str
    title: str
    version: str
    base_path: str
    environments: Mapping[str, Environment]
    auth_kind: Literal["oauth2_client_credentials", "oauth2_password"]
    token_path: str
    token_lifetime: float  # seconds, when the token response lacks expires_in
    refresh_margin: float  # refresh this many seconds before expiry
    api_key_header: str  # "" = no API key header
    mfa_otp_header: str  # "" = no MFA support
    mfa_session_header: str
    rate_limit_operations: int | None
    rate_limit_seconds: float
    rate_limit_status: int
    quota_status: int  # 0 = none; a quota response is never retried
    default_content_type: str
    error_message_fields: tuple[str, ...]  # JSON error body keys holding a message, in order
    batch_result: BatchShape | None = None
