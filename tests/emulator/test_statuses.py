"""The statuses the engine answers, for both APIs: 405 with Allow on every known path, and every
error body in the shape of the spec's `errors.model`."""

from __future__ import annotations

import re

import httpx
import pytest

from emulator.server import EmulatorServer
from emulator.validation import problems
from tests.conftest import ADMIN, DEMO, PROGRAM_ID
from tests.emulator.conftest import program_path

_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def _error_problems(server: EmulatorServer, response: httpx.Response) -> list[str]:
    api = server.emulator.api
    return problems(server.emulator.validator(api.error_model.name), response.json())


def _filled(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "X1", path)


@pytest.mark.parametrize("fixture", ["emulator", "eb_emulator"])
def test_undeclared_method_on_every_path_is_405_with_allow(fixture, request):
    server: EmulatorServer = request.getfixturevalue(fixture)
    by_path: dict[str, set[str]] = {}
    for op in server.emulator.api.operations:
        by_path.setdefault(op.path, set()).add(op.method.upper())
    for path, declared in by_path.items():
        method = next(m for m in _METHODS if m not in declared)
        response = httpx.request(method, server.api_url + _filled(path))
        assert response.status_code == 405, (method, path, response.text)
        allowed = {m.strip() for m in response.headers["Allow"].split(",")}
        assert declared <= allowed, (path, allowed)
        assert method not in allowed
        assert _error_problems(server, response) == []


def test_powerclerk_error_bodies_fit_the_error_model(emulator, connect):
    answers = {
        401: httpx.get(emulator.api_url + "/Programs"),
        404: connect(DEMO).get(f"/Programs/NOPE{PROGRAM_ID}/Statuses"),
        403: connect(DEMO).get(program_path("/Projects/P/Attachments/A/AsAdmin")),
        400: connect(ADMIN).post(program_path("/Projects/ByNumber"), content=b"{not json",
                                 headers={"Content-Type": "application/json"}),
    }
    emulator.settings.rate_limit = 0
    answers[429] = connect(DEMO).get("/Programs")
    for status, response in answers.items():
        assert response.status_code == status, (status, response.text)
        assert _error_problems(emulator, response) == [], status


def test_ebuilder_error_bodies_fit_the_error_model(eb_emulator, eb):
    answers = {
        401: httpx.post(eb_emulator.api_url + "/Projects/Import", json={"data": []}),
        400: eb.post("/Projects/Import", json={"data": [{"city": {}}]}),
    }
    eb_emulator.settings.daily_quota = 0
    answers[426] = eb.post("/Projects/Import", json={"data": []})
    for status, response in answers.items():
        assert response.status_code == status, (status, response.text)
        assert _error_problems(eb_emulator, response) == [], status

