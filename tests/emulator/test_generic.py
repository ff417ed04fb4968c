"""Operations without a specific handler: a spec edit reaches the emulator with no code change."""

from __future__ import annotations

import shutil

import pytest

from tests.conftest import DEMO, SPECS, start_emulator
from tests.emulator.conftest import new_project, program_path, session

FIXTURES = SPECS.parent / "tests" / "fixtures" / "specs"

EXTRA = """\
resource: extras
description: An operation the emulator has no handler for.
operations:
  get_badge:
    wire_name: GetProjectBadge
    method: GET
    path: /Programs/{ProgramId}/Projects/{ProjectId}/Badge
    summary: A made-up operation.
    confidence: inferred
    source: tests
    params:
      ProgramId: {in: path, type: string}
      ProjectId: {in: path, type: string}
      size: {in: query, type: integer, maximum: 512}
    response: Badge
  list_open_forms:
    wire_name: GetOpenForms
    method: GET
    path: /Programs/{ProgramId}/OpenForms
    summary: A made-up listing of a model the state holds records of.
    confidence: inferred
    source: tests
    params:
      ProgramId: {in: path, type: string}
    response: OpenForms
  put_badge:
    wire_name: SetProjectBadge
    method: PUT
    path: /Programs/{ProgramId}/Projects/{ProjectId}/Badge
    summary: Another made-up operation.
    confidence: inferred
    source: tests
    params:
      ProgramId: {in: path, type: string}
      ProjectId: {in: path, type: string}
    body: BadgeInput
    response: {kind: none}
models:
  Badge:
    fields:
      Label: {type: string, required: true, min_length: 8}
      Level: {type: integer, required: true, minimum: 1}
      Kind: {type: string, required: true, enum: [gold, silver]}
      Owner: {type: BadgeOwner, required: true}
      Tags: {type: "list[string]", required: true}
      Note: {type: string}
  BadgeOwner:
    fields:
      Email: {type: string, required: true}
      Name: {type: string, nullable: true}
  OpenForms:
    fields:
      Forms: {type: "list[Form]", required: true}
      Total: {type: integer, required: true}
  BadgeInput:
    fields:
      Label: {type: string, required: true}
"""


@pytest.fixture(scope="module")
def extended(tmp_path_factory):
    """The PowerClerk spec plus one extra resource file."""
    api_dir = tmp_path_factory.mktemp("spec") / "powerclerk"
    shutil.copytree(SPECS / "powerclerk", api_dir)
    (api_dir / "zz_extras.yaml").write_text(EXTRA)
    with start_emulator(api_dir, rate_limit=1000) as server:
        yield server


def test_extra_operation_gets_generic_answers(extended):
    with session(extended, DEMO) as http:
        badge = http.get(program_path("/Projects/ANY/Badge"), params={"size": 64})
        assert badge.status_code == 200
        assert badge.json() == {"Label": "stringxx", "Level": 1, "Kind": "gold",
                                "Owner": {"Email": "string"}, "Tags": []}
        assert http.get(program_path("/Projects/ANY/Badge"),
                        params={"size": 1024}).status_code == 400
        put = program_path("/Projects/ANY/Badge")
        assert http.put(put, json={"Label": "x"}).status_code == 204
        refused = http.put(put, json={"Label": 5})
        assert refused.status_code == 400
        assert refused.json()["Errors"][0].startswith("$.Label:")
        # The operations that have handlers keep them.
        assert http.post(program_path("/NewProject")).json()["Project"]["ProjectNumber"] is None


def test_extra_listing_answers_with_the_seeded_records(extended):
    """A list of a model the state holds (Form) gets its records, not a placeholder."""
    with session(extended, DEMO) as http:
        answer = http.get(program_path("/OpenForms"))
        assert answer.status_code == 200, answer.text
        forms = answer.json()["Forms"]
        assert [f["FormId"] for f in forms] == ["XXUC5V2KKAGV", "P2DZ6Y8GKH4R"]
        assert forms[0]["CustomId"] == "APPLICATION"
        assert http.post(program_path("/OpenForms")).status_code == 405


def test_second_api_without_handlers():
    # An API without emulator data: the accounts come from the settings.
    mini = FIXTURES / "mini"
    with start_emulator(mini, clients=(DEMO,)) as server, session(server, DEMO) as http:
        assert server.state is None
        assert http.get("/Shops/S1/Widgets").json() == {"Widgets": []}
        assert http.post("/Shops/S1/Widgets", json={"Color": "red"}).json() == {
            "WidgetId": "string"}
        wrong = http.post("/Shops/S1/Widgets", json={"Color": "green"})
        assert wrong.status_code == 400
        assert "$.Color" in wrong.json()["Errors"][0]


@pytest.mark.parametrize(("text", "named"), [
    ("token_typ: Bearer\n", "token_typ: unknown key"),
    ("credentials:\n  demo: {username: a, password: b}\n", "credentials.demo.username"),
    ("path_aliases:\n  NoSuchOperation: [/x]\n", "path_aliases.NoSuchOperation"),
    ("success_as_string: [GetPrograms, Nope]\n", "success_as_string: no operation"),
    ("known_ids:\n  ProjektId: EX-00001\n", "known_ids.ProjektId: no operation has this path"),
    ("known_ids:\n  ProjectId: 7\n", "known_ids.ProjectId: expected a str"),
    ("refused_examples:\n  Nope: why\n", "refused_examples.Nope: no operation with this"),
    ("refused_examples:\n  GetPrograms: [why]\n", "refused_examples.GetPrograms: expected a str"),
])
def test_bad_emulator_data_names_file_and_key(tmp_path, text, named):
    from emulator.data import DataError, credentials

    api_dir = tmp_path / "powerclerk"
    shutil.copytree(SPECS / "powerclerk", api_dir)
    (api_dir / "emulator" / "emulator.yaml").write_text(text)
    with pytest.raises(DataError) as caught:
        credentials(api_dir)
    assert str(caught.value).startswith(str(api_dir / "emulator" / "emulator.yaml"))
    assert named in str(caught.value)


def test_a_hook_status_the_spec_does_not_declare_is_a_loud_500(tmp_path):
    """The hooks enforce no rule the spec does not state: take SubmitProject's `errors:` out of
    the spec and the emulator's 409 for an incomplete form becomes a 500 naming the drift."""
    api_dir = tmp_path / "powerclerk"
    shutil.copytree(SPECS / "powerclerk", api_dir)
    projects = api_dir / "projects.yaml"
    text = projects.read_text()
    start = text.index("    errors:\n      - status: 409")
    end = text.index("    confidence: documented", start)
    projects.write_text(text[:start] + text[end:])
    with start_emulator(api_dir, rate_limit=1000) as server, session(server, DEMO) as http:
        project = new_project(http)["ProjectId"]
        answer = http.post(program_path(f"/Projects/{project}/Forms/XXUC5V2KKAGV/Draft/Submit"))
        assert answer.status_code == 500
        assert answer.json()["Message"] == "SubmitProject hook answered undeclared 409"
        assert answer.json()["Errors"] == ["The form is not complete."]
