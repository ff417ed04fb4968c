"""What a fresh emulator offers from its data: seeds behind every read, and a banner with only
its own API's credentials, under the names the generated client's constructor takes."""

from __future__ import annotations

import socket
import subprocess
import sys

from emulator.data import credentials
from emulator.server import EmulatorServer
from generator.probe import run_probe
from tests.conftest import ADMIN, PROGRAM_ID, ROOT


def test_a_fresh_emulator_lets_the_probe_verify_every_read(emulator: EmulatorServer) -> None:
    api = emulator.emulator.api
    reads = {op.wire_name for op in api.operations
             if op.method == "GET" and op.response.kind == "json"}
    report = run_probe(api, base_url=emulator.base_url, token_url=emulator.token_url,
                       client_id=ADMIN.client_id, client_secret=ADMIN.client_secret,
                       api_key=ADMIN.api_key, program_id=PROGRAM_ID)
    assert report.skipped == []
    assert set(report.called) == reads
    assert report.findings == []


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
