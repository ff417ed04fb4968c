"""Run the emulator in a background thread of the current process (tests, benchmarks)."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from typing import Any

import uvicorn

from emulator.app import Emulator, create_app
from emulator.auth import Auth
from emulator.data import Credential
from emulator.faults import Faults
from emulator.ratelimit import Traffic
from emulator.settings import Client, Settings


class EmulatorServer:
    """`with EmulatorServer(api_dir) as server:` serves on a free 127.0.0.1 port."""

    def __init__(self, api_dir: Path, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        self.app = create_app(Path(api_dir), self.settings)  # fills spec-derived defaults
        self._defaults = Settings()
        self._defaults.restore(self.settings)  # what reset() returns to
        self.emulator: Emulator = self.app.state.emulator
        self.port = 0
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    # -- what tests use ------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """Scheme, host and port; clients add the spec's base path."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        return self.base_url + self.emulator.api.base_path

    @property
    def token_url(self) -> str:
        return self.base_url + self.settings.token_route(self.emulator.api.auth.token_path)

    @property
    def credentials(self) -> dict[str, Client]:
        """The accounts of the API's emulator data by name ("demo", "admin", ...)."""
        return {name: c.client for name, c in self.emulator.data.credentials.items()}

    @property
    def accounts(self) -> dict[str, Credential]:
        """The same accounts with their fields as the generated client's constructor names
        them (client_id/client_secret/api_key, or username/password)."""
        return dict(self.emulator.data.credentials)

    @property
    def state(self) -> Any:
        return self.emulator.state

    @property
    def auth(self) -> Auth:
        return self.emulator.auth

    @property
    def faults(self) -> Faults:
        """`server.faults.inject("<wire name>", status=503, times=2)`, or `delay=` seconds."""
        return self.emulator.faults

    @property
    def traffic(self) -> Traffic:
        """Counters since the last reset: requests, 429s, token requests, timestamps."""
        return self.emulator.limiter.traffic

    def reset(self) -> None:
        """Back to the start settings, the seeded state and zero counters."""
        self.settings.restore(self._defaults)
        self.emulator.reset()

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> EmulatorServer:
        with socket.socket() as probe:  # a free port; uvicorn binds it right after
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning",
                                lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="emulator", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the emulator did not start on port {self.port}")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
        self._server = self._thread = None
        self.emulator.close()

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
