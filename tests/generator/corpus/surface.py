"""Specs whose every name comes from a hostile pool: keywords, builtins, dunders, pydantic and
runtime members, client attributes, generated arguments, standard-library modules, names equal
after normalisation or case-folding, unicode, quotes, very long names, plus random ones.

A drawn spec is an abstract description (plain JSON data, see `draw_spec`) that `documents`
turns into YAML documents; `repair` renames what a refusal names, so that a refused draw also
gives an accepted spec that still holds every name the rules let through."""

from __future__ import annotations

import copy
import keyword
import zlib
from typing import Any

from hypothesis import strategies as st

# snake_case places: API name, resources, operation keys, explicit Python names.
SNAKE = sorted({
    *(k for k in keyword.kwlist if k.islower()), *keyword.softkwlist[1:],
    "list", "dict", "str", "int", "float", "bool", "bytes", "id", "type", "object", "iter",
    "next", "format", "filter", "map", "set", "vars", "hash", "print", "len", "input",
    "model_dump", "model_config", "copy", "json", "schema", "validate", "construct", "fields",
    "to_wire", "close", "aclose", "base_url", "request", "request_model", "paginate",
    "download", "config", "body", "page_size", "records", "strict", "batch_size", "source",
    "destination", "filename", "content_type", "os", "self", "cls", "date", "datetime",
    "to_wire_body", "send_batch", "file_body", "typing", "sys", "types", "enum", "re",
    "collections", "abc", "builtins", "test", "site", "httpx", "pydantic", "anyio",
    "resources", "models", "exceptions", "iter_list", "list_many", "list_file", "items",
    "get", "e_mail", "email", "x" * 120,
})
# PascalCase places: models and the client class.
PASCAL = sorted({
    "Field", "Decimal", "BaseModel", "Any", "Literal", "ConfigDict", "APIError", "Operation",
    "ApiResponseModel", "ApiRequestModel", "Item", "ItemBase", "Widget", "WidgetBase", "Model",
    "Enum", "UUID", "Optional", "List", "Dict", "Type", "Mapping", "Sequence", "Iterator",
    "None", "True", "False", "Ellipsis", "Exception", "Widgets", "Types", "Resources", "Str",
    "Date", "Datetime", "Self", "Body", "Email", "EMail", "X" * 120,
})
# Wire names, text keys and enum values: any text.
TEXT = [
    "a'b", 'a"b', '"""', "'''", "\\", "x\ny", "été", "日本", "𝔘nicode", " ", "__init__",
    "__class__", "__fields__", "model_dump", "ModelDump", "class", "None", "123", "1abc",
    "a-b", "a b", "a.b", "{x}", "%s", "\t", "\u202e", "'); import os; os.system('x') #",
    "{{ 7*7 }}", "Email", "email", "EMAIL", "e_mail", "E-Mail", "ß", "ss", "ſ", "K", "K",
    "y" * 300, "Content-Length", "Authorization", "X-ApiKey",
]
# Path parameters must be alphanumeric in the path template.
PATH_WIRE = ["ShopId", "Self", "Body", "PageSize", "Class", "Id", "Os", "Type", "Records", "X1"]
SCALARS = ["string", "integer", "boolean", "decimal", "date", "datetime", "number"]
PARAM_TYPES = ["string", "integer", "boolean", "decimal", "date", "list[string]"]

_snake = st.one_of(st.sampled_from(SNAKE), st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True))
_pascal = st.one_of(st.sampled_from(PASCAL), st.from_regex(r"[A-Z][a-zA-Z0-9]{0,10}",
                                                           fullmatch=True))
_text = st.one_of(st.sampled_from(TEXT), st.text(min_size=1, max_size=12), _snake, _pascal)
_maybe = st.none() | _snake


@st.composite
def _field(draw: st.DrawFn, models: int, index: int) -> dict[str, Any]:
    # References go to later models only (no required cycle), or to the model itself when
    # optional (an optional or list cycle must generate and work).
    kinds = [*SCALARS, "model", "list", "self"] if index < models - 1 else [*SCALARS, "self"]
    kind = draw(st.sampled_from(kinds))
    if kind in ("model", "list"):
        target = draw(st.integers(index + 1, models - 1))
        kind = f"{kind}:{target}"
    required = draw(st.booleans()) and kind != "self"
    field: dict[str, Any] = {"wire": draw(_text), "type": kind, "required": required}
    if draw(st.integers(0, 3)) == 0:
        field["name"] = draw(_snake)
    if kind == "string" and draw(st.booleans()):
        field["enum"] = draw(st.lists(_text, min_size=1, max_size=3, unique=True))
    if draw(st.integers(0, 3)) == 0:
        field["aliases"] = draw(st.lists(_text, min_size=1, max_size=2, unique=True))
    return field


@st.composite
def _param(draw: st.DrawFn) -> dict[str, Any]:
    param: dict[str, Any] = {"wire": draw(_text), "in": draw(st.sampled_from(["query", "header"])),
                             "type": draw(st.sampled_from(PARAM_TYPES))}
    if draw(st.integers(0, 2)) == 0:
        param["name"] = draw(_snake | _pascal)
    if param["type"] == "string" and draw(st.integers(0, 2)) == 0:
        param["enum"] = draw(st.lists(_text, min_size=1, max_size=3, unique=True))
    return param


@st.composite
def draw_spec(draw: st.DrawFn) -> dict[str, Any]:
    """An abstract spec: the API, 1-2 resources of 1-3 operations (some paginated, some with a
    V1 name), 2-4 models and a page model per paginated operation. Names are
    unique where YAML keys hold them (a mapping cannot hold a key twice)."""
    n_models = draw(st.integers(2, 4))
    names = draw(st.lists(_pascal, min_size=n_models, max_size=n_models, unique=True))
    models = []
    for i, name in enumerate(names):
        fields = draw(st.lists(_field(n_models, i), min_size=1, max_size=4,
                               unique_by=lambda f: f["wire"]))
        model: dict[str, Any] = {"name": name, "fields": fields}
        if draw(st.integers(0, 2)) == 0:
            model["legacy"] = draw(_text)
        models.append(model)
    resources = []
    for _ in range(draw(st.integers(1, 2))):
        operations = []
        for key in draw(st.lists(_snake, min_size=1, max_size=3, unique=True)):
            post = draw(st.booleans())
            path_param = {"wire": draw(st.sampled_from(PATH_WIRE)), "name": draw(_maybe)}
            taken = path_param["wire"]
            params = draw(st.lists(_param().filter(lambda p, taken=taken: p["wire"] != taken),
                                   max_size=3, unique_by=lambda p: p["wire"]))
            op: dict[str, Any] = {
                "key": key, "wire_name": draw(_text), "post": post, "path_param": path_param,
                "params": params, "response": draw(st.integers(0, n_models - 1)),
                "body": draw(st.integers(0, n_models - 1)) if post else None,
            }
            if draw(st.integers(0, 2)) == 0:
                op["v1_wire_name"] = draw(_text)
            if draw(st.integers(0, 4)) == 0:  # a file: uploaded (POST) or downloaded (GET)
                op["body" if post else "response"] = "binary"
            if not post and op["response"] != "binary" and draw(st.integers(0, 2)) == 0:
                op["response"] = _page_model(draw, models, op["response"], names)
                op["page_method"] = draw(_maybe)
                op["params"] = [p for p in params if p["wire"] not in ("limit", "offset")]
            operations.append(op)
        resources.append({"name": draw(_snake), "description": draw(_text),
                          "operations": operations})
    return {"name": draw(_snake), "client_class": draw(_pascal), "title": draw(_text),
            "resources": resources, "models": models}


def _page_model(draw: st.DrawFn, models: list[dict[str, Any]], item: int,
                names: list[str]) -> int:
    """A model holding one page of `item` models (a list field, its wire name drawn); nothing
    refers to it, so it may refer to any model. Returns its index."""
    name = draw(_pascal.filter(lambda n: n not in names))
    names.append(name)
    wire = draw(_text)
    models.append({"name": name, "fields": [{"wire": wire, "type": f"list:{item}",
                                             "required": draw(st.booleans())}]})
    return len(models) - 1


def _type(spec: dict[str, Any], index: int, kind: str) -> str:
    if kind == "self":
        return spec["models"][index]["name"]
    if kind.startswith(("model:", "list:")):
        target = spec["models"][int(kind.split(":")[1])]["name"]
        return target if kind.startswith("model:") else f"list[{target}]"
    return kind


def documents(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The YAML documents (file name -> data) of an abstract spec."""
    api = {
        "name": spec["name"], "title": spec["title"], "client_class": spec["client_class"],
        "version": "1.0.0", "base_path": "/v2",
        "environments": {"sandbox": {"base_url": "https://sandbox.example.test",
                                     "token_url": "https://id.example.test/token"}},
        "auth": {"kind": "oauth2_client_credentials", "token_lifetime_seconds": 3600},
        "api_key": {"header": "X-ApiKey"},
        "pagination": {"offset": {"style": "offset", "limit_param": "limit",
                                  "offset_param": "offset", "max_page": 100}},
        "v1": {"base_path": "/v1"},
    }
    models: dict[str, Any] = {}
    for i, model in enumerate(spec["models"]):
        fields: dict[str, Any] = {}
        for field in model["fields"]:
            out: dict[str, Any] = {"type": _type(spec, i, field["type"])}
            if field["required"]:
                out["required"] = True
            for key in ("name", "enum", "aliases"):
                if key in field:
                    out[key] = field[key]
            fields[field["wire"]] = out
        out_model: dict[str, Any] = {"fields": fields}
        if "legacy" in model and fields:
            out_model["moves"] = [{"kind": "rename", "from": model["legacy"],
                                   "to": model["fields"][0]["wire"]}]
        models[model["name"]] = out_model
    docs: dict[str, dict[str, Any]] = {"api.yaml": {"api": api}, "models.yaml": {"models": models}}
    for r, resource in enumerate(spec["resources"]):
        operations: dict[str, Any] = {}
        for o, op in enumerate(resource["operations"]):
            path_param = op["path_param"]
            params: dict[str, Any] = {path_param["wire"]: {"in": "path", "type": "string"}}
            if path_param["name"]:
                params[path_param["wire"]]["name"] = path_param["name"]
            for param in op["params"]:
                params[param["wire"]] = {k: v for k, v in param.items() if k != "wire"}
            out_op: dict[str, Any] = {
                "wire_name": op["wire_name"], "method": "POST" if op["post"] else "GET",
                "path": f"/r{r}/o{o}/{{{path_param['wire']}}}", "summary": "An operation.",
                "confidence": "documented", "params": params,
                "response": _payload(spec, op["response"]),
            }
            if op["body"] is not None:
                out_op["body"] = _payload(spec, op["body"])
            if "v1_wire_name" in op:
                out_op["v1"] = {"wire_name": op["v1_wire_name"]}
            if "page_method" in op:
                page = spec["models"][op["response"]]
                params.update(limit={"in": "query", "type": "integer"},
                              offset={"in": "query", "type": "integer"})
                out_op["paginate"] = {"style": "offset", "items": page["fields"][0]["wire"]}
                if op["page_method"]:
                    out_op["paginate"]["method"] = op["page_method"]
            operations[op["key"]] = out_op
        docs[f"r{r}.yaml"] = {"resource": resource["name"], "description": resource["description"],
                              "operations": operations}
    return docs


def _payload(spec: dict[str, Any], payload: int | str) -> str | dict[str, str]:
    return {"kind": "binary"} if payload == "binary" else spec["models"][payload]["name"]


def _split_key(key: str, names: list[str]) -> str | None:
    """The name among `names` that the dotted `key` starts with (the longest), if any."""
    found = [n for n in names if key == n or key.startswith(n + ".")]
    return max(found, key=len) if found else None


def repair(spec: dict[str, Any], problems: list[tuple[str, str]], round_: int) -> bool:
    """Rename, in place, every element a refusal names (file name, dotted key) to a plain name
    of its kind; False when no problem names an element (nothing left to repair)."""
    changed = False
    for file, key in problems:
        changed |= _repair_one(spec, file, key, round_)
    return changed


def _repair_one(spec: dict[str, Any], file: str, key: str, round_: int) -> bool:
    tag = f"{round_}x{zlib.crc32((file + key).encode()) % 10_000}"
    if file == "api.yaml":
        if key.startswith("api.name"):
            spec["name"] = f"api{tag}"
        elif key.startswith("api.client_class"):
            spec["client_class"] = f"Client{tag}"
        elif key.startswith("api.title"):
            spec["title"] = "Title"
        else:
            return False
        return True
    if file == "models.yaml":
        names = [m["name"] for m in spec["models"]]
        name = _split_key(key.removeprefix("models."), names)
        if name is None:
            return False
        model = spec["models"][names.index(name)]
        rest = key.removeprefix(f"models.{name}").removeprefix(".")
        if rest.startswith("fields."):
            wire = _split_key(rest.removeprefix("fields."), [f["wire"] for f in model["fields"]])
            for field in model["fields"]:
                if field["wire"] == wire or wire in field.get("aliases", ()):
                    field.update(wire=f"f{tag}")
                    for key in ("name", "enum", "aliases"):
                        field.pop(key, None)
                    return True
            return False
        if rest.startswith("moves"):  # the V1 name, or a target the path syntax cannot name
            return model.pop("legacy", None) is not None
        model["name"] = f"M{tag}"
        return True
    resource = spec["resources"][int(file.removeprefix("r").removesuffix(".yaml"))]
    if not key.startswith("operations."):
        if key.startswith("description"):
            resource["description"] = "Resource."
        else:
            resource["name"] = f"res{tag}"
        return True
    ops = resource["operations"]
    keys = [op["key"] for op in ops]
    op_key = _split_key(key.removeprefix("operations."), keys)
    if op_key is None:
        return False
    op = ops[keys.index(op_key)]
    rest = key.removeprefix(f"operations.{op_key}").removeprefix(".")
    if rest.startswith("params."):
        wire = _split_key(rest.removeprefix("params."),
                          [op["path_param"]["wire"]] + [p["wire"] for p in op["params"]])
        if wire == op["path_param"]["wire"]:
            op["path_param"] = {"wire": f"P{tag}", "name": None}
            return True
        for param in op["params"]:
            if param["wire"] == wire:
                param.update(wire=f"p{tag}")
                param.pop("name", None)
                param.pop("enum", None)
                return True
        return False
    if rest.startswith("wire_name"):
        op["wire_name"] = f"Op{tag}"
    elif rest.startswith("v1"):
        op["v1_wire_name"] = f"OldOp{tag}"
    elif rest.startswith("paginate.items"):  # a wire name the path syntax cannot name (a.b)
        spec["models"][op["response"]]["fields"][0].update(wire=f"items{tag}")
    elif rest.startswith("paginate") and op.get("page_method"):
        op["page_method"] = None
    else:
        op["key"] = f"op{tag}"
        if op.get("page_method"):
            op["page_method"] = f"iter_op{tag}"
    return True


def renamed(spec: dict[str, Any], name: str) -> dict[str, Any]:
    """A copy of the spec under another API name (specs batched into one folder need unique
    package names)."""
    out = copy.deepcopy(spec)
    out["name"] = name
    return out


def value(kind: str) -> Any:
    """A JSON value of a scalar spec type."""
    return {"string": "s", "integer": 1, "boolean": True, "decimal": 1.5, "number": 2.5,
            "date": "2026-01-31", "datetime": "2026-01-31T09:30:00+00:00"}[kind]


def instance(spec: dict[str, Any], index: int, depth: int = 0) -> dict[str, Any]:
    """A wire document of model `index`: every required field, and every optional scalar."""
    doc: dict[str, Any] = {}
    for field in spec["models"][index]["fields"]:
        kind = field["type"]
        if kind in SCALARS:
            doc[field["wire"]] = field["enum"][0] if "enum" in field else value(kind)
        elif kind.startswith("model:") and (field["required"] or depth < 1):
            doc[field["wire"]] = instance(spec, int(kind.split(":")[1]), depth + 1)
        elif kind.startswith("list:") and field["required"]:
            doc[field["wire"]] = []
    return doc

