"""What a handler receives, and the registry that maps operation wire names to handlers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from starlette.datastructures import Headers

from emulator.auth import Auth
from emulator.settings import Client, Settings
from emulator.uploads import Upload
from generator.model.ir import Api, Operation

if TYPE_CHECKING:
    from emulator.batch import Batch
    from emulator.behaviour_data import Declarations
    from emulator.presigned import PresignedUploads
    from emulator.records import RecordStore


@dataclass(frozen=True)
class Call:
    api: Api
    op: Operation
    client: Client
    auth: Auth
    path: dict[str, str]  # path parameters by wire name
    params: dict[str, Any]  # typed query and header parameters by wire name
    headers: Headers
    body: Any = None  # the parsed JSON body
    upload: Upload | None = None
    state: Any = None  # the API's state object (None for APIs without one)
    settings: Settings | None = None
    base_url: str = ""  # scheme://host:port this call came in on, for URLs handlers hand out
    batch: Batch | None = None  # the records of a bulk body, schema failures already marked
    presigned: PresignedUploads | None = None
    success_as_string: bool = False  # the docs show this operation's `success` as "true"
    records: RecordStore | None = None  # the record store (behaviours.yaml collections)
    declarations: Declarations | None = None  # behaviours.yaml: lookups and behaviours

    def success(self) -> bool | str:
        """The value of a batch answer's `success` on success: as the docs show it for this
        operation (where the response model allows a string), or as settings.success_form
        says."""
        form = self.settings.success_form if self.settings else "documented"
        if form == "documented":
            form = "string" if self.success_as_string and self._string_allowed() else "boolean"
        return "true" if form == "string" else True

    def ok(self, **extra: Any) -> dict[str, Any]:
        """A successful batch answer."""
        assert self.api.batch_result is not None
        return {self.api.batch_result.success: self.success(), **extra}

    def _string_allowed(self) -> bool:
        shape = self.api.batch_result
        if shape is None or self.op.response.model is None:
            return False
        success = self.op.response.model.field(shape.success)
        ref = success.type if success else None
        return ref is not None and any(
            o.kind == "scalar" and o.name in ("string", "any") for o in (ref.options or (ref,)))


# A handler returns a JSON document (dict), None (204) or a ready starlette Response.
HandlerFn = Callable[[Call], Any]


@dataclass(frozen=True)
class Handler:
    fn: HandlerFn
    totp_only: bool = False  # MFA: this call accepts a one-time password, not a session token


@dataclass
class Behaviour:
    """An API's hooks (`<api dir>/emulator/hooks.py`): handlers by operation wire name and the
    factory of its state, which gets the record store (holding the seeds of `seeds.yaml`)."""

    make_state: Callable[[RecordStore], Any] | None = None
    handlers: dict[str, Handler] = field(default_factory=dict)
    # state -> {model name: its records as wire documents}, for the answers of operations
    # without a handler (a list of such a model gets these records)
    records: Callable[[Any], dict[str, list[dict[str, Any]]]] | None = None

    def handles(
        self, wire_name: str, *, totp_only: bool = False
    ) -> Callable[[HandlerFn], HandlerFn]:
        def register(fn: HandlerFn) -> HandlerFn:
            self.handlers[wire_name] = Handler(fn, totp_only)
            return fn

        return register
