"""Stage 7: ruff format and ruff check --fix, once, over the whole rendered tree."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from generator import cache
from generator.errors import Loc, Problem, SpecError


def _ruff() -> list[str]:
    # The ruff installed with this interpreter's packages, so the pinned version is what runs;
    # its binary directly, which saves an interpreter start per call.
    from ruff.__main__ import find_ruff_bin

    return [find_ruff_bin()]


def _digest(files: dict[str, str], rel: str) -> str:
    """Everything ruff's answer for one file depends on: ruff, its settings, path and content."""
    package_config = files.get(f"{rel.split('/')[0]}/pyproject.toml", "")
    return cache.key(*cache.stage_inputs(__file__, "ruff"), package_config, rel, files[rel])


def format_tree(files: dict[str, str]) -> dict[str, str]:
    """Return the files after `ruff check --fix` then `ruff format` (Python files and Python
    blocks in Markdown); files ruff leaves alone come back unchanged.

    The tree is formatted in a scratch folder, with each package's own pyproject.toml (ruff
    settings) at its root, so that the result is what `ruff` finds in generated/ later. Only
    files the cache has not seen go through ruff.
    """
    digests = {rel: _digest(files, rel) for rel in files}
    result = {rel: cache.get("format", digests[rel]) for rel in files}
    todo = sorted(rel for rel, text in result.items() if text is None)
    if not todo:
        return {rel: text for rel, text in result.items() if text is not None}
    with tempfile.TemporaryDirectory(prefix="apigen-") as tmp:
        root = Path(tmp)
        for rel, text in files.items():
            target = root / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        for args in (["check", "--fix-only", "--exit-zero", "--quiet"], ["format", "--quiet"]):
            done = subprocess.run(
                [*_ruff(), *args, *todo], cwd=root, capture_output=True, text=True, check=False
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
        for rel in todo:
            formatted = (root / rel).read_text(encoding="utf-8")
            cache.put("format", digests[rel], formatted)
            result[rel] = formatted
    return {rel: text for rel, text in result.items() if text is not None}
