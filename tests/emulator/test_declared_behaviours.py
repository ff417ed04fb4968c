"""Behaviours as data (`behaviours.yaml`): an operation added to a copy of a spec is served with
real records, stored and read back, without any Python; the store's reset restores the seeds;
a broken entry is refused at load with file:line:col, the key and the rule."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from emulator.data import DataError, load_api, load_data
from tests.conftest import ADMIN, DEMO, SPECS, start_emulator
from tests.emulator.conftest import session
from tests.emulator.test_ebuilder_imports import commitment

MINI = SPECS.parent / "tests" / "fixtures" / "specs" / "mini"
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")

GET_WIDGET = {
    "wire_name": "GetWidget", "method": "GET", "path": "/Shops/{ShopId}/Widgets/{WidgetId}",
    "summary": "One widget.", "confidence": "inferred", "source": "tests",
    "params": {"ShopId": {"in": "path", "type": "string"},
               "WidgetId": {"in": "path", "type": "string"}},
    "response": "Widget",
}
BEHAVIOURS = """\
collections:
  widgets: {key: [WidgetId], model: Widget}
behaviours:
  CreateWidget: {create: widgets, id: WidgetId}
  GetWidgets: {list: widgets}
  GetWidget: {get: widgets}
"""
SEEDS = """\
widgets:
  - fields: {WidgetId: W-SEEDED, ShopId: S1, Color: blue}
"""


def _mini_with_data(tmp_path: Path, behaviours: str = BEHAVIOURS) -> Path:
    api_dir = tmp_path / "mini"
    shutil.copytree(MINI, api_dir)
    widgets = api_dir / "widgets.yaml"
    spec = yaml.safe_load(widgets.read_text())
    spec["operations"]["get"] = GET_WIDGET  # a new operation, served without any Python
    widgets.write_text(yaml.safe_dump(spec, sort_keys=False))
    (api_dir / "emulator").mkdir()
    (api_dir / "emulator" / "behaviours.yaml").write_text(behaviours)
    (api_dir / "emulator" / "seeds.yaml").write_text(SEEDS)
    return api_dir


def test_declared_operations_store_and_read_back_records(tmp_path):
    api_dir = _mini_with_data(tmp_path)
    assert not list((api_dir / "emulator").glob("*.py"))
    with start_emulator(api_dir, clients=(DEMO,)) as server, session(server, DEMO) as http:
        assert http.get("/Shops/S1/Widgets").json() == {
            "Widgets": [{"WidgetId": "W-SEEDED", "Color": "blue"}]}
        created = http.post("/Shops/S1/Widgets", json={"Color": "red"})
        assert created.status_code == 200, created.text
        widget = created.json()
        assert GUID.match(widget["WidgetId"]) and widget["Color"] == "red"
        assert http.get(f"/Shops/S1/Widgets/{widget['WidgetId']}").json() == widget
        listed = http.get("/Shops/S1/Widgets").json()["Widgets"]
        assert [w["WidgetId"] for w in listed] == ["W-SEEDED", widget["WidgetId"]]
        # the path's shop is a filter; pagination is the spec's (offset, limit)
        assert http.get("/Shops/S2/Widgets").json() == {"Widgets": []}
        assert http.get("/Shops/S1/Widgets", params={"offset": 1, "limit": 5}).json()[
            "Widgets"] == [widget]
        missing = http.get("/Shops/S1/Widgets/W-NONE")
        assert missing.status_code == 404 and "W-NONE" in missing.json()["Message"]
        # the spec's rules still come first: a colour outside the enum is a bad request
        assert http.post("/Shops/S1/Widgets", json={"Color": "green"}).status_code == 400
        server.reset()  # back to the seeds, with the same generated ids as the first time
        assert http.get("/Shops/S1/Widgets").json()["Widgets"] == [
            {"WidgetId": "W-SEEDED", "Color": "blue"}]
        again = http.post("/Shops/S1/Widgets", json={"Color": "red"}).json()
        assert again["WidgetId"] == widget["WidgetId"]


def test_ebuilder_reset_restores_seeds_and_ids(eb, eb_emulator):
    store = eb_emulator.state
    seeded = {k: (r.id, dict(r.fields)) for k, r in store.commitments.items()}
    body = {"data": [commitment("C-9")]}
    assert eb.post("/Commitments/Import", json=body).json()["success"] in (True, "true")
    added = next(r for k, r in store.commitments.items() if k[1] == "c-9")
    assert added.status == "Pending" and added.parent == "0b8e35c5-0dc6-487a-9fd3-bf43c95a5382"
    assert added.items["001"]["budgetLineItem"] == "b1.1000"  # items kept by their number
    eb_emulator.reset()
    assert {k: (r.id, dict(r.fields)) for k, r in store.commitments.items()} == seeded
    assert eb.post("/Commitments/Import", json=body).json()["success"] in (True, "true")
    assert next(r for k, r in store.commitments.items() if k[1] == "c-9").id == added.id


@pytest.mark.parametrize(("text", "line_col", "named"), [
    # an unknown behaviour key
    (BEHAVIOURS.replace("{list: widgets}", "{list: widgets, sort: Color}"), ":5:", "behaviours."
     "GetWidgets.sort: unknown key"),
    # a collection that is not declared
    (BEHAVIOURS.replace("{get: widgets}", "{get: gadgets}"), ":6:",
     "behaviours.GetWidget.get: no collection 'gadgets'"),
    # an operation the spec lacks
    (BEHAVIOURS + "  GetGadgets: {list: widgets}\n", ":7:",
     "behaviours.GetGadgets: no operation with this wire name"),
    # two kinds at once
    (BEHAVIOURS.replace("{get: widgets}", "{get: widgets, list: widgets}"), ":6:",
     "behaviours.GetWidget: expected exactly one of"),
    # a lookup naming a collection field of the wrong type
    (BEHAVIOURS.replace("key: [WidgetId]", "key: WidgetId"), ":2:",
     "collections.widgets.key: expected a list"),
])
def test_broken_behaviours_entry_names_file_line_col_key_and_rule(tmp_path, text, line_col,
                                                                   named):
    api_dir = _mini_with_data(tmp_path, text)
    with pytest.raises(DataError) as caught:
        load_data(api_dir, load_api(api_dir))
    message = str(caught.value)
    assert message.startswith(str(api_dir / "emulator" / "behaviours.yaml") + line_col), message
    assert named in message


def test_seeds_errors_name_line_and_column(tmp_path):
    api_dir = _mini_with_data(tmp_path)
    (api_dir / "emulator" / "seeds.yaml").write_text("widgets:\n  - fields: {Color: red}\n")
    with pytest.raises(DataError) as caught:
        load_data(api_dir, load_api(api_dir))
    assert str(caught.value).startswith(f"{api_dir / 'emulator' / 'seeds.yaml'}:2:")
    assert "widgets.0.fields: the key field(s) WidgetId of widgets are required" in str(
        caught.value)


def test_ebuilder_commitment_change_update_needs_exactly_one_match(eb, eb_emulator):
    """PUT /CommitmentChanges from behaviours.yaml: the lookup fields against the change, its
    commitment and its project (H4: the change's GUID in commitmentChangeNumber)."""
    change = next(iter(eb_emulator.state.commitment_changes.values()))
    by_guid = {"lookup": {"ProjectName": "My Project A",
                          "commitmentChangeNumber": change.id.upper()},
               "header": {"description": "by guid"}}
    assert eb.put("/CommitmentChanges", json=by_guid).status_code == 200
    assert change.fields["description"] == "by guid"
    by_company = {"lookup": {"companyName": "acme corp", "commitmentNumber": "001"},
                  "header": {"description": "by company"}}
    assert eb.put("/CommitmentChanges", json=by_company).status_code == 200
    assert change.fields["description"] == "by company"
    wrong = {"lookup": {"companyName": "Nobody Inc"}, "header": {"description": "x"}}
    refused = eb.put("/CommitmentChanges", json=wrong)
    assert refused.status_code == 404  # the spec's errors: (inferred)
    assert refused.json()["messages"] == ["Commitment change not found."]
    assert change.fields["description"] == "by company"
    header = {"projectIdentifier": "My Project A", "commitmentNumber": "001",
              "commitmentChangeNumber": "002", "dateofChange": "09/01/2023",
              "reasonCode": "Design Change", "description": "second"}
    item = {"commitmentChangeItemNumber": "001", "commitmentItemNumber": "001", "amount": 1}
    second = {"data": [{"header": header, "items": [item]}]}
    assert eb.post("/CommitmentChanges/Import", json=second).status_code == 200
    both = {"lookup": {"commitmentNumber": "001"}, "header": {"description": "x"}}
    assert eb.put("/CommitmentChanges", json=both).json()["messages"] == [
        "The lookup matches more than one commitment change."]


def test_a_declared_status_must_be_one_the_spec_declares(tmp_path):
    """Data enforces no rule the spec does not state: a behaviour's status is checked against
    the operation's declared statuses (its `errors:`) at load."""
    api_dir = tmp_path / "ebuilder"
    shutil.copytree(SPECS / "ebuilder", api_dir)
    path = api_dir / "emulator" / "behaviours.yaml"
    text = path.read_text()
    assert "status: 404, message: Commitment change not found." in text
    path.write_text(text.replace("status: 404, message: Commitment change not found.",
                                 "status: 409, message: Commitment change not found."))
    with pytest.raises(DataError) as caught:
        load_data(api_dir, load_api(api_dir))
    message = str(caught.value)
    assert message.startswith(f"{path}:")
    assert ("behaviours.CommitmentChangesUpdate.missing.status: 409 is not a status the spec "
            "declares") in message


def test_ebuilder_contacts_go_under_their_company_and_update_on_the_option(eb, eb_emulator):
    store = eb_emulator.state
    row = {"header": {"companyName": "acme corp", "city": "Austin"},  # any case
           "items": [{"firstName": "Ada", "lastName": "Lovelace", "email": "ada@acme.test"}]}
    assert eb.post("/Contacts/Import", json={"data": [row]}).status_code == 200
    company = store.companies[("acme corp",)]
    contact = store.contacts[(company.id, "ada", "lovelace")]
    assert contact.parent == company.id and "city" not in company.fields
    again = eb.post("/Contacts/Import", json={"data": [row]}).json()
    assert again["records"][0]["items"][0]["errorMessages"] == ["Contact already exists"]
    row["items"][0]["email"] = "ada@new.test"
    updated = eb.post("/Contacts/Import", json={"options": {"updateDuplicates": True},
                                                "data": [row]})
    assert updated.status_code == 200, updated.text
    assert contact.fields["email"] == "ada@new.test" and company.fields["city"] == "Austin"
    by_number = {"header": {"companyName": "ACME", "companyNumber": "ACM001"},
                 "items": [{"firstName": "Alan", "lastName": "Turing"}]}
    assert eb.post("/Contacts/Import", json={"data": [by_number]}).status_code == 200
    assert store.contacts[(company.id, "alan", "turing")].parent == company.id
    nobody = {"header": {"companyName": "Nobody Inc"}, "items": row["items"]}
    failed = eb.post("/Contacts/Import", json={"data": [nobody]}).json()
    assert failed["records"][0]["header"]["errorMessages"] == ["Company not found"]


def test_powerclerk_programs_and_statuses_are_declared_lists(connect):
    """GetPrograms, GetStatusList and GetForms come from behaviours.yaml: records of the seeds,
    the program's statuses in order, 404 for a program that is not there."""
    api = connect(ADMIN)  # GetStatusList is admin_only in the spec
    assert api.get("/Programs").json() == {
        "Programs": [{"ProgramId": "R3XE87VP6NB6", "Name": "Net Metering (Emulator)"}]}
    assert api.get("/Programs", params={"Agency": "FN7635MW"}).json()["Programs"]
    assert api.get("/Programs", params={"Agency": "ELSEWHERE"}).json() == {"Programs": []}
    statuses = api.get("/Programs/R3XE87VP6NB6/StatusList").json()["Statuses"]
    assert [s["Name"] for s in statuses][:2] == ["Unsubmitted", "Submitted"]
    assert statuses[1] == {"StatusId": "UTF5UF2KAJ3T", "Name": "Submitted",
                           "CustomId": "SUBMITTED"}
    forms = api.get("/Programs/R3XE87VP6NB6/Forms").json()["Forms"]  # expand: ids as records
    assert forms[1]["ProgramId"] == "R3XE87VP6NB6"
    assert [s["Name"] for s in forms[1]["AvailableInStatuses"]] == ["Submitted", "Under Review"]
    missing = api.get("/Programs/NOSUCHPROGRM/StatusList")
    assert missing.status_code == 404
    assert missing.json()["Message"] == "Program 'NOSUCHPROGRM' was not found."
