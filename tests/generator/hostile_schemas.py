"""Hostile pulled schemas for the round-trip corpus (tests/generator/test_hostile_schemas.py):
a small spec written on the fly with one operation pair per batch, the names and property
shapes a hostile server may send, and the accounting of what became of every property.

Batch `i` is one pulled schema per operation: `Get{i}.response.json` (the response model
`Thing{i}`, with a nested YAML model under `Sub`) and `Put{i}.request.json` (the request model
`NewThing{i}`, which forbids unknown keys)."""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from generator.enrich import EnrichmentNote, join_path, wire_key
from generator.model.ir import Api

# Python that would run, or Jinja that would render, if a name or description became code.
CANARY = "CANARY-pulled"
PAYLOADS = (
    f'"); import pathlib; pathlib.Path("{CANARY}").touch()  #',
    f"'''\nimport pathlib; pathlib.Path('{CANARY}').touch()\n'''",
    f'"""\nimport pathlib; pathlib.Path("{CANARY}").touch()\n"""',
    f"\\\"; __import__('pathlib').Path('{CANARY}').touch() #",
    "{{ 7*7 }}{% raw %}",
    "x`|<script>",
)

# One class of hostile name each; explicit batches use them as they are.
CLASSES: dict[str, list[str]] = {
    "case-folding": ["Status", "status", "STATUS", "sTaTuS", "ß", "SS", "ss", "K", "\u212a"],
    "dotted-i": ["İ", "i\u0307", "I", "i"],
    "identifier": ["a-b", "a_b", "a b", "A_B", "a.b", "a__b", "a/b", "a~b", "-a-b-"],
    "empty-and-blank": ["", " ", "  ", "\t", "\u3000", "\u00a0", "_", "__", "-"],
    "dunders": ["__fields__", "__class__", "__init__", "__dict__", "__slots__", "__module__"],
    "pydantic-members": [
        "model_dump", "model_config", "model_fields", "model_validate", "model_extra", "schema",
        "json", "copy", "dict", "construct", "validate", "to_wire", "fields", "parse_obj",
    ],
    "yaml-python-names": [
        "thing_id", "count", "sub", "made", "choice", "old_name", "OldName", "thing_name",
        "note", "ThingID", "thingid", "COUNT", "Thing_Id",
    ],
    "keywords": [
        "class", "def", "None", "True", "match", "case", "type", "_", "self", "cls", "import",
        "lambda", "async", "await",
    ],
    "leading-digits": ["1st", "2", "007", "1-2", "3d", "\u0663"],
    "unicode": [
        "é", "e\u0301", "Å", "A\u030a", "ﬁ", "fi", "Ⅻ", "ｆｕｌｌ", "名前", "𝒳", "\U0001f600",
    ],
    "type-names": [
        "str", "int", "float", "bool", "list", "date", "datetime", "decimal", "Any", "Field",
        "Literal", "ConfigDict", "BaseModel", "annotations",
    ],
    "long": ["x" * 300, "Long" * 400, "a-" * 150],
    "control": ["a\x00b", "a\nb", "\r\n", "\x1b[31mred", "\u202eevil", "\u2028", "\x7f", "z\ufeff"],
    "quotes": ['q"', "q'", "back\\", "\\", '"""', "\'\'\'", "\\n", 'a\\"b', "`", "|"],
    "json-schema-words": ["$ref", "properties", "type", "items", "definitions", "#", "~0", "/"],
    "payloads": list(PAYLOADS),
}  # fmt: skip

# (property schema, a value of it) for every shape a pulled property takes here.
SHAPES: tuple[tuple[dict[str, Any], Any], ...] = (
    ({"type": "string"}, "text"),
    ({"type": "integer"}, 7),
    ({"type": "number"}, 1.5),
    ({"type": "boolean"}, True),
    ({"type": ["string", "null"]}, None),
    ({"type": ["integer", "null"]}, 3),
    ({"type": "array", "items": {"type": "string"}}, ["a", "b"]),
    ({"type": ["array", "null"], "items": {"type": "integer"}}, [1, 2]),
    ({"type": "object"}, {"k": [1, "x", None]}),
    ({"type": "object", "additionalProperties": {"type": "number"}}, {"k": 2.5}),
    ({"type": "object", "properties": {"x": {"type": "string"}}}, {"x": "y", "z": 1}),
    ({}, {"any": ["thing", 1]}),
    ({"$ref": "#/definitions/Count"}, 5),
    ({"anyOf": [{"type": "null"}, {"type": "boolean"}]}, False),
    ({"allOf": [{"type": "string"}]}, "all"),
    ({"oneOf": [{"type": "string"}, {"type": "integer"}]}, 9),
    ({"type": "string", "format": "date-time"}, "2026-01-01T00:00:00Z"),
)
DEFINITIONS = {"Count": {"type": "integer"}}

# The YAML fields of the fixture's models (by model prefix), and their required keys.
REQUIRED = {"Thing": {"ThingId": "t-1"}, "NewThing": {"ThingName": "n-1"}, "Sub": {}}


@dataclass
class Batch:
    """The properties of one pulled schema pair: `root` for Thing and NewThing, `nested` for
    Sub; each name has the index of its shape in SHAPES and a description."""

    root: dict[str, tuple[int, str]]
    nested: dict[str, tuple[int, str]] = field(default_factory=dict)


def write_spec(specs: Path, name: str, batches: int, folded: bool) -> Path:
    """A spec with `batches` operation pairs; `folded`: keys are case-insensitive (and numbers
    may stand for strings), as for e-Builder."""
    folder = specs / name
    folder.mkdir(parents=True)
    options = "  keys: case_insensitive\n  accept_numbers_as_strings: true\n" if folded else ""
    (folder / "api.yaml").write_text(
        f"""api:
  name: {name}
  title: Hostile {name}
  client_class: Hostile{name.title()}
  version: 1.0.0
  description: Pulled schemas with hostile property names.
  base_path: /v1
  environments:
    test: {{base_url: "https://api.example.test", token_url: "https://id.example.test/token"}}
  auth: {{kind: oauth2_client_credentials, token_lifetime_seconds: 3600}}
{options}""",
        encoding="utf-8",
    )
    operations, models = [], []
    for i in range(batches):
        operations.append(f"""  get{i}:
    wire_name: Get{i}
    method: GET
    path: /things{i}
    summary: Read thing {i}.
    confidence: inferred
    source: A test fixture.
    response: Thing{i}
  put{i}:
    wire_name: Put{i}
    method: POST
    path: /things{i}
    summary: Write thing {i}.
    confidence: inferred
    source: A test fixture.
    body: NewThing{i}
    response: Thing{i}
""")
        models.append(f"""  Thing{i}:
    fields:
      ThingId: {{type: string, required: true}}
      Sub: {{type: Sub{i}}}
      Count: {{type: integer}}
      Made: {{type: datetime}}
      Day: {{type: date}}
      Price: {{type: decimal}}
      Tags: {{type: "list[string]"}}
      Choice: {{type: string, enum: [a, b]}}
    moves:
      - {{kind: rename, from: OldName, to: ThingId}}
  Sub{i}:
    fields:
      Note: {{type: string}}
  NewThing{i}:
    fields:
      ThingName: {{type: string, required: true}}
""")
    (folder / "things.yaml").write_text(
        "resource: things\noperations:\n" + "".join(operations) + "models:\n" + "".join(models),
        encoding="utf-8",
    )
    return folder


def _properties(names: dict[str, tuple[int, str]]) -> dict[str, Any]:
    out = {}
    for name, (shape, description) in names.items():
        schema = dict(SHAPES[shape][0])
        if description:
            schema["description"] = description
        out[name] = schema
    return out


def write_schemas(folder: Path, batches: list[Batch]) -> None:
    """Json.NET-style pulled schemas, as `apigen pull-schemas` stores them."""
    schemas = folder / "schemas"
    schemas.mkdir()
    for i, batch in enumerate(batches):
        root = _properties(batch.root)
        sub = {"type": ["object", "null"], "properties": _properties(batch.nested)}
        response = {
            "type": "object",
            "properties": {**root, "Sub": sub},
            "definitions": DEFINITIONS,
        }
        request = {"type": "object", "properties": root, "definitions": DEFINITIONS}
        for wire, schema in ((f"Get{i}", response), (f"Put{i}", request)):
            text = json.dumps(schema, sort_keys=True, indent=2) + "\n"
            (schemas / f"{wire}.{'response' if wire[0] == 'G' else 'request'}.json").write_text(
                text, encoding="utf-8"
            )


@dataclass
class Ledger:
    """What became of every pulled property: `cases` are (api, model, record) records that
    must round-trip; `rejected` the properties a finding names; `yaml` those the YAML has."""

    cases: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    added: int = 0
    rejected: int = 0
    yaml: int = 0
    problems: list[str] = field(default_factory=list)


def _model_keys(api: Api, model: str) -> tuple[set[str], set[str]]:
    """(folded wire names and aliases, Python names) of a model's YAML fields."""
    fields = api.model(model).fields
    fold = api.keys_case_insensitive
    keys = {wire_key(n, fold) for f in fields for n in (f.wire_name, *f.aliases)}
    return keys, {f.python_name for f in fields}


def account(
    api: Api, findings: list[EnrichmentNote], batches: list[Batch], ledger: Ledger
) -> None:
    """With `api` as the YAML has it (not enriched), check that every property is a YAML
    field, an added field, or rejected for a reason
    (a key equal to a YAML field's Python name, or a case variant of another property under
    case-insensitive keys), and queue the records the added fields must round-trip."""
    fold = api.keys_case_insensitive
    by_place: dict[tuple[str, str, str], list[EnrichmentNote]] = {}
    for f in findings:
        by_place.setdefault((f.operation, f.kind, f.path), []).append(f)
    for i, batch in enumerate(batches):
        places = [
            (f"Get{i}", "response", f"Thing{i}", "", batch.root),
            (f"Get{i}", "response", f"Sub{i}", "Sub", batch.nested),
            (f"Put{i}", "request", f"NewThing{i}", "", batch.root),
        ]
        for op, kind, model, prefix, names in places:
            keys, python = _model_keys(api, model)
            base = REQUIRED[model.rstrip("0123456789")]
            added = {}
            for name, (shape, _) in names.items():
                here = by_place.get((op, kind, join_path(prefix, name)), [])
                what = f"{api.name} {op} {kind} {model} {name!r}"
                if wire_key(name, fold) in keys:
                    ledger.yaml += 1
                    continue
                news = [f for f in here if f.category == "added"]
                if news:
                    if news[0].field is None or news[0].field.wire_name != name:
                        ledger.problems.append(f"{what}: added under another wire name")
                    added[name] = SHAPES[shape][1]
                    continue
                if not [f for f in here if f.category == "mismatch"]:
                    ledger.problems.append(f"{what}: silently dropped (no field, no finding)")
                    continue
                variant = fold and any(
                    other != name and other.lower() == name.lower() for other in names
                )
                if not (variant or wire_key(name, fold) in python):
                    ledger.problems.append(f"{what}: rejected without a reason")
                ledger.rejected += 1
            ledger.added += len(added)
            for name, value in added.items():
                record = {name: value}
                ledger.cases.append(
                    (api.name, f"Thing{i}", {**REQUIRED["Thing"], "Sub": record})
                    if prefix
                    else (api.name, model, {**base, **record})
                )
            if added and prefix:
                ledger.cases.append((api.name, f"Thing{i}", {**REQUIRED["Thing"], "Sub": added}))
            elif added:
                ledger.cases.append((api.name, model, {**base, **added}))


# ---------------------------------------------------------------------------------------------
# Hypothesis strategies: names from every class, random text, and variants of names drawn.


def _variants(name: str) -> list[str]:
    return [
        name.upper(), name.lower(), name.swapcase(), name.title(), name.casefold(),
        name.replace("_", "-"), name.replace("-", "_"), name.replace(" ", "_"),
        unicodedata.normalize("NFD", name), unicodedata.normalize("NFC", name),
        unicodedata.normalize("NFKC", name), f" {name}", f"{name} ", f"_{name}", f"{name}_",
        f"__{name}__",
    ]  # fmt: skip


ALL_NAMES = sorted({n for names in CLASSES.values() for n in names})
_TEXT = st.characters(codec="utf-8", exclude_categories=["Cs"])
base_names = st.one_of(
    st.sampled_from(ALL_NAMES),
    st.text(_TEXT, max_size=12),
    st.text("aAbB_- .$0é\u0301ßK", max_size=6),
    st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,10}", fullmatch=True),
)


@st.composite
def name_sets(draw: st.DrawFn, max_size: int) -> dict[str, tuple[int, str]]:
    names = draw(st.lists(base_names, min_size=1, max_size=max_size, unique=True))
    for picked in draw(st.lists(st.sampled_from(names), max_size=4)):
        names.append(draw(st.sampled_from(_variants(picked))))
    shapes = st.integers(0, len(SHAPES) - 1)
    descriptions = st.one_of(st.just(""), st.sampled_from(PAYLOADS), st.text(_TEXT, max_size=30))
    return {name: (draw(shapes), draw(descriptions)) for name in dict.fromkeys(names)}


@st.composite
def batches(draw: st.DrawFn) -> Batch:
    return Batch(draw(name_sets(10)), draw(name_sets(4)))


def explicit_batches() -> list[Batch]:
    """One batch per class: every name of the class at the root and nested, in one schema,
    with the shapes taken in turn and the payloads as descriptions."""
    out = []
    for n, names in enumerate(CLASSES.values()):
        props = {
            name: ((n + k) % len(SHAPES), PAYLOADS[(n + k) % len(PAYLOADS)])
            for k, name in enumerate(names)
        }
        out.append(Batch(props, props))
    return out
