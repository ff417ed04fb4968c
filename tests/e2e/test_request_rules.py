"""The spec's request rules, checked by the generated clients before anything is sent (the
emulator counts every request and token request it sees) and accepted by the emulator when
kept: one of options.processPrefix / ?processPrefix=, GUID path parameters, email formats."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from ebuilder import AsyncEBuilder, EBuilder, RequestValidationError
from powerclerk import PowerClerk
from powerclerk import RequestValidationError as PCRequestValidationError

from emulator.server import EmulatorServer
from tests.conftest import EB_USER
from tests.e2e.conftest import PROGRAM_ID

ONE_REQUIRED = "options.processPrefix or query processPrefix: one is required"
ROW = {"header": {"projectIdentifier": "My Project A"}}


def _kwargs(server: EmulatorServer) -> dict[str, Any]:
    return {"base_url": server.base_url, "username": EB_USER.client_id,
            "password": EB_USER.client_secret}


def _sent(server: EmulatorServer) -> tuple[int, int]:
    return server.traffic.requests, server.traffic.token_requests


def test_process_prefix_missing_everywhere_is_refused_before_sending(
    eb_emulator: EmulatorServer,
) -> None:
    with EBuilder(**_kwargs(eb_emulator)) as eb:
        with pytest.raises(RequestValidationError) as refused:
            eb.non_cost_processes.import_(body={"data": [ROW]})
        assert refused.value.problems == [ONE_REQUIRED]
        assert ONE_REQUIRED in str(refused.value)
        assert _sent(eb_emulator) == (0, 0)


def test_process_prefix_in_the_query_alone_is_sent_and_served(
    eb_emulator: EmulatorServer,
) -> None:
    with EBuilder(**_kwargs(eb_emulator)) as eb:
        result = eb.non_cost_processes.import_(body={"data": [ROW]}, process_prefix="RFI")
        assert result.success and eb_emulator.traffic.requests == 1
        in_options = {"options": {"processPrefix": "RFI", "importMode": "Entity"}, "data": [ROW]}
        assert eb.non_cost_processes.import_(body=in_options).success


def test_async_client_checks_the_same_rules(eb_emulator: EmulatorServer) -> None:
    async def run() -> None:
        async with AsyncEBuilder(**_kwargs(eb_emulator)) as eb:
            with pytest.raises(RequestValidationError, match="one is required"):
                await eb.commitment_processes.import_(body={"data": []})
            with pytest.raises(RequestValidationError, match="is not a valid uuid"):
                await eb.process_instances.create_comment("0", comment_text="x")

    asyncio.run(run())
    assert _sent(eb_emulator) == (0, 0)


def test_comment_on_a_non_guid_is_refused_before_sending_a_guid_is_served(
    eb_emulator: EmulatorServer,
) -> None:
    submitted = next(p for p in eb_emulator.state.processes.values() if p.counter == "RFI-0023")
    with EBuilder(**_kwargs(eb_emulator)) as eb:
        with pytest.raises(RequestValidationError) as refused:
            eb.process_instances.create_comment("RFI-0023", comment_text="x")
        assert refused.value.problems == [
            "path parameter processInstanceId: 'RFI-0023' is not a valid uuid"
        ]
        assert _sent(eb_emulator) == (0, 0)
        answer = eb.process_instances.create_comment(
            submitted.guid.upper(), comment_text="Reviewed."
        )
        assert answer.success is True and eb_emulator.traffic.requests == 1


def test_powerclerk_owner_email_is_checked_by_the_model_before_sending(
    make_client: Callable[..., PowerClerk], emulator: EmulatorServer
) -> None:
    with make_client() as pc:
        project_id = pc.projects.create(PROGRAM_ID).project_id
        before = emulator.traffic.requests
        for bad in ("", "owner", "a@b@c", "two words@example.com"):
            with pytest.raises(PCRequestValidationError, match="pattern"):
                pc.projects.set_owner(PROGRAM_ID, project_id, owner_email=bad)
        assert emulator.traffic.requests == before
        owner = pc.projects.set_owner(PROGRAM_ID, project_id, owner_email="o@example.com")
        assert owner.email == "o@example.com"
