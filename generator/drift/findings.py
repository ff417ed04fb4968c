"""What a drift check reports: one finding per change, with a stable rule id, a level that
depends on the direction of the schema, and whether the generated Python surface changes."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Literal

Level = Literal["breaking", "potentially-breaking", "non-breaking"]
Direction = Literal["request", "response", "endpoint"]

# --fail-on compares by this order.
LEVELS: tuple[Level, ...] = ("non-breaking", "potentially-breaking", "breaking")


def at_least(level: Level, threshold: Level) -> bool:
    return LEVELS.index(level) >= LEVELS.index(threshold)


@dataclass(frozen=True)
class Finding:
    rule: str  # stable id, e.g. request-property-became-required
    level: Level
    direction: Direction
    operation: str  # wire name of the operation
    path: str  # JSON path inside the schema, e.g. $.data[].header.commitmentNumber
    old: Any = None
    new: Any = None
    codegen: bool = False  # the generated Python surface changes (a type, a name, an enum)
    message: str = ""

    @property
    def fingerprint(self) -> str:
        """Stable across runs and message wording: rule, operation and path only."""
        key = f"{self.rule}:{self.operation}:{self.path}"
        return hashlib.sha256(key.encode()).hexdigest()[:12]

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "level": self.level,
            "direction": self.direction,
            "operation": self.operation,
            "path": self.path,
            "old": self.old,
            "new": self.new,
            "codegen": self.codegen,
            "message": self.message,
            "fingerprint": self.fingerprint,
        }

    def sort_key(self) -> tuple[int, str, str, str]:
        return (-LEVELS.index(self.level), self.operation, self.path, self.rule)

    def __str__(self) -> str:
        values = f" ({json.dumps(self.old)} -> {json.dumps(self.new)})" if (
            self.old is not None or self.new is not None) else ""
        surface = " [python surface]" if self.codegen else ""
        return (f"{self.level}: {self.rule} {self.operation} {self.path}{values}{surface}"
                + (f" — {self.message}" if self.message else ""))
