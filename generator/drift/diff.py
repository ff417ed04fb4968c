"""Classify the changes between a baseline JSON Schema and a revision of it.

The level of a change depends on the direction: a client *sends* a request body, so a request
schema that accepts less breaks it; a client *reads* a response body, so a response schema that
may produce more breaks it (anchors-drift.md §2). Both schemas are normalised first, so that a
refactor which accepts the same documents reports nothing. Rule ids read
`{request|response}-{subject}-{action}`; `RULES` lists every one with its two levels.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from generator.drift.findings import Finding, Level
from generator.drift.normalize import key, normalize

B: Level = "breaking"
P: Level = "potentially-breaking"
N: Level = "non-breaking"

# name -> (request level, response level, whether the generated Python surface changes)
_RULES: dict[str, tuple[Level, Level, bool]] = {
    # 2a object shape
    "property-added": (N, N, True),
    "required-property-added": (B, N, True),
    "required-property-added-with-default": (B, N, True),
    "property-removed": (P, P, True),
    "property-removed-from-closed-object": (B, P, True),
    "required-property-removed": (P, B, True),
    "required-property-removed-from-closed-object": (B, B, True),
    "property-became-required": (B, N, True),
    "property-became-optional": (N, B, True),
    "additional-properties-closed": (B, N, False),
    "additional-properties-opened": (N, P, False),
    "pattern-property-added": (B, N, False),
    "pattern-property-removed": (N, B, False),
    "property-names-added": (B, N, False),
    "property-names-removed": (N, B, False),
    "dependent-required-added": (B, N, False),
    "dependent-required-removed": (N, B, False),
    "dependent-schema-added": (B, N, False),
    "dependent-schema-removed": (N, B, False),
    "property-became-read-only": (N, N, False),
    "property-became-not-read-only": (N, N, False),
    "property-became-write-only": (N, N, False),
    "property-became-not-write-only": (N, N, False),
    "unevaluated-properties-added": (B, N, False),
    "unevaluated-properties-removed": (N, B, False),
    # 2b type, format, nullability
    "type-changed": (B, B, True),
    "type-widened": (N, B, True),
    "type-narrowed": (B, N, True),
    "format-added": (B, N, False),
    "format-removed": (N, B, False),
    "format-widened": (N, B, False),
    "format-narrowed": (B, N, False),
    "format-changed": (B, B, False),
    "became-nullable": (N, B, True),
    "became-not-nullable": (B, N, True),
    "wrapped-in-one-of": (B, B, True),
    "wrapped-in-any-of": (B, B, True),
    "unwrapped-from-one-of": (B, N, True),
    "unwrapped-from-any-of": (B, N, True),
    # 2c values
    "enum-value-added": (N, P, True),
    "enum-value-removed": (B, N, True),  # wire-safe for a response; codegen flags the member
    "became-enum": (B, N, True),
    "enum-removed": (N, B, True),
    "const-added": (B, N, True),
    "const-changed": (B, B, True),
    "const-removed": (N, B, True),
    "default-added": (N, N, False),
    "default-changed": (N, N, False),
    "default-removed": (N, N, False),
    # 2d constraints; bound keywords are added below
    "multiple-of-added": (B, N, False),
    "multiple-of-changed": (B, N, False),
    "multiple-of-removed": (N, P, False),
    "pattern-added": (B, N, False),
    "pattern-changed": (P, N, False),
    "pattern-removed": (N, N, False),
    "unique-items-added": (B, N, False),
    "unique-items-removed": (N, P, False),
    "became-tuple": (B, B, True),
    "became-array": (N, P, True),
    "tuple-length-changed": (B, B, True),
    "contains-added": (B, N, False),
    "contains-removed": (N, B, False),
    # 2e composition
    "one-of-branch-added": (N, B, True),
    "one-of-branch-removed": (B, N, True),
    "any-of-branch-added": (N, B, True),
    "any-of-branch-removed": (B, N, True),
    "all-of-added": (B, N, False),
    "all-of-removed": (P, N, False),
    "if-added": (B, N, False),
    "if-removed": (N, B, False),
    "not-added": (B, N, False),
    "not-removed": (N, B, False),
    "not-changed": (P, P, False),
    "discriminator-added": (N, N, True),
    "discriminator-removed": (N, N, True),
    "discriminator-changed": (N, N, True),
}
# A bound tightened (or set) narrows what is valid: breaking for a request. Loosened (or unset)
# only widens a response, which our clients do not validate: potentially breaking (§2d C2/C4).
_BOUNDS = {
    "minLength": "min-length", "maxLength": "max-length",
    "minimum": "min", "maximum": "max",
    "exclusiveMinimum": "exclusive-min", "exclusiveMaximum": "exclusive-max",
    "minItems": "min-items", "maxItems": "max-items",
    "minProperties": "min-properties", "maxProperties": "max-properties",
    "minContains": "min-contains", "maxContains": "max-contains",
}  # fmt: skip
for _word, _name in _BOUNDS.items():
    _lower = _word.startswith("min") or _word == "exclusiveMinimum"
    _RULES[f"{_name}-set"] = (B, N, False)
    _RULES[f"{_name}-unset"] = (N, P, False)
    _RULES[f"{_name}-{'increased' if _lower else 'decreased'}"] = (B, N, False)
    _RULES[f"{_name}-{'decreased' if _lower else 'increased'}"] = (N, P, False)

def _rule_name(name: str) -> str:
    """`{subject}-{action}`: the subject is a property unless the name says otherwise."""
    return name if "propert" in name else f"property-{name}"


# Every rule's (request level, response level), keyed by `{subject}-{action}`.
RULES: dict[str, tuple[Level, Level]] = {
    _rule_name(name): (req, resp) for name, (req, resp, _) in _RULES.items()
}
ENDPOINT_RULES: dict[str, Level] = {"endpoint-removed": B, "endpoint-added": N}


def rule_ids() -> list[tuple[str, Level, bool]]:
    """Every rule id this module can emit, with its level and default codegen flag."""
    rows = [(f"{d}-{_rule_name(name)}", levels[i], codegen)
            for name, (*levels, codegen) in _RULES.items()
            for i, d in enumerate(("request", "response"))]  # fmt: skip
    rows += [(rule, level, False) for rule, level in ENDPOINT_RULES.items()]
    return sorted(rows)


# format -> the Python type a conventional generator maps it to; a format change that moves
# between these changes the generated surface (int32 -> int64 does not).
_FORMAT_TYPES = {
    "date-time": "datetime", "date": "date", "time": "time", "duration": "timedelta",
    "uuid": "UUID", "binary": "bytes", "ipv4": "IPv4Address", "ipv6": "IPv6Address",
    "uri": "AnyUrl", "email": "EmailStr", "decimal": "Decimal",
}  # fmt: skip
# narrower -> wider, for formats where every value of one is a value of the other (§2b T5)
_FORMAT_WIDER = {("int32", "int64"), ("float", "double"), ("date", "date-time")}
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def compare(base: dict[str, Any], revision: dict[str, Any], *,
            direction: Literal["request", "response"], operation: str) -> list[Finding]:
    """Changes from `base` to `revision`, one finding per change, most severe first."""
    walker = _Walker(direction, operation)
    walker.walk(normalize(base), normalize(revision), "$")
    return sorted(walker.findings, key=Finding.sort_key)


def compare_endpoints(base_ops: Iterable[str], live_ops: Iterable[str]) -> list[Finding]:
    """Operations gone from the live API (E1) or live but not in the repository (E2)."""
    base, live = set(base_ops), set(live_ops)
    findings = [Finding("endpoint-removed", B, "endpoint", op, "$", codegen=True,
                        message="in the repository but not in the live API")
                for op in base - live]  # fmt: skip
    findings += [Finding("endpoint-added", N, "endpoint", op, "$",
                         message="live but not in the repository; sync the specs")
                 for op in live - base]  # fmt: skip
    return sorted(findings, key=Finding.sort_key)


def _types(schema: dict[str, Any]) -> set[str]:
    return set(schema.get("type", [])) - {"null"}


def _nullable(schema: dict[str, Any]) -> bool:
    return "null" in schema.get("type", []) or schema.get("nullable") is True


def _covers(wide: set[str], narrow: set[str]) -> bool:
    """Every value of a type in `narrow` is also a value of a type in `wide`."""
    if not wide:
        return True
    return all(t in wide or (t == "integer" and "number" in wide) for t in narrow) and bool(narrow)


def _child(path: str, name: str) -> str:
    return f"{path}.{name}" if _IDENTIFIER.match(name) else f"{path}[{key(name)}]"


@dataclass
class _Walker:
    direction: Literal["request", "response"]
    operation: str
    findings: list[Finding] = field(default_factory=list)

    def report(self, name: str, path: str, old: Any = None, new: Any = None, *,
               codegen: bool | None = None, message: str = "") -> None:
        request, response, default_codegen = _RULES[name]
        self.findings.append(Finding(
            rule=f"{self.direction}-{_rule_name(name)}",
            level=request if self.direction == "request" else response,
            direction=self.direction, operation=self.operation, path=path, old=old, new=new,
            codegen=default_codegen if codegen is None else codegen, message=message))

    def walk(self, base: Any, rev: Any, path: str) -> None:
        if base == rev:
            return
        # A recursion marker stands for a schema already compared one level up; a boolean
        # `false` schema only arises from an unsatisfiable conjunction. Neither can be walked.
        if not isinstance(base, dict) or not isinstance(rev, dict) or (
                "$recursive" in base or "$recursive" in rev):
            return
        if self.unions(base, rev, path) or not self.types(base, rev, path):
            return  # a new shape or an incompatible type: what lies below is not comparable
        self.nullability(base, rev, path)
        self.format(base, rev, path)
        self.values(base, rev, path)
        self.bounds(base, rev, path)
        self.strings_and_arrays(base, rev, path)
        self.objects(base, rev, path)
        self.composition(base, rev, path)

    def types(self, base: dict[str, Any], rev: dict[str, Any], path: str) -> bool:
        old, new = _types(base), _types(rev)
        if old == new:
            return True
        values = (sorted(old) or None, sorted(new) or None)
        if _covers(new, old):
            self.report("type-widened", path, *values)
        elif _covers(old, new):
            self.report("type-narrowed", path, *values)
        else:
            self.report("type-changed", path, *values)
            return False
        return True

    def nullability(self, base: dict[str, Any], rev: dict[str, Any], path: str) -> None:
        if _nullable(base) != _nullable(rev):
            self.report("became-nullable" if _nullable(rev) else "became-not-nullable", path,
                        _nullable(base), _nullable(rev))

    def format(self, base: dict[str, Any], rev: dict[str, Any], path: str) -> None:
        old, new = base.get("format"), rev.get("format")
        if old == new:
            return
        if old is None:
            name = "format-added"
        elif new is None:
            name = "format-removed"
        elif (old, new) in _FORMAT_WIDER:
            name = "format-widened"
        elif (new, old) in _FORMAT_WIDER:
            name = "format-narrowed"
        else:
            name = "format-changed"
        codegen = _FORMAT_TYPES.get(str(old)) != _FORMAT_TYPES.get(str(new))
        self.report(name, path, old, new, codegen=codegen)

    def values(self, base: dict[str, Any], rev: dict[str, Any], path: str) -> None:
        old, new = base.get("enum"), rev.get("enum")
        if old is None and new is not None:
            self.report("became-enum", path, None, new)
        elif old is not None and new is None:
            self.report("enum-removed", path, old, None)
        elif old is not None and new is not None:
            old_keys, new_keys = {key(v) for v in old}, {key(v) for v in new}
            added = [v for v in new if key(v) not in old_keys]
            removed = [v for v in old if key(v) not in new_keys]
            if added:
                self.report("enum-value-added", path, old, new, message=f"added {added}")
            if removed:
                self.report("enum-value-removed", path, old, new, message=f"removed {removed}")
        for word, stem in (("const", "const"), ("default", "default")):
            if base.get(word) != rev.get(word) or (word in base) != (word in rev):
                action = ("added" if word not in base else
                          "removed" if word not in rev else "changed")  # fmt: skip
                self.report(f"{stem}-{action}", path, base.get(word), rev.get(word))

    def bounds(self, base: dict[str, Any], rev: dict[str, Any], path: str) -> None:
        for word, name in _BOUNDS.items():
            old, new = base.get(word), rev.get(word)
            if old == new:
                continue
            if old is None:
                action = "set"
            elif new is None:
                action = "unset"
            else:
                action = "increased" if new > old else "decreased"
            self.report(f"{name}-{action}", path, old, new)
        old_m, new_m = base.get("multipleOf"), rev.get("multipleOf")
        if old_m != new_m:
            action = "added" if old_m is None else "removed" if new_m is None else "changed"
            self.report(f"multiple-of-{action}", path, old_m, new_m)

    def strings_and_arrays(self, base: dict[str, Any], rev: dict[str, Any], path: str) -> None:
        old, new = base.get("pattern"), rev.get("pattern")
        if old != new:
            action = "added" if old is None else "removed" if new is None else "changed"
            self.report(f"pattern-{action}", path, old, new)
        if bool(base.get("uniqueItems")) != bool(rev.get("uniqueItems")):
            self.report("unique-items-added" if rev.get("uniqueItems") else "unique-items-removed",
                        path, bool(base.get("uniqueItems")), bool(rev.get("uniqueItems")))
        old_t, new_t = base.get("prefixItems"), rev.get("prefixItems")
        if old_t is None and new_t is not None:
            self.report("became-tuple", path, None, len(new_t))
        elif old_t is not None and new_t is None:
            self.report("became-array", path, len(old_t), None)
        elif old_t is not None and new_t is not None:
            if len(old_t) != len(new_t):
                self.report("tuple-length-changed", path, len(old_t), len(new_t))
            for i, (b, r) in enumerate(zip(old_t, new_t, strict=False)):
                self.walk(b, r, f"{path}[{i}]")
        self.walk(base.get("items", {}), rev.get("items", {}), f"{path}[]")
        self.optional_schema("contains", base, rev, path, f"{path}<contains>")

    def objects(self, base: dict[str, Any], rev: dict[str, Any], path: str) -> None:
        old_props, new_props = base.get("properties", {}), rev.get("properties", {})
        old_req, new_req = set(base.get("required", [])), set(rev.get("required", []))
        closed = base.get("additionalProperties") is False
        for name in sorted(set(old_props) | old_req | set(new_props) | new_req):
            where = _child(path, name)
            in_old = name in old_props or name in old_req
            in_new = name in new_props or name in new_req
            if in_old and not in_new:
                stem = "required-property-removed" if name in old_req else "property-removed"
                self.report(f"{stem}-from-closed-object" if closed else stem, where)
            elif in_new and not in_old:
                schema = new_props.get(name, {})
                if name not in new_req:
                    self.report("property-added", where)
                elif isinstance(schema, dict) and "default" in schema:
                    self.report("required-property-added-with-default", where,
                                None, schema["default"])
                else:
                    self.report("required-property-added", where)
            else:
                if (name in old_req) != (name in new_req):
                    self.report("property-became-required" if name in new_req
                                else "property-became-optional", where)  # fmt: skip
                old_s, new_s = old_props.get(name, {}), new_props.get(name, {})
                self.access(old_s, new_s, where)
                self.walk(old_s, new_s, where)

        old_extra, new_extra = base.get("additionalProperties"), rev.get("additionalProperties")
        if old_extra is not False and new_extra is False:
            self.report("additional-properties-closed", path)
        elif old_extra is False and new_extra is not False:
            self.report("additional-properties-opened", path)
        elif old_extra is not False:
            self.walk(old_extra or {}, new_extra or {}, f"{path}.*")
        if (base.get("unevaluatedProperties") is False) != (
                rev.get("unevaluatedProperties") is False):
            self.report("unevaluated-properties-added"
                        if rev.get("unevaluatedProperties") is False
                        else "unevaluated-properties-removed", path)  # fmt: skip

        self.schema_map("patternProperties", "pattern-property", base, rev, path)
        self.schema_map("dependentSchemas", "dependent-schema", base, rev, path)
        self.optional_schema("propertyNames", base, rev, path, f"{path}<propertyNames>")
        old_dep, new_dep = base.get("dependentRequired", {}), rev.get("dependentRequired", {})
        pairs_old = {(k, v) for k, vs in old_dep.items() for v in vs}
        pairs_new = {(k, v) for k, vs in new_dep.items() for v in vs}
        for k, v in sorted(pairs_new - pairs_old):
            self.report("dependent-required-added", _child(path, k), None, v)
        for k, v in sorted(pairs_old - pairs_new):
            self.report("dependent-required-removed", _child(path, k), v, None)

    def access(self, base: Any, rev: Any, path: str) -> None:
        if not isinstance(base, dict) or not isinstance(rev, dict):
            return
        for word, stem in (("readOnly", "read-only"), ("writeOnly", "write-only")):
            if bool(base.get(word)) != bool(rev.get(word)):
                state = stem if rev.get(word) else f"not-{stem}"
                self.report(f"property-became-{state}", path)

    def schema_map(self, word: str, stem: str, base: dict[str, Any], rev: dict[str, Any],
                   path: str) -> None:
        old, new = base.get(word, {}), rev.get(word, {})
        for name in sorted(set(old) | set(new)):
            where = f"{path}{{{name}}}"
            if name not in old:
                self.report(f"{stem}-added", where)
            elif name not in new:
                self.report(f"{stem}-removed", where)
            else:
                self.walk(old[name], new[name], where)

    def optional_schema(self, word: str, base: dict[str, Any], rev: dict[str, Any], path: str,
                        where: str) -> None:
        """A keyword whose presence constrains (contains, propertyNames): added, removed or
        compared below."""
        stem = {"contains": "contains", "propertyNames": "property-names"}[word]
        if word not in base and word in rev:
            self.report(f"{stem}-added", path)
        elif word in base and word not in rev:
            self.report(f"{stem}-removed", path)
        elif word in base:
            self.walk(base[word], rev[word], where)

    def unions(self, base: dict[str, Any], rev: dict[str, Any], path: str) -> bool:
        """Union changes; True when the schemas are no longer comparable below."""
        for word, stem in (("oneOf", "one-of"), ("anyOf", "any-of")):
            old, new = base.get(word), rev.get(word)
            if old is None and new is not None:
                self.report(f"wrapped-in-{stem}", path, None, len(new))
                return True
            if old is not None and new is None:
                self.report(f"unwrapped-from-{stem}", path, len(old), None)
                return True
            if old is None or new is None:
                continue
            new_keys = {key(b) for b in new}
            old_keys = {key(b) for b in old}
            removed = [b for b in old if key(b) not in new_keys]
            added = [(i, b) for i, b in enumerate(new) if key(b) not in old_keys]
            # a branch that changed inside keeps its type: compare it rather than report
            # a removal and an addition
            for b in list(removed):
                match = next(((i, r) for i, r in added
                              if isinstance(b, dict) and isinstance(r, dict)
                              and _types(b) == _types(r)), None)  # fmt: skip
                if match is not None:
                    added.remove(match)
                    removed.remove(b)
                    self.walk(b, match[1], f"{path}<{word}[{match[0]}]>")
            for i, b in added:
                self.report(f"{stem}-branch-added", f"{path}<{word}[{i}]>", None, b)
            for b in removed:
                self.report(f"{stem}-branch-removed", f"{path}<{word}>", b, None)
        return False

    def composition(self, base: dict[str, Any], rev: dict[str, Any], path: str) -> None:
        old_all, new_all = base.get("allOf", []), rev.get("allOf", [])
        old_keys, new_keys = {key(m) for m in old_all}, {key(m) for m in new_all}
        for m in new_all:
            if key(m) not in old_keys:
                self.report("all-of-added", f"{path}<allOf>", None, m)
        for m in old_all:
            if key(m) not in new_keys:
                self.report("all-of-removed", f"{path}<allOf>", m, None)
        if "if" not in base and "if" in rev:
            self.report("if-added", path)
        elif "if" in base and "if" not in rev:
            self.report("if-removed", path)
        elif "if" in base:
            for word in ("if", "then", "else"):
                self.walk(base.get(word, {}), rev.get(word, {}), f"{path}<{word}>")
        if "not" not in base and "not" in rev:
            self.report("not-added", path, None, rev["not"])
        elif "not" in base and "not" not in rev:
            self.report("not-removed", path, base["not"], None)
        elif base.get("not") != rev.get("not"):
            self.report("not-changed", path, base["not"], rev["not"])
        if base.get("discriminator") != rev.get("discriminator"):
            action = ("added" if "discriminator" not in base else
                      "removed" if "discriminator" not in rev else "changed")  # fmt: skip
            self.report(f"discriminator-{action}", path,
                        base.get("discriminator"), rev.get("discriminator"))
