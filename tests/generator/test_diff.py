"""Change kinds of anchors-drift.md §2, each classified in both directions, and the
normalisation that keeps semantically equal rewrites silent."""

from __future__ import annotations

from typing import Any

import pytest

from generator.drift import RULES, compare, compare_endpoints, normalize, rule_ids

B, P, N = "breaking", "potentially-breaking", "non-breaking"


def obj(required: tuple[str, ...] = (), **props: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": props}
    if required:
        schema["required"] = list(required)
    return schema


def x(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` as the property `x` of an object, so findings sit at `$.x`."""
    return obj(x=schema)


S = {"type": "string"}
I32 = {"type": "integer"}


def row(name: str, base: dict[str, Any], rev: dict[str, Any], rule: str, request: str,
        response: str) -> tuple[str, dict[str, Any], dict[str, Any], str, str, str, str]:
    return (name, base, rev, f"request-{rule}", request, f"response-{rule}", response)


ROWS = [
    # 2a object shape
    row("O1 optional added", obj(a=S), obj(a=S, b=S), "property-added", N, N),
    row("O2 required added", obj(("a",), a=S), obj(("a", "b"), a=S, b=S),
        "required-property-added", B, N),
    row("O3 required added with default", obj(a=S), obj(("b",), a=S, b={**S, "default": "z"}),
        "required-property-added-with-default", B, N),
    row("O4 optional removed", obj(a=S, b=S), obj(a=S), "property-removed", P, P),
    row("O4 optional removed, closed", {**obj(a=S, b=S), "additionalProperties": False},
        {**obj(a=S), "additionalProperties": False}, "property-removed-from-closed-object", B, P),
    row("O5 required removed", obj(("a", "b"), a=S, b=S), obj(("a",), a=S),
        "required-property-removed", P, B),
    row("O5 required removed, closed", {**obj(("b",), a=S, b=S), "additionalProperties": False},
        {**obj(a=S), "additionalProperties": False},
        "required-property-removed-from-closed-object", B, B),
    row("O6 became required", obj(a=S), obj(("a",), a=S), "property-became-required", B, N),
    row("O7 became optional", obj(("a",), a=S), obj(a=S), "property-became-optional", N, B),
    row("O9 closed", obj(a=S), {**obj(a=S), "additionalProperties": False},
        "additional-properties-closed", B, N),
    row("O10 opened", {**obj(a=S), "additionalProperties": False}, obj(a=S),
        "additional-properties-opened", N, P),
    row("O11 additionalProperties schema", {**obj(), "additionalProperties": {"type": "number"}},
        {**obj(), "additionalProperties": {"type": "integer"}}, "property-type-narrowed", B, N),
    row("O12 patternProperties added", obj(), {**obj(), "patternProperties": {"^a": S}},
        "pattern-property-added", B, N),
    row("O12 patternProperties removed", {**obj(), "patternProperties": {"^a": S}}, obj(),
        "pattern-property-removed", N, B),
    row("O13 propertyNames added", obj(), {**obj(), "propertyNames": {"maxLength": 3}},
        "property-names-added", B, N),
    row("O13 propertyNames removed", {**obj(), "propertyNames": {"maxLength": 3}}, obj(),
        "property-names-removed", N, B),
    row("O14 dependentRequired added", obj(a=S, b=S),
        {**obj(a=S, b=S), "dependentRequired": {"a": ["b"]}},
        "property-dependent-required-added", B, N),
    row("O14 dependentRequired removed", {**obj(a=S, b=S), "dependentRequired": {"a": ["b"]}},
        obj(a=S, b=S), "property-dependent-required-removed", N, B),
    row("O14 dependentSchemas added", obj(a=S), {**obj(a=S), "dependentSchemas": {"a": obj()}},
        "property-dependent-schema-added", B, N),
    row("O15 minProperties set", obj(), {**obj(), "minProperties": 1}, "min-properties-set", B, N),
    row("O15 maxProperties decreased", {**obj(), "maxProperties": 5},
        {**obj(), "maxProperties": 3}, "max-properties-decreased", B, N),
    row("O16 minProperties decreased", {**obj(), "minProperties": 2},
        {**obj(), "minProperties": 1}, "min-properties-decreased", N, P),
    row("O16 maxProperties unset", {**obj(), "maxProperties": 5}, obj(),
        "max-properties-unset", N, P),
    row("O17 became readOnly", x(S), x({**S, "readOnly": True}),
        "property-became-read-only", N, N),
    row("O17 became writeOnly", x(S), x({**S, "writeOnly": True}),
        "property-became-write-only", N, N),
    row("O18 unevaluatedProperties false added", obj(),
        {**obj(), "unevaluatedProperties": False}, "unevaluated-properties-added", B, N),
    row("O18 unevaluatedProperties false removed", {**obj(), "unevaluatedProperties": False},
        obj(), "unevaluated-properties-removed", N, B),
    # 2b type, format, nullability
    row("T1 string to integer", x(S), x(I32), "property-type-changed", B, B),
    row("T1 object to array", x(obj()), x({"type": "array"}), "property-type-changed", B, B),
    row("T2 integer to number", x(I32), x({"type": "number"}), "property-type-widened", N, B),
    row("T2 type list grows", x(S), x({"type": ["string", "integer"]}),
        "property-type-widened", N, B),
    row("T2 type removed", x(S), x({}), "property-type-widened", N, B),
    row("T3 number to integer", x({"type": "number"}), x(I32), "property-type-narrowed", B, N),
    row("T3 type list shrinks", x({"type": ["string", "integer"]}), x(S),
        "property-type-narrowed", B, N),
    row("T5 format widened", x({**I32, "format": "int32"}), x({**I32, "format": "int64"}),
        "property-format-widened", N, B),
    row("T5 format removed", x({**S, "format": "uuid"}), x(S), "property-format-removed", N, B),
    row("T6 format narrowed", x({**S, "format": "date-time"}), x({**S, "format": "date"}),
        "property-format-narrowed", B, N),
    row("T6 format added", x(S), x({**S, "format": "uuid"}), "property-format-added", B, N),
    row("T7 format changed", x({**S, "format": "date-time"}), x({**S, "format": "email"}),
        "property-format-changed", B, B),
    row("T8 nullable: true", x(S), x({**S, "nullable": True}), "property-became-nullable", N, B),
    row("T8 null in type list", x(S), x({"type": ["string", "null"]}),
        "property-became-nullable", N, B),
    row("T8 oneOf with null", x(S), x({"oneOf": [{"type": "null"}, S]}),
        "property-became-nullable", N, B),
    row("T9 became not nullable", x({"type": ["string", "null"]}), x(S),
        "property-became-not-nullable", B, N),
    row("T10 wrapped in oneOf", x(S), x({"oneOf": [S, I32]}), "property-wrapped-in-one-of", B, B),
    row("T10 wrapped in anyOf", x(S), x({"anyOf": [S, I32]}), "property-wrapped-in-any-of", B, B),
    row("T10 unwrapped from oneOf", x({"oneOf": [S, I32]}), x(S),
        "property-unwrapped-from-one-of", B, N),
    # 2c values
    row("V1 enum value added", x({**S, "enum": ["A", "B"]}), x({**S, "enum": ["A", "B", "C"]}),
        "property-enum-value-added", N, P),
    row("V2 enum value removed", x({**S, "enum": ["A", "B"]}), x({**S, "enum": ["A"]}),
        "property-enum-value-removed", B, N),
    row("V3 became enum", x(S), x({**S, "enum": ["A"]}), "property-became-enum", B, N),
    row("V4 enum removed", x({**S, "enum": ["A"]}), x(S), "property-enum-removed", N, B),
    row("V6 const added", x(S), x({**S, "const": "A"}), "property-const-added", B, N),
    row("V6 const changed", x({**S, "const": "A"}), x({**S, "const": "B"}),
        "property-const-changed", B, B),
    row("V6 const removed", x({**S, "const": "A"}), x(S), "property-const-removed", N, B),
    row("V7 default added", x(S), x({**S, "default": "A"}), "property-default-added", N, N),
    row("V7 default changed", x({**S, "default": "A"}), x({**S, "default": "B"}),
        "property-default-changed", N, N),
    row("V7 default removed", x({**S, "default": "A"}), x(S), "property-default-removed", N, N),
    # 2d constraints
    row("C1 maxLength decreased", x({**S, "maxLength": 9}), x({**S, "maxLength": 5}),
        "property-max-length-decreased", B, N),
    row("C1 maxLength set", x(S), x({**S, "maxLength": 5}), "property-max-length-set", B, N),
    row("C1 minLength increased", x({**S, "minLength": 1}), x({**S, "minLength": 2}),
        "property-min-length-increased", B, N),
    row("C2 maxLength increased", x({**S, "maxLength": 5}), x({**S, "maxLength": 9}),
        "property-max-length-increased", N, P),
    row("C2 minLength unset", x({**S, "minLength": 1}), x(S), "property-min-length-unset", N, P),
    row("C3 minimum increased", x({**I32, "minimum": 0}), x({**I32, "minimum": 1}),
        "property-min-increased", B, N),
    row("C3 maximum set", x(I32), x({**I32, "maximum": 9}), "property-max-set", B, N),
    row("C3 exclusiveMaximum decreased", x({**I32, "exclusiveMaximum": 9}),
        x({**I32, "exclusiveMaximum": 5}), "property-exclusive-max-decreased", B, N),
    row("C4 maximum increased", x({**I32, "maximum": 5}), x({**I32, "maximum": 9}),
        "property-max-increased", N, P),
    row("C4 minimum unset", x({**I32, "minimum": 0}), x(I32), "property-min-unset", N, P),
    row("C5 multipleOf added", x(I32), x({**I32, "multipleOf": 5}),
        "property-multiple-of-added", B, N),
    row("C5 multipleOf removed", x({**I32, "multipleOf": 5}), x(I32),
        "property-multiple-of-removed", N, P),
    row("C6 pattern added", x(S), x({**S, "pattern": "^a"}), "property-pattern-added", B, N),
    row("C7 pattern changed", x({**S, "pattern": "^a"}), x({**S, "pattern": "^b"}),
        "property-pattern-changed", P, N),
    row("C8 pattern removed", x({**S, "pattern": "^a"}), x(S), "property-pattern-removed", N, N),
    row("C9 minItems set", x({"type": "array"}), x({"type": "array", "minItems": 1}),
        "property-min-items-set", B, N),
    row("C9 maxItems decreased", x({"type": "array", "maxItems": 9}),
        x({"type": "array", "maxItems": 5}), "property-max-items-decreased", B, N),
    row("C10 maxItems unset", x({"type": "array", "maxItems": 9}), x({"type": "array"}),
        "property-max-items-unset", N, P),
    row("C11 uniqueItems added", x({"type": "array"}), x({"type": "array", "uniqueItems": True}),
        "property-unique-items-added", B, N),
    row("C11 uniqueItems removed", x({"type": "array", "uniqueItems": True}),
        x({"type": "array"}), "property-unique-items-removed", N, P),
    row("C12 items recurse", x({"type": "array", "items": S}), x({"type": "array", "items": I32}),
        "property-type-changed", B, B),
    row("C13 array to tuple", x({"type": "array"}), x({"type": "array", "prefixItems": [S]}),
        "property-became-tuple", B, B),
    row("C13 tuple length", x({"type": "array", "items": [S]}),
        x({"type": "array", "items": [S, S]}), "property-tuple-length-changed", B, B),
    row("C14 tuple to array", x({"type": "array", "prefixItems": [S]}), x({"type": "array"}),
        "property-became-array", N, P),
    row("C15 contains added", x({"type": "array"}), x({"type": "array", "contains": S}),
        "property-contains-added", B, N),
    row("C15 minContains increased", x({"type": "array", "contains": S, "minContains": 1}),
        x({"type": "array", "contains": S, "minContains": 2}),
        "property-min-contains-increased", B, N),
    # 2e composition
    row("X1 oneOf branch added", x({"oneOf": [S, I32]}), x({"oneOf": [S, I32, obj()]}),
        "property-one-of-branch-added", N, B),
    row("X1 anyOf branch added", x({"anyOf": [S, I32]}), x({"anyOf": [S, I32, obj()]}),
        "property-any-of-branch-added", N, B),
    row("X2 oneOf branch removed", x({"oneOf": [S, I32, obj()]}), x({"oneOf": [S, I32]}),
        "property-one-of-branch-removed", B, N),
    # two patterns cannot be merged into one keyword, so the second stays a residual allOf
    row("X3 allOf member added", x({**S, "pattern": "^a"}),
        x({"allOf": [{**S, "pattern": "^a"}, {"pattern": "b$"}]}), "property-all-of-added", B, N),
    row("X5 allOf member removed", x({"allOf": [{**S, "pattern": "^a"}, {"pattern": "b$"}]}),
        x({**S, "pattern": "^a"}), "property-all-of-removed", P, N),
    row("X6 if added", x(S), x({**S, "if": {"minLength": 2}, "then": {"pattern": "^a"}}),
        "property-if-added", B, N),
    row("X7 not added", x(S), x({**S, "not": {"const": ""}}), "property-not-added", B, N),
    row("X8 discriminator added", x({"oneOf": [obj(), x(S)]}),
        x({"oneOf": [obj(), x(S)], "discriminator": {"propertyName": "x"}}),
        "property-discriminator-added", N, N),
]


@pytest.mark.parametrize("direction", ["request", "response"])
@pytest.mark.parametrize(("name", "base", "rev", "rule_req", "level_req", "rule_resp",
                          "level_resp"), ROWS, ids=[r[0] for r in ROWS])  # fmt: skip
def test_change_kind(direction: Any, name: str, base: dict[str, Any], rev: dict[str, Any],
                     rule_req: str, level_req: str, rule_resp: str, level_resp: str) -> None:
    findings = compare(base, rev, direction=direction, operation="op")
    expected = (rule_req, level_req) if direction == "request" else (rule_resp, level_resp)
    assert [(f.rule, f.level) for f in findings] == [expected]
    assert all(f.direction == direction and f.operation == "op" for f in findings)


def test_at_least_forty_change_kinds() -> None:
    assert len({r[3] for r in ROWS}) >= 40


def test_every_expectation_matches_the_rules_table() -> None:
    for _, _, _, rule, request, _, response in ROWS:
        assert RULES[rule.removeprefix("request-")] == (request, response)
    ids = {rule for rule, _, _ in rule_ids()}
    assert {"endpoint-removed", "endpoint-added"} <= ids
    assert all(f"request-{name}" in ids and f"response-{name}" in ids for name in RULES)


def test_nested_path_old_new_and_codegen() -> None:
    base = obj(data={"type": "array", "items": obj(header=x({**S, "enum": ["A"]}))})
    rev = obj(data={"type": "array", "items": obj(header=x({**S, "enum": ["A", "B"]}))})
    [finding] = compare(base, rev, direction="response", operation="op")
    assert finding.path == "$.data[].header.x"
    assert (finding.old, finding.new, finding.codegen) == (["A"], ["A", "B"], True)


@pytest.mark.parametrize(("old", "new", "codegen"), [
    ("int32", "int64", False), ("date", "date-time", True), (None, "uuid", True),
    (None, "hostname", False),
])  # fmt: skip
def test_format_codegen_only_when_the_python_type_changes(
        old: str | None, new: str, codegen: bool) -> None:
    base = x({**S, "format": old} if old else S)
    [finding] = compare(base, x({**S, "format": new}), direction="response", operation="op")
    assert finding.codegen is codegen


def test_order_is_deterministic() -> None:
    base = obj(("a",), a=S, b=S, c={**S, "enum": ["A"]})
    rev = obj(b=I32, c={**S, "enum": ["A", "B"]}, d=S)
    findings = compare(base, rev, direction="response", operation="op")
    assert findings == sorted(findings, key=lambda f: f.sort_key())
    assert [f.level for f in findings][0] == B
    assert findings == compare(base, rev, direction="response", operation="op")


def test_renamed_property_is_a_removal_and_an_addition() -> None:
    findings = compare(obj(("a",), a=S), obj(("a2",), a2=S), direction="request", operation="o")
    assert {f.rule for f in findings} == {"request-required-property-removed",
                                          "request-required-property-added"}


# X9: the same documents, spelt differently
PLAIN = obj(("id", "tags"), id={"type": "integer"}, name={"type": ["string", "null"]},
            tags={"type": "array", "items": {"type": "string", "enum": ["a", "b"]}})
REWRITES = {
    "refs and annotations": {
        "$schema": "https://json-schema.org/draft/2020-12/schema", "title": "T",
        "$defs": {"Tag": {"type": "string", "enum": ["b", "a"], "description": "a tag"}},
        "definitions": {"Id": {"type": "integer", "x-internal": True}},
        "type": "object", "required": ["tags", "id"],
        "properties": {"id": {"$ref": "#/definitions/Id"},
                       "name": {"type": "string", "nullable": True, "examples": ["n"]},
                       "tags": {"type": "array", "items": {"$ref": "#/$defs/Tag"}}},
    },
    "allOf split": {"allOf": [obj(("id",), id={"type": "integer"}),
                              obj(("tags",), tags=PLAIN["properties"]["tags"]),
                              obj(name={"anyOf": [{"type": "string"}, {"type": "null"}]})]},
    "single-branch unions": {
        "oneOf": [{**PLAIN, "properties": {
            **PLAIN["properties"],
            "id": {"anyOf": [{"type": "integer"}]},
            "name": {"oneOf": [{"type": "null"}, {"type": "string", "$comment": "c"}]}}}],
    },
}


@pytest.mark.parametrize("rewrite", REWRITES, ids=list(REWRITES))
@pytest.mark.parametrize("direction", ["request", "response"])
def test_equal_rewrites_are_silent(rewrite: str, direction: Any) -> None:
    schema = REWRITES[rewrite]
    assert normalize(schema) == normalize(PLAIN)
    assert compare(PLAIN, schema, direction=direction, operation="op") == []
    assert compare(schema, PLAIN, direction=direction, operation="op") == []


def test_annotation_only_changes_are_silent() -> None:
    rev = {**PLAIN, "description": "now documented", "x-owner": "team", "deprecated": True,
           "properties": {**PLAIN["properties"], "id": {"type": "integer", "title": "Id",
                                                         "example": 3, "$comment": "c"}}}
    for direction in ("request", "response"):
        assert compare(PLAIN, rev, direction=direction, operation="op") == []


TREE = {"$defs": {"Node": obj(name=S, children={"type": "array",
                                                 "items": {"$ref": "#/$defs/Node"}})},
        "$ref": "#/$defs/Node"}


def test_circular_ref_does_not_crash() -> None:
    assert normalize(TREE)["properties"]["children"]["items"] == {"$recursive": "Node"}
    renamed = {"$defs": {"Tree": obj(name=S, children={"type": "array",
                                                        "items": {"$ref": "#/$defs/Tree"}})},
               "$ref": "#/$defs/Tree"}
    assert compare(TREE, renamed, direction="response", operation="op") == []
    grown = {"$defs": {"Node": {**TREE["$defs"]["Node"], "required": ["name"]}},
             "$ref": "#/$defs/Node"}
    [finding] = compare(TREE, grown, direction="request", operation="op")
    assert (finding.rule, finding.path) == ("request-property-became-required", "$.name")
    assert {"$recursive": "#"} in normalize({"$ref": "#", "type": "object"})["allOf"]


@pytest.mark.parametrize(("ref", "message"), [
    ("#/$defs/Missing", "points nowhere"), ("other.json#/A", "external"),
])  # fmt: skip
def test_bad_ref_is_a_clear_error(ref: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        normalize({"properties": {"a": {"$ref": ref}}})


def test_endpoints() -> None:
    findings = compare_endpoints({"a", "b"}, {"b", "c"})
    assert [(f.rule, f.level, f.direction, f.operation) for f in findings] == [
        ("endpoint-removed", B, "endpoint", "a"), ("endpoint-added", N, "endpoint", "c")]
