"""`accept_numbers_as_strings` (e-Builder): the numbers the emulator reads as text are exactly
the numbers the OpenAPI export says a string field takes (generator/model/text_numbers.py)."""

from __future__ import annotations

import json

import pytest
from jsonschema import Draft202012Validator

from generator.model.text_numbers import numbers_taken, read_as_text
from tests.conftest import ROOT

EXPORT = json.loads((ROOT / "generated" / "ebuilder" / "openapi.json").read_text())
SCHEMAS = EXPORT["components"]["schemas"]


@pytest.mark.parametrize(("node", "taken"), [
    ({"type": "string"}, {"type": "number"}),
    ({"type": "string", "minLength": 1}, {"type": "number"}),
    ({"type": "string", "maxLength": 5}, {"type": "integer", "minimum": -9999, "maximum": 99999}),
    ({"type": "string", "maxLength": 1}, {"type": "integer", "minimum": 0, "maximum": 9}),
    ({"type": "string", "maxLength": 10**6},
     {"type": "integer", "minimum": 1 - 10**14, "maximum": 10**15 - 1}),
    ({"type": "string", "format": "decimal", "pattern": r"^-?[0-9]+(\.[0-9]+)?$"},
     {"type": "number"}),
    ({"type": "string", "minLength": 2}, None),
    ({"type": "string", "enum": ["1", "2"]}, None),
    ({"type": "string", "pattern": "^[A-Z]+$"}, None),
    ({"type": "string", "format": "uuid"}, None),
    ({"type": "string", "format": "date"}, None),
    ({"type": "integer"}, None),
])
def test_which_numbers_a_string_takes(node, taken):
    assert numbers_taken(node) == taken


@pytest.mark.parametrize(("node", "value", "text"), [
    ({"type": "string"}, 1e-07, "0.0000001"),  # exact digits, never an exponent
    ({"type": "string"}, 1e16, "10000000000000000"),
    ({"type": "string"}, 5, "5"),
    ({"type": "string", "maxLength": 5}, 578, "578"),
    ({"type": "string", "maxLength": 5}, 578.0, "578"),  # JSON Schema: 578.0 is an integer
    ({"type": "string", "maxLength": 5}, 578.5, None),
    ({"type": "string", "maxLength": 5}, 123456, None),
    ({"type": "string", "maxLength": 5}, -10000, None),
    ({"type": "string"}, float("nan"), None),
])
def test_the_text_a_number_is_read_as(node, value, text):
    assert read_as_text(node, value) == text
    if text is not None:  # whatever is read meets the string's own rules
        assert Draft202012Validator(node).is_valid(text)


def test_the_export_widens_exactly_what_the_emulator_reads():
    option = SCHEMAS["AccountCodeOption"]["properties"]["option"]
    assert option["type"] == ["string", "integer"] and option["maxLength"] == 5
    check = Draft202012Validator(option)
    assert check.is_valid(99999) and check.is_valid("578te")
    assert not check.is_valid(100000) and not check.is_valid(0.5)
    unit_cost = SCHEMAS["MasterCommitmentItem"]["properties"]["unitCost"]
    assert unit_cost["type"] == ["string", "number"]


def test_emulator_refuses_the_numbers_the_export_refuses(eb, eb_emulator):
    def send(option):
        return eb.post("/AccountCodeOptions/Import", json={"data": [
            {"header": {"segmentId": 7}, "items": [{"option": option}]}]})

    assert send(57801).status_code == 200
    assert ("7", "57801") in eb_emulator.state.account_code_options
    for refused in (578012, 0.5):
        answer = send(refused)
        assert answer.status_code == 400, (refused, answer.text)
    comment_id = "49b74eb0-c8c6-419c-aa18-409de0faddfe"
    answer = eb.post(f"/ProcessInstances/{comment_id}/Comments/Create", json={"commentText": 0})
    assert answer.status_code == 200, answer.text  # minLength 1, no real limit: any integer
