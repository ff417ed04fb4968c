from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from powerclerk import AsyncPowerClerk, PowerClerk

from emulator.server import EmulatorServer
from emulator.settings import Client
from tests.conftest import ADMIN as ADMIN_CLIENT
from tests.conftest import PROGRAM_ID

__all__ = ["PROGRAM_ID"]


def client_kwargs(server: EmulatorServer, creds: Client, **extra: Any) -> dict[str, Any]:
    """Constructor arguments for a generated client pointed at the emulator (limiter off)."""
    return {
        "base_url": server.base_url,
        "token_url": server.token_url,
        "client_id": creds.client_id,
        "client_secret": creds.client_secret,
        "api_key": creds.api_key,
        "rate_limit": None,
        **extra,
    }


@pytest.fixture
def make_client(emulator: EmulatorServer) -> Callable[..., PowerClerk]:
    def make(creds: Client = ADMIN_CLIENT, **extra: Any) -> PowerClerk:
        return PowerClerk(**client_kwargs(emulator, creds, **extra))

    return make


@pytest.fixture
def make_async_client(emulator: EmulatorServer) -> Callable[..., AsyncPowerClerk]:
    def make(creds: Client = ADMIN_CLIENT, **extra: Any) -> AsyncPowerClerk:
        return AsyncPowerClerk(**client_kwargs(emulator, creds, **extra))

    return make
