"""codegen/wrap: long docstring lines and string literals of generated Python fit 100 columns,
and the code means exactly what it meant."""

from __future__ import annotations

import ast

from generator.codegen.format import format_tree
from generator.codegen.wrap import WIDTH, wrap_python

WORDS = " ".join(f"word{i}" for i in range(60))


def _docstrings(source: str) -> list[str]:
    return [
        " ".join(ast.get_docstring(node, clean=True).split())  # type: ignore[union-attr]
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef)
        and ast.get_docstring(node) is not None
    ]


def test_docstring_lines_are_wrapped_at_spaces_with_hanging_entries() -> None:
    source = (
        f'"""{WORDS}"""\n\n\n'
        "def f(name: str) -> None:\n"
        f'    """Summary {WORDS}\n\n'
        "    Args:\n"
        f"        name: {WORDS}\n"
        '    """\n'
    )
    out = wrap_python(source)
    assert max(map(len, out.splitlines())) <= WIDTH
    assert _docstrings(out) == _docstrings(source)
    lines = out.splitlines()
    entry = lines.index(next(line for line in lines if line.startswith("        name: ")))
    assert lines[entry + 1].startswith("            word")  # hangs under the entry
    assert wrap_python(out) == out


def test_a_long_string_literal_becomes_parts_that_ruff_lays_out() -> None:
    text = f"{WORDS} \"quoted\" and 'single' \\ back"
    source = f"VALUE = dict(source={text!r}, other=1)\n"
    out = format_tree({"pkg/pkg/mod.py": source})["pkg/pkg/mod.py"]
    assert max(map(len, out.splitlines())) <= WIDTH
    scope: dict[str, object] = {}
    exec(compile(out, "mod.py", "exec"), scope)
    assert scope["VALUE"] == {"source": text, "other": 1}


def test_a_literal_without_blanks_is_cut_anywhere_and_means_the_same() -> None:
    url = "https://example.com/" + "x\\'" * 60
    source = f"U = {url!r}\n"
    out = format_tree({"pkg/pkg/mod.py": source})["pkg/pkg/mod.py"]
    assert max(map(len, out.splitlines())) <= WIDTH
    scope: dict[str, object] = {}
    exec(compile(out, "mod.py", "exec"), scope)
    assert scope["U"] == url


def test_what_cannot_be_split_is_left_alone() -> None:
    url = "https://example.com/" + "x" * 120
    source = (
        f'X = f"{WORDS} {{1}}"\nY = r"{WORDS}"\nZ = b"{WORDS}"\n'
        f'def g():\n    """{url}"""\n'
    )
    assert wrap_python(source) == source
    assert wrap_python("x = 1\n") == "x = 1\n"
