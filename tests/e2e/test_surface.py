"""What a consumer imports: twin clients, the registry, and the V1 migration aids."""

from __future__ import annotations

import inspect
import warnings
from pathlib import Path

import powerclerk
import pytest
from powerclerk import OPERATIONS, AsyncPowerClerk, PowerClerk, from_v1, types

from generator.pipeline import load_api

ROOT = Path(__file__).resolve().parents[2]
API = load_api(ROOT / "specs" / "powerclerk")


def _public_methods(obj: object) -> dict[str, tuple[object, str]]:
    """Parameters and return annotation of each public method (async iterators as iterators,
    async pages as pages)."""
    out = {}
    for name, fn in inspect.getmembers(obj, callable):
        if not name.startswith("_"):
            sig = inspect.signature(fn)
            returns = str(sig.return_annotation).replace("AsyncIterator[", "Iterator[")
            returns = returns.replace("AsyncPage[", "Page[")
            out[name] = (list(sig.parameters.values()), returns)
    return out


def test_sync_and_async_clients_have_the_same_methods_and_signatures() -> None:
    assert _public_methods(PowerClerk).keys() - {"close"} == (
        _public_methods(AsyncPowerClerk).keys() - {"aclose"}
    )
    assert (
        inspect.signature(PowerClerk.__init__).parameters.keys()
        == inspect.signature(AsyncPowerClerk.__init__).parameters.keys()
    )
    sync = PowerClerk(
        base_url="http://127.0.0.1:9",
        token_url="http://127.0.0.1:9/t",
        client_id="i",
        client_secret="s",
        api_key="k",
    )
    asyn = AsyncPowerClerk(
        base_url="http://127.0.0.1:9",
        token_url="http://127.0.0.1:9/t",
        client_id="i",
        client_secret="s",
        api_key="k",
    )
    for resource in API.resources:
        sync_methods = _public_methods(getattr(sync, resource.name))
        async_methods = _public_methods(getattr(asyn, resource.name))
        assert sync_methods == async_methods, resource.name
        for name in sync_methods:
            is_async = inspect.iscoroutinefunction(getattr(getattr(asyn, resource.name), name))
            op = next((o for o in resource.operations if o.python_name == name), None)
            pages = [o.paginate.page_method for o in resource.operations if o.paginate]
            # iterators are plain async iterators; a page is awaited
            assert is_async == (op is not None or name in pages), name
    sync.close()


def test_every_spec_operation_is_a_method_and_a_registry_entry() -> None:
    assert len(OPERATIONS) == len(API.operations) == 33
    for op in API.operations:
        entry = OPERATIONS[op.wire_name]
        assert (entry.method, entry.path, entry.python_name) == (op.method, op.path, op.python_name)
        assert entry.confidence == op.confidence
        resource_cls = getattr(powerclerk.resources, op.resource.title().replace("_", ""))
        assert hasattr(resource_cls, op.python_name)
        if entry.response_model:
            assert hasattr(types, entry.response_model)
    inferred = [o for o in OPERATIONS.values() if o.confidence == "inferred"]
    assert inferred and all(o.source for o in inferred)


def test_inferred_operations_say_so_in_their_docstring() -> None:
    from powerclerk.resources import Attachments

    doc = inspect.getdoc(Attachments.upload) or ""
    assert "inferred, not documented" in doc


def test_v1_names_are_deprecated_aliases_of_the_v2_location() -> None:
    summary = types.ProjectSummary.model_validate(
        {
            "ProjectId": "P1",
            "ProgramId": "R1",
            "Url": "u",
            "LastChangeTimestamp": "2026-01-01T00:00:00Z",
            "ProjectOwner": {"Name": "Ann", "Email": "ann@example.com"},
            "CurrentStatus": {
                "StatusId": "S1",
                "Name": "Submitted",
                "Timestamp": "2026-01-01T00:00:00Z",
            },
        }
    )
    with pytest.warns(DeprecationWarning, match="OwnerEmailAddress is the V1 name"):
        assert summary.OwnerEmailAddress == "ann@example.com"
    with pytest.warns(DeprecationWarning):
        assert summary.owner_email_address == "ann@example.com"
    with pytest.warns(DeprecationWarning):
        assert summary.Status == "Submitted"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert summary.project_owner is not None and summary.project_owner.email


def test_status_public_id_and_status_id_are_both_accepted() -> None:
    stamp = "2026-01-01T00:00:00-08:00"
    with_public = types.CurrentStatus.model_validate(
        {"PublicId": "S9", "Name": "x", "Timestamp": stamp}
    )
    with_status = types.CurrentStatus.model_validate(
        {"StatusId": "S9", "Name": "x", "Timestamp": stamp}
    )
    assert with_public.status_id == with_status.status_id == "S9"


def test_translator_turns_a_v1_payload_into_the_v2_model() -> None:
    v1 = {
        "ProjectId": "P1",
        "ProgramId": "R1",
        "ProjectNumber": "EX-1",
        "Url": "u",
        "LastChangeTimestamp": "2026-01-01T00:00:00Z",
        "OwnerEmailAddress": "ann@example.com",
        "Status": "Submitted",
        "StatusCustomId": "SUB",
        "StatusPublicId": "S1",
        "StatusTimestamp": "2026-01-01T00:00:00Z",
    }
    project = from_v1(types.ProjectSummary, v1)
    assert project.project_owner is not None and project.project_owner.email == "ann@example.com"
    assert project.current_status is not None
    assert (
        project.current_status.name,
        project.current_status.custom_id,
        project.current_status.status_id,
    ) == ("Submitted", "SUB", "S1")
