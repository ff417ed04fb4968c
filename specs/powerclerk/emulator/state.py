"""In-memory PowerClerk data: one seeded program and every project created through the API.

Plain objects; handlers run one at a time under `State.lock` (the app takes it), and tests take
it too when they look inside while the server runs."""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from emulator.errors import ApiError, not_found
from emulator.records import RecordStore
from generator.model.scalars import parse_date

_ID_CHARS = string.ascii_uppercase + string.digits


def now() -> datetime:
    return datetime.now(UTC)


def stamp(moment: datetime) -> str:
    """ISO-8601 with offset; microseconds kept so changed_since polling never loses a change."""
    return moment.isoformat()


# -- program definition (seeded, read-only) --------------------------------------------------


@dataclass
class Status:
    status_id: str
    name: str
    custom_id: str | None = None


@dataclass
class DataFieldDef:
    field_id: str
    name: str
    type: str  # Text, Decimal, Date, Boolean, Choice
    custom_id: str | None = None
    required: bool = False
    multi: bool = False  # multi-instance: `Values` on the wire
    choices: tuple[str, ...] = ()
    min: Decimal | None = None
    max: Decimal | None = None
    custom_list: str | None = None  # key column of this custom list ...
    hierarchy_level: int | None = None  # ... at this level
    sensitive: bool = False  # obfuscated unless reveal_sensitive_data (needs MFA)


@dataclass
class AttachmentDef:
    attachment_id: str
    name: str
    custom_id: str | None = None


@dataclass
class FormDef:
    form_id: str
    name: str
    custom_id: str | None
    fields: list[DataFieldDef]
    attachments: list[AttachmentDef]
    available_in: list[str]  # status ids
    submit_status: str | None = None  # status a submission moves the project to

    def field(self, ident: str) -> DataFieldDef | None:
        """The data field with this public or custom id."""
        return next((d for d in self.fields if ident in (d.field_id, d.custom_id)), None)


@dataclass
class CustomList:
    list_id: str
    name: str
    rows: list[tuple[str, ...]]  # one value per hierarchy level


@dataclass
class Program:
    program_id: str
    name: str
    number_prefix: str
    statuses: list[Status]
    forms: list[FormDef]
    custom_lists: list[CustomList]


def _program_from_seed(seed: dict[str, Any]) -> Program:
    """One `programs:` entry of seeds.yaml."""
    statuses = [Status(s["StatusId"], s["Name"], s.get("CustomId")) for s in seed["Statuses"]]
    forms = [
        FormDef(
            form_id=f["FormId"], name=f["Name"], custom_id=f.get("CustomId"),
            fields=[DataFieldDef(
                d["DataFieldId"], d["Name"], d["Type"], d.get("CustomId"),
                required=d.get("required", False), multi=d.get("multi", False),
                choices=tuple(d.get("Choices", ())),
                min=Decimal(str(d["Min"])) if "Min" in d else None,
                max=Decimal(str(d["Max"])) if "Max" in d else None,
                custom_list=d.get("custom_list"), hierarchy_level=d.get("HierarchyLevel"),
                sensitive=d.get("sensitive", False),
            ) for d in f["DataFields"]],
            attachments=[AttachmentDef(a["AttachmentId"], a["Name"], a.get("CustomId"))
                         for a in f["Attachments"]],
            available_in=list(f["AvailableInStatuses"]),
            submit_status=f.get("submit_status"),
        )
        for f in seed["Forms"]
    ]
    lists = [CustomList(c["ListId"], c["Name"], [tuple(row) for row in c["Rows"]])
             for c in seed.get("CustomLists", ())]
    return Program(seed["ProgramId"], seed["Name"], seed["number_prefix"], statuses, forms, lists)


# -- projects (mutable) ----------------------------------------------------------------------


@dataclass
class Person:
    name: str
    email: str


@dataclass
class StoredFile:
    path: Path
    file_name: str
    content_type: str
    size: int
    uploader: Person
    uploaded: datetime
    status: str = "Pending"  # Approved, Rejected, Pending
    note: str | None = None


@dataclass
class StatusEntry:
    status: Status
    timestamp: datetime
    changed_by: Person
    report_as: str = "normal"
    report_as_changed_by: Person | None = None


@dataclass
class Note:
    note_id: str
    text: str
    author: Person
    is_admin: bool
    created: datetime


@dataclass
class Thread:
    thread_id: str
    project_id: str
    subject: str
    created: datetime
    status: str = "Open"
    external_id: str | None = None
    notes: list[Note] = field(default_factory=list)


Values = dict[str, str | list[str] | None]  # data field id -> Value or Values


@dataclass
class Project:
    project_id: str
    program: Program
    owner: Person
    created: datetime
    status: Status
    status_timestamp: datetime
    last_change: datetime
    number: str | None = None
    assignee: Person | None = None
    drafts: dict[str, Values] = field(default_factory=dict)  # form id -> values
    submitted: dict[str, Values] = field(default_factory=dict)
    files: dict[str, StoredFile] = field(default_factory=dict)  # attachment id -> file
    history: list[StatusEntry] = field(default_factory=list)
    field_changes: list[tuple[DataFieldDef, datetime, Person]] = field(default_factory=list)

    def touch(self) -> None:
        self.last_change = now()


def person_of(client_id: str) -> Person:
    """Clients have no profile; derive a stable one from the client id."""
    return Person(client_id.replace("-", " ").title(), f"{client_id}@example.test")


def _check_value(defn: DataFieldDef, value: str) -> str | None:
    """The problem with one data-field value ('' clears it), or None."""
    if value == "":
        return None
    if defn.type == "Decimal":
        try:
            number = Decimal(value)
        except InvalidOperation:
            return f"'{value}' is not a decimal number"
        if (defn.min is not None and number < defn.min) or (
            defn.max is not None and number > defn.max
        ):
            return f"{value} is outside {defn.min}..{defn.max}"
    elif defn.type == "Date":
        try:
            parse_date(value)
        except ValueError:
            return f"'{value}' is not a date in the format yyyy-MM-dd"
    elif defn.type == "Boolean" and value not in ("true", "false"):
        return f"'{value}' is not a boolean; use true or false"
    elif defn.type == "Choice" and value not in defn.choices:
        return f"'{value}' is not one of {', '.join(defn.choices)}"
    return None


class State:
    """Everything the emulated PowerClerk knows; `reset()` returns to the seeded program."""

    def __init__(self, store: RecordStore) -> None:
        self.store = store
        self.lock = store.lock
        self.seeds = store.seeds
        self.files_dir = store.files_dir
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.store.reset()
            programs = [_program_from_seed({
                **p.fields,
                "Statuses": [s.fields for s in self.store.records("statuses", p)],
                "Forms": [f.fields for f in self.store.records("forms", p)],
            }) for p in self.store.records("programs")]
            self.programs = {p.program_id: p for p in programs}
            self.projects: dict[str, Project] = {}  # insertion order = creation order
            self.threads: dict[str, Thread] = {}
            self._rng = random.Random(20240101)  # same ids after every reset
            self._numbers = 0
            for seed in self.seeds.get("projects", ()):
                self._seed_project(seed)

    def _seed_project(self, seed: dict[str, Any]) -> None:
        """One `projects:` entry of seeds.yaml, built through the API's own transitions."""
        program = self.program(seed["program"])
        who = person_of(seed["owner"])
        project = self.create_project(program, who)
        for form_id, values in seed.get("draft", {}).items():
            fields = [{"DataFieldId": k, "Values" if isinstance(v, list) else "Value": v}
                      for k, v in values.items()]
            self.set_data(project, self.form(program, form_id), fields, who, draft=True)
        for entry in seed.get("attachments", ()):
            form = self.form(program, entry["form"])
            defn = self.attachment(program, entry["attachment"], form)
            upload = self.files_dir / "seed-upload"
            upload.write_bytes(entry["content"].encode())
            stored = self.store_file(project, defn, upload, entry["file_name"],
                                     entry["content_type"], who)
            stored.status = entry.get("AttachmentStatus", stored.status)
            stored.note = entry.get("Note")
        for form_id in seed.get("submit", ()):
            self.submit(project, self.form(program, form_id), who)
        for form_id, values in seed.get("non_draft", {}).items():
            fields = [{"DataFieldId": k, "Value": v} for k, v in values.items()]
            self.set_data(project, self.form(program, form_id), fields, who, draft=False)
        for entry in seed.get("report_as", ()):
            status = self.status(program, entry["status"])
            for history in project.history:
                if history.status is status:
                    history.report_as, history.report_as_changed_by = entry["ReportAs"], who
        for inquiry in seed.get("inquiries", ()):
            thread_id = None
            for text in inquiry["notes"]:
                thread, _ = self.add_note(project, thread_id, inquiry["Subject"], text, who,
                                          False)
                thread_id = thread.thread_id

    def close(self) -> None:
        self.store.close()

    def new_id(self) -> str:
        return "".join(self._rng.choices(_ID_CHARS, k=12))

    # -- lookups: public ids, custom ids and project numbers -----------------------------

    def program(self, program_id: str) -> Program:
        program = self.programs.get(program_id)
        if program is None:
            raise not_found("Program", program_id)
        return program

    def project(self, program: Program, ident: str) -> Project:
        """By ProjectId, or by ProjectNumber once the project has one."""
        project = self.projects.get(ident)
        if project is None:
            project = next((p for p in self.projects.values() if p.number == ident), None)
        if project is None or project.program is not program:
            raise not_found("Project", ident)
        return project

    @staticmethod
    def form(program: Program, ident: str) -> FormDef:
        for form in program.forms:
            if ident in (form.form_id, form.custom_id):
                return form
        raise not_found("Form", ident)

    @staticmethod
    def status(program: Program, ident: str) -> Status:
        for status in program.statuses:
            if ident in (status.status_id, status.custom_id):
                return status
        raise not_found("Status", ident)

    @staticmethod
    def data_field(program: Program, ident: str) -> DataFieldDef:
        for form in program.forms:
            defn = form.field(ident)
            if defn is not None:
                return defn
        raise not_found("Data field", ident)

    @staticmethod
    def attachment(program: Program, ident: str, form: FormDef | None = None) -> AttachmentDef:
        for candidate in [form] if form else program.forms:
            for defn in candidate.attachments:
                if ident in (defn.attachment_id, defn.custom_id):
                    return defn
        raise not_found("Attachment", ident)

    def thread(self, program: Program, thread_id: str) -> Thread:
        thread = self.threads.get(thread_id)
        if thread is None or self.projects[thread.project_id].program is not program:
            raise not_found("Inquiry thread", thread_id)
        return thread

    # -- lifecycle ------------------------------------------------------------------------

    def create_project(self, program: Program, owner: Person) -> Project:
        created = now()
        first = program.statuses[0]
        project = Project(self.new_id(), program, owner, created, first, created, created)
        project.history.append(StatusEntry(first, created, owner))
        self.projects[project.project_id] = project
        return project

    def set_data(self, project: Project, form: FormDef, fields: list[dict], who: Person, *,
                 draft: bool) -> None:
        """Validate every entry first, then apply them all (nothing changes on a 4xx)."""
        changes: Values = {}
        defns = [form.field(e.get("DataFieldId", "")) for e in fields]
        unknown = [f"$.Project.DataFields[{i}].DataFieldId: no data field "
                   f"'{fields[i].get('DataFieldId', '')}' on form {form.name}"
                   for i, d in enumerate(defns) if d is None]
        if unknown:  # the spec's errors: a DataFieldId that names no field is 404
            raise ApiError(404, "The data fields were not found.", unknown)
        errors = []
        for index, (entry, defn) in enumerate(zip(fields, defns, strict=True)):
            where = f"$.Project.DataFields[{index}]"
            values = entry.get("Values")
            if values is not None and not defn.multi:
                errors.append(f"{where}.Values: '{defn.name}' is single-instance; use Value")
                continue
            if values is None and defn.multi and entry.get("Value") is not None:
                values = [entry["Value"]]
            for value in values if values is not None else [entry.get("Value") or ""]:
                problem = _check_value(defn, value)
                if problem:
                    errors.append(f"{where}: {problem}")
            changes[defn.field_id] = values if defn.multi else (entry.get("Value") or None)
        if errors:
            raise ApiError(400, "The data field values are invalid.", errors)
        target = project.drafts if draft else project.submitted
        merged = {**target.get(form.form_id, {}), **changes}
        if not draft and not self.complete(form, merged):
            raise ApiError(400, "Non-draft data must fill every required field of the form.")
        target[form.form_id] = merged
        if not draft:  # keep the draft in step with what is now committed
            project.drafts[form.form_id] = {**project.drafts.get(form.form_id, {}), **changes}
            moment = now()
            changed = [d for d in form.fields if d.field_id in changes]
            project.field_changes += [(d, moment, who) for d in changed]
        project.touch()

    @staticmethod
    def complete(form: FormDef, values: Values) -> bool:
        return all(values.get(d.field_id) not in (None, "", []) for d in form.fields if d.required)

    def submit(self, project: Project, form: FormDef, who: Person) -> None:
        if project.status.status_id not in form.available_in:
            raise ApiError(409, f"Form {form.name} cannot be submitted in status "
                                f"{project.status.name}.")
        draft = project.drafts.get(form.form_id, {})
        if not self.complete(form, draft):
            missing = [d.name for d in form.fields if d.required and not draft.get(d.field_id)]
            raise ApiError(409, "The form is not complete.", [f"missing: {n}" for n in missing])
        if project.number is None:
            self._numbers += 1
            project.number = f"{project.program.number_prefix}-{self._numbers:05d}"
        previous = project.submitted.get(form.form_id, {})
        moment = now()
        project.field_changes += [
            (d, moment, who) for d in form.fields
            if draft.get(d.field_id) != previous.get(d.field_id)
        ]
        project.submitted[form.form_id] = dict(draft)
        if form.submit_status:
            self.set_status(project, self.status(project.program, form.submit_status), who)
        project.touch()

    def set_status(self, project: Project, status: Status, who: Person) -> StatusEntry:
        moment = now()
        entry = StatusEntry(status, moment, who)
        project.history.append(entry)
        project.status, project.status_timestamp = status, moment
        project.touch()
        return entry

    def store_file(self, project: Project, defn: AttachmentDef, upload: Path, file_name: str,
                   content_type: str, who: Person) -> StoredFile:
        target = self.files_dir / f"{project.project_id}-{defn.attachment_id}"
        upload.replace(target)  # same file system: a rename, the bytes are not copied
        stored = StoredFile(target, file_name, content_type, target.stat().st_size, who, now())
        project.files[defn.attachment_id] = stored
        project.touch()
        return stored

    def add_note(self, project: Project, thread_id: str | None, subject: str, text: str,
                 who: Person, is_admin: bool) -> tuple[Thread, Note]:
        """A note in an existing thread, or in a new one when no thread id is given."""
        moment = now()
        if thread_id:
            thread = self.thread(project.program, thread_id)
            if thread.project_id != project.project_id:
                raise not_found("Inquiry thread", thread_id)
        else:
            thread = Thread(self.new_id(), project.project_id, subject, moment)
            self.threads[thread.thread_id] = thread
        note = Note(self.new_id(), text, who, is_admin, moment)
        thread.notes.append(note)
        project.touch()
        return thread, note
