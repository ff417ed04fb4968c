"""Where the templates and the runtime engine are, and how the generator runs a runtime module
itself. The one place that knows the layout: templates/package/ holds the per-API templates,
templates/runtime/ the engine copied into every package; the engine's `_spec.py` is the model's
own module generator/model/runtime_spec.py, so that client and generator share its classes."""

from __future__ import annotations

import importlib.util
import sys
from functools import cache
from pathlib import Path
from types import ModuleType

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
PACKAGE = TEMPLATES / "package"
RUNTIME = TEMPLATES / "runtime"
_SPEC = Path(__file__).resolve().parent / "model" / "runtime_spec.py"


# Modules only a package with batch operations gets (the import command and its readers).
BATCH_ONLY = frozenset({"_import_command.py"})


def runtime_files(batch: bool = True) -> dict[str, Path]:
    """Every module of the engine, by its file name in a package, with the file it is copied
    from; without `batch`, those of BATCH_ONLY are left out."""
    files = {path.name: path for path in RUNTIME.glob("*.py")
             if batch or path.name not in BATCH_ONLY}
    files["_spec.py"] = _SPEC
    return dict(sorted(files.items()))


def runtime_source(name: str) -> str:
    """The text of one engine module (`_base.py`), as a package gets it."""
    return runtime_files()[name].read_text(encoding="utf-8")


@cache
def load_runtime(name: str) -> ModuleType:
    """One engine module that imports nothing of its package (`_checks.py`, `_redact.py`),
    loaded from its file for the generator's own use: the client's rule, run as is."""
    module_name = f"apigen_runtime{name.removesuffix('.py')}"
    spec = importlib.util.spec_from_file_location(module_name, runtime_files()[name])
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module
