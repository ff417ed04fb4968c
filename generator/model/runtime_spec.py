"""The static description of an API that the client runs on: the registry (`_operations.py`)
instantiates these classes and the engine reads them. The generator builds its own model of the
API with these very classes, so the two cannot disagree; that is why this module imports nothing
but the standard library.

A field marked `MODEL_ONLY` (provenance, prose, a model name) serves the generator: the registry
leaves it out, so in a package it keeps its default."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

MODEL_ONLY = "model_only"  # the key of a field's metadata


def _model_only(default: str) -> str:
    return field(default=default, metadata={MODEL_ONLY: True})


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
    """Where a request value lives: a body path (`options.processPrefix`) or a parameter, by
    wire name."""

    location: Literal["body", "path", "query", "header"]
    path: str

    def __str__(self) -> str:
        return self.path if self.location == "body" else f"{self.location} {self.path}"


@dataclass(frozen=True, slots=True)
class Requirement:
    """At least one of these places must hold a value (not null, not empty text)."""

    one_of: tuple[Place, ...]
    confidence: str = _model_only("documented")
    source: str = _model_only("")

    def __str__(self) -> str:
        return " or ".join(map(str, self.one_of)) + ": one is required"


@dataclass(frozen=True, slots=True)
class Pagination:
    limit_param: str  # wire names of the query parameters
    offset_param: str
    max_page: int
    items: str  # wire name of the list field in the page JSON
    items_attr: str  # its python attribute on the response model


@dataclass(frozen=True, slots=True)
class Batch:
    """A body whose `records` list a bulk helper may split, repeating the `keep` fields."""

    records: str  # wire name of the body's list of records
    keep: tuple[str, ...] = ()  # body fields repeated in every batch
    record_model: str = _model_only("")  # a record's model


@dataclass(frozen=True, slots=True)
class FileField:
    """A file carried inside a JSON body (base64), with its size limit."""

    field: str  # wire name of the body field carrying the file
    encoding: Literal["base64"]
    max_bytes: int  # decoded size
    name_field: str = ""  # body field taking the file's name; "" = none


@dataclass(frozen=True, slots=True)
class PresignedUpload:
    """Where the answer of a create call says how to upload the file itself (dotted wire paths
    into it), and the request fields filled from the file."""

    uri: str
    headers: str
    method: str = ""
    expires_at: str = ""
    size_field: str = ""
    name_field: str = ""


@dataclass(frozen=True, slots=True)
class BatchResultShape:
    """Wire names of the parts of a batch answer (the spec's `batch_result`)."""

    success: str
    records: str
    record_errors: str
    messages: str = ""
    support_id: str = ""
    error_description: str = ""


@dataclass(frozen=True, slots=True)
class ErrorShape:
    """Wire names of the parts of an error answer, and the headers that carry a request id."""

    message_fields: tuple[str, ...] = ()  # JSON keys holding the message, in order
    detail_fields: tuple[str, ...] = ()  # JSON keys holding the list of error details
    id_fields: tuple[str, ...] = ()  # JSON keys holding a request or support id
    id_headers: tuple[str, ...] = ()  # response headers holding one


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
    file: FileField | None = None
    presigned_upload: PresignedUpload | None = None
    requires: tuple[Requirement, ...] = ()


@dataclass(frozen=True, slots=True)
class Environment:
    name: str
    base_url: str
    token_url: str = ""  # "" = base_url + ApiConfig.token_path
    description: str = _model_only("")


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
    errors: ErrorShape
    batch_result: BatchResultShape | None = None
    env_prefix: str = ""  # environment variables are <env_prefix>_<ARGUMENT>
