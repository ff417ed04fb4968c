"""`make bench`: generation and run-time figures, ours beside openapi-python-client's from the
same run, and the budgets the issues set; medians (with min-max) over repeated fresh processes.
Writes benchmarks/RESULTS.md and prints it; asserts nothing."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import bulk
import generation
import peer
import runtime

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the emulator and test fixtures, for the drift budget
RUNS = 7
BUDGETS = {"powerclerk": 2.0}


def _time(cmd: list[str]) -> list[float]:
    samples = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True)
        samples.append(time.perf_counter() - start)
    return samples


def _row(name: str, samples: list[float], budget: float | None, baseline: float = 0.0) -> str:
    median = statistics.median(samples) - baseline
    spread = f"{min(samples) - baseline:.3f}–{max(samples) - baseline:.3f}"
    judged = f"{budget:g} | {median / budget:.2f}" if budget else "— | —"
    return f"| {name} | {median:.3f} | {spread} | {judged} |"


def _commitments_body(records: int) -> dict[str, object]:
    """A Commitments/Import body with `records` header+items records, keys as a user writes them."""
    return {
        "options": {"projectIdentifier": "ProjectName", "abortOnException": False},
        "data": [
            {
                "header": {
                    "projectIdentifier": "My Project A",
                    "commitmentType": "Contract",
                    "CommitmentNumber": f"C-{i:05d}",
                    "description": "Bench commitment",
                    "companyName": "ACME Corp",
                    "DefaultRetainagePercent": "10",
                    "customFields": {"commitment cf 1": "value"},
                },
                "items": [
                    {
                        "commitmentItemNumber": f"{j:03d}",
                        "budgetLineItem": "b1.1000",
                        "amount": "5000.25",
                        "quantity": 2,
                        "fundingSources": {"fund 1": "1"},
                    }
                    for j in range(2)
                ],
            }
            for i in range(records)
        ],
    }


def _in_process(fn: object, runs: int = 21) -> list[float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        samples.append(time.perf_counter() - start)
    return samples


def _validate_and_serialize_500() -> list[float]:
    from ebuilder._base_client import encode_json
    from ebuilder.types import CommitmentsImportRequest

    body = _commitments_body(500)
    CommitmentsImportRequest.model_validate(body)  # first use builds the schema: not timed
    return _in_process(lambda: encode_json(CommitmentsImportRequest.model_validate(body).to_wire()))


def _compare_60_schemas() -> list[float]:
    """Normalize and compare every e-Builder request and response schema (already fetched)."""
    import copy

    from generator.drift import compare
    from generator.model.schema import validator_schema
    from generator.pipeline import load_api

    api = load_api(ROOT / "specs" / "ebuilder")
    pairs = [
        (op.wire_name, kind, validator_schema(api, model))
        for op in api.operations
        for kind, model in (("request", op.body.model_name), ("response", op.response.model_name))
        if model
    ]
    live = [copy.deepcopy(schema) for _, _, schema in pairs]

    def run() -> None:
        for (operation, kind, schema), revision in zip(pairs, live, strict=True):
            compare(schema, revision, direction=kind, operation=operation)  # type: ignore[arg-type]

    return _in_process(run, runs=11)


def _drift_against_emulator(python: str) -> list[float]:
    """`apigen drift ebuilder` end to end (fetch included) against a local emulator."""
    import os

    from tests.conftest import EB_USER as API_USER
    from tests.conftest import SPECS, start_emulator

    with start_emulator(SPECS / "ebuilder") as server:
        env = {
            **os.environ,
            "EBUILDER_BASE_URL": server.base_url,
            "EBUILDER_USERNAME": API_USER.client_id,
            "EBUILDER_PASSWORD": API_USER.client_secret,
        }
        samples = []
        for _ in range(RUNS):
            start = time.perf_counter()
            subprocess.run(
                [python, "-m", "generator", "drift", "ebuilder"],
                cwd=ROOT,
                env=env,
                check=True,
                capture_output=True,
            )
            samples.append(time.perf_counter() - start)
    return samples


def _import_times() -> list[str]:
    """`import` of each generated package, ours and the peer's, net of interpreter start."""
    rows = []
    ours_start = statistics.median(_time([sys.executable, "-c", "pass"]))
    peer_python = str(peer.PYTHON)
    peer_start = statistics.median(_time([peer_python, "-c", "pass"]))
    for api in ("powerclerk", "ebuilder"):
        ours = _time([sys.executable, "-c", f"import {api}"])
        rows.append(_row(f"`import {api}` (client, resources, all models)", ours, 0.2,
                         ours_start))
        path = peer.WORK / "peer-clients" / f"peer_{api}"
        statement = (f"import sys; sys.path.insert(0, {str(path)!r}); "
                     f"import peer_{api}.client, peer_{api}.models")
        rows.append(_row(f"peer: `import peer_{api}.client, peer_{api}.models`",
                         _time([peer_python, "-c", statement]), None, peer_start))
    return rows


def budgets() -> list[str]:
    apis = sorted(p.parent.name for p in (ROOT / "specs").glob("*/api.yaml"))
    python = sys.executable
    rows = [
        f"{RUNS} fresh processes each; import times are net of interpreter start.",
        "",
        "| measure | median s | min–max s | budget s | median / budget |",
        "|---|---|---|---|---|",
    ]
    for api in apis:
        rows.append(
            _row(
                f"`apigen generate {api}` (warm, nothing to write)",
                _time([python, "-m", "generator", "generate", api]),
                BUDGETS.get(api),  # the issues set one for PowerClerk alone, and for all APIs
            )
        )
    rows.append(
        _row("`apigen generate` (all APIs)", _time([python, "-m", "generator", "generate"]), 3.0)
    )
    rows += _import_times()
    rows.append(
        _row(
            "validate + serialize a 500-record Commitments/Import body (21 runs)",
            _validate_and_serialize_500(),
            0.025,
        )
    )
    rows.append(
        _row(
            "drift: compare all 60 e-Builder schemas, already fetched (11 runs)",
            _compare_60_schemas(),
            0.5,
        )
    )
    rows.append(
        _row(
            "drift: full `apigen drift ebuilder` against the emulator, fetch included",
            _drift_against_emulator(python),
            10.0,
        )
    )
    return rows


def _compile_bytecode() -> None:
    """Byte-compile what the figures run, as a wheel install would: this machine sets
    PYTHONDONTWRITEBYTECODE, so editable installs would otherwise recompile on every start."""
    folders = [ROOT / "generator", ROOT / "emulator", *(ROOT / "generated").iterdir()]
    peer_clients = peer.WORK / "peer-clients"
    folders += [peer_clients] if peer_clients.is_dir() else []
    subprocess.run([sys.executable, "-m", "compileall", "-q", *map(str, folders)], check=True)


BULK_HEADING = "## Bulk import from a file"


def _bulk_section(alone: bool = False) -> list[str]:
    note = (f"(This section measured alone by `python benchmarks/bench.py bulk` on "
            f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.)") if alone else ""
    return [BULK_HEADING, "", bulk.__doc__ or "", "", *bulk.rows(), *(["", note] if note else [])]


def bulk_only() -> None:
    """`python benchmarks/bench.py bulk`: measure the bulk import alone and put its section
    into RESULTS.md in place of the one there (before the budgets when there is none)."""
    results = ROOT / "benchmarks" / "RESULTS.md"
    text = results.read_text(encoding="utf-8")
    section = "\n".join(_bulk_section(alone=True)) + "\n\n"
    if BULK_HEADING in text:
        head, rest = text.split(BULK_HEADING, 1)
        tail = rest[rest.index("\n## "):].lstrip("\n") if "\n## " in rest else ""
    else:
        head, tail = text.split("## Budgets and import time", 1)
        tail = "## Budgets and import time" + tail
    results.write_text(head + section + tail, encoding="utf-8")
    print(section)


def main() -> None:
    if sys.argv[1:] == ["bulk"]:
        bulk_only()
        return
    started = time.time()
    version = peer.ensure_installed()
    _compile_bytecode()
    parts = [
        "# Benchmark results",
        "",
        f"Written by `make bench` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, peer {version}. "
        "Medians with min–max over repeated fresh processes; ratios are to the peer or to raw "
        "httpx measured in the same run. This machine is shared, so single figures are noisy.",
        "",
        "## Generation: ours against openapi-python-client",
        "",
        generation.__doc__ or "",
        "",
        *generation.table(),
        "",
        "## Run time",
        "",
        *runtime.sections(),
        "",
        *_bulk_section(),
        "",
        "## Budgets and import time",
        "",
        *budgets(),
        "",
        f"(`make bench` took {(time.time() - started) / 60:.1f} min.)",
    ]
    text = "\n".join(parts) + "\n"
    (ROOT / "benchmarks" / "RESULTS.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
