"""The generator we compare against: openapi-python-client from the package registry, in a
virtual environment of its own under benchmarks/.work/ (not committed), fed our OpenAPI export."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "benchmarks" / ".work"
PEER = "openapi-python-client==0.29.1"  # pinned: a figure must say what it was measured against
VENV = WORK / "peer-venv"
PYTHON = VENV / "bin" / "python"


def ensure_installed() -> str:
    """Install the peer once (a stamp names the pinned version); return its version line."""
    stamp = VENV / f".installed-{PEER}"
    if not stamp.exists():
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True)
        subprocess.run(
            [str(PYTHON), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", PEER],
            check=True,
        )
        stamp.touch()
    return PEER


def environment() -> dict[str, str]:
    # Its post-generation hooks run `ruff` from PATH: the one installed with it.
    return {**os.environ, "PATH": f"{VENV / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"}


def generate_command(openapi: Path, out: Path, package: str | None = None) -> list[str]:
    """The peer's command that turns `openapi` into a client project at `out`."""
    command = [
        str(VENV / "bin" / "openapi-python-client"),
        "generate",
        "--path",
        str(openapi),
        "--output-path",
        str(out),
        "--overwrite",
    ]
    if package:
        config = out.parent / f"{package}.config.yaml"
        config.write_text(
            yaml.safe_dump({"package_name_override": package, "project_name_override": package}),
            encoding="utf-8",
        )
        command += ["--config", str(config)]
    return command


def generate_client(openapi: Path, package: str) -> Path:
    """Generate a peer client package named `package`; return the folder to put on sys.path."""
    out = WORK / "peer-clients" / package
    out.parent.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        generate_command(openapi, out, package),
        env=environment(),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0 or not (out / package).is_dir():
        raise RuntimeError(f"{PEER} could not generate {openapi}: {done.stdout}{done.stderr}")
    # Byte-compiled, as an installed package would be (our packages are too, see bench.py).
    subprocess.run([str(PYTHON), "-m", "compileall", "-q", str(out)], check=True)
    return out
