"""Stage 6b: IR -> an OpenAPI 3.1 document, equivalent to the spec, for Swagger UI, Postman,
schemathesis and other generators. Schemas are the JSON Schema the models are generated from
(generator/model/schema.py, 2020-12, which OpenAPI 3.1 takes as is); what OpenAPI has no word for
(batches, pagination, files in JSON, V1 moves, inferred shapes) is kept in `x-apigen-*`
extensions."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from typing import Any

from generator.model.ir import Api, Change, Move, Operation, Param, Payload, TypeRef
from generator.model.links import Link, operation_links
from generator.model.names import pascal
from generator.model.runtime_spec import MODEL_ONLY, Environment, Place, Requirement
from generator.model.scalars import FORMATS
from generator.model.schema import api_schema, constraints_schema, type_schema
from generator.model.statuses import declared_statuses
from generator.model.text_numbers import numbers_taken

_SCHEMAS = "#/components/schemas/"
_BINARY = {"type": "string", "format": "binary"}
_METHODS = ("GET", "PUT", "POST", "DELETE", "PATCH")  # the order of a Path Item Object
# Names of the shared MFA header parameters under components/parameters.
_MFA_PARAMETERS = ("MfaOneTimePassword", "MfaSessionToken")


def _ref(model: str) -> dict[str, str]:
    return {"$ref": _SCHEMAS + model}


def _paragraphs(*parts: str) -> str:
    return "\n\n".join(p.strip() for p in parts if p and p.strip())


def _present(**values: Any) -> dict[str, Any]:
    """Only the values the spec gave (extensions leave out empty keys)."""
    return {k: v for k, v in values.items() if v not in ("", (), [], None)}


def _shared(value: Any) -> dict[str, Any]:
    """An instance of a class the model shares with the client (model/runtime_spec) as an
    extension: the fields the client gets, camelCase keys (`max_bytes` -> `maxBytes`)."""
    values = {}
    for field in dataclasses.fields(value):
        if not field.metadata.get(MODEL_ONLY):
            key = pascal(field.name)
            item = getattr(value, field.name)
            values[key[0].lower() + key[1:]] = list(item) if isinstance(item, tuple) else item
    return _present(**values)


def _move(move: Move) -> dict[str, Any]:
    return _present(
        kind=move.kind,
        **{"from": move.from_path},  # a keyword in Python, the spec's own key
        to=move.to_path,
        field=move.field,
        old=move.old,
        new=move.new,
        operations=list(move.operations),
        direction=move.direction,
        note=move.note,
        key=move.key,
        value=move.value,
        when_type=list(move.when_type),
        conflict=move.conflict,
    )


def _change(change: Change) -> dict[str, Any]:
    return _present(
        kind=change.kind,
        direction=change.direction,
        param=change.param,
        **{"from": change.from_},
        to=change.to,
        note=change.note,
    )


def _schemas(api: Api) -> dict[str, Any]:
    schemas: dict[str, Any] = api_schema(api, refs=_SCHEMAS)["$defs"]
    for model in api.models:
        if model.moves:
            schemas[model.name]["x-apigen-v1-moves"] = [_move(mv) for mv in model.moves]
        for field in model.fields:
            prop = schemas[model.name]["properties"][field.wire_name]
            _add_format(prop, field.format)
            if field.example is not None:
                prop["examples"] = [[field.example] if field.type.kind == "list"
                                    else field.example]
    for op in api.operations:
        if op.file:  # a file inside the JSON body (a field validation checked exists)
            field = schemas[op.body.model_name]["properties"][op.file.field]
            field["contentEncoding"] = op.file.encoding
    if api.numbers_as_strings:
        for schema in schemas.values():
            _take_numbers_as_text(schema)
    return schemas


def _take_numbers_as_text(schema: dict[str, Any]) -> None:
    """`accept_numbers_as_strings`: where a string fits, the numbers the server also takes (and
    reads as their text) are said too. JSON Schema keywords bind one type each, so `maxLength`
    stays the string's and `minimum`/`maximum` become the number's."""
    for value in schema.get("properties", {}).values():
        for node in _value_nodes(value):
            taken = numbers_taken(node)
            if taken is not None:
                node.update(taken, type=["string", taken["type"]])


def _add_format(schema: dict[str, Any], fmt: str) -> None:
    """A checked format (email, uuid) also as OpenAPI's own `format`, beside the pattern that the
    models carry, wherever that pattern is (the value, each item, inside a nullable anyOf)."""
    if fmt not in FORMATS:
        return
    for node in _value_nodes(schema):
        if node.get("pattern") == FORMATS[fmt].pattern:
            node["format"] = fmt


def _value_nodes(schema: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """`schema` and the schemas its values are made of: list items, map values and the
    alternatives of an anyOf (a nullable field), but not the properties of a nested object."""
    todo = [schema]
    while todo:
        node = todo.pop()
        yield node
        todo.extend(sub for sub in (node.get("items"), node.get("additionalProperties"))
                    if isinstance(sub, dict))
        todo.extend(node.get("anyOf", ()))


def _token_url(api: Api, env: Environment | None) -> str:
    """As the client resolves it: the environment's own, else `token_path` on its host. With no
    environment the path stays relative, and OpenAPI resolves it against the server's host."""
    if env is None:
        return api.auth.token_path
    return env.token_url or env.base_url.rstrip("/") + api.auth.token_path


def _security_schemes(api: Api) -> dict[str, Any]:
    auth = api.auth
    first, *others = api.environments or (None,)
    other_urls = "; ".join(f"{env.name}: {_token_url(api, env)}" for env in others if env)
    flow = "clientCredentials" if auth.kind == "oauth2_client_credentials" else "password"
    schemes: dict[str, Any] = {
        "oauth2": {
            "type": "oauth2",
            "description": _paragraphs(
                auth.description,
                f"Access tokens last {auth.token_lifetime_seconds} s.",
                f"Token URL of the other environments: {other_urls}." if other_urls else "",
            ),
            "flows": {flow: {"tokenUrl": _token_url(api, first), "scopes": {}}},
        }
    }
    if api.api_key_header:
        schemes["apiKey"] = {"type": "apiKey", "in": "header", "name": api.api_key_header}
    return schemes


def _mfa_parameters(api: Api) -> dict[str, Any]:
    headers = (api.mfa_otp_header, api.mfa_session_header)
    either = f"MFA: send {headers[0]} or {headers[1]} when MFA is enabled for the API user."
    return {
        name: {
            "name": header,
            "in": "header",
            "required": False,
            "description": _paragraphs(either, api.mfa_description),
            "schema": {"type": "string"},
        }
        for name, header in zip(_MFA_PARAMETERS, headers, strict=True)
    }


def _param_schema(param: Param) -> dict[str, Any]:
    schema = type_schema(TypeRef.parse(param.type))
    # A list parameter (sent repeated) constrains its items.
    values = schema.get("items", schema)
    if param.enum:
        values["enum"] = list(param.enum)
    values.update(constraints_schema(param.constraints))
    if param.pattern:
        values["pattern"] = param.pattern
    if param.format in FORMATS:
        values["format"] = param.format
    if param.default is not None:
        schema["default"] = param.default
    return schema


def _parameter(api: Api, param: Param) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": param.wire_name,
        "in": param.location,
        "required": param.required,
    }
    identifier = dict(api.identifiers).get(param.wire_name) if param.location == "path" else None
    description = _paragraphs(
        param.description,
        f"Accepts {identifier}." if identifier else "",
        f"Format: {param.format}." if param.format else "",
        "Inferred, not documented." if param.confidence == "inferred" else "",
        "Sending true needs MFA." if param.mfa_when_true else "",
    )
    if description:
        out["description"] = description
    if param.deprecated:
        out["deprecated"] = True
    out["schema"] = _param_schema(param)
    if param.mfa_when_true:  # the client refuses `true` without MFA; say so to other tools
        out["x-apigen-mfa-when-true"] = True
    if param.example is not None:
        out["example"] = param.example
    return out


def _content(payload: Payload) -> dict[str, Any]:
    if payload.kind == "binary":
        return {payload.content_type or "application/octet-stream": {"schema": _BINARY}}
    return {payload.content_type or "application/json": {"schema": _ref(payload.model_name)}}


# A place "holds a value" (the spec's `requires`): present, not null, not empty.
_HOLDS_VALUE: dict[str, Any] = {"not": {"enum": [None, "", [], {}]}}


def _body_holds(path: str) -> dict[str, Any]:
    """The schema of a body in which the dotted `path` holds a value."""
    schema: dict[str, Any] = _HOLDS_VALUE
    for key in reversed(path.split(".")):
        schema = {"required": [key], "properties": {key: schema}}
    return schema


def _exported_requires(op: Operation) -> tuple[list[dict[str, Any]], set[Place], set[Place]]:
    """The `requires` rules as OpenAPI can state them: (schemas the body must also meet,
    parameters left out, parameters made required). Within the body a rule is exact (an anyOf
    of required paths); a rule across parts cannot be stated, so the export is stricter, never
    looser: its body places are required and its parameters left out, or with no body place,
    its first parameter is required and the others are left out. x-apigen-requires keeps every
    rule whole."""
    body_rules: list[dict[str, Any]] = []
    left_out: set[Place] = set()
    required: set[Place] = set()
    for rule in op.requires:
        in_body = [p for p in rule.one_of if p.location == "body"]
        params = [p for p in rule.one_of if p.location != "body"]
        if in_body:
            holds = [_body_holds(p.path) for p in in_body]
            body_rules.append(holds[0] if len(holds) == 1 else {"anyOf": holds})
            left_out.update(params)
        else:
            required.add(params[0])
            left_out.update(params[1:])
    return body_rules, left_out, required


def _request_body(op: Operation, body_rules: list[dict[str, Any]]) -> dict[str, Any]:
    body = op.body
    # As in the client: a JSON body is optional when its model has no required field.
    required = (body.kind == "binary" or bool(body_rules)
                or (body.model is not None and any(f.required for f in body.model.fields)))
    content = _content(body)
    if body_rules:
        for media in content.values():
            media["schema"] = {"allOf": [media["schema"], *body_rules]}
    out: dict[str, Any] = {"required": required, "content": content}
    if body.description:
        out["description"] = body.description
    return out


def _responses(api: Api, op: Operation, links: list[Link]) -> dict[str, Any]:
    response = op.response
    default = "Success." if response.kind != "none" else "Success, no body."
    success: dict[str, Any] = {"description": response.description or default}
    if response.kind != "none":
        success["content"] = _content(response)
    if links:
        success["links"] = {
            link.target: {"operationId": link.target, "parameters": dict(link.parameters)}
            for link in links
        }
    # The spec gives no success status; every documented answer is 200.
    out: dict[str, Any] = {"200": success}
    for status, description in declared_statuses(api, op).items():
        out[str(status)] = {"description": description, **_error_content(api)}
    out["default"] = {"$ref": "#/components/responses/Error"}
    return out


def _error_content(api: Api) -> dict[str, Any]:
    if api.error_model is None:
        return {}
    return {"content": {"application/json": {"schema": _ref(api.error_model.name)}}}


def _requirement(rule: Requirement) -> dict[str, Any]:
    return _present(
        oneOf=[{"in": place.location, "name": place.path} for place in rule.one_of],
        confidence="" if rule.confidence == "documented" else rule.confidence,
        source=rule.source,
    )


def _place(param: Param) -> Place:
    return Place(param.location, param.wire_name)


def _left_out_sentence(left_out: set[Place]) -> str:
    if not left_out:
        return ""
    names = ", ".join(f"{p.location} parameter `{p.path}`" for p in sorted(left_out, key=str))
    return (f"OpenAPI cannot state a rule across the request's parts, so this document states "
            f"one of its forms and leaves out the {names}; the server takes either.")


def _requirement_sentence(rule: Requirement) -> str:
    places = " or ".join(
        f"`{p.path}` in the body" if p.location == "body" else f"the {p.location} parameter "
        f"`{p.path}`"
        for p in rule.one_of
    )
    inferred = " (inferred, not documented)" if rule.confidence == "inferred" else ""
    return f"Requires one of: {places}{inferred}."


def _operation(api: Api, op: Operation, links: list[Link]) -> dict[str, Any]:
    body_rules, left_out, required = _exported_requires(op)
    out: dict[str, Any] = {
        "operationId": op.wire_name,
        "tags": [op.resource],
        "summary": op.summary,
    }
    inferred = f"Inferred, not documented: {op.source}" if op.source else "Inferred."
    description = _paragraphs(
        op.description,
        f"Deprecated: {op.deprecated}" if op.deprecated else "",
        "Admin users only." if op.admin_only else "",
        "Requires MFA." if op.mfa == "required" and api.mfa_otp_header else "",
        inferred if op.confidence == "inferred" else "",
        *(_requirement_sentence(rule) for rule in op.requires),
        _left_out_sentence(left_out),
        "" if op.idempotent else "Not idempotent: the generated client never retries it once sent.",
    )
    if description:
        out["description"] = description
    if op.deprecated:
        out["deprecated"] = True
    parameters = [
        {**_parameter(api, p), **({"required": True} if _place(p) in required else {})}
        for p in op.params
        if _place(p) not in left_out
    ]
    if api.mfa_otp_header:
        parameters += [{"$ref": f"#/components/parameters/{name}"} for name in _MFA_PARAMETERS]
    if parameters:
        out["parameters"] = parameters
    if op.body.kind != "none":
        out["requestBody"] = _request_body(op, body_rules)
    out["responses"] = _responses(api, op, links)
    out.update(_extensions(op))
    return out


def _extensions(op: Operation) -> dict[str, Any]:
    """What the spec says of an operation beyond plain HTTP, and its generated client method."""
    out: dict[str, Any] = {"x-apigen-method": f"{op.resource}.{op.python_name}"}
    if op.confidence != "documented":
        out["x-apigen-confidence"] = op.confidence
    if op.paginate:
        page = op.paginate
        out["x-apigen-pagination"] = _present(
            style=page.style,
            limit=page.limit_param,
            offset=page.offset_param,
            maxPage=page.max_page,
            items=page.items,
        )
    if op.requires:
        out["x-apigen-requires"] = [_requirement(rule) for rule in op.requires]
    if op.batch:
        out["x-apigen-batch"] = _shared(op.batch)
    if op.file:
        out["x-apigen-file"] = _shared(op.file)
    if op.presigned_upload:
        out["x-apigen-presigned-upload"] = _shared(op.presigned_upload)
    if op.v1:
        out["x-apigen-v1"] = _present(
            operationId=op.v1.wire_name,
            method=op.v1.method,
            path=op.v1.path,
            changes=[_change(c) for c in op.v1.changes],
        )
    return out


def _servers(api: Api) -> list[dict[str, Any]]:
    if not api.environments:
        # No fixed host: the tenant's own (the client's `base_url=` argument).
        return [{"url": api.base_path or "/", "description": "Relative to the tenant's host."}]
    return [
        {"url": env.base_url + api.base_path, "description": env.description or env.name}
        for env in api.environments
    ]


def _api_notes(api: Api) -> list[str]:
    notes = []
    if api.rate_limit:
        limit = api.rate_limit
        notes.append(
            f"Rate limit: {limit.operations} operations per {limit.per_seconds:g} s (answered "
            f"with {limit.status}). {limit.description}"
        )
    if api.quota_status:
        notes.append(f"Quota: an exhausted quota is answered with {api.quota_status}.")
    if api.keys_case_insensitive:
        notes.append("The server matches JSON keys ignoring case.")
    if api.numbers_as_strings:
        notes.append("A JSON number is accepted for a string field (as its text).")
    if len(api.content_types) > 1:
        notes.append(
            f"Content types: {', '.join(api.content_types)}; this document describes the JSON form."
        )
    if api.schema_discovery:
        flag, kind = api.schema_discovery.flag, api.schema_discovery.kind
        notes.append(
            f"Every operation describes itself: call it with ?{flag}=true&{kind}=request or "
            "response (no body) for its JSON Schema."
        )
    if api.v1_base_path:
        until = f", shut down on {api.v1_shut_down}" if api.v1_shut_down else ""
        notes.append(
            f"V1 API: {api.v1_base_path}{until}. x-apigen-v1 (here and on each operation) and "
            "x-apigen-v1-moves (on schemas) say what changed."
        )
    return notes


def _components(api: Api) -> dict[str, Any]:
    fields = ", ".join(api.error_shape.message_fields)
    error: dict[str, Any] = {
        "description": f"An error answer; its message is in {fields}." if fields else "An error."
    }
    if api.error_model is not None:
        error["content"] = {"application/json": {"schema": _ref(api.error_model.name)}}
    responses: dict[str, Any] = {"Error": error}
    components: dict[str, Any] = {"schemas": _schemas(api), "responses": responses}
    if api.mfa_otp_header:
        components["parameters"] = _mfa_parameters(api)
    components["securitySchemes"] = _security_schemes(api)
    return components


def _api_extensions(api: Api) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if api.v1_base_path:
        out["x-apigen-v1"] = _present(
            basePath=api.v1_base_path,
            shutDown=api.v1_shut_down,
            changes=[_change(c) for c in api.v1_changes],
        )
    if api.batch_result:
        # How a batch answer reports each record (named in x-apigen-batch operations).
        out["x-apigen-batch-result"] = _shared(api.batch_result)
    return out


def openapi_document(api: Api) -> dict[str, Any]:
    """The OpenAPI 3.1 document of one API; keys in a fixed order, paths sorted."""
    links = operation_links(api)
    paths: dict[str, dict[str, Any]] = {}
    for op in sorted(api.operations, key=lambda o: (o.path, _METHODS.index(o.method))):
        operation = _operation(api, op, links.get(op.wire_name, []))
        paths.setdefault(op.path, {})[op.method.lower()] = operation
    components = _components(api)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": api.title,
            "version": api.version,
            "description": _paragraphs(api.description, *_api_notes(api)),
        },
        "servers": _servers(api),
        # Every scheme at once: the OAuth token and, where the API has one, the API key.
        "security": [{name: [] for name in components["securitySchemes"]}],
        "tags": [
            {"name": r.name, "description": r.description} if r.description else {"name": r.name}
            for r in api.resources
        ],
        "paths": paths,
        "components": components,
        **_api_extensions(api),
    }


# Objects are laid out one key per line down to this depth (an operation of a path, a schema of
# the components) and each written on one line below it: a change to an operation or a schema
# is one changed line in a diff, and the writing takes json's C encoder, which `indent=` turns
# off (at 1,000 operations, 0.03 s instead of 0.15 s).
_LAID_OUT_DEPTH = 3


def _layout(node: Any, depth: int = 0) -> str:
    if not isinstance(node, dict) or not node or depth >= _LAID_OUT_DEPTH:
        return json.dumps(node, ensure_ascii=False)
    inner = "  " * (depth + 1)
    items = (f"{inner}{json.dumps(key, ensure_ascii=False)}: {_layout(value, depth + 1)}"
             for key, value in node.items())
    return "{\n" + ",\n".join(items) + "\n" + "  " * depth + "}"


def render_openapi(api: Api) -> str:
    return _layout(openapi_document(api)) + "\n"
