"""Pre-signed two-step uploads (spec `presigned_upload`): a create call hands out a URI on this
server plus headers; the PUT to that URI must carry every header with the same value, exactly
the announced number of bytes, and arrive before the URI expires. Failures answer like S3."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from emulator.uploads import stream_to_file

PATH = "/_s3/{token}"


@dataclass(frozen=True)
class Slot:
    headers: dict[str, str]
    size: int
    expires: int  # epoch seconds
    on_complete: Callable[[Path], None]  # takes the uploaded file (may move it away)


class PresignedUploads:
    def __init__(self) -> None:
        self._key = secrets.token_bytes(16)
        self._lock = threading.Lock()
        self._slots: dict[str, Slot] = {}

    def reset(self) -> None:
        with self._lock:
            self._slots.clear()

    def issue(self, base_url: str, headers: dict[str, str], size: int, window: float,
              on_complete: Callable[[Path], None]) -> tuple[str, datetime]:
        """A fresh upload URI and its expiry time."""
        token = secrets.token_urlsafe(16)
        expires = int(time.time() + window)
        with self._lock:
            self._slots[token] = Slot(dict(headers), size, expires, on_complete)
        uri = (f"{base_url}{PATH.format(token=token)}?Expires={expires}"
               f"&Signature={self._sign(token, expires)}")
        return uri, datetime.fromtimestamp(expires, UTC)

    def _sign(self, token: str, expires: int) -> str:
        return hmac.new(self._key, f"{token}:{expires}".encode(), hashlib.sha256).hexdigest()[:32]

    async def receive(self, request: Request, directory: Path | None,
                      lock: Any = None) -> Response:
        """The PUT of step two; `lock` (the state's) is held while the slot's callback runs."""
        token = request.path_params["token"]
        with self._lock:
            slot = self._slots.get(token)
        query = request.query_params
        if slot is None or not hmac.compare_digest(
            query.get("Signature", ""), self._sign(token, slot.expires)
        ) or query.get("Expires") != str(slot.expires):
            return _s3_error("AccessDenied", "Access Denied")
        if time.time() > slot.expires:
            return _s3_error("AccessDenied", "Request has expired")
        for name, value in slot.headers.items():  # starlette's Headers ignore name case
            if request.headers.get(name) != value:
                return _s3_error("SignatureDoesNotMatch", f"The header {name} is missing or "
                                 "differs from the signed value.")
        upload = await stream_to_file(request, directory)
        try:
            size = upload.path.stat().st_size
            if size != slot.size:
                return _s3_error("IncompleteBody", f"Received {size} bytes, signed for "
                                 f"{slot.size}.")
            with self._lock:
                if self._slots.pop(token, None) is None:  # a concurrent PUT won
                    return _s3_error("AccessDenied", "Access Denied")
            with lock or contextlib.nullcontext():
                slot.on_complete(upload.path)
            return Response(status_code=200)
        finally:
            with contextlib.suppress(FileNotFoundError):
                upload.path.unlink()


def _s3_error(code: str, message: str) -> Response:
    body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
            f"<Message>{message}</Message><RequestId>{secrets.token_hex(8).upper()}</RequestId>"
            "</Error>")
    return Response(body, 403, media_type="application/xml")
