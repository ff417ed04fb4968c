"""Per-API-key sliding-window rate limit, the daily quota per API user, and the traffic
counters tests read."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import UTC, date, datetime


@dataclass
class Traffic:
    requests: int = 0  # API operations seen (after the key was recognised)
    rate_limited: int = 0  # 429 answers sent
    token_requests: int = 0
    quota_exceeded: int = 0  # daily-quota answers sent
    daily_calls: dict[tuple[str, date], int] = field(default_factory=lambda: defaultdict(int))
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

    def admit(self, api_key: str, limit: float, window: float) -> float | None:
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

    def admit_daily(self, user: str, quota: int) -> bool:
        """Count one call against the user's quota for the current UTC day; False once spent."""
        today = datetime.now(UTC).date()
        with self._lock:
            self.traffic.daily_calls[user, today] += 1
            if self.traffic.daily_calls[user, today] > quota:
                self.traffic.quota_exceeded += 1
                return False
            return True
