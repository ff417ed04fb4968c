"""What a fresh emulator prints: a banner with only its own API's credentials, under the names
the generated client's constructor takes. (That its seeds are behind every read is checked by
tests/e2e/test_probe.py::test_probe_fresh_emulator_verifies_every_read.)"""

from __future__ import annotations

import socket
import subprocess
import sys

from emulator.data import credentials
from tests.conftest import ROOT


def _banner(api: str) -> str:
    with socket.socket() as probe:  # a free loopback port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "emulator", "--api-dir", str(ROOT / "specs" / api),
         "--port", str(port)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        text=True)
    try:
        assert process.stdout is not None
        # title, base URL, token URL, then one line per account
        count = 3 + len(credentials(ROOT / "specs" / api))
        lines = [process.stdout.readline() for _ in range(count)]
    finally:
        process.terminate()
        process.wait(timeout=10)
    return "".join(lines)


def test_each_banner_prints_only_its_own_credentials() -> None:
    powerclerk, ebuilder = _banner("powerclerk"), _banner("ebuilder")
    assert "client_id=admin-client client_secret=admin-secret api_key=admin-api-key" in powerclerk
    assert "(admin)" in powerclerk and "mfa_totp_secret=JBSWY3DPEHPK3PXPJBSWY3DP" in powerclerk
    assert "username=api.user@emulator.test password=" in ebuilder
    assert "username" not in powerclerk and "api.user@" not in powerclerk
    assert "client_id" not in ebuilder and "demo-client" not in ebuilder
