"""A labelled synthetic history for measuring the rules: `somstack monitor synth --seed N`.

Background (vectorised with numpy, same seed -> same files): 60 days of transfers between
wallets of three kinds. Retail wallets (97 %) pay each other, merchants and businesses small amounts
(log-normal, median 1,500 som, sigma 0.75, at most 60,000; activity mildly skewed); merchants
(2 %) receive a third of retail payments; businesses (1 %) send larger amounts (log-normal, median 30,000 som, sigma 0.5:
regular supplier payments and salaries, never to a merchant's till), with a travel-rule reference on what is over it. About
1 % of transfers are mints into wallets and 1 % burns. Times follow a day/night cycle.

Planted, on fresh addresses, after day 35 (so that velocity has a month of history): instances
of every typology, each over its rule's thresholds, with their labels (rule, subject, the
transfers that make it). Planted payments carry a reference unless the typology is the lack of
one, so that each instance is one rule's, as far as a typology allows.

:func:`evaluate` scans the folder and scores it: an alert is *true* when its rule and subject
match a label and it shares a transfer with it; *collateral* when it touches planted transfers
without matching a label of its rule (a round trip is also a pass-through); *false* when it
rests on background transfers only. Recall is per label; precision is true / (true + false).

What the background does not hold, so the false-alert figure does not cover it: payroll runs
(a fan-out by definition), exchanges and other hubs (fan-in, pass-through), heavy users, and
one-off large purchases by retail wallets (a velocity alert by definition). In production such
wallets are known by their KYC tier and risk profile, and a rule's ``exempt`` list (settings.py)
takes them out of that rule.
"""

from __future__ import annotations

import binascii
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from somstack.monitor.alerts import Alert
from somstack.monitor.settings import RULES, RuleSet
from somstack.monitor.transfers import ZERO

T0 = 1_767_225_600  # 2026-01-01T00:00:00Z
DAY, HOUR = 86400, 3600
DAYS = 60
RATE_SOM = 87.45  # the amounts below are written against the default rate and threshold
THRESHOLD = 1000 * RATE_SOM


@dataclass
class Made:
    rows: int
    background: int
    labels: list[dict[str, Any]]
    listed: int


@dataclass
class _Plant:
    rng: np.random.Generator
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    labels: list[dict[str, Any]] = field(default_factory=list)
    listed: list[str] = field(default_factory=list)
    counter: int = 0

    def address(self) -> str:
        return "0x" + self.rng.bytes(20).hex()

    def tx(self, ts: int, src: str, dst: str, som: float, token: str | None = None, reference: bool = True) -> str:
        self.counter += 1
        tx_hash = "0x" + self.rng.bytes(32).hex()
        token = token or ("KGST" if self.rng.random() < 0.6 else "DSOM")
        amount = f"{som:.2f}"
        ref = "0x" + self.rng.bytes(32).hex() if reference else ""
        self.rows.append((int(ts) // 3, int(ts), tx_hash, 0, token, src, dst, amount, ref))
        return tx_hash

    def label(self, rule: str, subject: str, txs: list[str], **extra: Any) -> None:
        self.labels.append({"rule": rule, "subject": subject, "tx_hashes": txs, **extra})


def _background(rng: np.random.Generator, n: int) -> tuple[list[str], np.ndarray]:
    """The background rows as CSV lines (without newline), and their tx hashes."""
    wallets = max(200, n // 20)
    n_merchant = max(5, wallets // 50)
    n_business = max(3, wallets // 100)
    addresses = np.array(["0x" + h for h in _hexes(rng, wallets, 20)])
    retail = np.arange(n_merchant + n_business, wallets)
    merchants = np.arange(0, n_merchant)
    businesses = np.arange(n_merchant, n_merchant + n_business)
    kind = rng.random(n)
    # senders: mostly retail (activity skewed: Zipf-like weights), 3 % businesses
    weights = 1.0 / np.arange(1, len(retail) + 1) ** 0.3
    weights /= weights.sum()
    src = rng.choice(retail, size=n, p=weights[rng.permutation(len(retail))])
    dst = rng.choice(retail, size=n)
    to_merchant = rng.random(n) < 0.33
    dst[to_merchant] = rng.choice(merchants, size=int(to_merchant.sum()))
    biz_out = kind < 0.03  # supplier payments and salaries: to a business or a retail wallet, never a merchant's till
    biz_in = (kind >= 0.03) & (kind < 0.06)
    src[biz_out] = rng.choice(businesses, size=int(biz_out.sum()))
    dst[biz_out] = np.where(rng.random(int(biz_out.sum())) < 0.5, rng.choice(businesses, size=int(biz_out.sum())),
                            rng.choice(retail, size=int(biz_out.sum())))
    dst[biz_in] = rng.choice(businesses, size=int(biz_in.sum()))
    same = src == dst
    dst[same] = (dst[same] + 1) % wallets
    amount = np.minimum(np.exp(rng.normal(np.log(1500), 0.75, n)), 60_000)
    business = biz_out  # what a retail wallet pays a business is a retail amount
    amount[business] = np.minimum(np.exp(rng.normal(np.log(30_000), 0.5, int(business.sum()))), 10 * THRESHOLD)
    amount = np.maximum(np.round(amount, 2), 1.0)
    # times: uniform days, a day/night cycle (more at 8..22 h)
    day = rng.integers(0, DAYS, n)
    hour = np.where(rng.random(n) < 0.85, rng.uniform(8, 22, n), rng.uniform(0, 24, n))
    ts = T0 + day * DAY + (hour * HOUR).astype(np.int64)
    src_a = addresses[src]
    dst_a = addresses[dst]
    mint = (kind >= 0.06) & (kind < 0.07)
    burn = (kind >= 0.07) & (kind < 0.08)
    src_a[mint] = ZERO
    dst_a[burn] = ZERO
    token = np.where(rng.random(n) < 0.6, "KGST", "DSOM")
    with_ref = business & (amount >= THRESHOLD)
    hashes = np.array(["0x" + h for h in _hexes(rng, n, 32)])
    refs = np.array(["0x" + h for h in _hexes(rng, n, 32)])
    refs[~with_ref] = ""
    order = np.argsort(ts, kind="stable")
    lines = [
        f"{t // 3},{t},{h},0,{tok},{s},{d},{a:.2f},{r}"
        for t, h, tok, s, d, a, r in zip(ts[order].tolist(), hashes[order].tolist(), token[order].tolist(), src_a[order].tolist(),
                                         dst_a[order].tolist(), amount[order].tolist(), refs[order].tolist())
    ]
    return lines, hashes


def _hexes(rng: np.random.Generator, count: int, size: int) -> list[str]:
    blob = binascii.hexlify(rng.bytes(count * size)).decode()
    width = size * 2
    return [blob[i * width:(i + 1) * width] for i in range(count)]


def _when(p: _Plant) -> int:
    """A planted pattern's time: a weekday morning in the last weeks of the data."""
    return T0 + int(p.rng.integers(36, DAYS - 4)) * DAY + int(p.rng.integers(9, 12)) * HOUR


def _sanctions_direct(p: _Plant) -> None:
    """A listed address pays a wallet."""
    listed, x = p.address(), p.address()
    p.listed.append(listed)
    t = _when(p)
    p.tx(t - DAY, ZERO, listed, 50_000)
    p.label("sanctions_direct", x, [p.tx(t, listed, x, float(p.rng.uniform(1_000, 20_000)))])


def _sanctions_indirect(p: _Plant) -> None:
    """listed -> Y1 -> Y2 -> Y3 (hops 2 and 3 are indirect)."""
    listed, y1, y2, y3 = p.address(), p.address(), p.address(), p.address()
    p.listed.append(listed)
    t = _when(p)
    p.tx(t - DAY, ZERO, listed, 80_000)
    p.tx(t - DAY, ZERO, y1, float(p.rng.uniform(0, 100_000)))  # clean money: the share is 30..100 %
    first = p.tx(t, listed, y1, 50_000)
    p.label("sanctions_direct", y1, [first])
    p.label("sanctions_indirect", y2, [p.tx(t + HOUR, y1, y2, 40_000)], hop=2)
    p.label("sanctions_indirect", y3, [p.tx(t + 3 * HOUR, y2, y3, 30_000)], hop=3)


def _large_no_reference(p: _Plant) -> None:
    a, b = p.address(), p.address()
    t = _when(p)
    p.tx(t - DAY, ZERO, a, 5 * THRESHOLD)
    p.label("large_no_reference", a, [p.tx(t, a, b, float(p.rng.uniform(1.0, 3.0)) * THRESHOLD, reference=False)])


def _structuring(p: _Plant) -> None:
    """3..5 payments at 80..99 % of the threshold within 24 h."""
    s = p.address()
    t = _when(p)
    p.tx(t - DAY, ZERO, s, 6 * THRESHOLD)
    k = int(p.rng.integers(3, 6))
    txs = [p.tx(t + int(i * 20 * HOUR / k), s, p.address(), float(p.rng.uniform(0.81, 0.99)) * THRESHOLD, reference=False)
           for i in range(k)]
    p.label("structuring", s, txs)


def _velocity(p: _Plant) -> None:
    """15 quiet days, then one day 15..40 x the median day and over the threshold."""
    v = p.address()
    t = _when(p)
    p.tx(t - 20 * DAY, ZERO, v, 10 * THRESHOLD)
    daily = float(p.rng.uniform(2_000, 5_000))
    for d in range(15):
        p.tx(t - (16 - d) * DAY, v, p.address(), daily)
    spike = max(THRESHOLD * 1.2, daily * float(p.rng.uniform(15, 40)))
    p.label("velocity", v, [p.tx(t + i * HOUR, v, p.address(), spike / 3) for i in range(3)])


def _pass_through(p: _Plant) -> None:
    """150..400 % of the threshold arrives, 92..99 % leaves within 50 min."""
    m, source = p.address(), p.address()
    t = _when(p)
    p.tx(t - DAY, ZERO, source, 10 * THRESHOLD)
    amount = float(p.rng.uniform(1.5, 4.0)) * THRESHOLD
    share = float(p.rng.uniform(0.92, 0.99))
    txs = [p.tx(t, source, m, amount)]
    txs += [p.tx(t + 600 * (i + 1), m, p.address(), amount * share / 3) for i in range(3)]
    p.label("pass_through", m, txs)


def _fan_in(p: _Plant) -> None:
    """12..20 distinct payers within 20 h, together over the threshold."""
    f = p.address()
    t = _when(p)
    k = int(p.rng.integers(12, 21))
    txs = []
    for i in range(k):
        payer = p.address()
        p.tx(t - DAY, ZERO, payer, 20_000)
        txs.append(p.tx(t + int(i * 20 * HOUR / k), payer, f, float(p.rng.uniform(8_000, 15_000))))
    p.label("fan_in", f, txs)


def _fan_out(p: _Plant) -> None:
    """12..20 distinct payees within 20 h."""
    g = p.address()
    t = _when(p)
    p.tx(t - DAY, ZERO, g, 5 * THRESHOLD)
    k = int(p.rng.integers(12, 21))
    p.label("fan_out", g, [p.tx(t + int(i * 20 * HOUR / k), g, p.address(), float(p.rng.uniform(8_000, 15_000))) for i in range(k)])


def _round_trip(p: _Plant) -> None:
    """2..4 hops within 48 h, 85..99 % back."""
    r = p.address()
    t = _when(p)
    p.tx(t - DAY, ZERO, r, 5 * THRESHOLD)
    hops = int(p.rng.integers(2, 5))
    path = [r] + [p.address() for _ in range(hops - 1)]
    amount = float(p.rng.uniform(1.2, 3.0)) * THRESHOLD
    keep = float(p.rng.uniform(0.85, 0.99)) ** (1 / hops)
    txs = []
    for i in range(hops):
        t += int(p.rng.integers(2, 12)) * HOUR
        txs.append(p.tx(t, path[i], path[(i + 1) % hops], amount * keep**i))
    p.label("round_trip", r, txs, hops=hops)


# One planter a rule, in the order they draw from the generator (the data of a seed depends on it).
_PLANTERS = (_sanctions_direct, _sanctions_indirect, _large_no_reference, _structuring, _velocity, _pass_through,
             _fan_in, _fan_out, _round_trip)


def _plant(p: _Plant, per_rule: int) -> None:
    for _ in range(per_rule):
        for plant in _PLANTERS:
            plant(p)


def generate(out_dir: Path, seed: int = 1, background: int = 100_000, per_rule: int | None = None) -> Made:
    """Writes transfers.csv, blocklist.csv and labels.json in ``out_dir``."""
    rng = np.random.default_rng(seed)
    lines, _hashes = _background(rng, background)
    plant = _Plant(np.random.default_rng(seed + 1_000_003))
    _plant(plant, per_rule or max(10, background // 20_000))
    planted = [",".join(str(c) for c in row) for row in plant.rows]
    rows = lines + planted
    keys = [(int(r.split(",", 2)[1]), r) for r in rows]
    keys.sort(key=lambda k: k[0])
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "transfers.csv"
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as out:
        out.write("block_number,timestamp,tx_hash,log_index,token,from,to,amount,reference\n")
        out.write("\n".join(r for _t, r in keys))
        out.write("\n")
    tmp.replace(path)
    (out_dir / "blocklist.csv").write_text("address,reason,source\n" + "".join(f"{a},synthetic listing {i},synth\n" for i, a in enumerate(plant.listed)))
    planted_txs = sorted({row[2] for row in plant.rows})
    (out_dir / "labels.json").write_text(json.dumps({"seed": seed, "background": background, "labels": plant.labels,
                                                     "planted_tx_hashes": planted_txs}, indent=1))
    return Made(len(rows), background, plant.labels, len(plant.listed))


@dataclass
class Quality:
    rows: int
    background: int
    per_rule: dict[str, dict[str, Any]]
    false_alerts: int
    seconds: float
    missed: list[dict[str, Any]]

    @property
    def false_per_10k(self) -> float:
        return self.false_alerts * 10_000 / max(1, self.background)


def classify(alerts: list[Alert], labels: list[dict[str, Any]], planted_txs: set[str]) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    per_rule: dict[str, dict[str, Any]] = {r: {"labels": 0, "found": 0, "alerts": 0, "true": 0, "collateral": 0, "false": 0} for r in RULES}
    by_key: dict[tuple[str, str], list[Alert]] = {}
    for alert in alerts:
        by_key.setdefault((alert.rule, alert.subject.lower()), []).append(alert)
    matched: set[str] = set()
    missed = []
    for label in labels:
        stats = per_rule[label["rule"]]
        stats["labels"] += 1
        wanted = {t.lower() for t in label["tx_hashes"]}
        hits = [a for a in by_key.get((label["rule"], label["subject"].lower()), []) if wanted & set(a.tx_hashes)]
        if hits:
            stats["found"] += 1
            matched.update(a.id for a in hits)
        else:
            missed.append(label)
    for alert in alerts:
        stats = per_rule[alert.rule]
        stats["alerts"] += 1
        if alert.id in matched:
            stats["true"] += 1
        elif planted_txs & set(alert.tx_hashes):
            stats["collateral"] += 1
        else:
            stats["false"] += 1
    for stats in per_rule.values():
        stats["recall"] = stats["found"] / stats["labels"] if stats["labels"] else None
        judged = stats["true"] + stats["false"]
        stats["precision"] = stats["true"] / judged if judged else None
    return per_rule, missed


def evaluate(data_dir: Path, rules: RuleSet, threads: int | None = None) -> Quality:
    from somstack.monitor.scan import read_blocklist, scan

    meta = json.loads((data_dir / "labels.json").read_text())
    result = scan(data_dir / "transfers.csv", rules, read_blocklist(data_dir / "blocklist.csv"), threads=threads)
    per_rule, missed = classify(result.alerts, meta["labels"], set(meta["planted_tx_hashes"]))
    false_alerts = sum(s["false"] for s in per_rule.values())
    return Quality(result.rows, int(meta["background"]), per_rule, false_alerts, result.seconds, missed)


def format_quality(q: Quality) -> list[str]:
    lines = ["| rule | planted | found | recall | alerts | true | collateral | false | precision |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for rule, s in q.per_rule.items():
        recall = "-" if s["recall"] is None else f"{s['recall']:.0%}"
        precision = "-" if s["precision"] is None else f"{s['precision']:.0%}"
        lines.append(f"| {rule} | {s['labels']} | {s['found']} | {recall} | {s['alerts']} | {s['true']} | {s['collateral']} | {s['false']} | {precision} |")
    lines.append("")
    lines.append(f"{q.rows:,} transfers ({q.background:,} background): {q.false_alerts} false alert(s), "
                 f"{q.false_per_10k:.2f} per 10,000 background transfers; scan {q.seconds:.1f} s")
    return lines
