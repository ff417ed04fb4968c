"""One tree of errors, through the generated clients against the emulators over loopback: a body
its model refuses is a RequestValidationError (an APIError and a ValueError) naming each field
by its wire and its Python path, with nothing sent; a server's error names the status, the
method and URL, the server's message, its list of errors and its support id, and no secret; a
response is read by wire names only."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import ebuilder
import powerclerk
import pytest
from ebuilder import AsyncEBuilder, EBuilder
from powerclerk import PowerClerk

from emulator.server import EmulatorServer
from tests.conftest import ADMIN, EB_USER
from tests.e2e.conftest import PROGRAM_ID


def _eb(server: EmulatorServer) -> dict[str, str]:
    return {"base_url": server.base_url, "username": EB_USER.client_id,
            "password": EB_USER.client_secret}


def test_a_refused_body_names_the_field_by_wire_and_python_path(
    make_client: Callable[..., PowerClerk], emulator: EmulatorServer
) -> None:
    with make_client() as pc:
        project_id = pc.projects.create(PROGRAM_ID).project_id
        before = emulator.traffic.requests
        with pytest.raises(powerclerk.RequestValidationError) as refused:
            pc.projects.set_owner(PROGRAM_ID, project_id, owner_email="not an email")
        assert emulator.traffic.requests == before  # nothing sent
    error = refused.value
    assert isinstance(error, powerclerk.APIError) and isinstance(error, ValueError)
    [field] = error.fields
    assert (field.wire_path, field.python_path) == (("OwnerEmail",), ("owner_email",))
    assert str(error).startswith("the body does not fit SetProjectOwnerRequest: "
                                 "OwnerEmail (owner_email): String should match pattern")
    assert error.problems == [str(field)]


def test_nested_fields_are_named_with_their_list_positions(eb_emulator: EmulatorServer) -> None:
    body = {"data": [{"companyName": "Fine", "companyNumber": "F1"}, {"companyNumber": "F2"}]}
    with EBuilder(**_eb(eb_emulator)) as eb:
        before = eb_emulator.traffic.requests
        with pytest.raises(ebuilder.RequestValidationError) as refused:
            eb.companies.import_(body=body)
        assert eb_emulator.traffic.requests == before
    [field] = refused.value.fields
    assert field.wire == "data[1].companyName" and field.python == "data[1].company_name"
    assert field.message == "Field required"
    assert "data[1].companyName (data[1].company_name): Field required" in str(refused.value)


def test_the_async_client_refuses_the_same_body_before_sending(
    eb_emulator: EmulatorServer,
) -> None:
    async def run() -> ebuilder.RequestValidationError:
        async with AsyncEBuilder(**_eb(eb_emulator)) as eb:
            try:
                await eb.companies.import_(body={"data": [{"companyNumber": "A1"}]})
            except ebuilder.RequestValidationError as exc:
                return exc
        raise AssertionError("not refused")

    before = eb_emulator.traffic.requests
    error = asyncio.run(run())
    assert error.fields[0].python_path == ("data", 0, "company_name")
    assert eb_emulator.traffic.requests == before


def test_a_server_error_names_the_call_the_message_and_its_errors(
    make_client: Callable[..., PowerClerk], emulator: EmulatorServer
) -> None:
    with make_client() as pc:
        project_id = pc.projects.create(PROGRAM_ID).project_id
        operation = powerclerk.OPERATIONS["SetProjectOwner"]  # sent as is: the server judges it
        with pytest.raises(powerclerk.BadRequestError) as caught:
            pc.request(operation, path={"ProgramId": PROGRAM_ID, "ProjectId": project_id},
                       json={"OwnerEmail": 5, "Extra": 1})
    text = str(caught.value)
    url = f"{emulator.base_url}/services/v2/Programs/{PROGRAM_ID}/Projects/{project_id}/Owner"
    assert text.startswith(f"400 Bad Request: POST {url} — The request body does not match")
    assert "Errors: " in text and "'Extra' was unexpected" in text
    assert "$.OwnerEmail: 5 is not of type 'string'" in text
    assert caught.value.errors == caught.value.body["Errors"]
    for secret in (ADMIN.client_secret, ADMIN.api_key):
        assert secret not in text and secret not in repr(caught.value)


def test_an_ebuilder_error_carries_its_support_id(eb_emulator: EmulatorServer) -> None:
    unknown = "00000000-0000-0000-0000-000000000000"
    with EBuilder(**_eb(eb_emulator)) as eb, pytest.raises(ebuilder.NotFoundError) as caught:
        eb.process_instances.create_comment(unknown, comment_text="hello")
    error = caught.value
    support = error.body["supportId"]
    assert error.request_id == support and len(support) == 7
    url = f"{eb_emulator.base_url}/api/v2/ProcessInstances/{unknown}/Comments/Create"
    assert str(error) == (f"404 Not Found: POST {url} — There are error(s) in the request. "
                          f"Errors: Process instance not found. (supportId: {support})")
    assert EB_USER.client_secret not in str(error)


def test_a_response_is_read_by_wire_names_only() -> None:
    # `message` is ErrorBody.Message's Python name and ErrorBody.message's wire name.
    body = powerclerk.types.ErrorBody.model_validate({"message": "lower", "Errors": ["e"]})
    assert (body.message, body.message_lowercase, body.errors) == (None, "lower", ["e"])
    upper = powerclerk.types.ErrorBody.model_validate({"Message": "upper"})
    assert (upper.message, upper.message_lowercase) == ("upper", None)
    # A request still takes either name.
    owner = powerclerk.types.SetProjectOwnerRequest.model_validate({"owner_email": "o@e.com"})
    assert owner.to_wire() == {"OwnerEmail": "o@e.com"}



def test_a_failed_batch_quotes_its_support_id(eb_emulator: EmulatorServer) -> None:
    duplicate = {"data": [{"companyName": "Twice", "companyNumber": "T1"}]}
    with EBuilder(**_eb(eb_emulator)) as eb:
        eb.companies.import_(body=duplicate, strict=True)
        with pytest.raises(ebuilder.BatchFailedError) as caught:
            eb.companies.import_(body=duplicate, strict=True)
    support = caught.value.result.support_id
    assert support and str(caught.value).endswith(f"(support id: {support})")
    assert str(caught.value).startswith("1 of 1 record(s) failed: ")
