"""Wire paths: the one place where a dotted path into a model (`ProjectOwner.Email`,
`Forms[].Name`) is read and followed. A segment names a field by wire name or alias; `[]` after
it stands for each item of that list. Validation, the templates and the V1 translation tables
all resolve paths here, over the linked model."""

from __future__ import annotations

from dataclasses import dataclass

from generator.model.ir import Field, Model, TypeRef


@dataclass(frozen=True)
class Segment:
    key: str  # a wire name (or an alias of one)
    each: bool  # `key[]`: each item of the list `key`

    def __str__(self) -> str:
        return self.key + "[]" * self.each


def segments(path: str) -> tuple[Segment, ...]:
    """`Forms[].Name` -> (Segment('Forms', True), Segment('Name', False)); '' -> ()."""
    return tuple(
        Segment(part.removesuffix("[]"), part.endswith("[]")) for part in path.split(".") if part
    )


@dataclass(frozen=True)
class End:
    """Where a path leads: the fields it walked, the type at its end, and whether it went into
    a list on the way (the value is then one per item)."""

    fields: tuple[Field, ...]
    type: TypeRef
    in_list: bool

    @property
    def attrs(self) -> tuple[str, ...]:
        """The Python attribute names along the path."""
        return tuple(f.python_name for f in self.fields)


def resolve(model: Model | None, path: str) -> End | None:
    """Follow `path` from `model`; None when a segment names no field, `[]` follows a field that
    is not a list, or a segment goes on from a value that is not a model."""
    fields: list[Field] = []
    current: Model | None = model
    ref: TypeRef | None = None
    in_list = False
    for segment in segments(path):
        field = current.field(segment.key) if current is not None else None
        if field is None:
            return None
        fields.append(field)
        ref = field.type
        if segment.each:
            if ref.kind != "list" or ref.item is None:
                return None
            in_list, ref = True, ref.item
        current = ref.model
    if ref is None:
        return None
    return End(tuple(fields), ref, in_list)
