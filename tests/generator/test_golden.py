"""The whole generated tree of the fixture spec, byte for byte, and generation idempotence.

Refresh the golden copy after an intended change with:
    UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/generator/test_golden.py
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from tests.generator.conftest import FIXTURE_SPECS, ROOT, run_apigen, tree_digest

GOLDEN = ROOT / "tests" / "golden"


def _files(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_generated_tree_matches_golden(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run_apigen("generate", "--specs", FIXTURE_SPECS, "--out", out)
    assert result.returncode == 0, result.stderr
    if os.environ.get("UPDATE_GOLDEN"):
        shutil.rmtree(GOLDEN, ignore_errors=True)
        shutil.copytree(out, GOLDEN)
    produced, golden = _files(out), _files(GOLDEN)
    assert sorted(produced) == sorted(golden)
    different = [name for name in produced if produced[name] != golden[name]]
    assert not different, f"differs from tests/golden: {different}"


def test_second_run_changes_and_touches_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run_apigen("generate", "--specs", FIXTURE_SPECS, "--out", out).returncode == 0
    before = tree_digest(out)
    again = run_apigen("generate", "--specs", FIXTURE_SPECS, "--out", out)
    assert again.returncode == 0
    assert again.stdout.startswith("0 file(s) written")
    assert tree_digest(out) == before


def test_check_mode_reports_stale_files_and_fixes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run_apigen("generate", "--specs", FIXTURE_SPECS, "--out", out).returncode == 0
    victim = out / "mini" / "mini" / "_client.py"
    victim.write_text(victim.read_text() + "# hand edit\n")
    (out / "mini" / "mini" / "leftover.py").write_text("x = 1\n")
    result = run_apigen("generate", "--check", "--specs", FIXTURE_SPECS, "--out", out)
    assert result.returncode == 1
    assert "mini/mini/_client.py" in result.stderr
    assert "mini/mini/leftover.py" in result.stderr
    assert "make generate" in result.stderr
    assert victim.read_text().endswith("# hand edit\n")


def test_regeneration_removes_files_the_spec_no_longer_produces(
    spec_copy: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    assert run_apigen("generate", "--specs", spec_copy, "--out", out).returncode == 0
    (spec_copy / "mini" / "widgets.yaml").rename(spec_copy / "mini" / "gadgets.yaml")
    text = (spec_copy / "mini" / "gadgets.yaml").read_text()
    (spec_copy / "mini" / "gadgets.yaml").write_text(
        text.replace("resource: widgets", "resource: gadgets")
    )
    assert run_apigen("generate", "--specs", spec_copy, "--out", out).returncode == 0
    assert not (out / "mini" / "mini" / "resources" / "widgets.py").exists()
    assert (out / "mini" / "mini" / "resources" / "gadgets.py").exists()
