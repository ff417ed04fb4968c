"""The ignore file of `apigen drift`: changes someone accepted (rule, operation, path) and
operations whose skip someone accepted, each with its reason and an optional expiry date."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from generator.drift.findings import Finding

_ENTRY_KEYS = {"rule", "operation", "path", "reason", "expires"}
_SKIP_KEYS = {"skip", "reason", "expires"}


class ConfigError(ValueError):
    """The ignore file or the command's arguments are unusable."""



@dataclass(frozen=True)
class IgnoreEntry:
    """One accepted change, or (`rule` empty) one accepted skip of the operation(s)
    `operation`. `operation` and `path` may hold `*` (any run of characters)."""

    index: int  # 1-based position in the file, to name the entry in messages
    rule: str
    operation: str
    path: str
    reason: str
    expires: dt.date | None = None

    @property
    def is_skip(self) -> bool:
        return not self.rule

    def accepts_skip(self, operation: str) -> bool:
        return self.is_skip and _glob(self.operation).fullmatch(operation) is not None

    def matches(self, finding: Finding) -> bool:
        # Never by message: wording may change, rule/operation/path are the stable identity.
        return (
            not self.is_skip
            and finding.rule == self.rule
            and _glob(self.operation).fullmatch(finding.operation) is not None
            and _glob(self.path).fullmatch(finding.path) is not None
        )

    def expired(self, today: dt.date) -> bool:
        return self.expires is not None and today > self.expires  # valid through that day

    def describe(self) -> str:
        if self.is_skip:
            return f"ignore entry #{self.index} (skip {self.operation})"
        return f"ignore entry #{self.index} ({self.rule} {self.operation} {self.path})"

    def to_json(self) -> dict[str, Any]:
        if self.is_skip:
            return {"skip": self.operation, "reason": self.reason,
                    "expires": self.expires.isoformat() if self.expires else None}
        return {
            "rule": self.rule,
            "operation": self.operation,
            "path": self.path,
            "reason": self.reason,
            "expires": self.expires.isoformat() if self.expires else None,
        }


def _glob(pattern: str) -> re.Pattern[str]:
    # Not fnmatch: JSON paths contain `[]`, which fnmatch would read as a character class.
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")))


def load_ignores(path: Path) -> list[IgnoreEntry]:
    """`ignore:` - a list of {rule, operation, path, reason, expires?: YYYY-MM-DD} (accepted
    findings) and {skip: operation, reason, expires?} (accepted skips)."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: not a readable YAML file: {exc}") from None
    raw = document.get("ignore") if isinstance(document, dict) else None
    if not isinstance(raw, list):
        raise ConfigError(f"{path}: expected a mapping with an `ignore:` list of entries")
    return [_entry(path, index, item) for index, item in enumerate(raw, 1)]


def _entry(path: Path, index: int, item: Any) -> IgnoreEntry:
    where = f"{path}: ignore entry #{index}"
    if not isinstance(item, dict):
        raise ConfigError(f"{where}: must be a mapping")
    if "skip" in item:
        where += f" (skip {item['skip']})"
        keys, values = _SKIP_KEYS, {"skip": item["skip"]}
    else:
        where += (f" ({item.get('rule', '?')} {item.get('operation', '*')} "
                  f"{item.get('path', '*')})")
        # The rule is never a wildcard: one entry accepts one kind of change.
        keys, values = _ENTRY_KEYS, {"rule": item.get("rule"),
                                     "operation": item.get("operation", "*"),
                                     "path": item.get("path", "*")}
    unknown = sorted(set(map(str, item)) - keys)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}")
    for key, value in values.items():
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{where}: `{key}` must be a non-empty string")
    reason = item.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise ConfigError(f"{where}: has no `reason`; say why the change or skip is accepted")
    expires = item.get("expires")
    if isinstance(expires, str):  # YAML reads an unquoted YYYY-MM-DD as a date already
        try:
            expires = dt.date.fromisoformat(expires)
        except ValueError:
            pass
    if expires is not None and type(expires) is not dt.date:
        raise ConfigError(f"{where}: `expires` must be a date, YYYY-MM-DD")
    if "skip" in values:
        return IgnoreEntry(index, "", values["skip"], "*", reason.strip(), expires)
    return IgnoreEntry(index, values["rule"], values["operation"], values["path"],
                       reason.strip(), expires)

