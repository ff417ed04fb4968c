"""The model of an API: plain frozen data, linked (a reference to a model is the `Model`
object itself). Built from validated spec documents by `generator.model.build`; it knows
nothing of YAML positions or templates."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from generator.model.runtime_spec import (  # the classes the model shares with the client
    Batch,
    BatchResultShape,
    Environment,
    ErrorShape,
    FileField,
    PresignedUpload,
    Requirement,
)
from generator.model.scalars import SCALARS

_TYPE = re.compile(r"^(list|map)\[(.*)\]$")
PATH_PARAM = re.compile(r"\{([A-Za-z][A-Za-z0-9]*)\}")


def key_fold(case_insensitive: bool) -> Callable[[str], str]:
    """How a server compares keys and query names: `str.lower` where the spec says keys are
    case-insensitive (as the generated models fold them; .NET's ordinal ignore-case leaves
    "ß" alone, which `casefold` would not), else exactly."""
    return str.lower if case_insensitive else str


def _split_union(expr: str) -> list[str]:
    """`boolean|list[string|integer]` -> ['boolean', 'list[string|integer]'] (top level only)."""
    if "|" not in expr:
        return [expr]
    parts, depth, start = [], 0, 0
    for i, char in enumerate(expr):
        depth += {"[": 1, "]": -1}.get(char, 0)
        if char == "|" and depth == 0:
            parts.append(expr[start:i])
            start = i + 1
    return [*parts, expr[start:]]


@dataclass(frozen=True)
class TypeRef:
    kind: Literal["scalar", "model", "list", "map", "union"]
    name: str = ""  # scalar name or model name
    item: TypeRef | None = None  # element of list / value of map
    options: tuple[TypeRef, ...] = ()  # alternatives of a union
    # The model a "model" type names, set by `link`; left out of ==, hash and repr, so that
    # models that refer to each other compare and print without going round in circles.
    model: Model | None = field(default=None, compare=False, repr=False)

    @staticmethod
    @functools.cache  # a large spec spells the same few types thousands of times
    def parse(expr: str) -> TypeRef:
        alternatives = _split_union(expr)
        if len(alternatives) > 1:
            return TypeRef("union", options=tuple(TypeRef.parse(a) for a in alternatives))
        match = _TYPE.match(expr)
        if match:
            return TypeRef(match.group(1), item=TypeRef.parse(match.group(2)))  # type: ignore[arg-type]
        return TypeRef("scalar" if expr in SCALARS else "model", name=expr)

    def models(self) -> set[str]:
        """Names of the models this type mentions."""
        if self.options:
            return set().union(*(o.models() for o in self.options))
        if self.item is not None:
            return self.item.models()
        return {self.name} if self.kind == "model" else set()

    def __str__(self) -> str:
        if self.options:
            return "|".join(map(str, self.options))
        return f"{self.kind}[{self.item}]" if self.item is not None else self.name


@dataclass(frozen=True)
class Field:
    wire_name: str
    python_name: str
    type: TypeRef
    required: bool = False
    nullable: bool = False
    description: str = ""
    format: str = ""
    enum: tuple[Any, ...] = ()
    constraints: tuple[tuple[str, Any], ...] = ()
    deprecated: bool = False
    aliases: tuple[str, ...] = ()
    confidence: str = "documented"
    wire: str = ""  # "string": a decimal sent as its exact text; "" = the type's own JSON form
    pattern: str = ""  # a string value (each item of a list) must match; from `format` or given
    example: Any = None  # a realistic value (of a list of scalars: one item); None: none given


@dataclass(frozen=True)
class Move:
    """One V1 -> V2 change recorded on a model."""

    model: str
    kind: str
    from_path: str = ""
    to_path: str = ""
    field: str = ""
    old: str = ""
    new: str = ""
    operations: tuple[str, ...] = ()
    direction: str = ""
    note: str = ""
    key: str = ""  # instances: the item key naming one field
    value: str = ""  # instances: the item key holding one instance's V1 value
    when_type: tuple[str, ...] = ()  # format: only fields of these types (see FieldTypes)
    conflict: str = ""  # what another source says against this move

    @property
    def legacy_name(self) -> str:
        """The V1 attribute a deprecated alias is generated for ('' when there is none)."""
        if (
            self.kind in ("rename", "move")
            and "." not in self.from_path
            and "[" not in self.from_path
        ):
            return self.from_path
        return ""


Role = Literal["request", "response", "both", "unused"]  # what a model is for


@dataclass(frozen=True)
class Model:
    name: str
    fields: tuple[Field, ...]
    description: str = ""
    extra: Literal["allow", "forbid"] = "allow"
    role: Role = "unused"
    confidence: str = "documented"
    source: str = ""
    moves: tuple[Move, ...] = ()

    def field(self, wire_name: str) -> Field | None:
        """The field of that wire name, or the field that accepts it as an alias."""
        return next(
            (f for f in self.fields if wire_name == f.wire_name or wire_name in f.aliases), None
        )


@dataclass(frozen=True)
class Param:
    wire_name: str
    python_name: str
    location: Literal["path", "query", "header"]
    type: str
    required: bool
    description: str = ""
    enum: tuple[Any, ...] = ()
    default: Any = None
    constraints: tuple[tuple[str, Any], ...] = ()
    format: str = ""
    deprecated: bool = False
    confidence: str = "documented"
    pattern: str = ""  # the value (each value of a list) must match; from `format` or given
    mfa_when_true: bool = False  # sending it as true needs MFA
    example: Any = None  # a value from the API's seeded records (None: no example)

    @property
    def min_length(self) -> int:
        return int(dict(self.constraints).get("min_length", 0))


@dataclass(frozen=True)
class BusinessError:
    """A status the server answers when a business rule on valid input fails."""

    status: int
    when: str
    confidence: str = "documented"
    source: str = ""


@dataclass(frozen=True)
class Payload:
    """A request body or a response: JSON validated by a model, a binary stream, or nothing."""

    kind: Literal["json", "binary", "none"]
    model: Model | None = None
    content_type: str = ""
    description: str = ""

    @property
    def model_name(self) -> str:
        return self.model.name if self.model is not None else ""


@dataclass(frozen=True)
class Pagination:
    style: str
    limit_param: str
    offset_param: str
    max_page: int
    items: str = ""
    method: str = ""  # the lazy iterator over every item
    page_method: str = ""  # the method returning the first `Page`


@dataclass(frozen=True)
class Change:
    """One V1 -> V2 change recorded on an operation (path, parameters, formats)."""

    kind: str
    direction: str = ""
    param: str = ""
    from_: str = ""
    to: str = ""
    note: str = ""


@dataclass(frozen=True)
class FieldTypes:
    """Where `from_v1` finds a data field's type: definitions in a form schema model."""

    schema: str  # model name
    items: str  # wire name of its list of definitions
    keys: tuple[str, ...]  # keys identifying a field, in definitions and in value entries
    type: str  # key of a definition holding the type


@dataclass(frozen=True)
class V1Operation:
    wire_name: str
    method: str
    path: str
    changes: tuple[Change, ...] = ()


@dataclass(frozen=True)
class Operation:
    resource: str
    python_name: str
    wire_name: str
    method: str
    path: str
    summary: str
    params: tuple[Param, ...]
    body: Payload
    response: Payload
    idempotent: bool
    description: str = ""
    paginate: Pagination | None = None
    admin_only: bool = False
    mfa: str = "if_enabled"
    deprecated: str = ""  # '' = not deprecated; otherwise the reason
    confidence: str = "documented"
    source: str = ""
    v1: V1Operation | None = None
    batch: Batch | None = None
    file: FileField | None = None
    presigned_upload: PresignedUpload | None = None
    requires: tuple[Requirement, ...] = ()
    errors: tuple[BusinessError, ...] = ()
    returns: str = ""  # wire name of the response field the method returns; "" = the answer
    body_arguments: bool = False  # the body's fields are keyword arguments of the method

    @property
    def returned(self) -> Field | None:
        """The response field the method returns instead of the whole answer, if any."""
        model = self.response.model
        return model.field(self.returns) if self.returns and model is not None else None

    def params_in(self, location: str) -> tuple[Param, ...]:
        return tuple(p for p in self.params if p.location == location)


@dataclass(frozen=True)
class Resource:
    name: str
    class_name: str
    description: str
    operations: tuple[Operation, ...]


@dataclass(frozen=True)
class Auth:
    kind: str
    token_path: str = ""
    token_lifetime_seconds: int = 3600
    refresh_margin_seconds: int = 60
    description: str = ""


@dataclass(frozen=True)
class RateLimit:
    operations: int
    per_seconds: float
    status: int = 429
    description: str = ""


@dataclass(frozen=True)
class SchemaDiscovery:
    flag: str
    kind: str


@dataclass(frozen=True)
class Api:
    name: str
    title: str
    client_class: str
    version: str
    base_path: str
    environments: tuple[Environment, ...]
    auth: Auth
    resources: tuple[Resource, ...]
    models: tuple[Model, ...]
    description: str = ""
    api_key_header: str = ""
    mfa_otp_header: str = ""
    mfa_session_header: str = ""
    mfa_description: str = ""
    rate_limit: RateLimit | None = None
    quota_status: int = 0
    default_content_type: str = "application/json"
    content_types: tuple[str, ...] = ("application/json",)
    error_model: Model | None = None
    error_shape: ErrorShape = ErrorShape()
    identifiers: tuple[tuple[str, str], ...] = ()
    v1_base_path: str = ""
    v1_shut_down: str = ""
    v1_changes: tuple[Change, ...] = ()
    v1_field_types: FieldTypes | None = None
    keys_case_insensitive: bool = False
    numbers_as_strings: bool = False
    batch_result: BatchResultShape | None = None
    schema_discovery: SchemaDiscovery | None = None

    @property
    def env_prefix(self) -> str:
        """Prefix of the client's environment variables: the API's name, upper-cased."""
        return "".join(c if c.isalnum() else "_" for c in self.name).upper()

    @property
    def env_arguments(self) -> tuple[tuple[str, bool], ...]:
        """The constructor arguments the client reads from the environment when they are left
        out, each with whether the client needs it (`<env_prefix>_<ARGUMENT>`)."""
        kind = self.auth.kind
        names = ("client_id", "client_secret") if kind == "oauth2_client_credentials" else (
            "username", "password")
        arguments = [(name, True) for name in names]
        if self.api_key_header:
            arguments.append(("api_key", True))
        if self.environments:
            arguments.append(("environment", False))
        arguments += [("base_url", not self.environments), ("token_url", False)]
        if self.mfa_otp_header:
            arguments += [("mfa_session_token", False), ("mfa_totp_secret", False)]
        return tuple(arguments)

    @property
    def operations(self) -> tuple[Operation, ...]:
        return tuple(op for r in self.resources for op in r.operations)

    def model(self, name: str) -> Model:
        return next(m for m in self.models if m.name == name)

    @property
    def moves(self) -> tuple[Move, ...]:
        return tuple(mv for m in self.models for mv in m.moves)
