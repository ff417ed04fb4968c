"""The PowerClerk spec against the V2 migration document, transcribed by hand into ONE table
(tests/fixtures/powerclerk_v1_v2.yaml): every documented operation's V1 and V2 path, every change
the document lists is recorded in the spec, and the spec records no change the document does not
list for those operations."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from powerclerk import OPERATIONS

from generator.codegen.render import Context
from generator.model.ir import Change, Move, Operation
from generator.pipeline import load_api

ROOT = Path(__file__).resolve().parents[2]
API = load_api(ROOT / "specs" / "powerclerk")
CTX = Context(API)
TABLE: dict[str, dict[str, Any]] = yaml.safe_load(
    (ROOT / "tests" / "fixtures" / "powerclerk_v1_v2.yaml").read_text(encoding="utf-8")
)["operations"]
BY_WIRE_NAME = {op.wire_name: op for op in API.operations}
DIRECTIONS = ("request", "response")

# The document writes {{Name}} (once, for SetAttachmentMetadata, {{Name}); the spec {Name}.
_DOC_PLACEHOLDER = re.compile(r"\{\{?(\w+)\}\}?")
# The document's verb -> the move kinds that say it ("moved" also covers same-level renames,
# e.g. "ApprovalStatus has been moved to AttachmentStatus", and Url.Value -> Url flattening).
_MOVE_KINDS = {"moved": ("move", "rename", "flatten"), "renamed": ("rename", "move")}


def _path(doc_path: str) -> str:
    return _DOC_PLACEHOLDER.sub(r"{\1}", doc_path)


def _segments(path: str) -> list[str]:
    return [s.removesuffix("[]") for s in path.split(".") if s]


def _names(doc_path: str, spec_path: str) -> bool:
    """A spec path, relative to its model, names the document's path (which starts at the
    entity, `Project.Forms[].Title` for the Form model's `Title`)."""
    spec = _segments(spec_path)
    return bool(spec) and _segments(doc_path)[-len(spec) :] == spec


def _names_or_inside(doc_path: str, spec_path: str) -> bool:
    """As _names, or the spec target lies inside the object the document moved it into."""
    return _names(doc_path, spec_path) or _names(doc_path, spec_path.rpartition(".")[0])


def _move_matches(fact: dict[str, Any], direction: str, move: Move) -> bool:
    if move.direction not in ("", direction):
        return False
    kind = fact["kind"]
    if kind in _MOVE_KINDS:
        return (
            move.kind in _MOVE_KINDS[kind]
            and _names(fact["from"], move.from_path)
            and _names_or_inside(fact["to"], move.to_path)
        )
    if kind == "added":
        return move.kind == "added" and _names(fact["to"], move.to_path)
    if kind == "removed":
        return move.kind == "removed" and _names(fact["from"], move.from_path)
    if kind == "optional":
        return move.kind == "optional" and _names(fact["field"], move.field)
    if kind == "instances":
        return (
            move.kind == "instances"
            and _names(fact["from"], move.from_path)
            and _names(fact["to"], move.to_path)
        )
    if kind in ("format", "type_changed"):
        return (
            move.kind == kind
            and all(fact[k] == getattr(move, k) for k in ("old", "new") if k in fact)
            and ("field" not in fact or _names(fact["field"], move.field))
            and ("when_type" not in fact or fact["when_type"] in move.when_type)
        )
    return False


def _change_matches(fact: dict[str, Any], direction: str, change: Change) -> bool:
    kind = fact["kind"]
    if kind != change.kind:
        return False
    if kind == "namespace_removed":
        return change.direction in (direction, "both")
    if kind in ("param_format", "param_removed", "param_added"):
        return change.param == fact["param"]
    return kind == "path_changed"  # the paths themselves are compared whole


def _matches(fact: dict[str, Any], direction: str, item: Move | Change) -> bool:
    if isinstance(item, Move):
        return _move_matches(fact, direction, item)
    return _change_matches(fact, direction, item)


def _recorded(op: Operation) -> list[Move | Change]:
    """What the spec says changed for an operation: its v1 changes and the moves that concern it."""
    changes: list[Move | Change] = list(op.v1.changes) if op.v1 else []
    return changes + CTX.moves_for(op)


def _directions(item: Move | Change) -> tuple[str, ...]:
    """The document sections a recorded item must appear in."""
    if isinstance(item, Change) and item.kind == "path_changed":
        return ()  # one of them: the document lists SubmitProject's under Response
    if item.direction == "both":
        return DIRECTIONS
    return (item.direction,) if item.direction else ()


def test_the_table_has_the_documents_22_operations_and_the_spec_has_each() -> None:
    assert len(TABLE) == 22
    assert sorted(TABLE) == sorted(name for name in TABLE if name in BY_WIRE_NAME)


@pytest.mark.parametrize("name", list(TABLE))
def test_v1_and_v2_paths_are_the_documents(name: str) -> None:
    entry, op = TABLE[name], BY_WIRE_NAME[name]
    assert op.v1 is not None, f"{name}: the spec has no v1 block"
    assert op.v1.path == _path(entry["v1"])
    assert API.base_path + op.path == _path(entry["v2"])
    assert OPERATIONS[name].v1_path == op.v1.path  # and the generated registry ships it


@pytest.mark.parametrize("name", list(TABLE))
def test_every_documented_change_is_in_the_spec(name: str) -> None:
    recorded = _recorded(BY_WIRE_NAME[name])
    missing = [
        f"{direction}: {fact['doc']}"
        for direction in DIRECTIONS
        for fact in TABLE[name][direction]
        if not any(_matches(fact, direction, item) for item in recorded)
    ]
    assert not missing, f"{name}: the spec does not record {missing}"


@pytest.mark.parametrize("name", list(TABLE))
def test_the_spec_records_no_change_the_document_does_not_list(name: str) -> None:
    unlisted = []
    for item in _recorded(BY_WIRE_NAME[name]):
        listed = [d for d in DIRECTIONS if any(_matches(f, d, item) for f in TABLE[name][d])]
        if not listed or not set(_directions(item)) <= set(listed):
            unlisted.append(item)
    assert not unlisted, f"{name}: not in the document: {unlisted}"


def test_the_matching_rules_can_fail() -> None:
    """The comparisons above are not vacuous: a wrong target, kind or direction is caught."""
    fact = TABLE["GetProjects"]["response"][5]
    assert fact["to"] == "Project.CurrentStatus.PublicId"
    wrong = Move("ProjectSummary", "move", "StatusPublicId", "CurrentStatus.StatusId")
    right = Move("ProjectSummary", "move", "StatusPublicId", "CurrentStatus.PublicId")
    assert not _matches(fact, "response", wrong)
    assert _matches(fact, "response", right)
    assert not _matches(fact, "response", Move("ProjectSummary", "removed", "StatusPublicId"))
    namespace = {"doc": "Namespace has been removed", "kind": "namespace_removed"}
    assert not _matches(namespace, "response", Change("namespace_removed", direction="request"))
