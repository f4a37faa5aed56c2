"""Helpers of the monitor tests: a small history written as a transfers CSV, scanned with a
round rate (100 som per USD: the 1,000 USD threshold is 100,000 som)."""

from __future__ import annotations

import itertools
import os
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

from somstack.monitor.rules import Engine, connect
from somstack.monitor.settings import load_rules
from somstack.monitor.transfers import ZERO, write

RATE = Decimal(100)
THRESHOLD = 100_000  # [som] = 1,000 USD at RATE
T0 = 1_767_225_600  # 2026-01-01T00:00:00Z
HOUR, DAY = 3600, 86400


@contextmanager
def reverted(chain):
    """The body runs between an anvil snapshot and its revert."""
    snapshot = chain.rpc("evm_snapshot")
    try:
        yield
    finally:
        assert chain.rpc("evm_revert", snapshot) is True


def monitor_port(offset: int = 0) -> int:
    """A port for a chain or server of the monitor tests: SOMSTACK_TEST_PORT + 20 + 10 per xdist
    worker + offset (0: the session's anvil; 5, 6: the webhook receiver, /metrics)."""
    base = int(os.environ.get("SOMSTACK_TEST_PORT", "").strip() or "8545")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    number = int(worker[2:]) if worker.startswith("gw") and worker[2:].isdigit() else 0
    return base + 20 + 10 * number + offset


def addr(n: int) -> str:
    return "0x" + f"{n:040x}"


class History:
    def __init__(self) -> None:
        self.rows: list[tuple] = []
        self._n = itertools.count(1)

    def add(self, ts: int, src: str, dst: str, amount: float | str, token: str = "KGST", reference: str = "") -> str:
        n = next(self._n)
        tx = "0x" + f"{n:064x}"
        self.rows.append((ts // 3, ts, tx, 0, token, src, dst, str(amount), reference))
        return tx

    def mint(self, ts: int, dst: str, amount: float) -> str:
        return self.add(ts, ZERO, dst, amount)

    def write(self, path: Path) -> Path:
        write(path, sorted(self.rows, key=lambda r: (r[1], r[2])))
        return path

    def scan(self, tmp_path: Path, listed=(), overrides: dict | None = None, only=None):
        path = self.write(tmp_path / "transfers.csv")
        rules = load_rules({"rules": overrides or {}}, None, RATE)
        engine = Engine(rules, connect(threads=1))
        engine.load_csv(path)
        engine.set_listed(listed)
        return engine.run(only=only)


def rules_of(alerts, rule: str):
    return [a for a in alerts if a.rule == rule]


REF = "0x" + "ab" * 32
