"""Broken specs: every case of the corpus is refused with `file:line:col: error ...: rule`
lines, exit 2 and nothing written, never a traceback. Cases are built here (bytes no text
file could hold, file-system oddities), so they run in process: load and validate only, plus
a handful through the command line."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from generator.pipeline import load_api
from generator.spec.errors import SpecError
from tests.generator.conftest import FIXTURE_SPECS, run_apigen, tree_digest

LOCATED = re.compile(r"^\S+:\d+:\d+: error( at '[^'\n]*')?: \S.*$")


def _alias_bomb(levels: int = 12, width: int = 9) -> str:
    lines = [f"a0: &a0 [{', '.join(['x'] * width)}]"]
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * width)}]")
    return "\n".join(lines) + "\n"


Edit = Callable[[Path], None]


def _add(name: str, content: bytes | str) -> Edit:
    def edit(api: Path) -> None:
        data = content.encode() if isinstance(content, str) else content
        (api / name).write_bytes(data)
    return edit


def _replace(old: str, new: str, file: str = "widgets.yaml") -> Edit:
    def edit(api: Path) -> None:
        path = api / file
        text = path.read_text(encoding="utf-8")
        assert old in text, (old, file)
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return edit


def _symlink_loop(api: Path) -> None:
    os.symlink("loop.yaml", api / "loop.yaml")


def _dangling(api: Path) -> None:
    os.symlink("nowhere/else.yaml", api / "gone.yaml")


def _directory(api: Path) -> None:
    (api / "folder.yaml").mkdir()


def _unreadable(api: Path) -> None:
    path = api / "secret.yaml"
    path.write_text("models: {}\n")
    path.chmod(0)


CASES: dict[str, Edit] = {
    "alias_bomb": _add("bomb.yaml", _alias_bomb()),
    "recursive_alias": _add("loop_alias.yaml", "models: &m {X: {fields: {a: *m}}}\n"),
    "deep_flow": _add("deep.yaml", "models:\n  X: " + "[" * 900 + "]" * 900 + "\n"),
    "deep_block": _add("deep2.yaml", "models:\n" + "".join(
        "  " * (i + 1) + f"k{i}:\n" for i in range(200)) + "  " * 201 + "x: 1\n"),
    "huge_file": _add("huge.yaml", "# " + "x" * (9 * 1024 * 1024) + "\n"),
    "nul_byte": _add("nul.yaml", b"models:\n  A\x00: {}\n"),
    "latin1": _add("latin.yaml", "models:\n  Caf\xe9: {}\n".encode("latin-1")),
    "utf16": _add("utf16.yaml", "models: {}\n".encode("utf-16")),
    "truncated_utf8": _add("cut.yaml", "description: caf\xe9".encode()[:-1]),
    "symlink_loop": _symlink_loop,
    "dangling_symlink": _dangling,
    "directory_as_file": _directory,
    "top_level_list": _add("list.yaml", "[1, 2]\n"),
    "top_level_scalar": _add("scalar.yaml", "just text\n"),
    "empty_document_list": _add("empty.yaml", "---\n---\n"),
    "infinite_number": _replace("rate_limit: {operations: 60, per_seconds: 60}",
                                "rate_limit: {operations: 60, per_seconds: .inf}", "api.yaml"),
    "nan_number": _replace("maximum: 100", "maximum: .nan"),
    "lone_surrogate": _replace("summary: Create a widget.", 'summary: "bad \\ud800 text"'),
    "merge_key": _add("merge.yaml", "base: &b {x: 1}\nmodels:\n  A:\n    <<: *b\n"),
    "complex_key": _add("complex.yaml", "models:\n  ? [a, b]\n  : {fields: {}}\n"),
    "tab_indent": _add("tab.yaml", "models:\n\tA: {}\n"),
    "unclosed_quote": _add("quote.yaml", 'models: "abc\n'),
    "binary_tag": _replace("summary: Create a widget.", "summary: !!binary aGVsbG8="),
    "python_tag": _replace("summary: Create a widget.", "summary: !!python/object:os.system x"),
    "date_value_as_title": _replace("title: Mini API", "title: 2026-01-01", "api.yaml"),
}
NOT_TEXT_KEYS = (("int", "123"), ("bool", "yes"), ("bool_true", "true"), ("null", "~"),
                 ("null_word", "null"), ("date", "2026-01-01"), ("float", "1.5"), ("hex", "0x1f"),
                 ("sexagesimal", "1:20"), ("timestamp", "2026-01-01T10:00:00Z"))
for _kind, _key in NOT_TEXT_KEYS:
    CASES[f"model_key_read_as_{_kind}"] = _add(f"key_{_kind}.yaml",
                                               f"models:\n  {_key}: {{fields: {{}}}}\n")
    CASES[f"field_key_read_as_{_kind}"] = _replace(
        "      Email: {type: string}\n",
        f"      Email: {{type: string}}\n      {_key}: {{type: string}}\n")
    CASES[f"param_key_read_as_{_kind}"] = _replace(
        "      offset: {in: query, type: integer}\n",
        f"      offset: {{in: query, type: integer}}\n      {_key}: {{in: query, type: string}}\n")

# Accepted YAML whose names would break the generated package: refused with the rule.
CASES.update({
    "api_named_like_a_keyword": _replace("name: mini", "name: class", "api.yaml"),
    "api_named_like_a_soft_keyword": _replace("name: mini", "name: match", "api.yaml"),
    "api_named_like_stdlib_typing": _replace("name: mini", "name: typing", "api.yaml"),
    "api_named_like_stdlib_json": _replace("name: mini", "name: json", "api.yaml"),
    "api_named_like_a_dependency": _replace("name: mini", "name: httpx", "api.yaml"),
    "client_class_like_an_export": _replace("client_class: Mini", "client_class: APIError",
                                            "api.yaml"),
    "client_class_like_a_resource": _replace("client_class: Mini", "client_class: Widgets",
                                             "api.yaml"),
    "resource_like_close": _replace("resource: widgets", "resource: close"),
    "resource_like_base_url": _replace("resource: widgets", "resource: base_url"),
    "resource_like_request": _replace("resource: widgets", "resource: request"),
    "resource_like_with_options": _replace("resource: widgets", "resource: with_options"),
    "resource_like_with_raw_response": _replace("resource: widgets",
                                                "resource: with_raw_response"),
    "resource_name_too_long": _replace("resource: widgets", "resource: " + "w" * 300),
    "resource_class_like_a_model": _replace("resource: widgets", "resource: widget"),
    "resource_class_like_typing": _replace("resource: widgets", "resource: any"),
    "model_named_field": _replace("  Owner:\n", "  Field:\n"),
    "model_named_decimal": _replace("  Owner:\n", "  Decimal:\n"),
    "model_named_base_model": _replace("  Owner:\n", "  BaseModel:\n"),
    "model_named_like_runtime": _replace("  Owner:\n", "  Operation:\n"),
    "model_named_like_base_class": _replace("  Owner:\n", "  ApiResponseModel:\n"),
    "model_named_like_custom_base": _replace("  Owner:\n", "  WidgetBase:\n"),
    "model_named_like_client": _replace("  Owner:\n", "  Mini:\n"),
    # models named like a class or name the package generates beside the models
    "model_named_like_raw_resource": _replace("  Owner:\n", "  WidgetsWithRawResponse:\n"),
    "model_named_like_async_raw_resource": _replace("  Owner:\n",
                                                    "  AsyncWidgetsWithRawResponse:\n"),
    "model_named_like_streaming_resource": _replace("  Owner:\n",
                                                    "  WidgetsWithStreamingResponse:\n"),
    "model_named_like_async_resource": _replace("  Owner:\n", "  AsyncWidgets:\n"),
    "model_named_like_raw_client": _replace("  Owner:\n", "  MiniWithRawResponse:\n"),
    "model_named_like_async_client": _replace("  Owner:\n", "  AsyncMini:\n"),
    "model_named_page": _replace("  Owner:\n", "  Page:\n"),
    "model_named_async_page": _replace("  Owner:\n", "  AsyncPage:\n"),
    "model_named_raw_response": _replace("  Owner:\n", "  RawResponse:\n"),
    "model_named_like_an_exception": _replace("  Owner:\n", "  NotFoundError:\n"),
    "model_named_like_an_export": _replace("  Owner:\n", "  OPERATIONS:\n"),
    "model_named_like_a_typed_dict": _replace("  Owner:\n", "  NewWidgetParam:\n"),
    # field examples: a value of the field's type, enum and pattern, on a scalar field
    "field_example_of_another_type": _replace("      Email: {type: string}\n",
                                              "      Email: {type: string, example: 5}\n"),
    "field_example_not_in_enum": _replace(
        "      Color: {type: string, required: true, enum: [red, blue]}\n",
        "      Color: {type: string, required: true, enum: [red, blue], example: green}\n"),
    "field_example_not_its_format": _replace(
        "      Email: {type: string}\n", "      Email: {type: string, format: email,"
        " example: not-an-address}\n"),
    "field_example_not_its_pattern": _replace(
        "      Email: {type: string}\n", "      Email: {type: string, pattern: '^[a-z]+$',"
        " example: ABC}\n"),
    "field_example_on_a_model_field": _replace("      Owner: {type: Owner}\n",
                                               "      Owner: {type: Owner, example: x}\n"),
    "field_example_a_bool_for_an_integer": _replace(
        "      Widgets: {type: \"list[Widget]\", required: true}\n",
        "      Widgets: {type: \"list[Widget]\", required: true}\n"
        "      Count: {type: integer, example: true}\n"),
    "field_example_a_mapping": _replace("      Email: {type: string}\n",
                                        "      Email: {type: string, example: {a: 1}}\n"),
    "param_named_body": _replace("      offset: {in: query, type: integer}\n",
                                 "      offset: {in: query, type: integer}\n"
                                 "      body: {in: query, type: string}\n"),
    "param_named_page_size": _replace("      offset: {in: query, type: integer}\n",
                                      "      offset: {in: query, type: integer}\n"
                                      "      PageSize: {in: query, type: string}\n"),
    "param_named_self": _replace("      offset: {in: query, type: integer}\n",
                                 "      offset: {in: query, type: integer}\n"
                                 "      q: {in: query, type: string, name: self}\n"),
    "param_named_os": _replace("      offset: {in: query, type: integer}\n",
                               "      offset: {in: query, type: integer}\n"
                               "      os: {in: query, type: string}\n"),
    "param_named_operations": _replace("      offset: {in: query, type: integer}\n",
                                       "      offset: {in: query, type: integer}\n"
                                       "      q: {in: query, type: string, name: OPERATIONS}\n"),
    "field_named_model_dump": _replace("      Email: {type: string}\n",
                                       "      Email: {type: string}\n"
                                       "      ModelDump: {type: string}\n"),
    "field_named_model_config": _replace("      Email: {type: string}\n",
                                         "      Email: {type: string}\n"
                                         "      model_config: {type: string}\n"),
    "field_named_to_wire": _replace("      Email: {type: string}\n",
                                    "      Email: {type: string}\n      ToWire: {type: string}\n"),
    "field_named_validate": _replace("      Email: {type: string}\n",
                                     "      Email: {type: string}\n"
                                     "      Validate: {type: string}\n"),
    "field_python_name_private": _replace("      Email: {type: string}\n",
                                          "      Email: {type: string, name: _email}\n"),
    "field_python_name_dunder": _replace("      Email: {type: string}\n",
                                         "      Email: {type: string, name: __fields__}\n"),
    "field_explicit_name_like_member": _replace("      Email: {type: string}\n",
                                                "      Email: {type: string, name: copy}\n"),
    "fields_equal_after_normalisation": _replace("      Email: {type: string}\n",
                                                 "      Email: {type: string}\n"
                                                 "      E-Mail: {type: string}\n"
                                                 "      e_mail: {type: string}\n"),
    "legacy_name_like_member": _replace("{kind: rename, from: Title, to: WidgetId}",
                                        "{kind: rename, from: model_dump, to: WidgetId}"),
    "operations_equal_after_normalisation": _replace(
        "  create:\n", "  list_:\n    wire_name: Other\n    method: GET\n"
        "    path: /Other\n    summary: x\n    confidence: documented\n"
        "    response: WidgetList\n  create:\n"),
    "operation_like_paginate_method": _replace(
        "  create:\n", "  iter_list:\n    wire_name: Other\n    method: GET\n"
        "    path: /Other\n    summary: x\n    confidence: documented\n"
        "    response: WidgetList\n  create:\n"),
    "operation_like_page_method": _replace(
        "  create:\n", "  list_page:\n    wire_name: Other\n    method: GET\n"
        "    path: /Other\n    summary: x\n    confidence: documented\n"
        "    response: WidgetList\n  create:\n"),
    # A loop of required, non-nullable references: no finite document fits it.
    "required_self_cycle": _replace("  Owner:\n    fields:\n",
                                    "  Owner:\n    fields:\n"
                                    "      Boss: {type: Owner, required: true}\n"),
    "required_two_model_cycle": _replace("      Email: {type: string}\n",
                                         "      Email: {type: string}\n"
                                         "      Pet: {type: Pet, required: true}\n"
                                         "  Pet:\n    fields:\n"
                                         "      Owner: {type: Owner, required: true}\n"),
    "required_cycle_through_three": _replace("      Email: {type: string}\n",
                                             "      Email: {type: string}\n"
                                             "      A: {type: Pa, required: true}\n"
                                             "  Pa:\n    fields:\n"
                                             "      B: {type: Pb, required: true}\n"
                                             "  Pb:\n    fields:\n"
                                             "      C: {type: Owner, required: true}\n"),
    "resource_in_two_files": _add("more.yaml", "resource: widgets\noperations:\n  other:\n"
                                  "    wire_name: Other\n    method: GET\n    path: /Other\n"
                                  "    summary: x\n    confidence: documented\n"
                                  "    response: WidgetList\n"),
    "param_python_name_is_another_wire_name": _replace(
        "      offset: {in: query, type: integer}\n",
        "      offset: {in: query, type: integer}\n"
        "      q: {in: query, type: string, name: limit2}\n"
        "      limit2: {in: query, type: string, name: other}\n"),
    "request_field_python_name_is_another_wire_name": _replace(
        "      Color: {type: string, required: true, enum: [red, blue]}\n",
        "      Color: {type: string, required: true, enum: [red, blue]}\n"
        "      Shade: {type: string, name: Tone}\n      Tone: {type: string, name: tone_2}\n"),
    "field_python_name_a_builtin_type": _replace("      Email: {type: string}\n",
                                                 "      Email: {type: string, name: str}\n"),
    "alias_is_another_fields_wire_name": _replace(
        "      Email: {type: string}\n",
        "      Email: {type: string}\n      Mail: {type: string, aliases: [Email]}\n"),
    "alias_shared_by_two_fields": _replace(
        "      Email: {type: string}\n",
        "      Email: {type: string, aliases: [Mail]}\n"
        "      Post: {type: string, aliases: [Mail]}\n"),
    "header_param_not_a_token": _replace("      offset: {in: query, type: integer}\n",
                                         "      offset: {in: query, type: integer}\n"
                                         "      X Tag: {in: header, type: string}\n"),
    "header_param_set_by_the_client": _replace("      offset: {in: query, type: integer}\n",
                                               "      offset: {in: query, type: integer}\n"
                                               "      authorization: {in: header, type: string}\n"),
    "header_param_like_the_api_key": _replace("      offset: {in: query, type: integer}\n",
                                              "      offset: {in: query, type: integer}\n"
                                              "      x-apikey: {in: header, type: string}\n"),
    "header_params_equal_ignoring_case": _replace("      offset: {in: query, type: integer}\n",
                                                  "      offset: {in: query, type: integer}\n"
                                                  "      X-Tag: {in: header, type: string}\n"
                                                  "      x-tag: {in: header, type: string,"
                                                  " name: tag2}\n"),
    "header_enum_value_not_ascii": _replace("      offset: {in: query, type: integer}\n",
                                            "      offset: {in: query, type: integer}\n"
                                            "      X-Tag: {in: header, type: string,"
                                            " enum: [\"caf\u00e9\"]}\n"),
    "param_named_like_a_model": _replace("      offset: {in: query, type: integer}\n",
                                         "      offset: {in: query, type: integer}\n"
                                         "      q: {in: query, type: string, name: Widget}\n"),
    "field_named_like_a_model": _replace("      Email: {type: string}\n",
                                         "      Email: {type: string}\n"
                                         "      Boss: {type: string, name: Widget}\n"),
    "method_named_like_an_import": _replace("  create:\n", "  datetime:\n    wire_name: Other\n"
                                            "    method: GET\n    path: /Other\n    summary: x\n"
                                            "    confidence: documented\n"
                                            "    response: WidgetList\n  create:\n"),
})


_NEW_WIDGET = "      Color: {type: string, required: true, enum: [red, blue]}\n"


def _both(*edits: Edit) -> Edit:
    def edit(api: Path) -> None:
        for one in edits:
            one(api)
    return edit


# Rules of `returns`, `body_arguments` and the bodies' TypedDicts, with the words of the rule.
RULES: dict[str, tuple[Edit, str]] = {
    "returns_a_field_the_answer_lacks": (
        _replace("    response: Widget\n", "    response: Widget\n    returns: Widgets\n"),
        "'Widgets' is not a field of Widget (a wire name, one level down: WidgetId, Price,"),
    "returns_a_field_of_a_page": (
        _replace("    response: WidgetList\n", "    response: WidgetList\n    returns: Widgets\n"),
        "an operation with `paginate` returns its own result"),
    "returns_without_a_json_answer": (
        _replace("    response: Widget\n", "    response: {kind: none}\n    returns: Widget\n"),
        "the operation has no JSON response model to return a field of"),
    "body_arguments_of_a_nested_body": (
        _replace("    body: NewWidget\n", "    body: Widget\n    body_arguments: true\n"),
        "field 'Owner' of Widget holds a model; only a flat body"),
    "body_argument_like_a_parameter": (
        _both(_replace("    body: NewWidget\n", "    body: NewWidget\n    body_arguments: true\n"),
              _replace(_NEW_WIDGET, _NEW_WIDGET + "      Shop: {type: string, name: shop_id}\n")),
        "would be argument 'shop_id', the Python name of parameter 'ShopId'"),
    "body_argument_like_an_option": (
        _both(_replace("    body: NewWidget\n", "    body: NewWidget\n    body_arguments: true\n"),
              _replace(_NEW_WIDGET, _NEW_WIDGET + "      Timeout: {type: integer}\n")),
        "would be argument 'timeout', which the method already has"),
    "body_argument_optional_and_nullable": (
        _both(_replace("    body: NewWidget\n", "    body: NewWidget\n    body_arguments: true\n"),
              _replace(_NEW_WIDGET, _NEW_WIDGET + "      Note: {type: string, nullable: true}\n")),
        "is optional and nullable"),
    "model_named_like_a_typed_dict": (
        _replace("  Owner:\n", "  Owner:\n    fields: {}\n  NewWidgetParam:\n"),
        "model name 'NewWidgetParam' is the name of the TypedDict generated for model NewWidget"),
}


@pytest.mark.parametrize("case", sorted(RULES))
def test_a_broken_rule_names_its_place_and_the_rule(case: str, api: Path) -> None:
    edit, words = RULES[case]
    edit(api)
    with pytest.raises(SpecError) as caught:
        load_api(api)
    lines = str(caught.value).splitlines()
    assert all(LOCATED.match(line) for line in lines), lines
    assert any(words in line for line in lines), lines


def test_a_file_helpers_typed_dict_may_not_clash_with_a_model(tmp_path: Path) -> None:
    bulk = tmp_path / "bulk"
    shutil.copytree(FIXTURE_SPECS / "bulk", bulk)
    _replace("models:\n", "models:\n  ItemsUploadFile:\n    fields: {}\n", "items.yaml")(bulk)
    with pytest.raises(SpecError) as caught:
        load_api(bulk)
    assert "the TypedDict 'ItemsUploadFileParam' of method 'upload_file' would clash" in str(
        caught.value)


@pytest.fixture
def api(tmp_path: Path) -> Path:
    shutil.copytree(FIXTURE_SPECS / "mini", tmp_path / "specs" / "mini")
    return tmp_path / "specs" / "mini"


@pytest.mark.parametrize("case", sorted(CASES))
def test_broken_spec_is_a_located_error(case: str, api: Path) -> None:
    CASES[case](api)
    try:
        with pytest.raises(SpecError) as caught:
            load_api(api)
    finally:
        for path in api.iterdir():
            if not path.is_symlink() and path.is_file():
                path.chmod(0o644)
    lines = str(caught.value).splitlines()
    assert lines and all(LOCATED.match(line) for line in lines), lines


@pytest.mark.parametrize("case", ["alias_bomb", "deep_flow", "nul_byte", "symlink_loop",
                                  "model_key_read_as_date"])
def test_broken_spec_on_the_command_line(case: str, api: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = run_apigen("generate", "--specs", api.parent, "--out", out)
    assert first.returncode == 0, first.stderr
    before = tree_digest(out)
    CASES[case](api)
    result = run_apigen("generate", "--specs", api.parent, "--out", out)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    *errors, summary = result.stderr.strip().splitlines()
    assert errors and all(LOCATED.match(line) for line in errors), errors
    assert summary.endswith("nothing was written")
    assert tree_digest(out) == before


@pytest.mark.parametrize(("case", "where", "says"), [
    ("model_named_like_raw_resource", "models.WidgetsWithRawResponse",
     "the class WidgetsWithRawResponse generated for resource 'widgets'"),
    ("model_named_like_async_raw_resource", "models.AsyncWidgetsWithRawResponse",
     "the class AsyncWidgetsWithRawResponse generated for resource 'widgets'"),
    ("model_named_like_raw_client", "models.MiniWithRawResponse",
     "the client class MiniWithRawResponse"),
    ("model_named_like_async_client", "models.AsyncMini", "the client class AsyncMini"),
    ("model_named_page", "models.Page", "a name the generated modules import"),
    ("model_named_like_an_export", "models.OPERATIONS", "a name the package exports"),
    ("model_named_like_a_typed_dict", "models.NewWidgetParam",
     "the TypedDict generated for model NewWidget"),
    ("field_example_of_another_type", "models.Owner.fields.Email.example",
     "example 5 is not a value of type string"),
    ("field_example_not_in_enum", "models.NewWidget.fields.Color.example",
     "not one of the enum values"),
    ("field_example_not_its_format", "models.Owner.fields.Email.example",
     "does not match the field's pattern"),
    ("field_example_on_a_model_field", "models.Widget.fields.Owner.example",
     "an example is for a scalar field or a list of scalars"),
    ("field_example_a_bool_for_an_integer", "models.WidgetList.fields.Count.example",
     "example True is not a value of type integer"),
])
def test_the_error_names_the_file_the_place_and_the_clash(
    case: str, where: str, says: str, api: Path
) -> None:
    CASES[case](api)
    with pytest.raises(SpecError) as caught:
        load_api(api)
    lines = str(caught.value).splitlines()
    assert any(re.match(rf"^\S+\.yaml:\d+:\d+: error at '{re.escape(where)}': .*{re.escape(says)}",
                        line) for line in lines), lines
