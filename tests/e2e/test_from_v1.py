"""`from_v1` on V1-shaped PowerClerk payloads, offline: each test enforces one sentence of the V2
migration document (quoted in DOC) and checks that nothing is lost, invented or over-converted."""

from __future__ import annotations

import re
import warnings
from copy import deepcopy
from pathlib import Path
from typing import Any

import pytest
from powerclerk import UnconvertedValuesWarning, V1TranslationError, from_v1, types
from powerclerk._legacy import CONVERTERS

MIGRATION = (Path(__file__).resolve().parents[2] / "generated/powerclerk/MIGRATION.md").read_text(
    encoding="utf-8"
)
STAMP = "2022-11-14T15:15:55-08:00"

# A V1 GetFormSchema answer (V1 names: Title, Min at the top level) for the fields below.
V1_SCHEMA = {
    "FormSchema": {
        "FormId": "F1",
        "Title": "Application",
        "DataFields": [
            {"DataFieldId": "D1", "CustomId": "INSTALL", "Name": "Install", "Type": "DateTime"},
            {"DataFieldId": "D2", "Name": "Battery", "Type": "Boolean"},
            {"DataFieldId": "D3", "Name": "Note", "Type": "Text"},
            {"DataFieldId": "D4", "Name": "Visits", "Type": "DateTime"},
        ],
    }
}


def _project(*fields: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "ProjectId": "P1",
        "ProgramId": "R1",
        "Url": {"Value": "http://x"},
        "CanSubmit": True,
        "CurrentStatus": {"StatusId": "S1", "Name": "Unsubmitted", "Timestamp": STAMP},
        "Attachments": [],
        "DataFields": list(fields),
        **extra,
    }


def _values(model: Any) -> dict[str, Any]:
    """DataFieldId -> Value or Values, and what else each entry kept."""
    fields = model.project.data_fields
    return {f.data_field_id: f.values if f.values is not None else f.value for f in fields}


# ---------------------------------------------------------------- multi-instance data fields


def test_v1_instances_become_one_entry_with_values_in_instance_order() -> None:
    DOC = (
        "`Project.DataFields[].Instance` has been removed. Multi-instance data fields use a list "
        "of values `Project.DataFields[].Values[]` instead of displaying them separately"
    )
    v1 = _project(
        {"DataFieldId": "D4", "Name": "Visits", "Instance": "2", "Value": "3/5/2021"},
        {"DataFieldId": "D3", "Name": "Note", "Value": "hello"},
        {"DataFieldId": "D4", "Name": "Visits", "Instance": "3", "Value": ""},
        {"DataFieldId": "D4", "Name": "Visits", "Instance": "1", "Value": "12/24/2020"},
    )
    for model in (types.ProjectDataResponse, types.AllProjectDataResponse):
        result = from_v1(model, {"Project": v1}, form_schema=V1_SCHEMA)
        assert _values(result) == {"D4": ["2020-12-24", "2021-03-05", ""], "D3": "hello"}, DOC
        visits = result.project.data_fields[0]
        assert (visits.name, visits.value) == ("Visits", None)
        assert "Instance" not in (visits.model_extra or {})


def test_set_project_data_body_sends_instances_as_values() -> None:
    DOC = (
        "Multi-instance data fields use a list of values `DataFields[].Values[]` instead of "
        "referencing the index via `DataFields[].InstanceId`"
    )
    v1 = {
        "Project": {
            "DataFields": [
                {"DataFieldId": "INSTALL", "InstanceId": 2, "Value": "11/14/2022"},
                {"DataFieldId": "INSTALL", "InstanceId": 1, "Value": "1/2/2022"},
                {"DataFieldId": "D2", "Value": "True"},
            ]
        }
    }
    body = from_v1(types.SetProjectDataRequest, v1, form_schema=V1_SCHEMA)
    wire = body.model_dump(by_alias=True, exclude_none=True)
    assert wire["Project"]["DataFields"] == [
        {"DataFieldId": "INSTALL", "Values": ["2022-01-02", "2022-11-14"]},  # by custom id
        {"DataFieldId": "D2", "Value": "true"},
    ], DOC


@pytest.mark.parametrize(
    ("instances", "message"),
    [
        ([2], r"DataFieldId='D4' has InstanceId 2 but not 1"),
        ([1, 3], r"DataFieldId='D4' has InstanceId 1, 3 but not 2"),
        ([1, 1], r"DataFieldId='D4': InstanceId 1 appears twice"),
        (["x"], r"DataFieldId='D4': instance 'x' is not a number from 1 up"),
    ],
)
def test_an_incomplete_set_of_instances_is_refused(instances: list[Any], message: str) -> None:
    DOC = "instead of referencing the index via `DataFields[].InstanceId`"
    entries = [{"DataFieldId": "D4", "InstanceId": i, "Value": f"v{i}"} for i in instances]
    with pytest.raises(V1TranslationError, match=message) as caught:
        from_v1(types.SetProjectDataRequest, {"Project": {"DataFields": entries}})
    assert "SetProjectDataProject.DataFields" in str(caught.value), DOC


def test_a_field_sent_with_and_without_an_instance_is_refused() -> None:
    v1 = _project(
        {"DataFieldId": "D4", "Name": "Visits", "Value": "1/1/2020"},
        {"DataFieldId": "D4", "Name": "Visits", "Instance": "1", "Value": "1/2/2020"},
    )
    with pytest.raises(V1TranslationError, match="appears both with and without Instance"):
        from_v1(types.ProjectDataResponse, {"Project": v1})


# ---------------------------------------------------------------- typed conversions only


def test_only_datetime_and_boolean_fields_are_converted() -> None:
    DOC = (
        "Data field date values return in the format `yyyy-MM-dd` instead of `MM/dd/yyyy`",
        "Boolean values return `true`/`false` instead of `True`/`False`",
    )
    v1 = _project(
        {"DataFieldId": "D1", "Name": "Install", "Value": "11/14/2022"},
        {"DataFieldId": "D2", "Name": "Battery", "Value": "False"},
        {"DataFieldId": "D3", "Name": "Note", "Value": "True"},
        {"DataFieldId": "D4", "Name": "Visits", "Instance": "1", "Value": "3/4/2021"},
    )
    text_values = _project(
        {"DataFieldId": "D3", "Name": "Note", "Value": "3/4/2021"},
    )
    schema_model = from_v1(types.FormSchemaResponse, V1_SCHEMA)
    for schema in (V1_SCHEMA, schema_model, schema_model.form_schema, [V1_SCHEMA]):
        with warnings.catch_warnings():
            warnings.simplefilter("error", UnconvertedValuesWarning)  # every field is typed
            result = from_v1(types.ProjectDataResponse, {"Project": v1}, form_schema=schema)
            text = from_v1(types.ProjectDataResponse, {"Project": text_values}, form_schema=schema)
        assert _values(result) == {
            "D1": "2022-11-14",
            "D2": "false",
            "D3": "True",  # a text field keeps its text
            "D4": ["2021-03-04"],  # dates inside Values[] too
        }, DOC
        assert _values(text) == {"D3": "3/4/2021"}


def test_without_a_form_schema_values_stay_as_sent_and_a_warning_says_so() -> None:
    v1 = _project(
        {"DataFieldId": "D1", "Name": "Install", "Value": "11/14/2022"},
        {"DataFieldId": "D3", "Name": "Note", "Value": "True"},
    )
    with pytest.warns(UnconvertedValuesWarning, match=r"values of D1, D3 left as V1 sent them"):
        result = from_v1(types.ProjectDataResponse, {"Project": v1})
    assert _values(result) == {"D1": "11/14/2022", "D3": "True"}


def test_fields_the_form_schema_does_not_define_stay_as_sent_and_are_named() -> None:
    v1 = _project(
        {"DataFieldId": "D1", "Name": "Install", "Value": "11/14/2022"},
        {"DataFieldId": "OTHER", "Name": "On another form", "Value": "1/2/2020"},
    )
    with pytest.warns(UnconvertedValuesWarning, match=r"values of OTHER left as V1 sent them"):
        result = from_v1(types.AllProjectDataResponse, {"Project": v1}, form_schema=V1_SCHEMA)
    assert _values(result) == {"D1": "2022-11-14", "OTHER": "1/2/2020"}


def test_a_form_schema_without_data_fields_is_refused() -> None:
    with pytest.raises(V1TranslationError, match="no 'DataFields' list found"):
        from_v1(types.ProjectDataResponse, {"Project": _project()}, form_schema={"Forms": []})


def test_find_by_data_content_of_datetime_fields_is_converted() -> None:
    DOC = "`Field.Content` for data fields of type `DateTime` must be in `yyyy-MM-dd` format"
    v1 = {
        "Fields": [
            {"DataFieldId": "D1", "Content": "11/14/2022"},
            {"DataFieldId": "D3", "Content": "11/14/2022"},
        ]
    }
    body = from_v1(types.GetProjectsByDataRequest, v1, form_schema=V1_SCHEMA)
    assert [f.content for f in body.fields or []] == ["2022-11-14", "11/14/2022"], DOC


# ---------------------------------------------------------------- moves the document states


def test_status_public_id_goes_where_the_document_says_and_the_conflict_is_recorded() -> None:
    DOC = "`Project.StatusPublicId` has been moved to `Project.CurrentStatus.PublicId`"
    v1 = {
        "ProjectId": "P1",
        "ProgramId": "R1",
        "Url": "u",
        "LastChangeTimestamp": STAMP,
        "OwnerEmailAddress": "ann@example.com",
        "Status": "Submitted",
        "StatusPublicId": "S1",
        "StatusTimestamp": STAMP,
    }
    project = from_v1(types.ProjectSummary, v1)
    assert project.current_status.status_id == "S1"
    assert project.model_dump(by_alias=True)["CurrentStatus"]["StatusId"] == "S1"
    line = next(line for line in MIGRATION.splitlines() if "`StatusPublicId` →" in line)
    assert "`StatusPublicId` → `CurrentStatus.PublicId`" in line, DOC
    assert "⚠ conflict: The V2 reference page get-projects shows CurrentStatus.StatusId" in line


def test_a_v1_project_without_owner_email_translates() -> None:
    DOC = "`Project.OwnerEmailAddress` has been moved to `Project.ProjectOwner.Email`"
    v1 = {
        "ProjectId": "P1",
        "ProgramId": "R1",
        "Url": "u",
        "LastChangeTimestamp": STAMP,
        "Status": "Unsubmitted",
        "StatusTimestamp": STAMP,
    }
    project = from_v1(types.ProjectSummary, v1)
    assert project.project_owner is None, DOC
    owned = from_v1(types.ProjectSummary, {**v1, "OwnerEmailAddress": "ann@example.com"})
    assert owned.project_owner is not None and owned.project_owner.email == "ann@example.com"


def test_calculated_fields_are_removed_at_the_top_and_under_project() -> None:
    DOC = "CalculatedFields has been removed"
    v1 = {"Project": _project(CalculatedFields=[{"Name": "Size"}]), "CalculatedFields": []}
    result = from_v1(types.ProjectDataResponse, v1, form_schema=V1_SCHEMA)
    assert "CalculatedFields" not in (result.model_extra or {}), DOC
    assert "CalculatedFields" not in (result.project.model_extra or {}), DOC


def test_inquiry_timestamps_get_the_v2_format() -> None:
    DOC = (
        "Data field date values return in the format `yyyy-MM-ddTHH:mm:sszz` instead of "
        "`MM/dd/yyyy`"
    )
    notes = from_v1(
        types.InquiryNotesResponse,
        {"Notes": [{"ThreadId": "T1", "IsAdmin": "True", "Timestamp": "11/14/2022"}]},
    )
    (note,) = notes.notes or []
    assert (note.timestamp, note.is_admin) == ("2022-11-14T00:00:00", True), DOC
    threads = from_v1(
        types.InquiryThreadsResponse,
        {"InquiryThreads": [{"ThreadId": "T1", "Timestamp": "1/2/2022"}]},
    )
    assert [t.timestamp for t in threads.inquiry_threads or []] == ["2022-01-02T00:00:00"]
    v2 = from_v1(types.InquiryNotesResponse, {"Notes": [{"Timestamp": "2022-11-14T15:15:55-08"}]})
    assert v2.notes is not None and v2.notes[0].timestamp == "2022-11-14T15:15:55-08"


def test_optional_schema_values_that_v1_sent_empty_are_dropped() -> None:
    DOC = (
        "`DataFieldSchema.HierarchyLevel` will now only be present if a value is set",
        "`DataFieldSchema.Min` type has moved to `DataFieldSchema.Properties`, and will only be "
        "present if a value is set",
        "`DataFieldSchema.Choices` will now only be present if values are set",
    )
    v1 = {
        "FormSchema": {
            "Title": "Application",
            "DataFields": [
                {
                    "DataFieldId": "D1",
                    "Type": "Text",
                    "HierarchyLevel": "",
                    "Choices": [],
                    "Min": "",
                    "Max": "9",
                },
                {
                    "DataFieldId": "D5",
                    "Type": "Choice",
                    "HierarchyLevel": "2",
                    "Choices": ["A", "B"],
                },
            ],
        }
    }
    schema = from_v1(types.FormSchemaResponse, v1).form_schema
    empty, choice = schema.data_fields or []
    wire = empty.model_dump(by_alias=True, exclude_unset=True)
    assert "HierarchyLevel" not in wire and "Choices" not in wire, DOC
    assert wire["Properties"] == {"Max": "9"}, DOC
    assert (choice.hierarchy_level, choice.choices) == (2, ["A", "B"])
    assert schema.name == "Application"


# ---------------------------------------------------------------- the migration guide


def test_migration_guide_claims_only_the_conversions_from_v1_does() -> None:
    rows = re.findall(
        r"^\| `(\w+)` \| `([^`]+)` \| `([^`]+)` \| `([^`]+)` \| (.+) \|$", MIGRATION, re.M
    )
    assert len(rows) >= 10
    for model, field, old, new, what in rows:
        converted = not what.startswith("not converted")
        assert converted == ((old, new) in CONVERTERS), (model, field, what)
    assert "`` → ``" not in MIGRATION
    assert "US dates" not in MIGRATION


def test_the_form_schema_given_is_left_as_it_was() -> None:
    schema = deepcopy(V1_SCHEMA)
    from_v1(types.ProjectDataResponse, {"Project": _project()}, form_schema=schema)
    assert schema == V1_SCHEMA
