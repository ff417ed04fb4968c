"""e-Builder (Trimble Unity Construct) Import API v2: what behaviours.yaml cannot say. Process
instances (prefix counters, entity/line-item modes, workflow actions), dynamic grids, comments,
documents with their pre-signed upload and budget lines named by their account codes. Bodies
arrive with canonical key spelling and already checked against the spec; handlers run under the
store's lock."""

from __future__ import annotations

import mimetypes
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emulator.behaviours import Rows, parts
from emulator.errors import ApiError, InvalidRequest, support_id
from emulator.handler import Behaviour, Call
from emulator.records import Record, RecordStore

ACCOUNT_GUID = "7d4c3a52-5f0e-4b8e-9a51-1c2d3e4f5a6b"


@dataclass
class Comment:
    guid: str
    text: str
    is_private: bool
    documents: list[str]
    author: str


@dataclass
class ProcessInstance:
    guid: str
    prefix: str
    counter: str  # e.g. CP-0001
    project: str | None  # project id; None for account-level processes
    draft: bool
    fields: dict[str, Any]
    items: list[dict[str, Any]]
    status: str
    step: str
    actions: list[tuple[str, str, str | None]] = field(default_factory=list)  # step, action, note
    comments: list[Comment] = field(default_factory=list)
    grids: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # grid->row->cols


@dataclass
class Document:
    guid: str
    project: str  # project id
    folder: str
    name: str
    size: int
    status: str  # "incomplete" until the pre-signed upload arrived, then "complete"
    path: Path | None = None
    custom_fields: dict[str, Any] = field(default_factory=dict)


def _seed(store: RecordStore) -> None:
    """The hooks' own tables and their seeds: process instances (with the counters of their
    prefixes) and documents."""
    for table in ("processes", "counters", "documents"):
        store.table(table)

    def project_id(row: dict[str, Any]) -> str | None:
        return store.projects[store.key(row["project"])].id if "project" in row else None

    for row in store.seeds.get("processes", ()):
        prefix, number = row["counter"].split("-")
        store.counters[store.fold(prefix)] = int(number)
        instance = ProcessInstance(row.get("id") or store.new_id(), prefix, row["counter"],
                                   project_id(row), False, {"subject": f"Seeded {row['counter']}"},
                                   [], "Submitted", "Review")
        store.processes[instance.guid] = instance
    for row in store.seeds.get("documents", ()):
        store.documents[row["id"]] = Document(row["id"], project_id(row) or "", row["folder"],
                                              row["name"], 0, "complete")


def _state(store: RecordStore) -> RecordStore:
    store.on_reset(_seed)
    return store


BEHAVIOUR = Behaviour(make_state=_state)
handles = BEHAVIOUR.handles


def _store(call: Call) -> RecordStore:
    assert call.records is not None
    return call.records


# -- budget lines -------------------------------------------------------------------------------


@handles("BudgetLineItemsImport")
def budget_line_items_import(call: Call) -> Any:
    rows = Rows(call)
    store = rows.store

    def each(index: int, record: dict[str, Any]) -> None:
        header, items, part = parts(record)
        project = rows.find("project", index, header, part)
        if project is None:
            return
        # A line is named by its account codes (segment values joined), as b1.1000 is.
        codes = [".".join(map(str, (i.get("accountCodes") or {}).values())) or i["description"]
                 for i in items]
        for j, code in enumerate(codes):
            if store.key(project.id, code) in store.budget_lines or codes.index(code) != j:
                rows.batch.fail(index, "Budget line item already exists", item=j)
        if rows.batch.failed(index):
            return
        project.fields["budgetControl"] = rows.options.get("budgetControl")
        for code, item in zip(codes, items, strict=True):
            store.put("budget_lines", {"code": code, **item}, parent=project)

    return rows.run(each)


# -- process instances ------------------------------------------------------------------------


def find_process(store: RecordStore, prefix: str, counter: Any,
                 tracking: str | None = None) -> ProcessInstance | None:
    """By counter: 'CP-0042', or the bare instance counter (42) with the tracking prefix
    (H3)."""
    text = str(counter)
    if text.isascii() and text.isdigit():  # not "²": int() refuses it
        text = f"{tracking or prefix}-{int(text):04d}"
    return next((p for p in store.processes.values()
                 if store.fold(p.counter) == store.fold(text)), None)


def _create_process(store: RecordStore, prefix: str, project: Record | None,
                    header: dict[str, Any], items: list[dict[str, Any]],
                    draft: bool) -> ProcessInstance:
    number = store.counters.get(store.fold(prefix), 0) + 1
    store.counters[store.fold(prefix)] = number
    status = "Draft" if draft else header.get("status") or "Submitted"
    instance = ProcessInstance(store.new_id(), prefix, f"{prefix}-{number:04d}",
                               project.id if project else None, draft, dict(header),
                               list(items), status, header.get("step") or "Start")
    store.processes[instance.guid] = instance
    return instance


@handles("AccountFundingProcessesImport")
@handles("BudgetChangeProcessesImport")
@handles("CommitmentProcessesImport")
@handles("CommitmentChangeProcessesImport")
@handles("InvoiceProcessesImport")
@handles("MasterCommitmentChangeProcessesImport")
@handles("MasterCommitmentProcessesImport")
@handles("NonCostProcessesImport")
def process_import(call: Call) -> Any:
    """Entity mode: a header with processCounter updates that instance, one without creates
    one. LineItem mode: rows sharing processIdentifier build one instance."""
    rows = Rows(call)
    store, options = rows.store, rows.options
    # The spec's rules require one of the two (checked before any handler runs).
    prefix = options.get("processPrefix") or call.params.get("processPrefix") or ""
    entity_mode = store.fold(options.get("importMode") or "Entity") == store.fold("Entity")
    groups: dict[str, ProcessInstance] = {}  # processIdentifier -> instance of this call

    def each(index: int, record: dict[str, Any]) -> None:
        header, items, part = parts(record)
        project = rows.find("project_if_named", index, header, part)
        if rows.batch.failed(index):
            return
        counter = header.get("processCounter")
        if entity_mode and counter not in (None, ""):
            instance = find_process(store, prefix, counter, header.get("trackingPrefix"))
            if instance is None:
                rows.batch.fail(index, "Process instance not found", part=part)
            else:
                _update_process(store, instance, header, items)
            return
        group = store.fold(header["processIdentifier"]) if header.get("processIdentifier") else ""
        if not entity_mode and group in groups:
            groups[group].items.extend(items)
            return
        instance = _create_process(store, prefix, project, header, items,
                                   bool(options.get("createAsDraft")))
        if group:
            groups[group] = instance

    return rows.run(each)


def _update_process(store: RecordStore, instance: ProcessInstance, header: dict[str, Any],
                    items: list[dict[str, Any]]) -> None:
    for key in ("customFields", "processDataFields"):
        if header.get(key):
            instance.fields[key] = {**(instance.fields.get(key) or {}), **header[key]}
    instance.fields.update({k: v for k, v in header.items()
                            if k not in ("customFields", "processDataFields", "processCounter")})
    instance.items.extend(items)
    if header.get("action"):
        instance.actions.append((header.get("step") or instance.step, header["action"],
                                 header.get("comment")))
        if store.fold(header["action"]) == store.fold("Submit"):
            instance.draft = False
    if header.get("step"):
        instance.step = header["step"]
    if header.get("status"):
        instance.status = header["status"]
    elif not instance.draft and instance.status == "Draft":
        instance.status = "Submitted"


@handles("NonCostProcessesDynamicGridImport")
def dynamic_grid_import(call: Call) -> Any:
    """The header names the process type and the lookup fields (H1, H2); each item names one
    instance and the grid rows to write into it."""
    rows = Rows(call)
    store = rows.store

    def each(index: int, record: dict[str, Any]) -> None:
        header, items, _ = parts(record)
        for j, item in enumerate(items):
            project = store.find("projects", {header["projectIdentifier"]:
                                              item["projectIdentifierValue"]})
            instance = _grid_instance(store, header, item["instanceIdentifierValue"])
            if project is None:
                rows.batch.fail(index, "Project not found", item=j)
            elif instance is None or instance.project != project.id:
                rows.batch.fail(index, "Process instance not found", item=j)
            else:
                _write_grids(store, instance, item["dynamicGrids"])

    return rows.run(each)


def _grid_instance(store: RecordStore, header: dict[str, Any],
                   value: Any) -> ProcessInstance | None:
    fold = store.fold
    if fold(header["instanceIdentifier"]) == fold("ProcessNumber"):
        return find_process(store, header["processIdentifier"], value)
    by = fold(header["instanceIdentifier"])
    return next((p for p in store.processes.values()
                 if fold(p.prefix) == fold(header["processIdentifier"])
                 and any(fold(k) == by and fold(v) == fold(value)
                         for k, v in {**p.fields, **(p.fields.get("processDataFields") or {})}
                         .items())), None)


def _write_grids(store: RecordStore, instance: ProcessInstance,
                 grids: list[dict[str, Any]]) -> None:
    for grid in grids:
        rows = instance.grids.setdefault(grid["dynamicGridVariableName"], {})
        by_column = store.fold(grid["dynamicGridRowIdentifier"]) == store.fold("customcolumn")
        for row in grid["dynamicGridData"]:
            columns = {c["columnVariableName"]: c.get("columnData") for c in row["rowData"]}
            # customcolumn: the row is the one whose identifying column holds the value
            key = (columns.get(grid["dynamicGridRowIdentifierValue"]) if by_column
                   else None) or str(row["rowNumber"])
            rows[str(key)] = {**rows.get(str(key), {}), **columns}


@handles("ProcessInstancesCommentsCreate")
def comments_create(call: Call) -> Any:
    store, body = _store(call), call.body
    instance = store.processes.get(call.path["processInstanceId"].lower())
    if instance is None:
        raise _comment_error("Process instance not found.", 404)
    if instance.draft:
        raise _comment_error("Comments cannot be added to a draft process instance.", 409)
    documents = body.get("documents") or []
    if len(documents) > 100:
        raise _comment_error("A comment can have at most 100 documents.")
    # One unknown document cancels the whole comment.
    unknown = [d for d in documents if not (isinstance(d, str) and d.lower() in store.documents)]
    if unknown:
        raise _comment_error(f"Document not found: {', '.join(map(str, unknown))}.", 404)
    comment = Comment(store.new_id(), body["commentText"], bool(body.get("isPrivate")),
                      [d.lower() for d in documents], call.client.client_id)
    instance.comments.append(comment)
    shape = call.api.batch_result
    assert shape is not None
    return {"commentId": comment.guid, shape.success: call.success(),
            shape.support_id: support_id()}


def _comment_error(message: str, status: int = 400) -> ApiError:
    # Comments/Create reports every failure as errorDescription + messages (E6).
    return InvalidRequest(status, "There are error(s) in the request.", [message])


# -- documents --------------------------------------------------------------------------------


def _document_project(call: Call) -> Record:
    project = _store(call).find("projects", {"projectName": call.body["projectName"]})  # H8
    if project is None:
        raise ApiError(404, "Project not found.")
    return project


def _new_document(store: RecordStore, project: Record, folder: str, name: str, size: int
                  ) -> Document:
    document = Document(store.new_id(), project.id, folder, name, size, "incomplete")
    store.documents[document.guid] = document
    return document


def _complete(store: RecordStore, guid: str, upload: Path) -> None:
    document = store.documents[guid]
    target = store.files_dir / guid
    upload.replace(target)  # same file system: a rename
    document.path, document.status = target, "complete"


@handles("DocumentsCreate")
def documents_create(call: Call) -> Any:
    """Step one of two: an incomplete document and a pre-signed PUT on this server."""
    store, body = _store(call), call.body
    assert call.presigned is not None and call.settings is not None
    project = _document_project(call)
    folder, name, size = body["folderPath"], body["fileName"], body["fileSize"]
    version = 1 + sum(1 for d in store.documents.values() if d.project == project.id
                      and store.key(d.folder, d.name) == store.key(folder, name))
    document = _new_document(store, project, folder, name, size)
    document.custom_fields = dict(body.get("customFields") or {})
    headers = {  # the casing of the docs' example (C13)
        "content-Length": str(size),
        "content-Type": mimetypes.guess_type(name)[0] or "application/octet-stream",
        "x-amz-meta-s-aid": ACCOUNT_GUID,
        "x-amz-meta-s-pid": project.id,
        "x-amz-meta-s-fid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{project.id}{folder}")),
        "x-amz-meta-s-vn": str(version),
    }
    uri, expires = call.presigned.issue(
        call.base_url, headers, size, call.settings.upload_window,
        lambda path: _complete(store, document.guid, path))
    return call.ok(uploadParameters={
        "uri": uri, "headers": headers, "httpMethod": "PUT",
        "expiresAt": expires.isoformat(timespec="milliseconds"),
    })


@handles("DocumentsUpload")
def documents_upload(call: Call) -> Any:
    """Base64 in the body; the app has checked the size and decoded it to `call.upload`."""
    store, body = _store(call), call.body
    assert call.upload is not None
    document = _new_document(store, _document_project(call), body["folderPath"],
                             body["fileName"], call.upload.path.stat().st_size)
    _complete(store, document.guid, call.upload.path)
    return call.ok()


@handles("DocumentsImport")
def documents_import(call: Call) -> Any:
    rows = Rows(call)
    store = rows.store

    def each(index: int, row: dict[str, Any]) -> None:
        project = rows.find("project", index, row)
        if project is None:
            return
        found = [d for d in store.documents.values() if d.project == project.id
                 and store.key(d.folder, d.name) == store.key(row["folderPath"], row["fileName"])]
        if not found:
            rows.batch.fail(index, "Document not found")
            return
        found[-1].custom_fields.update(row.get("customFields") or {})  # the latest version

    return rows.run(each)
