"""Stage 5: JSON Schema -> pydantic v2 source with datamodel-code-generator, called as a library
on content-defined chunks of an API's models, each cached on its own. Python names come from the
IR (scoped aliases), so templates and models agree."""

from __future__ import annotations

import ast
import hashlib
import json
import multiprocessing
import os
import re
import threading
import warnings
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from generator import cache
from generator.codegen import format as format_stage
from generator.codegen.format import format_tree
from generator.model.ir import Api, Model
from generator.model.schema import api_schema

_ROOT = "ApigenChunk"  # datamodel-code-generator always emits a root class; we drop it
# A chunk ends after a model whose name hashes to 0 modulo this: about 32 models a chunk.
_CHUNK_SPLIT = 32


def base_class(api: Api, model: Model) -> str:
    """Dotted path of the base class a model inherits from (see templates/runtime/_base.py)."""
    if needs_custom_base(model):
        return f"{api.name}._model_bases.{model.name}Base"
    return f"{api.name}._model_bases.{shared_base(model)}"


def shared_base(model: Model) -> str:
    """The base of `_model_bases.py` a model's class (or its own base) derives from: a model
    that passes unknown keys through but is sent in a body still takes its Python names."""
    if model.extra == "forbid":
        return "ApiRequestModel"
    return "ApiOpenRequestModel" if model.role in ("request", "both") else "ApiResponseModel"


def needs_custom_base(model: Model) -> bool:
    return bool(model.moves or any(f.aliases for f in model.fields))


def chunks(names: list[str]) -> list[list[str]]:
    """Content-defined chunks of the model names (in name order): a chunk boundary depends only
    on the name before it, so adding, removing or editing a model changes its own chunk alone,
    and an edit re-runs datamodel-code-generator on a few dozen models, not on all of them."""
    out: list[list[str]] = [[]]
    for name in names:
        out[-1].append(name)
        if int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "big") % _CHUNK_SPLIT == 0:
            out.append([])
    return [chunk for chunk in out if chunk]


def _chunk_input(api: Api, defs: dict[str, Any], models: list[Model]) -> tuple[str, str]:
    """(JSON Schema, aliases) of one chunk. Models of other chunks that it refers to appear as
    empty stand-ins, so references resolve; their classes are dropped from the output."""
    names = {m.name for m in models}
    chunk = {m.name: {**defs[m.name], "customBasePath": base_class(api, m)} for m in models}
    referred = {name for m in models for f in m.fields for name in f.type.models()}
    for other in sorted(referred - names):
        chunk[other] = {"type": "object", "title": other}
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": _ROOT,
              "$defs": chunk}
    aliases = {f"{m.name}.{f.wire_name}": f.python_name for m in models for f in m.fields}
    return json.dumps(schema), json.dumps(aliases)


def _generate(schema: str, aliases: str) -> str:
    """datamodel-code-generator on one chunk (a module-level function, so workers can run it)."""
    from datamodel_code_generator import (  # its import is paid only when a chunk misses
        DataModelType,
        DatetimeClassType,
        InputFileType,
        LiteralType,
        PythonVersion,
        generate,
    )

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # the default-formatter notice
        source = generate(
            schema,
            input_file_type=InputFileType.JsonSchema,
            output_model_type=DataModelType.PydanticV2BaseModel,
            target_python_version=PythonVersion.PY_310,
            aliases=json.loads(aliases),
            disable_timestamp=True,
            custom_file_header="",
            formatters=[],  # ruff formats the whole tree once, later
            use_standard_collections=True,
            use_union_operator=True,
            field_constraints=True,
            use_schema_description=True,
            use_field_description=True,
            use_double_quotes=True,
            enum_field_as_literal=LiteralType.All,
            output_datetime_class=DatetimeClassType.Datetime,
            collapse_root_models=True,
            use_title_as_name=True,
        )
    assert isinstance(source, str)
    return source


_PARSER_LINES = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


def _split(source: str, keep: set[str]) -> tuple[list[str], str, list[str]]:
    """(import statements, class definitions, models to rebuild) of one chunk's output, keeping
    only its own models (not the root class, not the stand-ins). A model in a reference cycle
    comes with `Model.model_rebuild()`; those run once all classes exist (end of types.py)."""
    tree = ast.parse(source)
    # Lines as the parser counts them (at \r\n, \r and \n; splitlines also breaks at U+2028
    # and other separators a description may hold).
    lines = _PARSER_LINES.findall(source)
    imports, classes, rebuilds = [], [], []
    for node in tree.body:
        assert node.end_lineno is not None
        text = "".join(lines[node.lineno - 1 : node.end_lineno])
        if isinstance(node, ast.Import | ast.ImportFrom):
            imports.append(text.strip())
        elif isinstance(node, ast.ClassDef):
            if node.name in keep:
                classes.append(text.rstrip() + "\n")
        elif (rebuilt := _rebuilt_model(node)) is not None:
            if rebuilt in keep:
                rebuilds.append(rebuilt)
        else:  # the generator emits nothing else today; fail loudly if that changes
            raise AssertionError(f"unexpected statement in generated models: {text[:80]!r}")
    return imports, "\n\n".join(classes), rebuilds


def _rebuilt_model(node: ast.stmt) -> str | None:
    """`Model` for a bare `Model.model_rebuild()` statement, else None."""
    if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)):
        return None
    call = node.value
    func = call.func
    if call.args or call.keywords or not isinstance(func, ast.Attribute):
        return None
    if func.attr != "model_rebuild" or not isinstance(func.value, ast.Name):
        return None
    return func.value.id


def _generate_chunk(schema: str, aliases: str, keep: list[str]) -> str:
    """One chunk's imports, classes and rebuilds, as JSON (the form the cache keeps)."""
    source = _generate(schema, aliases)
    _check_attributes(source, json.loads(aliases), set(keep))
    imports, classes, rebuilds = _split(source, set(keep))
    return json.dumps({"imports": imports, "classes": classes, "rebuilds": rebuilds})


def _check_attributes(source: str, aliases: dict[str, str], keep: set[str]) -> None:
    """The classes have exactly the attributes the IR named (the templates and the registry
    use those names): datamodel-code-generator renames a field it finds unsafe, and a package
    whose models and methods disagree must not be written."""
    wanted: dict[str, set[str]] = {name: set() for name in keep}
    for key, python_name in aliases.items():
        wanted.setdefault(key.split(".", 1)[0], set()).add(python_name)
    for node in ast.parse(source).body:
        if isinstance(node, ast.ClassDef) and node.name in keep:
            got = {item.target.id for item in node.body if isinstance(item, ast.AnnAssign)
                   and isinstance(item.target, ast.Name)}
            if got != wanted[node.name]:
                raise AssertionError(
                    f"the models generator named the fields of {node.name} "
                    f"{sorted(got - wanted[node.name])}, not {sorted(wanted[node.name] - got)}")


# Models one more worker is worth: each pays about 0.6 s to import and warm up the generator.
_MODELS_PER_WORKER = 300


def _warm_up() -> None:
    """Import datamodel-code-generator and run it once (its first run sets itself up)."""
    schema = {"title": _ROOT, "$defs": {"A": {"type": "object", "title": "A",
                                              "properties": {"a": {"type": "string"}}}}}
    _generate(json.dumps(schema), "{}")


class Workers:
    """Worker processes for datamodel-code-generator, one per CPU, forked when a run begins:
    forked later, each would inherit the loaded specs, and its garbage collector would walk
    (and copy) all of them. They idle unless used. `warm_up` has the first import and set up
    the generator (about 0.6 s) as soon as a changed spec file is seen, so that a one-model
    edit does not wait for that after the templates render.

    Forked, not spawned (spawning would re-run the caller's main module), and only from a
    single-threaded process, where no other thread can hold a lock across the fork; otherwise,
    or with one CPU, there are none and chunks are generated in this process."""

    def __init__(self) -> None:
        cpus = os.cpu_count() or 1
        forkable = "fork" in multiprocessing.get_all_start_methods()
        alone = threading.active_count() == 1
        count = cpus if cpus > 1 and forkable and alone else 0
        context = multiprocessing.get_context("fork") if count else None
        # One single-process pool per worker, so that a task goes to the worker chosen for it.
        self.pools = [ProcessPoolExecutor(1, mp_context=context) for _ in range(count)]
        for pool in self.pools:
            pool.submit(int)  # forks it now, while this process is small
        self.warming = False

    def warm_up(self) -> None:
        if self.pools and not self.warming:
            self.pools[0].submit(_warm_up)
            self.warming = True

    def submit(self, todo: list[tuple[str, str, list[str]]]) -> list[Future[str]]:
        """Start generating chunks on as many workers as they deserve (the warm one first)."""
        models = sum(len(names) for _, _, names in todo)
        used = self.pools[: min(len(todo), 1 + models // _MODELS_PER_WORKER)]
        return [used[n % len(used)].submit(_generate_chunk, *args) for n, args in enumerate(todo)]

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc: object) -> None:
        for pool in self.pools:
            pool.shutdown(wait=True, cancel_futures=True)


# One chunk's formatted imports, classes and rebuilds, as a pure function of
# (schema, aliases, names, ruff settings, package): datamodel-code-generator then ruff. Computed
# by ModelsJob, the misses in worker processes, while the templates render.
_CHUNKS = cache.Stage("models", [__file__, *format_stage.CODE],
                      ["datamodel-code-generator", "ruff"])


_FUTURE = "from __future__ import annotations"


def _package_frame(package: str, ruff_config: str) -> dict[str, str]:
    """The settings ruff must see around a module to judge it as in the package."""
    return {f"{package}/pyproject.toml": ruff_config}


def _format_chunks(api: Api, ruff_config: str, raw: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each chunk as a module of its own (its imports, its classes) through ruff, in one call,
    at the path types.py has, so ruff decides exactly as it would for the whole file; then its
    imports and classes again, now in their final form."""
    package = api.name
    files = _package_frame(package, ruff_config)
    for n, chunk in enumerate(raw):
        imports = [i for i in chunk["imports"] if i != _FUTURE]
        files[f"{package}/{package}/_chunk{n}.py"] = (
            "\n\n".join([_FUTURE, "\n".join(imports), chunk["classes"]]) + "\n"
        )
    formatted = format_tree(files)
    out = []
    for n, chunk in enumerate(raw):
        source = formatted[f"{package}/{package}/_chunk{n}.py"]
        imports, classes, _ = _split(source, set(chunk["names"]))
        out.append({"imports": [i for i in imports if i != _FUTURE], "classes": classes,
                    "rebuilds": chunk["rebuilds"]})
    return out


class ModelsJob:
    """`<api>/types.py` in the making: started before the templates render, finished after.

    The chunks the cache lacks go to the run's worker processes at once, so that
    datamodel-code-generator runs while this process renders the templates. Without workers,
    they are generated here when the result is asked for."""

    def __init__(
        self, api: Api, header: str, ruff_config: str, workers: Workers | None = None
    ) -> None:
        self.api, self.header, self.ruff_config = api, header, ruff_config
        # datamodel-code-generator makes a constrained list item a root model of its own,
        # which a chunk does not keep: item patterns are checked by the server (and the
        # OpenAPI export carries them), not by the models.
        defs = api_schema(
            api, item_patterns=False, decimal_text_type=f"{api.name}._base.DecimalText"
        )["$defs"]
        by_name = {m.name: m for m in api.models}
        calls = []
        for names in chunks(list(by_name)):
            schema, aliases = _chunk_input(api, defs, [by_name[name] for name in names])
            calls.append((schema, aliases, names, ruff_config, api.name))
        self.batch = _CHUNKS.batch(calls)
        todo = [call[:3] for call in self.batch.missing]
        self.futures = workers.submit(todo) if workers and workers.pools and todo else []

    def result(self) -> str:
        """The source of types.py, already formatted with the package's ruff settings. Each
        chunk's classes come from the cache or from datamodel-code-generator and ruff; the
        imports of all chunks are then merged and sorted. Only that small block and the chunks
        that changed go through ruff, not the whole file."""
        api, ruff_config = self.api, self.ruff_config
        missing = self.batch.missing
        fresh = (
            [future.result() for future in self.futures]
            if self.futures
            else [_generate_chunk(*call[:3]) for call in missing]
        )
        raw = [{**json.loads(chunk), "names": call[2]}
               for call, chunk in zip(missing, fresh, strict=True)]
        done = self.batch.complete(_format_chunks(api, ruff_config, raw))
        imports = {statement: None for output in done for statement in output["imports"]}
        types = f"{api.name}/{api.name}/types.py"
        prelude = "\n\n".join([self.header, _FUTURE, "\n".join(sorted(imports))]) + "\n"
        files = {**_package_frame(api.name, ruff_config), types: prelude}
        prelude = format_tree(files, only_rules="I")[types]  # each import is used: keep all
        bodies = [output["classes"].strip("\n") for output in done]
        rebuilds = sorted({name for output in done for name in output["rebuilds"]})
        if rebuilds:
            bodies.append("\n".join(f"{name}.model_rebuild()" for name in rebuilds))
        return "\n\n\n".join([prelude.rstrip("\n"), *bodies]) + "\n"
