"""The contract test: schemathesis, all checks, against each emulator with our own exported
OpenAPI document. Any failure fails the test, with each failing exchange in the message."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import SPECS, start_emulator
from tests.contract.harness import ROOT, load_exclusions, run_schemathesis

APIS = ("powerclerk", "ebuilder")
# Bounded so both runs take about a minute each on CI's 2 cores (see tests/contract/README.md).
MAX_EXAMPLES = 40
MAX_STEPS = 30
SEED = 1
# Far above what one run sends: the contract test must not meet the emulator's limits.
LIMITS = {"rate_limit": 1_000_000, "daily_quota": 1_000_000}


@pytest.mark.parametrize("api", APIS)
def test_emulator_meets_its_openapi_document(api: str, tmp_path: Path) -> None:
    exclusions = [e for e in load_exclusions() if e.api == api]
    with start_emulator(SPECS / api, **LIMITS) as server:
        result = run_schemathesis(server, api, tmp_path, exclusions=exclusions, seed=SEED,
                                  max_examples=MAX_EXAMPLES, max_steps=MAX_STEPS)
    assert result.test_cases > 0, result.output[-3000:]
    if result.failures or result.exit_code != 0:
        pytest.fail(result.report(), pytrace=False)


def test_exclusions_name_real_operations() -> None:
    """Each exclusion names an API of ours and one of its operations (a typo excludes nothing)."""
    for exclusion in load_exclusions():
        document = json.loads((ROOT / "generated" / exclusion.api / "openapi.json").read_text())
        operation_ids = {op["operationId"] for path in document["paths"].values()
                         for op in path.values()}
        assert exclusion.operation in operation_ids, exclusion
