"""Stage 5: JSON Schema -> pydantic v2 source with datamodel-code-generator, called once per API
as a library. Python names come from the IR (scoped aliases), so templates and models agree."""

from __future__ import annotations

import ast
import json
import warnings
from importlib.metadata import version
from pathlib import Path
from typing import Any

from datamodel_code_generator import (
    DataModelType,
    DatetimeClassType,
    InputFileType,
    LiteralType,
    PythonVersion,
    generate,
)

from generator import __version__, cache
from generator.ir import Api, Model
from generator.schema import api_schema

_ROOT = "ApigenAllModels"  # datamodel-code-generator always emits a root class; we drop it


def base_class(api: Api, model: Model) -> str:
    """Dotted path of the base class a model inherits from (see templates/runtime/_base.py)."""
    if needs_custom_base(model):
        return f"{api.name}._model_bases.{model.name}Base"
    kind = "ApiRequestModel" if model.extra == "forbid" else "ApiResponseModel"
    return f"{api.name}._model_bases.{kind}"


def needs_custom_base(model: Model) -> bool:
    return bool(model.moves or any(f.aliases for f in model.fields))


def _input_schema(api: Api) -> dict[str, Any]:
    schema = api_schema(api)
    for model in api.models:
        schema["$defs"][model.name]["customBasePath"] = base_class(api, model)
    schema["title"] = _ROOT
    schema["anyOf"] = [{"$ref": f"#/$defs/{m.name}"} for m in api.models]
    return schema


def _drop_class(source: str, name: str) -> str:
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == name:
            assert node.end_lineno is not None
            del lines[node.lineno - 1 : node.end_lineno]
            break
    return "".join(lines)


def render_models(api: Api, header: str) -> str:
    """The source of `<api>/types.py` (from the cache when the same inputs were seen before)."""
    aliases = {f"{m.name}.{f.wire_name}": f.python_name for m in api.models for f in m.fields}
    schema = json.dumps(_input_schema(api))
    digest = cache.key(
        __version__,
        version("datamodel-code-generator"),
        Path(__file__).read_bytes(),
        schema,
        json.dumps(aliases),
        header,
    )
    hit = cache.get("models", digest)
    if hit is not None:
        return hit
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # the default-formatter notice
        source = generate(
            schema,
            input_file_type=InputFileType.JsonSchema,
            output_model_type=DataModelType.PydanticV2BaseModel,
            target_python_version=PythonVersion.PY_310,
            aliases=aliases,
            disable_timestamp=True,
            custom_file_header=header,
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
    models = _drop_class(source, _ROOT)
    cache.put("models", digest, models)
    return models
