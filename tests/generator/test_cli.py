"""`apigen`'s command line: help and examples for every subcommand and option, colour only on
a terminal, and `apigen emulator` serving an API."""

from __future__ import annotations

import argparse
import os
import pty
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from emulator.data import credentials
from generator.cli import build_parser, main
from tests.conftest import ROOT, SPECS
from tests.generator.conftest import run_apigen

ESC = "\x1b["


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in build_parser()._actions
                  if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_every_subcommand_and_option_has_help_text() -> None:
    commands = _subcommands()
    assert {"generate", "openapi", "emulator", "pull-schemas", "drift"} <= set(commands)
    for name, parser in [("apigen", build_parser()), *commands.items()]:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                assert all(choice.help for choice in action._choices_actions), name
                continue
            assert action.help and action.help != argparse.SUPPRESS, (name, action.dest)


@pytest.mark.parametrize("command", sorted(_subcommands()))
def test_each_subcommand_help_shows_examples_of_itself(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"])
    assert exit_.value.code == 0
    examples = capsys.readouterr().out.split("examples:\n", 1)[1].splitlines()
    assert examples and all(line.startswith(f"  apigen {command}") for line in examples)


def _on_terminal(*args: str, env: dict[str, str]) -> tuple[str, int]:
    """Run apigen with stderr on a pseudo-terminal; what it wrote there and its exit status."""
    leader, follower = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "generator", *args], cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=follower,
                               env={**os.environ, **env})
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the terminal closes when apigen exits
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    return b"".join(chunks).decode(), process.wait(timeout=60)


def _misspelt(spec_copy: Path) -> Path:
    path = spec_copy / "mini" / "widgets.yaml"
    path.write_text(path.read_text().replace("    method: GET\n", "    metod: GET\n", 1))
    return spec_copy


def test_errors_are_coloured_on_a_terminal_unless_no_color(spec_copy: Path,
                                                           tmp_path: Path) -> None:
    specs = _misspelt(spec_copy)
    args = ("generate", "--specs", str(specs), "--out", str(tmp_path / "out"))
    env = {"NO_COLOR": "", "FORCE_COLOR": "", "TERM": "xterm"}
    coloured, status = _on_terminal(*args, env=env)
    assert status == 2
    assert f"{ESC}1;31merror{ESC}0m" in coloured and "did you mean 'method'?" in coloured
    plain, status = _on_terminal(*args, env={**env, "NO_COLOR": "1"})
    assert status == 2 and ESC not in plain and "did you mean 'method'?" in plain
    piped = run_apigen(*args)
    assert piped.returncode == 2 and ESC not in piped.stderr


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class _Served:
    """`apigen emulator <api> <options>` in a subprocess on a free port, until the end of
    the `with`; `banner` is what it printed first (title, base URL, token URL, accounts)."""

    def __init__(self, api: str, *options: str) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "generator", "emulator", api, "--port", str(self.port),
             *options], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert self.process.stdout is not None
        count = 3 + len(credentials(SPECS / api))
        self.banner = [self.process.stdout.readline() for _ in range(count)]

    def token(self, **form: str) -> httpx.Response:
        url = self.banner[2].split("token URL:", 1)[1].strip()
        deadline = time.monotonic() + 20
        while True:  # the banner comes before uvicorn listens
            try:
                return httpx.post(url, data=form)
            except httpx.ConnectError:
                assert time.monotonic() < deadline, "the emulator did not answer"
                time.sleep(0.1)

    def __enter__(self) -> _Served:
        return self

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def test_apigen_emulator_serves_powerclerk_on_the_given_port_and_rate() -> None:
    with _Served("powerclerk", "--rate-limit", "2") as served:
        assert f"{served.base}   (operations under {served.base}/services/v2)" in served.banner[1]
        demo = credentials(SPECS / "powerclerk")["demo"].fields
        token = served.token(grant_type="client_credentials", client_id=demo["client_id"],
                             client_secret=demo["client_secret"])
        assert token.status_code == 200, token.text
        headers = {"Authorization": f"Bearer {token.json()['access_token']}",
                   "X-ApiKey": demo["api_key"]}
        statuses = [httpx.get(f"{served.base}/services/v2/Programs", headers=headers)
                    .status_code for _ in range(3)]
        assert statuses == [200, 200, 429]  # --rate-limit 2


def test_apigen_emulator_serves_ebuilder() -> None:
    with _Served("ebuilder") as served:
        account = credentials(SPECS / "ebuilder")["api_user"].fields
        assert f"username={account['username']}" in served.banner[3]
        assert served.banner[2].strip().endswith(f"{served.base}/api/v2/Authenticate")
        token = served.token(grant_type="password", **account)
        assert token.status_code == 200 and token.json()["access_token"], token.text


def test_apigen_emulator_names_the_apis_it_knows_for_an_unknown_one(
    capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["emulator", "nope", "--specs", str(SPECS)]) == 2
    err = capsys.readouterr().err
    assert f"no API spec in {SPECS / 'nope'}" in err and "ebuilder, powerclerk" in err
