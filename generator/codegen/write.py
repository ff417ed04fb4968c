"""Stage 8: write a generated tree, touching only files whose bytes changed; all or nothing."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Plan:
    """What writing a tree would change under `root`."""

    root: Path
    write: dict[str, bytes] = field(default_factory=dict)
    delete: list[str] = field(default_factory=list)

    @property
    def changed(self) -> list[str]:
        return sorted([*self.write, *self.delete])


def plan(root: Path, files: dict[str, str], prune: bool = True) -> Plan:
    """Writes for the files whose bytes differ; with `prune`, deletions for files under `root`
    that are no longer produced."""
    result = Plan(root)
    for rel, text in sorted(files.items()):
        data = text.encode("utf-8")
        target = root / rel
        if not target.is_file() or target.read_bytes() != data:
            result.write[rel] = data
    if prune and root.is_dir():
        for path in sorted(root.rglob("*")):
            rel = path.relative_to(root).as_posix()
            if path.is_file() and rel not in files and not _ignored(rel):
                result.delete.append(rel)
    return result


def _ignored(rel: str) -> bool:
    # Build and tool droppings of an installed package are not part of the tree.
    parts = rel.split("/")
    return any(
        p == "__pycache__"
        or p.endswith(".egg-info")
        or p in ("build", ".mypy_cache", ".ruff_cache")
        for p in parts
    )


def apply(p: Plan) -> None:
    """Stage every new file beside its target first, then swap them all in with os.replace, so
    an error while staging leaves the old tree complete."""
    staged: list[tuple[Path, Path]] = []
    try:
        for rel, data in p.write.items():
            target = p.root / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            temp = target.with_name(f".{target.name}.apigen-tmp")
            temp.write_bytes(data)
            staged.append((temp, target))
    except BaseException:
        for temp, _ in staged:
            temp.unlink(missing_ok=True)
        raise
    for temp, target in staged:
        os.replace(temp, target)
    for rel in p.delete:
        (p.root / rel).unlink()
    for rel in p.delete:  # drop folders the deletions emptied
        parent = (p.root / rel).parent
        while parent != p.root and parent.is_dir() and not any(parent.iterdir()):
            parent.rmdir()
            parent = parent.parent
