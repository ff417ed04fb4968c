"""Files carried two more ways: base64 inside a JSON body, with its size limit checked before
anything is sent; and a two-step upload, where a create call answers with a pre-signed URL and
the exact headers the file must be sent with."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import httpx

from ._exceptions import APIError, RequestValidationError
from ._files import BodySource, RequestBody
from ._spec import Operation

if TYPE_CHECKING:
    from ._base_client import AsyncAPIClient, SyncAPIClient


class FileTooLargeError(RequestValidationError):
    """The file is over the operation's documented limit; nothing was sent."""

    def __init__(self, op: Operation, problem: str) -> None:
        super().__init__(op.python_name, [problem])


class IncompleteUploadError(APIError):
    """The record was created but its file never arrived: the API keeps an incomplete record
    (`record` is the create call's answer) that has to be removed by hand."""

    def __init__(self, message: str, record: Mapping[str, Any]) -> None:
        super().__init__(message)
        self.record = record


def decoded_size(text: str) -> int:
    """Bytes a base64 text decodes to, without decoding it."""
    stripped = "".join(text.split())
    return len(stripped) * 3 // 4 - (len(stripped) - len(stripped.rstrip("=")))


def check_file_size(op: Operation, wire: Mapping[str, Any]) -> None:
    limit = op.file
    value = wire.get(limit.field) if limit else None
    if limit and isinstance(value, str) and decoded_size(value) > limit.max_bytes:
        raise FileTooLargeError(
            op,
            f"{limit.field} holds {decoded_size(value)} bytes; {op.wire_name} takes at most "
            f"{limit.max_bytes} bytes per file"
        )


def file_body(
    op: Operation, source: BodySource, body: Mapping[str, Any], filename: str | None
) -> dict[str, Any]:
    """`body` with the file read, size-checked before reading, and base64-encoded into it."""
    limit = op.file
    assert limit is not None
    stream = RequestBody(source)
    if stream.length is not None and stream.length > limit.max_bytes:
        raise FileTooLargeError(
            op,
            f"the file has {stream.length} bytes; {op.wire_name} takes at most "
            f"{limit.max_bytes} bytes per file"
        )
    content = stream.sync_content()
    data = content if isinstance(content, bytes) else b"".join(content)
    filled = {**body, limit.field: base64.b64encode(data).decode("ascii")}
    check_file_size(op, filled)  # a stream of unknown length is checked once read
    name = filename or stream.name
    if limit.name_field and name and limit.name_field not in body:
        filled[limit.name_field] = name
    return filled


def presigned_body(
    op: Operation, source: BodySource, body: Mapping[str, Any], filename: str | None
) -> tuple[dict[str, Any], RequestBody]:
    """The create call's body with the file's size and name filled in, and the file to send."""
    spec = op.presigned_upload
    assert spec is not None
    stream = RequestBody(source)
    filled = dict(body)
    if spec.size_field:
        if stream.length is None:
            raise ValueError("a pre-signed upload needs a file whose size is known")
        filled[spec.size_field] = stream.length
    name = filename or stream.name
    if spec.name_field and name and spec.name_field not in filled:
        filled[spec.name_field] = name
    return filled, stream


def _dig(data: Any, path: str) -> Any:
    for key in path.split(".") if path else ():
        if not isinstance(data, Mapping):
            return None
        data = data.get(key)
    return data


def _target(op: Operation, answer: Mapping[str, Any]) -> tuple[str, str, dict[str, str]]:
    """Method, URI and headers to send the file with, checked for expiry first."""
    spec = op.presigned_upload
    assert spec is not None
    uri = _dig(answer, spec.uri)
    if not isinstance(uri, str) or not uri:
        raise IncompleteUploadError(
            f"{op.wire_name} answered without an upload URI; nothing was uploaded", answer
        )
    headers = _dig(answer, spec.headers) or {}
    method = str(_dig(answer, spec.method) or "PUT")
    expires = _dig(answer, spec.expires_at) if spec.expires_at else None
    if isinstance(expires, str):
        try:
            deadline = datetime.fromisoformat(expires.replace("Z", "+00:00"))
        except ValueError:
            deadline = None
        if deadline and deadline.tzinfo and deadline <= datetime.now(timezone.utc):
            raise IncompleteUploadError(
                f"the upload URI expired at {expires} before the upload began; the record "
                f"created by {op.wire_name} is incomplete and must be removed", answer
            )
    # Exactly the headers returned, as strings: they are part of the URI's signature.
    return method, uri, {str(k): str(v) for k, v in dict(headers).items()}


def _failed(op: Operation, answer: Mapping[str, Any], why: str) -> IncompleteUploadError:
    return IncompleteUploadError(
        f"the file upload after {op.wire_name} failed ({why}); the API keeps an incomplete "
        "record that must be removed by hand", answer
    )


def upload_presigned(
    client: SyncAPIClient, op: Operation, stream: RequestBody, answer: Mapping[str, Any]
) -> None:
    method, uri, headers = _target(op, answer)
    try:
        # Not through the API client's auth or retries: the URI carries its own signature.
        response = client._http.request(method, uri, headers=headers,
                                        content=stream.sync_content())
    except httpx.TransportError as exc:
        raise _failed(op, answer, f"{type(exc).__name__}: {exc}") from exc
    if not response.is_success:
        raise _failed(op, answer, f"HTTP {response.status_code}")


async def upload_presigned_async(
    client: AsyncAPIClient, op: Operation, stream: RequestBody, answer: Mapping[str, Any]
) -> None:
    method, uri, headers = _target(op, answer)
    try:
        response = await client._http.request(method, uri, headers=headers,
                                              content=stream.async_content())
    except httpx.TransportError as exc:
        raise _failed(op, answer, f"{type(exc).__name__}: {exc}") from exc
    if not response.is_success:
        raise _failed(op, answer, f"HTTP {response.status_code}")

