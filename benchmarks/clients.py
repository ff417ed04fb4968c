"""One client's per-call times, in a process of its own (so that neither the server nor another
client shares its interpreter): `python clients.py <scenario> <client> <config JSON>`.

Scenarios: `projects` (GetProjects, a page of 100) and `import` (Commitments/Import, 500
records). Clients: `raw` (httpx, JSON decoded), `ours` (the generated client) and `peer` (the
openapi-python-client client, run by that tool's own environment). Prints a JSON list of
seconds per call, one per batch after a warm-up call. Needs only httpx and the client package."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from itertools import count
from typing import Any

import httpx

BATCHES = 7


def per_call(fn: Callable[[], object], calls: int) -> list[float]:
    fn()
    samples = []
    for _ in range(BATCHES):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        samples.append((time.perf_counter() - start) / calls)
    return samples


def token(c: dict[str, Any]) -> str:
    if c["grant"] == "password":
        form = {"grant_type": "password", "username": c["username"], "password": c["password"]}
    else:
        form = {"grant_type": "client_credentials", "client_id": c["client_id"],
                "client_secret": c["client_secret"]}
    return str(httpx.post(c["token_url"], data=form).json()["access_token"])


_numbers = count()
_RUN = time.time_ns()  # commitment numbers differ across processes and runs


def import_body() -> dict[str, Any]:
    """500 new commitments (numbers never reused, so every import succeeds)."""
    batch = next(_numbers)
    return {
        "options": {"projectIdentifier": "ProjectName"},
        "data": [
            {
                "header": {
                    "projectIdentifier": "My Project A",
                    "commitmentType": "Contract",
                    "commitmentNumber": f"B-{_RUN}-{batch}-{i}",
                    "description": "bench",
                    "companyName": "ACME Corp",
                },
                "items": [
                    {"commitmentItemNumber": "001", "budgetLineItem": "b1.1000", "amount": 10}
                ],
            }
            for i in range(500)
        ],
    }


def projects(client: str, c: dict[str, Any]) -> list[float]:
    calls, program = 30, c["program_id"]
    if client == "raw":
        headers = {"Authorization": f"Bearer {token(c)}", "X-ApiKey": c["api_key"]}
        url = f"{c['api_url']}/Programs/{program}/Projects"
        with httpx.Client(headers=headers) as raw:
            return per_call(lambda: raw.get(url, params={"limit": 100}).json(), calls)
    if client == "ours":
        from powerclerk import PowerClerk

        with PowerClerk(base_url=c["base_url"], token_url=c["token_url"],
                        client_id=c["client_id"], client_secret=c["client_secret"],
                        api_key=c["api_key"], rate_limit=None) as pc:
            return per_call(lambda: pc.projects.list(program, limit=100), calls)
    sys.path.insert(0, c["peer_path"])
    from peer_powerclerk import AuthenticatedClient
    from peer_powerclerk.api.projects.get_projects import sync

    with AuthenticatedClient(base_url=c["api_url"], token=token(c),
                             headers={"X-ApiKey": c["api_key"]}) as peer:
        return per_call(lambda: sync(program, client=peer, limit=100), calls)


def imports(client: str, c: dict[str, Any]) -> list[float]:
    calls = 5
    if client == "raw":
        headers = {"Authorization": f"Bearer {token(c)}", "Content-Type": "application/json"}
        url = f"{c['api_url']}/Commitments/Import"
        with httpx.Client(headers=headers) as raw:
            return per_call(lambda: raw.post(url, content=json.dumps(import_body())).json(), calls)
    if client == "ours":
        from ebuilder import EBuilder

        with EBuilder(base_url=c["base_url"], username=c["username"],
                      password=c["password"]) as eb:
            return per_call(lambda: eb.commitments.import_(body=import_body()), calls)
    sys.path.insert(0, c["peer_path"])
    from peer_ebuilder import AuthenticatedClient
    from peer_ebuilder.api.commitments.commitments_import import sync
    from peer_ebuilder.models import CommitmentsImportRequest

    with AuthenticatedClient(base_url=c["api_url"], token=token(c)) as peer:
        return per_call(
            lambda: sync(client=peer, body=CommitmentsImportRequest.from_dict(import_body())),
            calls,
        )


if __name__ == "__main__":
    scenario, which, config = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    run = projects if scenario == "projects" else imports
    print(json.dumps(run(which, config)))
