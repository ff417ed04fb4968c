"""An outside tester's run: schemathesis with all checks, more examples and longer stateful
scenarios than the contract test, and no exclusions, against fresh emulators of every API.

    .venv/bin/python -m tests.contract.full_run [--max-examples 100] [--max-steps 50] [api ...]

Prints each API's distinct failures and a summary; exits 1 when any was found."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from tests.conftest import SPECS, start_emulator
from tests.contract.harness import run_schemathesis
from tests.contract.test_contract import APIS, LIMITS, SEED


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.contract.full_run", description=__doc__)
    parser.add_argument("apis", nargs="*", default=list(APIS))
    parser.add_argument("--max-examples", type=int, default=100)
    parser.add_argument("--max-steps", type=int, default=50)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    summaries = []
    with tempfile.TemporaryDirectory(prefix="contract-") as tmp:
        for api in args.apis:
            with start_emulator(SPECS / api, **LIMITS) as server:
                result = run_schemathesis(server, api, Path(tmp) / api, seed=args.seed,
                                          max_examples=args.max_examples,
                                          max_steps=args.max_steps, timeout=3600)
            print(result.report())
            print("\n".join(result.warnings), end="\n\n")
            summaries.append(result)
    for result in summaries:
        print(result.summary())
    return 1 if any(r.failures or r.exit_code for r in summaries) else 0


if __name__ == "__main__":
    sys.exit(main())
