"""Drift: does the live API still match the specs the clients were generated from?

- `pull` (`apigen pull-schemas`) stores each operation's live schemas for `generate` to merge;
- `check` compares live schemas with their baselines, classified by `diff` (on the canonical
  form of `normalize`), for an API that describes itself (`schema_discovery`);
- `probe` reads live answers against the response models, for an API that does not;
- `report` applies the ignore file (`ignores`) and renders the verdict; `command` is
  `apigen drift`. `live` holds what talking to a live API needs (credentials, token, pacing),
  `redaction` masks secrets in every message these tools print.

The names below are the package's public surface; the modules behind them may move."""

from generator.drift.check import DriftResult, FetchFailure, check_drift, update_schemas
from generator.drift.command import drift_command
from generator.drift.diff import RULES, compare, compare_endpoints, rule_ids
from generator.drift.findings import LEVELS, Finding, Level
from generator.drift.ignores import ConfigError, IgnoreEntry, load_ignores
from generator.drift.live import PLACEHOLDER, Credentials, MissingSetting, credentials_from_env
from generator.drift.normalize import normalize
from generator.drift.probe import (
    Learned,
    ProbeReport,
    identifier_combinations,
    identifier_sources,
    run_probe,
    scope_parameters,
)
from generator.drift.pull import pull_command, pull_schemas
from generator.drift.redaction import redact
from generator.drift.report import Report, apply_ignores, render

__all__ = [
    "LEVELS",
    "PLACEHOLDER",
    "RULES",
    "ConfigError",
    "Credentials",
    "DriftResult",
    "FetchFailure",
    "Finding",
    "IgnoreEntry",
    "Learned",
    "Level",
    "MissingSetting",
    "ProbeReport",
    "Report",
    "apply_ignores",
    "check_drift",
    "compare",
    "compare_endpoints",
    "credentials_from_env",
    "drift_command",
    "identifier_combinations",
    "identifier_sources",
    "load_ignores",
    "normalize",
    "pull_command",
    "pull_schemas",
    "redact",
    "render",
    "rule_ids",
    "run_probe",
    "scope_parameters",
    "update_schemas",
]
