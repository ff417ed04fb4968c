"""Client-side rate limiting shared by every call of one client."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque

# Added to every wait so that a request is never released on the exact edge of the window.
_SAFETY = 0.001
# Requests are counted here when sent but by the server when they arrive, and arrival times
# jitter; counting over a 2% longer window keeps a burst out of the server's window at the cost
# of 2% of the sustained rate.
_JITTER_SHARE = 0.02


class RateLimiter:
    """Sliding-window log: at most `operations` acquisitions in any window of `per_seconds`.

    Whatever window the server uses (fixed or sliding), it then never sees more than its limit.
    Thread-safe; the async variant shares the same log, so the limiter may be used from threads
    and event loops at once.
    """

    def __init__(self, operations: int, per_seconds: float) -> None:
        if operations < 1 or per_seconds <= 0:
            raise ValueError("rate limit needs operations >= 1 and per_seconds > 0")
        self.operations = operations
        self.per_seconds = per_seconds
        self._span = per_seconds * (1 + _JITTER_SHARE)
        self._log: deque[float] = deque()
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"RateLimiter({self.operations}, {self.per_seconds})"

    def _try_acquire(self) -> float:
        """Take a slot and return 0, or return how long to wait before trying again."""
        with self._lock:
            now = time.monotonic()
            horizon = now - self._span
            while self._log and self._log[0] <= horizon:
                self._log.popleft()
            if len(self._log) < self.operations:
                self._log.append(now)
                return 0.0
            return self._log[0] - horizon + _SAFETY

    def acquire(self) -> None:
        while (wait := self._try_acquire()) > 0:
            time.sleep(wait)

    async def acquire_async(self) -> None:
        while (wait := self._try_acquire()) > 0:
            await asyncio.sleep(wait)
