"""`behaviours.yaml` beside a spec: the record collections, the lookups that find records from a
request's fields, and per operation wire name a behaviour from a small vocabulary (`import`,
`set_status`, `update`, `create`, `list`, `get`). Every key is checked at load; a problem names
file:line:col, the key and the rule. See "Emulator data" in specs/README.md."""

from __future__ import annotations

from collections.abc import Container, Sequence
from dataclasses import dataclass, field
from typing import Any

from emulator.datafile import check_keys, expect, problem
from emulator.records import CollectionDef
from generator.model.ir import Api
from generator.model.statuses import declared_statuses
from generator.spec.load import Document

KINDS = ("import", "set_status", "update", "create", "list", "get")


@dataclass(frozen=True)
class Lookup:
    """Finds one record of `collection` from a row: the first `match` alternative whose row
    fields are all present (record field -> row field); a child collection's lookup searches
    under the parent record found before it."""

    name: str
    collection: str
    match: tuple[dict[str, str], ...]
    missing: str  # the documented per-row error when nothing is found
    field_option: str | None = None  # an import option naming the record field to match
    optional: bool = False  # a row without the fields skips the lookup


@dataclass(frozen=True)
class ItemRef:
    """An item field that must name a record (`lookup`) or an item of a found record
    (`items_of` + `field`)."""

    missing: str
    lookup: str | None = None
    items_of: str | None = None
    field: str | None = None


@dataclass(frozen=True)
class Items:
    key: str | None = None  # kept in the record by this field (else numbered 001, 002, ...)
    into: str | None = None  # or: each item is a record of this collection
    duplicate: str | None = None
    refs: tuple[ItemRef, ...] = ()
    add: tuple[str, str, str] | None = None  # (lookup, its field, item field added to it)
    inherit: tuple[str, ...] = ()  # with into: header fields each item record gets too


@dataclass(frozen=True)
class Transition:
    to: str
    allowed_from: tuple[str, ...]
    refuse: tuple[str, ...]  # messages; {status} is the record's current status


@dataclass(frozen=True)
class Declared:
    """One operation's behaviour."""

    kind: str
    collection: str | None = None
    find: tuple[str, ...] = ()
    duplicate: str | None = None
    unique: dict[str, str] = field(default_factory=dict)  # field -> message
    update_option: str | None = None
    status: str = ""  # the initial status when the row names none
    generate: dict[str, str] = field(default_factory=dict)  # field -> format with {count}
    items: Items | None = None
    transitions: tuple[Transition, ...] = ()
    id_field: str | None = None  # create: the field that gets the new record's id
    update: Update | None = None
    expand: dict[str, str] = field(default_factory=dict)  # list: id-list field -> collection


@dataclass(frozen=True)
class Update:
    """A lookup object in the body must single out one record; another body field's values
    update it. A lookup field is compared with the values `match` lists for it (`field`, `id`,
    `parent.field`, `<related lookup>.field`); any other with every plain value the record and
    its related records hold."""

    lookup: str  # the body field holding the lookup
    values: str  # the body field holding the new values
    related: tuple[str, ...]  # lookups run on the record's own fields (within its parent)
    match: dict[str, tuple[str, ...]]
    missing: tuple[int, str]  # (status, message) when no record matches
    ambiguous: tuple[int, str]  # ... when more than one does


@dataclass
class Declarations:
    collections: dict[str, CollectionDef] = field(default_factory=dict)
    models: dict[str, str] = field(default_factory=dict)  # collection -> spec model
    lookups: dict[str, Lookup] = field(default_factory=dict)
    options: str = "options"  # the body field holding an import's options
    abort_option: str | None = None  # true: one failing row undoes the whole call
    status_field: str = "status"
    behaviours: dict[str, Declared] = field(default_factory=dict)


_TOP = ("collections", "lookups", "imports", "behaviours")
_COLLECTION = ("key", "parent", "model")
_LOOKUP = ("collection", "match", "missing", "field_option", "optional")
_IMPORTS = ("options", "abort_option", "status_field")
_BEHAVIOUR = {
    "import": ("find", "duplicate", "unique", "update_option", "status", "generate", "items"),
    "set_status": ("find", "transitions"),
    "update": ("lookup", "values", "related", "match", "missing", "ambiguous"),
    "create": ("id",),
    "list": ("expand",),
    "get": (),
}
_ITEMS = ("key", "into", "duplicate", "refs", "add", "inherit")


def read_behaviours(doc: Document, api: Api) -> Declarations:
    top = check_keys(doc, (), doc.data, _TOP)
    out = Declarations()
    for name, entry in expect(doc, ("collections",), top.get("collections") or {}, dict).items():
        where = ("collections", name)
        entry = check_keys(doc, where, entry, _COLLECTION, required=("key",))
        key = _names(doc, (*where, "key"), entry["key"])
        model = entry.get("model")
        if model is not None and all(m.name != model for m in api.models):
            raise problem(doc, (*where, "model"), f"no model {model!r} in the spec")
        out.collections[name] = CollectionDef(name, key, entry.get("parent"))
        if model:
            out.models[name] = model
    for name, definition in out.collections.items():
        if definition.parent is not None and definition.parent not in out.collections:
            raise problem(doc, ("collections", name, "parent"),
                          f"no collection {definition.parent!r}")
    imports = check_keys(doc, ("imports",), top.get("imports") or {}, _IMPORTS)
    for option in _IMPORTS:
        if option in imports:
            setattr(out, option, expect(doc, ("imports", option), imports[option], str))
    for name, entry in expect(doc, ("lookups",), top.get("lookups") or {}, dict).items():
        out.lookups[name] = _lookup(doc, name, entry, out)
    for wire_name, entry in expect(doc, ("behaviours",), top.get("behaviours") or {},
                                   dict).items():
        where = ("behaviours", wire_name)
        if all(op.wire_name != wire_name for op in api.operations):
            raise problem(doc, where, "no operation with this wire name in the spec")
        op = next(op for op in api.operations if op.wire_name == wire_name)
        out.behaviours[wire_name] = _behaviour(doc, where, entry, out, declared_statuses(api, op))
    return out


def _lookup(doc: Document, name: str, entry: Any, out: Declarations) -> Lookup:
    where = ("lookups", name)
    entry = check_keys(doc, where, entry, _LOOKUP, required=("collection", "match", "missing"))
    collection = _collection(doc, (*where, "collection"), entry["collection"], out)
    raw = entry["match"]
    alternatives = raw if isinstance(raw, list) else [raw]
    match = []
    for i, alternative in enumerate(alternatives):
        keys = (*where, "match", i) if isinstance(raw, list) else (*where, "match")
        pairs = expect(doc, keys, alternative, dict)
        if not pairs or not all(isinstance(v, str) for v in pairs.values()):
            raise problem(doc, keys, "expected record field: row field pairs")
        match.append(dict(pairs))
    return Lookup(name, collection, tuple(match),
                  expect(doc, (*where, "missing"), entry["missing"], str),
                  _optional_str(doc, (*where, "field_option"), entry.get("field_option")),
                  expect(doc, (*where, "optional"), entry.get("optional", False), bool))


def _behaviour(doc: Document, where: tuple, entry: Any, out: Declarations,
               statuses: Container[int]) -> Declared:
    mapping = expect(doc, where, entry, dict)
    kinds = [k for k in KINDS if k in mapping]
    if len(kinds) != 1:
        raise problem(doc, where, f"expected exactly one of {', '.join(KINDS)}")
    kind = kinds[0]
    entry = check_keys(doc, where, mapping, (kind, *_BEHAVIOUR[kind]))
    target = entry[kind]
    collection = (None if target is None and kind == "import"
                  else _collection(doc, (*where, kind), target, out))
    if kind in ("get", "create") and collection and out.collections[collection].parent:
        raise problem(doc, (*where, kind), f"{kind} serves a top collection; {collection} "
                      f"belongs to {out.collections[collection].parent}")
    find = tuple(_names(doc, (*where, "find"), entry.get("find") or []))
    _check_find(doc, (*where, "find"), find, out)
    if kind == "set_status" and not find:
        raise problem(doc, where, "set_status needs `find` (its last lookup names the record)")
    items = _items(doc, (*where, "items"), entry["items"], out) if "items" in entry else None
    update = _update(doc, where, entry, out, statuses) if kind == "update" else None
    if kind == "import" and collection is None and (items is None or items.into is None):
        raise problem(doc, (*where, kind), "an import without a collection needs items.into")
    return Declared(
        kind, collection, find,
        duplicate=_optional_str(doc, (*where, "duplicate"), entry.get("duplicate")),
        unique=_str_map(doc, (*where, "unique"), entry.get("unique") or {}),
        update_option=_optional_str(doc, (*where, "update_option"), entry.get("update_option")),
        status=expect(doc, (*where, "status"), entry.get("status", ""), str),
        generate=_str_map(doc, (*where, "generate"), entry.get("generate") or {}),
        items=items,
        transitions=_transitions(doc, (*where, "transitions"), entry.get("transitions") or []),
        id_field=_optional_str(doc, (*where, "id"), entry.get("id")),
        update=update,
        expand=_expand(doc, (*where, "expand"), entry.get("expand") or {}, out),
    )


def _expand(doc: Document, where: tuple, value: Any, out: Declarations) -> dict[str, str]:
    """field -> collection: the field's ids answered as those records (in their model)."""
    expand = _str_map(doc, where, value)
    for name, collection in expand.items():
        _collection(doc, (*where, name), collection, out)
        if collection not in out.models:
            raise problem(doc, (*where, name), f"collection {collection!r} has no model to "
                          "answer its records in")
    return expand


def _update(doc: Document, where: tuple, entry: dict[str, Any], out: Declarations,
            statuses: Container[int]) -> Update:
    check_keys(doc, where, entry, ("update", *_BEHAVIOUR["update"]),
               required=("lookup", "values", "missing", "ambiguous"))
    related = _names(doc, (*where, "related"), entry.get("related") or [])
    for i, name in enumerate(related):
        if name not in out.lookups:
            raise problem(doc, (*where, "related", i), f"no lookup {name!r}")
    match = {}
    for name, paths in expect(doc, (*where, "match"), entry.get("match") or {}, dict).items():
        match[name] = _names(doc, (*where, "match", name), paths)
        for i, path in enumerate(match[name]):
            head = path.split(".", 1)[0] if "." in path else None
            if head is not None and head != "parent" and head not in related:
                raise problem(doc, (*where, "match", name, i),
                              f"{head!r} is neither parent nor one of the related lookups")
    return Update(expect(doc, (*where, "lookup"), entry["lookup"], str),
                  expect(doc, (*where, "values"), entry["values"], str), related, match,
                  _error(doc, (*where, "missing"), entry["missing"], statuses),
                  _error(doc, (*where, "ambiguous"), entry["ambiguous"], statuses))


def _error(doc: Document, where: tuple, value: Any, statuses: Container[int]) -> tuple[int, str]:
    """A message (answered with 400) or {status, message}; the status must be one the spec
    declares for the operation (its `errors:`), so that data enforces no undeclared rule."""
    if isinstance(value, str):
        value = {"status": 400, "message": value}
    entry = check_keys(doc, where, value, ("status", "message"), required=("status", "message"))
    status = expect(doc, (*where, "status"), entry["status"], int)
    if status not in statuses:
        raise problem(doc, (*where, "status"), f"{status} is not a status the spec declares "
                      "for this operation (add it to the operation's errors:)")
    return status, expect(doc, (*where, "message"), entry["message"], str)


def _check_find(doc: Document, where: tuple, find: Sequence[str], out: Declarations) -> None:
    """Known lookups, each child collection's after one of its parent collection."""
    seen: set[str] = set()
    for i, name in enumerate(find):
        lookup = out.lookups.get(name)
        if lookup is None:
            raise problem(doc, (*where, i), f"no lookup {name!r} (lookups: "
                          f"{', '.join(sorted(out.lookups)) or 'none'})")
        parent = out.collections[lookup.collection].parent
        if parent is not None and parent not in seen:
            raise problem(doc, (*where, i), f"{name} searches under a {parent} record: "
                          f"a lookup of {parent} must come before it")
        seen.add(lookup.collection)


def _items(doc: Document, where: tuple, entry: Any, out: Declarations) -> Items:
    entry = check_keys(doc, where, entry, _ITEMS)
    into = entry.get("into")
    if into is not None:
        _collection(doc, (*where, "into"), into, out)
    refs = []
    for i, ref in enumerate(expect(doc, (*where, "refs"), entry.get("refs") or [], list)):
        keys = (*where, "refs", i)
        ref = check_keys(doc, keys, ref, ("lookup", "items_of", "field", "missing"))
        if ("lookup" in ref) == ("items_of" in ref):
            raise problem(doc, keys, "expected one of lookup, items_of")
        if "lookup" in ref:
            lookup = out.lookups.get(ref["lookup"])
            if lookup is None:
                raise problem(doc, (*keys, "lookup"), f"no lookup {ref['lookup']!r}")
            refs.append(ItemRef(ref.get("missing", lookup.missing), lookup=lookup.name))
        else:
            check_keys(doc, keys, ref, ("items_of", "field", "missing"),
                       required=("field", "missing"))
            if ref["items_of"] not in out.lookups:
                raise problem(doc, (*keys, "items_of"), f"no lookup {ref['items_of']!r}")
            refs.append(ItemRef(ref["missing"], items_of=ref["items_of"], field=ref["field"]))
    add = None
    if "add" in entry:
        spec = check_keys(doc, (*where, "add"), entry["add"], ("to", "field", "from"),
                          required=("to", "field", "from"))
        if all(r.lookup != spec["to"] for r in refs):
            raise problem(doc, (*where, "add", "to"), "expected the lookup of one of the refs")
        add = (spec["to"], spec["field"], spec["from"])
    inherit = _names(doc, (*where, "inherit"), entry.get("inherit") or [])
    if inherit and into is None:
        raise problem(doc, (*where, "inherit"), "inherit needs into (items that are records)")
    return Items(_optional_str(doc, (*where, "key"), entry.get("key")), into,
                 _optional_str(doc, (*where, "duplicate"), entry.get("duplicate")),
                 tuple(refs), add, inherit)


def _transitions(doc: Document, where: tuple, raw: Any) -> tuple[Transition, ...]:
    out = []
    for i, entry in enumerate(expect(doc, where, raw, list)):
        entry = check_keys(doc, (*where, i), entry, ("to", "from", "refuse"),
                           required=("to", "from", "refuse"))
        out.append(Transition(expect(doc, (*where, i, "to"), entry["to"], str),
                              _names(doc, (*where, i, "from"), entry["from"]),
                              _names(doc, (*where, i, "refuse"), entry["refuse"])))
    return tuple(out)


def _collection(doc: Document, where: tuple, value: Any, out: Declarations) -> str:
    name = expect(doc, where, value, str)
    if name not in out.collections:
        raise problem(doc, where, f"no collection {name!r} (collections: "
                      f"{', '.join(sorted(out.collections)) or 'none'})")
    return name


def _names(doc: Document, where: tuple, value: Any) -> tuple[str, ...]:
    items = expect(doc, where, value, list)
    for i, item in enumerate(items):
        expect(doc, (*where, i), item, str)
    return tuple(items)


def _optional_str(doc: Document, where: tuple, value: Any) -> str | None:
    return None if value is None else expect(doc, where, value, str)


def _str_map(doc: Document, where: tuple, value: Any) -> dict[str, str]:
    mapping = expect(doc, where, value, dict)
    for key, item in mapping.items():
        expect(doc, (*where, key), item, str)
    return dict(mapping)
