"""Failures tests ask for: an error status or a delay on the next calls of an operation, so a
client's retry, backoff and timeout paths can be exercised against the real server."""

from __future__ import annotations

import threading
from dataclasses import dataclass


@dataclass
class Fault:
    wire_name: str | None  # None: any operation
    status: int | None  # None: answer normally (after the delay)
    delay: float
    remaining: int


class Faults:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: list[Fault] = []

    def inject(self, wire_name: str | None = None, *, status: int | None = 503,
               delay: float = 0.0, times: int = 1) -> None:
        with self._lock:
            self._pending.append(Fault(wire_name, status, delay, times))

    def reset(self) -> None:
        with self._lock:
            self._pending.clear()

    def take(self, wire_name: str) -> Fault | None:
        """The first pending fault for this operation, counting one use of it."""
        with self._lock:
            for fault in self._pending:
                if fault.wire_name in (None, wire_name):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._pending.remove(fault)
                    return fault
        return None
