"""How spec text lands in generated files: one rule per place, applied to every `{{ }}` of the
templates. Templates run with autoescaping on and a `finalize` hook, so a spec string that a
template prints without a filter is escaped for the file it lands in; only what a filter marks
as code (`Markup`: a Python literal, a type expression, a macro's output) is printed as is.

Python files: a plain string is escaped so that it is inert inside a triple-quoted docstring
(and unchanged when it is a valid identifier); literals go through `python_literal`.
Markdown files: a plain string cannot open raw HTML, a code fence or a new block."""

from __future__ import annotations

import dataclasses
import json
import math
import re
import unicodedata
from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context, Undefined
from markupsafe import Markup

from generator.model import runtime_spec

# Characters that must not appear raw in a source file: controls (NUL, CR, form feed...),
# line and paragraph separators, format characters (bidi overrides: "Trojan Source"), lone
# surrogates (not encodable as UTF-8). Tabs and newlines are text.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_TEXT_CONTROLS = frozenset("\n\t")


def _unsafe(char: str) -> bool:
    return char not in _TEXT_CONTROLS and unicodedata.category(char) in _UNSAFE_CATEGORIES


def _all_safe(text: str) -> bool:
    """No character of `text` is unsafe: `isprintable` is false for every unsafe category (and
    for a few safe ones, which then take the slow path)."""
    return text.replace("\n", "").replace("\t", "").isprintable()


def _escaped(char: str) -> str:
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def docstring_text(text: str) -> str:
    """`text` as the source of the inside of a non-raw triple-quoted string: Python reads it
    back as exactly `text`. Backslashes are doubled, unsafe characters become escapes, and a
    double quote is escaped at either end and in a run of three or more, so no quote run can
    close the string whatever the template puts around it."""
    if '"' not in text and "\\" not in text and _all_safe(text):
        return text  # most prose: nothing to escape
    runs = {m.start(): m.end() for m in re.finditer(r'"{3,}', text)}
    out = []
    last, run_end = len(text) - 1, -1
    for i, char in enumerate(text):
        run_end = runs.get(i, run_end)
        if char == "\\":
            out.append("\\\\")
        elif char == '"' and (i in (0, last) or i < run_end):
            out.append('\\"')
        elif _unsafe(char):
            out.append(_escaped(char))
        else:
            out.append(char)
    return "".join(out)


def docstring(text: str) -> Markup:
    """The `doc` filter: spec prose inside a docstring, without surrounding blank space."""
    return Markup(docstring_text(text.strip()))


def python_literal(value: Any) -> Markup:
    """The `py` filter: a Python literal that evaluates to `value`. Only plain data has one (a
    YAML date, a non-finite float or an object would print code that is not a literal), and
    the classes a package shares with the model (model/runtime_spec): one of those prints as
    its constructor call, every field by keyword in field order but the `MODEL_ONLY` ones, so
    that a new field needs no template edit."""
    return Markup(_literal(value))


def _literal(value: Any) -> str:
    if value is None or isinstance(value, bool | int | str):
        return repr(value)  # repr of str escapes quotes, backslashes and non-printables
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value!r} has no Python literal")
        return repr(value)
    if isinstance(value, tuple):
        inner = ", ".join(_literal(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, list):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_literal(k)}: {_literal(v)}" for k, v in value.items()) + "}"
    if dataclasses.is_dataclass(value) and type(value).__module__ == runtime_spec.__name__:
        arguments = ", ".join(
            f"{f.name}={_literal(getattr(value, f.name))}"
            for f in dataclasses.fields(value)
            if not f.metadata.get(runtime_spec.MODEL_ONLY)
        )
        return f"{type(value).__name__}({arguments})"
    raise ValueError(f"a {type(value).__name__} value has no Python literal: {value!r}")


def code(value: Any) -> Markup:
    """Mark text a generator helper built from checked parts (identifiers, type expressions)."""
    return Markup(str(value))


def _scalar(value: Any) -> str | None:
    """Numbers, booleans and None as templates print them ('None', 'True', '60', '1.5')."""
    if value is None or isinstance(value, bool | int):
        return str(value)
    if isinstance(value, float):
        return _literal(value)
    return None


_HTML = str.maketrans({"<": "&lt;"})
# A line of spec text that would open a code fence (whose content ruff would then format).
_FENCE = re.compile(r"^([ \t]*)(`{3}|~{3})", re.MULTILINE)


def _visible(text: str) -> str:
    if _all_safe(text):
        return text
    return "".join(_escaped(c) if _unsafe(c) else c for c in text)


def markdown_text(text: str) -> str:
    """Spec prose in Markdown: its inline formatting is kept (descriptions are Markdown), but
    it cannot open raw HTML or a code fence, and holds no unsafe characters."""
    return _FENCE.sub(lambda m: f"{m[1]}\\{m[2]}", _visible(text).translate(_HTML))


def markdown_inline(text: str) -> Markup:
    """The `md_inline` filter: spec text inside one line (a heading, a list item, a table
    cell): whitespace runs become one space, and `|` cannot end a table cell."""
    return Markup(markdown_text(" ".join(text.split())).replace("|", "\\|"))


def markdown_code(text: str) -> Markup:
    """The `md_code` filter: text shown as an inline code span, whatever backticks it holds."""
    flat = " ".join(_visible(text).split())
    longest = max((len(run) for run in re.findall(r"`+", flat)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") or longest else ""
    return Markup(f"{fence}{pad}{flat}{pad}{fence}")


def toml_text(text: str) -> str:
    """Spec text inside a TOML basic string (`"..."`): JSON's escapes are TOML's."""
    return json.dumps(text, ensure_ascii=False)[1:-1].replace("\x7f", "\\u007f")


# The rule for plain text, by the kind of file a template renders.
_TEXT_RULES = {".py.jinja": docstring_text, ".md.jinja": markdown_text, ".toml.jinja": toml_text}


@pass_context
def finalize(context: Context, value: Any) -> Markup:
    """The environment's hook, on every `{{ }}`: code marked by a filter as is, plain text by
    the rule of the kind of file the template renders, numbers and booleans as Python spells
    them; anything else is a template bug."""
    if isinstance(value, Markup):
        return value
    if isinstance(value, Undefined):  # `{{ x if y }}` when not y; a strict one raises here
        return Markup(str(value))
    name = context.name or ""
    if isinstance(value, str):
        rule = next((r for suffix, r in _TEXT_RULES.items() if name.endswith(suffix)), None)
        if rule is None:
            raise ValueError(f"no escaping rule for the text of template {name!r}")
        return Markup(rule(value))
    scalar = _scalar(value)
    if scalar is None:
        raise TypeError(f"{name} printed a {type(value).__name__} without a filter")
    return Markup(scalar)
