"""e-Builder (Trimble Unity Construct) Import API v2 behaviour: bulk imports into a small
in-memory account, answered per record the way the docs show (`errorMessages` at the level that
failed, `success` as true or "true"). Bodies arrive with canonical key spelling and already
checked against the spec; handlers run under `State.lock` (see `Emulator._run`)."""

from __future__ import annotations

import copy
import mimetypes
import random
import shutil
import tempfile
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emulator.batch import Batch
from emulator.errors import ApiError, InvalidRequest, support_id
from emulator.handler import Behaviour, Call

# -- state ------------------------------------------------------------------------------------

ACCOUNT_GUID = "7d4c3a52-5f0e-4b8e-9a51-1c2d3e4f5a6b"


def fold(*parts: Any) -> tuple[str, ...]:
    """A lookup key: e-Builder matches names and numbers without regard to case."""
    return tuple(str(p).casefold() for p in parts)


@dataclass
class Entity:
    """A project, company, cost record or funding source: the fields as imported (canonical
    keys) and its line items by item number."""

    guid: str
    fields: dict[str, Any]
    items: dict[str, dict[str, Any]] = field(default_factory=dict)
    status: str = ""


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
    project: str | None  # project guid; None for account-level processes
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
    project: str  # project guid
    folder: str
    name: str
    size: int
    status: str  # "incomplete" until the pre-signed upload arrived, then "complete"
    path: Path | None = None
    custom_fields: dict[str, Any] = field(default_factory=dict)


class State:
    """The emulated account; `reset()` returns to the seed, which the docs' examples rely on
    (project "My Project A", company "ACME Corp", commitment 001, RFI-0023, ...)."""

    def __init__(self, seeds: dict[str, Any]) -> None:
        self.lock = threading.RLock()
        self.seeds = seeds
        self.files_dir = Path(tempfile.mkdtemp(prefix="ebuilder-emulator-"))
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self._rng = random.Random(20230901)  # same GUIDs after every reset
            self.projects: dict[tuple, Entity] = {}  # by name
            self.companies: dict[tuple, Entity] = {}  # by name; contacts are its items
            self.company_numbers: dict[tuple, Entity] = {}  # by number (bulk imports look up)
            self.budget_lines: dict[tuple, Entity] = {}  # (project guid, code)
            self.budget_changes: dict[tuple, Entity] = {}  # (project guid, number)
            self.commitments: dict[tuple, Entity] = {}  # (project guid, number)
            self.commitment_changes: dict[tuple, Entity] = {}  # (project, commitment, number)
            self.invoices: dict[tuple, Entity] = {}  # (project guid, number)
            self.master_commitments: dict[tuple, Entity] = {}  # (number,)
            self.master_commitment_changes: dict[tuple, Entity] = {}  # (mc number, number)
            self.funding_sources: dict[tuple, Entity] = {}  # (project guid, name)
            self.account_code_options: dict[tuple, Entity] = {}  # (segment, option)
            self.processes: dict[str, ProcessInstance] = {}  # by guid (lower case)
            self.counters: dict[str, int] = {}  # per process prefix (folded)
            self.documents: dict[str, Document] = {}  # by guid (lower case)
            shutil.rmtree(self.files_dir, ignore_errors=True)
            self.files_dir.mkdir(parents=True)
            self._seed()

    def close(self) -> None:
        shutil.rmtree(self.files_dir, ignore_errors=True)

    def new_guid(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def _seed(self) -> None:
        """The records of seeds.yaml, in file order (the generated GUIDs follow it)."""
        seeds = self.seeds

        def project(row: dict[str, Any]) -> str:
            return self.projects[fold(row["project"])].guid

        for row in seeds.get("projects", ()):
            self.add_project(row["fields"], guid=row.get("guid"))
        for row in seeds.get("companies", ()):
            self.put_company(Entity(self.new_guid(), dict(row)))
        for row in seeds.get("budget_lines", ()):
            fields = {k: v for k, v in row.items() if k != "project"}
            self.budget_lines[fold(project(row), row["code"])] = Entity(self.new_guid(), fields)
        for row in seeds.get("commitments", ()):
            self.commitments[fold(project(row), row["fields"]["commitmentNumber"])] = Entity(
                self.new_guid(), dict(row["fields"]), dict(row.get("items", {})), row["status"])
        for row in seeds.get("commitment_changes", ()):
            key = fold(project(row), row["commitment"], row["fields"]["commitmentChangeNumber"])
            self.commitment_changes[key] = Entity(row.get("guid") or self.new_guid(),
                                                  dict(row["fields"]), status=row["status"])
        for row in seeds.get("budget_changes", ()):
            self.budget_changes[fold(project(row), row["fields"]["budgetChangeNumber"])] = Entity(
                self.new_guid(), dict(row["fields"]), status=row["status"])
        for row in seeds.get("master_commitments", ()):
            self.master_commitments[fold(row["fields"]["masterCommitmentNumber"])] = Entity(
                self.new_guid(), dict(row["fields"]), dict(row.get("items", {})), row["status"])
        for row in seeds.get("processes", ()):
            counter = row["counter"]
            prefix, number = counter.split("-")
            self.counters[prefix.casefold()] = int(number)
            owner = project(row) if "project" in row else None
            instance = ProcessInstance(self.new_guid(), prefix, counter, owner, False,
                                       {"subject": f"Seeded {counter}"}, [], "Submitted", "Review")
            self.processes[instance.guid] = instance
        for row in seeds.get("documents", ()):
            self.documents[row["guid"]] = Document(row["guid"], project(row), row["folder"],
                                                   row["name"], 0, "complete")

    # -- snapshots for abortOnException ---------------------------------------------------

    _TABLES = ("projects", "companies", "budget_lines", "budget_changes", "commitments",
               "commitment_changes", "invoices", "master_commitments",
               "master_commitment_changes", "funding_sources", "account_code_options",
               "processes", "counters", "documents")

    def snapshot(self) -> dict[str, Any]:
        return {name: copy.deepcopy(getattr(self, name)) for name in self._TABLES}

    def restore(self, saved: dict[str, Any]) -> None:
        for name, table in saved.items():
            setattr(self, name, table)

    # -- lookups --------------------------------------------------------------------------

    def add_project(self, row: dict[str, Any], guid: str | None = None) -> Entity:
        project = Entity(guid or self.new_guid(), dict(row), status=row.get("projectStatus", ""))
        self.projects[fold(row["projectName"])] = project
        return project

    def find_project(self, value: Any, by: str = "ProjectName") -> Entity | None:
        """By name, or by the value of the unique project custom field `by` (option
        projectIdentifier)."""
        if value is None:
            return None
        if by.casefold() == "projectname":
            return self.projects.get(fold(value))
        for project in self.projects.values():
            custom = {fold(k): v for k, v in (project.fields.get("customFields") or {}).items()}
            if fold(custom.get(fold(by), "")) == fold(value):
                return project
        return None

    def put_company(self, company: Entity) -> None:
        self.companies[fold(company.fields["companyName"])] = company
        self._index_number(company)

    def update_company(self, company: Entity, fields: dict[str, Any]) -> None:
        company.fields.update(fields)
        self._index_number(company)

    def _index_number(self, company: Entity) -> None:
        number = company.fields.get("companyNumber")
        if number is not None:
            self.company_numbers[fold(number)] = company

    def find_company(self, name: Any, number: Any = None) -> Entity | None:
        if name is not None and fold(name) in self.companies:
            return self.companies[fold(name)]
        if number is None:
            return None
        # The index may still hold a company whose number has since changed: check it.
        company = self.company_numbers.get(fold(number))
        found = company is not None and fold(company.fields.get("companyNumber")) == fold(number)
        return company if found else None

    def find_process(self, prefix: str, counter: Any, tracking: str | None = None
                     ) -> ProcessInstance | None:
        """By counter: 'CP-0042', or the bare instance counter (42) with the tracking prefix
        (H3)."""
        text = str(counter)
        if text.isascii() and text.isdigit():  # not "²": int() refuses it
            text = f"{tracking or prefix}-{int(text):04d}"
        return next((p for p in self.processes.values() if fold(p.counter) == fold(text)), None)

    def create_process(self, prefix: str, project: Entity | None, header: dict[str, Any],
                       items: list[dict[str, Any]], draft: bool) -> ProcessInstance:
        number = self.counters.get(prefix.casefold(), 0) + 1
        self.counters[prefix.casefold()] = number
        status = "Draft" if draft else header.get("status") or "Submitted"
        instance = ProcessInstance(self.new_guid(), prefix, f"{prefix}-{number:04d}",
                                   project.guid if project else None, draft, dict(header),
                                   list(items), status, header.get("step") or "Start")
        self.processes[instance.guid] = instance
        return instance

    def complete_document(self, guid: str, upload: Path) -> None:
        document = self.documents[guid]
        target = self.files_dir / guid
        upload.replace(target)  # same file system: a rename
        document.path, document.status = target, "complete"


# -- behaviour --------------------------------------------------------------------------------

BEHAVIOUR = Behaviour(make_state=State)
handles = BEHAVIOUR.handles


def _options(call: Call) -> dict[str, Any]:
    return call.body.get("options") or {}


def _state(call: Call) -> State:
    return call.state


def _batch(call: Call) -> Batch:
    assert call.batch is not None, f"{call.op.wire_name} has no batch envelope in the spec"
    return call.batch


Each = Callable[[int, dict[str, Any]], None]


def _import(call: Call, each: Each) -> Any:
    """Run `each` on every record that passed the schema, then answer per record. With
    options.abortOnException, one failure undoes the whole call."""
    batch, state = _batch(call), _state(call)
    saved = state.snapshot() if _options(call).get("abortOnException") else None
    for index, record in batch.good():
        each(index, record)
    if saved is not None and batch.errors:
        state.restore(saved)
    return batch.answer(call.success())


def _parts(record: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]], str]:
    """header, items and the level header failures are reported at; flat rows (B5) are their
    own header."""
    if "header" in record:
        return record["header"], record.get("items") or [], "header"
    return record, [], ""


def _project(call: Call, index: int, row: dict[str, Any], part: str) -> Entity | None:
    project = _state(call).find_project(row.get("projectIdentifier"),
                                        _options(call).get("projectIdentifier") or "ProjectName")
    if project is None:
        _batch(call).fail(index, "Project not found", part=part)
    return project


def _number(item: dict[str, Any], key: str, index: int) -> str:
    return str(item.get(key) or f"{index + 1:03d}")


# -- projects, companies, contacts -------------------------------------------------------------


@handles("ProjectsImport")
def projects_import(call: Call) -> Any:
    state, batch = _state(call), _batch(call)

    def each(index: int, row: dict[str, Any]) -> None:
        if fold(row["projectName"]) in state.projects:
            batch.fail(index, "Project name already exists.")
        else:
            state.add_project(row)

    return _import(call, each)


@handles("CompaniesImport")
def companies_import(call: Call) -> Any:
    state, batch = _state(call), _batch(call)
    update = bool(_options(call).get("updateDuplicates"))

    def each(index: int, row: dict[str, Any]) -> None:
        by_name = state.companies.get(fold(row["companyName"]))
        number = row.get("companyNumber")
        by_number = state.find_company(None, number) if number else None
        if (by_number and by_number is not by_name) or (by_number and not update):
            batch.fail(index, "Company Number already exists")
        elif by_name and not update:
            batch.fail(index, "Company Name already exists")
        elif by_name:
            state.update_company(by_name, row)
        else:
            state.put_company(Entity(state.new_guid(), dict(row)))

    return _import(call, each)


@handles("ContactsImport")
def contacts_import(call: Call) -> Any:
    state, batch = _state(call), _batch(call)
    update = bool(_options(call).get("updateDuplicates"))

    def each(index: int, record: dict[str, Any]) -> None:
        header, items, part = _parts(record)
        company = state.find_company(header.get("companyName"), header.get("companyNumber"))
        if company is None:
            batch.fail(index, "Company not found", part=part)
            return
        for j, contact in enumerate(items):
            if fold(contact["firstName"], contact["lastName"]) in company.items and not update:
                batch.fail(index, "Contact already exists", item=j)
        if batch.failed(index):
            return
        if update:
            state.update_company(company, header)
        for contact in items:
            company.items[" ".join(fold(contact["firstName"], contact["lastName"]))] = contact

    return _import(call, each)


# -- budgets ----------------------------------------------------------------------------------


@handles("BudgetLineItemsImport")
def budget_line_items_import(call: Call) -> Any:
    state, batch = _state(call), _batch(call)

    def each(index: int, record: dict[str, Any]) -> None:
        header, items, part = _parts(record)
        project = _project(call, index, header, part)
        if project is None:
            return
        # A line is named by its account codes (segment values joined), as b1.1000 is.
        codes = [".".join(map(str, (i.get("accountCodes") or {}).values())) or i["description"]
                 for i in items]
        for j, code in enumerate(codes):
            if fold(project.guid, code) in state.budget_lines or codes.index(code) != j:
                batch.fail(index, "Budget line item already exists", item=j)
        if batch.failed(index):
            return
        project.fields["budgetControl"] = _options(call).get("budgetControl")
        for code, item in zip(codes, items, strict=True):
            state.budget_lines[fold(project.guid, code)] = Entity(
                state.new_guid(), {"code": code, **item})

    return _import(call, each)


@handles("BudgetChangesImport")
def budget_changes_import(call: Call) -> Any:
    state, batch = _state(call), _batch(call)

    def each(index: int, record: dict[str, Any]) -> None:
        header, items, part = _parts(record)
        project = _project(call, index, header, part)
        if project is None:
            return
        key = fold(project.guid, header["budgetChangeNumber"])
        if key in state.budget_changes:
            batch.fail(index, "Budget Change Number already exists", part=part)
        # H9: a budget change only moves existing lines, it never adds one.
        for j, item in enumerate(items):
            if fold(project.guid, item["budgetLineItem"]) not in state.budget_lines:
                batch.fail(index, "Budget line item not found", item=j)
        if batch.failed(index):
            return
        for item in items:
            line = state.budget_lines[fold(project.guid, item["budgetLineItem"])]
            line.fields["amount"] = float(line.fields.get("amount") or 0) + float(
                item["changeItemAmount"])
        state.budget_changes[key] = Entity(
            state.new_guid(), dict(header),
            {_number(i, "itemNumber", j): i for j, i in enumerate(items)},
            header.get("status") or "Draft")

    return _import(call, each)


# -- commitments ------------------------------------------------------------------------------


@handles("CommitmentsImport")
def commitments_import(call: Call) -> Any:
    state, batch = _state(call), _batch(call)

    def each(index: int, record: dict[str, Any]) -> None:
        header, items, part = _parts(record)
        project = _project(call, index, header, part)
        if state.find_company(header.get("companyName"), header.get("companyNumber")) is None:
            batch.fail(index, "Company not found", part=part)
        if project is None:
            return
        key = fold(project.guid, header["commitmentNumber"])
        if key in state.commitments:
            batch.fail(index, "Commitment Number already exists", part=part)
        for j, item in enumerate(items):
            line = item.get("budgetLineItem")
            if line and fold(project.guid, line) not in state.budget_lines:
                batch.fail(index, "Budget line item not found", item=j)
        if batch.failed(index):
            return
        state.commitments[key] = Entity(
            state.new_guid(), dict(header),
            {fold(_number(i, "commitmentItemNumber", j))[0]: i for j, i in enumerate(items)},
            header.get("status") or "Pending")

    return _import(call, each)


@handles("CommitmentChangesImport")
def commitment_changes_import(call: Call) -> Any:
    state, batch = _state(call), _batch(call)

    def each(index: int, record: dict[str, Any]) -> None:
        header, items, part = _parts(record)
        project = _project(call, index, header, part)
        if project is None:
            return
        commitment = state.commitments.get(fold(project.guid, header["commitmentNumber"]))
        if commitment is None:
            batch.fail(index, "Commitment not found", part=part)
            return
        key = fold(project.guid, header["commitmentNumber"], header["commitmentChangeNumber"])
        if key in state.commitment_changes:
            batch.fail(index, "Commitment Change Number already exists", part=part)
        for j, item in enumerate(items):
            if fold(item["commitmentItemNumber"])[0] not in commitment.items:
                batch.fail(index, "Commitment item not found", item=j)
        if batch.failed(index):
            return
        state.commitment_changes[key] = Entity(
            state.new_guid(), dict(header),
            {_number(i, "commitmentChangeItemNumber", j): i for j, i in enumerate(items)},
            header.get("status") or "Pending")

    return _import(call, each)


_LOOKUPS: dict[str, Callable[[State, tuple, Entity, Any], bool]] = {
    "projectid": lambda s, k, c, v: k[0] == fold(v)[0],
    "projectname": lambda s, k, c, v: s.find_project(v) is not None
    and s.find_project(v).guid == k[0],
    "projectidentifier": lambda s, k, c, v: s.find_project(v) is not None
    and s.find_project(v).guid == k[0],
    "commitmentid": lambda s, k, c, v: fold(s.commitments[k[:2]].guid) == fold(v),
    "commitmentnumber": lambda s, k, c, v: k[1] == fold(v)[0],
    # H4: the docs' example passes the change GUID here.
    "commitmentchangenumber": lambda s, k, c, v: fold(v)[0] in (k[2], fold(c.guid)[0]),
    "companyname": lambda s, k, c, v: fold(s.commitments[k[:2]].fields.get("companyName"))
    == fold(v),
}


def _stored_field(state: State, key: tuple, change: Entity, value: Any) -> bool:
    """Any other lookup field the spec declares: the value the change or its commitment was
    imported with (keys and values without regard to case)."""
    commitment = state.commitments.get(key[:2])
    stored = [*change.fields.values(), *(commitment.fields.values() if commitment else ())]
    return fold(value) in {fold(v) for v in stored if not isinstance(v, (dict, list))}


@handles("CommitmentChangesUpdate")
def commitment_changes_update(call: Call) -> Any:
    """PUT /CommitmentChanges: the lookup must single out one change; header fields update it."""
    state = _state(call)
    lookup = {k.casefold(): v for k, v in call.body["lookup"].items() if v not in (None, "")}
    matches = [change for key, change in state.commitment_changes.items()
               if all(_LOOKUPS.get(name, _stored_field)(state, key, change, v)
                      for name, v in lookup.items())]
    if len(matches) != 1:
        raise ApiError(404 if not matches else 400,
                       "Commitment change not found." if not matches
                       else "The lookup matches more than one commitment change.")
    matches[0].fields.update(call.body["header"])
    return call.ok()


# -- status updates (flat rows) ---------------------------------------------------------------

# wire name -> (state table, row fields naming the record after the project, not-found text)
_STATUS_TARGETS = {
    "BudgetChangesStatus": ("budget_changes", ("budgetChangeNumber",), "Budget change not found"),
    "CommitmentChangesStatus": ("commitment_changes",
                                ("commitmentNumber", "commitmentChangeNumber"),
                                "Commitment change not found"),
    "CommitmentsStatusUpdate": ("commitments", ("commitmentNumber",), "Commitment not found"),
    "InvoicesStatusUpdate": ("invoices", ("invoiceNumber",), "Invoice not found"),
}


@handles("BudgetChangesStatus")
@handles("CommitmentChangesStatus")
@handles("CommitmentsStatusUpdate")
@handles("InvoicesStatusUpdate")
def status_update(call: Call) -> Any:
    state, batch = _state(call), _batch(call)
    table, keys, missing = _STATUS_TARGETS[call.op.wire_name]

    def each(index: int, row: dict[str, Any]) -> None:
        project = _project(call, index, row, "")
        if project is None:
            return
        record = getattr(state, table).get(fold(project.guid, *(row.get(k) for k in keys)))
        if record is None:
            batch.fail(index, missing)
            return
        status = row["status"]
        # Voiding needs an approved commitment (the docs' error example).
        if (table == "commitments" and fold(status) == fold("Void")
                and fold(record.status) != fold("Approved")):
            batch.fail(index, "Commitment must be in approved status")
            batch.fail(index, f"current status is {record.status}")
            return
        record.status = status

    return _import(call, each)


# -- invoices, master commitments, funding, account codes --------------------------------------


@handles("InvoicesImport")
def invoices_import(call: Call) -> Any:
    state, batch = _state(call), _batch(call)

    def each(index: int, record: dict[str, Any]) -> None:
        header, items, part = _parts(record)
        project = _project(call, index, header, part)
        if project is None:
            return
        commitment = state.commitments.get(fold(project.guid, header["commitmentNumber"]))
        if commitment is None:
            batch.fail(index, "Commitment not found", part=part)
            return
        key = fold(project.guid, header["invoiceNumber"])
        if key in state.invoices:
            batch.fail(index, "Invoice Number already exists", part=part)
        for j, item in enumerate(items):
            number = item.get("commitmentItemNumber")
            if number and fold(number)[0] not in commitment.items:
                batch.fail(index, "Commitment item not found", item=j)
        if batch.failed(index):
            return
        state.invoices[key] = Entity(
            state.new_guid(), dict(header),
            {_number(i, "commitmentItemNumber", j): i for j, i in enumerate(items)},
            header.get("status") or "Pending")

    return _import(call, each)


@handles("MasterCommitmentsImport")
def master_commitments_import(call: Call) -> Any:
    state, batch = _state(call), _batch(call)

    def each(index: int, record: dict[str, Any]) -> None:
        header, items, part = _parts(record)
        if state.find_company(header.get("companyName"), header.get("companyNumber")) is None:
            batch.fail(index, "Company not found", part=part)
            return
        # The header has no number field in the docs: the account numbers them.
        number = (header.get("masterCommitmentNumber")
                  or f"MC-{len(state.master_commitments) + 1:03d}")
        if fold(number) in state.master_commitments:
            batch.fail(index, "Master Commitment Number already exists", part=part)
            return
        state.master_commitments[fold(number)] = Entity(
            state.new_guid(), {**header, "masterCommitmentNumber": number},
            {fold(_number(i, "itemNumber", j))[0]: i for j, i in enumerate(items)},
            header.get("status") or "Draft")

    return _import(call, each)


@handles("MasterCommitmentChangesImport")
def master_commitment_changes_import(call: Call) -> Any:
    state, batch = _state(call), _batch(call)

    def each(index: int, record: dict[str, Any]) -> None:
        header, items, part = _parts(record)
        if "projectIdentifier" in header and _project(call, index, header, part) is None:
            return
        master = state.master_commitments.get(fold(header["masterCommitmentNumber"]))
        if master is None:
            batch.fail(index, "Master commitment not found", part=part)
            return
        key = fold(header["masterCommitmentNumber"], header["masterCommitmentChangeNumber"])
        if key in state.master_commitment_changes:
            batch.fail(index, "Master Commitment Change Number already exists", part=part)
        for j, item in enumerate(items):
            if fold(item["masterCommitmentItemNumber"])[0] not in master.items:
                batch.fail(index, "Master commitment item not found", item=j)
        if batch.failed(index):
            return
        state.master_commitment_changes[key] = Entity(
            state.new_guid(), dict(header),
            {_number(i, "masterCommitmentItemNumber", j): i for j, i in enumerate(items)},
            header.get("status") or "Pending")

    return _import(call, each)


@handles("ProjectFundingSourcesImport")
def project_funding_sources_import(call: Call) -> Any:
    state, batch = _state(call), _batch(call)

    def each(index: int, record: dict[str, Any]) -> None:
        header, items, part = _parts(record)
        project = _project(call, index, header, part)
        if project is None:
            return
        names = [fold(project.guid, i["fundingSourceName"]) for i in items]
        for j, key in enumerate(names):
            if key in state.funding_sources or names.index(key) != j:
                batch.fail(index, "Funding source already exists", item=j)
        if batch.failed(index):
            return
        for key, item in zip(names, items, strict=True):
            state.funding_sources[key] = Entity(state.new_guid(), dict(item))

    return _import(call, each)


@handles("AccountCodeOptionsImport")
def account_code_options_import(call: Call) -> Any:
    """Options are independent of each other: every good one goes in, also next to a bad one
    in the same row."""
    state, batch = _state(call), _batch(call)
    batch.lists = True  # E2: failing rows are echoed as lists of their failing options
    for index, record in enumerate(batch.records):
        known = batch.errors.get(index)
        if known and (known.record or known.header):
            continue
        header, items, _ = _parts(record)
        for j, item in enumerate(items):
            option = str(item["option"])
            if known and j in known.items:
                continue
            if len(option) > 5:  # the documented rule, also when the schema has no max_length
                batch.fail(index, "Option Is Too Long. Option should not be more than "
                           "5 character(s)", item=j)
            else:
                state.account_code_options[fold(header["segmentId"], option)] = Entity(
                    state.new_guid(), {**item, "option": option})
    return batch.answer(call.success())


# -- process instances ------------------------------------------------------------------------


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
    state, batch, options = _state(call), _batch(call), _options(call)
    # The spec's rules require one of the two (checked before any handler runs).
    prefix = options.get("processPrefix") or call.params.get("processPrefix") or ""
    entity_mode = fold(options.get("importMode") or "Entity") == fold("Entity")
    draft = bool(options.get("createAsDraft"))
    groups: dict[tuple, ProcessInstance] = {}  # processIdentifier -> instance of this call

    def each(index: int, record: dict[str, Any]) -> None:
        header, items, part = _parts(record)
        project = None
        if header.get("projectIdentifier") is not None:  # account-level processes have none
            project = _project(call, index, header, part)
            if project is None:
                return
        counter = header.get("processCounter")
        if entity_mode and counter not in (None, ""):
            instance = state.find_process(prefix, counter, header.get("trackingPrefix"))
            if instance is None:
                batch.fail(index, "Process instance not found", part=part)
                return
            _update_process(instance, header, items)
            return
        group = fold(header["processIdentifier"]) if header.get("processIdentifier") else None
        if not entity_mode and group in groups:
            groups[group].items.extend(items)  # type: ignore[index]
            return
        instance = state.create_process(prefix, project, header, items, draft)
        if group:
            groups[group] = instance

    return _import(call, each)


def _update_process(instance: ProcessInstance, header: dict[str, Any],
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
        if fold(header["action"]) == fold("Submit"):
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
    state, batch = _state(call), _batch(call)

    def each(index: int, record: dict[str, Any]) -> None:
        header, items, _ = _parts(record)
        for j, item in enumerate(items):
            project = state.find_project(item["projectIdentifierValue"],
                                         header["projectIdentifier"])
            instance = _grid_instance(state, header, item["instanceIdentifierValue"])
            if project is None:
                batch.fail(index, "Project not found", item=j)
            elif instance is None or instance.project != project.guid:
                batch.fail(index, "Process instance not found", item=j)
            else:
                _write_grids(instance, item["dynamicGrids"])

    return _import(call, each)


def _grid_instance(state: State, header: dict[str, Any], value: Any) -> ProcessInstance | None:
    if fold(header["instanceIdentifier"]) == fold("ProcessNumber"):
        return state.find_process(header["processIdentifier"], value)
    by = fold(header["instanceIdentifier"])
    return next((p for p in state.processes.values()
                 if fold(p.prefix) == fold(header["processIdentifier"])
                 and any(fold(k) == by and fold(v) == fold(value)
                         for k, v in {**p.fields, **(p.fields.get("processDataFields") or {})}
                         .items())), None)


def _write_grids(instance: ProcessInstance, grids: list[dict[str, Any]]) -> None:
    for grid in grids:
        rows = instance.grids.setdefault(grid["dynamicGridVariableName"], {})
        by_column = fold(grid["dynamicGridRowIdentifier"]) == fold("customcolumn")
        for row in grid["dynamicGridData"]:
            columns = {c["columnVariableName"]: c.get("columnData") for c in row["rowData"]}
            # customcolumn: the row is the one whose identifying column holds the value
            key = (columns.get(grid["dynamicGridRowIdentifierValue"]) if by_column
                   else None) or str(row["rowNumber"])
            rows[str(key)] = {**rows.get(str(key), {}), **columns}


@handles("ProcessInstancesCommentsCreate")
def comments_create(call: Call) -> Any:
    state, body = _state(call), call.body
    ident = call.path["processInstanceId"]
    instance = state.processes.get(ident.lower())
    if instance is None:
        raise _comment_error("Process instance not found.", 404)
    if instance.draft:
        raise _comment_error("Comments cannot be added to a draft process instance.", 409)
    documents = body.get("documents") or []
    if len(documents) > 100:
        raise _comment_error("A comment can have at most 100 documents.")
    # One unknown document cancels the whole comment.
    unknown = [d for d in documents if not (isinstance(d, str) and d.lower() in state.documents)]
    if unknown:
        raise _comment_error(f"Document not found: {', '.join(map(str, unknown))}.", 404)
    comment = Comment(state.new_guid(), body["commentText"], bool(body.get("isPrivate")),
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


def _document_project(call: Call) -> Entity:
    project = _state(call).find_project(call.body["projectName"])  # by name here (H8)
    if project is None:
        raise ApiError(404, "Project not found.")
    return project


def _new_document(state: State, project: Entity, folder: str, name: str, size: int,
                  status: str) -> Document:
    document = Document(state.new_guid(), project.guid, folder, name, size, status)
    state.documents[document.guid] = document
    return document


@handles("DocumentsCreate")
def documents_create(call: Call) -> Any:
    """Step one of two: an incomplete document and a pre-signed PUT on this server."""
    state, body = _state(call), call.body
    assert call.presigned is not None and call.settings is not None
    project = _document_project(call)
    folder, name, size = body["folderPath"], body["fileName"], body["fileSize"]
    version = 1 + sum(1 for d in state.documents.values()
                      if d.project == project.guid and fold(d.folder, d.name) == fold(folder, name))
    document = _new_document(state, project, folder, name, size, "incomplete")
    document.custom_fields = dict(body.get("customFields") or {})
    headers = {  # the casing of the docs' example (C13)
        "content-Length": str(size),
        "content-Type": mimetypes.guess_type(name)[0] or "application/octet-stream",
        "x-amz-meta-s-aid": ACCOUNT_GUID,
        "x-amz-meta-s-pid": project.guid,
        "x-amz-meta-s-fid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{project.guid}{folder}")),
        "x-amz-meta-s-vn": str(version),
    }
    uri, expires = call.presigned.issue(
        call.base_url, headers, size, call.settings.upload_window,
        lambda path: state.complete_document(document.guid, path))
    return call.ok(uploadParameters={
        "uri": uri, "headers": headers, "httpMethod": "PUT",
        "expiresAt": expires.isoformat(timespec="milliseconds"),
    })


@handles("DocumentsUpload")
def documents_upload(call: Call) -> Any:
    """Base64 in the body; the app has checked the size and decoded it to `call.upload`."""
    state, body = _state(call), call.body
    assert call.upload is not None
    project = _document_project(call)
    document = _new_document(state, project, body["folderPath"], body["fileName"],
                             call.upload.path.stat().st_size, "incomplete")
    state.complete_document(document.guid, call.upload.path)
    return call.ok()


@handles("DocumentsImport")
def documents_import(call: Call) -> Any:
    state, batch = _state(call), _batch(call)

    def each(index: int, row: dict[str, Any]) -> None:
        project = _project(call, index, row, "")
        if project is None:
            return
        found = [d for d in state.documents.values() if d.project == project.guid
                 and fold(d.folder, d.name) == fold(row["folderPath"], row["fileName"])]
        if not found:
            batch.fail(index, "Document not found")
            return
        found[-1].custom_fields.update(row.get("customFields") or {})  # the latest version

    return _import(call, each)
