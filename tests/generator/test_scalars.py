"""generator.model.scalars: every row of the one scalar table is complete and agrees with itself
(its examples are values of its JSON Schema, its Python annotation and its literal types, and its
wire-text reader reads them back) and with the places that spell the scalars out by hand (the
meta-schema, the templates' imports)."""

from __future__ import annotations

import base64
import importlib
import json
import re
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from pydantic import TypeAdapter

from emulator.validation import FORMATS as FORMAT_CHECKER
from generator.model.ir import TypeRef
from generator.model.scalars import (
    BASE64_TEXT,
    FORMATS,
    SCALARS,
    Scalar,
    scalar_of_json_type,
)
from tests.generator.conftest import ROOT

ROWS = list(SCALARS.values())
META_SCHEMA = json.loads((ROOT / "generator" / "spec" / "spec.schema.json").read_text("utf-8"))
# Templates that print annotations (`py_type`, `param_type`) and so import their names.
ANNOTATING_TEMPLATES = ("resources/resource.py.jinja", "_model_bases.py.jinja")


def _values(row: Scalar) -> list[Any]:
    return [row.example, row.placeholder]


def _python_type(row: Scalar) -> Any:
    """The object the row's annotation names, imported as generated code imports it."""
    return getattr(importlib.import_module(row.module or "builtins"), row.annotation)


def _wire_text(value: Any) -> str:
    """A value as the client writes it into a query (booleans in lower case)."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def test_rows_are_keyed_by_their_names_and_parse_as_scalars() -> None:
    assert [row.name for row in ROWS] == list(SCALARS)
    assert all(TypeRef.parse(name) == TypeRef("scalar", name=name) for name in SCALARS)
    assert TypeRef.parse("Decimal").kind == "model"  # an annotation is not a scalar name


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.name)
def test_examples_are_values_of_the_json_schema(row: Scalar) -> None:
    for schema in (row.schema, row.text_schema):
        if schema is not None:
            Draft202012Validator.check_schema(dict(schema))
    validator = Draft202012Validator(dict(row.schema), format_checker=FORMAT_CHECKER)
    for value in _values(row):
        assert not list(validator.iter_errors(value)), value


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.name)
def test_examples_have_the_literal_types(row: Scalar) -> None:
    """As the spec check of a parameter example reads `literals`: a bool is only a boolean."""
    for value in _values(row):
        assert isinstance(value, row.literals), value
        assert isinstance(value, bool) is (bool in row.literals), value


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.name)
def test_examples_are_values_of_the_annotation_and_read_back_from_wire_text(row: Scalar) -> None:
    adapter = TypeAdapter(_python_type(row))
    for value in _values(row):
        if value is None:  # the placeholder of `any`
            continue
        typed = adapter.validate_python(value)
        assert row.read(_wire_text(value)) == typed, value


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.name)
def test_the_reader_refuses_text_that_is_not_a_value(row: Scalar) -> None:
    if row.literals in ((str,), (object,)) and "format" not in row.schema:
        assert row.read("anything") == "anything"  # text is its own value
    else:
        with pytest.raises(ValueError):
            row.read("not a value")


def test_text_form_reads_the_example_as_its_exact_text() -> None:
    texts = [row for row in ROWS if row.text_schema is not None]
    assert [row.name for row in texts] == ["decimal"]
    for row in texts:
        assert row.text_schema is not None and row.text_schema["type"] == "string"
        validator = Draft202012Validator(dict(row.text_schema))
        text = _wire_text(row.example)
        assert not list(validator.iter_errors(text))
        assert list(validator.iter_errors("1E+3"))  # never an exponent


@pytest.mark.parametrize("name", FORMATS)
def test_format_examples_match_their_patterns(name: str) -> None:
    fmt = FORMATS[name]
    assert fmt.name == name
    assert re.search(fmt.pattern, fmt.example)
    assert not re.search(fmt.pattern, "not a value")


def test_base64_text_is_canonical_padded_base64() -> None:
    assert re.search(BASE64_TEXT, base64.b64encode(b"a file").decode())
    assert not re.search(BASE64_TEXT, "YQ")  # unpadded


def test_bare_json_types_read_as_their_scalars() -> None:
    found = {t: scalar_of_json_type(t) for t in ("string", "integer", "number", "boolean")}
    assert found == {"string": "string", "integer": "integer", "number": "number",
                     "boolean": "boolean"}
    assert scalar_of_json_type("object") == scalar_of_json_type("array") == ""


def test_the_meta_schema_names_the_same_scalars() -> None:
    """spec.schema.json spells the scalar names in its type patterns and the parameter enum."""
    defs = META_SCHEMA["$defs"]
    for key in ("type_expr", "envelope_type_expr"):
        spelled = re.search(r"\(\(list\|map\)\\\[\)\*\(([a-z|]+)\|\[A-Z\]", defs[key]["pattern"])
        assert spelled is not None, key
        assert spelled.group(1).split("|") == list(SCALARS), key
    params = {t for t in defs["scalar_type"]["enum"] if not t.startswith("list[")}
    assert params == set(SCALARS) - {"any"}


@pytest.mark.parametrize("template", ANNOTATING_TEMPLATES)
def test_templates_import_every_annotation(template: str) -> None:
    text = (ROOT / "templates" / "package" / template).read_text("utf-8")
    for row in ROWS:
        if row.module:
            line = rf"^from {re.escape(row.module)} import [^\n]*\b{row.annotation}\b"
            assert re.search(line, text, re.MULTILINE), (template, row.name)
