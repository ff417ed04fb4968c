"""`python -m emulator`: serve the emulator in the foreground (`make emulator`, which runs
`apigen emulator`, is the same with the API's folder name)."""

from __future__ import annotations

import argparse
from pathlib import Path

from emulator.foreground import serve
from emulator.settings import DEFAULT_PORT, Settings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m emulator", description=__doc__)
    parser.add_argument("--api-dir", type=Path, required=True,
                        help="the API's spec folder, e.g. specs/<api>")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--rate-limit", type=int, default=60, help="operations per window")
    parser.add_argument("--rate-window", type=float, default=60.0, help="seconds")
    parser.add_argument("--token-lifetime", type=int, default=None,
                        help="seconds (default: the spec's)")
    args = parser.parse_args(argv)
    settings = Settings(rate_limit=args.rate_limit, rate_window=args.rate_window,
                        token_lifetime=args.token_lifetime)
    serve(args.api_dir, host=args.host, port=args.port, settings=settings)


if __name__ == "__main__":
    main()
