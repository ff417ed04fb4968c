"""A project from creation to approval, with project numbers and custom ids in URLs."""

from __future__ import annotations

from urllib.parse import quote

from tests.conftest import ADMIN, PROGRAM_ID
from tests.emulator.conftest import (
    APPLICATION,
    fill_required,
    new_project,
    program_path,
    submitted_project,
)


def test_create_set_submit_and_use_number(api):
    project = new_project(api)
    assert project["ProjectNumber"] is None
    assert project["CurrentStatus"]["Name"] == "Unsubmitted"
    assert [f["Name"] for f in project["Forms"]][0] == "Net Metering Application"
    project_id = project["ProjectId"]
    form = program_path(f"/Projects/{project_id}/Forms/APPLICATION")  # a custom form id

    # A ProjectNumber does not exist yet, so only the ProjectId works.
    draft = api.post(f"{form}/Draft/Data", json={"Project": {"DataFields": [
        {"DataFieldId": "INSTALLER_NAME", "Value": "Sunny Installs"},
        {"DataFieldId": "QGF4FF6M6CVZ", "Values": ["2022-11-14", ""]},
        {"DataFieldId": "R2YX21RVSF51", "Value": "false"},
    ]}})
    assert draft.status_code == 200, draft.text
    data = draft.json()["Project"]
    assert data["CanSubmit"] is False  # SYSTEM_SIZE is required
    values = {f["DataFieldId"]: (f["Value"], f["Values"]) for f in data["DataFields"]}
    assert values["QGF4FF6M6CVZ"] == (None, ["2022-11-14", ""])
    assert values["R2YX21RVSF51"] == ("false", None)
    assert api.get(f"{form}/Draft/Data").json() == draft.json()
    incomplete = api.post(f"{form}/Draft/Submit")
    assert incomplete.status_code == 409  # the spec's errors: a state that forbids the call
    assert "System size (kW)" in incomplete.json()["Errors"][0]

    assert fill_required(api, project_id).json()["Project"]["CanSubmit"] is True
    submitted = api.post(f"{form}/Draft/Submit").json()["Project"]
    assert submitted["ProjectNumber"] == "EX-00002"  # EX-00001: the seeded project
    assert submitted["CurrentStatus"]["Name"] == "Submitted"
    assert submitted["CurrentStatus"]["CustomId"] == "SUBMITTED"

    # The number now works wherever the id does.
    number = quote(submitted["ProjectNumber"])
    by_number = api.get(program_path(f"/Projects/{number}/Forms/{APPLICATION}/Data"))
    assert by_number.status_code == 200
    assert by_number.json()["Project"]["ProjectId"] == project_id
    fields = {f["Name"]: f["Value"] for f in by_number.json()["Project"]["DataFields"]}
    assert fields["Installer name"] == "Sunny Installs"
    assert fields["System size (kW)"] == "7.5"

    # Draft edits after submission do not change the submitted data.
    api.post(f"{form}/Draft/Data", json={"Project": {"DataFields": [
        {"DataFieldId": "INSTALLER_NAME", "Value": "Changed"}]}})
    again = api.get(program_path(f"/Projects/{number}/Forms/{APPLICATION}/Data")).json()
    assert {f["Name"]: f["Value"] for f in again["Project"]["DataFields"]}["Installer name"] == (
        "Sunny Installs"
    )


def test_listing_lookup_and_search(api):
    first = submitted_project(api)
    second = new_project(api)
    listed = api.get(program_path("/Projects")).json()
    seeded = listed["Projects"][0]["ProjectId"]  # specs/powerclerk/emulator/seeds.yaml
    assert [p["ProjectId"] for p in listed["Projects"]] == [seeded, first["ProjectId"],
                                                             second["ProjectId"]]
    assert listed["Projects"][1]["ProjectOwner"]["Email"] == "demo-client@example.test"
    page = api.get(program_path("/Projects"), params={"limit": 1, "offset": 2}).json()
    assert [p["ProjectId"] for p in page["Projects"]] == [second["ProjectId"]]
    # Polling: nothing changed since the last RequestTimestamp ...
    since = {"changed_since": listed["RequestTimestamp"]}
    assert api.get(program_path("/Projects"), params=since).json()["Projects"] == []
    # ... until a project changes.
    api.post(program_path(f"/Projects/{first['ProjectId']}/Owner"),
             json={"OwnerEmail": "jane.doe@example.test"})
    changed = api.get(program_path("/Projects"), params=since).json()["Projects"]
    assert [p["ProjectOwner"] for p in changed] == [
        {"Name": "Jane Doe", "Email": "jane.doe@example.test"}]

    by_number = api.post(program_path("/Projects/ByNumber"),
                         json={"ProjectNumbers": [first["ProjectNumber"], "EX-99999"]})
    assert [p["ProjectId"] for p in by_number.json()["Projects"]] == [first["ProjectId"]]
    by_data = api.post(program_path("/Projects/ByData"), json={"Fields": [
        {"DataFieldId": "INSTALLER_NAME", "Content": "Sunny Installs"}]})
    assert [p["ProjectId"] for p in by_data.json()["Projects"]] == [seeded, first["ProjectId"]]
    bad_date = api.post(program_path("/Projects/ByData"), json={"Fields": [
        {"DataFieldId": "QGF4FF6M6CVZ", "Content": "11/14/2022"}]})
    assert bad_date.status_code == 400


def test_assignee(api):
    project = new_project(api)
    path = program_path(f"/Projects/{project['ProjectId']}/Assignee")
    assigned = api.post(path, json={"AssigneeEmail": "pat.lee@example.test"})
    assert assigned.status_code == 200, assigned.text
    assert assigned.json()["Assignee"] == {"Name": "Pat Lee", "Email": "pat.lee@example.test"}
    # The spec requires no key here (and the emulator enforces only what the spec states).
    assert api.post(path, json={}).status_code == 200


def test_admin_status_changes_and_history(api, connect):
    admin = connect(ADMIN)
    project = submitted_project(api)
    base = program_path(f"/Projects/{project['ProjectNumber']}")
    changed = admin.post(f"{base}/Status/APPROVED", params={"AutoCommunication": "false"})
    assert changed.status_code == 200, changed.text
    assert changed.json()["Project"]["CurrentStatus"]["Name"] == "Approved"
    history = admin.get(f"{base}/StatusHistory").json()["StatusHistory"]
    assert [h["Name"] for h in history] == ["Unsubmitted", "Submitted", "Approved"]
    report = admin.post(f"{base}/StatusHistory/ReportAs", json={
        "StatusId": history[1]["StatusId"], "Timestamp": history[1]["Timestamp"],
        "ReportAs": "suppress"})
    assert report.status_code == 200, report.text
    history = admin.get(f"{base}/StatusHistory").json()["StatusHistory"]
    assert history[1]["ReportAs"] == "suppress"
    assert history[1]["ReportAsChangedBy"] == "admin-client@example.test"
    assert admin.post(f"{base}/Status/NOSUCHSTATUS").status_code == 404

    all_data = admin.get(f"{base}/Data").json()["Project"]
    assert {f["CustomId"] for f in all_data["DataFields"]} == {"INSTALLER_NAME", "SYSTEM_SIZE"}
    export = admin.get(f"{base}/Export").json()["Project"]
    assert export["Number"] == project["ProjectNumber"]
    assert export["Data"][0]["Fields"][0]["CurrentValue"] == "Sunny Installs"


def test_admin_non_draft_write(api, connect):
    admin = connect(ADMIN)
    project = new_project(api)
    path = program_path(f"/Projects/{project['ProjectId']}/Forms/{APPLICATION}/Data")
    body = {"Project": {"DataFields": [{"DataFieldId": "INSTALLER_NAME", "Value": "X"}]}}
    assert api.post(path, json=body).status_code == 403
    assert admin.post(path, json=body).status_code == 400  # must fill the whole form
    body["Project"]["DataFields"].append({"DataFieldId": "SYSTEM_SIZE", "Value": "3"})
    written = admin.post(path, json=body, params={"run_followup_actions": "true"})
    assert written.status_code == 200, written.text
    assert api.get(path).json()["Project"]["DataFields"][0]["Value"] == "X"


def test_inquiry_threads(api, connect):
    admin = connect(ADMIN)
    project = submitted_project(api)
    base = program_path(f"/Projects/{project['ProjectId']}")
    note = admin.post(f"{base}/SetInquiryNote", json={"Text": "Please send the bill."})
    assert note.status_code == 200, note.text
    thread_id = note.json()["Note"]["ThreadId"]
    assert note.json()["Note"]["IsAdmin"] is True
    admin.post(f"{base}/SetInquiryNote", json={"ThreadId": thread_id, "Text": "Reminder"})
    threads = f"/Programs/{PROGRAM_ID}/InquiryThreads/{thread_id}"
    notes = admin.get(f"{threads}/Notes").json()["Notes"]
    assert [n["Text"] for n in notes] == ["Please send the bill.", "Reminder"]
    closed = admin.post(f"{threads}/Status/Closed", json={}).json()["InquiryThread"]
    assert closed["Status"] == "Closed"
    linked = admin.post(f"{threads}/ExternalId/CRM-42").json()["InquiryThread"]
    assert linked == {"ThreadId": thread_id, "Status": "Closed", "ExternalThreadId": "CRM-42"}
    assert admin.get(f"{base}/InquiryThreads").json()["InquiryThreads"] == [linked]


def test_program_catalogue(api):
    forms = api.get(program_path("/Forms")).json()["Forms"]
    assert forms[0]["CustomId"] == "APPLICATION"
    schema = api.get(program_path("/Forms/APPLICATION/Schema")).json()["FormSchema"]
    by_name = {f["Name"]: f for f in schema["DataFields"]}
    assert by_name["System size (kW)"]["Properties"] == {"Min": "0", "Max": "1000"}
    assert "Properties" not in by_name["Installer name"]  # only present when set
    assert by_name["Utility"]["Choices"][0] == "Pacific Power"
    assert schema["Attachments"][0]["CustomId"] == "UTILITY_BILL"
    choices = api.get(program_path("/DataFields/INVERTER_MAKE/CustomListChoices")).json()
    assert choices == {"Choices": ["Enphase", "SolarEdge"]}
    assert api.get("/Programs", params={"Agency": "FN7635MW"}).json()["Programs"]
