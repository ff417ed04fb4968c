"""Colour for apigen's messages: on a terminal only, never when NO_COLOR is set
(https://no-color.org) or TERM is dumb; FORCE_COLOR asks for it where no terminal is."""

from __future__ import annotations

import os
from typing import TextIO

_STYLES = {"error": "1;31", "warning": "33", "ok": "32", "place": "1"}


def colour_enabled(stream: TextIO) -> bool:
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def paint(text: str, style: str, stream: TextIO) -> str:
    """`text` in `style` (error, warning, ok, place) when `stream` shows colour."""
    if not colour_enabled(stream):
        return text
    return f"\x1b[{_STYLES[style]}m{text}\x1b[0m"
