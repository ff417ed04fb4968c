"""The shape of the code, read with `ast`: no import cycle, no reaching into another module's
private names, no API named where the code must stay generic.

Import cycles are looked for among the modules of generator/ and emulator/ (one graph: the
emulator imports the generator). Every import of a module counts, wherever it stands:

- `if TYPE_CHECKING:` imports count. They never run, but they say that one module's meaning
  depends on the other's; two modules that need each other's names cannot be read, moved or
  tested one without the other, which is what a cycle costs whether or not Python trips on it.
- Imports inside a function count too: deferring an import hides a cycle from the interpreter,
  not from the reader.

Importing `a.b.c` also runs the `__init__` of `a` and `a.b`, so it depends on those packages
as well, except on the packages the importer itself lives in (a package's `__init__` may import
its own submodules, and they may import each other by full name).

A private name is one with a single leading underscore (`_token`, not `__version__`). Another
module's private name is one reached by `from x import _y`, `import x._y` or `x._y` where `x` is
a module; checked in generator/, emulator/ and specs/*/emulator/."""

from __future__ import annotations

import ast
import importlib.util
import re
import sys
from collections.abc import Iterator
from pathlib import Path

from emulator.data import load_api
from generator.templates import runtime_files
from tests.conftest import ROOT

PACKAGES = ("generator", "emulator")
API_NAMES = re.compile(r"powerclerk|e-?builder", re.IGNORECASE)


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _sources(*folders: str) -> Iterator[Path]:
    for folder in folders:
        yield from sorted((ROOT / folder).rglob("*.py"))


def _spec_hooks() -> Iterator[Path]:
    yield from sorted(ROOT.glob("specs/*/emulator/*.py"))


def _is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def _absolute(path: Path, node: ast.ImportFrom) -> str:
    """The module a `from … import` names, relative imports resolved against `path`."""
    if not node.level:
        return node.module or ""
    base = _module_name(path).split(".")
    if not _is_package(path):
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError, AttributeError):
        return False


def _imported_modules(path: Path, tree: ast.Module) -> Iterator[str]:
    """Every module `path` imports (a `from m import n` imports m.n when n is a module)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = _absolute(path, node)
            yield module
            for alias in node.names:
                if _is_module(f"{module}.{alias.name}"):
                    yield f"{module}.{alias.name}"


def _import_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in _sources(*PACKAGES):
        importer = _module_name(path)
        own = {".".join(importer.split(".")[:n]) for n in range(1, importer.count(".") + 2)}
        if not _is_package(path):
            own.discard(importer)
        edges = graph.setdefault(importer, set())
        for module in _imported_modules(path, ast.parse(path.read_text(encoding="utf-8"))):
            parts = module.split(".")
            if parts[0] not in PACKAGES:
                continue
            for n in range(1, len(parts) + 1):
                target = ".".join(parts[:n])
                if target not in own and target != importer:
                    edges.add(target)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle (as a path that returns to its start) per strongly connected component of
    more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(_loop(graph, sorted(component)))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _loop(graph: dict[str, set[str]], component: list[str]) -> list[str]:
    """A path from the component's first module back to itself, for the failure message."""
    start, members = component[0], set(component)
    paths = {start: [start]}
    todo = [start]
    while todo:
        node = todo.pop(0)
        for target in sorted(graph.get(node, set()) & members):
            if target == start:
                return [*paths[node], start]
            if target not in paths:
                paths[target] = [*paths[node], target]
                todo.append(target)
    return component


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _private_reaches(path: Path) -> Iterator[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    modules: dict[str, str] = {}  # local name -> the module it is bound to
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if any(_private(part) for part in alias.name.split(".")):
                    yield f"line {node.lineno}: import {alias.name}"
                if alias.asname:
                    modules[alias.asname] = alias.name
                else:
                    head = alias.name.split(".")[0]
                    modules[head] = head
        elif isinstance(node, ast.ImportFrom):
            module = _absolute(path, node)
            if any(_private(part) for part in module.split(".")):
                yield f"line {node.lineno}: from {module} import …"
            for alias in node.names:
                if _private(alias.name):
                    yield f"line {node.lineno}: from {module} import {alias.name}"
                elif _is_module(f"{module}.{alias.name}"):
                    modules[alias.asname or alias.name] = f"{module}.{alias.name}"
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _private(node.attr):
            module = _dotted(node.value, modules)
            if module is not None and _is_module(module):
                yield f"line {node.lineno}: {module}.{node.attr}"


def _dotted(node: ast.expr, modules: dict[str, str]) -> str | None:
    """The module an expression like `a.b` names, if its root is a name bound to a module."""
    if isinstance(node, ast.Name):
        return modules.get(node.id)
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value, modules)
        return f"{base}.{node.attr}" if base is not None else None
    return None


def test_no_import_cycle():
    graph = _import_graph()
    assert "generator.model.ir" in graph and "emulator.app" in graph  # the walk found the code
    assert "generator.model.ir" in graph["emulator.app"]  # and reads its imports
    cycles = [" -> ".join(cycle) for cycle in _cycles(graph)]
    assert cycles == []


def test_the_cycle_finder_finds_cycles():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"e2"}, "e2": set()}
    assert _cycles(graph) == [["a", "b", "c", "a"]]


def test_no_module_reaches_into_another_modules_private_names():
    found = [
        f"{path.relative_to(ROOT)} {reach}"
        for path in [*_sources(*PACKAGES), *_spec_hooks()]
        for reach in _private_reaches(path)
    ]
    assert found == []


def test_private_reaches_are_recognised(tmp_path):
    source = tmp_path / "sample.py"
    source.write_text(
        "import generator.model.ir as ir\n"
        "from generator import cache\n"
        "from generator.model.ir import _x\n"
        "import os\n"
        "cache._key\n"
        "ir._private\n"
        "os.path._joinrealpath\n"
        "self = object()\n"
        "self._mine\n"
        "cache.__doc__\n",
        encoding="utf-8",
    )
    assert [reach.split(": ", 1)[1] for reach in _private_reaches(source)] == [
        "from generator.model.ir import _x",
        "generator.cache._key",
        "generator.model.ir._private",
        "os.path._joinrealpath",
    ]


def test_generic_code_names_no_api():
    """Nothing in generator/ or templates/ names an API; nothing in emulator/*.py names an API,
    an operation or a model of either spec: what is particular to one API lives in
    specs/<api>/."""
    api_names: set[str] = set()
    names: set[str] = set()
    for api_dir in sorted((ROOT / "specs").glob("*/api.yaml")):
        api = load_api(api_dir.parent)
        api_names |= {api.name, api.title.split()[0]}
        names |= {op.wire_name for op in api.operations} | {m.name for m in api.models}
    generic = re.compile(
        "|".join([API_NAMES.pattern, *(re.escape(n) for n in sorted(api_names))]), re.IGNORECASE)
    found = []
    for folder in ("generator", "templates", "emulator"):
        for source in sorted((ROOT / folder).rglob("*")):
            if not source.is_file() or "__pycache__" in source.parts:
                continue
            text = source.read_text(encoding="utf-8")
            where = source.relative_to(ROOT)
            found += [f"{where}: {m[0]}" for m in generic.finditer(text)]
            if folder == "emulator":
                found += [f"{where}: {name}" for name in sorted(names)
                          if re.search(rf"(?<![\w.]){re.escape(name)}(?!\w)", text)]
    assert found == []


def test_the_model_module_every_package_copies_needs_only_the_standard_library():
    """generator/model/runtime_spec.py becomes each package's `_spec.py` (generator/templates.py):
    a generated package must import no generator code, nor anything it does not depend on."""
    source = ROOT / "generator" / "model" / "runtime_spec.py"
    assert runtime_files()["_spec.py"] == source
    tree = ast.parse(source.read_text(encoding="utf-8"))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module or "" for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and not node.level}
    relative = [node.module for node in ast.walk(tree)
                if isinstance(node, ast.ImportFrom) and node.level]
    assert "dataclasses" in imported  # the walk read the imports
    assert relative == []
    assert sorted(m for m in imported if m.split(".")[0] not in sys.stdlib_module_names) == []
