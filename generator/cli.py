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

from generator import __version__
from generator.pipeline import build, export_openapi, generate
from generator.spec.errors import SpecError

EXIT_OK, EXIT_STALE, EXIT_SPEC, EXIT_INTERNAL = 0, 1, 2, 3
EXIT_PIPE = 141  # as a shell reports a command ended by SIGPIPE


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
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


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="apigen", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"apigen {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate", help="render specs/<api>/ into generated/<api>/")
    gen.add_argument("apis", nargs="*", help="API folder names (default: all)")
    gen.add_argument("--specs", type=Path, default=Path("specs"), help="default: specs")
    gen.add_argument("--out", type=Path, default=Path("generated"), help="default: generated")
    gen.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if generated/ differs from what the specs give",
    )
    export = sub.add_parser(
        "openapi", help="write only generated/<api>/openapi.json (OpenAPI 3.1) from the specs"
    )
    export.add_argument("apis", nargs="*", help="API folder names (default: all)")
    export.add_argument("--specs", type=Path, default=Path("specs"), help="default: specs")
    export.add_argument("--out", type=Path, default=Path("generated"), help="default: generated")
    pull = sub.add_parser(
        "pull-schemas", help="store each operation's schemas in specs/<api>/schemas/"
    )
    pull.add_argument("api", help="API folder name")
    pull.add_argument("--specs", type=Path, default=Path("specs"), help="default: specs")
    pull.add_argument("--force", action="store_true", help="refetch schemas already stored")
    pull.add_argument(
        "--rate",
        type=float,
        default=None,
        help="requests per second (default: the spec's rate limit; 0: no pacing)",
    )
    dr = sub.add_parser("drift", help="compare the live API with the specs (exit 0/1/2)")
    dr.add_argument("api", help="API folder name")
    dr.add_argument("--specs", type=Path, default=Path("specs"), help="default: specs")
    dr.add_argument("--fail-on", default="breaking",
                    choices=["breaking", "potentially-breaking", "non-breaking"])
    dr.add_argument("--format", dest="fmt", default="text", choices=["text", "markdown", "json"])
    dr.add_argument("--ignore-file", type=Path, default=None, help="YAML of accepted changes")
    dr.add_argument("--update", action="store_true",
                    help="store the live schemas in specs/<api>/schemas/")
    dr.add_argument("--operation", dest="operations", action="append", default=[],
                    help="only this operation (repeatable)")
    dr.add_argument("--rate", type=float, default=None,
                    help="requests per second (0: no pacing)")
    return parser


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
                    "generated/ is stale; these files differ from what the specs produce:",
                    file=sys.stderr,
                )
                for path in stale:
                    print(f"  {path}", file=sys.stderr)
                print("run `make generate` and commit the result", file=sys.stderr)
                return EXIT_STALE
            print("generated/ is current")
            return EXIT_OK
        else:
            changed = generate(args.specs, args.out, args.apis)
    except SpecError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print(f"apigen: {len(exc.problems)} error(s); nothing was written", file=sys.stderr)
        return EXIT_SPEC
    except (ValueError, OSError) as exc:
        print(f"apigen: {exc}; nothing was written", file=sys.stderr)
        return EXIT_SPEC
    print(f"{len(changed)} file(s) written" + "".join(f"\n  {c}" for c in changed))
    return EXIT_OK
