"""e-Builder emulator: auth, case-insensitive keys, dependent imports, per-record errors,
process instances, comments and the daily quota, over real HTTP."""

from __future__ import annotations

import re

import httpx

from tests.conftest import EB_USER
from tests.emulator.conftest import eb_token

SUPPORT_ID = re.compile(r"^[A-Z0-9]{7}$")


def commitment(number: str, company: str = "ACME Corp", project: str = "My Project A") -> dict:
    return {"header": {"projectIdentifier": project, "commitmentType": "Contract",
                       "commitmentNumber": number, "description": "d", "companyName": company},
            "items": [{"commitmentItemNumber": "001", "amount": 100, "budgetLineItem": "b1.1000"}]}


def test_password_grant_and_bearer(eb_emulator):
    response = httpx.post(eb_emulator.base_url + "/api/v2/authenticate", data={
        "grant_type": "password", "username": EB_USER.client_id, "password": EB_USER.client_secret})
    assert response.status_code == 200
    assert response.json()["token_type"] == "bearer"
    assert response.json()["expires_in"] == 14399
    url = eb_emulator.api_url + "/Projects/Import"
    assert httpx.post(url, json={"data": []}).status_code == 401
    wrong = httpx.post(eb_emulator.token_url, data={
        "grant_type": "password", "username": EB_USER.client_id, "password": "nope"})
    assert wrong.status_code == 401


def test_seed_pascal_case_budget_change_and_lower_case_path(eb, eb_emulator):
    body = {"options": {"ProjectIdentifier": "ProjectName", "AbortOnException": False},
            "data": [{"header": {"ProjectIdentifier": "My Project A", "BudgetChangeNumber": "015",
                                 "ReasonCode": "Design Change", "Description": "Sample demo",
                                 "ApprovalRequested": False, "DateOfChange": "09/01/2023",
                                 "customFields": {"all cost entities - string": "cf value"}},
                      "items": [{"ItemNumber": "001", "description": "sample item 1",
                                 "ChangeItemAmount": 5000, "BudgetLineItem": "b1.1000"}]}]}
    response = eb.post("/budgetchanges/import", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["success"] in (True, "true")
    change = next(c for k, c in eb_emulator.state.budget_changes.items() if k[1] == "015")
    assert change.fields["budgetChangeNumber"] == "015"  # stored under the canonical key
    assert "all cost entities - string" in change.fields["customFields"]  # map keys untouched
    # H9: an unknown budget line is refused at item level
    body["data"][0]["header"]["BudgetChangeNumber"] = "016"
    body["data"][0]["items"][0]["BudgetLineItem"] = "zz.9999"
    failed = eb.post("/BudgetChanges/Import", json=body).json()
    assert failed["records"][0]["items"][0]["errorMessages"] == ["Budget line item not found"]


def test_commitment_needs_project_and_company(eb, eb_emulator):
    response = eb.post("/Commitments/Import", json={"data": [
        commitment("C-1"), commitment("C-2", company="Nobody Inc"),
        commitment("C-3", project="No Such Project")]})
    assert response.status_code == 200  # settings.partial_failure_status
    body = response.json()
    assert body["success"] is False and SUPPORT_ID.match(body["supportId"])
    assert [r["header"]["commitmentNumber"] for r in body["records"]] == ["C-2", "C-3"]
    assert body["records"][0]["header"]["errorMessages"] == ["Company not found"]
    assert body["records"][1]["header"]["errorMessages"] == ["Project not found"]
    numbers = [k[1] for k in eb_emulator.state.commitments]
    assert "c-1" in numbers and "c-2" not in numbers  # the good row went in
    eb_emulator.settings.partial_failure_status = 400
    again = eb.post("/Commitments/Import", json={"data": [commitment("C-1")]})
    assert again.status_code == 400
    assert again.json()["records"][0]["header"]["errorMessages"] == [
        "Commitment Number already exists"]


def test_flat_and_list_echoes_and_abort(eb, eb_emulator):
    rows = [{"projectName": "New One"}, {"projectName": "My Project A"}]
    body = eb.post("/Projects/Import", json={"data": rows}).json()
    assert body["records"] == [{"projectName": "My Project A",
                                "errorMessages": ["Project name already exists."]}]
    assert body["messages"] == ["Project name already exists."]
    # A record that fails the spec's schema (max_length 5) makes the request a bad one: 400
    # with the error envelope, nothing imported; only valid records get per-record outcomes.
    options = eb.post("/AccountCodeOptions/Import", json={"data": [{"header": {"segmentId": 1},
                      "items": [{"option": 578}, {"option": "578test"}]}]})
    assert options.status_code == 400
    assert "maximum length of 5" in options.json()["messages"][0]
    assert "data[0].items[1].option" in options.json()["messages"][0]
    assert ("1", "578") not in eb_emulator.state.account_code_options
    # E2: a list per failing row; the number 578 was fine
    options = eb.post("/AccountCodeOptions/Import", json={"data": [{"header": {"segmentId": 1},
                      "items": [{"option": 578}]}, {"header": {"segmentId": 1},
                      "items": [{"option": 578}]}]})
    assert ("1", "578") in eb_emulator.state.account_code_options
    # abortOnException: one bad row keeps the good one out too
    aborted = eb.post("/Projects/Import", json={"options": {"abortOnException": True},
                      "data": [{"projectName": "Other"}, {"projectName": "New One"}]})
    assert aborted.json()["success"] is False
    assert ("other",) not in eb_emulator.state.projects


def test_success_form_setting(eb, eb_emulator):
    eb_emulator.settings.success_form = "boolean"
    assert eb.post("/Projects/Import", json={"data": [{"projectName": "P1"}]}).json() == {
        "success": True}


def test_process_create_update_by_counter_and_line_items(eb, eb_emulator):
    options = {"processPrefix": "CP", "importMode": "Entity", "createAsDraft": True}
    created = eb.post("/CommitmentProcesses/Import", json={"options": options, "data": [
        {"header": {"projectIdentifier": "My Project A", "subject": "New"}}]})
    assert created.json()["success"] is True
    instance = next(p for p in eb_emulator.state.processes.values() if p.counter == "CP-0043")
    assert instance.draft and instance.status == "Draft"
    update = {"header": {"projectIdentifier": "My Project A", "processCounter": "CP-0043",
                         "step": "Start", "action": "Submit", "comment": "go"}}
    assert eb.post("/CommitmentProcesses/Import",
                   json={"options": options, "data": [update]}).json()["success"] is True
    assert not instance.draft and instance.actions == [("Start", "Submit", "go")]
    update["header"]["processCounter"] = "CP-9999"
    missing = eb.post("/CommitmentProcesses/Import", json={"options": options, "data": [update]})
    assert missing.json()["records"][0]["header"]["errorMessages"] == [
        "Process instance not found"]
    # LineItem rows sharing processIdentifier form one instance; flat rows work too (B5)
    line = {"processPrefix": "RFI", "importMode": "LineItem"}
    rows = [{"header": {"projectIdentifier": "My Project A", "processIdentifier": "G"},
             "items": [{"processDataFields": {"n": str(i)}}]} for i in range(2)]
    assert eb.post("/NonCostProcesses/Import",
                   json={"options": line, "data": rows}).json()["success"] is True
    grouped = next(p for p in eb_emulator.state.processes.values() if p.counter == "RFI-0024")
    assert len(grouped.items) == 2
    assert "RFI-0025" not in {p.counter for p in eb_emulator.state.processes.values()}


def test_comment_rules(eb, eb_emulator):
    state = eb_emulator.state
    submitted = next(p for p in state.processes.values() if p.counter == "RFI-0023")
    url = f"/ProcessInstances/{submitted.guid}/Comments/Create"
    ok = eb.post(url, json={"commentText": "Reviewed.", "isPrivate": False,
                            "documents": ["948576E3-4daa-2512-408b-ae444a45af58"]})
    assert ok.status_code == 200 and ok.json()["success"] is True
    assert SUPPORT_ID.match(ok.json()["supportId"]) and len(submitted.comments) == 1
    typed = eb.post(url, json={"commentText": "x", "isPrivate": "no"}).json()
    assert typed["errorDescription"] == "There are error(s) in the request."
    assert typed["messages"] == [
        "Invalid type. Expected Boolean but got String. Path 'isPrivate'."]
    assert "success" not in typed
    bad_doc = ["948576e3-4daa-2512-408b-ae444a45af58", "00000000-0000-0000-0000-000000000000"]
    # The spec's errors: an unknown document is 404, a draft instance 409.
    assert eb.post(url, json={"commentText": "x", "documents": bad_doc}).status_code == 404
    too_many = eb.post(url, json={"commentText": "x", "documents": bad_doc[:1] * 101})
    assert too_many.status_code == 400 and "100" in too_many.json()["messages"][0]
    assert len(submitted.comments) == 1  # nothing of the refused calls was kept
    eb.post("/NonCostProcesses/Import", json={
        "options": {"processPrefix": "RFI", "importMode": "Entity", "createAsDraft": True},
        "data": [{"header": {"projectIdentifier": "My Project A"}}]})
    draft = next(p for p in state.processes.values() if p.draft)
    refused = eb.post(f"/ProcessInstances/{draft.guid}/Comments/Create",
                      json={"commentText": "x"})
    assert refused.status_code == 409 and "draft" in refused.json()["messages"][0]


def test_daily_quota_answers_426(eb_emulator):
    eb_emulator.settings.daily_quota = 2
    headers = {"Authorization": f"Bearer {eb_token(eb_emulator)}"}
    url = eb_emulator.api_url + "/Projects/Import"
    codes = [httpx.post(url, json={"data": []}, headers=headers).status_code for _ in range(3)]
    assert codes == [200, 200, 426]
    last = httpx.post(url, json={"data": []}, headers=headers)
    assert last.json() == {"success": False, "messages": ["API rate limit exceeded"]}
    assert eb_emulator.traffic.quota_exceeded == 2


def test_status_update_answers_on_both_path_spellings(eb, eb_emulator):
    row = {"projectIdentifier": "My Project A", "Status": "Pending", "budgetChangeNumber": "001"}
    for path in ("/BudgetChanges/Status", "/BudgetChanges/StatusUpdate"):  # A1
        assert eb.put(path, json={"data": [row]}).json()["success"] in (True, "true")
    voided = eb.put("/Commitments/StatusUpdate", json={
        "options": {"projectIdentifier": "ProjectName"},
        "data": [{"projectIdentifier": "My Project A", "CommitmentNumber": "001",
                  "status": "Void"}]}).json()
    assert voided["success"] in (True, "true")
    again = eb.put("/Commitments/StatusUpdate", json={
        "options": {"projectIdentifier": "ProjectName"},
        "data": [{"projectIdentifier": "My Project A", "commitmentNumber": "001",
                  "status": "Void"}]}).json()
    assert again["records"][0]["errorMessages"] == [
        "Commitment must be in approved status", "current status is Void"]
