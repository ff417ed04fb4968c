"""Base classes of every generated model: strict requests, tolerant responses, alternative wire
names accepted on input."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, model_validator


class _WireModel(BaseModel):
    # Other wire names the server may send for a field (from the spec's `aliases:`), by the
    # canonical wire name they stand for.
    _wire_aliases: ClassVar[Mapping[str, str]] = {}

    @model_validator(mode="before")
    @classmethod
    def _accept_wire_aliases(cls, data: Any) -> Any:
        if not cls._wire_aliases or not isinstance(data, Mapping):
            return data
        renamed = dict(data)
        for alias, canonical in cls._wire_aliases.items():
            if alias in renamed and canonical not in renamed:
                renamed[canonical] = renamed.pop(alias)
        return renamed

    def to_wire(self) -> dict[str, Any]:
        """The JSON-ready dict the API expects: wire names, only the fields that were set."""
        return self.model_dump(mode="python", by_alias=True, exclude_unset=True)


class RequestModel(_WireModel):
    """A request body: a misspelt or unknown key is an error before anything is sent."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)


class ResponseModel(_WireModel):
    """A response: unknown keys are kept (in `model_extra`), so a new server field never breaks."""

    model_config = ConfigDict(extra="allow", populate_by_name=True, defer_build=True)


def to_wire_body(model: type[_WireModel], body: _WireModel | Mapping[str, Any]) -> dict[str, Any]:
    """Validate a request body (a model or a mapping) before sending, and return its wire form."""
    value = body if isinstance(body, model) else model.model_validate(body)
    return value.to_wire()
