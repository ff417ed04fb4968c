"""The request bodies as TypedDicts (`params.py` of a package): one per model a request body
reaches, keyed by the fields' Python names, so that an editor completes and a type checker
checks a body written as a dict. The models stay the one validation: a dict is validated by
its model before it is sent, as a model instance is."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from generator.model import names
from generator.model.ir import Api, Field, Model, Operation, TypeRef
from generator.model.names import TYPED_DICT_SUFFIX
from generator.model.scalars import SCALARS


@dataclass(frozen=True)
class Key:
    """One key of a TypedDict: the field, its annotation, and whether it must be given."""

    field: Field
    annotation: str
    required: bool


@dataclass(frozen=True)
class BodyDict:
    name: str
    model: Model
    keys: tuple[Key, ...]
    doc: str


def dict_name(model: Model) -> str:
    return dict_name_of(model.name)


def dict_name_of(model_name: str) -> str:
    return f"{model_name}{TYPED_DICT_SUFFIX}"  # `ProjectRow` -> `ProjectRowParam`


def helper_dict_name(op: Operation, method: str) -> str:
    return names.helper_dict_name(op.resource, method)


def input_type(ref: TypeRef, names: Mapping[str, str] | None = None) -> str:
    """What a body's dict takes for a value of the type: a nested body as its TypedDict (or any
    mapping, where the model passes keys it does not name through: a TypedDict cannot say so),
    a list as any sequence (of text: a list or tuple, since a `str` is a sequence of `str`).
    `names` respells the builtins a class shadows."""
    spell = (names or {}).get
    text = spell("str", "str")
    if ref.kind == "union":
        return " | ".join(input_type(option, names) for option in ref.options)
    if ref.kind == "scalar":
        return SCALARS[ref.name].input_annotation
    if ref.kind == "model":
        open_ = ref.model is not None and ref.model.extra == "allow"
        return dict_name_of(ref.name) + (f" | Mapping[{text}, Any]" if open_ else "")
    assert ref.item is not None
    inner = input_type(ref.item, names)
    if ref.kind == "map":
        return f"Mapping[{text}, {inner}]"
    if ref.item.kind == "scalar" and ref.item.name == "string":
        return f"{spell('list', 'list')}[{text}] | {spell('tuple', 'tuple')}[{text}, ...]"
    return f"Sequence[{inner}]"


def key_annotation(field: Field, names: Mapping[str, str] | None = None,
                   defined: set[str] | None = None) -> str:
    """What a body's dict takes under a field's key (a keyword argument for it too). With
    `defined`, in quotes where it names a TypedDict not yet defined there (a model that holds
    itself, directly or not)."""
    if field.enum and field.type.kind == "scalar":
        text = "Literal[" + ", ".join(repr(v) for v in field.enum) + "]"
    else:
        text = input_type(field.type, names)
    text = f"{text} | None" if field.nullable else text
    later = {dict_name_of(name) for name in field.type.models()} - (defined or set())
    return repr(text) if defined is not None and later else text


def dict_or_model(model: Model, names: Mapping[str, str] | None = None) -> str:
    """The annotation of an argument that takes a model's body: its TypedDict or the model."""
    ref = TypeRef("model", name=model.name, model=model)
    return f"{input_type(ref, names)} | {model.name}"


def reached(models: Iterable[Model]) -> list[Model]:
    """The models and every model their fields hold, each once, a model after the models it
    holds (so that the TypedDicts can be defined in that order)."""
    seen: set[str] = set()
    order: list[Model] = []

    def visit(model: Model) -> None:
        if model.name in seen:
            return
        seen.add(model.name)
        for f in model.fields:
            for held in _linked(f.type):
                visit(held)
        order.append(model)

    for model in models:
        visit(model)
    return order


def _linked(ref: TypeRef) -> Iterator[Model]:
    """The models a type holds (a name no model has links to nothing)."""
    if ref.kind == "model" and ref.model is not None:
        yield ref.model
    for inner in (*ref.options, *((ref.item,) if ref.item is not None else ())):
        yield from _linked(inner)


def _body_models(api: Api) -> list[Model]:
    return [op.body.model for op in _operations(api) if op.body.model is not None]


def _operations(api: Api) -> Iterator[Operation]:
    return (op for r in api.resources for op in r.operations if op.body.kind == "json")


def body_dicts(api: Api) -> list[BodyDict]:
    """Every TypedDict of the package, in an order that defines a TypedDict before the ones
    holding it (a model that holds itself, directly or not, is named in quotes there)."""
    out = []
    defined: set[str] = set()
    for model in reached(_body_models(api)):
        keys = tuple(Key(f, key_annotation(f, defined=defined), f.required)
                     for f in model.fields)
        out.append(BodyDict(dict_name(model), model, keys, f"The `{model.name}` body as a dict."))
        defined.add(dict_name(model))
    for op in _operations(api):
        for method, filled, defaulted in file_helpers(op):
            assert op.body.model is not None
            keys = tuple(
                Key(f, key_annotation(f, defined=defined), f.required and f.wire_name != defaulted)
                for f in op.body.model.fields if f.wire_name not in filled
            )
            doc = (f"The fields of `{op.body.model.name}` that `{method}` takes beside the file "
                   "(it fills in the rest).")
            out.append(BodyDict(helper_dict_name(op, method), op.body.model, keys, doc))
    return out


def file_helpers(op: Operation) -> Iterator[tuple[str, frozenset[str], str]]:
    """(method, fields the client fills, field it fills unless given) of each file helper."""
    base = op.python_name.strip("_")
    if op.file:
        yield f"{base}_file", frozenset({op.file.field}), op.file.name_field
    if op.presigned_upload:
        upload = op.presigned_upload
        yield f"{base}_and_upload", frozenset({upload.size_field}), upload.name_field
