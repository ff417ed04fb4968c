"""Merging pulled schemas into the IR (generator/enrich.py), and a hostile schema carried through
the whole pipeline into an importable, inert package."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from generator.codegen.format import format_tree
from generator.codegen.models import ModelsJob
from generator.codegen.render import _environment, header, render_package, render_pyproject
from generator.enrich import MAX_DESCRIPTION, enrich, inert_text
from generator.model.ir import Api, Field, TypeRef
from generator.pipeline import load_api
from generator.spec.errors import SpecError
from tests.generator.conftest import FIXTURE_SPECS


@pytest.fixture
def api() -> Api:
    return load_api(FIXTURE_SPECS / "mini")


def write(folder: Path, name: str, schema: Any) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(schema if isinstance(schema, str) else json.dumps(schema))
    return path


def fields(api: Api, model: str) -> dict[str, Field]:
    return {f.wire_name: f for f in api.model(model).fields}


def widget_list(widget: dict[str, Any], **definitions: Any) -> dict[str, Any]:
    """A GetWidgets response schema in Json.NET style: items under `definitions`."""
    return {
        "type": "object",
        "properties": {
            "Widgets": {"type": ["array", "null"], "items": {"$ref": "#/definitions/W"}}
        },
        "definitions": {"W": widget, **definitions},
    }


def test_refs_allof_and_nullable_branches_are_resolved(api: Api, tmp_path: Path) -> None:
    widget = {
        "allOf": [
            {"$ref": "#/definitions/Base"},
            {"properties": {"Stock": {"anyOf": [{"type": "null"}, {"$ref": "#/definitions/N"}]}}},
        ]
    }
    base = {
        "type": "object",
        "properties": {
            "WidgetId": {"type": "string"},
            "Made": {"type": ["string", "null"], "format": "date-time", "description": "When"},
            "Tags": {"type": "array", "items": {"type": "string"}},
            "Extra": {"type": "object", "additionalProperties": {"type": "string"}},
            "Shape": {"type": "object", "properties": {"x": {"type": "number"}}},
            "Either": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
        },
    }
    write(
        tmp_path, "GetWidgets.response.json", widget_list(widget, Base=base, N={"type": "integer"})
    )
    enriched, _ = enrich(api, tmp_path)
    got = fields(enriched, "Widget")
    assert got["Made"].type == TypeRef("scalar", name="string")  # dates pass through
    assert got["Made"].nullable and got["Made"].description.startswith("When ")
    assert got["Stock"].type == TypeRef("scalar", name="integer") and got["Stock"].nullable
    assert str(got["Tags"].type) == "list[string]" and not got["Tags"].nullable
    assert str(got["Extra"].type) == "map[any]"
    assert str(got["Shape"].type) == "any"  # no new models for nested unknown objects
    assert str(got["Either"].type) == "any"
    for wire in ("Made", "Stock", "Tags", "Extra", "Shape", "Either"):
        assert not got[wire].required and got[wire].confidence == "inferred"
        assert "pulled schema GetWidgets.response.json" in got[wire].description
    # added after the YAML's own fields, properties sorted
    assert list(got)[-6:] == ["Either", "Extra", "Made", "Shape", "Stock", "Tags"]


def test_yaml_wins_and_missing_fields_are_findings(api: Api, tmp_path: Path) -> None:
    widget = {
        "type": "object",
        "properties": {
            "WidgetId": {"type": "integer", "description": "server says"},
            "Price": {"type": "string"},
            "Owner": {"type": "object", "properties": {"Email": {}, "Phone": {"type": "string"}}},
        },
    }
    write(tmp_path, "GetWidgets.response.json", widget_list(widget))
    enriched, findings = enrich(api, tmp_path)
    assert fields(enriched, "Widget")["WidgetId"] == fields(api, "Widget")["WidgetId"]
    assert fields(enriched, "Widget")["Price"] == fields(api, "Widget")["Price"]
    assert [f.wire_name for f in enriched.model("Owner").fields] == ["Email", "Phone"]  # nested
    missing = [(f.operation, f.kind, f.path) for f in findings if f.category == "mismatch"]
    assert missing == [("GetWidgets", "response", "Widgets[].Color")]
    added = [(f.path, f.model, f.field.python_name) for f in findings if f.field is not None]
    assert added == [("Widgets[].Owner.Phone", "Owner", "phone")]
    assert [f.message for f in findings if f.category == "pulled"] == [
        "compared with schemas/GetWidgets.response.json"
    ]


def test_case_insensitive_keys_match_the_yaml_field(api: Api, tmp_path: Path) -> None:
    owner = {"type": "object", "properties": {"EMAIL": {}}}
    widget = {"type": "object", "properties": {"widgetid": {}, "PRICE": {}, "owner": owner}}
    write(tmp_path, "GetWidgets.response.json", widget_list(widget))
    exact, findings = enrich(api, tmp_path)
    assert {"widgetid", "PRICE"} <= set(fields(exact, "Widget"))
    # `owner` is the Python name of the YAML's `Owner`: a record's `owner` would fill it
    assert "owner" not in fields(exact, "Widget")
    [clash] = [f for f in findings if f.path == "Widgets[].owner"]
    assert clash.category == "mismatch" and "`Widget.owner`" in clash.message
    folded, findings = enrich(replace(api, keys_case_insensitive=True), tmp_path)
    assert fields(folded, "Widget") == fields(api, "Widget")
    assert fields(folded, "Owner") == fields(api, "Owner")
    assert [f.path for f in findings if f.category == "mismatch"] == ["Widgets[].Color"]


def test_python_names_are_unique_and_safe(api: Api, tmp_path: Path) -> None:
    names = ["Owner ", "model_dump", "to_wire", "validate", "", "-", "2", "field", "a-b", "a_b"]
    widget = {"type": "object", "properties": {n: {"type": "string"} for n in names}}
    write(tmp_path, "GetWidgets.response.json", widget_list(widget))
    enriched, _ = enrich(api, tmp_path)
    got = {f.wire_name: f.python_name for f in enriched.model("Widget").fields}
    assert got["Owner "] == "owner_2"  # the YAML has `owner`
    assert got["model_dump"] == "field_model_dump"  # pydantic's namespace
    assert (got["to_wire"], got["validate"]) == ("to_wire_", "validate_")
    # a Python name never equals another field's wire name: `field` and `a_b` keep theirs
    assert (got[""], got["-"], got["2"], got["field"]) == (
        "field_2",
        "field_3",
        "field_2_2",
        "field",
    )
    assert (got["a-b"], got["a_b"]) == ("a_b_2", "a_b")
    assert len(set(got.values())) == len(got)
    # V1 names of moved fields stay free for their deprecated attributes
    write(tmp_path, "GetWidgets.response.json", widget_list({"properties": {"OwnerEmail": {}}}))
    assert fields(enrich(api, tmp_path)[0], "Widget")["OwnerEmail"].python_name == "owner_email_2"


def test_shared_models_gain_the_union_of_fields(api: Api, tmp_path: Path) -> None:
    # Widget is the response of CreateWidget and the list item of GetWidgets.
    write(tmp_path, "CreateWidget.response.json", {"properties": {"b": {}, "a": {}}})
    write(tmp_path, "GetWidgets.response.json", widget_list({"properties": {"c": {}, "a": {}}}))
    enriched, findings = enrich(api, tmp_path)
    assert [f.wire_name for f in enriched.model("Widget").fields][-3:] == ["a", "b", "c"]
    by_op = [(f.operation, f.path) for f in findings if f.category == "added"]
    assert by_op == [
        ("CreateWidget", "a"),
        ("CreateWidget", "b"),
        ("GetWidgets", "Widgets[].a"),
        ("GetWidgets", "Widgets[].c"),
    ]  # operations in IR order (resource, then method name), each sorted by path
    again, _ = enrich(api, tmp_path)
    assert again == enriched


def test_descriptions_become_inert_text() -> None:
    assert inert_text('a\n\n  """b\t\x00\x1b[31m\u202ec') == 'a """b [31m c'
    assert len(inert_text("x" * 2000)) == MAX_DESCRIPTION
    assert inert_text(["not", "text"]) == ""


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{not json", "not a readable JSON file"),
        ("[1, 2]", "must be a JSON object, not list"),
        (widget_list({"$ref": "#/definitions/X"}, X={"$ref": "#/definitions/W"}), "$ref cycle"),
        (widget_list({"$ref": "#/definitions/Nowhere"}), "points to nothing"),
        ({"properties": {"a": {"$ref": "http://evil.test/s.json"}}}, "only local"),
        ({"definitions": {"unused": {"$ref": "#/nope"}}}, "points to nothing"),
        ({"properties": []}, "'properties' must be an object"),
        ({"properties": {"a": {"type": 5}}}, "'type' must be"),
        ('{"properties": {"\\ud800": {}}}', "not valid Unicode"),
        ('{"properties": {"a": {}, "b": {}, "a": {"type": "string"}}}', "a key appears twice"),
        ('{"properties": {"a": ' + '{"items": ' * 150 + "{}" + "}" * 150 + "}}", "deeper than 100"),
        ("[" * 5000 + "]" * 5000, "nested deeper than 100 levels"),
        (
            {
                "properties": {"a": {"$ref": "#/definitions/D0"}},
                "definitions": {f"D{n}": {"$ref": f"#/definitions/D{n + 1}"} for n in range(150)}
                | {"D150": {}},
            },
            "more than 100 references in a row",
        ),
        ("\ufeff{}", "not a readable JSON file: Unexpected UTF-8 BOM"),
    ],
)
def test_malformed_schema_files_are_spec_errors(
    api: Api, tmp_path: Path, content: Any, expected: str
) -> None:
    write(tmp_path, "GetWidgets.response.json", content)
    with pytest.raises(SpecError) as caught:
        enrich(api, tmp_path)
    [problem] = caught.value.problems
    assert problem.loc.file.endswith("GetWidgets.response.json")
    assert expected in problem.message


def test_a_repeated_key_is_named_by_its_json_path(api: Api, tmp_path: Path) -> None:
    text = '{"properties": {"Widgets": {"items": {"properties": {"a.b": {}, "a.b": {}}}}}}'
    write(tmp_path, "GetWidgets.response.json", text)
    with pytest.raises(SpecError) as caught:
        enrich(api, tmp_path)
    assert caught.value.problems[0].key == 'properties.Widgets.items.properties["a.b"]'


def test_schema_files_no_operation_reads_are_spec_errors(api: Api, tmp_path: Path) -> None:
    write(tmp_path, "Removed.response.json", {})
    (tmp_path / "GetWidgets.response.json").mkdir()
    (tmp_path / "CreateWidget.request.json").symlink_to(tmp_path / "nowhere.json")
    write(tmp_path, "README.md", "notes")  # not named like a pulled schema: not ours
    with pytest.raises(SpecError) as caught:
        enrich(api, tmp_path)
    assert [(Path(p.loc.file).name, p.message) for p in caught.value.problems] == [
        ("CreateWidget.request.json", "not a regular file (a folder, or a broken link)"),
        ("GetWidgets.response.json", "not a regular file (a folder, or a broken link)"),
        (
            "Removed.response.json",
            "no operation has this wire name (a renamed or removed operation?)",
        ),
    ]


def test_json_schema_words_are_plain_property_names(api: Api, tmp_path: Path) -> None:
    names = ["$ref", "properties", "allOf", "type", "definitions"]
    widget = {"properties": {n: {"type": "string"} for n in names}}
    write(tmp_path, "GetWidgets.response.json", widget_list(widget))
    enriched, _ = enrich(api, tmp_path)
    got = {f.wire_name: f for f in enriched.model("Widget").fields}
    assert all(str(got[n].type) == "string" for n in names)
    assert got["$ref"].python_name == "ref"


def test_case_variants_are_one_key_and_each_is_a_finding(api: Api, tmp_path: Path) -> None:
    widget = {"properties": {"Status": {}, "status": {}, "STATUS": {}, "Widget_Id": {}}}
    write(tmp_path, "GetWidgets.response.json", widget_list(widget))
    folded, findings = enrich(replace(api, keys_case_insensitive=True), tmp_path)
    got = {f.wire_name: f.python_name for f in folded.model("Widget").fields}
    assert got["STATUS"] == "status" and "Status" not in got and "status" not in got
    rejected = {f.path: f.message for f in findings if f.category == "mismatch"}
    for path in ("Widgets[].Status", "Widgets[].status"):
        assert rejected[path].startswith("not added: the same key as the added `Widget.status`")
    # `Widget_Id` folds to the Python name of the YAML's `WidgetId`
    assert "Python name of the YAML field `Widget.widget_id`" in rejected["Widgets[].Widget_Id"]
    # keys exact: three fields, the exact spelling keeps the plain name
    exact, _ = enrich(api, tmp_path)
    got = {f.wire_name: f.python_name for f in exact.model("Widget").fields}
    assert (got["STATUS"], got["Status"], got["status"]) == ("status_2", "status_3", "status")


def test_enrichment_md(api: Api, tmp_path: Path) -> None:
    template = _environment().get_template("package/ENRICHMENT.md.jinja")
    empty = template.render(api=api, findings=[], version="0")
    assert "No pulled schemas." in empty
    hostile: dict[str, Any] = {"properties": {"a|b`c\n": {}, "WidgetId": {}}}
    write(tmp_path, "CreateWidget.response.json", hostile)
    enriched, findings = enrich(api, tmp_path)
    text = template.render(api=enriched, findings=findings, version="0")
    assert text == template.render(api=enriched, findings=findings, version="0")
    assert "## CreateWidget (response)" in text and "No pulled schemas." not in text
    assert (
        '| `["a\\u007cb\\u0060c\\n"]` | `"a\\u007cb\\u0060c\\n"` | `Widget.a_b_c` | `any` |' in text
    )
    assert "| `Price` | the YAML names `Price` but the pulled schema lacks it |" in text


# ---------------------------------------------------------------------------------------------
# A hostile schema through the whole pipeline.

PWN = "\n    import os; os.system('echo pwned')"
HOSTILE = {
    "GPP / JV Firm?": ("string", 'triple """ quotes' + PWN),
    "class": ("integer", "triple ''' single {{ 7*7 }}"),
    "1st": ("boolean", "{% import os %}{{ 7*7 }}"),
    "ß": ("number", "back\\slash\\\\ and \\u0041 and \\n" + PWN),
    "": ("string", '""""""' + PWN + '\n"""\nimport os\n"""'),
    "model_config": ("string", "\\"),
    "json": ("string", "ends with a backslash \\"),
    "q\"'\\\n\x00x": ("string", "a wire name with quotes, a backslash, a newline and NUL"),
}
VALUES = {
    "GPP / JV Firm?": "x",
    "class": 3,
    "1st": True,
    "ß": 1.5,
    "": "empty",
    "model_config": "cfg",
    "json": "j",
    "q\"'\\\n\x00x": "odd",
}


def generate_with_schemas(specs: Path, out: Path) -> list[Any]:
    """load -> enrich -> render -> format -> files, as the pipeline does once hooked up."""
    api, findings = enrich(load_api(specs / "mini"), specs / "mini" / "schemas")
    pyproject = render_pyproject(api)
    rendered = {f"mini/{rel}": text for rel, text in render_package(api, (), pyproject).items()}
    rendered["mini/mini/types.py"] = ModelsJob(api, header(api), pyproject).result()
    template = _environment().get_template("package/ENRICHMENT.md.jinja")
    rendered["mini/ENRICHMENT.md"] = template.render(api=api, findings=findings, version="0")
    for rel, text in format_tree(rendered).items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_text(text, encoding="utf-8")
    return findings


def test_hostile_schema_gives_an_inert_importable_package(spec_copy: Path, tmp_path: Path) -> None:
    widget = {
        "type": ["object", "null"],
        "properties": {
            "WidgetId": {"type": "string"},
            **{name: {"type": t, "description": d} for name, (t, d) in HOSTILE.items()},
        },
    }
    write(spec_copy / "mini" / "schemas", "GetWidgets.response.json", widget_list(widget))
    out = tmp_path / "out"
    generate_with_schemas(spec_copy, out)

    package = out / "mini" / "mini"
    for source in sorted(out.rglob("*.py")):
        compile(source.read_text(encoding="utf-8"), str(source), "exec")
    types = (package / "types.py").read_text(encoding="utf-8")
    assert "{{ 7*7 }}" in types and "{% import os %}" in types and "49" not in types
    assert "49" not in (out / "mini" / "ENRICHMENT.md").read_text(encoding="utf-8")

    probe = f"""
import json, mini, mini.types
data = {{"WidgetId": "w1", **json.loads({json.dumps(json.dumps(VALUES))})}}
widget = mini.types.Widget.model_validate(data)
print(json.dumps(widget.model_dump(by_alias=True, exclude_unset=True)))
print(json.dumps({{k: v.alias for k, v in mini.types.Widget.model_fields.items()}}))
"""
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=scratch,
        env={**os.environ, "PYTHONPATH": str(out / "mini")},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "pwned" not in done.stdout + done.stderr
    assert list(scratch.iterdir()) == []
    dumped, aliases = map(json.loads, done.stdout.splitlines())
    assert dumped == {"WidgetId": "w1", **VALUES}
    assert set(HOSTILE) <= set(aliases.values())
    assert all(name.isidentifier() and name.isascii() for name in aliases)
