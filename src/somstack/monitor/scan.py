"""`somstack monitor scan`: the rules over a transfers file, alerts to a JSON-lines file."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from somstack.core.errors import ConfigError
from somstack.monitor.alerts import Alert, write_jsonl
from somstack.monitor.rules import Engine, connect
from somstack.monitor.settings import RuleSet, load_rules
from somstack.monitor.transfers import check


def monitor_config(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The ``somstack: monitor:`` section of brownie-config.yaml (empty when absent)."""
    section = (raw.get("somstack") or {}).get("monitor") or {}
    if not isinstance(section, Mapping):
        raise ConfigError("somstack.monitor in brownie-config.yaml must be a mapping")
    return dict(section)


def read_blocklist(path: Path) -> list[str]:
    """The addresses of a sanctions list in the `somstack compliance import` format."""
    from somstack.ops.sanctions import read_list

    return [listing.address for listing in read_list(path)]


@dataclass
class ScanResult:
    rows: int
    alerts: list[Alert]
    seconds: float
    timings: dict[str, float] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for alert in self.alerts:
            out[alert.rule] = out.get(alert.rule, 0) + 1
        return out


def scan(transfers: Path, rules: RuleSet, listed: list[str] | None = None, out: Path | None = None,
         threads: int | None = None) -> ScanResult:
    start = time.perf_counter()
    timings: dict[str, float] = {}
    checked = check(transfers)
    timings["check"] = time.perf_counter() - start
    engine = Engine(rules, connect(threads))
    t = time.perf_counter()
    engine.load_csv(checked.path)
    engine.set_listed(listed or [])
    timings["load"] = time.perf_counter() - t
    alerts = engine.run(timings=timings)
    if out is not None:
        write_jsonl(out, alerts)
    return ScanResult(checked.rows, alerts, time.perf_counter() - start, timings)


def default_rules(root_raw: Mapping[str, Any], rules_file: Path | None = None, rate: Any = None) -> RuleSet:
    from somstack.monitor.settings import parse_rate

    return load_rules(monitor_config(root_raw), rules_file, parse_rate(rate) if rate is not None else None)
