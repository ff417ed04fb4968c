"""Stage 7: ruff format and ruff check --fix, once, over the whole rendered tree."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from generator import cache


class GeneratedCodeError(RuntimeError):
    """The generated code is not valid Python: a bug of the generator, not of the spec."""


# What ruff formats: Python, and the Python blocks of Markdown.
_RUFF_FILES = (".py", ".pyi", ".md")


def _ruff() -> list[str]:
    # The ruff installed with this interpreter's packages, so the pinned version is what runs;
    # its binary directly, which saves an interpreter start per call.
    from ruff.__main__ import find_ruff_bin

    return [find_ruff_bin()]


def stage_key() -> tuple[str | bytes, ...]:
    """What every result of this stage depends on besides its input (for callers' caches)."""
    return cache.stage_inputs(__file__, "ruff")


def _digest(files: dict[str, str], rel: str, rules: str = "") -> str:
    """Everything ruff's answer for one file depends on: ruff, its settings, path and content."""
    package_config = files.get(f"{rel.split('/')[0]}/pyproject.toml", "")
    return cache.key(*stage_key(), package_config, rules, rel, files[rel])


def remember_formatted(files: dict[str, str], rel: str) -> None:
    """Record that files[rel] is already what format_tree would make of it, so that a later
    format_tree skips it. Only the cache holds the claim: a run without the cache formats the
    file again, which is how the tests check every such claim against ruff."""
    digest = _digest(files, rel)
    if not cache.has("format", digest):
        cache.put("format", digest, files[rel])


def format_tree(files: dict[str, str], only_rules: str = "") -> dict[str, str]:
    """Return the files after `ruff check --fix` then `ruff format` (Python files and Python
    blocks in Markdown); files ruff leaves alone come back unchanged. `only_rules` replaces the
    package's rule selection (the models stage sorts a block of imports with "I" alone).

    The tree is formatted in a scratch folder, with each package's own pyproject.toml (ruff
    settings) at its root, so that the result is what `ruff` finds in generated/ later. Only
    files the cache has not seen go through ruff.
    """
    ours = [rel for rel in files if rel.endswith(_RUFF_FILES)]
    digests = {rel: _digest(files, rel, only_rules) for rel in ours}
    result = {rel: cache.get("format", digests[rel]) if rel in digests else text
              for rel, text in files.items()}
    todo = sorted(rel for rel, text in result.items() if text is None)
    if not todo:
        return {rel: text for rel, text in result.items() if text is not None}
    with tempfile.TemporaryDirectory(prefix="apigen-") as tmp:
        root = Path(tmp)
        # Every file ruff reads, settings included; others (openapi.json) are not its business.
        for rel in [*ours, *(r for r in files if r.endswith("pyproject.toml"))]:
            text = files[rel]
            target = root / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        check = ["check", "--fix-only", "--exit-zero"]
        if only_rules:  # instead of the package's own selection
            check += ["--select", only_rules]
        for args in (check, ["format"]):
            done = subprocess.run(
                [*_ruff(), *args, *todo], cwd=root, capture_output=True, text=True, check=False
            )
            if done.returncode != 0:  # the spec was accepted: what failed is the generator
                detail = (done.stderr or done.stdout).strip() or f"exit {done.returncode}"
                raise GeneratedCodeError(f"ruff {args[0]} failed on the generated code: {detail}")
        for rel in todo:
            formatted = (root / rel).read_text(encoding="utf-8")
            cache.put("format", digests[rel], formatted)
            result[rel] = formatted
    return {rel: text for rel, text in result.items() if text is not None}
