"""Generation time, ours against openapi-python-client on the same APIs: PowerClerk, e-Builder
and synthetic specs of 30, 300 and 1,000 operations. The peer reads our OpenAPI export of each
spec, so both generators describe the same API. Each run is a fresh process.

- Cold: ours with an empty cache and an empty output folder; the peer into an empty folder.
- After a one-operation edit: one new optional field on a model of one operation (a new field
  each run). Ours regenerates into its previous output with its cache warm; the peer, which has
  no incremental mode, regenerates from the edited export (`--overwrite`).

Both include formatting with ruff (the peer runs it as its post-generation hook)."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import peer
from synthetic import add_field, edit_one_operation, write_spec

ROOT = Path(__file__).resolve().parent.parent
WORK = peer.WORK / "generation"
# Per API: the model whose new field is the one-operation edit.
REAL_EDITS = {"powerclerk": "GetProjectsByDataRequest", "ebuilder": "CommitmentHeader"}
SIZES = (30, 300, 1000)


def _run(command: list[str], env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")
    return elapsed


def _ours(name: str, specs: Path, out: Path, cache: Path) -> float:
    env = {**os.environ, "APIGEN_CACHE_DIR": str(cache)}
    env.pop("APIGEN_NO_CACHE", None)
    command = [sys.executable, "-m", "generator", "generate", name, "--specs", str(specs)]
    return _run([*command, "--out", str(out)], env)


def _export(name: str, specs: Path, target: Path) -> Path:
    """Our OpenAPI export of the spec as it is now, copied to `target` (not timed)."""
    out = WORK / name / "export"
    _run([sys.executable, "-m", "generator", "openapi", name, "--specs", str(specs),
          "--out", str(out)])
    shutil.copyfile(out / name / "openapi.json", target)
    return target


def _peer(openapi: Path, out: Path) -> float:
    return _run(peer.generate_command(openapi, out), peer.environment())


def _stats(samples: list[float]) -> str:
    return f"{statistics.median(samples):.2f} ({min(samples):.2f}–{max(samples):.2f})"


@dataclass
class Timings:
    name: str
    ours_cold: list[float] = field(default_factory=list)
    peer_cold: list[float] = field(default_factory=list)
    ours_edit: list[float] = field(default_factory=list)
    peer_edit: list[float] = field(default_factory=list)


def measure(name: str, make_spec: Callable[[Path], Path], edit: Callable[[Path, int], None],
            runs: int) -> Timings:
    work = WORK / name
    shutil.rmtree(work, ignore_errors=True)
    specs = work / "specs"
    api_dir = make_spec(specs)
    openapi = _export(name, specs, work / "openapi.json")

    t = Timings(name)
    for run in range(runs):
        t.ours_cold.append(_ours(name, specs, work / "ours-cold", work / f"cache-{run}"))
        t.peer_cold.append(_peer(openapi, work / "peer-cold"))
        shutil.rmtree(work / "ours-cold")
        shutil.rmtree(work / f"cache-{run}")
        shutil.rmtree(work / "peer-cold")

    _ours(name, specs, work / "ours", work / "cache")  # the state an edit starts from
    _peer(openapi, work / "peer")
    for run in range(1, runs + 1):
        edit(api_dir, run)
        t.ours_edit.append(_ours(name, specs, work / "ours", work / "cache"))
        edited = _export(name, specs, work / f"openapi-{run}.json")
        t.peer_edit.append(_peer(edited, work / "peer"))
    shutil.rmtree(work)  # a 1,000-operation run leaves hundreds of MB
    return t


def _real(name: str) -> tuple[Callable[[Path], Path], Callable[[Path, int], None]]:
    def make(specs: Path) -> Path:
        return Path(shutil.copytree(ROOT / "specs" / name, specs / name))

    return make, lambda api_dir, run: add_field(api_dir, REAL_EDITS[name], f"benchEdit{run}")


def table(runs: int = 5, large_runs: int = 3) -> list[str]:
    """Markdown rows: medians and min–max over `runs` fresh processes, and the speed-ups."""
    peer.ensure_installed()
    results = [measure(name, *_real(name), runs) for name in REAL_EDITS]
    for size in SIZES:
        results.append(
            measure(
                f"synth{size}",
                lambda specs, size=size: write_spec(specs, size),
                edit_one_operation,
                large_runs if size >= 1000 else runs,
            )
        )
    rows = [
        "| API | ours cold, s | peer cold, s | speed-up (goal ≥ 2×) "
        "| ours after a one-operation edit, s | peer after the edit, s | speed-up |",
        "|---|---|---|---|---|---|---|",
    ]
    for t in results:
        cold = statistics.median(t.peer_cold) / statistics.median(t.ours_cold)
        edit = statistics.median(t.peer_edit) / statistics.median(t.ours_edit)
        rows.append(
            f"| {t.name} | {_stats(t.ours_cold)} | {_stats(t.peer_cold)} | {cold:.1f}× "
            f"| {_stats(t.ours_edit)} | {_stats(t.peer_edit)} | {edit:.1f}× |"
        )
    return rows


if __name__ == "__main__":
    print("\n".join(table(*(int(a) for a in sys.argv[1:]))))
