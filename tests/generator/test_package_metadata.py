"""The generated package installs on its own: a wheel whose only dependencies are httpx,
pydantic and typing-extensions (which pydantic needs too; the bodies' TypedDicts use it), with
pyotp behind the `mfa` extra and rich behind `progress` where there are bulk imports, and which
carries py.typed."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_powerclerk_wheel_dependencies(tmp_path: Path) -> None:
    source = tmp_path / "source"  # a copy: building leaves build/ beside the package
    shutil.copytree(ROOT / "generated" / "powerclerk", source,
                    ignore=shutil.ignore_patterns("build", "*.egg-info"))
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(tmp_path), str(source)],
        capture_output=True, text=True, check=False,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = tmp_path.glob("powerclerk-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
        requires = [line.split(":", 1)[1].strip() for line in
                    archive.read(metadata).decode().splitlines()
                    if line.startswith("Requires-Dist:")]
    assert "powerclerk/py.typed" in names
    assert "powerclerk/resources/projects.py" in names
    plain = sorted(r.split(">")[0].split("<")[0] for r in requires if "extra" not in r)
    assert plain == ["httpx", "pydantic", "typing-extensions"]
    assert [r for r in requires if "extra" in r] == ['pyotp>=2.9; extra == "mfa"']


def test_rich_is_an_extra_of_the_apis_with_bulk_imports_only() -> None:
    import tomllib

    def project(api: str) -> dict[str, object]:
        text = (ROOT / "generated" / api / "pyproject.toml").read_text("utf-8")
        return dict(tomllib.loads(text)["project"])

    ebuilder, powerclerk = project("ebuilder"), project("powerclerk")
    assert ebuilder["dependencies"] == powerclerk["dependencies"]  # the base install stays light
    assert ebuilder["optional-dependencies"] == {"mfa": ["pyotp>=2.9"], "progress": ["rich>=13"]}
    assert powerclerk["optional-dependencies"] == {"mfa": ["pyotp>=2.9"]}
