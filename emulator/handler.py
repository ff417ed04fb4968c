"""What a handler receives, and the registry that maps operation wire names to handlers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.datastructures import Headers

from emulator.auth import Auth
from emulator.settings import Client
from generator.ir import Api, Operation


@dataclass(frozen=True)
class Upload:
    """A binary request body, already streamed to a temporary file."""

    path: Path
    content_type: str
    file_name: str | None  # from Content-Disposition


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


# A handler returns a JSON document (dict), None (204) or a ready starlette Response.
HandlerFn = Callable[[Call], Any]


@dataclass(frozen=True)
class Handler:
    fn: HandlerFn
    totp_only: bool = False  # MFA: this call accepts a one-time password, not a session token


@dataclass
class Behaviour:
    """The specific handlers of one API and the factory of its state."""

    make_state: Callable[[], Any] | None = None
    handlers: dict[str, Handler] = field(default_factory=dict)

    def handles(
        self, wire_name: str, *, totp_only: bool = False
    ) -> Callable[[HandlerFn], HandlerFn]:
        def register(fn: HandlerFn) -> HandlerFn:
            self.handlers[wire_name] = Handler(fn, totp_only)
            return fn

        return register
