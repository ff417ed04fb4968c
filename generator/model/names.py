"""Identifier rules. Every name a template prints passes through here, so an invalid one
(a keyword, a leading digit, punctuation from a hostile schema) can never reach the output."""

from __future__ import annotations

import functools
import keyword
import re
import unicodedata

_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NON_WORD = re.compile(r"[^0-9a-zA-Z]+")
# Names that would shadow something a generated class or module relies on.
_RESERVED = (
    frozenset(keyword.kwlist)
    | frozenset(keyword.softkwlist)
    | {
        "self",
        "cls",
        "model_config",
        "model_fields",
        "json",
        "copy",
        "dict",
        "schema",
    }
)


def _ascii_words(name: str) -> list[str]:
    text = unicodedata.normalize("NFKD", name)
    text = text.replace("ß", "ss").encode("ascii", "ignore").decode()
    return [w for w in _NON_WORD.split(_BOUNDARY.sub("_", text)) if w]


@functools.cache  # pure, and called for every field of every model
def snake(name: str, fallback: str = "field") -> str:
    """`CurrentStatus` -> `current_status`; `GPP / JV Firm?` -> `gpp_jv_firm`; `if` -> `if_`."""
    words = _ascii_words(name)
    ident = "_".join(w.lower() for w in words) or fallback
    if ident[0].isdigit():
        ident = f"{fallback}_{ident}"
    return f"{ident}_" if ident in _RESERVED else ident


@functools.cache
def pascal(name: str, fallback: str = "Model") -> str:
    """`commitments` -> `Commitments`; `inquiry_threads` -> `InquiryThreads`."""
    words = _ascii_words(name)
    ident = "".join(w[:1].upper() + w[1:] for w in words) or fallback
    return f"{fallback}{ident}" if ident[0].isdigit() else ident


# A model's TypedDict (the dict form of a request body) is the model's name with this suffix.
TYPED_DICT_SUFFIX = "Param"


def helper_dict_name(resource: str, method: str) -> str:
    """The TypedDict of the fields a file helper method (`upload_file`) takes beside the file:
    `DocumentsUploadFileParam`."""
    return pascal(f"{resource}_{method}") + TYPED_DICT_SUFFIX

# Builtins that generated annotations name (`str | None`, `list[Item]`). A method of that name
# is spelled around (generator/codegen/render.py); a field of that name is renamed by the models
# generator, so a derived field name takes a trailing `_` instead, as a keyword does.
BUILTIN_TYPES = frozenset({"bool", "bytes", "dict", "float", "int", "list", "str"})


def field_name(wire: str) -> str:
    """The Python attribute derived from a field's wire name: `Str` -> `str_`, `Owner` ->
    `owner`."""
    name = snake(wire)
    return f"{name}_" if name in BUILTIN_TYPES else name


def is_identifier(name: str) -> bool:
    return name.isidentifier() and name.isascii() and name not in _RESERVED
