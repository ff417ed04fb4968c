"""What a handler receives, and the registry that maps operation wire names to handlers."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.datastructures import Headers
from starlette.requests import Request

from emulator.auth import Auth
from emulator.settings import Client, Settings
from generator.ir import Api, Operation

if TYPE_CHECKING:
    from emulator.batch import Batch
    from emulator.presigned import PresignedUploads

_FILENAME = re.compile(r"""filename\*?=(?:UTF-8'')?"?([^";]+)"?""", re.IGNORECASE)


@dataclass(frozen=True)
class Upload:
    """A binary request body, already streamed to a temporary file."""

    path: Path
    content_type: str
    file_name: str | None  # from Content-Disposition


async def stream_to_file(request: Request, directory: Path | None) -> Upload:
    """Write the raw body to a temporary file chunk by chunk; uploads may be large."""
    fd, name = tempfile.mkstemp(prefix="upload-", dir=directory)
    try:
        with os.fdopen(fd, "wb") as out:
            async for chunk in request.stream():
                out.write(chunk)
    except BaseException:  # e.g. the client went away mid-upload
        os.unlink(name)
        raise
    match = _FILENAME.search(request.headers.get("Content-Disposition", ""))
    return Upload(
        path=Path(name),
        content_type=request.headers.get("Content-Type", "application/octet-stream"),
        file_name=match.group(1) if match else None,
    )


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
    token_type: str = "Bearer"  # as the API's token endpoint spells it
    # wire name -> other paths (under base_path) the real server also answers on
    path_aliases: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def handles(
        self, wire_name: str, *, totp_only: bool = False
    ) -> Callable[[HandlerFn], HandlerFn]:
        def register(fn: HandlerFn) -> HandlerFn:
            self.handlers[wire_name] = Handler(fn, totp_only)
            return fn

        return register
