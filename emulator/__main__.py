"""`python -m emulator`: serve the emulator in the foreground (`make emulator`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import uvicorn

from emulator.app import create_app
from emulator.settings import Settings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m emulator", description=__doc__)
    parser.add_argument("--api-dir", type=Path, required=True,
                        help="the API's spec folder, e.g. specs/<api>")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8400)
    parser.add_argument("--rate-limit", type=int, default=60, help="operations per window")
    parser.add_argument("--rate-window", type=float, default=60.0, help="seconds")
    parser.add_argument("--token-lifetime", type=int, default=None,
                        help="seconds (default: the spec's)")
    args = parser.parse_args(argv)
    settings = Settings(rate_limit=args.rate_limit, rate_window=args.rate_window,
                        token_lifetime=args.token_lifetime)
    app = create_app(args.api_dir, settings)
    api = app.state.emulator.api
    base_url = f"http://{args.host}:{args.port}"
    print(f"{api.title} emulator")
    print(f"  base URL : {base_url}   (operations under {base_url}{api.base_path})")
    print(f"  token URL: {base_url}{api.auth.token_path or settings.token_path}")
    # Only this API's accounts, under the names its client's constructor takes.
    for name, credential in app.state.emulator.data.credentials.items():
        fields = " ".join(f"{k}={v}" for k, v in credential.fields.items())
        print(f"  {name:<9}: {fields}" + ("  (admin)" if credential.admin else ""))
    sys.stdout.flush()  # show the banner before uvicorn's log, also when piped
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_level="info")
    finally:
        app.state.emulator.close()  # remove the uploaded files


if __name__ == "__main__":
    main()
