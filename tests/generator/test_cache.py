"""The generation cache never serves stale output: after an edit to a spec, a template or a
pulled schema, a cached generation equals a cold one byte for byte; and an unrelated edit
reuses what did not change."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from generator import render
from generator.cli import main
from tests.generator.conftest import FIXTURE_SPECS, ROOT


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
    shutil.copytree(ROOT / "templates", templates)
    monkeypatch.setattr(render, "TEMPLATES", templates)
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
