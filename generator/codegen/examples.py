"""The values and arguments of a generated README's call examples: from the spec (a parameter's
or a field's `example`), else from the ids the API's emulator creates at start, else a value of
the type. How a call passes its body is decided here, in `body_arguments`, for every example."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from generator.model.ir import Api, Field, Model, Operation, Param, TypeRef
from generator.model.scalars import FORMATS, SCALARS

Arguments = list[tuple[str, Any]]  # (Python argument name, value), in call order

_DEPTH = 3  # nested models an example body walks into


class Examples:
    def __init__(self, api: Api, known_ids: Mapping[str, str] | None = None):
        self.api = api
        self.known_ids = dict(known_ids or {})  # ids the API's emulator creates at start

    def body(self, model: Model, *leave_out: str) -> dict[str, Any]:
        """An example body of a model by Python names: every required field and every field
        with an example; `leave_out` names (by wire name) fields the client fills in itself."""
        return self._model(model, 0, leave_out)

    def _model(self, model: Model | None, depth: int, leave_out: tuple[str, ...] = ()) -> Any:
        if model is None or depth > _DEPTH:
            return {}
        return {f.python_name: self._field(f, depth) for f in model.fields
                if (f.required or f.example is not None) and f.wire_name not in leave_out}

    def _field(self, field: Field, depth: int) -> Any:
        if field.example is not None:
            return [field.example] if field.type.kind == "list" else field.example
        if field.enum:
            return field.enum[0]
        if field.format in FORMATS:
            return FORMATS[field.format].example
        return self._value(field.type, depth + 1)

    def _value(self, ref: TypeRef, depth: int) -> Any:
        if ref.kind == "union":
            return self._value(ref.options[0], depth)
        if ref.kind == "scalar":
            return SCALARS[ref.name].example
        if ref.kind in ("list", "map"):
            assert ref.item is not None
            inner = self._value(ref.item, depth + 1)
            return [inner] if ref.kind == "list" else {"key": inner}
        return self._model(ref.model, depth)

    def param(self, param: Param) -> Any:
        """A parameter's value: the spec's example, else an id the emulator creates at start,
        else its enum's first value, else one its checked format accepts, else a placeholder
        (`made_up` says which)."""
        if param.example is not None:
            return param.example
        if param.wire_name in self.known_ids:
            return self.known_ids[param.wire_name]
        if param.enum:
            return param.enum[0]
        return FORMATS[param.format].example if param.format in FORMATS else f"{param.wire_name}-1"

    def made_up(self, param: Param) -> bool:
        """Whether a path parameter's value names no record the emulator has (a placeholder)."""
        return param.example is None and param.wire_name not in self.known_ids

    def body_arguments(self, op: Operation, *leave_out: str) -> Arguments:
        """How an example passes the operation's JSON body (the one place that decides it)."""
        if op.body.kind != "json" or op.body.model is None:
            return []
        return [("body", self.body(op.body.model, *leave_out))]

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
        return [(p.python_name, self.param(p)) for p in op.params_in("path")]

    def call(self, op: Operation) -> Arguments:
        """Every argument of the operation's own method, as an example call passes them."""
        args = self.path_arguments(op)
        if op.body.kind == "binary":
            args.append(("source", "document.pdf"))
        if op.response.kind == "binary":
            args.append(("destination", "download.pdf"))
        return args + self.body_arguments(op) + self.keyword_arguments(op)
