"""The generation cache never serves stale output: after an edit to a spec, a template or a
pulled schema, a cached generation equals a cold one byte for byte; and an unrelated edit
reuses what did not change."""

from __future__ import annotations

import json
import pickle
import shutil
from pathlib import Path

import pytest

import generator.templates
from generator.cli import main
from generator.codegen.models import chunks
from generator.pipeline import load_api
from tests.generator.conftest import FIXTURE_SPECS, run_apigen


def _tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _entries(cache: Path, kind: str) -> set[str]:
    return {p.name for p in (cache / kind).rglob("*") if p.is_file()}


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("APIGEN_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("APIGEN_NO_CACHE", raising=False)
    shutil.copytree(FIXTURE_SPECS / "mini", tmp_path / "specs" / "mini")
    templates = tmp_path / "templates"
    shutil.copytree(generator.templates.TEMPLATES, templates)
    monkeypatch.setattr(generator.templates, "TEMPLATES", templates)
    return tmp_path


def _cached_equals_cold(work: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    specs = str(work / "specs")
    assert main(["generate", "--specs", specs, "--out", str(work / "cached")]) == 0
    with monkeypatch.context() as cold:
        cold.setenv("APIGEN_NO_CACHE", "1")
        assert main(["generate", "--specs", specs, "--out", str(work / f"cold-{name}")]) == 0
    assert _tree(work / "cached") == _tree(work / f"cold-{name}")


def test_edits_to_spec_template_and_pulled_schema_never_serve_stale_output(
    work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _cached_equals_cold(work, monkeypatch, "start")

    widgets = work / "specs" / "mini" / "widgets.yaml"
    widgets.write_text(
        widgets.read_text().replace(
            "      Email: {type: string}\n",
            "      Email: {type: string}\n      Phone: {type: string}\n",
        )
    )
    _cached_equals_cold(work, monkeypatch, "spec")
    assert "phone" in (work / "cached" / "mini" / "mini" / "types.py").read_text()

    template = work / "templates" / "package" / "_client.py.jinja"
    template.write_text(
        template.read_text().replace(
            '"""Synchronous client of', '"""Synchronous (edited) client of'
        )
    )
    _cached_equals_cold(work, monkeypatch, "template")
    assert "(edited)" in (work / "cached" / "mini" / "mini" / "_client.py").read_text()

    resource = work / "templates" / "package" / "resources" / "resource.py.jinja"
    resource.write_text(resource.read_text().replace(
        "    def __init__(self, client: {{ client }}) -> None:",
        "    def __init__(self, client: {{ client }}) -> None:  # edited"))
    _cached_equals_cold(work, monkeypatch, "resource template")
    widgets_module = work / "cached" / "mini" / "mini" / "resources" / "widgets.py"
    assert "# edited" in widgets_module.read_text()

    schemas = work / "specs" / "mini" / "schemas"
    schemas.mkdir()
    (schemas / "GetWidgets.response.json").write_text(
        json.dumps(
            {
                "type": "object",
                "properties": {
                    "Widgets": {
                        "type": "array",
                        "items": {"type": "object", "properties": {"Weight": {"type": "number"}}},
                    }
                },
            }
        )
    )
    _cached_equals_cold(work, monkeypatch, "schema")
    assert "weight" in (work / "cached" / "mini" / "mini" / "types.py").read_text()


def test_a_summary_edit_reuses_the_models_and_reformats_only_what_changed(
    work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = work / "cache"
    assert main(["generate", "--specs", str(work / "specs"), "--out", str(work / "out")]) == 0
    models, formatted = _entries(cache, "models"), _entries(cache, "format")
    assert main(["generate", "--specs", str(work / "specs"), "--out", str(work / "out")]) == 0
    assert (_entries(cache, "models"), _entries(cache, "format")) == (models, formatted)

    widgets = work / "specs" / "mini" / "widgets.yaml"
    widgets.write_text(
        widgets.read_text().replace("summary: Create a widget.", "summary: Create one widget.")
    )
    assert main(["generate", "--specs", str(work / "specs"), "--out", str(work / "out")]) == 0
    assert _entries(cache, "models") == models  # models do not depend on a summary
    new = _entries(cache, "format") - formatted
    assert 1 <= len(new) <= 2  # the resource module and the README, nothing else


def test_a_one_model_edit_in_a_large_api_regenerates_one_chunk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through the command line, in processes of their own: there the chunks go to forked
    workers (two for the first run's ~370 models), which the test process, running servers in
    threads, never starts."""
    from benchmarks.synthetic import edit_one_operation, write_spec

    monkeypatch.setenv("APIGEN_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("APIGEN_NO_CACHE", raising=False)
    api_dir = write_spec(tmp_path / "specs", 100)
    api = load_api(api_dir)
    assert len(chunks([m.name for m in api.models])) > 3  # the case worth testing
    out = ["--specs", tmp_path / "specs", "--out", tmp_path / "out"]
    assert run_apigen("generate", *out).returncode == 0
    models = _entries(tmp_path / "cache", "models")
    rendered = _entries(tmp_path / "cache", "rendered-module")
    assert len(rendered) == len(api.resources) + 1  # each resource module, and params.py

    edit_one_operation(api_dir)
    done = run_apigen("generate", *out)
    assert done.returncode == 0, done.stderr
    assert len(_entries(tmp_path / "cache", "models") - models) == 1
    # the one resource whose operation reaches the edited (body) model is rendered again, and
    # params.py, which has its TypedDict
    assert len(_entries(tmp_path / "cache", "rendered-module") - rendered) == 2
    monkeypatch.setenv("APIGEN_NO_CACHE", "1")
    cold = ["generate", "--specs", str(tmp_path / "specs"), "--out", str(tmp_path / "cold")]
    assert main(cold) == 0
    assert _tree(tmp_path / "out") == _tree(tmp_path / "cold")
    assert "added1" in (tmp_path / "out" / "synth100" / "synth100" / "types.py").read_text()


def test_chunk_boundaries_depend_only_on_the_names_around_them() -> None:
    names = [f"Model{i:04d}" for i in range(400)]
    before = chunks(names)
    after = chunks(sorted([*names, "Model0100a"]))
    changed = [c for c in after if c not in before]
    assert len(changed) == 1 and "Model0100a" in changed[0]
    assert sum(before, []) == names  # every model once, in order


def test_a_spec_that_passed_before_and_then_breaks_is_reported(
    work: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = ["--specs", str(work / "specs"), "--out", str(work / "out")]
    assert main(["generate", *out]) == 0
    widgets = work / "specs" / "mini" / "widgets.yaml"
    good = widgets.read_text()
    widgets.write_text(good.replace("    method: GET\n", "    method: FETCH\n", 1))
    assert main(["generate", *out]) == 2
    assert "widgets.yaml" in capsys.readouterr().err
    widgets.write_text(good)  # back to text the caches have seen: served from them again
    assert main(["generate", *out]) == 0


def test_damaged_or_hostile_cache_entries_are_misses(
    work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = ["--specs", str(work / "specs"), "--out", str(work / "out")]
    assert main(["generate", *out]) == 0
    marker = work / "pwned"
    hostile = pickle.dumps(_Hostile(str(marker)))
    for entry in (work / "cache").rglob("*"):
        if entry.is_file():
            entry.write_bytes(hostile if entry.parent.parent.name == "parse" else b"\xff{")
    shutil.rmtree(work / "out")
    monkeypatch.setenv("APIGEN_NO_CACHE", "1")
    assert main(["generate", "--specs", str(work / "specs"), "--out", str(work / "cold")]) == 0
    monkeypatch.delenv("APIGEN_NO_CACHE")
    assert main(["generate", *out]) == 0
    assert not marker.exists()  # a cached parse is never a way to run code
    assert _tree(work / "out") == _tree(work / "cold")


@pytest.mark.parametrize("entry", ['{}', '[]', '"text"', '{"imports": 1, "classes": "",'
                                   ' "rebuilds": []}', '{"imports": [], "classes": ""}'])
def test_model_entries_of_another_shape_are_misses(work: Path, entry: str) -> None:
    out = ["--specs", str(work / "specs"), "--out", str(work / "out")]
    assert main(["generate", *out]) == 0
    cold = _tree(work / "out")
    models = [p for p in (work / "cache" / "models").rglob("*") if p.is_file()]
    assert models
    for path in models:
        path.write_text(entry)
    shutil.rmtree(work / "out")
    assert main(["generate", *out]) == 0
    assert _tree(work / "out") == cold


class _Hostile:
    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (open, (self.path, "w"))
