"""The write stage: only changed bytes are written, and a failure leaves the old tree whole."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.codegen.write import apply, plan


def test_plan_lists_only_changed_and_stale_files(tmp_path: Path) -> None:
    (tmp_path / "same.py").write_text("x = 1\n")
    (tmp_path / "old.py").write_text("x = 1\n")
    (tmp_path / "gone.py").write_text("x = 1\n")
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "same.cpython-311.pyc").write_bytes(b"\0")
    p = plan(tmp_path, {"same.py": "x = 1\n", "old.py": "x = 2\n", "new/mod.py": "y = 1\n"})
    assert sorted(p.write) == ["new/mod.py", "old.py"]
    assert p.delete == ["gone.py"]


def test_failure_while_staging_changes_nothing(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("old\n")
    (tmp_path / "blocker").write_text("a file where a folder is needed\n")
    p = plan(tmp_path, {"a.py": "new\n", "blocker/b.py": "b\n"})
    with pytest.raises(OSError):
        apply(p)
    assert (tmp_path / "a.py").read_text() == "old\n"
    assert sorted(f.name for f in tmp_path.iterdir()) == ["a.py", "blocker"]


def test_apply_writes_deletes_and_prunes_empty_folders(tmp_path: Path) -> None:
    (tmp_path / "pkg" / "sub").mkdir(parents=True)
    (tmp_path / "pkg" / "sub" / "gone.py").write_text("x\n")
    apply(plan(tmp_path, {"pkg/a.py": "a\n"}))
    assert (tmp_path / "pkg" / "a.py").read_text() == "a\n"
    assert not (tmp_path / "pkg" / "sub").exists()
