"""Base classes of every generated model: strict requests, tolerant responses, alternative wire
names accepted on input. A request takes wire or Python names; a response is read by wire names
only, so a key that is one field's Python name and another's wire name fills only the latter."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from decimal import Decimal
from typing import Annotated, Any, ClassVar, get_args

from pydantic import BaseModel, ConfigDict, PlainSerializer, ValidationError, model_validator

from ._exceptions import FieldProblem, RequestValidationError


def decimal_text(value: Decimal) -> str:
    """Exact decimal text: every digit kept, never an exponent (Decimal("1E+3") -> "1000")."""
    return format(value, "f")


# A decimal the API documents as a string ("5000"): a number, a Decimal or a numeric string
# goes in, a Decimal is read, and its exact text is sent (the spec's `wire: string`).
DecimalText = Annotated[Decimal, PlainSerializer(decimal_text, return_type=str)]


# Per model class, built on first use: the keys it takes as they are, and lower-cased key ->
# canonical wire name.
_KNOWN_KEYS: dict[type, frozenset[str]] = {}
_FOLDED_KEYS: dict[type, dict[str, str]] = {}


class WireModel(BaseModel):
    """Base of every generated model: wire names in and out."""

    # Other wire names the server may send for a field (from the spec's `aliases:`), by the
    # canonical wire name they stand for.
    _wire_aliases: ClassVar[Mapping[str, str]] = {}
    # Set for APIs whose server matches keys ignoring case (`keys: case_insensitive`).
    _case_insensitive_keys: ClassVar[bool] = False

    def to_wire(self) -> dict[str, Any]:
        """The JSON-ready dict the API expects: wire names, only the fields that were set."""
        return self.model_dump(mode="python", by_alias=True, exclude_unset=True)


class AcceptsOtherKeys(WireModel):
    """Mixed into the models that take keys other than their canonical wire names (the spec's
    `aliases:`, or any spelling of a key for `keys: case_insensitive` APIs). Only they pay for
    this check: pydantic calls it from Python for every object it validates.
    """

    @classmethod
    def _folded_keys(cls) -> dict[str, str]:
        folded = _FOLDED_KEYS.get(cls)
        if folded is None:
            folded = {}
            by_name = bool(cls.model_config.get("populate_by_name"))
            for name, field in cls.model_fields.items():
                wire = field.alias or name
                folded.setdefault(wire.lower(), wire)
                if by_name:
                    folded.setdefault(name.lower(), name)
            for alias, canonical in cls._wire_aliases.items():
                folded.setdefault(alias.lower(), canonical)
            _FOLDED_KEYS[cls] = folded
            _KNOWN_KEYS[cls] = frozenset(folded.values())
        return folded

    @model_validator(mode="before")
    @classmethod
    def _accept_wire_aliases(cls, data: Any) -> Any:
        if not isinstance(data, Mapping) or not (cls._wire_aliases or cls._case_insensitive_keys):
            return data
        folded = cls._folded_keys()
        if _KNOWN_KEYS[cls].issuperset(data.keys()):
            return data  # the common case: every key is already canonical
        renamed = dict(data)
        for alias, canonical in cls._wire_aliases.items():
            if alias in renamed and canonical not in renamed:
                renamed[canonical] = renamed.pop(alias)
        if cls._case_insensitive_keys:
            for key in list(renamed):
                target = folded.get(key.lower()) if isinstance(key, str) else None
                if target is not None and target != key and target not in renamed:
                    renamed[target] = renamed.pop(key)
        return renamed


class RequestModel(WireModel):
    """A request body: a misspelt or unknown key is an error before anything is sent."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)


class ResponseModel(WireModel):
    """A response: unknown keys are kept (in `model_extra`), so a new server field never breaks.
    Keys are wire names only: the server's `message` is never taken for a field whose Python
    name is `message` but whose wire name is `Message`."""

    model_config = ConfigDict(extra="allow", populate_by_name=False, defer_build=True)


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The model a field holds, directly or inside a list, dict or union (None for a scalar)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _python_path(
    model: type[BaseModel], wire_path: tuple[str | int, ...]
) -> tuple[str | int, ...]:
    """A field path by wire names (pydantic's error `loc`) as the same path by Python names; a
    step that names no field (a list index, an unknown key) stays as it is."""
    path: list[str | int] = []
    current: type[BaseModel] | None = model
    for step in wire_path:
        fields = current.model_fields if current is not None else {}
        name = next((n for n, f in fields.items() if (f.alias or n) == step), None)
        if name is None and isinstance(step, str) and step in fields:
            name = step  # the caller used the Python name
        if name is not None:
            path.append(name)
            current = _model_in(fields[name].annotation)
        else:
            path.append(step)
    return tuple(path)


def wire_keys(model: type[WireModel], body: Mapping[str, Any]) -> dict[str, Any]:
    """A body's top-level keys by wire name (a Python name renamed, any other key kept), so that
    a helper filling a field in sees whether the caller gave it, under either name."""
    wire = {name: field.alias or name for name, field in model.model_fields.items()}
    return {wire.get(key, key): value for key, value in body.items()}


def without_unset(fields: Mapping[str, Any], optional: Collection[str]) -> dict[str, Any]:
    """A body from keyword arguments: an optional field left at None is not sent."""
    return {key: value for key, value in fields.items() if value is not None or key not in optional}


def to_wire_body(model: type[WireModel], body: WireModel | Mapping[str, Any]) -> dict[str, Any]:
    """Validate a request body (a model or a mapping) before sending, and return its wire form.
    A body the model refuses raises RequestValidationError naming every field at fault."""
    if isinstance(body, model):
        return body.to_wire()
    try:
        return model.model_validate(body).to_wire()
    except ValidationError as exc:
        problems = [
            FieldProblem(error["loc"], _python_path(model, error["loc"]), error["msg"])
            for error in exc.errors(include_url=False)
        ]
    raise RequestValidationError(f"the body does not fit {model.__name__}", [], problems)
