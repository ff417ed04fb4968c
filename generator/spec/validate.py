"""Stage 2: check spec documents against the meta-schema, then the rules a schema cannot express
(path parameters, duplicates, references, move targets, impossible cycles). Every problem names
the file, line, column and key; all problems are reported together."""

from __future__ import annotations

import difflib
import json
import keyword
import re
from collections.abc import Iterator
from functools import cache as memoize
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generator import cache
from generator.model import paths
from generator.model.build import (
    PLACEHOLDER,
    EnvelopeUse,
    build_api,
    build_models,
    envelope_use,
    paging_methods,
    pattern_of,
    reachable,
)
from generator.model.ir import PATH_PARAM, Api, Model, TypeRef
from generator.model.names import (
    BUILTIN_TYPES,
    TYPED_DICT_SUFFIX,
    field_name,
    helper_dict_name,
    is_identifier,
    pascal,
    snake,
)
from generator.model.scalars import FORMATS, SCALARS
from generator.spec import surface
from generator.spec.errors import Loc, Problem, SpecError
from generator.spec.load import Document, load_api_dir

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError

_MAX_NAME = 100  # characters of a name that becomes a file name
_HEADER_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # a field name (RFC 9110 token)
_HEADER_VALUE = re.compile(r"[!-~]([ -~]*[!-~])?")  # visible ASCII, inner spaces
# Headers every request gets from the client itself (with the API key and MFA headers).
_CLIENT_HEADERS = ("Authorization", "Accept", "User-Agent", "Content-Type", "Content-Length",
                   "Content-Disposition", "Host")
META_SCHEMA_PATH = Path(__file__).with_name("spec.schema.json")


@memoize
def _meta_schema_bytes() -> bytes:
    return META_SCHEMA_PATH.read_bytes()


@memoize
def _validator() -> Draft202012Validator:
    # Imported here: a warm run, whose documents all passed before, never needs jsonschema.
    from jsonschema import Draft202012Validator

    return Draft202012Validator(json.loads(_meta_schema_bytes()))


def _expected(error: ValidationError) -> str:
    """A short statement of the rule that failed, in the spec author's terms."""
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = (
            sorted(set(error.instance) - set(allowed)) if isinstance(error.instance, dict) else []
        )
        return _unknown_keys(extra, allowed)
    if error.validator == "required":
        return error.message.replace("is a required property", "is required here")
    if error.validator == "enum":
        choices = ", ".join(map(str, error.validator_value))
        return f"{error.instance!r} is not allowed; expected one of: {choices}"
    if error.validator == "pattern":
        return f"{error.instance!r} does not match the rule {error.validator_value}"
    if error.validator == "type":
        got = type(error.instance).__name__
        return f"expected {error.validator_value}, got {got}: {error.instance!r}"
    if error.validator == "oneOf":
        return f"{error.instance!r} is neither a model name nor a mapping with 'kind'"
    if error.validator == "propertyNames":
        return f"invalid name {error.instance!r}"
    if error.validator == "const" and "description" in error.schema:  # the rule, in words
        return f"{error.instance!r} is not allowed: {error.schema['description']}"
    return error.message


def _unknown_keys(extra: list[Any], allowed: list[str]) -> str:
    """Names the keys not allowed here and, for one misspelt key, the allowed key it is
    closest to."""
    message = f"unknown key {', '.join(map(repr, extra))}"
    by_lower = {key.lower(): key for key in allowed}  # a wrong case is a misspelling too
    close = (difflib.get_close_matches(str(extra[0]).lower(), list(by_lower), n=1)
             if len(extra) == 1 else [])
    if close:
        message += f"; did you mean {by_lower[close[0]]!r}?"
    return f"{message} (expected one of: {', '.join(allowed)})"


def _leaf_errors(error: ValidationError) -> Iterator[ValidationError]:
    # For if/then and allOf, the nested errors say more than the wrapper.
    if error.context and error.validator in ("allOf", "anyOf"):
        for sub in error.context:
            yield from _leaf_errors(sub)
    else:
        yield error


def check_meta_schema(doc: Document) -> list[Problem]:
    problems = []
    for error in _validator().iter_errors(doc.data):
        for leaf in _leaf_errors(error):
            path = list(leaf.absolute_path)
            if leaf.validator == "additionalProperties" and isinstance(leaf.instance, dict):
                allowed = set(leaf.schema.get("properties", {}))
                for extra in sorted(set(leaf.instance) - allowed, key=str):
                    problems.append(
                        Problem(
                            doc.loc([*path, extra]),
                            ".".join(map(str, [*path, extra])),
                            _unknown_keys([extra], sorted(allowed)),
                        )
                    )
                continue
            if leaf.validator == "propertyNames":
                path = [*path, leaf.instance]
            problems.append(Problem(doc.loc(path), ".".join(map(str, path)), _expected(leaf)))
    return problems


class _Checker:
    """Cross-file rules over documents that already passed the meta-schema."""

    def __init__(self, documents: list[Document]):
        self.docs = documents
        self.problems: list[Problem] = []
        self.models: dict[str, tuple[Document, dict[str, Any]]] = {}
        self.api: tuple[Document, dict[str, Any]] | None = None
        # (resource, operation) -> the model an envelope body expands to
        self.envelope_bodies: dict[tuple[str, str], str] = {}
        self.envelope_uses: list[EnvelopeUse] = []
        # The models as built from their specs (types linked), for the rules that follow
        # wire paths; set once every model spec, envelopes included, is known.
        self.shapes: dict[str, Model] = {}

    def error(self, doc: Document, path: list[str | int], message: str) -> None:
        self.problems.append(Problem(doc.loc(path), ".".join(map(str, path)), message))

    def leads_to(self, model: str, path: str, kind: str = "") -> bool:
        """Whether `path` names a field inside `model` (of that type kind, if given)."""
        end = paths.resolve(self.shapes.get(model), path)
        return end is not None and (not kind or end.type.kind == kind)

    def run(self) -> list[Problem]:
        self.collect()
        self.expand_envelopes()
        self.shapes = build_models({name: spec for name, (_, spec) in self.models.items()})
        if self.api is None:
            first = self.docs[0]
            self.problems.append(
                Problem(Loc(first.path, 1, 1), "api", "no file of this API has the 'api' section")
            )
            return self.problems
        self.check_api()
        self.check_models()
        self.check_operations()
        self.check_surface()
        return self.problems

    def check_surface(self) -> None:
        """Names the generated package takes from the spec must not shadow what it relies on
        (generator/spec/surface.py reads those from the runtime, pydantic and the templates)."""
        assert self.api is not None
        doc, api = self.api
        why = surface.package_name_problem(api["name"])
        if why:
            self.error(doc, ["api", "name"], f"{why}; choose another API name")
        # generated class or exported name -> what it is, for the messages
        classes: dict[str, str] = dict.fromkeys(
            surface.package_exports() - surface.module_names(), "a name the package exports")
        for suffix in sorted(surface.client_class_suffixes()):
            for cls in (api["client_class"] + suffix, "Async" + api["client_class"] + suffix):
                if cls in surface.module_names() or cls in classes:
                    self.error(doc, ["api", "client_class"],
                               f"{cls!r} is a name the package already exports or imports")
                classes[cls] = f"the client class {cls}"
        resources = {d.data["resource"]: d for d in self.docs if d.data.get("resource")}
        for resource, rdoc in resources.items():
            for suffix in sorted(surface.resource_class_suffixes() - {""}):
                for cls in (pascal(resource) + suffix, "Async" + pascal(resource) + suffix):
                    classes.setdefault(cls, f"the class {cls} generated for resource "
                                       f"{resource!r} ({rdoc.path})")
        for name, (mdoc, _) in self.models.items():
            if name in surface.module_names() or name in classes:
                self.error(mdoc, ["models", name], f"model name {name!r} would shadow "
                           f"{classes.get(name, 'a name the generated modules import')}")
            elif name.endswith("Base") and name.removesuffix("Base") in self.models:
                self.error(mdoc, ["models", name], f"model name {name!r} is the name of the "
                           f"base class generated for model {name.removesuffix('Base')}")
            elif (name.endswith(TYPED_DICT_SUFFIX)
                  and (plain := name.removesuffix(TYPED_DICT_SUFFIX)) in self.models):
                self.error(mdoc, ["models", name], f"model name {name!r} is the name of the "
                           f"TypedDict generated for model {plain}")
        files: dict[str, str] = {}
        for doc_ in self.docs:
            resource = doc_.data.get("resource")
            if not resource:
                continue
            if resource in files:
                self.error(doc_, ["resource"], f"resource {resource!r} is also the resource of "
                           f"{files[resource]}; one file per resource")
                continue
            files[resource] = doc_.path
            if len(resource) > _MAX_NAME:
                self.error(doc_, ["resource"], f"longer than {_MAX_NAME} characters "
                           "(it names a file)")
            if resource in surface.client_attributes() or keyword.iskeyword(resource):
                self.error(doc_, ["resource"], f"resource {resource!r} would shadow the "
                           "client attribute of that name")
            for cls in (pascal(resource), "Async" + pascal(resource)):
                if cls in surface.module_names() or cls in self.models or (
                    classes.get(cls, resource) != resource
                ):
                    self.error(doc_, ["resource"], f"resource class {cls!r} would shadow "
                               f"{classes.get(cls) or 'a model or an imported name'}")
                classes[cls] = f"the class of resource {resource!r}"
            self.check_methods(doc_)

    def check_methods(self, doc: Document) -> None:
        """Every method of a resource class, and every argument of each, is one name."""
        methods: dict[str, str] = {}
        for op_name, op in doc.data.get("operations", {}).items():
            base: list[str | int] = ["operations", op_name]
            py = snake(op_name)
            made = [py]
            trimmed = py.strip("_")
            if isinstance(op.get("body"), dict) and "envelope" in op["body"]:
                made.append(f"{trimmed}_many")
            made += [f"{trimmed}_file"] * ("file" in op)
            made += [f"{trimmed}_and_upload"] * ("presigned_upload" in op)
            if "paginate" in op:
                made += paging_methods(op_name, op["paginate"])
            for method in made[1:] if "file" in op or "presigned_upload" in op else ():
                helper = helper_dict_name(doc.data["resource"], method)
                if helper in self.models or helper.removesuffix(TYPED_DICT_SUFFIX) in self.models:
                    self.error(doc, base, f"the TypedDict {helper!r} of method {method!r} would "
                               "clash with a model or a model's TypedDict of that name")
            for method in made:
                if not is_identifier(method) or method.startswith("_"):
                    self.error(doc, base, f"method name {method!r} is not a usable Python name")
                elif method in surface.resource_imports():
                    self.error(doc, base, f"method name {method!r} would shadow the name the "
                               "resource module imports (its annotations use it)")
                elif method in methods:
                    self.error(doc, base, f"method {method!r} clashes with the method of "
                               f"operation {methods[method]!r}")
                methods[method] = op_name
            for wire, param in op.get("params", {}).items():
                name = param.get("name") or snake(wire)
                if name in surface.generated_arguments() or name in self.models:
                    self.error(doc, [*base, "params", wire], f"Python name {name!r} is an "
                               "argument, model or name the generated method uses itself; give "
                               "the parameter another `name:`")

    def collect(self) -> None:
        for doc in self.docs:
            if "api" in doc.data:
                if self.api is not None:
                    self.error(
                        doc, ["api"], f"second 'api' section; the first is in {self.api[0].path}"
                    )
                else:
                    self.api = (doc, doc.data["api"])
            for name, spec in doc.data.get("models", {}).items():
                if name in self.models:
                    self.error(
                        doc,
                        ["models", name],
                        f"model {name} is defined twice (also in {self.models[name][0].path})",
                    )
                else:
                    self.models[name] = (doc, spec)

    def expand_envelopes(self) -> None:
        """Check envelope definitions and uses, and add the models they expand to."""
        envelopes: dict[str, tuple[Document, dict[str, Any]]] = {}
        for doc in self.docs:
            for name, spec in doc.data.get("envelopes", {}).items():
                if name in envelopes:
                    self.error(
                        doc,
                        ["envelopes", name],
                        f"envelope {name} is defined twice (also in {envelopes[name][0].path})",
                    )
                    continue
                envelopes[name] = (doc, spec)
                self.check_envelope(doc, name, spec)
        for doc in self.docs:
            resource = doc.data.get("resource", "")
            for op_name, op in doc.data.get("operations", {}).items():
                body = op.get("body")
                if not (isinstance(body, dict) and "envelope" in body):
                    continue
                path: list[str | int] = ["operations", op_name, "body"]
                if body["envelope"] not in envelopes:
                    self.error(doc, [*path, "envelope"], f"undefined envelope {body['envelope']!r}")
                    continue
                envelope = envelopes[body["envelope"]][1]
                expected, given = set(envelope["parameters"]), set(body["args"])
                if expected != given:
                    self.error(
                        doc,
                        [*path, "args"],
                        f"envelope {body['envelope']} takes "
                        f"{', '.join(sorted(expected))}; got {', '.join(sorted(given))}",
                    )
                    continue
                for param, model in body["args"].items():
                    self.check_model_ref(doc, [*path, "args", param], model)
                use = envelope_use(resource, op_name, body["envelope"], envelope, body["args"])
                self.envelope_uses.append(use)
                self.envelope_bodies[(resource, op_name)] = use.root
                for name, spec in use.models.items():
                    if name in self.models:
                        self.error(
                            doc,
                            path,
                            f"envelope model {name} clashes with the model "
                            f"defined in {self.models[name][0].path}",
                        )
                    else:
                        self.models[name] = (doc, spec)

    def check_envelope(self, doc: Document, name: str, spec: dict[str, Any]) -> None:
        base: list[str | int] = ["envelopes", name]
        known = set(spec["parameters"]) | set(spec["models"])
        for model, mspec in spec["models"].items():
            for wire, field in mspec["fields"].items():
                for placeholder in PLACEHOLDER.findall(field["type"]):
                    if placeholder not in known:
                        self.error(
                            doc,
                            [*base, "models", model, "fields", wire, "type"],
                            f"{{{placeholder}}} is neither a parameter nor a model of "
                            f"envelope {name}",
                        )
        root = spec["models"].get(spec["root"])
        if root is None:
            self.error(doc, [*base, "root"], f"root {spec['root']!r} is not a model of {name}")
            return
        batch = spec.get("batch")
        if batch:
            records = root["fields"].get(batch["records"])
            if records is None or not records["type"].startswith("list["):
                self.error(
                    doc,
                    [*base, "batch", "records"],
                    f"{batch['records']!r} is not a list field of {spec['root']}",
                )
            for keep in batch.get("keep", ()):
                if keep not in root["fields"]:
                    self.error(
                        doc, [*base, "batch", "keep"], f"{keep!r} is not a field of {spec['root']}"
                    )

    def check_model_ref(self, doc: Document, path: list[str | int], name: str) -> bool:
        if name and name not in self.models:
            self.error(doc, path, f"reference to undefined model {name!r}")
            return False
        return True

    def check_api(self) -> None:
        assert self.api is not None
        doc, api = self.api
        if "errors" in api:
            self.check_model_ref(doc, ["api", "errors", "model"], api["errors"]["model"])
        field_types = api.get("v1", {}).get("field_types")
        if field_types:
            path = ["api", "v1", "field_types"]
            if self.check_model_ref(doc, [*path, "schema"], field_types["schema"]):
                if not self.leads_to(field_types["schema"], field_types["items"] + "[]", "model"):
                    self.error(doc, [*path, "items"], f"{field_types['items']!r} is not a list "
                               f"of models in {field_types['schema']}")
        has_token_url = all("token_url" in e for e in api["environments"].values())
        if not has_token_url and "token_path" not in api["auth"]:
            self.error(
                doc, ["api", "auth"], "needs token_path, or a token_url in every environment"
            )

    def check_models(self) -> None:
        requests = reachable({n: spec for n, (_, spec) in self.models.items()}, {
            body if isinstance(body, str) else body.get("model", "")
            for doc in self.docs for op in doc.data.get("operations", {}).values()
            if (body := op.get("body"))} | set(self.envelope_bodies.values()))
        for name, (doc, spec) in self.models.items():
            base: list[str | int] = ["models", name]
            py_names: dict[str, str] = {}
            for wire, field in spec["fields"].items():
                fpath = [*base, "fields", wire]
                for ref in TypeRef.parse(field["type"]).models():
                    self.check_model_ref(doc, [*fpath, "type"], ref)
                if "name" in field and not is_identifier(field["name"]):
                    self.error(
                        doc, [*fpath, "name"], f"{field['name']!r} is not a usable Python name"
                    )
                elif "name" in field and field["name"].startswith("_"):
                    self.error(doc, [*fpath, "name"], "a field name may not start with '_' "
                               "(pydantic keeps those private)")
                elif field.get("name") in BUILTIN_TYPES:
                    self.error(doc, [*fpath, "name"], f"{field['name']!r} is a builtin the "
                               f"model's annotations use; name it {field['name'] + '_'!r}")
                py_name = field.get("name") or field_name(wire)
                if py_name in self.models:
                    self.error(doc, fpath, f"Python name {py_name!r} is the name of a model; "
                               "give the field another `name:`")
                elif surface.shadows_model_member(py_name):
                    self.error(doc, fpath, f"Python name {py_name!r} would shadow the model "
                               "member of that name (pydantic or the runtime); give the field "
                               "another `name:`")
                self.check_pattern(doc, fpath, field)
                if "example" in field:
                    self.check_field_example(doc, [*fpath, "example"], field)
                if py_name in py_names:
                    self.error(doc, fpath, f"Python name clashes with field {py_names[py_name]!r}")
                py_names[py_name] = wire
            wire_names: dict[str, str] = {wire: wire for wire in spec["fields"]}
            for wire, field in spec["fields"].items():
                for i, alias in enumerate(field.get("aliases", ())):
                    owner = wire_names.setdefault(alias, wire)
                    if owner != wire or alias == wire:
                        self.error(doc, [*base, "fields", wire, "aliases", i], f"alias "
                                   f"{alias!r} is already a wire name of field {owner!r}; a key "
                                   "must name one field")
            if name in requests:  # callers give these by wire or Python names
                self.check_names_apart(doc, [*base, "fields"], {
                    wire: (field.get("name") or field_name(wire), {wire, *field.get("aliases", ())})
                    for wire, field in spec["fields"].items()}, "field")
            for i, move in enumerate(spec.get("moves", [])):
                mpath = [*base, "moves", i]
                for key in ("to", "field"):
                    if key in move and not self.leads_to(name, move[key]):
                        self.error(doc, [*mpath, key], f"move target {move[key]!r} is not a "
                                   f"field path of model {name}")
                self.check_instances_and_types(doc, name, move, mpath)
                legacy = move.get("from", "")
                if move["kind"] in ("rename", "move") and legacy.isidentifier() and (
                    surface.shadows_model_member(legacy) or surface.shadows_model_member(
                        snake(legacy))
                ):
                    self.error(doc, [*mpath, "from"], f"V1 name {legacy!r} would shadow the "
                               "model member of that name")
                first = move.get("from", "").split(".")[0].removesuffix("[]")
                if move["kind"] in ("rename", "move", "removed") and first in spec["fields"]:
                    self.error(
                        doc,
                        [*mpath, "from"],
                        f"V1 name {first!r} is still a field of {name}; use kind 'flatten' "
                        "or 'format' for a change inside an existing field",
                    )
        self.check_cycles()

    def check_instances_and_types(
        self, doc: Document, model: str, move: dict[str, Any], path: list[str | int]
    ) -> None:
        """An `instances` move regroups entries of one list; `when_type` needs field types."""
        if move["kind"] == "instances":
            # `list[].key` for both, the same list: None marks a path that is not of that form
            heads = {
                head if inside and "." not in key else None
                for head, inside, key in (move[k].rpartition("[].") for k in ("from", "to"))
            }
            item = heads.pop() if len(heads) == 1 else None
            if not item:
                self.error(doc, path, "from and to must be keys of the items of one list")
            elif not self.leads_to(model, f"{item}[].{move['key']}"):
                self.error(
                    doc, [*path, "key"], f"{move['key']!r} is not a field of {item}[] in {model}"
                )
        if "when_type" in move and not (self.api and "field_types" in self.api[1].get("v1", {})):
            self.error(doc, [*path, "when_type"], "needs api.v1.field_types to tell the types")

    def check_cycles(self) -> None:
        # A required, non-nullable, direct model reference must be filled in; a loop of those
        # describes an infinitely deep document, which no JSON value or model can hold.
        edges: dict[str, list[str]] = {}
        for name, (_, spec) in self.models.items():
            for field in spec["fields"].values():
                ref = TypeRef.parse(field["type"])
                if ref.kind == "model" and field.get("required") and not field.get("nullable"):
                    edges.setdefault(name, []).append(ref.name)
        state: dict[str, int] = {}

        def visit(node: str, trail: list[str]) -> None:
            state[node] = 1
            for nxt in edges.get(node, []):
                if state.get(nxt) == 1:
                    loop = [*trail[trail.index(nxt) :], nxt] if nxt in trail else [node, nxt]
                    doc, _ = self.models[node]
                    self.error(
                        doc,
                        ["models", node],
                        "required fields form a cycle no document can satisfy: "
                        + " -> ".join(loop)
                        + "; make one of them optional or nullable",
                    )
                elif nxt in self.models and state.get(nxt) is None:
                    visit(nxt, [*trail, nxt])
            state[node] = 2

        for name in sorted(edges):
            if state.get(name) is None:
                visit(name, [name])

    def check_operations(self) -> None:
        assert self.api is not None
        api = self.api[1]
        wire_names: dict[str, str] = {}
        py_names: dict[tuple[str, str], str] = {}
        for doc in self.docs:
            resource = doc.data.get("resource", "")
            for name, op in doc.data.get("operations", {}).items():
                base: list[str | int] = ["operations", name]
                key = (resource, name)
                if key in py_names:
                    self.error(
                        doc,
                        base,
                        f"duplicate operation {resource}.{name} (also in {py_names[key]})",
                    )
                py_names[key] = doc.path
                if op["wire_name"] in wire_names:
                    self.error(
                        doc,
                        [*base, "wire_name"],
                        f"duplicate operation wire name "
                        f"{op['wire_name']!r} (also in {wire_names[op['wire_name']]})",
                    )
                wire_names[op["wire_name"]] = doc.path
                self.check_params(doc, base, op)
                models = {}
                for part in ("body", "response"):
                    payload = op.get(part)
                    if isinstance(payload, dict) and "envelope" in payload:
                        continue  # checked, and expanded, in expand_envelopes
                    model = (
                        payload if isinstance(payload, str) else (payload or {}).get("model", "")
                    )
                    models[part] = model
                    self.check_model_ref(doc, [*base, part], model)
                    if isinstance(payload, dict) and payload["kind"] == "json" and not model:
                        self.error(doc, [*base, part], "a json payload needs a model")
                self.check_paginate(doc, base, op, api)
                self.check_file_fields(doc, base, op, models)
                body_model = self.envelope_bodies.get((resource, name), models.get("body", ""))
                self.check_requires(doc, base, op, body_model)
                self.check_returns(doc, base, op, models.get("response", ""))
                self.check_body_arguments(doc, base, op, body_model)

    def check_returns(
        self, doc: Document, base: list[str | int], op: dict[str, Any], response: str
    ) -> None:
        """`returns` names one field of the JSON answer, of an operation whose method returns
        the answer itself (a page, a batch result or a download has its own return)."""
        if "returns" not in op:
            return
        path = [*base, "returns"]
        shape = self.shapes.get(response)
        if shape is None:
            self.error(doc, path, "the operation has no JSON response model to return a field of")
        elif shape.field(op["returns"]) is None:
            self.error(doc, path, f"{op['returns']!r} is not a field of {response} (a wire "
                       f"name, one level down: {', '.join(f.wire_name for f in shape.fields)})")
        for other in ("paginate", "batch"):
            if other in op:
                self.error(doc, path, f"an operation with `{other}` returns its own result; "
                           "`returns` cannot pick a field of it")

    def check_body_arguments(
        self, doc: Document, base: list[str | int], op: dict[str, Any], body: str
    ) -> None:
        """`body_arguments` turns a flat body's fields into keyword arguments: each must be a
        scalar or a list of scalars, and its Python name free among the method's arguments."""
        if not op.get("body_arguments"):
            return
        path = [*base, "body_arguments"]
        shape = self.shapes.get(body)
        if shape is None:
            self.error(doc, path, "the operation has no JSON body model to take arguments from")
            return
        for other in ("batch", "file", "presigned_upload"):
            if other in op:
                self.error(doc, path, f"an operation with `{other}` takes its body whole")
        taken = {p.get("name") or snake(w): w for w, p in op.get("params", {}).items()}
        for field in shape.fields:
            if field.type.models():
                self.error(doc, path, f"field {field.wire_name!r} of {body} holds a model; "
                           "only a flat body (scalars and lists of scalars) becomes arguments")
            elif field.nullable and not field.required:
                self.error(doc, path, f"field {field.wire_name!r} of {body} is optional and "
                           "nullable: as a keyword argument, None could not say whether to "
                           "send null or nothing; keep the body whole")
            elif field.python_name in surface.generated_arguments():
                self.error(doc, path, f"field {field.wire_name!r} of {body} would be argument "
                           f"{field.python_name!r}, which the method already has; give the "
                           "field another `name:`")
            elif field.python_name in taken:
                self.error(doc, path, f"field {field.wire_name!r} of {body} would be argument "
                           f"{field.python_name!r}, the Python name of parameter "
                           f"{taken[field.python_name]!r}")

    def check_pattern(self, doc: Document, path: list[str | int], spec: dict[str, Any]) -> None:
        """A pattern must compile, and a checked format or a pattern needs string values."""
        checked = spec.get("format") in FORMATS
        if "pattern" in spec:
            try:
                re.compile(spec["pattern"])
            except re.error as exc:
                self.error(doc, [*path, "pattern"], f"not a regular expression: {exc}")
        if (checked or "pattern" in spec) and spec["type"] not in ("string", "list[string]"):
            key = "pattern" if "pattern" in spec else "format"
            self.error(
                doc, [*path, key], f"{key} applies to string values; the type is {spec['type']}"
            )

    def check_requires(
        self, doc: Document, base: list[str | int], op: dict[str, Any], body_model: str
    ) -> None:
        """Each place of a `requires` rule names a body field path or a declared parameter."""
        params = op.get("params", {})
        for i, rule in enumerate(op.get("requires", ())):
            for j, place in enumerate(rule["one_of"]):
                ((location, target),) = place.items()
                path = [*base, "requires", i, "one_of", j, location]
                if location == "body":
                    if not body_model:
                        self.error(doc, path, "the operation has no JSON body model")
                    elif not self.leads_to(body_model, target):
                        self.error(doc, path, f"{target!r} is not a field path of {body_model}")
                elif params.get(target, {}).get("in") != location:
                    self.error(doc, path, f"{target!r} is not a {location} parameter here")

    def check_file_fields(
        self, doc: Document, base: list[str | int], op: dict[str, Any], models: dict[str, str]
    ) -> None:
        """`file` and `presigned_upload` name fields of the body and paths of the response."""
        body = op.get("body")
        if isinstance(body, dict) and "envelope" in body:
            body_model = ""  # envelope bodies carry records, not a single file
        else:
            body_model = models.get("body", "")
        checks: list[tuple[str, str, str]] = []
        if "file" in op:
            spec = op["file"]
            checks += [("file", k, body_model) for k in ("field", "name_field") if k in spec]
        if "presigned_upload" in op:
            spec = op["presigned_upload"]
            checks += [
                ("presigned_upload", k, models.get("response", ""))
                for k in ("uri", "headers", "method", "expires_at")
                if k in spec
            ]
            checks += [
                ("presigned_upload", k, body_model)
                for k in ("size_field", "name_field")
                if k in spec
            ]
        for section, key, model in checks:
            target = op[section][key]
            if not model or not self.leads_to(model, target):
                self.error(
                    doc,
                    [*base, section, key],
                    f"{target!r} is not a field path of "
                    f"{model or 'the operation (it has no JSON model here)'}",
                )

    def check_params(self, doc: Document, base: list[str | int], op: dict[str, Any]) -> None:
        in_path = PATH_PARAM.findall(op["path"])
        params = op.get("params", {})
        for wire in in_path:
            if wire not in params or params[wire]["in"] != "path":
                self.error(
                    doc,
                    [*base, "path"],
                    f"path parameter {{{wire}}} has no 'params' entry with in: path",
                )
        seen: dict[str, str] = {}
        headers: dict[str, str] = {}
        for wire, param in params.items():
            if param["in"] == "header":
                self.check_header(doc, [*base, "params", wire], wire, param, headers)
            if param["in"] == "path" and wire not in in_path:
                self.error(
                    doc,
                    [*base, "params", wire],
                    f"path parameter {wire!r} does not appear in path {op['path']!r}",
                )
            self.check_pattern(doc, [*base, "params", wire], param)
            py = param.get("name") or snake(wire)
            if "name" in param and not is_identifier(param["name"]):
                self.error(
                    doc,
                    [*base, "params", wire, "name"],
                    f"{param['name']!r} is not a usable Python name",
                )
            if py in seen:
                self.error(doc, [*base, "params", wire], f"Python name clashes with {seen[py]!r}")
            seen[py] = wire
            if "example" in param:
                self.check_param_example(doc, [*base, "params", wire, "example"], param)
        for location in ("path", "query", "header"):
            self.check_names_apart(doc, [*base, "params"], {
                wire: (param.get("name") or snake(wire), {wire})
                for wire, param in params.items() if param["in"] == location}, "parameter")

    def check_names_apart(self, doc: Document, base: list[str | int],
                          names: dict[str, tuple[str, set[str]]], kind: str) -> None:
        """Callers may give a field or parameter by its wire or its Python name, so no Python
        name may be another one's wire name: the value would go to the wrong one."""
        wires = {w: key for key, (_, ws) in names.items() for w in ws}
        for key, (py, _) in names.items():
            other = wires.get(py, key)
            if other != key:
                self.error(doc, [*base, key], f"Python name {py!r} is the wire name of {kind} "
                           f"{other!r}; a value given under it could not be told apart; give "
                           f"the {kind} another `name:`")

    def check_header(self, doc: Document, path: list[str | int], wire: str,
                     param: dict[str, Any], headers: dict[str, str]) -> None:
        """A header parameter is a field name HTTP can carry, one the client does not set
        itself, once per operation ignoring case; its enum values are sendable header text."""
        assert self.api is not None
        api = self.api[1]
        own = [*_CLIENT_HEADERS, api.get("api_key", {}).get("header", ""),
               *api.get("mfa", {}).values()]
        if not _HEADER_TOKEN.fullmatch(wire):
            self.error(doc, path, f"header name {wire!r} is not an HTTP field name (letters, "
                       "digits and !#$%&'*+-.^_`|~ only)")
        elif wire.lower() in {str(h).lower() for h in own if h}:
            self.error(doc, path, f"header {wire!r} is one the client sets on every request "
                       "itself")
        elif wire.lower() in headers:
            self.error(doc, path, f"header {wire!r} is also parameter {headers[wire.lower()]!r} "
                       "(header names ignore case)")
        headers[wire.lower()] = wire
        for i, value in enumerate(param.get("enum", ())):
            if isinstance(value, str) and not _HEADER_VALUE.fullmatch(value):
                self.error(doc, [*path, "enum", i], f"header value {value!r} is not visible "
                           "ASCII text (an HTTP header cannot carry it as is)")

    def check_param_example(
        self, doc: Document, path: list[str | int], param: dict[str, Any]
    ) -> None:
        """An example is sent as the parameter's value (contract test): it must be one."""
        example, kind = param["example"], param["type"]
        wanted = SCALARS[kind.removeprefix("list[").removesuffix("]")].literals
        problem = _example_problem(example, wanted, kind, param.get("enum"))
        if problem:
            self.error(doc, path, problem)

    def check_field_example(
        self, doc: Document, path: list[str | int], field: dict[str, Any]
    ) -> None:
        """A field's example is put in bodies the README sends: a value the field takes (of a
        list of scalars, one item), within its enum and its pattern or checked format."""
        example, ref = field["example"], TypeRef.parse(field["type"])
        ref = ref.item if ref.kind == "list" and ref.item is not None else ref
        options = ref.options if ref.kind == "union" else (ref,)
        if any(o.kind != "scalar" or o.name not in SCALARS for o in options):
            self.error(doc, path, f"an example is for a scalar field or a list of scalars; "
                       f"type {field['type']!r} is neither")
            return
        wanted = tuple(t for o in options for t in SCALARS[o.name].literals)
        pattern = pattern_of(field)
        problem = _example_problem(example, wanted, field["type"], field.get("enum"))
        if problem:
            self.error(doc, path, problem)
        elif pattern and isinstance(example, str) and _safe_search(pattern, example) is False:
            self.error(doc, path, f"example {example!r} does not match the field's pattern "
                       f"{pattern!r}")

    def check_paginate(
        self, doc: Document, base: list[str | int], op: dict[str, Any], api: dict[str, Any]
    ) -> None:
        if "paginate" not in op:
            return
        style_name = op["paginate"]["style"]
        style = api.get("pagination", {}).get(style_name)
        if style is None:
            self.error(
                doc,
                [*base, "paginate", "style"],
                f"pagination style {style_name!r} is not defined under api.pagination",
            )
            return
        for param in (style["limit_param"], style["offset_param"]):
            if param not in op.get("params", {}):
                self.error(
                    doc, [*base, "paginate"], f"paginated operation lacks parameter {param!r}"
                )
        response = (
            op["response"] if isinstance(op["response"], str) else op["response"].get("model")
        )
        if response in self.models and not self.leads_to(response, op["paginate"]["items"], "list"):
            self.error(doc, [*base, "paginate", "items"],
                       f"{op['paginate']['items']!r} is not a list field of {response}")


def _example_problem(example: Any, wanted: tuple[type, ...], kind: str,
                     enum: list[Any] | None) -> str:
    """What is wrong with an example of a value of `kind` (whose YAML values have the types
    `wanted`), or ''."""
    if isinstance(example, bool) is not (bool in wanted) or not isinstance(example, wanted):
        return f"example {example!r} is not a value of type {kind}"
    if enum and example not in enum:
        return f"example {example!r} is not one of the enum values"
    return ""


def _safe_search(pattern: str, text: str) -> bool | None:
    """Whether `pattern` matches in `text`; None when it does not compile (check_pattern
    reports that)."""
    try:
        return re.search(pattern, text) is not None
    except re.error:
        return None


@cache.stage("meta-schema", "jsonschema", reads=[META_SCHEMA_PATH])
def _passes_meta_schema(doc: Document) -> bool:
    """Kept (a warm run's main cost otherwise), keyed by the document's parse; a failing
    document is checked again for its problems, which name its path."""
    return not check_meta_schema(doc)


def validate(documents: list[Document]) -> Api:
    """The model of one API's documents, or SpecError listing every problem in them."""
    problems = [p for doc in documents if not _passes_meta_schema(doc)
                for p in check_meta_schema(doc)]
    if problems:
        raise SpecError(problems)
    checker = _Checker(documents)
    problems = checker.run()
    if problems:
        raise SpecError(problems)
    return build_api(documents, checker.envelope_uses, checker.shapes)


def load_api(api_dir: Path, documents: list[Document] | None = None) -> Api:
    """The model of the API whose spec files are in `api_dir` (or of its documents, read
    already), or SpecError."""
    return validate(load_api_dir(api_dir) if documents is None else documents)
