"""Names of the generated surface that a spec must not take: read from the real objects (the
runtime modules, pydantic's BaseModel, the templates' own arguments and imports, the standard
library), so that the lists follow the code they protect."""

from __future__ import annotations

import ast
import builtins
import functools
import keyword
import re
import sys

from generator.model.scalars import SCALARS
from generator.templates import PACKAGE, runtime_files, runtime_source


def _class_members(tree: ast.Module, classes: set[str] | None = None) -> set[str]:
    """Methods, class attributes and `self.x` attributes of a module's classes."""
    names: set[str] = set()
    for node in tree.body:
        if not isinstance(node, ast.ClassDef) or (classes and node.name not in classes):
            continue
        for item in ast.walk(node):
            if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) and item in node.body:
                names.add(item.name)
            elif isinstance(item, ast.Attribute) and isinstance(item.value, ast.Name) and (
                item.value.id == "self" and isinstance(item.ctx, ast.Store)
            ):
                names.add(item.attr)
            elif isinstance(item, ast.AnnAssign | ast.Assign) and item in node.body:
                targets = [item.target] if isinstance(item, ast.AnnAssign) else item.targets
                names |= {t.id for t in targets if isinstance(t, ast.Name)}
    return names


def _top_level(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = [node.target] if isinstance(node, ast.AnnAssign) else node.targets
            names |= {t.id for t in targets if isinstance(t, ast.Name)}
    return names


@functools.cache
def runtime_names() -> frozenset[str]:
    """Everything the runtime modules define or import at top level (APIError, Operation...)."""
    return frozenset(
        n for module in runtime_files() for n in _top_level(ast.parse(runtime_source(module)))
    )


@functools.cache
def model_members() -> frozenset[str]:
    """Attributes of every generated model: pydantic's BaseModel and the runtime bases."""
    from pydantic import BaseModel

    return frozenset(n for n in dir(BaseModel) if not n.startswith("__")) | frozenset(
        _class_members(ast.parse(runtime_source("_base.py")))
    )


def shadows_model_member(name: str) -> bool:
    """pydantic also refuses every field in its `model_` namespace."""
    return name in model_members() or name.startswith("model_")


@functools.cache
def client_attributes() -> frozenset[str]:
    """Attributes of a generated client that a resource attribute would shadow: the runtime
    clients' and the ones the client template adds (`with_raw_response`, ...)."""
    clients = {"_BaseClient", "SyncAPIClient", "AsyncAPIClient"}
    template = (PACKAGE / "_client.py.jinja").read_text("utf-8")
    added = re.findall(r"^ {4}def ([A-Za-z_][A-Za-z0-9_]*)\(", template, re.MULTILINE)
    return frozenset(
        _class_members(ast.parse(runtime_source("_base_client.py")), clients) | set(added)
    )


def _resource_template() -> str:
    return (PACKAGE / "resources" / "resource.py.jinja").read_text("utf-8")


@functools.cache
def resource_imports() -> frozenset[str]:
    """Module-level names the resource template imports (a method of that name would shadow
    it in the annotations of the methods after it)."""
    text = _resource_template()
    imported = set(re.findall(r"^ {4}([A-Za-z_][A-Za-z0-9_]*),$", text, re.MULTILINE))
    for line in re.findall(r"^(?:from \S+ )?import (.+)$", text, re.MULTILINE):
        imported |= {n.strip() for n in line.split(",") if n.strip().isidentifier()}
    return frozenset(imported)


def _class_suffixes(template: str, owner: str) -> frozenset[str]:
    """What the classes a template generates for one owner (`resource.class_name`) append to
    its name: `""` for the class itself, `WithRawResponse`, ..."""
    text = (PACKAGE / template).read_text("utf-8")
    owner_name = re.escape("{{ " + owner + " }}")
    found = re.findall(r"^class (?:\{\{ prefix \}\}|Async)?" + owner_name + r"(\w*)[(:]",
                       text, re.MULTILINE)
    return frozenset(found)


@functools.cache
def resource_class_suffixes() -> frozenset[str]:
    """`<Resource><suffix>` and `Async<Resource><suffix>` are classes of every resource."""
    return _class_suffixes("resources/resource.py.jinja", "resource.class_name")


@functools.cache
def client_class_suffixes() -> frozenset[str]:
    """`<Client><suffix>` and `Async<Client><suffix>`: the clients and their views."""
    return _class_suffixes("_client.py.jinja", "api.client_class")


@functools.cache
def package_exports() -> frozenset[str]:
    """The names the package's `__init__` exports (`OPERATIONS`, `from_v1`, the exceptions)."""
    text = (PACKAGE / "__init__.py.jinja").read_text("utf-8")
    return frozenset(re.findall(r'^ {4}"([A-Za-z_][A-Za-z0-9_]*)",$', text, re.MULTILINE))


@functools.cache
def generated_arguments() -> frozenset[str]:
    """Argument names the resource template adds to methods, and the module-level names its
    method bodies use (a parameter of that name would shadow them)."""
    arguments = set(re.findall(r"^ {8}([a-z_][a-z0-9_]*):", _resource_template(), re.MULTILINE))
    return frozenset(arguments | resource_imports() | {"self", "cls"})


@functools.cache
def module_names() -> frozenset[str]:
    """Names a generated module may import or rely on: a model or class of that name would
    shadow them (typing, pydantic, datetime and decimal names, builtins, the runtime)."""
    import typing

    import pydantic

    annotations = {row.annotation for row in SCALARS.values() if row.module}  # Decimal, date…
    extra = {"time", "timedelta", "UUID", "Enum", "ApiRequestModel", "ApiResponseModel",
             "ApiOpenRequestModel", "types"}
    return (frozenset(typing.__all__) | frozenset(pydantic.__all__) | frozenset(dir(builtins))
            | runtime_names() | frozenset(annotations | extra))


@functools.cache
def dependencies() -> frozenset[str]:
    """Top-level packages a generated package imports besides the standard library."""
    text = (PACKAGE / "pyproject.toml.jinja").read_text("utf-8")
    found = re.findall(r'"([A-Za-z0-9_-]+)[<>=\[]', text)
    return frozenset(n.replace("-", "_").lower() for n in found) | {
        "pydantic_core", "typing_extensions", "annotated_types", "anyio", "httpcore"}


def package_name_problem(name: str) -> str:
    """Why an API name cannot be the generated package's import name ('' when it can)."""
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        return f"{name!r} is a Python keyword"
    if name in sys.stdlib_module_names:
        return f"{name!r} is a standard-library module; the package would shadow it"
    if name in dependencies():
        return f"{name!r} is a package the generated client depends on"
    return ""
