"""A TCP proxy on 127.0.0.1 that breaks HTTP exchanges on purpose: real sockets, one thread per
connection, in front of a real server (the emulator). Each request is forwarded unchanged unless
a scripted fault matches it; the proxy records every request it saw and whether it forwarded it.
"""

from __future__ import annotations

import json
import re
import socket
import struct
import threading
from dataclasses import dataclass

# fault -> (forwarded to the server first, sends a response head the client can read)
FAULTS: dict[str, tuple[bool, bool]] = {
    "reset_before": (False, False),  # RST once the request has arrived, nothing forwarded
    "reset_after": (True, False),  # forwarded and answered upstream, then RST to the client
    "close_before": (False, False),  # FIN without an answer, nothing forwarded
    "close_after": (True, False),  # forwarded, then FIN without an answer
    "unavailable": (False, True),  # 503 from the proxy, nothing forwarded
    "bad_gateway": (True, True),  # forwarded, then 502 instead of the server's answer
    "stall": (True, False),  # forwarded, then nothing until the client gives up
    "stall_body": (True, True),  # forwarded, the answer's head, then its body never comes
    "truncated": (True, True),  # forwarded, the answer cut in the middle of its body
    "invalid_json": (True, True),  # forwarded, then 200 with a body that is not JSON
    "wrong_shape": (True, True),  # forwarded, then 200 with JSON of another shape
    "rate_limited": (False, True),  # 429 from the proxy, nothing forwarded
    "echo": (False, True),  # an error whose body and headers echo the whole request
}
HEAD_END = b"\r\n\r\n"


@dataclass
class Fault:
    name: str
    path: str  # a substring of the request target the fault applies to
    times: int
    skip: int  # matching requests passed through before the fault applies
    retry_after: str | None
    status: int  # for "echo"


@dataclass(frozen=True)
class Seen:
    method: str
    target: str
    fault: str  # "" when passed through
    forwarded: bool
    head: str  # the request line and headers as they arrived


class FaultProxy:
    """`with FaultProxy(upstream_port) as proxy:` listens on `proxy.url`."""

    def __init__(self, upstream_port: int, stall: float = 10.0) -> None:
        self._upstream = ("127.0.0.1", upstream_port)
        self._stall = stall
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)  # accept() wakes up to notice the end
        self.port = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self.seen: list[Seen] = []
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="fault-proxy", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def inject(self, name: str, *, path: str = "", times: int = 1, skip: int = 0,
               retry_after: str | None = None, status: int = 500) -> None:
        assert name in FAULTS, name
        with self._lock:
            self._faults.append(Fault(name, path, times, skip, retry_after, status))

    def reset(self) -> None:
        with self._lock:
            self._faults.clear()
            self.seen.clear()

    def count(self, path: str = "", *, forwarded: bool | None = None) -> int:
        """Requests seen whose target contains `path` (and forwarded or not, if given)."""
        with self._lock:
            return sum(1 for s in self.seen if path in s.target
                       and (forwarded is None or s.forwarded == forwarded))

    # -- lifecycle -----------------------------------------------------------------------

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._closing.set()
        self._thread.join(5)
        self._listener.close()

    def _accept(self) -> None:
        while not self._closing.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(None)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    # -- one connection: one request ------------------------------------------------------

    def _serve(self, client: socket.socket) -> None:
        try:
            request = _read_request(client)
            if request is None:
                return
            head = request.split(HEAD_END, 1)[0].decode("latin-1")
            method, target = head.split(" ", 2)[:2]
            fault = self._take(target)
            name = fault.name if fault else ""
            forwarded = fault is None or FAULTS[name][0]
            with self._lock:
                self.seen.append(Seen(method, target, name, forwarded, head))
            answer = self._forward(request) if forwarded else b""
            self._answer(client, fault, request, answer)
        except OSError:
            pass  # the client went away: nothing to answer
        finally:
            client.close()

    def _take(self, target: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.path in target:
                    if fault.skip > 0:
                        fault.skip -= 1
                        return None
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def _forward(self, request: bytes) -> bytes:
        """Send the request upstream on a connection of its own; the whole answer."""
        head, _, body = request.partition(HEAD_END)
        lines = [line for line in head.split(b"\r\n")
                 if not line.lower().startswith((b"connection:", b"keep-alive:"))]
        data = b"\r\n".join([*lines, b"Connection: close"]) + HEAD_END + body
        with socket.create_connection(self._upstream, timeout=30) as upstream:
            upstream.sendall(data)
            chunks = []
            while chunk := upstream.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks)

    def _answer(self, client: socket.socket, fault: Fault | None, request: bytes,
                answer: bytes) -> None:
        if fault is None:
            client.sendall(answer)
            return
        name, extra = fault.name, _retry_after(fault.retry_after)
        if name.startswith("reset"):
            # SO_LINGER 0: close() sends RST instead of FIN.
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        elif name == "stall":
            self._closing.wait(self._stall)
        elif name == "stall_body":
            head, _, body = answer.partition(HEAD_END)
            client.sendall(_with(head, extra) + HEAD_END + body[:1])
            self._closing.wait(self._stall)
        elif name == "truncated":
            head, _, body = answer.partition(HEAD_END)
            if not re.search(rb"(?im)^content-length:", head):  # make the cut detectable
                head += b"\r\nContent-Length: %d" % (len(body) + 10)
            client.sendall(_with(head, extra) + HEAD_END + body[: len(body) // 2])
        elif name in ("unavailable", "bad_gateway", "rate_limited"):
            status = {"unavailable": 503, "bad_gateway": 502, "rate_limited": 429}[name]
            body = json.dumps({"Message": f"proxy: {status}"}).encode()
            client.sendall(_response(status, body, extra))
        elif name == "invalid_json":
            client.sendall(_response(200, b'{"broken": ', extra))
        elif name == "wrong_shape":
            client.sendall(_response(200, b'["not", "the", "model"]', extra))
        elif name == "echo":
            client.sendall(_echo(fault.status, request, extra))
        # close_before / close_after: FIN without a word


def _read_request(sock: socket.socket) -> bytes | None:
    """One HTTP/1.1 request from the socket: head and Content-Length or chunked body."""
    data = b""
    while HEAD_END not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(HEAD_END)
    length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    if length:
        while len(body) < int(length.group(1)):
            chunk = sock.recv(65536)
            if not chunk:
                break
            body += chunk
    elif re.search(rb"(?im)^transfer-encoding:\s*chunked", head):
        while not body.endswith(b"0\r\n\r\n"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            body += chunk
    return head + HEAD_END + body


def _retry_after(value: str | None) -> list[bytes]:
    return [] if value is None else [f"Retry-After: {value}".encode()]


def _with(head: bytes, extra: list[bytes]) -> bytes:
    return b"\r\n".join([head, *extra]) if extra else head


def _response(status: int, body: bytes, extra: list[bytes],
              kind: bytes = b"application/json") -> bytes:
    head = [b"HTTP/1.1 %d Fault" % status, b"Content-Type: " + kind,
            b"Content-Length: %d" % len(body), b"Connection: close", *extra]
    return b"\r\n".join(head) + HEAD_END + body


def _echo(status: int, request: bytes, extra: list[bytes]) -> bytes:
    """A careless server: the request's head and body back in the error body, and every
    request header back as a response header."""
    head, _, body = request.partition(HEAD_END)
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    text = head.decode("latin-1") + "\r\n\r\n" + body.decode("latin-1")
    payload = json.dumps({
        "Message": f"rejected: {text}", "error_description": text, "headers": headers,
        "request": text, "Errors": [f"echo: {line}" for line in lines],  # an error list too
    }).encode()
    echoed = [f"X-Echo-{k}: {v}".encode("latin-1") for k, v in headers.items()]
    return _response(status, payload, [*echoed, *extra])
