from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURE_SPECS = ROOT / "tests" / "fixtures" / "specs"


def run_apigen(*args: str | Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "generator", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


def tree_digest(root: Path) -> dict[str, tuple[str, int]]:
    """Every file under root with its hash and mtime (to prove nothing was touched)."""
    return {
        p.relative_to(root).as_posix(): (
            hashlib.sha256(p.read_bytes()).hexdigest(),
            p.stat().st_mtime_ns,
        )
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def spec_copy(tmp_path: Path) -> Path:
    """A writable copy of the fixture specs (tmp/specs/mini/...)."""
    target = tmp_path / "specs"
    shutil.copytree(FIXTURE_SPECS, target)
    return target
