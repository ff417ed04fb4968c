"""Proof under kill: a real import in a child process (tests/e2e/bulk_kill_child.py) against the
emulator, killed with SIGKILL at seeded points of its run (journal statements: before a send,
inside a journal write, after the server applied a batch; socket writes and reads: during the
send, with the server applying what arrived), then resumed with the same journal. The emulator's
state must then hold every record exactly once, or the record is reported in doubt (and held at
most once): none lost, none duplicated. Process instances are what is imported because the
server creates a new one for every record it is sent, so a batch sent twice would show."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from emulator.server import EmulatorServer
from tests.conftest import EB_USER, ROOT

COUNT, BATCH = 12, 3  # four batches
SEED = 14
PER_KIND = {"journal": 14, "sent": 4, "waiting": 4}  # kill points drawn of each kind
CASES = sum(PER_KIND.values())


def _child(server: EmulatorServer, journal: Path, prefix: str,
           kill: list[Any] | None = None) -> subprocess.CompletedProcess[str]:
    args = {"base_url": server.base_url, "token_url": server.token_url,
            "username": EB_USER.client_id, "password": EB_USER.client_secret,
            "journal": str(journal), "prefix": prefix, "count": COUNT, "batch_size": BATCH,
            "kill": kill}
    return subprocess.run([sys.executable, "-m", "tests.e2e.bulk_kill_child", json.dumps(args)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)


def _imported(server: EmulatorServer, prefix: str) -> Counter[int]:
    """How many process instances the emulator holds of each record, by its index."""
    found: Counter[int] = Counter()
    for instance in server.state.processes.values():
        subject = str(instance.fields.get("subject", ""))
        if subject.startswith(prefix + " "):
            found[int(subject.rsplit(" ", 1)[1])] += 1
    return found


@pytest.fixture(scope="module")
def kill_points(ebuilder_emulator: EmulatorServer, tmp_path_factory: pytest.TempPathFactory
                ) -> list[list[Any]]:
    """The seeded kill points, drawn from the counts of one run that is not killed."""
    ebuilder_emulator.reset()
    whole = _child(ebuilder_emulator, tmp_path_factory.mktemp("count") / "j.sqlite", "count")
    assert whole.returncode == 0, whole.stderr
    report = json.loads(whole.stdout)
    assert report["ok"] == list(range(COUNT))
    rng = random.Random(SEED)
    return [[kind, n] for kind, many in PER_KIND.items()
            for n in sorted(rng.sample(range(1, report["counts"][kind] + 1), many))]


@pytest.mark.parametrize("case", range(CASES))
def test_an_import_killed_and_resumed_imports_every_record_once_or_reports_it_in_doubt(
        eb_emulator: EmulatorServer, kill_points: list[list[Any]], tmp_path: Path,
        case: int) -> None:
    kill = kill_points[case]
    prefix, journal = f"kill {case}", tmp_path / "import.sqlite"
    killed = _child(eb_emulator, journal, prefix, kill)
    assert killed.returncode == -signal.SIGKILL, (kill, killed.stdout, killed.stderr)
    resumed = _child(eb_emulator, journal, prefix)
    assert resumed.returncode == 0, resumed.stderr
    report = json.loads(resumed.stdout)
    imported = _imported(eb_emulator, prefix)
    assert report["failed"] == [] and report["not_sent"] == []  # none lost
    assert sorted(report["ok"] + report["in_doubt"]) == list(range(COUNT))
    assert all(imported[i] == 1 for i in report["ok"]), (kill, report, imported)
    assert max(imported.values(), default=0) <= 1, (kill, imported)  # none duplicated
    doubt = report["in_doubt"]  # at most the one batch the kill cut off
    assert len({i // BATCH for i in doubt}) <= 1 and len(doubt) in (0, BATCH), (kill, doubt)
