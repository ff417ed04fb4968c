"""Serve one API's emulator in the foreground, with a banner that says how to reach it
(`apigen emulator <api>`, `make emulator`, `python -m emulator`)."""

from __future__ import annotations

import sys
from pathlib import Path

import uvicorn

from emulator.app import create_app
from emulator.settings import DEFAULT_PORT, Settings


def serve(api_dir: Path, *, host: str = "127.0.0.1", port: int = DEFAULT_PORT,
          settings: Settings | None = None) -> None:
    """Print the banner (URLs and accounts), then serve until interrupted."""
    settings = settings or Settings()
    app = create_app(Path(api_dir), settings)
    api = app.state.emulator.api
    base_url = f"http://{host}:{port}"
    print(f"{api.title} emulator")
    print(f"  base URL : {base_url}   (operations under {base_url}{api.base_path})")
    print(f"  token URL: {base_url}{settings.token_route(api.auth.token_path)}")
    # Only this API's accounts, under the names its client's constructor takes.
    for name, credential in app.state.emulator.data.credentials.items():
        fields = " ".join(f"{k}={v}" for k, v in credential.fields.items())
        print(f"  {name:<9}: {fields}" + ("  (admin)" if credential.admin else ""))
    sys.stdout.flush()  # show the banner before uvicorn's log, also when piped
    try:
        uvicorn.run(app, host=host, port=port, log_level="info")
    finally:
        app.state.emulator.close()  # remove the uploaded files
