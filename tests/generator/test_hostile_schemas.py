"""The hostile-schema corpus: pulled schemas with names of every hostile class (explicit batches)
and drawn by hypothesis (seeded, a fixed number), merged by `generate` into two small APIs (keys
exact, and case-insensitive as e-Builder's), imported in a fresh interpreter. Every property
either becomes a field whose records round-trip exactly, or is the YAML's, or is rejected by a
finding that names its schema file and JSON path; the packages pass ruff and mypy --strict, and
no name or description runs as code."""

from __future__ import annotations

import json
import keyword
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings

from generator.enrich import enrich, wire_key
from generator.model.ir import Api
from generator.pipeline import enriched_api, generate, load_api
from tests.generator.hostile_schemas import (
    CANARY,
    Batch,
    Ledger,
    account,
    batches,
    explicit_batches,
    write_schemas,
    write_spec,
)

APIS = {"exact": False, "folded": True}
DRAWN = 30  # hypothesis batches per API in the generated corpus
PROBE = Path(__file__).with_name("roundtrip_probe.py")
PYDANTIC_MEMBERS = {n for n in dir(__import__("pydantic").BaseModel) if not n.startswith("_")}


def drawn(count: int) -> list[Batch]:
    """`count` batches from hypothesis, the same on every run (derandomized, no database)."""
    found: list[Batch] = []

    @settings(
        max_examples=count,
        derandomize=True,
        database=None,
        phases=[Phase.generate],
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(batches())
    def collect(batch: Batch) -> None:
        found.append(batch)

    collect()
    return found


def name_problems(api: Api) -> list[str]:
    """Python names that are not safe, unique identifiers, or that equal another field's
    (folded) wire name or alias (pydantic would fill both fields from one key)."""
    problems, fold = [], api.keys_case_insensitive
    for model in api.models:
        names = [f.python_name for f in model.fields]
        if len(set(names)) != len(names):
            problems.append(f"{model.name}: duplicate Python names")
        for f in model.fields:
            name = f.python_name
            if not (name.isidentifier() and name.isascii()) or keyword.iskeyword(name):
                problems.append(f"{model.name}.{name}: not a plain identifier")
            if f.confidence == "inferred" and (
                name.startswith("model_") or name in PYDANTIC_MEMBERS or name == "to_wire"
            ):
                problems.append(f"{model.name}.{name}: shadows a BaseModel member")
            for other in model.fields:
                keys = {wire_key(n, fold) for n in (other.wire_name, *other.aliases)}
                if other is not f and name in keys:
                    problems.append(f"{model.name}.{name}: another field's key")
    return problems


@dataclass
class Corpus:
    out: Path
    scratch: Path
    ledger: Ledger
    batches: int
    properties: int
    name_problems: list[str]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    root = tmp_path_factory.mktemp("hostile")
    specs, out = root / "specs", root / "out"
    chosen = [*explicit_batches(), *drawn(DRAWN)]
    for name, folded in APIS.items():
        write_schemas(write_spec(specs, name, len(chosen), folded), chosen)
    generate(specs, out)
    ledger, problems = Ledger(), []
    for name in APIS:
        enriched, findings = enriched_api(specs / name)
        account(load_api(specs / name), findings, chosen, ledger)
        problems += name_problems(enriched)
    properties = sum(2 * len(b.root) + len(b.nested) for b in chosen) * len(APIS)
    scratch = root / "scratch"
    scratch.mkdir()
    return Corpus(out, scratch, ledger, len(chosen) * len(APIS), properties, problems)


def test_every_property_is_a_field_the_yamls_or_a_finding(corpus: Corpus) -> None:
    ledger = corpus.ledger
    print(
        f"\nhostile corpus: {corpus.batches} batches, {corpus.properties} properties: "
        f"{ledger.added} added, {ledger.yaml} the YAML's, {ledger.rejected} rejected by a finding"
    )
    assert ledger.problems == []
    assert corpus.name_problems == []
    assert ledger.added > ledger.rejected > 0  # both ways are taken


def test_every_added_field_round_trips(corpus: Corpus) -> None:
    cases = corpus.scratch.parent / "cases.json"
    cases.write_text(json.dumps(corpus.ledger.cases), encoding="utf-8")
    path = os.pathsep.join(str(corpus.out / name) for name in APIS)
    done = subprocess.run(
        [sys.executable, str(PROBE), str(cases)],
        cwd=corpus.scratch,
        env={**os.environ, "PYTHONPATH": path},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout)
    failures = result["failures"]
    print(f"\nhostile corpus: {result['checked']} records, {len(failures)} not round-trip")
    assert result["checked"] == len(corpus.ledger.cases) > 0
    assert result["failures"] == []
    # nothing ran: no canary file, in the scratch folder or anywhere near the packages
    assert list(corpus.scratch.iterdir()) == []
    assert not list(corpus.out.parent.rglob(f"*{CANARY}*"))
    for name in APIS:  # the Jinja payload is there as text, not rendered
        assert "{{ 7*7 }}" in (corpus.out / name / name / "types.py").read_text(encoding="utf-8")


def test_generated_packages_pass_ruff_and_mypy_strict(corpus: Corpus) -> None:
    for name in APIS:
        package = corpus.out / name
        for command in (
            ["ruff", "check", "--no-cache", "."],
            ["ruff", "format", "--check", "--no-cache", "."],
            ["mypy", "--config-file", "pyproject.toml", "--no-incremental", name],
        ):
            done = subprocess.run(
                [sys.executable, "-m", *command],
                cwd=package,
                capture_output=True,
                text=True,
                check=False,
            )
            assert done.returncode == 0, f"{name}: {' '.join(command)}\n{done.stdout[-3000:]}"


# ---------------------------------------------------------------------------------------------
# The same rules on the merge alone, property-based (hypothesis shrinks a failing schema).


@cache
def _fixture_api(folded: bool) -> Api:
    specs = Path(tempfile.mkdtemp(prefix="hostile-spec-"))
    return load_api(write_spec(specs, "spec", 1, folded))


@pytest.mark.parametrize("folded", [False, True], ids=["exact", "folded"])
@settings(max_examples=150, derandomize=True, database=None, deadline=None)
@given(batch=batches())
def test_merge_accounts_for_every_property(folded: bool, batch: Batch) -> None:
    api = _fixture_api(folded)
    with tempfile.TemporaryDirectory() as folder:
        write_schemas(Path(folder), [batch])
        enriched, findings = enrich(api, Path(folder) / "schemas")
    ledger = Ledger()
    account(api, findings, [batch], ledger)
    assert ledger.problems == []
    assert name_problems(enriched) == []
