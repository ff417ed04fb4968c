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


def _link(source: Operation, mine: list[str], answer: dict[str, str], target: Operation,
          theirs: list[str]) -> Link | None:
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
    operations = api.operations
    path_params = [PATH_PARAM.findall(op.path) for op in operations]
    # Only a target with a path parameter the answer names can be linked: index them by name,
    # so that each source looks at its few candidates instead of every operation.
    by_param: dict[str, set[int]] = {}
    for index, names in enumerate(path_params):
        for name in names:
            by_param.setdefault(name, set()).add(index)
    out: dict[str, list[Link]] = {}
    for position, source in enumerate(operations):
        if source.idempotent or source.response.model is None:
            continue
        answer: dict[str, str] = {}
        fields = sorted(_answer_fields(source.response.model), key=_depth)
        for name, pointer in fields:
            answer.setdefault(name, pointer)  # the shallowest field of that name
        mine = path_params[position]
        candidates = sorted(set().union(*(by_param.get(name, set()) for name in answer)))
        links = [
            link
            for index in candidates
            if index != position
            and (link := _link(source, mine, answer, operations[index], path_params[index]))
        ]
        if links:
            out[source.wire_name] = links
    return out
