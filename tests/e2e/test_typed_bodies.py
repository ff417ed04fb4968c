"""Request bodies typed as TypedDicts: a type checker accepts a body written with the fields'
Python names and refuses a misspelt key, a missing required key and a value of the wrong type
(mypy --strict over a user's script); the same dicts go over the wire under the wire names."""

from __future__ import annotations

import importlib
import inspect
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from ebuilder import EBuilder
from powerclerk import PowerClerk

from emulator.server import EmulatorServer
from tests.conftest import EB_USER, PROGRAM_ID, ROOT

USER_SCRIPT = '''\
from ebuilder import EBuilder
from ebuilder.params import CommitmentHeaderParam
from ebuilder.types import CommitmentsImportRow
from powerclerk import PowerClerk


def good(pc: PowerClerk, eb: EBuilder) -> None:
    pc.projects.set_draft_data(
        "P1", "J1", "F1", body={"project": {"data_fields": [{"data_field_id": "F1", "value": "x"}]}}
    )
    pc.projects.set_owner("P1", "J1", owner_email="a@example.com")  # a flat body: arguments
    pc.attachments.set_metadata("P1", "J1", "A1", attachment_status="Approve")
    pc.projects.find_by_data("P1", body={"fields": [{"content": "x"}], "other": 1})  # open model
    header: CommitmentHeaderParam = {
        "project_identifier": "P", "commitment_type": "T", "commitment_number": "C1",
        "description": "D", "company_name": "Co",
    }
    eb.commitments.import_many([{"header": header}], options={"abort_on_exception": True})
    eb.commitments.import_many([CommitmentsImportRow.model_validate({"header": header})])
    eb.documents.upload_file(b"%PDF", body={"project_name": "P", "folder_path": "/Documents"})


def bad(pc: PowerClerk, eb: EBuilder) -> None:
    pc.projects.set_draft_data("P1", "J1", "F1", body={"project": {"data_field": []}})  # BAD: key
    pc.projects.set_draft_data("P1", "J1", "F1", body={"project": {"data_fields": [{}]}})  # BAD
    pc.attachments.set_metadata("P1", "J1", "A1", attachment_status="Maybe")  # BAD: value
    pc.accounts.create_mfa_session_token(expires_after_minutes="ten")  # BAD: type
    pc.projects.set_owner("P1", "J1")  # BAD: missing argument
    eb.commitments.import_many([{"header": {"project_identifier": "P"}}])  # BAD: missing
    eb.documents.upload_file(b"%PDF", body={"project_name": "P"})  # BAD: missing
'''


def test_mypy_checks_bodies_written_as_dicts(tmp_path: Path) -> None:
    script = tmp_path / "user_script.py"
    script.write_text(USER_SCRIPT)
    run = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-error-summary",
         "--cache-dir", str(ROOT / ".mypy_cache"), str(script)],
        capture_output=True, text=True, check=False, cwd=tmp_path,
        # editable installs are import hooks, which mypy does not follow
        env={**os.environ, "MYPYPATH": os.pathsep.join(
            str(ROOT / "generated" / api) for api in ("powerclerk", "ebuilder"))},
    )
    errors = [line for line in run.stdout.splitlines() if ": error:" in line]
    lines = USER_SCRIPT.splitlines()
    flagged = {int(re.match(r"[^:]+:(\d+):", e)[1]) for e in errors}  # type: ignore[index]
    expected = {n for n, line in enumerate(lines, 1) if "# BAD" in line}
    assert flagged == expected, run.stdout


def test_the_typed_dicts_say_which_keys_are_required() -> None:
    from ebuilder.params import DocumentsUploadFileParam, ProjectRowParam
    from powerclerk.params import SetAttachmentMetadataRequestParam

    assert SetAttachmentMetadataRequestParam.__required_keys__ == {"attachment_status"}
    assert SetAttachmentMetadataRequestParam.__optional_keys__ == {"note"}
    assert "project_name" in ProjectRowParam.__required_keys__
    # the file helper fills the file in itself and the name unless given
    keys = DocumentsUploadFileParam.__required_keys__ | DocumentsUploadFileParam.__optional_keys__
    assert "base64_encoded_file" not in keys and "file_name" in keys
    assert "file_name" not in DocumentsUploadFileParam.__required_keys__


def test_a_body_by_python_names_goes_out_by_wire_names(
    make_client: Callable[..., PowerClerk], emulator: EmulatorServer
) -> None:
    with make_client() as client:
        created = client.projects.create(PROGRAM_ID).project_id
        form = client.programs.list_forms(PROGRAM_ID)[0]
        field = client.programs.get_form_schema(PROGRAM_ID, form.form_id).data_fields[0]
        answer = client.projects.set_draft_data(PROGRAM_ID, created, form.form_id, body={
            "project": {"data_fields": [{"data_field_id": field.data_field_id, "value": "x"}]},
        })
        with_raw = client.with_raw_response.projects.set_draft_data(
            PROGRAM_ID, created, form.form_id,
            body={"project": {"data_fields": [{"data_field_id": field.data_field_id}]}},
        )
    assert answer.project_id == created  # the method returns the project inside the answer
    assert with_raw.parse().project_id == created
    assert with_raw.answer is not None and type(with_raw.answer).__name__ == "ProjectDataResponse"
    assert with_raw.http_response.json()["Project"]["ProjectId"] == created
    stored = {f.data_field_id: f.value for f in answer.data_fields}
    assert stored[field.data_field_id] == "x"  # sent as DataFields / DataFieldId / Value


def test_a_file_helper_keeps_a_name_given_by_its_python_name(
    eb_emulator: EmulatorServer, tmp_path: Path
) -> None:
    source = tmp_path / "on-disk.pdf"
    source.write_bytes(b"%PDF-1.4\n")
    with EBuilder(base_url=eb_emulator.base_url, username=EB_USER.client_id,
                  password=EB_USER.client_secret) as client:
        client.documents.upload_file(source, body={
            "project_name": "My Project A", "folder_path": "/Documents", "file_name": "given.pdf",
        })
    names = {d.name for d in eb_emulator.state.documents.values()}
    assert "given.pdf" in names and "on-disk.pdf" not in names


@pytest.mark.parametrize("name", ["powerclerk", "ebuilder"])
def test_every_body_argument_names_its_typed_dict(name: str) -> None:
    """Every `body` and `records` annotation names the TypedDict of its model first."""
    params = importlib.import_module(f"{name}.params")
    resources = importlib.import_module(f"{name}.resources")
    seen = 0
    for class_name in resources.__all__:
        for method in vars(getattr(resources, class_name)).values():
            if not inspect.isfunction(method):
                continue
            for arg in ("body", "records"):
                parameter = inspect.signature(method).parameters.get(arg)
                if parameter is None:
                    continue
                first = str(parameter.annotation).removeprefix("Sequence[").split(" | ")[0]
                assert first in params.__all__, (class_name, method.__name__, parameter)
                seen += 1
    assert seen >= 6  # both packages have more; none would be vacuous
