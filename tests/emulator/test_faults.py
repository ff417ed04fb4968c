"""Injected failures and delays, for the clients' retry and timeout tests."""

from __future__ import annotations

import time

from tests.emulator.conftest import program_path


def test_injected_status_then_normal(emulator, api):
    emulator.faults.inject("GetForms", status=503, times=2)
    codes = [api.get(program_path("/Forms")).status_code for _ in range(3)]
    assert codes == [503, 503, 200]
    assert api.get("/Programs").status_code == 200  # other operations are untouched


def test_injected_delay(emulator, api):
    emulator.faults.inject(status=None, delay=0.3)
    started = time.monotonic()
    assert api.get("/Programs").status_code == 200
    assert time.monotonic() - started >= 0.3
