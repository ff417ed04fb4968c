"""Which operation's answer feeds which other operation's path: OpenAPI links (create -> read),
derived from the IR alone, so that a stateful tester (schemathesis) reaches records that exist.

The rule: an operation A that is not idempotent (where a record is created) links to an
operation B when a field of A's JSON answer, at the top or inside nested objects (not lists),
has the wire name of a path parameter P of B, A does not take P itself, and every path
parameter of B before `{P}` is a path parameter of A too (the scope the new record lives in,
such as its program). The link gives P from the answer and every other path parameter B shares
with A from A's own request."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from generator.model.ir import PATH_PARAM, Api, Model, Operation

_DEPTH = 3  # nested objects followed into an answer (Project.CurrentStatus.StatusId)


@dataclass(frozen=True)
class Link:
    source: str  # operationId of A
    target: str  # operationId of B
    parameters: tuple[tuple[str, str], ...]  # B's path parameter -> runtime expression


def _answer_fields(model: Model, prefix: str = "", depth: int = 0) -> Iterator[tuple[str, str]]:
    """(wire name, JSON pointer) of every scalar field reached through objects."""
    for field in model.fields:
        pointer = f"{prefix}/{field.wire_name}"
        if field.type.kind == "scalar":
            yield field.wire_name, pointer
        elif field.type.model is not None and depth + 1 < _DEPTH:
            yield from _answer_fields(field.type.model, pointer, depth + 1)


def _depth(field: tuple[str, str]) -> int:
    return field[1].count("/")


def _link(source: Operation, answer: dict[str, str], target: Operation) -> Link | None:
    mine = PATH_PARAM.findall(source.path)
    theirs = PATH_PARAM.findall(target.path)
    parameters: dict[str, str] = {}
    for i, name in enumerate(theirs):
        if name in mine:
            parameters[name] = f"$request.path.{name}"
        elif name in answer and all(before in mine for before in theirs[:i]):
            parameters[name] = f"$response.body#{answer[name]}"
    if not any(value.startswith("$response") for value in parameters.values()):
        return None
    return Link(source.wire_name, target.wire_name, tuple(parameters.items()))


def operation_links(api: Api) -> dict[str, list[Link]]:
    """operationId -> the links of its success answer, in the spec's operation order."""
    out: dict[str, list[Link]] = {}
    for source in api.operations:
        if source.idempotent or source.response.model is None:
            continue
        answer: dict[str, str] = {}
        fields = sorted(_answer_fields(source.response.model), key=_depth)
        for name, pointer in fields:
            answer.setdefault(name, pointer)  # the shallowest field of that name
        links = [
            link
            for target in api.operations
            if target is not source and (link := _link(source, answer, target))
        ]
        if links:
            out[source.wire_name] = links
    return out
