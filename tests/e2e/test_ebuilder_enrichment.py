"""Schema enrichment against the emulator: a field the live API has and the YAML lacks is pulled,
appears typed in the regenerated client, is reported, and can be sent."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from emulator.server import EmulatorServer
from tests.conftest import EB_USER
from tests.generator.conftest import run_apigen

ROOT = Path(__file__).resolve().parents[2]
EXTRA = {"type": "string", "description": "Reference in the owner's ERP."}


def test_pulled_extra_field_appears_typed_and_is_accepted(
    eb_emulator: EmulatorServer, tmp_path: Path
) -> None:
    eb_emulator.settings.schema_changes = {
        "CommitmentsImport": {"request": {"add": {"data[].header.externalReference": EXTRA}}}
    }
    specs = tmp_path / "specs"
    shutil.copytree(ROOT / "specs" / "ebuilder", specs / "ebuilder")
    env = {
        **os.environ,
        "EBUILDER_BASE_URL": eb_emulator.base_url,
        "EBUILDER_USERNAME": EB_USER.client_id,
        "EBUILDER_PASSWORD": EB_USER.client_secret,
    }
    pulled = subprocess.run(
        [sys.executable, "-m", "generator", "pull-schemas", "ebuilder", "--specs", str(specs)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert pulled.returncode == 0, pulled.stderr
    assert EB_USER.client_secret not in pulled.stdout + pulled.stderr
    stored = specs / "ebuilder" / "schemas" / "CommitmentsImport.request.json"
    assert "externalReference" in stored.read_text()
    assert (
        stored.read_text()
        == json.dumps(json.loads(stored.read_text()), indent=2, sort_keys=True) + "\n"
    )  # normalized

    out = tmp_path / "out"
    generated = run_apigen("generate", "--specs", specs, "--out", out)
    assert generated.returncode == 0, generated.stderr
    assert "externalReference" in (out / "ebuilder" / "ENRICHMENT.md").read_text()

    code = f"""
import ebuilder
assert ebuilder.__file__.startswith({str(out)!r})
from ebuilder import EBuilder
from ebuilder.types import CommitmentHeader
field = CommitmentHeader.model_fields["external_reference"]
assert field.alias == "externalReference", field.alias
assert field.annotation == (str | None), field.annotation
with EBuilder(base_url={eb_emulator.base_url!r}, username={EB_USER.client_id!r},
              password={EB_USER.client_secret!r}) as eb:
    result = eb.commitments.import_(body={{"options": {{"projectIdentifier": "ProjectName"}},
        "data": [{{"header": {{"projectIdentifier": "My Project A", "commitmentType": "Contract",
                   "commitmentNumber": "E-1", "description": "d", "companyName": "ACME Corp",
                   "externalReference": "ERP-42"}}}}]}})
assert result.ok, result.failed
print("ok")
"""
    env = {**os.environ, "PYTHONPATH": str(out / "ebuilder")}
    run = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "ok"


def test_without_pulled_schemas_generation_uses_the_yaml_alone() -> None:
    assert not (ROOT / "specs" / "ebuilder" / "schemas").exists()
    assert not (ROOT / "generated" / "ebuilder" / "ENRICHMENT.md").exists()
