"""A binary request body, streamed to a temporary file: what a handler and the pre-signed
upload endpoint receive."""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request

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
