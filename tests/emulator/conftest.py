"""HTTP helpers for the emulator's own tests: plain httpx, no generated client."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pyotp
import pytest

from emulator.server import EmulatorServer
from emulator.settings import Client
from tests.conftest import DEMO, EB_USER, PROGRAM_ID

APPLICATION = "XXUC5V2KKAGV"  # the seeded application form (custom id APPLICATION)


def get_token(server: EmulatorServer, client: Client) -> str:
    response = httpx.post(server.token_url, data={
        "grant_type": "client_credentials",
        "client_id": client.client_id,
        "client_secret": client.client_secret,
    })
    response.raise_for_status()
    return response.json()["access_token"]


def totp(client: Client) -> str:
    assert client.mfa_totp_secret
    return pyotp.TOTP(client.mfa_totp_secret).now()


def session(server: EmulatorServer, client: Client = DEMO, **headers: str) -> httpx.Client:
    """An httpx client on the API's base path, authenticated as `client`."""
    return httpx.Client(
        base_url=server.api_url,
        headers={"Authorization": f"Bearer {get_token(server, client)}",
                 "X-ApiKey": client.api_key, **headers},
        timeout=30,
    )


@pytest.fixture
def connect(emulator: EmulatorServer) -> Iterator[Callable[..., httpx.Client]]:
    """connect(client=DEMO, **headers) -> an authenticated httpx client, closed after the test."""
    opened: list[httpx.Client] = []

    def make(client: Client = DEMO, **headers: str) -> httpx.Client:
        opened.append(session(emulator, client, **headers))
        return opened[-1]

    yield make
    for http in opened:
        http.close()


@pytest.fixture
def api(connect: Callable[..., httpx.Client]) -> httpx.Client:
    return connect()


def program_path(rest: str = "") -> str:
    return f"/Programs/{PROGRAM_ID}{rest}"


def new_project(http: httpx.Client) -> dict:
    response = http.post(program_path("/NewProject"))
    assert response.status_code == 200, response.text
    return response.json()["Project"]


def fill_required(http: httpx.Client, project_id: str) -> httpx.Response:
    body = {"Project": {"DataFields": [
        {"DataFieldId": "INSTALLER_NAME", "Value": "Sunny Installs"},
        {"DataFieldId": "SYSTEM_SIZE", "Value": "7.5"},
    ]}}
    path = program_path(f"/Projects/{project_id}/Forms/{APPLICATION}/Draft/Data")
    return http.post(path, json=body)


def submitted_project(http: httpx.Client) -> dict:
    """A project whose application form has been submitted (so it has a ProjectNumber)."""
    project_id = new_project(http)["ProjectId"]
    assert fill_required(http, project_id).status_code == 200
    path = program_path(f"/Projects/{project_id}/Forms/{APPLICATION}/Draft/Submit")
    response = http.post(path)
    assert response.status_code == 200, response.text
    return response.json()["Project"]


def eb_token(server: EmulatorServer, client: Client = EB_USER) -> str:
    """A token from the e-Builder-style password grant (username and password)."""
    response = httpx.post(server.token_url, data={
        "grant_type": "password", "username": client.client_id, "password": client.client_secret,
    })
    response.raise_for_status()
    return response.json()["access_token"]


@pytest.fixture
def eb(eb_emulator: EmulatorServer) -> Iterator[httpx.Client]:
    """An httpx client on the e-Builder emulator's base path, authenticated as EB_USER."""
    with httpx.Client(base_url=eb_emulator.api_url, timeout=30,
                      headers={"Authorization": f"Bearer {eb_token(eb_emulator)}"}) as http:
        yield http
