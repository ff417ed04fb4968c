"""The one error type every stage raises for bad input: it always names a place and a rule."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Loc:
    """A position in a spec file (1-based line and column, as editors show them)."""

    file: str
    line: int = 0
    col: int = 0

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}" if self.line else self.file


@dataclass(frozen=True)
class Problem:
    loc: Loc
    key: str
    message: str

    def __str__(self) -> str:
        return self.format()

    def format(self, paint: Callable[[str, str], str] = lambda text, _style: text) -> str:
        """The one-line form; `paint(text, style)` may colour the place ("place") and the
        word error ("error")."""
        where = f" at '{_one_line(self.key)}'" if self.key else ""
        return f"{paint(str(self.loc), 'place')}: {paint('error', 'error')}{where}: " \
            f"{_one_line(self.message)}"


def _one_line(text: str) -> str:
    """Spec text inside an error line: line breaks and other controls shown as escapes, so
    every problem stays one line whatever a key holds."""
    return "".join(
        char if char.isprintable() or char == " " else char.encode("unicode_escape").decode()
        for char in text
    )


class SpecError(Exception):
    """One or more problems in a spec; `generate` prints one line per problem and exits 2."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems, key=lambda p: (p.loc, p.key, p.message))
        super().__init__("\n".join(str(p) for p in self.problems))
