"""Running the behaviours `behaviours.yaml` declares (see emulator/behaviour_data.py): bulk rows
upserted into a collection with per-row outcomes, status changes by a transition table, an
update singled out by a lookup object, and plain create / list / get over a collection. Hooks
use `Rows` for their own bulk imports."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from emulator.batch import Batch
from emulator.behaviour_data import Declarations, Declared, Items, Lookup
from emulator.errors import ApiError, not_found
from emulator.handler import Call
from emulator.records import Record, RecordStore
from generator.model.ir import Api

Each = Callable[[int, dict[str, Any]], None]


def parts(record: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]], str]:
    """header, items and the level header failures are reported at; a flat row is its own
    header."""
    if "header" in record:
        return record["header"], record.get("items") or [], "header"
    return record, [], ""


class Rows:
    """The rows of one bulk call, with the store and the declared lookups."""

    def __init__(self, call: Call) -> None:
        assert call.batch is not None, f"{call.op.wire_name} has no batch envelope in the spec"
        assert call.records is not None and call.declarations is not None
        self.call = call
        self.batch: Batch = call.batch
        self.store: RecordStore = call.records
        self.data: Declarations = call.declarations
        self.options: dict[str, Any] = (call.body or {}).get(self.data.options) or {}

    def run(self, each: Each) -> Any:
        """`each` on every row that passed the schema, then the per-row answer; with the abort
        option set, one failing row undoes the whole call."""
        abort = self.data.abort_option and self.options.get(self.data.abort_option)
        saved = self.store.snapshot() if abort else None
        for index, record in self.batch.good():
            each(index, record)
        if saved is not None and self.batch.errors:
            self.store.restore(saved)
        return self.batch.answer(self.call.success())

    def find(self, name: str, index: int, row: dict[str, Any], part: str = "",
             context: dict[str, Record] | None = None, *, item: int | None = None
             ) -> Record | None:
        """The record the lookup `name` finds from `row`, or None with its documented error
        recorded (an optional lookup the row does not use finds None quietly)."""
        lookup = self.data.lookups[name]
        found, used = find_record(self.store, lookup, row, context or {}, self.options)
        if found is None and used:
            self.batch.fail(index, lookup.missing, part=part, item=item)
        return found

    def find_all(self, names: tuple[str, ...], index: int, row: dict[str, Any],
                 part: str) -> dict[str, Record] | None:
        """Every lookup in turn, found records by collection; the first failure stops."""
        context: dict[str, Record] = {}
        for name in names:
            found = self.find(name, index, row, part, context)
            if self.batch.failed(index):
                return None
            if found is not None:  # by collection (children search under it) and by name
                context[self.data.lookups[name].collection] = found
                context[name] = found
        return context


def find_record(store: RecordStore, lookup: Lookup, row: dict[str, Any],
                context: dict[str, Record], options: dict[str, Any]
                ) -> tuple[Record | None, bool]:
    """(the record `lookup` finds from `row` or None, whether the row named one); a child
    collection's record is searched under its parent's record in `context`."""
    parent_name = store.definitions[lookup.collection].parent
    parent = context.get(parent_name) if parent_name else None
    named = options.get(lookup.field_option) if lookup.field_option else None
    used = False
    for alternative in lookup.match:
        values = {str(named or f): row.get(r) for f, r in alternative.items()}
        if any(v in (None, "") for v in values.values()):
            continue
        used = True
        found = store.find(lookup.collection, values, parent=parent)
        if found is not None:
            return found, True
    return None, used or not lookup.optional


def run(call: Call, declared: Declared) -> Any:
    return _RUNNERS[declared.kind](call, declared)


# -- import ---------------------------------------------------------------------------------


def _import(call: Call, declared: Declared) -> Any:
    rows = Rows(call)
    store, batch = rows.store, rows.batch
    update = bool(declared.update_option and rows.options.get(declared.update_option))
    taken = _UniqueIndex(store, declared)

    def each(index: int, record: dict[str, Any]) -> None:
        header, items, part = parts(record)
        context = rows.find_all(declared.find, index, header, part)
        if context is None:
            return
        existing, fields = None, dict(header)
        if declared.collection is not None:
            name = declared.collection
            for key, template in declared.generate.items():
                fields.setdefault(key, template.format(count=len(store.collection(name)) + 1))
            parent = _parent(store, name, context)
            existing = store.collection(name).get(store.record_key(name, fields, parent))
            clash = taken.clash(fields, existing, update)
            if clash is not None:
                batch.fail(index, clash, part=part)
            elif existing is not None and not update and declared.duplicate:
                batch.fail(index, declared.duplicate, part=part)
        if declared.items is not None and declared.items.inherit:
            items = [{**{k: header[k] for k in declared.items.inherit if k in header}, **item}
                     for item in items]
        targets = _check_items(rows, declared.items, index, items, context, update)
        if batch.failed(index):
            return
        owner = None
        if declared.collection is not None:
            owner = _store_header(rows, declared, fields, existing, context)
            taken.add(owner)
            context[declared.collection] = owner
        elif update and declared.items is not None and declared.items.into is not None:
            # no header record: the header describes the found parent, which it updates
            parent = _parent(store, declared.items.into, context)
            if parent is not None:
                parent.fields.update(header)
        if declared.items is not None:
            _store_items(rows, declared.items, items, targets, context, owner)

    return rows.run(each)


def _parent(store: RecordStore, name: str, context: dict[str, Record]) -> Record | None:
    parent = store.definitions[name].parent
    return context.get(parent) if parent else None


class _UniqueIndex:
    """The values of the behaviour's `unique` fields in its collection, by field, kept up to
    date through one call (a scan per row would make large imports quadratic)."""

    def __init__(self, store: RecordStore, declared: Declared) -> None:
        self.store, self.unique = store, declared.unique
        self.taken: dict[str, dict[str, Record]] = {name: {} for name in declared.unique}
        if declared.collection is not None and declared.unique:
            for record in store.records(declared.collection):
                self.add(record)

    def add(self, record: Record) -> None:
        for name, index in self.taken.items():
            value = record.value(name, self.store.fold)
            if value not in (None, ""):
                index.setdefault(self.store.fold(value), record)

    def clash(self, fields: dict[str, Any], existing: Record | None,
              update: bool) -> str | None:
        """The message of a unique field the row's value of is taken (by another record, or
        at all when the call does not update)."""
        for name, message in self.unique.items():
            if fields.get(name) in (None, ""):
                continue
            other = self.taken[name].get(self.store.fold(fields[name]))
            if other is not None and other.value(name, self.store.fold) is not None and (
                    self.store.fold(other.value(name, self.store.fold))
                    == self.store.fold(fields[name])) and (other is not existing or not update):
                return message
        return None


def _store_header(rows: Rows, declared: Declared, fields: dict[str, Any],
                  existing: Record | None, context: dict[str, Record]) -> Record:
    assert declared.collection is not None
    if existing is not None:
        existing.fields.update(fields)
        return existing
    status = str(fields.get(rows.data.status_field) or declared.status)
    return rows.store.put(declared.collection, fields,
                          parent=_parent(rows.store, declared.collection, context),
                          status=status)


def _check_items(rows: Rows, spec: Items | None, index: int, items: list[dict[str, Any]],
                 context: dict[str, Record], update: bool) -> list[dict[str, Record]]:
    """Each item's references (their records, for `add`) and, for items that are records,
    duplicates in the store or within the row."""
    found: list[dict[str, Record]] = []
    if spec is None:
        return found
    seen: set[tuple] = set()
    for j, item in enumerate(items):
        refs: dict[str, Record] = {}
        for ref in spec.refs:
            if ref.lookup is not None:
                record = rows.find(ref.lookup, index, item, "", context, item=j)
                if record is not None:
                    refs[ref.lookup] = record
            elif item.get(ref.field or "") not in (None, ""):
                owner = context.get(ref.items_of or "")
                if owner is None or rows.store.fold(item[ref.field or ""]) not in owner.items:
                    rows.batch.fail(index, ref.missing, item=j)
        found.append(refs)
        if spec.into is not None and spec.duplicate:
            key = rows.store.record_key(spec.into, item, _parent(rows.store, spec.into, context))
            if (key in rows.store.collection(spec.into) or key in seen) and not update:
                rows.batch.fail(index, spec.duplicate, item=j)
            seen.add(key)
    return found


def _store_items(rows: Rows, spec: Items, items: list[dict[str, Any]],
                 refs: list[dict[str, Record]], context: dict[str, Record],
                 owner: Record | None) -> None:
    store = rows.store
    for j, item in enumerate(items):
        if spec.into is not None:
            parent = _parent(store, spec.into, context)
            existing = store.collection(spec.into).get(store.record_key(spec.into, item, parent))
            if existing is not None:
                existing.fields.update(item)
            else:
                store.put(spec.into, item, parent=parent)
        elif owner is not None:
            owner.items[store.fold(item.get(spec.key or "") or f"{j + 1:03d}")] = item
        if spec.add is not None and spec.add[0] in refs[j]:
            target, name, source = refs[j][spec.add[0]], spec.add[1], spec.add[2]
            target.fields[name] = float(target.fields.get(name) or 0) + float(item[source])


# -- status changes -------------------------------------------------------------------------


def _set_status(call: Call, declared: Declared) -> Any:
    rows = Rows(call)
    fold = rows.store.fold

    def each(index: int, row: dict[str, Any]) -> None:
        context = rows.find_all(declared.find, index, row, "")
        if context is None:
            return
        record = context[declared.find[-1]]
        status = row[rows.data.status_field]
        for rule in declared.transitions:
            if fold(status) == fold(rule.to) and fold(record.status) not in {
                    fold(s) for s in rule.allowed_from}:
                for message in rule.refuse:
                    rows.batch.fail(index, message.format(status=record.status))
                return
        record.status = status

    return rows.run(each)


# -- update by a lookup object ----------------------------------------------------------------


def _update(call: Call, declared: Declared) -> Any:
    store, spec = _store(call), declared.update
    assert spec is not None and declared.collection is not None and call.declarations
    lookups, fold = call.declarations.lookups, store.fold
    wanted = {fold(k): v for k, v in call.body[spec.lookup].items() if v not in (None, "")}
    match = {fold(k): paths for k, paths in spec.match.items()}
    parents = store.definitions[declared.collection].parent
    matches = []
    for record in store.records(declared.collection):
        parent = next((p for p in store.records(parents) if p.id == record.parent), None
                      ) if parents else None
        holders: dict[str, Record | None] = {"parent": parent}
        for name in spec.related:
            context = {parents: parent} if parents and parent else {}
            holders[name] = find_record(store, lookups[name], record.fields, context, {})[0]
        if all(fold(value) in _candidates(store, record, holders, match.get(name))
               for name, value in wanted.items()):
            matches.append(record)
    if len(matches) != 1:
        raise ApiError(*(spec.ambiguous if matches else spec.missing))
    matches[0].fields.update(call.body[spec.values])
    return call.ok()


def _candidates(store: RecordStore, record: Record, holders: dict[str, Record | None],
                paths: tuple[str, ...] | None) -> set[str]:
    """The folded values a lookup field may equal: those its `match` paths name, else every
    plain value of the record and its related records."""
    if paths is None:
        sources = [record, *(h for name, h in holders.items() if name != "parent" and h)]
        return {store.fold(v) for s in sources for v in s.fields.values()
                if v is not None and not isinstance(v, (dict, list))}
    values = set()
    for path in paths:
        head, _, name = path.rpartition(".")
        holder = holders.get(head) if head else record
        value = holder.value(name, store.fold) if holder else None
        if value is not None:
            values.add(store.fold(value))
    return values


# -- create, list, get ----------------------------------------------------------------------


def _create(call: Call, declared: Declared) -> Any:
    """The body (and the path parameters) as a new record; the answer is the record in the
    response model's shape, its id in `id`."""
    store, name = _store(call), declared.collection or ""
    fields = {**call.path, **(call.body if isinstance(call.body, dict) else {})}
    record_id = store.new_id()
    if declared.id_field:
        fields[declared.id_field] = record_id
    record = store.put(name, fields, record_id=record_id)
    return _render(call.api, call.op.response.model_name, record.fields)


def _list(call: Call, declared: Declared) -> Any:
    """The records (under the parent record the path names, else 404) whose fields hold the
    call's path and query values (for the names they have), in the response model's list of
    the collection's model."""
    store, name = _store(call), declared.collection or ""
    assert call.declarations is not None
    parent = _path_parent(call, store, name)
    wanted = {**call.path, **{k: v for k, v in call.params.items() if v is not None}}
    chosen = [r.fields for r in store.records(name, parent) if all(
        store.fold(r.fields[k]) == store.fold(v) for k, v in wanted.items() if k in r.fields)]
    model = call.declarations.models.get(name)
    response = call.op.response.model
    assert response is not None, "a list behaviour answers with a JSON model"
    doc: dict[str, Any] = {}
    for f in response.fields:
        item = f.type.item if f.type.kind == "list" else None
        if item is not None and item.model is not None and item.name == model:
            doc[f.wire_name] = [
                _render(call.api, item.name, _expanded(call, store, declared, fields, parent))
                for fields in _page(call, chosen)]
    return doc


def _expanded(call: Call, store: RecordStore, declared: Declared, fields: dict[str, Any],
              parent: Record | None) -> dict[str, Any]:
    """A child record's fields with its parent's key fields, and each `expand` field's ids
    replaced by those records (siblings under the same parent) in their model."""
    assert call.declarations is not None
    out = dict(fields)
    if parent is not None:
        parent_name = store.definitions[declared.collection or ""].parent or ""
        for key in store.definitions[parent_name].key:
            out.setdefault(key, parent.fields.get(key))
    for name, collection in declared.expand.items():
        model = call.declarations.models[collection]
        records = store.collection(collection)
        owner = [parent.id] if store.definitions[collection].parent and parent else []
        found = (records.get(store.key(*owner, i)) for i in fields.get(name) or ())
        out[name] = [_render(call.api, model, r.fields) for r in found if r is not None]
    return out


def _path_parent(call: Call, store: RecordStore, name: str) -> Record | None:
    """The parent record whose key fields the path parameters give (404 when none is)."""
    parent_name = store.definitions[name].parent
    return None if parent_name is None else _by_path(call, store, parent_name)


def _by_path(call: Call, store: RecordStore, name: str) -> Record:
    """The record of `name` (a top collection) whose key fields the path gives, else 404."""
    key = store.definitions[name].key
    record = store.collection(name).get(store.key(*(call.path.get(k) for k in key)))
    if record is None:
        assert call.declarations is not None
        raise not_found(call.declarations.models.get(name, name),
                        "/".join(str(call.path.get(k)) for k in key))
    return record


def _page(call: Call, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The spec's offset pagination, when the operation declares it."""
    paginate = call.op.paginate
    if paginate is None or paginate.style != "offset":
        return records
    offset = int(call.params.get(paginate.offset_param) or 0)
    limit = call.params.get(paginate.limit_param)
    return records[offset:None if limit is None else offset + int(limit)]


def _get(call: Call, declared: Declared) -> Any:
    """The record whose key fields the path parameters give, else 404."""
    record = _by_path(call, _store(call), declared.collection or "")
    return _render(call.api, call.op.response.model_name, record.fields)


def _store(call: Call) -> RecordStore:
    assert call.records is not None
    return call.records


def _render(api: Api, model: str, fields: dict[str, Any]) -> dict[str, Any]:
    """The fields `model` declares (a record may hold more, e.g. the path it was made under)."""
    names = {f.wire_name for f in api.model(model).fields}
    return {k: v for k, v in fields.items() if k in names}


_RUNNERS: dict[str, Callable[[Call, Declared], Any]] = {
    "import": _import, "set_status": _set_status, "update": _update, "create": _create,
    "list": _list,
    "get": _get,
}
