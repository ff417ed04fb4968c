"""A maintainer's edits to the YAML reach the client, its docs and the emulator, with no change
to generator/ or templates/: the copy of the specs is regenerated and used from a fresh process."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import ADMIN as ADMIN_CLIENT
from tests.conftest import start_emulator
from tests.e2e.conftest import PROGRAM_ID
from tests.generator.conftest import run_apigen

ROOT = Path(__file__).resolve().parents[2]

NEW_OPERATION = """
  get:
    wire_name: GetProgram
    method: GET
    path: /Programs/{ProgramId}
    summary: One program by id.
    confidence: inferred
    source: Added by a test to prove that a spec edit is enough.
    params:
      ProgramId: {in: path, type: string}
    response: ProgramDetail
"""
NEW_MODEL = """
  ProgramDetail:
    fields:
      ProgramId: {type: string, required: true}
      Name: {type: string, required: true}
      Capacity: {type: integer}
"""


def _copy_specs(tmp_path: Path) -> Path:
    specs = tmp_path / "specs"
    shutil.copytree(ROOT / "specs" / "powerclerk", specs / "powerclerk")
    return specs


def _python(out: Path, code: str) -> subprocess.CompletedProcess[str]:
    """Run code in a fresh interpreter that imports the package generated under `out`."""
    env = {**os.environ, "PYTHONPATH": str(out / "powerclerk")}
    return subprocess.run(
        [sys.executable, "-W", "error::DeprecationWarning:__main__", "-c", code],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        cwd=out,
    )


def test_added_operation_is_callable_against_the_emulator(tmp_path: Path) -> None:
    specs = _copy_specs(tmp_path)
    programs = specs / "powerclerk" / "programs.yaml"
    text = programs.read_text()
    text = text.replace("operations:\n", "operations:" + NEW_OPERATION, 1)
    text = text.replace("models:\n", "models:" + NEW_MODEL, 1)
    programs.write_text(text)
    out = tmp_path / "out"
    result = run_apigen("generate", "--specs", specs, "--out", out)
    assert result.returncode == 0, result.stderr

    with start_emulator(specs / "powerclerk") as server:
        code = f"""
import json, powerclerk
assert powerclerk.__file__.startswith({str(out)!r}), powerclerk.__file__
from powerclerk import PowerClerk
with PowerClerk(base_url={server.base_url!r}, token_url={server.token_url!r},
                client_id={ADMIN_CLIENT.client_id!r}, client_secret={ADMIN_CLIENT.client_secret!r},
                api_key={ADMIN_CLIENT.api_key!r}) as pc:
    detail = pc.programs.get({PROGRAM_ID!r})
registry = powerclerk.OPERATIONS["GetProgram"].path
print(json.dumps({{"type": type(detail).__name__, "registry": registry,
                  "doc": pc.programs.get.__doc__}}))
"""
        run = _python(out, code)
    assert run.returncode == 0, run.stderr
    seen = json.loads(run.stdout)
    assert seen["type"] == "ProgramDetail"
    assert seen["registry"] == "/Programs/{ProgramId}"
    assert "inferred, not documented" in seen["doc"]
    assert "programs.get` — GetProgram" in (out / "powerclerk" / "README.md").read_text()


def test_edited_move_changes_the_alias_and_migration_doc(tmp_path: Path) -> None:
    specs = _copy_specs(tmp_path)
    projects = specs / "powerclerk" / "projects.yaml"
    text = projects.read_text()
    assert text.count("from: OwnerEmailAddress") == 1
    projects.write_text(text.replace("from: OwnerEmailAddress", "from: OwnerMail"))
    out = tmp_path / "out"
    result = run_apigen("generate", "--specs", specs, "--out", out)
    assert result.returncode == 0, result.stderr

    code = """
import warnings
from powerclerk import types
summary = types.ProjectSummary.model_validate({"ProjectId": "P", "ProgramId": "R", "Url": "u",
    "LastChangeTimestamp": "2026-01-01T00:00:00Z", "ProjectOwner": {"Email": "a@b.c"},
    "CurrentStatus": {"StatusId": "S", "Name": "N", "Timestamp": "2026-01-01T00:00:00Z"}})
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    assert summary.OwnerMail == "a@b.c"
assert caught and caught[0].category is DeprecationWarning
assert not hasattr(type(summary), "OwnerEmailAddress")
"""
    run = _python(out, code)
    assert run.returncode == 0, run.stderr
    migration = (out / "powerclerk" / "MIGRATION.md").read_text()
    assert "`OwnerMail` → `ProjectOwner.Email`" in migration
    assert "OwnerEmailAddress" not in migration
