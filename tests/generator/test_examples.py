"""How the README examples get their values (generator/codegen/examples.py): the rules the
README test (tests/e2e/test_readme_examples.py) cannot single out, each on the PowerClerk spec
with its emulator data, or that data with one thing taken away."""

from __future__ import annotations

import dataclasses

import pytest

from generator.codegen.examples import Examples, Read
from generator.codegen.quickstart import LocalEmulator
from generator.model.ir import Api, Operation
from generator.pipeline import enriched_api, local_emulator
from tests.conftest import SPECS


@pytest.fixture(scope="module")
def api() -> Api:
    return enriched_api(SPECS / "powerclerk")[0]


@pytest.fixture(scope="module")
def emulator(api: Api) -> LocalEmulator:
    found = local_emulator(SPECS / "powerclerk", api)
    assert found is not None
    return found


def _op(api: Api, wire_name: str) -> Operation:
    return next(op for op in api.operations if op.wire_name == wire_name)


def test_bodies_hold_required_fields_and_examples_by_python_names(api: Api) -> None:
    examples = Examples(api)
    # an optional list of objects is there because a field inside has an example
    assert examples.body_arguments(_op(api, "GetProjectsByData")) == [
        ("body", {"fields": [{"data_field_id": "10SQ28XRTZ9M", "content": "Sunny Installs"}]})]
    # a list of scalars takes the example as its one item; a flat body (`body_arguments`)
    # is passed as keyword arguments
    assert examples.body_arguments(_op(api, "GetProjectByNumber")) == [
        ("project_numbers", ["EX-00001"])]
    model = _op(api, "GetProjectByNumber").body.model
    assert model is not None and examples.wire_body(model) == {"ProjectNumbers": ["EX-00001"]}


def test_an_operation_needing_mfa_runs_with_the_mfa_account(
    api: Api, emulator: LocalEmulator
) -> None:
    create = _op(api, "CreateMfaSessionToken")
    setup = Examples(api, emulator).setup(create)
    assert setup.client == "mfa_client" and setup.account == emulator.mfa_account
    assert Examples(api, emulator).error(create) == ""
    without = dataclasses.replace(
        emulator, accounts=tuple(a for a in emulator.accounts if not a.mfa))
    assert Examples(api, without).setup(create).account is None
    assert Examples(api, without).error(create).startswith("MfaConfigurationError")


def test_an_id_only_a_created_record_has_is_read_from_the_linked_answer(
    api: Api, emulator: LocalEmulator
) -> None:
    delete = _op(api, "DeleteMfaSessionToken")
    examples = Examples(api, emulator)
    setup = examples.setup(delete)
    assert [(v, op.wire_name) for v, op, _ in setup.before] == [
        ("created", "CreateMfaSessionToken")]
    assert setup.client == "mfa_client"  # the token belongs to the account that made it
    assert examples.path_arguments(delete) == [("token_id", Read("created", ("token_id",)))]
    assert str(examples.source(examples.call(delete))) == "token_id=created.token_id"
    assert examples.error(delete) == ""


def test_an_example_that_cannot_complete_says_why(api: Api, emulator: LocalEmulator) -> None:
    examples = Examples(api, emulator)
    report_as = _op(api, "SetProjectStatusReportAs")
    assert examples.error(report_as) == dict(emulator.refused_examples)[report_as.wire_name]
    # without the link's source, a made-up id names no record
    delete = _op(api, "DeleteMfaSessionToken")
    unlinked = Examples(api, emulator)
    unlinked.sources.clear()
    assert unlinked.error(delete).startswith("NotFoundError: token_id='TokenId-1'")
    # no emulator: nothing is said of what one would answer
    assert all(not Examples(api).error(op) for op in api.operations)


def test_an_id_read_from_a_method_that_returns_one_field_starts_below_it(
    api: Api, emulator: LocalEmulator
) -> None:
    """`projects.create` returns the answer's `Project`: without the emulator's known project
    number, a project example reads `created.project_id`, not `created.project.project_id`."""
    without = dataclasses.replace(emulator, known_ids=tuple(
        (name, value) for name, value in emulator.known_ids if name != "ProjectId"))
    examples = Examples(api, without)
    get = _op(api, "GetProjectDataNonDraft")
    assert [op.wire_name for _, op, _ in examples.setup(get).before] == ["CreateNewProject"]
    assert ("project_id", Read("created", ("project_id",))) in examples.path_arguments(get)
