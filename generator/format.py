"""Stage 7: ruff format and ruff check --fix, once, over the whole rendered tree."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from generator.errors import Loc, Problem, SpecError


def _ruff() -> list[str]:
    # The ruff installed beside this interpreter, so the venv's pinned version is what runs.
    return [sys.executable, "-m", "ruff"]


def format_tree(files: dict[str, str]) -> dict[str, str]:
    """Return the files after `ruff check --fix` then `ruff format`; non-Python files unchanged.

    The tree is formatted in a scratch folder, with the package's own pyproject.toml (ruff
    settings) at its root, so that the result is what `ruff` finds in generated/ later.
    """
    with tempfile.TemporaryDirectory(prefix="apigen-") as tmp:
        root = Path(tmp)
        for rel, text in files.items():
            target = root / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        for args in (["check", "--fix-only", "--exit-zero", "--quiet"], ["format", "--quiet"]):
            done = subprocess.run(
                [*_ruff(), *args, "."], cwd=root, capture_output=True, text=True, check=False
            )
            if done.returncode != 0:
                raise SpecError(
                    [
                        Problem(
                            Loc("<generated>"),
                            "",
                            "ruff failed on the generated "
                            f"code (a generator bug): {done.stderr.strip()}",
                        )
                    ]
                )
        return {rel: (root / rel).read_text(encoding="utf-8") for rel in files}
