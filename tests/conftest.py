"""Shared fixtures: emulators of the spec'd APIs, served over real HTTP on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from emulator.data import credentials
from emulator.server import EmulatorServer
from emulator.settings import Client, Settings

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"

# The accounts each API's emulator data names (specs/<api>/emulator/emulator.yaml).
_POWERCLERK = {name: c.client for name, c in credentials(SPECS / "powerclerk").items()}
DEMO = _POWERCLERK["demo"]
ADMIN = _POWERCLERK["admin"]
MFA = _POWERCLERK["mfa"]
# e-Builder's password grant: username = EB_USER.client_id, password = EB_USER.client_secret.
EB_USER = credentials(SPECS / "ebuilder")["api_user"].client
PROGRAM_ID = "R3XE87VP6NB6"  # the seeded program (specs/powerclerk/emulator/seeds.yaml)

__all__ = ["ADMIN", "DEMO", "EB_USER", "MFA", "PROGRAM_ID", "Client", "start_emulator"]


def start_emulator(api_dir: Path, **settings: object) -> EmulatorServer:
    """A running emulator of the API in `api_dir`; the caller stops it (or uses `with`)."""
    return EmulatorServer(api_dir, Settings(**settings)).start()  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def powerclerk_emulator() -> Iterator[EmulatorServer]:
    with start_emulator(SPECS / "powerclerk") as server:
        yield server


@pytest.fixture
def emulator(powerclerk_emulator: EmulatorServer) -> Iterator[EmulatorServer]:
    """The PowerClerk emulator with seeded state, default settings and zero counters."""
    powerclerk_emulator.reset()
    yield powerclerk_emulator


@pytest.fixture(scope="session")
def ebuilder_emulator() -> Iterator[EmulatorServer]:
    with start_emulator(SPECS / "ebuilder") as server:
        yield server


@pytest.fixture
def eb_emulator(ebuilder_emulator: EmulatorServer) -> Iterator[EmulatorServer]:
    """The e-Builder emulator with seeded state, default settings and zero counters."""
    ebuilder_emulator.reset()
    yield ebuilder_emulator
