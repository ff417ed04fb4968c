"""PowerClerk API V2 behaviour: one handler per operation wire name, rendering the spec's wire
field names from `.state`. Handlers run under the state lock (see `Emulator._run`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.responses import FileResponse

from emulator.errors import ApiError, not_found
from emulator.handler import Behaviour, Call
from generator.model.scalars import parse_date, parse_datetime

from .state import (
    AttachmentDef,
    DataFieldDef,
    FormDef,
    Note,
    Person,
    Program,
    Project,
    State,
    Status,
    StatusEntry,
    StoredFile,
    Thread,
    Values,
    now,
    person_of,
    stamp,
)


def _records(state: State) -> dict[str, list[dict[str, Any]]]:
    """The records an operation without a hook answers with, by model name."""
    programs = list(state.programs.values())
    return {
        "Program": [{"ProgramId": p.program_id, "Name": p.name} for p in programs],
        "ProgramStatus": [_status(s) for p in programs for s in p.statuses],
        "Form": [_form_doc(f, p) for p in programs for f in p.forms],
        "ProjectSummary": [_summary(p) for p in state.projects.values()],
        "InquiryThread": [_thread(t) for t in state.threads.values()],
    }


BEHAVIOUR = Behaviour(make_state=State, records=lambda state: _records(state))
handles = BEHAVIOUR.handles
LANDING_PAGE = "https://emulator.powerclerk.test/MvcProjects/LandingPage"
MASK = "********"


# -- lookups from path parameters ----------------------------------------------------------


def _program(call: Call) -> Program:
    return call.state.program(call.path["ProgramId"])


def _project(call: Call) -> Project:
    return call.state.project(_program(call), call.path["ProjectId"])


def _form(call: Call) -> FormDef:
    return call.state.form(_program(call), call.path["FormId"])


def _who(call: Call) -> Person:
    return person_of(call.client.client_id)


def _person_from_email(email: str) -> Person:
    """A person named after an address's local part (the spec states no email format)."""
    local = email.split("@", 1)[0]
    return Person(local.replace(".", " ").replace("_", " ").title(), email)


# -- renderers: state -> wire documents ----------------------------------------------------


def _status(status: Status) -> dict[str, Any]:
    return {"StatusId": status.status_id, "CustomId": status.custom_id, "Name": status.name}


def _current_status(project: Project) -> dict[str, Any]:
    return {**_status(project.status), "Timestamp": stamp(project.status_timestamp)}


def _person(person: Person) -> dict[str, str]:
    return {"Name": person.name, "Email": person.email}


def _header(project: Project) -> dict[str, Any]:
    """The fields every project document starts with."""
    return {
        "ProjectId": project.project_id,
        "ProgramId": project.program.program_id,
        "ProjectNumber": project.number,
        "Url": f"{LANDING_PAGE}?ProgramId={project.program.program_id}"
        f"&ProjectId={project.project_id}",
        "LastChangeTimestamp": stamp(project.last_change),
        "CurrentStatus": _current_status(project),
    }


def _summary(project: Project) -> dict[str, Any]:
    return {**_header(project), "ProjectOwner": _person(project.owner)}


def _projects(projects: list[Project], requested: str) -> dict[str, Any]:
    return {"Projects": [_summary(p) for p in projects], "RequestTimestamp": requested}


def _available_in(form: FormDef, program: Program) -> list[dict[str, Any]]:
    return [_status(s) for s in program.statuses if s.status_id in form.available_in]


def _form_doc(form: FormDef, program: Program) -> dict[str, Any]:
    return {
        "FormId": form.form_id,
        "CustomId": form.custom_id,
        "ProgramId": program.program_id,
        "Name": form.name,
        "AvailableInStatuses": _available_in(form, program),
    }


def _reveal(call: Call) -> bool:
    """reveal_sensitive_data=true needs MFA (and, in PowerClerk, a privilege we grant all)."""
    if not call.params.get("reveal_sensitive_data"):
        return False
    if call.client.mfa_totp_secret is None:
        raise ApiError(403, "reveal_sensitive_data requires an MFA-enabled account.")
    return True


def _mask(value: str | list[str] | None) -> str | list[str] | None:
    if isinstance(value, list):
        return [MASK if v else v for v in value]
    return MASK if value else value


def _field_values(form: FormDef, values: Values, *, omit_empty: bool,
                  reveal: bool) -> list[dict[str, Any]]:
    docs = []
    for defn in form.fields:
        value = values.get(defn.field_id)
        if omit_empty and value in (None, "", []):
            continue
        if defn.sensitive and not reveal:
            value = _mask(value)
        docs.append({
            "DataFieldId": defn.field_id,
            "CustomId": defn.custom_id,
            "Name": defn.name,
            "Value": None if defn.multi else value,
            "Values": value if defn.multi else None,
        })
    return docs


def _attachments(project: Project, form: FormDef, *, omit_empty: bool) -> list[dict[str, Any]]:
    docs = []
    for defn in form.attachments:
        stored = project.files.get(defn.attachment_id)
        if omit_empty and stored is None:
            continue
        docs.append({
            "AttachmentId": defn.attachment_id,
            "CustomId": defn.custom_id,
            "Name": defn.name,
            "FileName": stored.file_name if stored else None,
        })
    return docs


def _project_data(call: Call, project: Project, form: FormDef, *, draft: bool) -> dict:
    values = (project.drafts if draft else project.submitted).get(form.form_id, {})
    return {"Project": {
        **_header(project),
        "CanSubmit": call.state.complete(form, project.drafts.get(form.form_id, {})),
        "DataFields": _field_values(form, values, omit_empty=False, reveal=_reveal(call)),
        "Attachments": _attachments(project, form, omit_empty=False),
    }}


# -- programs ------------------------------------------------------------------------------


@handles("GetFormSchema")
def get_form_schema(call: Call) -> dict:
    program, form = _program(call), _form(call)
    fields = []
    for defn in form.fields:
        doc: dict[str, Any] = {"DataFieldId": defn.field_id, "CustomId": defn.custom_id,
                               "Name": defn.name, "Type": defn.type}
        # Properties, HierarchyLevel and Choices are only present when set (V2 migration notes).
        bounds = {k: str(v) for k, v in (("Min", defn.min), ("Max", defn.max)) if v is not None}
        if bounds:
            doc["Properties"] = bounds
        if defn.hierarchy_level is not None:
            doc["HierarchyLevel"] = defn.hierarchy_level
        if defn.choices:
            doc["Choices"] = list(defn.choices)
        fields.append(doc)
    return {"FormSchema": {
        "FormId": form.form_id,
        "CustomId": form.custom_id,
        "Name": form.name,
        "DataFields": fields,
        "Attachments": [
            {"AttachmentId": a.attachment_id, "CustomId": a.custom_id, "Name": a.name}
            for a in form.attachments
        ],
        "AvailableInStatuses": _available_in(form, program),
    }}


@handles("GetCustomListChoices")
def get_custom_list_choices(call: Call) -> dict:
    program = _program(call)
    defn = call.state.data_field(program, call.path["DataFieldId"])
    custom = next((c for c in program.custom_lists if c.list_id == defn.custom_list), None)
    if custom is None or defn.hierarchy_level is None:
        return {"Choices": []}  # the field exists (so no 404) but takes no custom list
    level = defn.hierarchy_level - 1
    return {"Choices": list(dict.fromkeys(row[level] for row in custom.rows))}


# -- projects ------------------------------------------------------------------------------


@handles("GetProjects")
def get_projects(call: Call) -> dict:
    requested = stamp(now())
    program = _program(call)
    projects = [p for p in call.state.projects.values() if p.program is program]
    since = call.params.get("changed_since")
    if since is not None:
        projects = [p for p in projects if p.last_change > since.astimezone(UTC)]
    offset = call.params.get("offset", 0)
    limit = call.params.get("limit", 1000)  # the documented maximum page, also when omitted
    return _projects(projects[offset:offset + limit], requested)


@handles("GetProjectByNumber")
def get_project_by_number(call: Call) -> dict:
    requested = stamp(now())
    program = _program(call)
    wanted = set(call.body.get("ProjectNumbers") or [])
    found = [p for p in call.state.projects.values()
             if p.program is program and p.number in wanted]
    return _projects(found, requested)


@handles("GetProjectsByData")
def get_projects_by_data(call: Call) -> dict:
    """Projects whose latest submitted data matches every filter (a multi-instance field
    matches when any of its values does)."""
    requested = stamp(now())
    program = _program(call)
    filters: list[tuple[DataFieldDef | None, str]] = []
    unknown: list[str] = []
    errors: list[str] = []
    for index, item in enumerate(call.body.get("Fields") or []):
        ident, content = item.get("DataFieldId"), item["Content"]
        try:
            defn = call.state.data_field(program, ident) if ident else None
        except ApiError as exc:
            unknown.append(f"$.Fields[{index}].DataFieldId: {exc.message}")
            continue
        if defn is not None and defn.type == "Date":
            try:
                parse_date(content)
            except ValueError as exc:
                errors.append(f"$.Fields[{index}].Content: {exc}")
        filters.append((defn, content))
    if unknown:  # the spec's errors: a filter naming no data field is 404
        raise ApiError(404, "The search filters name unknown data fields.", unknown)
    if errors:
        raise ApiError(400, "The search filters are invalid.", errors)

    def matches(project: Project, defn: DataFieldDef | None, content: str) -> bool:
        for values in project.submitted.values():
            for field_id, value in values.items():
                if defn is not None and field_id != defn.field_id:
                    continue
                if content == value or (isinstance(value, list) and content in value):
                    return True
        return False

    found = [p for p in call.state.projects.values() if p.program is program
             and all(matches(p, d, c) for d, c in filters)]
    return _projects(found, requested)


@handles("CreateNewProject")
def create_new_project(call: Call) -> dict:
    program = _program(call)
    project = call.state.create_project(program, _who(call))
    return {"Project": {**_header(project),
                        "Forms": [_form_doc(f, program) for f in program.forms]}}


@handles("GetAllProjectData")
def get_all_project_data(call: Call) -> dict:
    project, reveal = _project(call), _reveal(call)
    fields, attachments = [], []
    for form in project.program.forms:
        values = project.submitted.get(form.form_id, {})
        fields += _field_values(form, values, omit_empty=True, reveal=reveal)
        attachments += _attachments(project, form, omit_empty=True)
    return {"Project": {**_header(project), "DataFields": fields, "Attachments": attachments}}


@handles("GetProjectData")
def get_project_data(call: Call) -> dict:
    return _project_data(call, _project(call), _form(call), draft=True)


@handles("GetProjectDataNonDraft")
def get_project_data_non_draft(call: Call) -> dict:
    return _project_data(call, _project(call), _form(call), draft=False)


def _set_data(call: Call, *, draft: bool) -> dict:
    project, form = _project(call), _form(call)
    fields = call.body["Project"]["DataFields"]
    call.state.set_data(project, form, fields, _who(call), draft=draft)
    return _project_data(call, project, form, draft=draft)


@handles("SetProjectData")
def set_project_data(call: Call) -> dict:
    return _set_data(call, draft=True)


@handles("SetProjectDataNonDraft")
def set_project_data_non_draft(call: Call) -> dict:
    return _set_data(call, draft=False)


@handles("SubmitProject")
def submit_project(call: Call) -> dict:
    project = _project(call)
    call.state.submit(project, _form(call), _who(call))
    return {"Project": _header(project)}


@handles("SetProjectOwner")
def set_project_owner(call: Call) -> dict:
    project = _project(call)
    project.owner = _person_from_email(call.body["OwnerEmail"])
    project.touch()
    return {"Owner": _person(project.owner)}


@handles("SetAssignee")
def set_assignee(call: Call) -> dict:
    project = _project(call)
    project.assignee = _person_from_email(call.body.get("AssigneeEmail") or "")
    project.touch()
    return {"ProjectId": project.project_id, "Assignee": _person(project.assignee)}


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@handles("GetExportProject")
def get_export_project(call: Call) -> dict:
    """Every data field grouped by form, with when and by whom it last changed."""
    project = _project(call)
    last: dict[str, tuple[datetime, Person]] = {}
    for defn, moment, who in project.field_changes:
        last[defn.field_id] = (moment, who)
    groups = []
    for form in project.program.forms:
        values = project.submitted.get(form.form_id, {})
        fields = []
        for defn in form.fields:
            moment, who = last.get(defn.field_id, (project.created, project.owner))
            value = values.get(defn.field_id)
            fields.append({"Name": defn.name, "ChangeTime": _utc(moment), "ChangedBy": who.email,
                           "CurrentValue": _mask(value) if defn.sensitive else value})
        groups.append({"Name": form.name, "Fields": fields})
    changed_by = project.field_changes[-1][2].email if project.field_changes else None
    return {"Project": {
        "Number": project.number,
        "Owner": project.owner.email,
        "CreatedUTC": _utc(project.created),
        "LastChangedUTC": _utc(project.last_change),
        "LastChangedBy": changed_by,
        "Data": groups,
    }}


# -- statuses ------------------------------------------------------------------------------


def _history_entry(entry: StatusEntry) -> dict[str, Any]:
    return {
        **_status(entry.status),
        "Timestamp": stamp(entry.timestamp),
        "ChangedBy": entry.changed_by.email,
        "ReportAs": entry.report_as,
        "ReportAsChangedBy": entry.report_as_changed_by.email if entry.report_as_changed_by
        else None,
    }


@handles("GetProjectStatusHistory")
def get_project_status_history(call: Call) -> dict:
    return {"StatusHistory": [_history_entry(e) for e in _project(call).history]}


@handles("SetProjectStatus")
def set_project_status(call: Call) -> dict:
    project = _project(call)
    status = call.state.status(project.program, call.path["StatusId"])
    call.state.set_status(project, status, _who(call))
    return {"Project": _header(project)}


@handles("SetProjectStatusReportAs")
def set_project_status_report_as(call: Call) -> dict:
    project = _project(call)
    status = call.state.status(project.program, call.body["StatusId"])
    # Whole seconds: clients often drop the fractions of the timestamps we hand out.
    wanted = parse_datetime(call.body["Timestamp"]).replace(microsecond=0)
    entry = next((e for e in project.history if e.status is status
                  and e.timestamp.replace(microsecond=0) == wanted), None)
    if entry is None:
        raise not_found("Status history entry", f"{status.name} at {call.body['Timestamp']}")
    entry.report_as = call.body["ReportAs"]
    entry.report_as_changed_by = _who(call)
    project.touch()
    return {"StatusHistoryEntry": _history_entry(entry)}


# -- attachments ---------------------------------------------------------------------------


def _metadata(project: Project, defn: AttachmentDef) -> dict[str, Any]:
    stored = project.files.get(defn.attachment_id)
    return {"AttachmentMetadata": {
        "AttachmentId": defn.attachment_id,
        "AttachmentName": defn.name,
        "FileName": stored.file_name if stored else None,
        "FileSize": stored.size if stored else None,
        "AttachmentStatus": stored.status if stored else None,
        "Note": stored.note if stored else None,
        "Uploader": _person(stored.uploader) if stored else {"Name": None, "Email": None},
    }}


def _attachment(call: Call) -> tuple[Project, AttachmentDef]:
    project = _project(call)
    return project, call.state.attachment(project.program, call.path["AttachmentId"])


def _stored(project: Project, defn: AttachmentDef) -> StoredFile:
    stored = project.files.get(defn.attachment_id)
    if stored is None:
        raise ApiError(404, f"No file has been uploaded for attachment '{defn.name}'.")
    return stored


@handles("SetProjectAttachment")
def set_project_attachment(call: Call) -> dict:
    project = _project(call)
    form = _form(call)
    defn = call.state.attachment(project.program, call.path["AttachmentId"], form)
    upload = call.upload
    assert upload is not None  # the spec declares a binary body
    call.state.store_file(project, defn, upload.path, upload.file_name or defn.name,
                          upload.content_type, _who(call))
    return _metadata(project, defn)


@handles("GetAttachmentMetadata")
def get_attachment_metadata(call: Call) -> dict:
    return _metadata(*_attachment(call))


_REVIEW = {"Approve": "Approved", "Reject": "Rejected", "Unmark": "Pending"}  # Save: unchanged


@handles("SetAttachmentMetadata")
def set_attachment_metadata(call: Call) -> dict:
    project, defn = _attachment(call)
    stored = _stored(project, defn)
    stored.status = _REVIEW.get(call.body["AttachmentStatus"], stored.status)
    if "Note" in call.body:
        stored.note = call.body["Note"]
    project.touch()
    return _metadata(project, defn)


def _download(call: Call) -> FileResponse:
    stored = _stored(*_attachment(call))
    return FileResponse(stored.path, media_type=stored.content_type, filename=stored.file_name)


handles("GetActiveAttachment")(_download)
handles("GetAttachmentAsAdmin")(_download)  # admin_only comes from the spec


# -- inquiry threads -----------------------------------------------------------------------


def _thread(thread: Thread) -> dict[str, Any]:
    return {"ThreadId": thread.thread_id, "Status": thread.status,
            "ExternalThreadId": thread.external_id}


def _note(thread: Thread, note: Note) -> dict[str, Any]:
    return {"ThreadId": thread.thread_id, "Text": note.text, "IsAdmin": note.is_admin}


@handles("GetInquiryThreads")
def get_inquiry_threads(call: Call) -> dict:
    project = _project(call)
    threads = [t for t in call.state.threads.values() if t.project_id == project.project_id]
    return {"InquiryThreads": [_thread(t) for t in threads]}


@handles("GetNotesInInquiryThread")
def get_notes_in_inquiry_thread(call: Call) -> dict:
    thread = call.state.thread(_program(call), call.path["ThreadId"])
    return {"Notes": [_note(thread, n) for n in thread.notes]}


@handles("SetInquiryNote")
def set_inquiry_note(call: Call) -> dict:
    """A note in the thread named by ThreadId, or in a new thread when there is none."""
    text = call.body.get("Text") or ""
    thread, note = call.state.add_note(
        _project(call), call.body.get("ThreadId"), call.body.get("Subject", ""), text,
        _who(call), call.client.is_admin,
    )
    return {"Note": _note(thread, note)}


@handles("SetInquiryThreadStatus")
def set_inquiry_thread_status(call: Call) -> dict:
    thread = call.state.thread(_program(call), call.path["ThreadId"])
    thread.status = call.path["ThreadStatus"]  # allowed values are undocumented: keep any
    return {"InquiryThread": _thread(thread)}


@handles("SetInquiryThreadExternalId")
def set_inquiry_thread_external_id(call: Call) -> dict:
    thread = call.state.thread(_program(call), call.path["ThreadId"])
    thread.external_id = call.path["ExternalThreadId"]
    return {"InquiryThread": _thread(thread)}


# -- MFA session tokens --------------------------------------------------------------------


@handles("CreateMfaSessionToken", totp_only=True)
def create_mfa_session_token(call: Call) -> dict:
    maximum = call.auth.settings.mfa_session_max_minutes
    minutes = (call.body or {}).get("ExpiresAfterMinutes", maximum)
    if minutes > maximum:
        raise ApiError(400, f"ExpiresAfterMinutes may be at most {maximum}.")
    session = call.auth.create_mfa_session(call.client, minutes)
    return {"TokenId": session.token_id, "Token": session.token,
            "ExpirationTimestamp": stamp(session.expires)}


@handles("DeleteMfaSessionToken")
def delete_mfa_session_token(call: Call) -> None:
    if not call.auth.delete_mfa_session(call.client, call.path["TokenId"]):
        raise not_found("MFA session token", call.path["TokenId"])
