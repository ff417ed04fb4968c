"""`python -m <package> import <resource> FILE`: a bulk import from a spreadsheet or an export.

The file is CSV, JSON Lines or XLSX (the `xlsx` extra: openpyxl). Its columns name the fields of
one record by wire name or Python name, in any case; a nested field is a dotted header
(`header.companyName`, `items.firstName` for the first item, `items.2.firstName` for the second,
`customFields.Colour` for a key of a map). An unknown column is refused with the closest names.
Every row is checked against the operation's model before anything is sent (`--dry-run` stops
there); then the rows stream to the API in batches, with a journal (`--journal`, by default
FILE.journal) that makes a second run of the same command resume where the first one stopped.
`--report` writes one line per input row: its row number, its outcome, the server's errors for
it and the ids created. Credentials come from the environment, as the client reads them.

Exit status: 0 every row imported, 1 a row failed, was invalid, is in doubt or was not sent, 2
the command could not run (usage, columns, journal, configuration), 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import csv
import difflib
import importlib
import json
import sys
import types as pytypes
from array import array
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Union, get_args, get_origin

from pydantic import BaseModel

from ._base import WireModel, to_wire_body
from ._base_client import SyncAPIClient
from ._batch import BulkPlan, ProgressReport, RecordOutcome, iter_batches
from ._exceptions import ConfigurationError, RequestValidationError
from ._journal import JournalMismatchError
from ._spec import Operation

FieldPath = tuple[str | int, ...]  # wire keys and list positions into a record


class CommandError(Exception):
    """The command cannot run as given; the message says why (exit status 2)."""


# -- columns ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Field:
    wire: str
    kind: str  # "model", "list" (of models), "map" or "value"
    model: type[BaseModel] | None  # the nested model of "model" and "list"


def _shape(annotation: Any) -> tuple[str, type[BaseModel] | None]:
    options = [annotation]
    if get_origin(annotation) in (Union, pytypes.UnionType):
        options = [a for a in get_args(annotation) if a is not type(None)]
    for option in options:
        if isinstance(option, type) and issubclass(option, BaseModel):
            return "model", option
        origin, args = get_origin(option), get_args(option)
        if origin is list and args and isinstance(args[0], type) and issubclass(
                args[0], BaseModel):
            return "list", args[0]
        if origin is dict:
            return "map", None
    return "value", None


def _fields(model: type[BaseModel]) -> dict[str, _Field]:
    """A model's fields by every name a column may use, lower-cased: wire and Python."""
    found: dict[str, _Field] = {}
    for name, info in model.model_fields.items():
        wire = info.alias or name
        kind, inner = _shape(info.annotation)
        for spelling in (wire, name):
            found.setdefault(spelling.lower(), _Field(wire, kind, inner))
    return found


def _known(model: type[BaseModel], prefix: str = "", depth: int = 0
           ) -> dict[str, str]:
    """Every dotted header a model takes, by wire and Python names, each with its wire
    spelling (lists by their first item), for "did you mean"."""
    out: dict[str, str] = {}
    for name, info in model.model_fields.items():
        wire = info.alias or name
        kind, inner = _shape(info.annotation)
        out.setdefault((prefix + wire).lower(), prefix + wire)
        out.setdefault((prefix + name).lower(), prefix + wire)
        if inner is not None and depth < 3:
            out.update({k: v for k, v in _known(inner, f"{prefix}{wire}.", depth + 1).items()
                        if k not in out})
    return out


def _suggest(header: str, model: type[BaseModel]) -> str:
    known = _known(model)
    close = difflib.get_close_matches(header.lower(), list(known), n=6, cutoff=0.6)
    named = list(dict.fromkeys(known[c] for c in close))[:3]
    if named:
        return f"; did you mean {' or '.join(map(repr, named))}?"
    wires = list(dict.fromkeys(known.values()))
    return f"; the columns are {', '.join(wires[:12])}{', ...' if len(wires) > 12 else ''}"


def resolve(model: type[BaseModel], header: str) -> FieldPath:
    """Where a column's values go in a record, by the column's (dotted) header."""
    segments = header.strip().split(".")
    path: list[str | int] = []
    current: type[BaseModel] | None = model
    i = 0
    while i < len(segments):
        segment = segments[i].strip()
        if current is None:
            raise CommandError(f"column {header!r}: {'.'.join(map(str, path))} holds a value, "
                               f"it has no field {segment!r}")
        found = _fields(current).get(segment.lower())
        if found is None:
            raise CommandError(f"unknown column {header!r}{_suggest(header, model)}")
        path.append(found.wire)
        i += 1
        if found.kind == "map":
            if i == len(segments):
                raise CommandError(f"column {header!r} names a map: add the key, "
                                   f"{header}.<key>")
            path.append(".".join(segments[i:]))
            return tuple(path)
        if found.kind == "list":
            position = segments[i].strip() if i < len(segments) else ""
            if position.isdigit() and int(position) >= 1:
                path.append(int(position) - 1)
                i += 1
            else:
                path.append(0)
        current = found.model
    if current is not None:
        raise CommandError(f"column {header!r} names an object: name one of its fields "
                           f"({header}.{next(iter(current.model_fields.values())).alias or '…'})")
    return tuple(path)


def _put(record: dict[str, Any], path: FieldPath, value: Any) -> None:
    node: Any = record
    for here, after in zip(path, path[1:], strict=False):
        if isinstance(here, int):
            while len(node) <= here:
                node.append({})
            node = node[here]
        else:
            node = node.setdefault(here, [] if isinstance(after, int) else {})
    last = path[-1]
    assert isinstance(last, str), path  # resolve() ends every path on a field or a map key
    node[last] = value


class Columns:
    """The columns of one file, each resolved once (JSON Lines may add some on any line)."""

    def __init__(self, model: type[BaseModel]) -> None:
        self.model = model
        self._paths: dict[str, FieldPath] = {}
        self._by_path: dict[FieldPath, str] = {}

    def path(self, header: str) -> FieldPath:
        found = self._paths.get(header)
        if found is None:
            found = resolve(self.model, header)
            other = self._by_path.setdefault(found, header)
            if other != header:
                raise CommandError(f"columns {other!r} and {header!r} name the same field")
            self._paths[header] = found
        return found

    def header(self, path: Sequence[str | int]) -> str:
        """The column of a field, or its dotted wire path when no column names it."""
        found = self._by_path.get(tuple(path))
        return found if found is not None else ".".join(
            str(p + 1) if isinstance(p, int) else p for p in path)

    def record(self, cells: Mapping[str, Any]) -> dict[str, Any]:
        record: dict[str, Any] = {}
        for header, value in cells.items():
            if value is None or (isinstance(value, str) and not value.strip()):
                continue  # an empty cell leaves the field out
            _put(record, self.path(header), value)
        return record


# -- files --------------------------------------------------------------------------------------


def _flat(value: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """A JSON object as dotted columns: nested objects and lists of objects spelled out."""
    out: dict[str, Any] = {}
    for key, item in value.items():
        name = f"{prefix}{key}"
        if isinstance(item, Mapping):
            out.update(_flat(item, name + "."))
        elif isinstance(item, list) and item and all(isinstance(x, Mapping) for x in item):
            for position, element in enumerate(item, 1):
                out.update(_flat(element, f"{name}.{position}."))
        else:
            out[name] = item
    return out


def read_rows(path: Path, columns: Columns) -> Iterator[tuple[int, dict[str, Any]]]:
    """(row number as the file's reader sees it, cells by header), one row at a time; the
    header row's columns are resolved before the first row (JSON Lines: as keys appear)."""
    kind = path.suffix.lower()
    if kind == ".csv":
        yield from _csv_rows(path, columns)
    elif kind in (".jsonl", ".ndjson"):
        yield from _jsonl_rows(path)
    elif kind == ".xlsx":
        yield from _xlsx_rows(path, columns)
    else:
        raise CommandError(f"{path}: unknown kind of file {kind or '(no suffix)'!r}; the import "
                           f"reads .csv, .jsonl (JSON Lines) and .xlsx")


def _csv_rows(path: Path, columns: Columns) -> Iterator[tuple[int, dict[str, Any]]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        headers = next(reader, None)
        if headers is None:
            return
        for header in headers:
            columns.path(header)
        for row in reader:
            if any(cell.strip() for cell in row):
                if len(row) > len(headers):
                    raise CommandError(f"{path}: row {reader.line_num} has {len(row)} cells, "
                                       f"the header {len(headers)}")
                yield reader.line_num, dict(zip(headers, row, strict=False))


def _jsonl_rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                raise CommandError(f"{path}: line {number} is not JSON: {exc.msg}") from None
            if not isinstance(value, dict):
                raise CommandError(f"{path}: line {number} is not a JSON object")
            yield number, _flat(value)


def _xlsx_rows(path: Path, columns: Columns) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        openpyxl: Any = importlib.import_module("openpyxl")
    except ImportError:
        raise CommandError("reading .xlsx needs openpyxl: install the package's xlsx extra "
                           "(pip install '<package>[xlsx]')") from None
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        rows = book.active.iter_rows(values_only=True)
        headers = next(rows, None)
        if headers is None:
            return
        names = [str(h) if h is not None else "" for h in headers]
        for name in filter(None, names):
            columns.path(name)
        for number, row in enumerate(rows, 2):
            if any(cell is not None and str(cell).strip() for cell in row):
                yield number, {h: c for h, c in zip(names, row, strict=False) if h}
    finally:
        book.close()


# -- the report ---------------------------------------------------------------------------------


class Report:
    """One line per input row: CSV, or JSON Lines for a .jsonl file."""

    FIELDS = ("row", "outcome", "errors", "ids")

    def __init__(self, path: Path | None) -> None:
        self._handle: IO[str] | None = None
        self._csv: Any = None
        if path is None:
            return
        self._handle = path.open("w", newline="", encoding="utf-8")
        if path.suffix.lower() not in (".jsonl", ".ndjson"):
            self._csv = csv.writer(self._handle)
            self._csv.writerow(self.FIELDS)

    def write(self, row: int, outcome: str, errors: Sequence[str] = (),
              ids: Sequence[str] = ()) -> None:
        if self._handle is None:
            return
        if self._csv is not None:
            self._csv.writerow([row, outcome, "; ".join(errors), " ".join(ids)])
        else:
            self._handle.write(json.dumps({"row": row, "outcome": outcome,
                                           "errors": list(errors), "ids": list(ids)}) + "\n")

    def flush(self) -> None:
        if self._handle is not None:
            self._handle.flush()

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()


def outcome_of(outcome: RecordOutcome) -> str:
    if outcome.in_doubt:
        return "in doubt"
    if outcome.ok:
        return "imported"
    return "not sent" if outcome.error_messages[0].startswith("not sent") else "failed"


# -- the command --------------------------------------------------------------------------------


def _operation(operations: Mapping[str, Operation], resource: str, name: str | None) -> Operation:
    batch = [op for op in operations.values() if op.batch is not None]
    resources = sorted({op.resource for op in batch})
    mine = [op for op in batch if op.resource.lower() == resource.lower()]
    if not mine:
        close = difflib.get_close_matches(resource.lower(), resources, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"they are {', '.join(resources)}"
        raise CommandError(f"resource {resource!r} has no bulk import; {hint}")
    if name is None:
        if len(mine) > 1:
            raise CommandError(f"{resource} has several bulk imports: choose one with "
                               f"--operation ({', '.join(_names(mine))})")
        return mine[0]
    for op in mine:
        if name.lower() in (op.wire_name.lower(), op.python_name.lower(),
                            op.python_name.strip("_").lower()):
            return op
    raise CommandError(f"{resource} has no bulk import {name!r}; choose one of "
                       f"{', '.join(_names(mine))}")


def _names(ops: Sequence[Operation]) -> list[str]:
    return [f"{op.python_name.strip('_')} ({op.wire_name})" for op in ops]


@dataclass
class Job:
    """One import: the operation, its models and what every batch repeats."""

    op: Operation
    request_model: type[WireModel]
    response_model: type[BaseModel]
    columns: Columns
    keep: dict[str, Any]
    path: dict[str, Any]
    query: dict[str, Any]

    @property
    def records_key(self) -> str:
        assert self.op.batch is not None
        return self.op.batch.records

    def problems(self, record: Mapping[str, Any]) -> list[str]:
        """What the model refuses in one record, each named by its column."""
        try:
            to_wire_body(self.request_model, {**self.keep, self.records_key: [record]})
        except RequestValidationError as exc:
            out = []
            for problem in exc.fields:
                where = problem.wire_path[2:] if problem.wire_path[:1] == (
                    self.records_key,) else problem.wire_path
                out.append(f"{self.columns.header(where) or 'row'}: {problem.message}")
            return out or list(exc.problems)
        return []


def _job(operations: Mapping[str, Operation], types: Any, args: argparse.Namespace) -> Job:
    op = _operation(operations, args.resource, args.operation)
    assert op.batch is not None
    request_model: type[WireModel] = getattr(types, op.request_model)
    records = _fields(request_model).get(op.batch.records.lower())
    if records is None or records.model is None:
        raise CommandError(f"{op.wire_name}: its body has no list of records")
    keep: dict[str, Any] = {}
    path: dict[str, Any] = {}
    query: dict[str, Any] = {}
    for setting in args.set or ():
        name, sep, value = setting.partition("=")
        if not sep:
            raise CommandError(f"--set {setting!r}: write NAME=VALUE")
        param = next((p for p in op.params if name.lower() in (
            p.wire_name.lower(), p.python_name.lower())), None)
        if param is not None:
            (path if param.location == "path" else query)[param.wire_name] = value
            continue
        where = resolve(request_model, name)
        if where[0] not in op.batch.keep:
            raise CommandError(f"--set {name}: not a field every batch repeats ("
                               f"{', '.join(op.batch.keep) or 'none'}) nor a parameter of "
                               f"{op.wire_name}")
        _put(keep, where, value)
    missing = [p.wire_name for p in op.params if p.required and p.wire_name not in
               {**path, **query}]
    if missing:
        raise CommandError(f"{op.wire_name} needs {', '.join(missing)}: pass --set NAME=VALUE")
    try:
        to_wire_body(request_model, {**keep, op.batch.records: []})
    except RequestValidationError as exc:
        raise CommandError(f"--set: {'; '.join(exc.problems)}") from None
    return Job(op, request_model, getattr(types, op.response_model), Columns(records.model),
               keep, path, query)


def _parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description="Commands of the client package.")
    commands = parser.add_subparsers(dest="command", required=True)
    command = commands.add_parser(
        "import", help="bulk-import the rows of a CSV, JSON Lines or XLSX file",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    command.add_argument("resource", help="the resource, e.g. the client attribute's name")
    command.add_argument("file", type=Path, help="a .csv, .jsonl or .xlsx file; header row first")
    command.add_argument("--operation", help="which bulk import of the resource (its method or "
                         "operation name); needed when it has several")
    command.add_argument("--journal", type=Path, help="the resumable journal (SQLite; default "
                         "FILE.journal)")
    command.add_argument("--no-journal", action="store_true", help="keep no journal")
    command.add_argument("--dry-run", action="store_true",
                         help="check every row and stop: nothing is sent")
    command.add_argument("--report", type=Path, help="write one line per row here (.csv, or "
                         ".jsonl for JSON Lines)")
    command.add_argument("--batch-size", type=int, default=500, help="records per request")
    command.add_argument("--set", action="append", metavar="NAME=VALUE", help="a field every "
                         "batch repeats (options.importMode=Entity) or a parameter; repeatable")
    command.add_argument("--resend-in-doubt", action="store_true", help="send again the "
                         "journal's batches whose outcome is unknown")
    return parser


def main(argv: Sequence[str], *, prog: str, client: Callable[[], SyncAPIClient],
         operations: Mapping[str, Operation], types: Any) -> int:
    """Run the command line `argv`; returns the exit status."""
    args = _parser(prog).parse_args(argv)
    if args.batch_size < 1:
        print(f"{prog}: error: --batch-size must be at least 1", file=sys.stderr)
        return 2
    report = None
    try:
        job = _job(operations, types, args)
        report = Report(args.report)
        rows, invalid = _check_rows(job, args.file, report if args.dry_run else None)
        if args.dry_run or invalid:
            return _after_check(args, report, job, rows, invalid, prog)
        with client() as api:
            return _send(api, job, args, rows, report, prog)
    except (CommandError, JournalMismatchError, ConfigurationError, OSError) as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        journal = _journal_path(args)
        again = "run the same command again to resume" if journal else "nothing was journaled"
        print(f"\n{prog}: interrupted; {again}", file=sys.stderr)
        return 130
    finally:
        if report is not None:
            report.close()


def _journal_path(args: argparse.Namespace) -> Path | None:
    if args.no_journal:
        return None
    given: Path | None = args.journal
    file: Path = args.file
    return given or file.with_name(file.name + ".journal")


def _check_rows(job: Job, file: Path, report: Report | None
                ) -> tuple[array[int], dict[int, list[str]]]:
    """Every row checked before anything is sent: the row numbers, and the invalid rows."""
    rows: array[int] = array("L")
    invalid: dict[int, list[str]] = {}
    for number, cells in read_rows(file, job.columns):
        rows.append(number)
        problems = job.problems(job.columns.record(cells))
        if problems:
            invalid[number] = problems
        if report is not None:
            report.write(number, "invalid" if problems else "valid", problems)
    return rows, invalid


def _after_check(args: argparse.Namespace, report: Report, job: Job, rows: array[int],
                 invalid: Mapping[int, list[str]], prog: str) -> int:
    if not args.dry_run:  # the report still says what became of every row: nothing was sent
        for number in rows:
            report.write(number, "invalid" if number in invalid else "not sent",
                         invalid.get(number, ("not sent: other rows are invalid",)))
    for number, problems in list(invalid.items())[:20]:
        print(f"row {number}: {'; '.join(problems)}", file=sys.stderr)
    more = f" ({len(invalid) - 20} more in the report)" if len(invalid) > 20 else ""
    verdict = "nothing was sent" if not args.dry_run else "dry run: nothing was sent"
    print(f"{prog}: {len(rows) - len(invalid)} of {len(rows)} row(s) valid, {len(invalid)} "
          f"invalid{more}; {verdict}", file=sys.stderr)
    return 1 if invalid else 0


def _send(api: SyncAPIClient, job: Job, args: argparse.Namespace, rows: array[int],
          report: Report, prog: str) -> int:
    records = (job.columns.record(cells) for _, cells in read_rows(args.file, job.columns))
    journal = _journal_path(args)
    counts = dict.fromkeys(("imported", "failed", "in doubt", "not sent"), 0)
    with BulkPlan(job.op, job.request_model, records, job.keep, batch_size=args.batch_size,
                  journal=journal, resend_in_doubt=args.resend_in_doubt, path=job.path,
                  query=job.query) as plan, ProgressReport(True, len(rows), awaits=False) as bar:
        done = 0
        batches = iter_batches(api, plan, job.op, job.response_model, path=job.path,
                               query=job.query)
        with closing(batches):
            for batch in batches:
                done += _write(batch.outcomes, rows, report, counts)
                report.flush()
                bar.sync(done)
                if batch.error is not None:
                    _write(plan.rest(f"batch {batch.number} was interrupted"), rows, report,
                           counts)
                    print(f"{prog}: batch {batch.number} was interrupted: {batch.error}",
                          file=sys.stderr)
                    break
    print(f"{prog}: {counts['imported']} imported, {counts['failed']} failed, "
          f"{counts['in doubt']} in doubt, {counts['not sent']} not sent"
          + (f"; journal {journal}" if journal else ""), file=sys.stderr)
    if counts["in doubt"]:
        print(f"{prog}: rows in doubt were sent without an answer; check them in the "
              f"application, then run again with --resend-in-doubt to send them again",
              file=sys.stderr)
    return 0 if counts["imported"] == len(rows) else 1


def _write(outcomes: Iterator[RecordOutcome] | list[RecordOutcome], rows: array[int],
           report: Report, counts: dict[str, int]) -> int:
    written = 0
    for outcome in outcomes:
        what = outcome_of(outcome)
        counts[what] += 1
        report.write(rows[outcome.index], what, outcome.error_messages if not outcome.ok else ())
        written += 1
    return written

