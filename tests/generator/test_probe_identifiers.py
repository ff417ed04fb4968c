"""Where the contract probe learns path identifiers: read from the IR (a path parameter's wire
name matched to a field of the same wire name in a GET operation's answer, through list fields),
and which combinations of learned values it tries first."""

from __future__ import annotations

from pathlib import Path

from generator.drift import Learned, identifier_combinations, identifier_sources, scope_parameters
from generator.pipeline import load_api

SPECS = Path(__file__).resolve().parents[2] / "specs"


def test_sources_come_from_response_models_through_list_fields() -> None:
    api = load_api(SPECS / "powerclerk")
    sources = identifier_sources(api)
    path_params = {p.wire_name for op in api.operations if op.method == "GET"
                   for p in op.params_in("path")}
    assert set(sources) == path_params
    assert ("GetProjects", ("Projects", "[]", "ProjectId")) in sources["ProjectId"]
    assert ("GetFormSchema", ("FormSchema", "Attachments", "[]", "AttachmentId")) in sources[
        "AttachmentId"]
    assert ("GetInquiryThreads", ("InquiryThreads", "[]", "ThreadId")) in sources["ThreadId"]
    for name, found in sources.items():  # only GET operations with a JSON answer supply ids
        assert found, name
        for wire_name, path in found:
            op = next(o for o in api.operations if o.wire_name == wire_name)
            assert op.method == "GET" and op.response.kind == "json" and path[-1] == name


def test_values_learned_together_are_tried_first_and_never_mixed() -> None:
    learned = {
        "ProjectId": [Learned("P1", (("ProgramId", "G"),)), Learned("P2", (("ProgramId", "G"),))],
        "AttachmentId": [
            Learned("DEF", (("ProgramId", "G"), ("FormId", "F"))),  # a definition, any project
            Learned("FILE2", (("ProgramId", "G"), ("ProjectId", "P2"))),  # read from P2's data
        ],
    }
    combos = identifier_combinations(["ProjectId", "AttachmentId"], learned)
    assert combos[0] == {"ProjectId": "P2", "AttachmentId": "FILE2"}
    assert {"ProjectId": "P1", "AttachmentId": "FILE2"} not in combos  # P2's file, not P1's
    assert {"ProjectId": "P1", "AttachmentId": "DEF"} in combos
    assert len(combos) == 3


def test_the_sandbox_scope_is_the_parameter_every_read_takes() -> None:
    assert scope_parameters(load_api(SPECS / "powerclerk")) == ["ProgramId"]
