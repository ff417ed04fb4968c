"""`apigen` (also `python -m generator`): the command line of the generator.

Exit status: 0 done; 1 stale (`generate --check`) or findings (`drift`); 2 bad input (a spec
error, one `file:line:col` line per problem) or a check that could not run; 3 an internal error
(a bug of apigen): one line naming the command and the exception, never a traceback; generate
and openapi have written nothing."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from emulator.settings import DEFAULT_PORT, Settings  # light: no web server
from generator import __version__
from generator.console import paint
from generator.pipeline import build, export_openapi, generate
from generator.spec.errors import SpecError

EXIT_OK, EXIT_STALE, EXIT_SPEC, EXIT_INTERNAL = 0, 1, 2, 3
EXIT_PIPE = 141  # as a shell reports a command ended by SIGPIPE


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return _run(args)
    except BrokenPipeError:  # the reader of our output left (`apigen ... | head`): not a bug
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_PIPE
    except Exception as exc:  # the one place that turns a bug into an exit status
        print(f"apigen {args.command}: {_internal_error(args.command, exc)}", file=sys.stderr)
        return EXIT_INTERNAL


# Commands that hold credentials: an unexpected exception's text could carry one.
_WITH_CREDENTIALS = ("drift", "pull-schemas")
# Commands that write only once everything is computed.
_WRITE_AT_END = ("generate", "openapi")


def _internal_error(command: str, exc: Exception) -> str:
    """One line, never a traceback: the exception and where it was raised."""
    where = exc.__traceback__
    while where is not None and where.tb_next is not None:
        where = where.tb_next
    place = f" at {Path(where.tb_frame.f_code.co_filename).name}:{where.tb_lineno}" if where else ""
    if command in _WITH_CREDENTIALS:
        message = "message withheld (it may hold credentials)"
    else:
        message = " ".join(str(exc).split())[:300] or "no message"
    written = "; nothing was written" if command in _WRITE_AT_END else ""
    return f"internal error (a bug of apigen): {type(exc).__name__}{place}: {message}{written}"


def build_parser() -> argparse.ArgumentParser:
    """Every subcommand and option, each with its help text; each subcommand's epilog shows
    examples."""
    parser = argparse.ArgumentParser(
        prog="apigen", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=_examples("generate", "generate --check", "emulator <api> --port 8123",
                         "<command> --help"),
    )
    parser.add_argument("--version", action="version", version=f"apigen {__version__}",
                        help="print apigen's version and exit")
    sub = parser.add_subparsers(dest="command", required=True, metavar="<command>")

    def command(name: str, summary: str, *examples: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=summary, description=summary + ".",
                              epilog=_examples(*examples),
                              formatter_class=argparse.RawDescriptionHelpFormatter)

    def specs_option(cmd: argparse.ArgumentParser) -> None:
        cmd.add_argument("--specs", type=Path, default=Path("specs"),
                         help="the folder of the API specs, one sub-folder per API "
                              "(default: specs)")

    gen = command("generate", "render specs/<api>/ into generated/<api>/",
                  "generate", "generate <api>", "generate --check",
                  "generate --specs my-specs --out build")
    gen.add_argument("apis", nargs="*", help="API folder names (default: all)")
    specs_option(gen)
    gen.add_argument("--out", type=Path, default=Path("generated"),
                     help="where the packages go, one sub-folder per API (default: generated)")
    gen.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if generated/ differs from what the specs give",
    )
    export = command("openapi",
                     "write only generated/<api>/openapi.json (OpenAPI 3.1) from the specs",
                     "openapi", "openapi <api> --out /tmp/openapi")
    export.add_argument("apis", nargs="*", help="API folder names (default: all)")
    specs_option(export)
    export.add_argument("--out", type=Path, default=Path("generated"),
                        help="where <api>/openapi.json goes (default: generated)")
    emu = command("emulator",
                  "serve an API's emulator (a fake of the API, from its spec) in the foreground",
                  "emulator <api>", "emulator <api> --port 8123 --rate-limit 600")
    emu.add_argument("api", help="API folder name (a folder of --specs)")
    specs_option(emu)
    emu.add_argument("--host", default="127.0.0.1",
                     help="the address to listen on (default: 127.0.0.1)")
    emu.add_argument("--port", type=int, default=DEFAULT_PORT,
                     help=f"the port to listen on (default: {DEFAULT_PORT})")
    emu.add_argument("--rate-limit", type=int, default=Settings.rate_limit,
                     help="operations per API key per minute before a 429, for an API with a "
                          f"rate limit (default: {Settings.rate_limit})")
    pull = command("pull-schemas", "store each operation's schemas in specs/<api>/schemas/",
                   "pull-schemas <api>", "pull-schemas <api> --force --rate 1")
    pull.add_argument("api", help="API folder name")
    specs_option(pull)
    pull.add_argument("--force", action="store_true", help="refetch schemas already stored")
    pull.add_argument(
        "--rate",
        type=float,
        default=None,
        help="requests per second (default: the spec's rate limit; 0: no pacing)",
    )
    dr = command("drift", "compare the live API with the specs (exit 0/1/2)",
                 "drift <api>", "drift <api> --fail-on potentially-breaking --format json",
                 "drift <api> --operation <WireName> --update")
    dr.add_argument("api", help="API folder name")
    specs_option(dr)
    dr.add_argument("--fail-on", default="breaking",
                    choices=["breaking", "potentially-breaking", "non-breaking"],
                    help="exit 1 on findings of this level or worse (default: breaking)")
    dr.add_argument("--format", dest="fmt", default="text", choices=["text", "markdown", "json"],
                    help="the report's form (default: text)")
    dr.add_argument("--ignore-file", type=Path, default=None, help="YAML of accepted changes")
    dr.add_argument("--update", action="store_true",
                    help="store the live schemas in specs/<api>/schemas/")
    dr.add_argument("--operation", dest="operations", action="append", default=[],
                    help="only this operation (repeatable)")
    dr.add_argument("--rate", type=float, default=None,
                    help="requests per second (0: no pacing)")
    return parser


def _examples(*commands: str) -> str:
    return "examples:\n" + "".join(f"  apigen {c}\n" for c in commands)


def _run(args: argparse.Namespace) -> int:
    # The drift and pull commands need httpx; `generate` should not pay for importing it.
    if args.command == "drift":
        from generator.drift import drift_command

        return drift_command(args.specs, args.api, fail_on=args.fail_on, fmt=args.fmt,
                             ignore_file=args.ignore_file, update=args.update,
                             operations=args.operations, rate=args.rate)
    if args.command == "pull-schemas":
        from generator.drift import pull_command

        return pull_command(args.specs, args.api, force=args.force, rate=args.rate)
    if args.command == "emulator":
        return _emulator(args)

    try:
        if args.command == "openapi":
            changed = export_openapi(args.specs, args.out, args.apis)
        elif args.check:
            stale = [
                f"{p.root}/{rel}"
                for p in build(args.specs, args.out, args.apis)
                for rel in p.changed
            ]
            if stale:
                print(
                    paint("generated/ is stale", "warning", sys.stderr)
                    + "; these files differ from what the specs produce:",
                    file=sys.stderr,
                )
                for path in stale:
                    print(f"  {path}", file=sys.stderr)
                print("run `make generate` and commit the result", file=sys.stderr)
                return EXIT_STALE
            print(paint("generated/ is current", "ok", sys.stdout))
            return EXIT_OK
        else:
            changed = generate(args.specs, args.out, args.apis)
    except SpecError as exc:
        _print_problems(exc)
        print(f"apigen: {_error(f'{len(exc.problems)} error(s)')}; nothing was written",
              file=sys.stderr)
        return EXIT_SPEC
    except (ValueError, OSError) as exc:
        print(f"apigen: {_error(str(exc))}; nothing was written", file=sys.stderr)
        return EXIT_SPEC
    print(paint(f"{len(changed)} file(s) written", "ok", sys.stdout)
          + "".join(f"\n  {c}" for c in changed))
    return EXIT_OK


def _error(text: str) -> str:
    return paint(text, "error", sys.stderr)


def _print_problems(exc: SpecError) -> None:
    for problem in exc.problems:
        print(problem.format(lambda text, style: paint(text, style, sys.stderr)),
              file=sys.stderr)


def _emulator(args: argparse.Namespace) -> int:
    """Serve until interrupted; a missing folder or bad spec or emulator data exits 2."""
    # Imported here: the web server and the emulator are not needed by any other command.
    from emulator.datafile import DataError
    from emulator.foreground import serve

    api_dir = args.specs / args.api
    if not (api_dir / "api.yaml").is_file():
        known = sorted(p.parent.name for p in args.specs.glob("*/api.yaml"))
        print(f"apigen emulator: {_error(f'no API spec in {api_dir}')} (APIs in {args.specs}: "
              f"{', '.join(known) or 'none'})", file=sys.stderr)
        return EXIT_SPEC
    try:
        serve(api_dir, host=args.host, port=args.port,
              settings=Settings(rate_limit=args.rate_limit))
    except SpecError as exc:
        _print_problems(exc)
        return EXIT_SPEC
    except DataError as exc:
        print(f"apigen emulator: {_error(str(exc))}", file=sys.stderr)
        return EXIT_SPEC
    return EXIT_OK
