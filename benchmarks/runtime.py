"""Run-time figures of the generated clients, against local emulators on loopback: per-call
overhead versus raw httpx, throughput under a rate limit, and memory while moving a large file.
Called by bench.py; prints Markdown rows; asserts nothing."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from emulator.settings import ADMIN_CLIENT, API_USER  # noqa: E402
from emulator.state import PROGRAM_ID  # noqa: E402
from tests.conftest import SPECS, start_emulator  # noqa: E402


def _per_call(fn: Callable[[], object], calls: int) -> list[float]:
    """Seconds per call, one sample per batch of `calls` (after a warm-up call)."""
    fn()
    samples = []
    for _ in range(7):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        samples.append((time.perf_counter() - start) / calls)
    return samples


def _row(name: str, samples: list[float], unit: str, note: str = "") -> str:
    scale = 1000.0 if unit == "ms" else 1.0
    median = statistics.median(samples) * scale
    return (
        f"| {name} | {median:.3f} {unit} | {min(samples) * scale:.3f}–"
        f"{max(samples) * scale:.3f} {unit} | {note} |"
    )


def powerclerk_overhead() -> list[str]:
    """GetProjects, a page of 100 projects: generated client vs raw httpx, same server."""
    from powerclerk import PowerClerk

    rows = []
    with start_emulator(SPECS / "powerclerk", rate_limit=10**9) as server:
        creds = ADMIN_CLIENT
        with PowerClerk(
            base_url=server.base_url,
            token_url=server.token_url,
            client_id=creds.client_id,
            client_secret=creds.client_secret,
            api_key=creds.api_key,
            rate_limit=None,
        ) as pc:
            for _ in range(100):
                pc.projects.create(PROGRAM_ID)
            ours = _per_call(lambda: pc.projects.list(PROGRAM_ID, limit=100), 30)
        token = httpx.post(
            server.token_url,
            data={
                "grant_type": "client_credentials",
                "client_id": creds.client_id,
                "client_secret": creds.client_secret,
            },
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}", "X-ApiKey": creds.api_key}
        url = f"{server.base_url}/services/v2/Programs/{PROGRAM_ID}/Projects"
        with httpx.Client(headers=headers) as raw:
            bare = _per_call(lambda: raw.get(url, params={"limit": 100}).json(), 30)
    ratio = statistics.median(ours) / statistics.median(bare)
    rows.append(
        _row(
            "GetProjects, 100 projects: generated client (typed models)",
            ours,
            "ms",
            f"{ratio:.2f}× raw httpx (goal ≤ 1.15×)",
        )
    )
    rows.append(_row("GetProjects, 100 projects: raw httpx (`.json()`)", bare, "ms"))
    return rows


def ebuilder_overhead() -> list[str]:
    """A 500-record Commitments/Import: generated client vs raw httpx posting the same JSON."""
    from ebuilder import EBuilder
    from ebuilder._base_client import encode_json

    batches = iter(range(10**6))

    def body() -> dict[str, object]:
        """500 new commitments (numbers never reused, so every import succeeds)."""
        batch = next(batches)
        return {
            "options": {"projectIdentifier": "ProjectName"},
            "data": [
                {
                    "header": {
                        "projectIdentifier": "My Project A",
                        "commitmentType": "Contract",
                        "commitmentNumber": f"B-{batch}-{i}",
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

    with start_emulator(SPECS / "ebuilder", daily_quota=10**9) as server:
        with EBuilder(
            base_url=server.base_url, username=API_USER.client_id, password=API_USER.api_key
        ) as eb:
            ours = _per_call(lambda: eb.commitments.import_(body=body()), 3)
        token = httpx.post(
            f"{server.base_url}/api/v2/Authenticate",
            data={
                "grant_type": "password",
                "username": API_USER.client_id,
                "password": API_USER.api_key,
            },
        ).json()["access_token"]
        with httpx.Client(
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        ) as raw:
            url = f"{server.base_url}/api/v2/Commitments/Import"
            bare = _per_call(lambda: raw.post(url, content=encode_json(body())).json(), 3)
    ratio = statistics.median(ours) / statistics.median(bare)
    return [
        _row(
            "Commitments/Import, 500 records: generated client (validated, paired)",
            ours,
            "ms",
            f"{ratio:.2f}× raw httpx (goal ≤ 1.15×)",
        ),
        _row("Commitments/Import, 500 records: raw httpx", bare, "ms"),
    ]


def throughput() -> list[str]:
    """Sustained operations under the limit, window shortened: share of the limit, 429s seen."""
    from powerclerk import PowerClerk

    limit, window, windows = 20, 2.0, 4
    with start_emulator(SPECS / "powerclerk", rate_limit=limit, rate_window=window) as server:
        creds = ADMIN_CLIENT
        with PowerClerk(
            base_url=server.base_url,
            token_url=server.token_url,
            client_id=creds.client_id,
            client_secret=creds.client_secret,
            api_key=creds.api_key,
            rate_limit=limit,
            rate_window=window,
        ) as pc:
            pc.programs.list_statuses(PROGRAM_ID)  # token and connection ready
            done, start = 0, time.perf_counter()
            while time.perf_counter() - start < window * windows:
                pc.programs.list_statuses(PROGRAM_ID)
                done += 1
            elapsed = time.perf_counter() - start
        rejected = server.traffic.rate_limited
    share = done / (limit * elapsed / window)
    return [
        f"| throughput at {limit} ops per {window:g} s for {elapsed:.1f} s | {done} ops | "
        f"{share:.1%} of the limit | {rejected} × 429 (goal ≥ 97%, zero 429s) |"
    ]


_MEMORY_CHILD = r"""
import os, resource, sys
sys.path.insert(0, sys.argv[1])
from powerclerk import PowerClerk
base, token, cid, secret, key, program, path = sys.argv[2:9]
def rss_kb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
with PowerClerk(base_url=base, token_url=token, client_id=cid, client_secret=secret,
                api_key=key, rate_limit=None) as pc:
    project = pc.projects.create(program).project.project_id
    before = rss_kb()
    pc.attachments.upload(program, project, "APPLICATION", "UTILITY_BILL", path)
    after_up = rss_kb()
    pc.attachments.download(program, project, "UTILITY_BILL", path + ".back")
    after_down = rss_kb()
print(before, after_up, after_down)
"""


def memory() -> list[str]:
    """Peak RSS growth of a client process moving a 200 MB file up and down."""
    size = 200 * 1024 * 1024
    with (
        tempfile.TemporaryDirectory() as tmp,
        start_emulator(SPECS / "powerclerk", rate_limit=10**9) as server,
    ):
        big = Path(tmp) / "big.bin"
        with big.open("wb") as out:
            block = os.urandom(1024 * 1024)
            for _ in range(size // len(block)):
                out.write(block)
        creds = ADMIN_CLIENT
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                _MEMORY_CHILD,
                str(ROOT),
                server.base_url,
                server.token_url,
                creds.client_id,
                creds.client_secret,
                creds.api_key,
                PROGRAM_ID,
                str(big),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        before, up, down = (int(v) for v in done.stdout.split())
    grow_up, grow_down = (up - before) / 1024, (down - before) / 1024
    return [
        f"| peak RSS growth, 200 MB upload then download | {grow_up:.1f} MB up, "
        f"{grow_down:.1f} MB down | goal ≤ 32 MB | client process only |"
    ]


def main() -> None:
    print("\n| run time (loopback emulators) | median | min–max | note |")
    print("|---|---|---|---|")
    for row in powerclerk_overhead() + ebuilder_overhead():
        print(row)
    print()
    print("| throughput | operations | share | rejections |")
    print("|---|---|---|---|")
    for row in throughput():
        print(row)
    print()
    print("| memory | growth | goal | scope |")
    print("|---|---|---|---|")
    for row in memory():
        print(row)


if __name__ == "__main__":
    main()
