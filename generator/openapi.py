"""Stage 6b: IR -> an OpenAPI 3.1 document, equivalent to the spec, for Swagger UI, Postman,
schemathesis and other generators. Schemas are the JSON Schema the models are generated from
(generator/schema.py, 2020-12, which OpenAPI 3.1 takes as is); what OpenAPI has no word for
(batches, pagination, V1 moves, inferred shapes) is kept in `x-apigen-*` extensions."""

from __future__ import annotations

import json
from typing import Any

from generator.ir import Api, Model, Operation, Param, TypeRef
from generator.schema import api_schema, constraints_schema, type_schema

_COMPONENTS = "#/components/schemas/"
_BINARY = {"type": "string", "format": "binary"}


def _repoint(node: Any) -> Any:
    """The same schema with `#/$defs/X` references pointing at `#/components/schemas/X`."""
    if isinstance(node, dict):
        return {
            k: (_COMPONENTS + v.removeprefix("#/$defs/") if k == "$ref" else _repoint(v))
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_repoint(v) for v in node]
    return node


def _ref(model: str) -> dict[str, str]:
    return {"$ref": _COMPONENTS + model}


def _paragraphs(*parts: str) -> str:
    return "\n\n".join(p.strip() for p in parts if p and p.strip())


def _schemas(api: Api) -> dict[str, Any]:
    schemas = _repoint(api_schema(api)["$defs"])
    for model in api.models:
        if model.moves:
            schemas[model.name]["x-apigen-v1-moves"] = [_move(mv) for mv in model.moves]
    return dict(schemas)


def _move(move: Any) -> dict[str, Any]:
    out = {"kind": move.kind, "from": move.from_path, "to": move.to_path, "field": move.field,
           "old": move.old, "new": move.new, "operations": list(move.operations),
           "direction": move.direction, "note": move.note}
    return {k: v for k, v in out.items() if v}


def _security(api: Api) -> tuple[dict[str, Any], list[dict[str, list[str]]]]:
    schemes: dict[str, Any] = {}
    auth = api.auth
    if auth.kind in ("oauth2_client_credentials", "oauth2_password"):
        token_url = next((e.token_url for e in api.environments if e.token_url), auth.token_path)
        flow = "clientCredentials" if auth.kind == "oauth2_client_credentials" else "password"
        others = [f"{e.name}: {e.token_url}" for e in api.environments[1:] if e.token_url]
        schemes["oauth2"] = {
            "type": "oauth2",
            "description": _paragraphs(
                auth.description,
                f"Access tokens last {auth.token_lifetime_seconds} s.",
                f"Token URL of the other environments: {'; '.join(others)}." if others else "",
            ),
            "flows": {flow: {"tokenUrl": token_url, "scopes": {}}},
        }
    if api.api_key_header:
        schemes["apiKey"] = {"type": "apiKey", "in": "header", "name": api.api_key_header}
    # Every listed scheme is needed at once (OAuth token and API key together).
    return schemes, [{name: [] for name in schemes}] if schemes else []


def _param_schema(param: Param) -> dict[str, Any]:
    schema = type_schema(TypeRef.parse(param.type))
    if param.enum:
        schema["enum"] = list(param.enum)
    if param.default is not None:
        schema["default"] = param.default
    schema.update(constraints_schema(param.constraints))
    return schema


def _parameter(param: Param) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": param.wire_name,
        "in": param.location,
        "required": param.required or param.location == "path",
    }
    description = _paragraphs(
        param.description,
        f"Format: {param.format}." if param.format else "",
        "Inferred, not documented." if param.confidence == "inferred" else "",
    )
    if description:
        out["description"] = description
    if param.deprecated:
        out["deprecated"] = True
    out["schema"] = _param_schema(param)
    return out


def _mfa_parameters(api: Api, op: Operation) -> list[dict[str, Any]]:
    headers = [h for h in (api.mfa_otp_header, api.mfa_session_header) if h]
    if not headers or op.mfa == "never":
        return []
    when = "required by this operation" if op.mfa == "required" else "needed when MFA is enabled"
    return [
        {
            "name": header,
            "in": "header",
            "required": False,
            "description": _paragraphs(f"MFA ({when}; send one of {', '.join(headers)}).",
                                       api.mfa_description),
            "schema": {"type": "string"},
        }
        for header in headers
    ]


def _request_body(models: dict[str, Model], op: Operation) -> dict[str, Any] | None:
    body = op.body
    if body.kind == "none":
        return None
    if body.kind == "binary":
        content = {body.content_type or "application/octet-stream": {"schema": _BINARY}}
        return {"required": True, "content": content}
    required = any(f.required for f in models[body.model].fields)
    out: dict[str, Any] = {
        "required": required,
        "content": {"application/json": {"schema": _ref(body.model)}},
    }
    if body.description:
        out["description"] = body.description
    return out


def _responses(api: Api, op: Operation) -> dict[str, Any]:
    response = op.response
    success: dict[str, Any] = {"description": response.description or "Success."}
    if response.kind == "json":
        success["content"] = {"application/json": {"schema": _ref(response.model)}}
    elif response.kind == "binary":
        success["content"] = {response.content_type or "application/octet-stream":
                              {"schema": _BINARY}}
    out: dict[str, Any] = {"200": success}
    if api.rate_limit:
        out[str(api.rate_limit.status)] = {"$ref": "#/components/responses/RateLimited"}
    if api.quota_status:
        out[str(api.quota_status)] = {"$ref": "#/components/responses/QuotaExceeded"}
    out["default"] = {"$ref": "#/components/responses/Error"}
    return out


def _operation(api: Api, models: dict[str, Model], op: Operation) -> dict[str, Any]:
    notes = []
    if op.deprecated:
        notes.append(f"Deprecated: {op.deprecated}")
    if op.admin_only:
        notes.append("Admin users only.")
    if op.confidence == "inferred":
        notes.append(f"Inferred, not documented: {op.source}" if op.source else "Inferred.")
    if not op.idempotent:
        notes.append("Not idempotent: the generated client never retries it once sent.")
    out: dict[str, Any] = {
        "operationId": op.wire_name,
        "tags": [op.resource],
        "summary": op.summary,
    }
    description = _paragraphs(op.description, *notes)
    if description:
        out["description"] = description
    if op.deprecated:
        out["deprecated"] = True
    parameters = [_parameter(p) for p in op.params] + _mfa_parameters(api, op)
    if parameters:
        out["parameters"] = parameters
    body = _request_body(models, op)
    if body:
        out["requestBody"] = body
    out["responses"] = _responses(api, op)
    out.update(_extensions(op))
    return out


def _extensions(op: Operation) -> dict[str, Any]:
    """What the generated client does with an operation beyond plain HTTP."""
    out: dict[str, Any] = {"x-apigen-method": f"{op.resource}.{op.python_name}"}
    if op.confidence != "documented":
        out["x-apigen-confidence"] = op.confidence
    if op.paginate:
        page = op.paginate
        out["x-apigen-pagination"] = {
            "style": page.style, "limit": page.limit_param, "offset": page.offset_param,
            "maxPage": page.max_page, "items": page.items,
        }
    if op.batch:
        out["x-apigen-batch"] = {"records": op.batch.records, "keep": list(op.batch.keep)}
    if op.file:
        out["x-apigen-file"] = {"field": op.file.field, "encoding": op.file.encoding,
                                "maxBytes": op.file.max_bytes}
    if op.presigned_upload:
        up = op.presigned_upload
        out["x-apigen-presigned-upload"] = {"uri": up.uri, "headers": up.headers,
                                            "method": up.method}
    if op.v1:
        out["x-apigen-v1"] = {
            "operationId": op.v1.wire_name,
            "method": op.v1.method,
            "path": op.v1.path,
            "changes": [{k: v for k, v in vars(c).items() if v} for c in op.v1.changes],
        }
    return out


def _servers(api: Api) -> list[dict[str, Any]]:
    if api.environments:
        return [
            {"url": env.base_url + api.base_path, "description": env.description or env.name}
            for env in api.environments
        ]
    # No fixed host (a tenant's own): the base URL is the client's `base_url=` argument.
    return [
        {
            "url": "{baseUrl}" + api.base_path,
            "variables": {
                "baseUrl": {
                    "default": "https://api.example.com",
                    "description": "The tenant's host (the client's base_url argument).",
                }
            },
        }
    ]


def _api_notes(api: Api) -> list[str]:
    notes = []
    if api.rate_limit:
        rl = api.rate_limit
        notes.append(f"Rate limit: {rl.operations} operations per {rl.per_seconds:g} s "
                     f"(answered with {rl.status}). {rl.description}")
    if api.keys_case_insensitive:
        notes.append("The server matches JSON keys ignoring case.")
    if api.numbers_as_strings:
        notes.append("Numbers may also be sent as strings.")
    if len(api.content_types) > 1:
        notes.append(f"Content types: {', '.join(api.content_types)}; this document describes "
                     "the JSON form.")
    if api.v1_base_path:
        notes.append(f"The V1 API ({api.v1_base_path}) was shut down on {api.v1_shut_down}; "
                     "each operation's x-apigen-v1 says what moved.")
    return notes


def openapi_document(api: Api) -> dict[str, Any]:
    models = {m.name: m for m in api.models}
    schemes, security = _security(api)
    paths: dict[str, dict[str, Any]] = {}
    for op in api.operations:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(api, models, op)
    error: dict[str, Any] = {"description": "An error answer."}
    if api.error_model:
        error["content"] = {"application/json": {"schema": _ref(api.error_model)}}
    responses: dict[str, Any] = {"Error": error}
    if api.rate_limit:
        responses["RateLimited"] = {"description": "Too many operations in the window."}
    if api.quota_status:
        responses["QuotaExceeded"] = {"description": "The daily quota is used up."}
    components: dict[str, Any] = {"schemas": _schemas(api), "responses": responses}
    if schemes:
        components["securitySchemes"] = schemes
    doc: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": api.title,
            "version": api.version,
            "description": _paragraphs(api.description, *_api_notes(api)),
        },
        "servers": _servers(api),
    }
    if security:
        doc["security"] = security
    doc["tags"] = [
        {"name": r.name, "description": r.description} if r.description else {"name": r.name}
        for r in api.resources
    ]
    doc["paths"] = paths
    doc["components"] = components
    return doc


def render_openapi(api: Api) -> str:
    return json.dumps(openapi_document(api), indent=2, ensure_ascii=False) + "\n"
