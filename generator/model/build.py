"""Building the model from validated spec documents: each model's fields (`build_models`, which
validation uses to follow wire paths), then the API around them (`build_api`), with every
reference linked to its object (`link`)."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from generator.model.ir import (
    Api,
    Auth,
    BusinessError,
    Change,
    Field,
    FieldTypes,
    Model,
    Move,
    Operation,
    Pagination,
    Param,
    Payload,
    RateLimit,
    Resource,
    Role,
    SchemaDiscovery,
    TypeRef,
    V1Operation,
)
from generator.model.names import field_name, pascal, snake
from generator.model.runtime_spec import (
    Batch,
    BatchResultShape,
    Environment,
    ErrorShape,
    FileField,
    Place,
    PresignedUpload,
    Requirement,
)
from generator.model.scalars import BASE64_TEXT, FORMATS
from generator.spec.load import Document


def _constraints(spec: dict[str, Any], keys: tuple[str, ...]) -> tuple[tuple[str, Any], ...]:
    return tuple((k, spec[k]) for k in keys if k in spec)


def pattern_of(spec: dict[str, Any]) -> str:
    """The pattern a field or parameter spec imposes: its own, else its checked format's."""
    checked = FORMATS.get(spec.get("format", ""))
    return spec.get("pattern") or (checked.pattern if checked else "")


def _field(wire: str, spec: dict[str, Any]) -> Field:
    return Field(
        wire_name=wire,
        python_name=spec.get("name") or field_name(wire),
        type=TypeRef.parse(spec["type"]),
        required=bool(spec.get("required", False)),
        nullable=bool(spec.get("nullable", False)),
        description=spec.get("description", ""),
        format=spec.get("format", ""),
        enum=tuple(spec.get("enum", ())),
        constraints=_constraints(
            spec, ("minimum", "maximum", "min_length", "max_length", "min_items", "max_items")
        ),
        deprecated=bool(spec.get("deprecated", False)),
        aliases=tuple(spec.get("aliases", ())),
        confidence=spec.get("confidence", "documented"),
        wire=spec.get("wire", ""),
        pattern=pattern_of(spec),
        example=spec.get("example"),
    )


def _move(model: str, spec: dict[str, Any]) -> Move:
    return Move(
        model=model,
        kind=spec["kind"],
        from_path=spec.get("from", ""),
        to_path=spec.get("to", ""),
        field=spec.get("field", ""),
        old=spec.get("old", ""),
        new=spec.get("new", ""),
        operations=tuple(spec.get("operations", ())),
        direction=spec.get("direction", ""),
        note=spec.get("note", ""),
        key=spec.get("key", ""),
        value=spec.get("value", ""),
        when_type=tuple(spec.get("when_type", ())),
        conflict=spec.get("conflict", ""),
    )


def _payload_model(spec: Any) -> str:
    """The name of the model a body or response spec names ('' for none)."""
    return spec if isinstance(spec, str) else (spec or {}).get("model", "")


def _payload(spec: Any, default_content_type: str, models: dict[str, Model]) -> Payload:
    if spec is None:
        return Payload("none")
    model = models.get(_payload_model(spec))
    if isinstance(spec, str):
        return Payload("json", model=model, content_type=default_content_type)
    kind = spec["kind"]
    content_type = spec.get("content_type", default_content_type if kind == "json" else "")
    return Payload(kind, model, content_type, spec.get("description", ""))


def _param(wire: str, spec: dict[str, Any]) -> Param:
    location = spec["in"]
    return Param(
        wire_name=wire,
        python_name=spec.get("name") or snake(wire),
        location=location,
        type=spec["type"],
        required=location == "path" or bool(spec.get("required", False)),
        description=spec.get("description", ""),
        enum=tuple(spec.get("enum", ())),
        default=spec.get("default"),
        constraints=_constraints(spec, ("minimum", "maximum", "min_length", "max_length")),
        format=spec.get("format", ""),
        deprecated=bool(spec.get("deprecated", False)),
        confidence=spec.get("confidence", "documented"),
        pattern=pattern_of(spec),
        mfa_when_true=bool(spec.get("mfa_when_true", False)),
        example=spec.get("example"),
    )


def _requirement(spec: dict[str, Any]) -> Requirement:
    places = tuple(Place(*next(iter(p.items()))) for p in spec["one_of"])
    return Requirement(places, spec.get("confidence", "documented"), spec.get("source", ""))


def _change(spec: dict[str, Any]) -> Change:
    return Change(
        kind=spec["kind"],
        direction=spec.get("direction", ""),
        param=spec.get("param", ""),
        from_=spec.get("from", ""),
        to=spec.get("to", ""),
        note=spec.get("note", ""),
    )


PLACEHOLDER = re.compile(r"\{([A-Z][A-Za-z0-9]*)\}")


@dataclass(frozen=True)
class EnvelopeUse:
    """One operation's body made from an envelope: the models it expands to, found (and
    checked) once by validation and handed to `build_api`."""

    resource: str
    operation: str
    root: str  # the expanded model the body is
    models: dict[str, dict[str, Any]]  # the expanded model specs, by name
    batch: dict[str, Any] | None  # the envelope's `batch` section


def envelope_use(
    resource: str, operation: str, envelope_name: str, envelope: dict[str, Any],
    args: dict[str, str],
) -> EnvelopeUse:
    """The concrete models an envelope gives one operation.

    Models are named `<Resource><Operation><Key>`; `{Name}` in a field type becomes the argument
    for that parameter or the expanded name of that envelope model."""
    base = pascal(resource) + pascal(operation)
    names = {key: base + key for key in envelope["models"]}

    def resolve(expr: str) -> str:
        return PLACEHOLDER.sub(lambda m: args.get(m[1]) or names.get(m[1]) or m[0], expr)

    models = {}
    for key, spec in envelope["models"].items():
        note = f"Envelope `{envelope_name}`, expanded for this operation."
        description = spec.get("description") or envelope.get("description", "")
        models[names[key]] = {
            "description": f"{description}\n\n{note}" if description else note,
            "fields": {
                wire: {**f, "type": resolve(f["type"])} for wire, f in spec["fields"].items()
            },
        }
    return EnvelopeUse(resource, operation, base + envelope["root"], models, envelope.get("batch"))


def _batch(use: EnvelopeUse) -> Batch | None:
    if use.batch is None:
        return None
    records = use.batch["records"]
    item = TypeRef.parse(use.models[use.root]["fields"][records]["type"]).item
    keep = tuple(use.batch.get("keep", ()))
    return Batch(records=records, keep=keep, record_model=item.name if item else "")


def paging_methods(op_name: str, paginate: Mapping[str, Any]) -> tuple[str, str]:
    """The names of a paginated operation's lazy iterator (the spec's `method`, default
    `iter_<op>`) and of its method returning the first page (`<op>_page`)."""
    py = snake(op_name)
    return paginate.get("method") or f"iter_{py}", f"{py}_page"


def _operation(
    resource: str, name: str, spec: dict[str, Any], api: dict[str, Any], batch: Batch | None,
    models: dict[str, Model],
) -> Operation:
    default_ct = api.get("content_types", {}).get("default", "application/json")
    method = spec["method"]
    paginate = None
    if "paginate" in spec:
        style = api["pagination"][spec["paginate"]["style"]]
        iterator, first_page = paging_methods(name, spec["paginate"])
        paginate = Pagination(
            style=style["style"],
            limit_param=style["limit_param"],
            offset_param=style["offset_param"],
            max_page=style["max_page"],
            items=spec["paginate"]["items"],
            method=iterator,
            page_method=first_page,
        )
    v1 = None
    if "v1" in spec:
        raw = spec["v1"]
        v1 = V1Operation(
            wire_name=raw.get("wire_name", spec["wire_name"]),
            method=raw.get("method", method),
            path=raw.get("path", ""),
            changes=tuple(_change(c) for c in raw.get("changes", ())),
        )
    deprecated = spec.get("deprecated", False)
    return Operation(
        resource=resource,
        python_name=snake(name),
        wire_name=spec["wire_name"],
        method=method,
        path=spec["path"],
        summary=spec["summary"],
        description=spec.get("description", ""),
        params=tuple(_param(w, p) for w, p in spec.get("params", {}).items()),
        body=_payload(spec.get("body"), default_ct, models),
        response=_payload(spec["response"], default_ct, models),
        idempotent=spec.get("idempotent", method in ("GET", "PUT", "DELETE")),
        paginate=paginate,
        admin_only=bool(spec.get("admin_only", False)),
        mfa=spec.get("mfa", "if_enabled"),
        deprecated=("deprecated" if deprecated is True else deprecated or ""),
        confidence=spec["confidence"],
        source=spec.get("source", ""),
        v1=v1,
        batch=batch,
        returns=spec.get("returns", ""),
        body_arguments=bool(spec.get("body_arguments", False)),
        file=FileField(**spec["file"]) if "file" in spec else None,
        presigned_upload=PresignedUpload(**spec["presigned_upload"])
        if "presigned_upload" in spec
        else None,
        requires=tuple(_requirement(r) for r in spec.get("requires", ())),
        errors=tuple(BusinessError(**e) for e in spec.get("errors", ())),
    )


def reachable(models: dict[str, dict[str, Any]], roots: set[str]) -> set[str]:
    """The models `roots` name and every model their fields reach (model specs by name)."""
    seen: set[str] = set()
    todo = [r for r in roots if r]
    while todo:
        name = todo.pop()
        if name in seen or name not in models:
            continue
        seen.add(name)
        for spec in models[name]["fields"].values():
            todo.extend(TypeRef.parse(spec["type"]).models())
    return seen


def _roles(
    models: dict[str, dict[str, Any]], ops: list[dict[str, Any]], error_model: str
) -> dict[str, Role]:
    """Which models are request bodies and which are responses, following nested references."""
    reach = functools.partial(reachable, models)
    request = reach({_payload_model(op.get("body")) for op in ops})
    response = reach({_payload_model(op["response"]) for op in ops} | {error_model})
    kinds: dict[tuple[bool, bool], Role] = {
        (True, True): "both", (True, False): "request", (False, True): "response"}
    roles: dict[str, Role] = {}
    for name in models:
        roles[name] = kinds.get((name in request, name in response), "unused")
    return roles


def _linked_type(ref: TypeRef, models: dict[str, Model]) -> TypeRef:
    if ref.options:
        return replace(ref, options=tuple(_linked_type(o, models) for o in ref.options))
    if ref.item is not None:
        return replace(ref, item=_linked_type(ref.item, models))
    return replace(ref, model=models.get(ref.name)) if ref.kind == "model" else ref


def link_models(models: Iterable[Model]) -> list[Model]:
    """New objects of these models whose field types point at each other."""
    models = list(models)
    # Each model object exists before any field refers to it, so that references may go round
    # (a tree's node refers to itself); the fields are set on the new, still private objects.
    linked = {m.name: replace(m, fields=()) for m in models}
    types: dict[TypeRef, TypeRef] = {}  # a large API spells the same few types many times
    for old in models:
        fields = []
        for f in old.fields:
            if f.type not in types:
                types[f.type] = _linked_type(f.type, linked)
            fields.append(replace(f, type=types[f.type]))
        object.__setattr__(linked[old.name], "fields", tuple(fields))
    return list(linked.values())


def link(api: Api) -> Api:
    """`api` with every reference to a model pointing at the objects in `api.models`: field
    types, bodies and responses, the error model. Run after any step that replaces models
    (building, enrichment), so that no reference is left pointing at an old object."""
    models = {m.name: m for m in link_models(api.models)}

    def payload(p: Payload) -> Payload:
        return replace(p, model=models[p.model.name]) if p.model is not None else p

    resources = tuple(
        replace(r, operations=tuple(
            replace(op, body=payload(op.body), response=payload(op.response))
            for op in r.operations))
        for r in api.resources
    )
    error = models[api.error_model.name] if api.error_model is not None else None
    return replace(api, models=tuple(models.values()), resources=resources, error_model=error)


def build_models(specs: dict[str, dict[str, Any]]) -> dict[str, Model]:
    """The models of these specs, field types linked (a name no spec defines links to None).
    What a model is for (its role, and the `extra` that follows from it) is left to
    `build_api`, which knows the operations."""
    models = {
        name: Model(
            name=name,
            fields=tuple(_field(w, f) for w, f in spec["fields"].items()),
            description=spec.get("description", ""),
            extra=spec.get("extra", "allow"),
            confidence=spec.get("confidence", "documented"),
            source=spec.get("source", ""),
            moves=tuple(_move(name, m) for m in spec.get("moves", ())),
        )
        for name, spec in sorted(specs.items())
    }
    # The models and fields were made just now and nothing else holds them yet: their types
    # are linked in place (`link_models` makes new objects, for models others may hold).
    types: dict[TypeRef, TypeRef] = {}  # a large API spells the same few types many times
    for model in models.values():
        for f in model.fields:
            if f.type not in types:
                types[f.type] = _linked_type(f.type, models)
            object.__setattr__(f, "type", types[f.type])
    return models


def _error_shape(api_spec: dict[str, Any]) -> ErrorShape:
    """`api.errors`; an API whose batch answers carry a support id quotes it in its error
    answers too (they share one shape), unless `id_fields` says otherwise."""
    errors = api_spec.get("errors", {})
    support = api_spec.get("batch_result", {}).get("support_id", "")
    return ErrorShape(
        message_fields=tuple(errors.get("message_fields", ())),
        detail_fields=tuple(errors.get("detail_fields", ())),
        id_fields=tuple(errors.get("id_fields", [support] if support else [])),
        id_headers=tuple(errors.get("id_headers", ())),
    )


def build_api(
    documents: list[Document], envelopes: list[EnvelopeUse], shapes: dict[str, Model]
) -> Api:
    """Assemble one API from its (already validated) documents, with the envelope bodies and
    the models (`build_models`) that validation made of them."""
    api_spec: dict[str, Any] = next(d.data["api"] for d in documents if "api" in d.data)
    uses = {(use.resource, use.operation): use for use in envelopes}
    model_specs: dict[str, dict[str, Any]] = {}
    op_specs: dict[str, tuple[str, list[tuple[str, dict[str, Any], Batch | None]]]] = {}
    for doc in documents:
        model_specs.update(doc.data.get("models", {}))
        if "resource" in doc.data:
            name = doc.data["resource"]
            _, ops = op_specs.setdefault(name, (doc.data.get("description", ""), []))
            for op_name, op_spec in doc.data.get("operations", {}).items():
                use = uses.get((name, op_name))
                if use is not None:
                    model_specs.update(use.models)
                    op_spec = {**op_spec, "body": use.root}
                ops.append((op_name, op_spec, _batch(use) if use else None))
    all_ops = [spec for _, ops in op_specs.values() for _, spec, _ in ops]
    error_name = api_spec.get("errors", {}).get("model", "")
    roles = _roles(model_specs, all_ops, error_name)
    # A file inside a JSON body as base64 is checked as canonical base64 text, like a format.
    base64_fields = {(_payload_model(op.get("body")), op["file"]["field"]) for op in all_ops
                     if op.get("file", {}).get("encoding") == "base64"}
    # The shapes are this build's own objects, made for it by validation and linked to each
    # other: finished in place, every link to them stays right without linking again.
    models = shapes
    for name, model in models.items():
        role = roles[name]
        extra = model_specs[name].get("extra", "forbid" if role == "request" else "allow")
        fields = tuple(replace(f, pattern=f.pattern or BASE64_TEXT)
                       if (name, f.wire_name) in base64_fields else f for f in model.fields)
        for attribute, value in (("fields", fields), ("role", role), ("extra", extra)):
            object.__setattr__(model, attribute, value)
    resources = tuple(
        Resource(name, pascal(name), description, tuple(sorted(
            (_operation(name, op_name, spec, api_spec, batch, models)
             for op_name, spec, batch in ops), key=lambda o: o.python_name)))
        for name, (description, ops) in sorted(op_specs.items())
    )
    auth = api_spec["auth"]
    mfa = api_spec.get("mfa", {})
    rate = api_spec.get("rate_limit")
    v1 = api_spec.get("v1", {})
    return Api(
        name=api_spec["name"],
        title=api_spec["title"],
        client_class=api_spec["client_class"],
        version=api_spec["version"],
        description=api_spec.get("description", ""),
        base_path=api_spec["base_path"],
        environments=tuple(
            Environment(n, e["base_url"], e.get("token_url", ""), e.get("description", ""))
            for n, e in api_spec["environments"].items()
        ),
        auth=Auth(
            kind=auth["kind"],
            token_path=auth.get("token_path", ""),
            token_lifetime_seconds=auth.get("token_lifetime_seconds", 3600),
            refresh_margin_seconds=auth.get("refresh_margin_seconds", 60),
            description=auth.get("description", ""),
        ),
        resources=resources,
        models=tuple(models.values()),
        api_key_header=api_spec.get("api_key", {}).get("header", ""),
        mfa_otp_header=mfa.get("otp_header", ""),
        mfa_session_header=mfa.get("session_token_header", ""),
        mfa_description=mfa.get("description", ""),
        rate_limit=RateLimit(
            rate["operations"],
            float(rate["per_seconds"]),
            rate.get("status", 429),
            rate.get("description", ""),
        )
        if rate
        else None,
        quota_status=api_spec.get("quota", {}).get("status", 0),
        default_content_type=api_spec.get("content_types", {}).get("default", "application/json"),
        content_types=tuple(
            api_spec.get("content_types", {}).get("supported", ("application/json",))
        ),
        error_model=models.get(error_name),
        error_shape=_error_shape(api_spec),
        identifiers=tuple(sorted(api_spec.get("identifiers", {}).items())),
        v1_base_path=v1.get("base_path", ""),
        v1_shut_down=str(v1.get("shut_down", "")),
        v1_changes=tuple(_change(c) for c in v1.get("changes", ())),
        v1_field_types=FieldTypes(
            schema=v1["field_types"]["schema"],
            items=v1["field_types"]["items"],
            keys=tuple(v1["field_types"]["keys"]),
            type=v1["field_types"]["type"],
        )
        if "field_types" in v1
        else None,
        keys_case_insensitive=api_spec.get("keys") == "case_insensitive",
        numbers_as_strings=bool(api_spec.get("accept_numbers_as_strings", False)),
        batch_result=BatchResultShape(**api_spec["batch_result"])
        if "batch_result" in api_spec
        else None,
        schema_discovery=SchemaDiscovery(**api_spec["schema_discovery"])
        if "schema_discovery" in api_spec
        else None,
    )
