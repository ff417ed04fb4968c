"""Merge pulled JSON Schemas (specs/<api>/schemas/<WireName>.<kind>.json) into the IR.

A pulled schema is untrusted server output: it may only add optional fields the YAML lacks.
The YAML wins on names, aliases, docs and types; what the YAML names but the schema lacks is
reported as a finding. Names become safe identifiers (the original stays the wire alias) and
descriptions become plain one-line text."""

from __future__ import annotations

import ast
import functools
import json
import re
import unicodedata
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal, NoReturn
from urllib.parse import unquote

from generator.model.build import link
from generator.model.ir import Api, Field, Model, TypeRef
from generator.model.names import field_name, snake
from generator.model.scalars import scalar_of_json_type
from generator.spec.errors import Loc, Problem, SpecError
from generator.spec.load import display_path
from generator.templates import runtime_source

Kind = Literal["request", "response"]
KINDS: tuple[Kind, ...] = ("request", "response")
MAX_DESCRIPTION = 500
MAX_DEPTH = 100  # JSON nesting, and references followed in a row, in one pulled schema
MAX_BYTES = 16 * 2**20  # of one pulled schema file
_WHITESPACE = re.compile(r"\s+")
_ANY = TypeRef("scalar", name="any")


@dataclass(frozen=True)
class EnrichmentNote:
    """One result of comparing a pulled schema with the YAML, for ENRICHMENT.md: the file was
    `pulled` (compared), a field was `added` (then `field` is the new field of `model`), or a
    `mismatch` the YAML author should look at (a field the schema lacks, an unlike shape)."""

    operation: str  # wire name
    kind: Kind
    path: str  # JSON path inside the body: `data[].header.status`; '' is the root
    message: str
    category: Literal["pulled", "added", "mismatch"] = "mismatch"
    model: str = ""
    field: Field | None = None


_CATEGORIES = ("pulled", "added", "mismatch")


def schema_file(schemas_dir: Path, wire_name: str, kind: str) -> Path:
    return schemas_dir / f"{wire_name}.{kind}.json"


def inert_text(text: Any) -> str:
    """Plain one-line text from an untrusted description: no control or format characters
    (newlines, bidi overrides), single spaces, at most MAX_DESCRIPTION characters."""
    if not isinstance(text, str):
        return ""
    kept = "".join(" " if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") else c for c in text)
    return _WHITESPACE.sub(" ", kept).strip()[:MAX_DESCRIPTION].rstrip()


class DuplicateKey(ValueError):
    """A JSON object names one key twice: a reader would keep one value and lose the other."""

    def __init__(self, path: str):
        super().__init__("a key appears twice in one object (one of the values would be lost)")
        self.path = path


class _Pairs(dict[str, Any]):
    """A parsed JSON object that remembers the keys it met more than once."""

    twice: tuple[str, ...] = ()


def _pairs(pairs: list[tuple[str, Any]]) -> _Pairs:
    obj = _Pairs(pairs)
    if len(obj) < len(pairs):
        obj.twice = tuple(k for k, n in Counter(k for k, _ in pairs).items() if n > 1)
    return obj


class TooDeep(ValueError):
    """JSON nested deeper than MAX_DEPTH: no schema a server describes itself with is."""

    def __init__(self, path: str):
        super().__init__(f"nested deeper than {MAX_DEPTH} levels")
        self.path = path


def read_json(text: str) -> Any:
    """JSON text as Python values; DuplicateKey (with the JSON path) when an object repeats a
    key, which `json.loads` would silently resolve by dropping a value; TooDeep past
    MAX_DEPTH levels (reading it would exhaust the stack later)."""
    root = json.loads(text, object_pairs_hook=_pairs)
    todo: list[tuple[str, Any, int]] = [("", root, 0)]
    while todo:
        path, node, depth = todo.pop()
        if depth > MAX_DEPTH:
            raise TooDeep(path)
        if isinstance(node, _Pairs) and node.twice:
            raise DuplicateKey(join_path(path, node.twice[0]))
        if isinstance(node, dict):
            todo.extend((join_path(path, k), v, depth + 1) for k, v in node.items())
        elif isinstance(node, list):
            todo.extend((f"{path}[{n}]", v, depth + 1) for n, v in enumerate(node))
    return root


class _Schema:
    """One pulled schema file: `$ref`, `allOf`, nullable type arrays and single-branch
    `anyOf`/`oneOf` resolved on demand, with malformed input raised as a SpecError."""

    def __init__(self, path: Path):
        self.shown = display_path(path)
        try:
            self.root = read_json(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise SpecError(
                [
                    Problem(
                        Loc(self.shown, exc.lineno, exc.colno),
                        "",
                        f"not a readable JSON file: {exc.msg}",
                    )
                ]
            ) from None
        except (DuplicateKey, TooDeep) as exc:
            self.fail(str(exc), exc.path)
        except RecursionError:
            self.fail(f"not a readable JSON file: nested deeper than {MAX_DEPTH} levels")
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            self.fail(f"not a readable JSON file: {exc}")
        if not isinstance(self.root, dict):
            self.fail(f"a pulled schema must be a JSON object, not {type(self.root).__name__}")
        try:  # a lone surrogate (`"\ud800"`) would only fail later, when files are written
            json.dumps(self.root, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            self.fail("holds text that is not valid Unicode (a lone surrogate)")
        # Every reference is checked now, not only those the walk happens to reach.
        for node in _schemas(self.root):
            if "$ref" in node:
                self.resolve(node)

    def fail(self, message: str, key: str = "") -> NoReturn:
        raise SpecError([Problem(Loc(self.shown), key, message)])

    def _target(self, ref: Any) -> Any:
        if not isinstance(ref, str) or not (ref == "#" or ref.startswith("#/")):
            self.fail(f"unsupported $ref {ref!r} (only local '#/...' references)", "$ref")
        node = self.root
        for raw in ref[2:].split("/") if ref != "#" else ():
            token = unquote(raw).replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict) and token in node:
                node = node[token]
            elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
                node = node[int(token)]
            else:
                self.fail(f"$ref {ref!r} points to nothing", "$ref")
        return node

    def resolve(self, node: Any, chain: tuple[str, ...] = ()) -> dict[str, Any] | None:
        """The effective schema of `node` as one dict (None: several alternatives remain).
        `chain` holds the references followed without descending, to catch `$ref` cycles."""
        if isinstance(node, bool):
            return {}  # `true` accepts anything; `false` cannot describe a field either
        if not isinstance(node, dict):
            found = "an array" if isinstance(node, list) else json.dumps(node)[:60]
            self.fail(f"a schema must be an object, found {found}")
        if "$ref" in node:
            ref = node["$ref"]
            if ref in chain:
                self.fail(f"$ref cycle: {' -> '.join((*chain, ref))}", "$ref")
            if len(chain) >= MAX_DEPTH:
                self.fail(f"more than {MAX_DEPTH} references in a row", "$ref")
            target = self.resolve(self._target(ref), (*chain, ref))
            # Draft-07 ignores siblings of $ref; a description beside it is still worth keeping.
            if target is not None and "description" in node:
                target = {**target, "description": node["description"]}
            return target
        schema = dict(node)
        for keyword in ("anyOf", "oneOf"):
            if keyword not in schema:
                continue
            branches = self._list(schema.pop(keyword), keyword)
            real = [b for b in branches if not _is_null(self.resolve(b, chain))]
            branch = self.resolve(real[0], chain) if len(real) == 1 else None
            if branch is None:
                return None
            schema = _merge(schema, branch, null=len(real) < len(branches))
        if "allOf" in schema:
            for part in self._list(schema.pop("allOf"), "allOf"):
                resolved = self.resolve(part, chain)
                if resolved is None:
                    return None
                schema = _merge(schema, resolved, null=False)
        for keyword in ("properties", "definitions", "$defs"):
            if keyword in schema and not isinstance(schema[keyword], dict):
                self.fail(f"'{keyword}' must be an object", keyword)
        if "type" in schema and not all(isinstance(t, str) for t in _types(schema)):
            self.fail(f"'type' must be a string or a list of strings: {schema['type']!r}", "type")
        return schema

    def _list(self, value: Any, keyword: str) -> list[Any]:
        if not isinstance(value, list):
            self.fail(f"'{keyword}' must be an array", keyword)
        return value


# Where JSON Schema keeps subschemas: one, a list of them, or a name -> schema map. Only these
# are schemas; a property named `$ref` is a name, not a reference.
_ONE = ("items", "additionalProperties", "additionalItems", "contains", "propertyNames", "not",
        "if", "then", "else", "unevaluatedItems", "unevaluatedProperties")  # fmt: skip
_MANY = ("allOf", "anyOf", "oneOf", "prefixItems", "items")
_BY_NAME = ("properties", "patternProperties", "definitions", "$defs", "dependentSchemas")


def _schemas(root: Any) -> Iterator[dict[str, Any]]:
    """Every schema object inside `root` (iteratively: pulled files may be deeply nested)."""
    todo = [root]
    while todo:
        node = todo.pop()
        if not isinstance(node, dict):
            continue
        yield node
        todo.extend(node[k] for k in _ONE if k in node)
        todo.extend(s for k in _MANY if isinstance(node.get(k), list) for s in node[k])
        todo.extend(s for k in _BY_NAME if isinstance(node.get(k), dict) for s in node[k].values())


def _types(schema: dict[str, Any]) -> list[Any]:
    value = schema.get("type")
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _is_null(schema: dict[str, Any] | None) -> bool:
    return schema is not None and _types(schema) == ["null"]


def _merge(base: dict[str, Any], extra: dict[str, Any], null: bool) -> dict[str, Any]:
    """`allOf` members (or the one real `anyOf` branch) folded into one schema; `null`: the
    branch was one of a nullable pair, so null stays allowed."""
    merged = dict(base)
    for key, value in extra.items():
        if key == "properties" and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        elif key == "type" and "type" in merged:
            theirs = _types(extra)
            both = [t for t in _types(merged) if t in theirs or (t == "null" and null)]
            merged["type"] = both or theirs
        else:
            merged.setdefault(key, value)
    if null and "type" in merged and "null" not in _types(merged):
        merged["type"] = [*_types(merged), "null"]
    return merged


def _model_of(ref: TypeRef) -> tuple[str, str] | None:
    """(model, container) when a YAML type holds a model: ('Item', 'list') for list[Item]."""
    if ref.kind == "model":
        return ref.name, ""
    if ref.kind in ("list", "map") and ref.item is not None and ref.item.kind == "model":
        return ref.item.name, ref.kind
    return None


@dataclass(frozen=True)
class _Candidate:
    """A property the YAML lacks, as first seen (operations in IR order, properties sorted)."""

    wire: str
    type: TypeRef
    nullable: bool
    description: str
    file: str


Where = tuple[str, Kind, str]  # operation, kind, JSON path


class _Walk:
    """Walks YAML models alongside pulled schemas, collecting candidates and findings."""

    def __init__(self, api: Api):
        self.models = {m.name: m for m in api.models}
        self.fold = api.keys_case_insensitive
        self.candidates: dict[str, dict[str, _Candidate]] = {}
        self.findings: list[EnrichmentNote] = []
        # Where each candidate was met, as (where, model, wire name), for per-operation notes.
        self.met: list[tuple[Where, str, str]] = []
        # Case variants of a candidate (keys: case_insensitive): (where, model, candidate).
        self.variants: list[tuple[Where, str, str]] = []

    def key(self, name: str) -> str:
        return wire_key(name, self.fold)

    def node(
        self, schema: _Schema, raw: Any, model: Model, where: Where, visiting: frozenset[Any]
    ) -> None:
        op, kind, path = where
        if (model.name, id(raw)) in visiting:  # a recursive model inside a recursive schema
            return
        visiting = visiting | {(model.name, id(raw))}
        resolved = schema.resolve(raw)
        props = resolved.get("properties") if resolved is not None else None
        if not props:
            what = "alternatives" if resolved is None else "no properties"
            message = f"the pulled schema has {what} where the YAML has {model.name}; not compared"
            self.findings.append(EnrichmentNote(op, kind, path, message, model=model.name))
            return
        known: dict[str, Field] = {}
        for f in model.fields:
            for name in (f.wire_name, *f.aliases):
                known.setdefault(self.key(name), f)
        pending = self.candidates.setdefault(model.name, {})
        pending_keys = {self.key(wire): wire for wire in pending}
        matched: set[str] = set()
        for wire in sorted(props):
            here = join_path(path, wire)
            field = known.get(self.key(wire))
            if field is not None:
                matched.add(field.wire_name)
                self.nested(schema, props[wire], field, (op, kind, here), visiting)
                continue
            first = pending_keys.setdefault(self.key(wire), wire)
            if first != wire:  # one key for the server: the field the first spelling adds
                self.variants.append(((op, kind, here), model.name, first))
                continue
            if wire not in pending:
                pending[wire] = self.candidate(schema, wire, props[wire])
            self.met.append(((op, kind, here), model.name, wire))
        for f in model.fields:
            if f.wire_name not in matched:
                message = f"the YAML names `{f.wire_name}` but the pulled schema lacks it"
                here = join_path(path, f.wire_name)
                self.findings.append(EnrichmentNote(op, kind, here, message, model=model.name))

    def nested(
        self, schema: _Schema, raw: Any, field: Field, where: Where, visiting: frozenset[Any]
    ) -> None:
        """Recurse where the YAML field holds a model (or a list/map of one)."""
        held = _model_of(field.type)
        if held is None or held[0] not in self.models:
            return
        name, container = held
        if not container:
            self.node(schema, raw, self.models[name], where, visiting)
            return
        resolved = schema.resolve(raw)
        inner = None
        if resolved is not None and container == "list" and "array" in _types(resolved):
            inner = resolved.get("items")
        elif resolved is not None and container == "map":
            inner = resolved.get("additionalProperties")
        op, kind, path = where
        if not isinstance(inner, dict):
            message = f"the YAML has {field.type} but the pulled schema has no such shape"
            self.findings.append(EnrichmentNote(op, kind, path, message, model=name))
            return
        suffix = "[]" if container == "list" else "{}"
        self.node(schema, inner, self.models[name], (op, kind, path + suffix), visiting)

    def candidate(self, schema: _Schema, wire: str, raw: Any) -> _Candidate:
        resolved = schema.resolve(raw)
        types = _types(resolved) if resolved is not None else []
        description = inert_text(resolved.get("description")) if resolved is not None else ""
        return _Candidate(
            wire=wire,
            type=self.new_type(schema, resolved),
            # a schema that does not say (alternatives, no type) is read as nullable
            nullable="null" in types or not types,
            description=description,
            file=Path(schema.shown).name,
        )

    def new_type(self, schema: _Schema, resolved: dict[str, Any] | None, depth: int = 0) -> TypeRef:
        """A pulled property's type; nested objects become `map[any]`/`any`, never models."""
        types = [t for t in _types(resolved) if t != "null"] if resolved is not None else []
        if resolved is None or len(types) != 1:
            return _ANY
        scalar = scalar_of_json_type(types[0])  # a format is not read: date-time stays a string
        if scalar:
            return TypeRef("scalar", name=scalar)
        if types[0] == "array":
            items = resolved.get("items")
            # depth: a list of lists of ... may be recursive through $ref
            if not isinstance(items, dict | bool) or depth > 3:
                return TypeRef("list", item=_ANY)
            return TypeRef("list", item=self.new_type(schema, schema.resolve(items), depth + 1))
        if types[0] == "object" and not resolved.get("properties"):
            return TypeRef("map", item=_ANY)
        return _ANY


_PLAIN_NAME = re.compile(r"[A-Za-z_$][A-Za-z0-9_$-]*")


def join_path(path: str, name: str) -> str:
    """`data[].header.status`; a name that is not plain is quoted, with every character that
    is not printable escaped: `data[]["a.b"]`, `[""]`, `["\\u202e"]`."""
    if _PLAIN_NAME.fullmatch(name):
        return f"{path}.{name}" if path else name
    text = json.dumps(name, ensure_ascii=False)[1:-1]
    shown = "".join(c if c.isprintable() else json.dumps(c)[1:-1] for c in text)
    return f'{path}["{shown}"]'


def wire_key(name: str, case_insensitive: bool) -> str:
    """The key a wire name is matched by: generated models fold case with `str.lower`
    (templates/runtime/_base.py), so enrichment folds exactly so."""
    return name.lower() if case_insensitive else name


@functools.cache  # pydantic is imported only when a pulled schema adds a field
def _base_members() -> frozenset[str]:
    """Public members of the classes generated models inherit (pydantic's BaseModel and the
    runtime's bases in templates/runtime/_base.py): a field named like one would shadow it."""
    runtime = {
        node.name
        for cls in ast.parse(runtime_source("_base.py")).body
        if isinstance(cls, ast.ClassDef)
        for node in cls.body
        if isinstance(node, ast.FunctionDef)
    }
    from pydantic import BaseModel

    return frozenset(n for n in {*dir(BaseModel), *runtime} if not n.startswith("_"))


class _Names:
    """Python names for the fields one model gains. Pydantic fills a field from its alias and
    from its Python name (`populate_by_name`), and the runtime folds input keys for
    case-insensitive APIs: so no field's Python name may equal another field's (folded) wire
    name or alias, or one record key would fill two fields. A YAML field's Python name cannot
    change, so a property whose key equals one is rejected instead (`clash`)."""

    def __init__(self, model: Model, candidates: list[_Candidate], fold: bool):
        self.fold = fold
        names = [n for f in model.fields for n in (f.wire_name, *f.aliases)]
        self.wires = {wire_key(n, fold) for n in (*names, *(c.wire for c in candidates))}
        self.yaml = {f.python_name: f for f in model.fields}
        self.taken = set(self.yaml)  # and the deprecated V1 attributes of the model's base
        for mv in model.moves:
            if mv.legacy_name:
                self.taken.update((mv.legacy_name, snake(mv.legacy_name)))

    def clash(self, wire: str) -> Field | None:
        """The YAML field a record's `wire` key would fill by its Python name, if any."""
        return self.yaml.get(wire_key(wire, self.fold))

    def take(self, wire: str) -> str:
        base = field_name(wire)  # as a YAML field's: a builtin the annotations use gets a _
        if base.startswith("model_"):  # pydantic's namespace
            base = f"field_{base.rstrip('_')}"
        elif base in _base_members():
            base = f"{base}_"
        own = wire_key(wire, self.fold)
        name, n = base, 1
        while name in self.taken or (name in self.wires and name != own):
            n += 1
            name = f"{base}_{n}"
        self.taken.add(name)
        return name


def _field(candidate: _Candidate, python_name: str) -> Field:
    source = f"From pulled schema {candidate.file}."
    return Field(
        wire_name=candidate.wire,
        python_name=python_name,
        type=candidate.type,
        nullable=candidate.nullable,
        description=f"{candidate.description} {source}" if candidate.description else source,
        confidence="inferred",
    )


_SCHEMA_NAME = re.compile(r"(?P<wire>.+)\.(?P<kind>request|response)\.json")


def _pulled(api: Api, schemas_dir: Path) -> Iterator[tuple[str, Kind, Path, str]]:
    """(operation, kind, file, model) of every pulled schema of the API, in IR order. A file
    named like a pulled schema that no operation has, or one that is not a regular file, is a
    SpecError: it would otherwise be ignored without a word."""
    problems = []
    known = {
        schema_file(schemas_dir, op.wire_name, kind) for op in api.operations for kind in KINDS
    }
    try:
        entries = sorted(schemas_dir.iterdir())
    except OSError as exc:
        raise SpecError(
            [Problem(Loc(display_path(schemas_dir)), "", f"unreadable: {exc}")]
        ) from None
    for entry in entries:
        if not _SCHEMA_NAME.fullmatch(entry.name):
            continue  # not a pulled schema (a README, an editor's file)
        shown = Loc(display_path(entry))
        if entry not in known:
            message = "no operation has this wire name (a renamed or removed operation?)"
            problems.append(Problem(shown, "", message))
        elif not entry.is_file():
            problems.append(Problem(shown, "", "not a regular file (a folder, or a broken link)"))
        elif entry.stat().st_size > MAX_BYTES:
            problems.append(Problem(shown, "", f"larger than {MAX_BYTES // 2**20} MiB"))
    if problems:
        raise SpecError(problems)
    for op in api.operations:
        for kind in KINDS:
            path = schema_file(schemas_dir, op.wire_name, kind)
            if path.is_file():
                payload = op.body if kind == "request" else op.response
                yield op.wire_name, kind, path, payload.model_name if payload.kind == "json" else ""


def enrich(api: Api, schemas_dir: Path) -> tuple[Api, list[EnrichmentNote]]:
    """The API with the fields the pulled schemas add, and every finding, in IR order."""
    walk = _Walk(api)
    for op, kind, file, root in _pulled(api, schemas_dir):
        schema = _Schema(file)
        compared = f"compared with schemas/{file.name}"
        walk.findings.append(EnrichmentNote(op, kind, "", compared, "pulled"))
        if root not in walk.models:
            message = f"pulled {file.name}, but the operation has no JSON {kind} model; ignored"
            walk.findings.append(EnrichmentNote(op, kind, "", message))
            continue
        walk.node(schema, schema.root, walk.models[root], (op, kind, ""), frozenset())

    added: dict[tuple[str, str], Field] = {}
    clashes: dict[tuple[str, str], Field] = {}
    models = []
    for model in api.models:
        candidates = list(walk.candidates.get(model.name, {}).values())
        names = _Names(model, candidates, api.keys_case_insensitive)
        fresh = []
        for candidate in candidates:
            clash = names.clash(candidate.wire)
            if clash is not None:
                clashes[model.name, candidate.wire] = clash
                continue
            field = _field(candidate, names.take(candidate.wire))
            added[model.name, candidate.wire] = field
            fresh.append(field)
        models.append(replace(model, fields=(*model.fields, *fresh)) if fresh else model)

    findings = list(walk.findings)
    for (op, kind, path), model_name, wire in walk.met:
        if (model_name, wire) in clashes:
            yaml = clashes[model_name, wire]
            message = (
                f"not added: its key is the Python name of the YAML field "
                f"`{model_name}.{yaml.python_name}`, which a record would fill by that name"
            )
            findings.append(EnrichmentNote(op, kind, path, message, model=model_name))
            continue
        field = added[model_name, wire]
        message = f"added `{model_name}.{field.python_name}` ({field.type})"
        findings.append(EnrichmentNote(op, kind, path, message, "added", model_name, field))
    for (op, kind, path), model_name, first in walk.variants:
        into = added.get((model_name, first))
        what = f"the added `{model_name}.{into.python_name}`" if into else "a rejected name"
        message = (
            f"not added: the same key as {what} ignoring case (the API's keys are "
            "case-insensitive), so it is read into that field"
        )
        findings.append(EnrichmentNote(op, kind, path, message, model=model_name))
    order = {(op.wire_name, kind): i for i, op in enumerate(api.operations) for kind in KINDS}
    findings.sort(
        key=lambda f: (order[f.operation, f.kind], _CATEGORIES.index(f.category), f.path, f.message)
    )
    return link(replace(api, models=tuple(models))), findings
