"""`python -m ebuilder import <resource> FILE` against the emulator over loopback: the package's
own `__main__` (run in this process by runpy, credentials from the environment as a user sets
them; one test runs it in a child process and interrupts it with SIGINT). Column mapping and its
errors, rows checked before anything is sent, dry runs, the report's lines, the journal."""

from __future__ import annotations

import csv
import json
import os
import re
import runpy
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from emulator.server import EmulatorServer
from tests.conftest import EB_USER, ROOT
from tests.fault_proxy import FaultProxy

Run = Callable[..., tuple[int, str]]


def _environment(server: EmulatorServer, base_url: str | None = None) -> dict[str, str]:
    return {"EBUILDER_BASE_URL": base_url or server.base_url,
            "EBUILDER_TOKEN_URL": server.token_url, "EBUILDER_USERNAME": EB_USER.client_id,
            "EBUILDER_PASSWORD": EB_USER.client_secret}


@pytest.fixture
def run(eb_emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> Run:
    """Runs `python -m ebuilder ARGS` here; returns the exit status and what went to stderr."""

    def run_command(*args: str | Path, base_url: str | None = None) -> tuple[int, str]:
        for name, value in _environment(eb_emulator, base_url).items():
            monkeypatch.setenv(name, value)
        monkeypatch.setattr(sys, "argv", ["ebuilder", *map(str, args)])
        capsys.readouterr()
        with pytest.raises(SystemExit) as info:
            runpy.run_module("ebuilder", run_name="__main__", alter_sys=True)
        return int(info.value.code or 0), capsys.readouterr().err

    return run_command


def _write_csv(path: Path, rows: list[list[Any]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    return path


def _report(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _companies(server: EmulatorServer, prefix: str) -> list[str]:
    return sorted(key[0] for key in server.state.companies if key[0].startswith(prefix))


def test_a_csv_is_imported_and_the_report_has_a_line_per_row(
        run: Run, eb_emulator: EmulatorServer, tmp_path: Path) -> None:
    source = _write_csv(tmp_path / "companies.csv", [
        ["CompanyName", "company_number", "CITY", "customFields.Region"],
        ["Report Co A", "R-1", "Springfield", "North"],
        ["Report Co B", "R-2", "", ""],
        ["Report Co A", "R-3", "", ""],  # a duplicate: the server refuses it
    ])
    status, err = run("import", "companies", source, "--report", tmp_path / "out.csv",
                      "--batch-size", "2")
    assert status == 1 and "2 imported, 1 failed, 0 in doubt, 0 not sent" in err
    lines = _report(tmp_path / "out.csv")
    assert [(line["row"], line["outcome"]) for line in lines] == [
        ("2", "imported"), ("3", "imported"), ("4", "failed")]
    assert "already exists" in lines[2]["errors"] and lines[0]["errors"] == ""
    assert list(lines[0]) == ["row", "outcome", "errors", "ids"]
    assert _companies(eb_emulator, "report co") == ["report co a", "report co b"]
    stored = eb_emulator.state.companies[("report co a",)].fields
    assert (stored["companyNumber"], stored["city"], stored["customFields"]) == (
        "R-1", "Springfield", {"Region": "North"})


def test_nested_fields_by_dotted_headers_in_csv_jsonl_and_xlsx(
        run: Run, eb_emulator: EmulatorServer, tmp_path: Path) -> None:
    header = ["header.companyName", "Items.firstName", "items.LAST_NAME", "items.2.firstName",
              "items.2.lastName", "items.customFields.Team"]
    _write_csv(tmp_path / "contacts.csv", [header, ["Acme Corp", "Ada", "Csv", "Bo", "Csv", "x"]])
    (tmp_path / "contacts.jsonl").write_text(json.dumps({
        "header": {"CompanyName": "Acme Corp"},
        "items": [{"firstName": "Ada", "last_name": "Jsonl"}]}) + "\n\n", encoding="utf-8")
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    book.active.append(header[:3])
    book.active.append(["Acme Corp", "Ada", "Xlsx"])
    book.save(tmp_path / "contacts.xlsx")
    for name in ("contacts.csv", "contacts.jsonl", "contacts.xlsx"):
        status, err = run("import", "contacts", tmp_path / name, "--report",
                          tmp_path / f"{name}.report.jsonl")
        assert status == 0, err
        line = json.loads((tmp_path / f"{name}.report.jsonl").read_text().splitlines()[0])
        assert line == {"row": 2 if name != "contacts.jsonl" else 1, "outcome": "imported",
                        "errors": [], "ids": []}
    names = {(c.fields["firstName"], c.fields["lastName"]): c.fields
             for c in eb_emulator.state.contacts.values()}
    assert {("Ada", "Csv"), ("Bo", "Csv"), ("Ada", "Jsonl"), ("Ada", "Xlsx")} <= set(names)
    assert names[("Ada", "Csv")]["customFields"] == {"Team": "x"}


@pytest.mark.parametrize(("column", "says"), [
    ("companyNme", "unknown column 'companyNme'; did you mean 'companyName' or "),
    ("city.name", "column 'city.name': city holds a value, it has no field 'name'"),
    ("customFields", "column 'customFields' names a map: add the key"),
    ("Company_Name", "columns 'companyName' and 'Company_Name' name the same field"),
])
def test_a_column_that_names_no_field_is_refused_before_anything_is_sent(
        run: Run, eb_emulator: EmulatorServer, tmp_path: Path, column: str, says: str) -> None:
    source = _write_csv(tmp_path / "c.csv", [["companyName", column], ["Never Co", "x"]])
    before = eb_emulator.traffic.requests
    status, err = run("import", "companies", source)
    assert status == 2 and says in err, err
    assert eb_emulator.traffic.requests == before and not _companies(eb_emulator, "never co")


def test_unknown_resource_operation_and_file_kind(run: Run, tmp_path: Path) -> None:
    source = _write_csv(tmp_path / "c.csv", [["companyName"], ["X"]])
    assert "did you mean 'companies'?" in run("import", "companys", source)[1]
    assert "has no bulk import 'nope'" in run("import", "companies", source,
                                              "--operation", "nope")[1]
    (tmp_path / "c.txt").write_text("x", encoding="utf-8")
    status, err = run("import", "companies", tmp_path / "c.txt")
    assert status == 2 and "reads .csv, .jsonl (JSON Lines) and .xlsx" in err


def _bad_rows(tmp_path: Path) -> Path:
    return _write_csv(tmp_path / "bad.csv", [
        ["header.companyName", "items.firstName", "items.lastName", "items.primary"],
        ["Acme Corp", "Ada", "Good", "true"],
        ["Acme Corp", "Bo", "", "true"],  # lastName is required
        ["Acme Corp", "Cy", "Bad", "sometimes"],  # not a boolean
    ])


def test_bad_rows_are_named_by_row_and_column_and_nothing_is_sent(
        run: Run, eb_emulator: EmulatorServer, tmp_path: Path) -> None:
    before = eb_emulator.traffic.requests
    status, err = run("import", "contacts", _bad_rows(tmp_path), "--report",
                      tmp_path / "out.csv")
    assert status == 1 and "1 of 3 row(s) valid, 2 invalid; nothing was sent" in err
    assert "row 3: items.lastName: Field required" in err
    lines = _report(tmp_path / "out.csv")
    assert [(line["row"], line["outcome"]) for line in lines] == [
        ("2", "not sent"), ("3", "invalid"), ("4", "invalid")]
    assert lines[1]["errors"] == "items.lastName: Field required"
    assert lines[2]["errors"].startswith("items.primary: Input should be a valid boolean")
    assert eb_emulator.traffic.requests == before
    assert not [c for c in eb_emulator.state.contacts.values() if c.fields["firstName"] == "Ada"]


def test_a_dry_run_checks_every_row_and_sends_nothing(
        run: Run, eb_emulator: EmulatorServer, tmp_path: Path) -> None:
    before = eb_emulator.traffic.requests
    status, err = run("import", "contacts", _bad_rows(tmp_path), "--dry-run", "--report",
                      tmp_path / "dry.jsonl")
    assert status == 1 and "dry run: nothing was sent" in err
    lines = [json.loads(line) for line in (tmp_path / "dry.jsonl").read_text().splitlines()]
    assert [(line["row"], line["outcome"]) for line in lines] == [
        (2, "valid"), (3, "invalid"), (4, "invalid")]
    good = _write_csv(tmp_path / "good.csv", [["companyName"], ["Dry Co"]])
    assert run("import", "companies", good, "--dry-run")[0] == 0
    assert eb_emulator.traffic.requests == before and not _companies(eb_emulator, "dry co")
    assert not (tmp_path / "good.csv.journal").exists()


def test_settings_every_batch_repeats_and_required_parameters(
        run: Run, eb_emulator: EmulatorServer, tmp_path: Path) -> None:
    source = _write_csv(tmp_path / "p.csv", [["header.projectIdentifier", "header.subject"],
                                             ["My Project A", "set by the command"]])
    status, err = run("import", "non_cost_processes", source, "--operation", "import",
                      "--set", "options.processPrefix=RFI", "--set", "options.importMode=Entity")
    assert status == 0, err
    assert [p for p in eb_emulator.state.processes.values()
            if p.fields.get("subject") == "set by the command"]
    status, err = run("import", "non_cost_processes", source, "--operation", "import",
                      "--set", "options.colour=red")
    assert status == 2 and "unknown column 'options.colour'" in err


def test_the_journal_resumes_and_refuses_a_changed_file(
        run: Run, eb_emulator: EmulatorServer, tmp_path: Path) -> None:
    rows = [["companyName"], *([f"Journal Co {i:02d}"] for i in range(6))]
    source = _write_csv(tmp_path / "j.csv", rows)
    with FaultProxy(eb_emulator.port, stall=4.0) as proxy:
        proxy.inject("reset_after", path="/Companies/Import", skip=1)
        status, err = run("import", "companies", source, "--batch-size", "2",
                          "--report", tmp_path / "first.csv", base_url=proxy.url)
    assert status == 1 and "2 imported, 0 failed, 2 in doubt, 2 not sent" in err
    assert [line["outcome"] for line in _report(tmp_path / "first.csv")] == [
        "imported", "imported", "in doubt", "in doubt", "not sent", "not sent"]
    status, err = run("import", "companies", source, "--batch-size", "2",
                      "--report", tmp_path / "second.csv")
    assert status == 1 and "4 imported, 0 failed, 2 in doubt, 0 not sent" in err
    assert "--resend-in-doubt" in err
    assert len(_companies(eb_emulator, "journal co")) == 6  # batch 2 was applied, once
    _write_csv(source, [*rows, ["Journal Co 99"]])
    status, err = run("import", "companies", source, "--batch-size", "2")
    assert status == 2 and "belongs to a run with other input" in err


_WITH_CTRL_C = ("import runpy, signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
                "runpy.run_module('ebuilder', run_name='__main__', alter_sys=True)")


def test_ctrl_c_stops_the_import_and_the_same_command_resumes(
        eb_emulator: EmulatorServer, tmp_path: Path) -> None:
    """The README's worked example: Ctrl-C while batch 1's answer is on its way (the server
    applied it, a proxy holds the answer back), then the same command twice."""
    source = _write_csv(tmp_path / "big.csv",
                        [["companyName"], *([f"Sigint Co {i:02d}"] for i in range(9))])
    command = [sys.executable, "-m", "ebuilder", "import", "companies", str(source),
               "--batch-size", "3", "--report", str(tmp_path / "r.csv")]
    with FaultProxy(eb_emulator.port, stall=30.0) as proxy:
        proxy.inject("stall", path="/Companies/Import")
        env = {**os.environ, **_environment(eb_emulator, proxy.url)}
        # A child inherits an ignored SIGINT from a test run started in the background (as by
        # `make test &`): it is given Python's Ctrl-C handler back before the command runs.
        interruptible = [sys.executable, "-c", _WITH_CTRL_C, *command[3:]]
        child = subprocess.Popen(interruptible, cwd=ROOT, env=env, stderr=subprocess.PIPE,
                                 text=True)
        while len(_companies(eb_emulator, "sigint co")) < 3 and child.poll() is None:
            time.sleep(0.01)  # until the server applied batch 1
        child.send_signal(signal.SIGINT)
        _, err = child.communicate(timeout=60)
    assert child.returncode == 130 and "run the same command again to resume" in err, err
    env = {**os.environ, **_environment(eb_emulator)}
    again = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                           timeout=60, check=False)
    assert again.returncode == 1 and "6 imported, 0 failed, 3 in doubt, 0 not sent" in (
        again.stderr), again.stderr
    assert [line["outcome"] for line in _report(tmp_path / "r.csv")] == [
        "in doubt"] * 3 + ["imported"] * 6
    assert len(_companies(eb_emulator, "sigint co")) == 9
    resent = subprocess.run([*command, "--resend-in-doubt"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60, check=False)
    assert "6 imported, 3 failed, 0 in doubt" in resent.stderr  # batch 1 was applied: refused
    assert len(_companies(eb_emulator, "sigint co")) == 9


def _worked_example() -> tuple[str, str]:
    """The README's worked import: its shell block and the output it says it prints."""
    text = (ROOT / "generated/ebuilder/README.md").read_text(encoding="utf-8")
    section = text.split("### Worked example against the emulator", 1)[1]
    script = section.split("```sh\n", 1)[1].split("```", 1)[0]
    printed = section.split("```text\n", 1)[1].split("```", 1)[0]
    return script, printed


def test_the_readme_worked_example_runs_as_written_and_prints_what_it_says(
        eb_emulator: EmulatorServer, tmp_path: Path) -> None:
    """The shell block runs in a fresh folder, its URL pointed at this emulator (the one change
    a reader makes when the port differs), `.venv/bin/python` being this interpreter; run twice,
    the second run is a resume that sends nothing."""
    script, printed = _worked_example()
    script = re.sub(r"http://127\.0\.0\.1:\d+", eb_emulator.base_url, script)
    script = script.replace(".venv/bin/python", sys.executable)
    env = {k: v for k, v in os.environ.items() if not k.startswith("EBUILDER_")}
    env["PYTHONPATH"] = str(ROOT)
    first = subprocess.run(["bash", "-e", "-c", script], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=120, check=False)
    assert first.returncode == 0, first.stderr
    assert first.stderr + first.stdout == printed
    assert _companies(eb_emulator, "example ") == ["example 1", "example 2", "example 3"]
    before = eb_emulator.traffic.requests
    again = subprocess.run(["bash", "-e", "-c", script], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=120, check=False)
    assert again.returncode == 0 and again.stderr + again.stdout == printed
    assert eb_emulator.traffic.requests == before  # the journal answered for every batch
