"""Every Python block of the generated READMEs and MIGRATION.md runs against the API's emulator,
as a reader would run it: the quick start first (its `BASE_URL` line pointed at the emulator
these tests started, the one change a reader makes too when the port differs), then each
example on its own with the quick start's `client`, in a folder holding a `document.pdf`, on an
emulator back at its starting records.

A block fenced ```python no-run is not run (it needs the real API's credentials); it must still
compile. Every other block must complete: no exception, and every bulk answer it leaves in a
variable (`BatchResult`, `BulkResult`) without a refused record. The one exception is a block
fenced ```python raises: it demonstrates an error the API answers (`APIStatusError`, e.g. a 404
for a record that exists only once created), the MFA the call needs (`MfaConfigurationError`)
or refused records, and it must end in exactly that; a `raises` block that completes fails too,
so that the marker cannot outlive the error. Any other exception (a wrong argument, a name that
does not exist, a body the client refuses) fails the test."""

from __future__ import annotations

import ast
import asyncio
import importlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from emulator.server import EmulatorServer
from tests.conftest import ROOT, SPECS, start_emulator

GENERATED = ROOT / "generated"
APIS = sorted(p.parent.name for p in GENERATED.glob("*/README.md"))
FENCE = re.compile(r"^```python(?: (no-run|raises))?\n(.*?)^```$", re.MULTILINE | re.DOTALL)
BASE_URL_LINE = re.compile(r'^BASE_URL = "http://127\.0\.0\.1:\d+"', re.MULTILINE)
NO_RUN_AT_MOST = 1  # per file: the real-API connection example


@dataclass
class Block:
    file: str
    line: int
    code: str
    run: bool
    raises: bool = False  # fenced `python raises`: it demonstrates an error

    def __str__(self) -> str:
        first = self.code.strip().splitlines()[0] if self.code.strip() else ""
        return f"{self.file}:{self.line}: {first[:70]}"


def _blocks(api: str) -> Iterator[Block]:
    for name in ("README.md", "MIGRATION.md"):
        path = GENERATED / api / name
        if not path.exists():
            continue
        text = path.read_text()
        for match in FENCE.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            marker = match.group(1)
            yield Block(f"{api}/{name}", line, match.group(2), run=marker != "no-run",
                        raises=marker == "raises")


@pytest.fixture(scope="module", params=APIS)
def served(request: pytest.FixtureRequest) -> Iterator[tuple[str, EmulatorServer]]:
    with start_emulator(SPECS / request.param) as server:
        yield request.param, server


def test_no_run_blocks_are_few_and_compile(served: tuple[str, EmulatorServer]) -> None:
    api, _ = served
    blocks = list(_blocks(api))
    assert blocks
    for file in {b.file for b in blocks}:
        no_run = [b for b in blocks if b.file == file and not b.run]
        assert len(no_run) <= NO_RUN_AT_MOST, [str(b) for b in no_run]
        for block in no_run:  # top-level `async with` is fine in a snippet
            compile(block.code, str(block), "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)


def test_every_python_block_runs_against_the_emulator(
    served: tuple[str, EmulatorServer], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    api, server = served
    package = importlib.import_module(api)
    refusals = (package.APIStatusError, package.MfaConfigurationError)
    blocks = [b for b in _blocks(api) if b.run]
    for name in ("README.md", "MIGRATION.md"):  # each file there is has blocks that run
        assert not (GENERATED / api / name).exists() or any(
            b.file == f"{api}/{name}" for b in blocks), f"{api}/{name} has no block to run"
    quick_start = blocks[:2]  # the client, then its async twin
    assert BASE_URL_LINE.search(quick_start[0].code), "the quick start defines BASE_URL"
    assert "asyncio.run(main())" in quick_start[1].code

    (tmp_path / "document.pdf").write_bytes(b"%PDF-1.4\n% an example file\n")
    monkeypatch.chdir(tmp_path)
    server.reset()
    session: dict[str, Any] = {"__name__": "__readme__"}
    first = BASE_URL_LINE.sub(f'BASE_URL = "{server.base_url}"', quick_start[0].code, count=1)
    exec(compile(first, str(quick_start[0]), "exec"), session)
    exec(compile(quick_start[1].code, str(quick_start[1]), "exec"), session)
    assert "client" in session
    assert not _refused_records(package, session), _refused_records(package, session)

    refused: list[str] = []
    wrong: list[str] = []  # blocks whose outcome is not what their fence says
    for block in blocks[2:]:
        server.reset()
        namespace = dict(session)
        try:
            exec(compile(block.code, str(block), "exec"), namespace)
        except refusals as exc:
            error = f"{type(exc).__name__}: {str(exc)[:100]}"
        except Exception as exc:
            raise AssertionError(f"{block}\n{block.code}") from exc
        else:
            error = _refused_records(package, namespace)
        if bool(error) is not block.raises:
            wrong.append(f"{block}: {'' if block.raises else 'not '}marked raises, but "
                         f"{error or 'it completed'}")
        if error:
            refused.append(f"{block} -> {error}")
        for leftover in ("download.pdf",):
            if os.path.exists(leftover):
                os.remove(leftover)
    session["client"].close()
    asyncio.set_event_loop(None)

    with capsys.disabled():
        print(f"\n{api}: {len(blocks)} Python block(s) ran, {len(blocks) - len(refused)} to "
              f"completion, {len(refused)} marked raises and answered with the error they show, "
              f"{sum(not b.run for b in _blocks(api))} marked no-run")
        for line in refused:
            print(f"  {line}")
    assert not wrong, "\n".join(wrong)
    assert len(refused) <= len(blocks) // 10, "nearly every example completes"


def _refused_records(package: Any, namespace: dict[str, Any]) -> str:
    """What the bulk answers a block left in its variables refused ('' when none did)."""
    bulk = (package.BatchResult, package.BulkResult)
    failed = [o for value in namespace.values() if isinstance(value, bulk)
              for o in value.failed]
    return "; ".join(f"record {o.index}: {', '.join(o.error_messages)}" for o in failed)[:200]


@pytest.mark.parametrize("api", APIS)
def test_the_quick_start_names_the_emulator_data(api: str) -> None:
    """Accounts and records come from the emulator data beside the spec, not from the template."""
    from emulator.data import load_api, read_data

    readme = (GENERATED / api / "README.md").read_text()
    data = read_data(SPECS / api, load_api(SPECS / api))
    start = readme.index("## Quick start against the local emulator")
    assert start < readme.index("## Install") and f"apigen emulator {api}" in readme
    for credential in data.credentials.values():
        assert all(f'`{name}="{value}"`' in readme for name, value in credential.fields.items())
    for name, definition in data.declarations.collections.items():
        for row in (data.seeds or {}).get(name) or []:
            assert all(f"`{row['fields'][key]}" in readme for key in definition.key)
    for value in data.known_ids.values():
        assert f"`{value}`" in readme


@pytest.mark.parametrize("api", APIS)
def test_example_bodies_are_written_by_python_names(api: str) -> None:
    """A body or a bulk helper's records in a README example is keyed by the fields' Python
    names (what the TypedDicts and an editor offer), never by wire names."""
    from pydantic import BaseModel

    package = importlib.import_module(api)
    python_names = {name for model in vars(package.types).values()
                    if isinstance(model, type) and issubclass(model, BaseModel)
                    for name in model.model_fields}
    keys: list[tuple[str, str]] = []
    for block in _blocks(api):
        if not block.file.endswith("README.md"):
            continue
        tree = ast.parse(block.code)
        values = [kw.value for node in ast.walk(tree) if isinstance(node, ast.Call)
                  for kw in node.keywords if kw.arg == "body"]
        values += [node.value for node in ast.walk(tree) if isinstance(node, ast.Assign)
                   and any(isinstance(t, ast.Name) and t.id == "records" for t in node.targets)]
        for value in values:
            keys += [(str(block), key.value) for node in ast.walk(value)
                     if isinstance(node, ast.Dict) for key in node.keys
                     if isinstance(key, ast.Constant) and isinstance(key.value, str)]
    assert keys, "the README has example bodies"
    wrong = [(where, key) for where, key in keys if key not in python_names]
    assert not wrong, wrong
