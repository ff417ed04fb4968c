"""No spec string becomes code: a payload planted in every free-text place of the spec
language either is rejected with a located error, or generates packages that pass ruff,
import without running it, and carry the text back exactly."""

from __future__ import annotations

import ast
import copy
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator.codegen.escape import markdown_inline, markdown_text
from generator.pipeline import load_api
from generator.spec.errors import SpecError
from tests.generator.conftest import FIXTURE_SPECS, run_apigen
from tests.generator.corpus.payloads import free_text_places, payload, places, plant

APIS = ("mini", "bulk", "full")
# Spec text no generated file shows, by the end of its place: the docs read it, nothing else.
NOT_EMITTED = {
    ("enum", 0): "the members of a response field's enum (responses stay tolerant)",
    ("enum", 1): "the same",
    ("api_key", "description"): "the spec author's note on the key",
    ("quota", "description"): "the spec author's note on the quota status",
    ("offset", "limit_param"): "a pagination style no operation of `full` uses",
    ("offset", "offset_param"): "the same",
    ("Thing", "source"): "a model's source of a documented shape",
    ("Code", "format"): "a format the client does not check",
}
CORPUS_SPECS = Path(__file__).parent / "corpus" / "specs"


def _documents(root: Path) -> dict[str, Any]:
    return {
        f"{api}/{f.name}": yaml.safe_load(f.read_text(encoding="utf-8"))
        for api in APIS
        for f in sorted((root / api).glob("*.yaml"))
    }


def _write(root: Path, docs: dict[str, Any]) -> None:
    for rel, data in docs.items():
        (root / rel).write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False),
                                encoding="utf-8")


def _loads(root: Path, api: str) -> SpecError | None:
    try:
        load_api(root / api)
    except SpecError as exc:
        return exc
    return None


def _whitespace_free(text: str) -> str:
    return "".join(text.split())


def _python_strings(out: Path) -> set[str]:
    found = set()
    for path in out.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                found.add(_whitespace_free(node.value))
    return found


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Probe every place alone (fast: load and validate only), then plant every accepted one
    at once and generate, lint and import that."""
    tmp = tmp_path_factory.mktemp("payloads")
    canary = tmp / "canary"
    specs = tmp / "specs"
    shutil.copytree(FIXTURE_SPECS, specs)
    shutil.copytree(CORPUS_SPECS, specs, dirs_exist_ok=True)
    base = _documents(specs)
    values, keys = free_text_places()
    found = [(rel, path, is_key) for rel, data in base.items()
             for path, is_key in places(data, values, keys)]
    covered = {path[-1] if not is_key else path[-2] for _, path, is_key in found
               if not isinstance(path[-1], int)} | {
        path[-2] for _, path, is_key in found if isinstance(path[-1], int)}
    probe = tmp / "probe"
    rejected, accepted = [], []
    for n, (rel, path, is_key) in enumerate(found):
        docs = copy.deepcopy(base)
        plant(docs[rel], path, is_key, payload(n, canary))
        shutil.rmtree(probe, ignore_errors=True)
        shutil.copytree(specs, probe)
        _write(probe, docs)
        error = _loads(probe, rel.split("/")[0])
        (rejected if error else accepted).append((n, rel, path, is_key, error))
    docs = copy.deepcopy(base)
    for n, rel, path, is_key, _ in sorted(accepted, key=lambda a: -len(a[2])):
        plant(docs[rel], path, is_key, payload(n, canary))
    _write(specs, docs)
    out = tmp / "out"
    result = run_apigen("generate", "--specs", specs, "--out", out, *APIS)
    return {"canary": canary, "out": out, "result": result, "accepted": accepted,
            "rejected": rejected, "values": values, "keys": keys, "covered": covered}


def test_every_free_text_place_of_the_spec_language_is_planted(planted: dict[str, Any]) -> None:
    missing = (planted["values"] | planted["keys"]) - planted["covered"]
    assert not missing, f"the fixtures have no value for: {sorted(missing)}"
    assert len(planted["accepted"]) >= 40


def test_rejected_payloads_are_located_errors(planted: dict[str, Any]) -> None:
    for _, rel, path, _, error in planted["rejected"]:
        assert all(p.loc.line > 0 and p.loc.col > 0 for p in error.problems), (rel, path, error)


def test_planted_specs_generate_lint_and_import_without_running_anything(
    planted: dict[str, Any],
) -> None:
    result, out = planted["result"], planted["out"]
    assert result.returncode == 0, result.stderr
    ruff = [sys.executable, "-m", "ruff"]
    for api in APIS:
        for args in (["check", "--no-fix", "."], ["format", "--check", "."]):
            done = subprocess.run([*ruff, *args], cwd=out / api, capture_output=True, text=True,
                                  check=False)
            assert done.returncode == 0, done.stdout + done.stderr
    script = (
        "import importlib, pkgutil, sys\n"
        "for api in sys.argv[1:]:\n"
        "    pkg = importlib.import_module(api)\n"
        "    for m in pkgutil.walk_packages(pkg.__path__, api + '.'):\n"
        "        importlib.import_module(m.name)\n"
    )
    env_path = ":".join(str(out / api) for api in APIS)
    done = subprocess.run([sys.executable, "-c", script, *APIS], capture_output=True, text=True,
                          check=False, env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    assert not planted["canary"].exists(), "a planted payload ran"


def test_planted_text_comes_back_exactly(planted: dict[str, Any]) -> None:
    """Each accepted payload reaches a Python string or the OpenAPI document unchanged."""
    out = planted["out"]
    strings = _python_strings(out)
    openapi = {
        _whitespace_free(s)
        for api in APIS
        for s in _strings(json.loads((out / api / "openapi.json").read_text(encoding="utf-8")))
    }
    markdown = _whitespace_free("".join(
        p.read_text(encoding="utf-8") for api in APIS for p in (out / api).glob("*.md")))
    lost = []
    for n, rel, path, _, _ in planted["accepted"]:
        text = payload(n, planted["canary"])
        plain = _whitespace_free(text)
        shown = {_whitespace_free(markdown_text(text)), _whitespace_free(markdown_inline(text))}
        if path[-2:] in NOT_EMITTED:
            continue
        if not any(plain in s for s in strings | openapi) and not any(
            form in markdown for form in shown
        ):
            lost.append((rel, path))
    assert not lost, "\n".join(map(str, lost))


def _strings(node: Any) -> Any:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield key
            yield from _strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item)
