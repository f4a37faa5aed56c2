"""The alert record and the alerts file (JSON lines).

An alert stands for one pattern, not one transfer: its ``id`` is a hash of the rule and of what
makes the pattern itself (the subject address, and for a windowed rule the first transfer of
the episode), so a rerun over the same data writes the same alerts with the same ids, and a
follower that sees the pattern grow updates one alert instead of raising another.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable

from eth_utils import to_checksum_address

FIELDS = ("id", "rule", "severity", "score", "addresses", "tx_hashes", "first_seen", "last_seen", "amount_usd", "explanation")


def alert_id(rule: str, *key: object) -> str:
    digest = hashlib.sha256("|".join([rule, *(str(k).lower() for k in key)]).encode()).hexdigest()
    return f"A-{digest[:20]}"


def iso(ts: int | float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(ts)))


def checksum(addresses: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for address in addresses:
        if address and address not in seen:
            seen[address] = None
    return [to_checksum_address(a) for a in seen]


def unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))


@dataclass(frozen=True)
class Alert:
    id: str
    rule: str
    severity: str
    score: int  # 0..100
    addresses: list[str]  # the subject first
    tx_hashes: list[str]
    first_seen: str  # ISO 8601, UTC
    last_seen: str
    amount_usd: float
    explanation: str
    extra: dict[str, Any] = field(default_factory=dict, compare=False)  # rule-specific evidence (hop, share...)

    @property
    def subject(self) -> str:
        return self.addresses[0]

    def to_json(self) -> dict[str, Any]:
        record = {name: getattr(self, name) for name in FIELDS}
        if self.extra:
            record["evidence"] = self.extra
        return record

    @classmethod
    def from_json(cls, record: dict[str, Any]) -> "Alert":
        return cls(**{name: record[name] for name in FIELDS}, extra=dict(record.get("evidence") or {}))


def write_jsonl(path: Path, alerts: Iterable[Alert]) -> int:
    """Writes one alert a line, sorted (first_seen, rule, id), through a temporary file."""
    ordered = sorted(alerts, key=lambda a: (a.first_seen, a.rule, a.id))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as out:
        for alert in ordered:
            out.write(json.dumps(alert.to_json(), sort_keys=False, separators=(",", ":")) + "\n")
    tmp.replace(path)
    return len(ordered)


def read_jsonl(path: Path) -> list[Alert]:
    return [Alert.from_json(json.loads(line)) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def as_dict(alert: Alert) -> dict[str, Any]:
    return asdict(alert)
