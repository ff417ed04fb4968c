"""The values and arguments of the generated README's call examples and of MIGRATION.md's
record: from the spec (a parameter's or a field's `example`, the links between operations),
else from the API's emulator data (the ids it creates at start, its accounts), else a value of
the type. How a call passes its body is decided here, in `body_arguments`, for every example."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from generator.codegen.escape import python_literal
from generator.codegen.quickstart import Account, LocalEmulator
from generator.model import paths
from generator.model.ir import Api, Field, Model, Move, Operation, Param, TypeRef
from generator.model.links import operation_links
from generator.model.scalars import FORMATS, SCALARS

Arguments = list[tuple[str, Any]]  # (Python argument name, value), in call order

_DEPTH = 3  # nested models an example body walks into


@dataclass(frozen=True)
class Read:
    """An argument read from the answer of an earlier call of the example: `variable.a.b`."""

    variable: str
    attrs: tuple[str, ...]


@dataclass(frozen=True)
class Setup:
    """What an example does before its call: the client it calls (the quick start's `client`,
    or one it builds for another of the emulator's accounts) and the calls whose answers give
    the ids it needs (the spec's links), each as (variable, operation, arguments)."""

    client: str = "client"
    account: Account | None = None
    before: tuple[tuple[str, Operation, Arguments], ...] = ()


@dataclass(frozen=True)
class V1Record:
    """One record of a model, as the V1 API sent it and as V2 does (by wire names), with the
    moves that turn one into the other and the Python attributes each moved value is read at."""

    model: Model
    v1: dict[str, Any]
    v2: dict[str, Any]
    moves: tuple[tuple[Move, tuple[str, ...]], ...]


class Examples:
    def __init__(self, api: Api, emulator: LocalEmulator | None = None):
        self.api = api
        # ids the API's emulator creates at start; its operations whose example it refuses
        self.known_ids: Mapping[str, str] = dict(emulator.known_ids if emulator else ())
        self.refused: Mapping[str, str] = dict(emulator.refused_examples if emulator else ())
        self.account = emulator.account if emulator else None
        self.mfa_account = emulator.mfa_account if emulator else None
        # operation -> (the operation whose answer gives its path ids, param -> answer path)
        self.sources: dict[str, list[tuple[Operation, dict[str, str]]]] = {}
        ops = {op.wire_name: op for op in api.operations}
        for source, links in operation_links(api).items():
            for link in links:
                answer = {name: value.removeprefix("$response.body#/").replace("/", ".")
                          for name, value in link.parameters if value.startswith("$response")}
                returned = ops[source].returns  # a method returning one field reads below it
                if all(not returned or path.startswith(returned + ".")
                       for path in answer.values()):
                    self.sources.setdefault(link.target, []).append((ops[source], answer))

    def body(self, model: Model, *leave_out: str) -> dict[str, Any]:
        """An example body of a model by Python names: every required field and every field
        with an example; `leave_out` names (by wire name) fields the client fills in itself."""
        return self._model(model, 0, "python_name", leave_out)

    def wire_body(self, model: Model) -> dict[str, Any]:
        """The same example by wire names: a document as the API sends it."""
        return self._model(model, 0, "wire_name")

    def _model(self, model: Model | None, depth: int, key: str,
               leave_out: tuple[str, ...] = ()) -> Any:
        if model is None or depth > _DEPTH:
            return {}
        return {getattr(f, key): self._field(f, depth, key) for f in model.fields
                if f.wire_name not in leave_out and (f.required or _leads_to_example(f, depth))}

    def _field(self, field: Field, depth: int, key: str) -> Any:
        if field.example is not None:
            return [field.example] if field.type.kind == "list" else field.example
        if field.enum:
            return field.enum[0]
        if field.format in FORMATS:
            return FORMATS[field.format].example
        return self._value(field.type, depth + 1, key)

    def _value(self, ref: TypeRef, depth: int, key: str) -> Any:
        if ref.kind == "union":
            return self._value(ref.options[0], depth, key)
        if ref.kind == "scalar":
            return SCALARS[ref.name].example
        if ref.kind in ("list", "map"):
            assert ref.item is not None
            inner = self._value(ref.item, depth + 1, key)
            return [inner] if ref.kind == "list" else {"key": inner}
        return self._model(ref.model, depth, key)

    def v1_record(self) -> V1Record | None:
        """MIGRATION.md's example: the first model with V1 names moved to places outside lists,
        as V1 sent it and as V2 does; None when no model has such a move."""
        for model in self.api.models:
            moved = [(mv, end) for mv in model.moves
                     if mv.legacy_name and "." not in mv.from_path and "[]" not in mv.to_path
                     and (end := paths.resolve(model, mv.to_path)) is not None
                     and end.type.kind == "scalar"]
            if not moved:
                continue
            v2, v1 = self.wire_body(model), self.wire_body(model)
            for move, end in moved:
                *parents, leaf = move.to_path.split(".")
                value = _take(v1, parents, leaf)
                if value is None:
                    value = self._field(end.fields[-1], 0, "wire_name")
                _place(v2, parents, leaf, value)
                v1[move.from_path] = value
            return V1Record(model, v1, v2, tuple((mv, end.attrs) for mv, end in moved))
        return None

    def param(self, param: Param) -> Any:
        """A parameter's value: the spec's example, else an id the emulator creates at start,
        else its enum's first value, else one its checked format accepts, else a placeholder
        (`_made_up` lists the path parameters left with one)."""
        if param.example is not None:
            return param.example
        if param.wire_name in self.known_ids:
            return self.known_ids[param.wire_name]
        if param.enum:
            return param.enum[0]
        return FORMATS[param.format].example if param.format in FORMATS else f"{param.wire_name}-1"

    def _made_up(self, op: Operation) -> list[Param]:
        """The path parameters of an operation whose value names no record the emulator has."""
        return [p for p in op.params_in("path")
                if p.example is None and p.wire_name not in self.known_ids]

    def _needs_mfa(self, op: Operation) -> bool:
        """Whether the quick start's client cannot send the operation: it needs MFA, and the
        account the examples use has none."""
        return op.mfa == "required" and self.account is not None and not self.account.mfa

    def _source(self, op: Operation) -> tuple[Operation, dict[str, str]] | None:
        """The first operation whose answer gives every made-up id of `op` and whose own
        example needs no made-up id."""
        wanted = {p.wire_name for p in self._made_up(op)}
        return next(((source, answer) for source, answer in self.sources.get(op.wire_name, ())
                     if wanted <= answer.keys() and not self._made_up(source)), None)

    def setup(self, op: Operation) -> Setup:
        """What the operation's example does before its own call (see `Setup`)."""
        if self.account is None:
            return Setup()
        found = self._source(op) if self._made_up(op) else None
        ops = [op] + ([found[0]] if found else [])
        account = self.mfa_account if any(self._needs_mfa(o) for o in ops) else None
        client = "mfa_client" if account else "client"
        before = ((("created", found[0], self.call(found[0])),) if found else ())
        return Setup(client, account, before)

    def error(self, op: Operation) -> str:
        """The error an operation's example ends in against the emulator, and why ('' when
        it completes, or when the API has no emulator): the README fences such a block
        `python raises`."""
        if self.account is None:
            return ""
        if op.wire_name in self.refused:
            return self.refused[op.wire_name]
        if self._needs_mfa(op) and self.mfa_account is None:
            return (f"MfaConfigurationError: the example account {self.account.name!r} has no "
                    "MFA; a client given mfa= arguments sends the codes")
        made_up = self._made_up(op)
        if made_up and self._source(op) is None:
            return (f"NotFoundError: {made_up[0].python_name}={self.param(made_up[0])!r} "
                    "names no record; use an id the API returned")
        return ""

    def source(self, args: Arguments) -> Markup:
        """Arguments as Python source: values as literals, a `Read` as the attributes read."""
        return Markup(", ").join(
            Markup(f"{name}=") + (Markup(".".join((value.variable, *value.attrs)))
                                  if isinstance(value, Read) else python_literal(value))
            for name, value in args)

    def body_arguments(self, op: Operation, *leave_out: str) -> Arguments:
        """How an example passes the operation's JSON body (the one place that decides it)."""
        if op.body.kind != "json" or op.body.model is None:
            return []
        body = self.body(op.body.model, *leave_out)
        return list(body.items()) if op.body_arguments else [("body", body)]

    def keyword_arguments(self, op: Operation) -> Arguments:
        """The arguments beside the path and the body: the required ones, and one of each
        `requires` rule's places outside the body."""
        args = [(p.python_name, self.param(p)) for p in op.params
                if p.location != "path" and p.required]
        for rule in op.requires:
            place = next((q for q in rule.one_of if q.location != "body"), None)
            param = next((p for p in op.params if place and p.wire_name == place.path), None)
            if param is not None and param.python_name not in dict(args):
                args.append((param.python_name, self.param(param)))
        return args

    def path_arguments(self, op: Operation) -> Arguments:
        """The path arguments; an id only an earlier call's answer has is read from it."""
        found = self._source(op) if self.account is not None and self._made_up(op) else None
        reads: dict[str, Read] = {}
        if found:
            source, answer = found
            assert source.response.model is not None
            for name, wire_path in answer.items():
                end = paths.resolve(source.response.model, wire_path)
                if end is not None:  # what the method returns is below the field it returns
                    reads[name] = Read("created", end.attrs[1:] if source.returns else end.attrs)
        return [(p.python_name, reads.get(p.wire_name, self.param(p)))
                for p in op.params_in("path")]

    def many(self, op: Operation) -> Arguments:
        """The arguments of a bulk helper's example: the records of a variable `records`."""
        return [*self.path_arguments(op), ("records", Read("records", ())),
                *self.keyword_arguments(op)]

    def call(self, op: Operation) -> Arguments:
        """Every argument of the operation's own method, as an example call passes them."""
        args = self.path_arguments(op)
        if op.body.kind == "binary":
            args.append(("source", "document.pdf"))
        if op.response.kind == "binary":
            args.append(("destination", "download.pdf"))
        return args + self.body_arguments(op) + self.keyword_arguments(op)


def _leads_to_example(field: Field, depth: int) -> bool:
    """Whether an optional field belongs in an example body: it has an example, or holds a
    model (directly or in a list) with a field that does."""
    if field.example is not None:
        return True
    ref = field.type.item if field.type.kind in ("list", "map") else field.type
    model = ref.model if ref is not None and ref.kind == "model" else None
    return model is not None and depth < _DEPTH and any(
        _leads_to_example(f, depth + 1) for f in model.fields)


def _take(document: dict[str, Any], parents: list[str], leaf: str) -> Any:
    """Remove and return the value at parents.leaf (None when absent); a parent object left
    empty goes too."""
    if not parents:
        return document.pop(leaf, None)
    inner = document.get(parents[0])
    if not isinstance(inner, dict):
        return None
    value = _take(inner, parents[1:], leaf)
    if not inner:
        del document[parents[0]]
    return value


def _place(document: dict[str, Any], parents: list[str], leaf: str, value: Any) -> None:
    for name in parents:
        document = document.setdefault(name, {})
    document[leaf] = value
