"""Run-time figures of the generated clients, against local emulators on loopback: per-call
overhead versus raw httpx, throughput under a rate limit, and memory while moving a large file.
Called by bench.py; prints Markdown rows; asserts nothing."""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import peer

ROOT = Path(__file__).resolve().parent.parent
GENERATED = ROOT / "generated"
sys.path.insert(0, str(ROOT))

from tests.conftest import ADMIN as ADMIN_CLIENT  # noqa: E402
from tests.conftest import EB_USER as API_USER  # noqa: E402
from tests.conftest import PROGRAM_ID, SPECS, start_emulator  # noqa: E402


@contextlib.contextmanager
def _server(api: str, **settings: object) -> Iterator[dict[str, str]]:
    """An emulator in a process of its own; yields its base, API and token URLs."""
    code = (
        "import json, sys; sys.path.insert(0, sys.argv[1])\n"
        "from tests.conftest import SPECS, start_emulator\n"
        "with start_emulator(SPECS / sys.argv[2], **json.loads(sys.argv[3])) as s:\n"
        "    print(json.dumps({'base_url': s.base_url, 'api_url': s.api_url,"
        " 'token_url': s.token_url}), flush=True)\n"
        "    sys.stdin.read()\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", code, str(ROOT), api, json.dumps(settings)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdin is not None and child.stdout is not None
    try:
        yield json.loads(child.stdout.readline())
    finally:
        child.stdin.close()  # the server stops when its input ends
        child.wait(timeout=30)


def _client(scenario: str, client: str, config: dict[str, str]) -> list[float]:
    python = str(peer.PYTHON) if client == "peer" else sys.executable
    done = subprocess.run(
        [python, str(ROOT / "benchmarks" / "clients.py"), scenario, client, json.dumps(config)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{client} client, {scenario}: {done.stderr}")
    return [float(v) for v in json.loads(done.stdout)]


def _row(name: str, samples: list[float], unit: str, note: str = "") -> str:
    scale = 1000.0 if unit == "ms" else 1.0
    median = statistics.median(samples) * scale
    return (
        f"| {name} | {median:.3f} {unit} | {min(samples) * scale:.3f}–"
        f"{max(samples) * scale:.3f} {unit} | {note} |"
    )


def _compare(scenario: str, label: str, config: dict[str, str], rounds: int = 5) -> list[str]:
    """Rows for raw httpx, ours and the peer, each client in its own process, same server; the
    clients take turns over `rounds` rounds, so that a slow spell of this shared machine does
    not fall on one client alone."""
    times: dict[str, list[float]] = {"raw": [], "ours": [], "peer": []}
    for _ in range(rounds):
        for client, samples in times.items():
            samples += _client(scenario, client, config)
    raw = statistics.median(times["raw"])
    ours = statistics.median(times["ours"])
    peer_time = statistics.median(times["peer"])
    return [
        _row(f"{label}: raw httpx (JSON decoded)", times["raw"], "ms"),
        _row(
            f"{label}: ours (typed models)",
            times["ours"],
            "ms",
            f"{ours / raw:.2f}× raw httpx (goal ≤ 1.15×); {ours / peer_time:.2f}× the peer",
        ),
        _row(
            f"{label}: openapi-python-client",
            times["peer"],
            "ms",
            f"{peer_time / raw:.2f}× raw httpx",
        ),
    ]


def overhead() -> list[str]:
    """GetProjects (a page of 100) and Commitments/Import (500 records), three clients each."""
    creds = ADMIN_CLIENT
    with _server("powerclerk", rate_limit=10**9) as urls:
        from powerclerk import PowerClerk

        with PowerClerk(base_url=urls["base_url"], token_url=urls["token_url"],
                        client_id=creds.client_id, client_secret=creds.client_secret,
                        api_key=creds.api_key, rate_limit=None) as pc:
            for _ in range(100):
                pc.projects.create(PROGRAM_ID)
        config = {
            **urls,
            "grant": "client_credentials",
            "client_id": creds.client_id,
            "client_secret": creds.client_secret,
            "api_key": creds.api_key,
            "program_id": PROGRAM_ID,
            "peer_path": str(peer.generate_client(GENERATED / "powerclerk" / "openapi.json",
                                                  "peer_powerclerk")),
        }
        rows = _compare("projects", "GetProjects, 100 projects", config)
    with _server("ebuilder", daily_quota=10**9) as urls:
        config = {
            **urls,
            "grant": "password",
            "username": API_USER.client_id,
            "password": API_USER.client_secret,
            "peer_path": str(peer.generate_client(GENERATED / "ebuilder" / "openapi.json",
                                                  "peer_ebuilder")),
        }
        rows += _compare("import", "Commitments/Import, 500 records", config)
    return rows


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
    project = pc.projects.create(program).project_id
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


def sections() -> list[str]:
    """Markdown tables: per-call overhead, throughput under the rate limit, memory."""
    return [
        "| run time (client and server in separate processes, loopback) | median | min–max "
        "| ratio |",
        "|---|---|---|---|",
        *overhead(),
        "",
        "| throughput | operations | share | rejections |",
        "|---|---|---|---|",
        *throughput(),
        "",
        "| memory | growth | goal | scope |",
        "|---|---|---|---|",
        *memory(),
    ]


if __name__ == "__main__":
    print("\n".join(sections()))
