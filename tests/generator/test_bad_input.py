"""Bad specs: one error line naming file:line:col and the rule, exit 2, generated/ untouched."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from generator.cache import encode_entry
from tests.generator.conftest import run_apigen, tree_digest

ERROR_LINE = re.compile(
    r"^(?P<file>\S+\.yaml):(?P<line>\d+):(?P<col>\d+): error( at '(?P<key>[^']*)')?: (?P<msg>.+)$"
)


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"fixture changed: {old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


CASES = {
    "duplicate_key": ("widgets.yaml", "    method: GET\n", "    method: GET\n    method: POST\n",
                      r"duplicate key 'method'", None),
    "malformed_yaml": ("widgets.yaml", "  list:\n", "  list: [\n", r"malformed YAML", None),
    "unknown_key": (
        "widgets.yaml",
        "    method: GET\n",
        "    method: GET\n    verb: GET\n",
        r"unknown key 'verb'",
        "operations.list.verb",
    ),
    "misspelt_key": (
        "widgets.yaml",
        "    method: GET\n",
        "    method: GET\n    Sumary: List\n",
        r"unknown key 'Sumary'; did you mean 'summary'\? \(expected one of: .*method",
        "operations.list.Sumary",
    ),
    "path_param_missing": (
        "widgets.yaml",
        "path: /Shops/{ShopId}/Widgets\n    summary: List",
        "path: /Shops/{ShopId}/Widgets/{Color}\n    summary: List",
        r"path parameter \{Color\} has no 'params' entry",
        "operations.list.path",
    ),
    "path_param_unused": (
        "widgets.yaml",
        "      offset: {in: query, type: integer}\n",
        "      offset: {in: query, type: integer}\n      Extra: {in: path, type: string}\n",
        r"does not appear in path",
        "operations.list.params.Extra",
    ),
    "example_of_wrong_type": (
        "widgets.yaml",
        "      ShopId: {in: path, type: string, description: The shop.}\n",
        "      ShopId: {in: path, type: string, example: 7, description: The shop.}\n",
        r"example 7 is not a value of type string",
        "operations.list.params.ShopId.example",
    ),
    "example_outside_enum": (
        "widgets.yaml",
        "      ShopId: {in: path, type: string, description: The shop.}\n",
        "      ShopId: {in: path, type: string, enum: [a, b], example: c}\n",
        r"example 'c' is not one of the enum values",
        "operations.list.params.ShopId.example",
    ),
    "duplicate_operation": (
        "widgets.yaml",
        "    wire_name: CreateWidget",
        "    wire_name: GetWidgets",
        r"duplicate operation wire name 'GetWidgets'",
        "operations.create.wire_name",
    ),
    "undefined_model": (
        "widgets.yaml",
        "    response: WidgetList",
        "    response: WidgetPage",
        r"undefined model 'WidgetPage'",
        "operations.list.response",
    ),
    "move_to_missing_field": (
        "widgets.yaml",
        "to: Owner.Email}",
        "to: Owner.Mail}",
        r"move target 'Owner.Mail' is not a field path of model Widget",
        "models.Widget.moves.0.to",
    ),
    "wire_string_off_decimal": (
        "widgets.yaml",
        "      Email: {type: string}\n",
        "      Email: {type: string, wire: string}\n",
        r"'string' is not allowed: wire: string is only for decimal fields",
        "models.Owner.fields.Email.type",
    ),
    "requires_unknown_query_parameter": (
        "widgets.yaml",
        "    body: NewWidget\n",
        "    body: NewWidget\n    requires:\n      - one_of: [body: Color, query: color]\n",
        r"'color' is not a query parameter here",
        "operations.create.requires.0.one_of.1.query",
    ),
    "requires_unknown_body_path": (
        "widgets.yaml",
        "    body: NewWidget\n",
        "    body: NewWidget\n    requires:\n      - one_of: [body: Shop.Name, path: ShopId]\n",
        r"'Shop.Name' is not a field path of NewWidget",
        "operations.create.requires.0.one_of.0.body",
    ),
    "inferred_rule_without_source": (
        "widgets.yaml",
        "    body: NewWidget\n",
        "    body: NewWidget\n    requires:\n"
        "      - {one_of: [path: ShopId, path: ShopId], confidence: inferred}\n",
        r"'source' is required here",
        "operations.create.requires.0",
    ),
    "pattern_not_a_regex": (
        "widgets.yaml",
        "      offset: {in: query, type: integer}\n",
        "      offset: {in: query, type: integer}\n"
        "      q: {in: query, type: string, pattern: '(x'}\n",
        r"not a regular expression",
        "operations.list.params.q.pattern",
    ),
    "format_on_a_number": (
        "widgets.yaml",
        "      offset: {in: query, type: integer}\n",
        "      offset: {in: query, type: integer, format: uuid}\n",
        r"format applies to string values; the type is integer",
        "operations.list.params.offset.format",
    ),
    "instances_across_lists": (
        "widgets.yaml",
        '      Widgets: {type: "list[Widget]", required: true}\n',
        '      Widgets: {type: "list[Widget]", required: true}\n    moves:\n'
        '      - {kind: instances, from: "Widgets[].Copy", to: "Widgets[].Owner.Email", '
        "key: WidgetId, value: Price}\n",
        r"from and to must be keys of the items of one list",
        "models.WidgetList.moves.0",
    ),
    "typed_format_without_field_types": (
        "widgets.yaml",
        "      - {kind: rename, from: Title, to: WidgetId}\n",
        "      - {kind: rename, from: Title, to: WidgetId}\n"
        "      - {kind: format, field: Price, old: a, new: b, when_type: [Money]}\n",
        r"needs api.v1.field_types",
        "models.Widget.moves.2.when_type",
    ),
    "mfa_when_true_on_a_non_boolean": (
        "widgets.yaml",
        "      offset: {in: query, type: integer}\n",
        "      offset: {in: query, type: integer, mfa_when_true: true}\n",
        r"'boolean' was expected",
        "operations.list.params.offset.type",
    ),
    "required_cycle": (
        "widgets.yaml",
        "      Email: {type: string}\n",
        "      Email: {type: string}\n      Back: {type: Widget, required: true}\n"
        "      Again: {type: Owner, required: true}\n",
        r"cycle no document can satisfy",
        "models.Owner",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_spec_reports_place_and_rule_and_writes_nothing(
    case: str, spec_copy: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    first = run_apigen("generate", "--specs", spec_copy, "--out", out)
    assert first.returncode == 0, first.stderr
    before = tree_digest(out)

    file, old, new, message, key = CASES[case]
    _edit(spec_copy / "mini" / file, old, new)
    result = run_apigen("generate", "--specs", spec_copy, "--out", out)

    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    errors = [ERROR_LINE.match(line) for line in lines[:-1]]
    assert errors and all(errors), lines
    assert any(re.search(message, e["msg"]) for e in errors if e), lines
    assert all(e["file"].endswith(f"mini/{file}") for e in errors if e)
    if key is not None:
        assert any(e["key"] == key for e in errors if e), lines
    assert lines[-1].endswith("nothing was written")
    assert tree_digest(out) == before


def test_error_line_points_at_the_offending_key(spec_copy: Path, tmp_path: Path) -> None:
    path = spec_copy / "mini" / "widgets.yaml"
    _edit(path, "    response: WidgetList", "    response: WidgetPage")
    result = run_apigen("generate", "--specs", spec_copy, "--out", tmp_path / "out")
    match = ERROR_LINE.match(result.stderr.splitlines()[0])
    assert match
    line = path.read_text().splitlines()[int(match["line"]) - 1]
    assert line[int(match["col"]) - 1 :].startswith("response: WidgetPage")


def test_every_problem_is_reported_at_once(spec_copy: Path, tmp_path: Path) -> None:
    path = spec_copy / "mini" / "widgets.yaml"
    _edit(path, "    response: WidgetList", "    response: WidgetPage")
    _edit(path, "to: Owner.Email}", "to: Owner.Mail}")
    result = run_apigen("generate", "--specs", spec_copy, "--out", tmp_path / "out")
    assert result.returncode == 2
    assert "2 error(s)" in result.stderr


def test_unknown_api_name_is_an_error(tmp_path: Path, spec_copy: Path) -> None:
    result = run_apigen("generate", "nope", "--specs", spec_copy, "--out", tmp_path / "out")
    assert result.returncode == 2
    assert "no spec folder nope" in result.stderr
    assert not (tmp_path / "out").exists()


def test_an_internal_error_is_one_line_exit_3_and_writes_nothing(
    spec_copy: Path, tmp_path: Path
) -> None:
    """A bug of apigen never shows a traceback. Provoked through a real input: a forged parse
    cache entry (whole and well-formed, of a document of another shape) for files whose
    meta-schema check already passed, so the stages after it meet data no valid spec can
    produce."""
    env = {**os.environ, "APIGEN_CACHE_DIR": str(tmp_path / "cache")}
    env.pop("APIGEN_NO_CACHE", None)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "generator", "generate", "--specs", str(spec_copy),
               "--out", str(out), "mini"]
    first = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    assert first.returncode == 0, first.stderr
    before = tree_digest(out)
    entries = [p for p in (tmp_path / "cache" / "parse").rglob("*") if p.is_file()]
    assert entries
    for entry in entries:
        entry.write_bytes(encode_entry(entry.name, ({"api": 5}, {}, [])))  # whole, well-formed
    result = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    assert result.returncode == 3, result.stderr
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert re.match(r"^apigen generate: internal error \(a bug of apigen\): \w+ at \S+:\d+: .+; "
                    r"nothing was written$", line), line
    assert tree_digest(out) == before
