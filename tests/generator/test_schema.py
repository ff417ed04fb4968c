"""IR -> JSON Schema: the schema accepts exactly what the spec's models describe."""

from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator

from generator.model.schema import validator_schema
from generator.pipeline import load_api
from tests.generator.conftest import FIXTURE_SPECS

API = load_api(FIXTURE_SPECS / "mini")


def _valid(model: str, document: object) -> bool:
    return Draft202012Validator(validator_schema(API, model)).is_valid(document)


def test_request_models_are_closed_and_enforce_enums() -> None:
    assert _valid("NewWidget", {"Color": "red"})
    assert not _valid("NewWidget", {"Color": "green"})
    assert not _valid("NewWidget", {"Color": "red", "Colour": "red"})
    assert not _valid("NewWidget", {})


def test_response_models_are_open_and_tolerate_new_enum_members() -> None:
    widget = {"WidgetId": "W1", "Color": "green", "Brand": "new field", "Price": 10.5}
    assert _valid("Widget", widget)
    assert not _valid("Widget", {"Color": "red"})  # WidgetId is required


@pytest.mark.parametrize(
    ("document", "ok"),
    [
        ({"Widgets": []}, True),
        ({"Widgets": [{"WidgetId": "W1", "Owner": {"Email": "a@b.c"}}]}, True),
        ({"Widgets": [{"Owner": {}}]}, False),  # nested required field missing
        ({"Widgets": {"WidgetId": "W1"}}, False),  # not a list
    ],
)
def test_nested_references_resolve(document: object, ok: bool) -> None:
    assert _valid("WidgetList", document) is ok
