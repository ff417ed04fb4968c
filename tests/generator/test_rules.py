"""generator.model.rules.request_problems: the request rules of the spec as the emulator engine
checks them (the same check the generated clients run before sending)."""

from __future__ import annotations

import pytest

from generator.model.ir import Api, Operation, Param, Payload
from generator.model.rules import request_problems
from generator.model.runtime_spec import Place, Requirement
from generator.model.scalars import FORMATS
from generator.pipeline import load_api
from tests.generator.conftest import ROOT

GUID = "948576e3-4daa-2512-408b-ae444a45af58"  # a seed GUID, not version 4 (H12)
ONE_REQUIRED = "options.processPrefix or query processPrefix: one is required"


@pytest.fixture(scope="module")
def ebuilder() -> Api:
    return load_api(ROOT / "specs" / "ebuilder")


def _op(api: Api, wire_name: str) -> Operation:
    return next(op for op in api.operations if op.wire_name == wire_name)


@pytest.mark.parametrize(
    ("params", "body", "problems"),
    [
        ({}, {"data": []}, [ONE_REQUIRED]),
        ({}, {"options": {"importMode": "Entity"}, "data": []}, [ONE_REQUIRED]),
        ({}, {"options": {"processPrefix": "", "importMode": "Entity"}}, [ONE_REQUIRED]),
        ({"processPrefix": ""}, {"data": []}, [ONE_REQUIRED]),
        ({}, None, [ONE_REQUIRED]),
        ({}, {"options": "CP"}, [ONE_REQUIRED]),  # not an object: no path into it
        ({"processPrefix": "CP"}, {"data": []}, []),
        ({}, {"options": {"processPrefix": "CP", "importMode": "Entity"}, "data": []}, []),
    ],
)
def test_process_prefix_in_options_or_the_query(
    ebuilder: Api, params: dict[str, str], body: object, problems: list[str]
) -> None:
    for op in ebuilder.operations:
        if op.requires:
            assert request_problems(op, params, body) == problems, op.wire_name
    # Operations without the rule never report it.
    assert request_problems(_op(ebuilder, "ProjectsImport"), {}, {"data": []}) == []


@pytest.mark.parametrize(
    ("instance", "problems"),
    [
        (GUID, []),
        (GUID.upper(), []),
        ("0", ["path parameter processInstanceId: '0' is not a valid uuid"]),
        (GUID + "0", [f"path parameter processInstanceId: '{GUID}0' is not a valid uuid"]),
    ],
)
def test_comment_path_parameter_is_a_guid(
    ebuilder: Api, instance: str, problems: list[str]
) -> None:
    op = _op(ebuilder, "ProcessInstancesCommentsCreate")
    assert request_problems(op, {"processInstanceId": instance}, {"commentText": "x"}) == problems


def test_absent_parameters_are_not_checked(ebuilder: Api) -> None:
    op = _op(ebuilder, "ProcessInstancesCommentsCreate")
    assert request_problems(op, {}, {"commentText": "x"}) == []  # required-ness: the router's
    both = _op(ebuilder, "CommitmentProcessesImport")
    assert request_problems(both, {"processPrefix": None}, {}) == [ONE_REQUIRED]


def test_lengths_patterns_and_list_values_each_report_a_problem() -> None:
    code = Param("code", "code", "query", "list[string]", False, pattern="^[A-Z]+$",
                 constraints=(("min_length", 2),))
    mail = Param("Mail", "mail", "header", "string", False, format="email",
                 pattern=FORMATS["email"].pattern)
    op = Operation("things", "find", "FindThings", "GET", "/Things", "Find.", (code, mail),
                   Payload("none"), Payload("none"), True,
                   requires=(Requirement((Place("body", "a.b"), Place("header", "Mail"))),))
    assert request_problems(op, {"code": ["AB", "C", "d1"], "Mail": "x"}, None) == [
        "query parameter code: at least 2 characters",
        "query parameter code: 'd1' is not matching ^[A-Z]+$",
        "header parameter Mail: 'x' is not a valid email",
    ]
    assert request_problems(op, {"code": "ABC"}, {"a": {"b": 0}}) == []  # 0 is a value
    assert request_problems(op, {}, {"a": {"b": []}}) == ["a.b or header Mail: one is required"]
