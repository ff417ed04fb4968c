"""Per-API-key sliding-window rate limit, plus the traffic counters tests read."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field


@dataclass
class Traffic:
    requests: int = 0  # API operations seen (after the key was recognised)
    rate_limited: int = 0  # 429 answers sent
    token_requests: int = 0
    # monotonic time of every API operation, per API key, including rejected ones
    timestamps: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))


class RateLimiter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._accepted: dict[str, deque[float]] = defaultdict(deque)
        self.traffic = Traffic()

    def reset(self) -> None:
        with self._lock:
            self._accepted.clear()
            self.traffic = Traffic()

    def count_token_request(self) -> None:
        with self._lock:
            self.traffic.token_requests += 1

    def admit(self, api_key: str, limit: int, window: float) -> float | None:
        """Record one operation; None when admitted, else seconds until a slot frees up."""
        now = time.monotonic()
        with self._lock:
            self.traffic.requests += 1
            self.traffic.timestamps[api_key].append(now)
            accepted = self._accepted[api_key]
            while accepted and accepted[0] <= now - window:
                accepted.popleft()
            if len(accepted) >= limit:
                self.traffic.rate_limited += 1
                return accepted[0] + window - now
            accepted.append(now)
            return None
