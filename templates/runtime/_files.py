"""Streaming request bodies (uploads) and response bodies (downloads) without holding a whole
file in memory. Async variants run file I/O in worker threads so the event loop never blocks."""

from __future__ import annotations

import asyncio
import mimetypes
import os
import secrets
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from typing import IO, Any
from urllib.parse import quote

CHUNK_SIZE = 64 * 1024

BodySource = str | os.PathLike[str] | bytes | bytearray | memoryview | IO[bytes]
Destination = str | os.PathLike[str] | IO[bytes]


def _seekable(stream: Any) -> bool:
    try:
        return bool(stream.seekable())
    except (AttributeError, OSError, ValueError):
        return False


def _read_chunk(stream: IO[bytes]) -> bytes:
    chunk = stream.read(CHUNK_SIZE)
    if not isinstance(chunk, bytes | bytearray):
        raise TypeError("upload sources must be opened in binary mode ('rb')")
    return bytes(chunk)


class RequestBody:
    """A request body from bytes, a path or a binary file object.

    `length` is known for bytes, paths and seekable files (sent as Content-Length; otherwise the
    body goes chunked). `replayable` says whether a retry can send it again: bytes always, a path
    by reopening it, a seekable file by seeking back to where it started; a plain stream only if
    nothing has been read from it yet.
    """

    def __init__(self, source: BodySource) -> None:
        self._bytes: bytes | None = None
        self._path: str | None = None
        self._file: IO[bytes] | None = None
        self._start = 0
        self._rewindable = False
        self._started = False
        self.length: int | None = None
        self.name = ""  # file name, to guess a content type from
        if isinstance(source, bytes | bytearray | memoryview):
            self._bytes = bytes(source)
            self.length = len(self._bytes)
        elif isinstance(source, str | os.PathLike):
            self._path = os.fspath(source)
            self.length = os.path.getsize(self._path)
            self.name = os.path.basename(self._path)
        elif hasattr(source, "read"):
            self._file = source
            self.name = os.path.basename(str(getattr(source, "name", "") or ""))
            if _seekable(source):
                self._rewindable = True
                self._start = source.tell()
                self.length = source.seek(0, os.SEEK_END) - self._start
                source.seek(self._start)
        else:
            raise TypeError(f"cannot send a body from {type(source).__name__}")

    @property
    def replayable(self) -> bool:
        return self._file is None or self._rewindable or not self._started

    def _open(self) -> tuple[IO[bytes], bool]:
        """The stream to read for one attempt, and whether we must close it."""
        self._started = True
        if self._path is not None:
            return open(self._path, "rb"), True
        assert self._file is not None
        if self._rewindable:
            self._file.seek(self._start)
        return self._file, False

    def sync_content(self) -> bytes | Iterator[bytes]:
        return self._bytes if self._bytes is not None else self._iter_sync()

    def async_content(self) -> bytes | AsyncIterator[bytes]:
        return self._bytes if self._bytes is not None else self._iter_async()

    def _iter_sync(self) -> Iterator[bytes]:
        stream, owned = self._open()
        try:
            while chunk := _read_chunk(stream):
                yield chunk
        finally:
            if owned:
                stream.close()

    async def _iter_async(self) -> AsyncIterator[bytes]:
        stream, owned = await asyncio.to_thread(self._open)
        try:
            while chunk := await asyncio.to_thread(_read_chunk, stream):
                yield chunk
        finally:
            if owned:
                stream.close()


def guess_content_type(name: str) -> str | None:
    return mimetypes.guess_type(name)[0] if name else None


def content_disposition(filename: str) -> str:
    """`attachment; filename="..."`, quoted; non-ASCII names also get an RFC 6266 filename*."""
    clean = "".join(ch for ch in filename if ch >= " " and ch != "\x7f")  # no header injection
    fallback = clean.encode("ascii", "replace").decode("ascii")
    quoted = fallback.replace("\\", "\\\\").replace('"', '\\"')
    value = f'attachment; filename="{quoted}"'
    if fallback != clean:
        value += f"; filename*=UTF-8''{quote(clean, safe='')}"
    return value


class _Output:
    """Where one download attempt writes: a temp file next to the destination, or the stream."""

    def __init__(self, stream: IO[bytes], temp: str = "", final: str = "") -> None:
        self.stream = stream
        self._temp = temp
        self._final = final

    def commit(self) -> None:
        self.stream.flush()
        if self._temp:
            os.fsync(self.stream.fileno())
            self.stream.close()
            os.replace(self._temp, self._final)

    def abort(self) -> None:
        if self._temp:
            self.stream.close()
            try:
                os.unlink(self._temp)
            except FileNotFoundError:
                pass


class DownloadTarget:
    """A download destination: a path (written atomically: temp file in the same directory,
    fsync, os.replace; nothing is left behind on error) or a writable binary stream.

    `restartable` says whether a retry may write the body again: always for a path, for a
    seekable stream by seeking back and truncating, for a plain stream only if nothing was written.
    """

    def __init__(self, destination: Destination) -> None:
        self._path: str | None = None
        self._stream: IO[bytes] | None = None
        self._start = 0
        self._rewindable = False
        self._written = False
        if isinstance(destination, str | os.PathLike):
            self._path = os.fspath(destination)
        elif hasattr(destination, "write"):
            self._stream = destination
            if _seekable(destination):
                self._rewindable = True
                self._start = destination.tell()
        else:
            raise TypeError(f"cannot download into {type(destination).__name__}")

    @property
    def restartable(self) -> bool:
        return self._stream is None or self._rewindable or not self._written

    def _begin(self) -> _Output:
        if self._path is not None:
            directory, name = os.path.split(os.path.abspath(self._path))
            temp = os.path.join(directory, f".{name}.{secrets.token_hex(6)}.part")
            # os.open rather than mkstemp: the final file gets the usual umask-based mode.
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
            fd = os.open(temp, flags, 0o666)
            return _Output(os.fdopen(fd, "wb"), temp, self._path)
        assert self._stream is not None
        if self._written and self._rewindable:
            self._stream.seek(self._start)
            self._stream.truncate()
        return _Output(self._stream)

    def _write(self, output: _Output, chunk: bytes) -> None:
        self._written = True
        output.stream.write(chunk)

    def write_sync(self, chunks: Iterable[bytes]) -> int:
        """Write all chunks; return the number of bytes written."""
        output = self._begin()
        written = 0
        try:
            for chunk in chunks:
                self._write(output, chunk)
                written += len(chunk)
            output.commit()
        except BaseException:
            output.abort()
            raise
        return written

    async def write_async(self, chunks: AsyncIterable[bytes]) -> int:
        output = await asyncio.to_thread(self._begin)
        written = 0
        try:
            async for chunk in chunks:
                await asyncio.to_thread(self._write, output, chunk)
                written += len(chunk)
            await asyncio.to_thread(output.commit)
        except BaseException:
            output.abort()
            raise
        return written
