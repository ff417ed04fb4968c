"""Generated Python within the line length: ruff wraps code but not text, so after it has
formatted a file, a docstring line that is too long is re-wrapped at its spaces and a string
literal that is too long becomes an implicit concatenation of parts, which ruff then lays out
one per line. Nothing else changes: a word longer than the line (a URL) stays whole."""

from __future__ import annotations

import ast
import io
import re
import textwrap
import tokenize

WIDTH = 100
# A string literal shorter than this is left alone: splitting it would not save the line.
_SHORTEST_SPLIT = 40
_PIECE = re.compile(r"\S+\s*|\s+")  # a word and the blanks after it
_SLASHED = re.compile(r"[^/]+/?|/")  # up to and with a slash


def _long(line: str) -> bool:
    return len(line.rstrip("\r\n")) > WIDTH


def wrap_python(source: str) -> str:
    """`source` with its too-long text lines wrapped (unchanged when none is too long)."""
    lines = source.splitlines(keepends=True)
    if not any(_long(line) for line in lines):
        return source
    tree = ast.parse(source)
    docstrings = _docstring_lines(tree)
    _split_strings(tree, lines, docstrings)
    for number in sorted(docstrings, reverse=True):
        if _long(lines[number]):
            lines[number] = _wrapped(lines[number], docstrings[number])
    return "".join(lines)


def _docstring_lines(tree: ast.Module) -> dict[int, int]:
    """Each line (0-based) of a docstring, or of a string standing alone as a statement (an
    attribute's docstring), with the indentation of its string."""
    found: dict[int, int] = {}
    for node in ast.walk(tree):
        if (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
                and isinstance(node.value.value, str) and node.end_lineno is not None):
            for number in range(node.lineno - 1, node.end_lineno):
                found[number] = node.col_offset
    return found


def _wrapped(line: str, base: int) -> str:
    """One docstring line as several: continuation lines keep its indentation, or hang four
    further for an indented entry (`name: text` under `Args:`)."""
    body = line.rstrip("\r\n")
    ending = line[len(body):]
    indent = body[: len(body) - len(body.lstrip())]
    hanging = indent + "    " if len(indent) > base else indent
    parts = textwrap.wrap(
        body.strip(), WIDTH, initial_indent=indent, subsequent_indent=hanging,
        break_long_words=False, break_on_hyphens=False,
    )
    return "\n".join(parts) + ending


def _split_strings(tree: ast.Module, lines: list[str], docstrings: dict[int, int]) -> None:
    """Replace, in place, each long plain string literal on a long line by a parenthesized
    implicit concatenation of parts that fit the line once ruff has laid them out."""
    edits: list[tuple[int, int, int, str]] = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
            continue
        number = node.lineno - 1
        if (node.end_lineno != node.lineno or number in docstrings or not _long(lines[number])
                or node.end_col_offset is None):
            continue
        encoded = lines[number].encode("utf-8")
        start = len(encoded[: node.col_offset].decode("utf-8"))
        end = len(encoded[: node.end_col_offset].decode("utf-8"))
        literal = lines[number][start:end]
        if len(literal) < _SHORTEST_SPLIT or not _plain_literal(literal):
            continue
        indent = len(lines[number]) - len(lines[number].lstrip())
        parts = _parts(node.value, WIDTH - indent - 8)
        if len(parts) == 1:  # it fits on a line of its own, but ruff keeps it after its key
            parts = _parts(node.value, len(literal) // 2 + 2)
        if len(parts) > 1:
            edits.append((number, start, end, "(" + " ".join(map(repr, parts)) + ")"))
    for number, start, end, text in sorted(edits, reverse=True):
        lines[number] = lines[number][:start] + text + lines[number][end:]


def _plain_literal(text: str) -> bool:
    """One string token without a prefix (not raw, bytes or an f-string)."""
    try:
        tokens = [t for t in tokenize.generate_tokens(io.StringIO(text).readline)
                  if t.type not in (tokenize.NEWLINE, tokenize.ENDMARKER)]
    except tokenize.TokenError:
        return False
    return len(tokens) == 1 and tokens[0].type == tokenize.STRING and text[0] in "'\""


def _parts(value: str, room: int) -> list[str]:
    """`value` cut into pieces whose literal fits in `room` characters: after blanks, after
    slashes within a piece still too long (a path), and anywhere within one still too long (a
    pattern): the parts' concatenation is `value` whatever the cut."""
    pieces = []
    for piece in _PIECE.findall(value):
        for cut in _SLASHED.findall(piece) if len(repr(piece)) > room else [piece]:
            size = max(1, room - 2 - cut.count("\\") - cut.count("'"))  # escapes widen a literal
            pieces += [cut[i : i + size] for i in range(0, len(cut), size)]
    parts: list[str] = []
    current = ""
    for piece in pieces:
        if current and len(repr(current + piece)) > room:
            parts.append(current)
            current = ""
        current += piece
    if current:
        parts.append(current)
    return parts
