"""Stage 7: ruff format and ruff check --fix, once, over the whole rendered tree."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from generator import cache
from generator.codegen import wrap


class GeneratedCodeError(RuntimeError):
    """The generated code is not valid Python: a bug of the generator, not of the spec."""


# What ruff formats: Python, and the Python blocks of Markdown.
_RUFF_FILES = (".py", ".pyi", ".md")


def _ruff_command() -> list[str]:
    # The ruff installed with this interpreter's packages, so the pinned version is what runs;
    # its binary directly, which saves an interpreter start per call.
    from ruff.__main__ import find_ruff_bin

    return [find_ruff_bin()]


# Ruff's answer for one file: what it depends on is the argument list `_call` makes.
# The code ruff's answer for a file also depends on: this module and the wrapping after ruff.
CODE = (__file__, wrap.__file__)
_FORMATTED = cache.Stage("format", CODE, ["ruff"])


def _call(files: dict[str, str], rel: str, rules: str) -> tuple[str, str, str, str]:
    """(package settings, rules, path, text): all that ruff's answer for one file reads. The
    package is the top folder of `rel`, its settings the pyproject.toml there."""
    package = rel.split("/")[0]
    return files.get(f"{package}/pyproject.toml", ""), rules, rel, files[rel]


def format_tree(files: dict[str, str], only_rules: str = "") -> dict[str, str]:
    """Return the files after `ruff check --fix` then `ruff format` (Python files and Python
    blocks in Markdown); files ruff leaves alone come back unchanged. `only_rules` replaces the
    package's rule selection (the models stage sorts a block of imports with "I" alone).

    Only the files the cache lacks go through ruff, all in one call (see `_ruff`).
    """
    ours = [rel for rel in files if rel.endswith(_RUFF_FILES)]
    batch = _FORMATTED.batch(_call(files, rel, only_rules) for rel in ours)
    formatted = dict(zip(ours, batch.complete(_ruff(batch.missing, only_rules)), strict=True))
    return {rel: formatted.get(rel, text) for rel, text in files.items()}


def _ruff(calls: list[tuple[str, str, str, str]], rules: str) -> list[str]:
    """Ruff on each (settings, rules, path, text), in a scratch folder laid out as in
    generated/: each package's pyproject.toml (ruff settings) at its root and its __init__.py
    (without it, ruff sorts the package's own imports as third-party), so that the result is
    what `ruff` finds in generated/ later, and depends on nothing but the call."""
    if not calls:
        return []
    with tempfile.TemporaryDirectory(prefix="apigen-") as tmp:
        root = Path(tmp)
        frame = {}
        for settings, _, rel, _ in calls:
            package = rel.split("/")[0]
            frame[f"{package}/pyproject.toml"] = settings
            frame[f"{package}/{package}/__init__.py"] = ""
        for path, content in (frame | {rel: text for _, _, rel, text in calls}).items():
            target = root / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content, encoding="utf-8")
        todo = [rel for _, _, rel, _ in calls]
        check = ["check", "--fix-only", "--exit-zero"]
        if rules:  # instead of the package's own selection
            check += ["--select", rules]
        _run(root, check, todo)
        _run(root, ["format"], todo)
        # Text ruff does not wrap (docstrings, long string literals), then ruff once more for
        # the layout of the split literals.
        wrapped = []
        for rel in todo:
            if rel.endswith(".py"):
                text = (root / rel).read_text(encoding="utf-8")
                if (new := wrap.wrap_python(text)) != text:
                    (root / rel).write_text(new, encoding="utf-8")
                    wrapped.append(rel)
        if wrapped:
            _run(root, ["format"], wrapped)
        return [(root / rel).read_text(encoding="utf-8") for rel in todo]


def _run(root: Path, args: list[str], files: list[str]) -> None:
    done = subprocess.run(
        [*_ruff_command(), *args, *files], cwd=root, capture_output=True, text=True, check=False,
    )
    if done.returncode != 0:  # the spec was accepted: what failed is the generator
        detail = (done.stderr or done.stdout).strip() or f"exit {done.returncode}"
        raise GeneratedCodeError(f"ruff {args[0]} failed on the generated code: {detail}")
