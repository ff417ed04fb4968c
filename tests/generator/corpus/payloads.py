"""Hostile text planted in every free-text string of the spec language: the places come from
the meta-schema (generator/spec/spec.schema.json), so a new field is planted as soon as it
exists."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
META_SCHEMA = json.loads(
    (ROOT / "generator" / "spec" / "spec.schema.json").read_text(encoding="utf-8"))


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = META_SCHEMA["$defs"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def _free_text(node: dict[str, Any]) -> bool:
    """A string any text may fill: no pattern, enum, const or format narrows it."""
    node = _resolve(node)
    types = node.get("type")
    strings = types == "string" or (isinstance(types, list) and "string" in types)
    if "oneOf" in node or "anyOf" in node:
        return any(_free_text(alt) for alt in node.get("oneOf", node.get("anyOf", [])))
    return strings and not ({"pattern", "enum", "const"} & set(node))


def free_text_places() -> tuple[set[str], set[str]]:
    """(property names whose value may be free text, names of mappings whose keys may be)."""
    values: set[str] = set()
    keys: set[str] = set()
    seen: set[int] = set()

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
            return
        if not isinstance(node, dict) or id(node) in seen:
            return
        seen.add(id(node))
        for name, prop in node.get("properties", {}).items():
            target = _resolve(prop)
            if _free_text(prop) or (
                target.get("type") == "array" and _free_text(target.get("items", {}))
            ):
                values.add(name)
            names, more = target.get("propertyNames"), target.get("additionalProperties")
            if target.get("type") == "object" and isinstance(more, dict):
                if names is None or _free_text(names):
                    keys.add(name)
                if _free_text(more):  # a mapping of texts
                    values.add(name)
        for value in node.values():
            walk(value)
        if "$ref" in node:
            walk(_resolve(node))

    walk(META_SCHEMA)
    return values, keys


def payload(n: int, canary: Path) -> str:
    """Text that would run code, break a literal, a docstring, a comment, Markdown or a
    template if any of them took it in raw; `P<n>:` tells the places apart."""
    run = f'__import__("pathlib").Path({str(canary)!r}).touch()'
    return (
        f'P{n}: """; {run} #\' \'\'\'); {run} # \\ \\x41 \\N{{BEL}} {{{{ 7*7 }}}} {{% if 1 %}}'
        f" </script><script>x</script> `x` | a\n```python\n{run}\n```\n# {run}\n"
        f'\x00\x1b\r\u2028\u2029\u202e\ufeff end"'
    )


Place = tuple[str, tuple[Any, ...], bool]  # file, path of keys, is a mapping key


def places(data: Any, values: set[str], keys: set[str], path: tuple[Any, ...] = ()
           ) -> Iterator[tuple[tuple[Any, ...], bool]]:
    """Every free-text value (path, False) and free mapping key (path, True) in a document."""
    if isinstance(data, dict):
        for key, value in data.items():
            here = (*path, key)
            if path and path[-1] in keys and isinstance(key, str):
                yield here, True
            if path and path[-1] in values and isinstance(value, str):  # a mapping of texts
                yield here, False
            elif key in values and isinstance(value, str):
                yield here, False
            elif key in values and isinstance(value, list):
                for i, item in enumerate(value):
                    if isinstance(item, str):
                        yield (*here, i), False
            yield from places(value, values, keys, here)
    elif isinstance(data, list):
        for i, item in enumerate(data):
            yield from places(item, values, keys, (*path, i))


def plant(data: Any, path: tuple[Any, ...], is_key: bool, text: str) -> None:
    """Replace the value (or rename the key) at `path` in place, keeping the key order."""
    parent = data
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    if not is_key:
        parent[last] = text
        return
    items = list(parent.items())
    parent.clear()
    for key, value in items:
        parent[text if key == last else key] = value
