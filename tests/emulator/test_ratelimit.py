"""Sliding-window rate limit per API key."""

from __future__ import annotations

import time

from tests.conftest import ADMIN, DEMO
from tests.emulator.conftest import get_token


def test_429_after_limit_then_recovery(emulator, connect):
    emulator.settings.rate_limit = 3
    emulator.settings.rate_window = 0.5
    http = connect(DEMO)
    assert [http.get("/Programs").status_code for _ in range(3)] == [200, 200, 200]
    limited = http.get("/Programs")
    assert limited.status_code == 429
    assert limited.json() == {"Message": "Too Many Requests"}
    assert "Retry-After" not in limited.headers  # the real API documents none
    # The limit is per API key, and the token endpoint is not limited.
    get_token(emulator, DEMO)
    assert connect(ADMIN).get("/Programs").status_code == 200
    time.sleep(0.55)
    assert http.get("/Programs").status_code == 200
    traffic = emulator.traffic
    assert traffic.rate_limited == 1
    assert len(traffic.timestamps[DEMO.api_key]) == 5
    assert traffic.requests == 6


def test_retry_after_when_enabled(emulator, connect):
    emulator.settings.rate_limit = 1
    emulator.settings.rate_window = 2.0
    emulator.settings.send_retry_after = True
    http = connect(DEMO)
    assert http.get("/Programs").status_code == 200
    limited = http.get("/Programs")
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "2"
