"""The registry (`_operations.py`) serializes the model's own instances of the classes it shares
with the client (generator/model/runtime_spec.py, every package's `_spec.py`): each prints as its
constructor call, and a package reads back what the model holds, less the `MODEL_ONLY` fields."""

from __future__ import annotations

import dataclasses
import importlib
from typing import Any

import pytest

from generator.codegen.escape import python_literal
from generator.model import runtime_spec
from generator.model.ir import Api, Field, TypeRef
from generator.model.runtime_spec import MODEL_ONLY, Batch, Place, Requirement
from generator.pipeline import load_api
from tests.generator.conftest import ROOT


def _client_view(value: Any) -> Any:
    """`value` as a package holds it: its `MODEL_ONLY` fields at their defaults."""
    if isinstance(value, tuple):
        return tuple(_client_view(v) for v in value)
    if not dataclasses.is_dataclass(value) or isinstance(value, type):
        return value
    changes = {
        f.name: f.default if f.metadata.get(MODEL_ONLY) else _client_view(getattr(value, f.name))
        for f in dataclasses.fields(value)
    }
    return dataclasses.replace(value, **changes)


def _shared(api: Api) -> list[Any]:
    """Every instance of a shared class in the model of one API."""
    found: list[Any] = [*api.environments, api.batch_result]
    for op in api.operations:
        found += [op.batch, op.file, op.presigned_upload, *op.requires]
    return [v for v in found if v is not None]


@pytest.fixture(scope="module", params=["ebuilder", "powerclerk"])
def api(request: pytest.FixtureRequest) -> Api:
    return load_api(ROOT / "specs" / request.param)


def test_a_shared_instance_prints_as_the_call_that_builds_it_less_model_only_fields(api):
    namespace = vars(runtime_spec)
    shared = _shared(api)
    assert shared  # both specs have some
    for value in shared:
        assert eval(str(python_literal(value)), namespace) == _client_view(value)


def test_model_only_fields_stay_out_of_the_registry():
    rule = Requirement((Place("body", "a.b"), Place("query", "B")), "inferred", "the seed, p. 4")
    text = str(python_literal(rule))
    assert text == (
        "Requirement(one_of=(Place(location='body', path='a.b'), "
        "Place(location='query', path='B')))"
    )
    assert str(python_literal(Batch("data", ("options",), record_model="Row"))) == (
        "Batch(records='data', keep=('options',))"
    )


def test_a_class_the_package_does_not_share_has_no_literal():
    with pytest.raises(ValueError, match="no Python literal"):
        python_literal(Field("Email", "email", TypeRef("scalar", "string")))


@pytest.mark.parametrize("name", ["ebuilder", "powerclerk"])
def test_the_generated_registry_holds_the_models_instances(name: str):
    api = load_api(ROOT / "specs" / name)
    registry = importlib.import_module(f"{name}._operations")
    assert {n: _astuples(e) for n, e in registry.CONFIG.environments.items()} == {
        e.name: _astuples(_client_view(e)) for e in api.environments
    }
    assert _astuples(registry.CONFIG.batch_result) == _astuples(api.batch_result)
    for op in api.operations:
        entry = registry.OPERATIONS[op.wire_name]
        for ours, theirs in (
            (op.batch, entry.batch),
            (op.file, entry.file),
            (op.presigned_upload, entry.presigned_upload),
            (op.requires, entry.requires),
        ):
            assert _astuples(theirs) == _astuples(_client_view(ours))


def _astuples(value: Any) -> Any:
    if isinstance(value, tuple):
        return tuple(_astuples(v) for v in value)
    return dataclasses.astuple(value) if value is not None else None
