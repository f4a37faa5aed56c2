"""Every figure of the transparency report, read from the manifest and the chain at one block.

Supplies come from ``totalSupply`` and, over time, from the tokens' mints and burns (Transfer
from and to the zero address); the reserve from :mod:`somstack.ops.reserve` (the same valuation as
`somstack reserve status` and `stress`); compliance actions and pauses from the tokens' events;
the role matrix from :mod:`somstack.system.governance`; pending delayed operations from the
AccessManager's OperationScheduled minus OperationExecuted/OperationCanceled; upgrades from the
proxies' Upgraded events. Each figure keeps the block (and, when an event made it, the
transaction) it comes from, so the page can link it to the explorer.

Raw integers stay integers in report.json; ``text`` is how the page shows them (token units
with the token's decimals, som values to 2 places, ratios in percent).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_utils import function_abi_to_4byte_selector, to_checksum_address
from web3 import Web3
from web3.contract import Contract

from somstack.core.artifacts import Artifact, Artifacts
from somstack.core.errors import ErrorDecoder, SomstackError
from somstack.core.format import units, utc
from somstack.core.manifest import Manifest
from somstack.ops.reserve import Reserve, coverage_text, percent, read_status, stress
from somstack.report.events import ZERO_TOPIC, Event, LogReader, topic_of
from somstack.system.governance import read_matrix

logger = logging.getLogger(__name__)

SCHEMA = 1
DAY = 86_400
STRESS_DROPS = (25, 50, 75)  # [%] of the BNB price
MAX_COVERAGE_POINTS = 150
PAUSE_FLAGS = {1: "transfers", 2: "mint", 4: "redeem"}  # Stablecoin / DigitalCurrency PAUSE_*
EXPLORERS = {56: "https://bscscan.com", 97: "https://testnet.bscscan.com"}
TOKENS = (("kgst", "Stablecoin"), ("som", "DigitalCurrency"))


class ReportError(SomstackError):
    """The report cannot be built or written (a bad option, an unwritable folder)."""


class _Artifacts(Artifacts):
    """The project's artifacts, each parsed once per report (a report asks for some many times),
    with the error decoder the session already built."""

    def __init__(self, base: Artifacts, decoder: ErrorDecoder | None = None):
        self.folder = base.folder
        self._parsed: dict[str, Artifact] = {}
        if decoder is not None:
            self.__dict__["decoder"] = decoder  # functools.cached_property's slot

    def get(self, name: str) -> Artifact:
        if name not in self._parsed:
            self._parsed[name] = super().get(name)
        return self._parsed[name]


def default_explorer(chain_id: int) -> str:
    return EXPLORERS.get(chain_id, EXPLORERS[56])


@dataclass
class Options:
    days: int = 30
    block: int | None = None
    explorer: str | None = None
    chunk: int = 5_000
    dev: bool = False  # a dev chain: no explorer unless one is given
    cache_dir: Path | None = None


class Figures:
    """The report's figures by id: raw value, decimals, text, unit, and their source."""

    def __init__(self, block: int):
        self.block = block
        self.items: dict[str, dict[str, Any]] = {}

    def add(self, fid: str, raw: int | None, text: str, unit: str = "", decimals: int = 0,
            block: int | None = None, tx: str | None = None) -> str:
        self.items[fid] = {"raw": raw, "decimals": decimals, "text": text, "unit": unit,
                           "block": self.block if block is None else block, "tx": tx}
        return fid


def build_report(w3: Web3, manifest: Manifest, artifacts: Artifacts, network: str, options: Options,
                 decoder: ErrorDecoder | None = None) -> dict[str, Any]:
    """The whole report as a JSON-ready dict."""
    started = time.monotonic()
    artifacts = _Artifacts(artifacts, decoder)
    if options.explorer is not None and not options.explorer.startswith(("https://", "http://")):
        raise ReportError(f"--explorer must be an http(s) URL, got '{options.explorer}'")
    head = w3.eth.block_number
    at = head if options.block is None else options.block
    if at < 0 or at > head:
        raise ReportError(f"--block {at} is not on this chain (its head is block {head:,})")
    block = w3.eth.get_block(at)
    chain_id = w3.eth.chain_id
    start = min(int(r.get("block") or 0) for r in manifest.contracts.values()) if manifest.contracts else 0
    if at < start:
        raise ReportError(f"--block {at} is before the deployment (block {start:,})")
    reader = LogReader(w3, options.cache_dir, start, options.chunk)
    now = int(block["timestamp"])
    window_start = now - options.days * DAY
    first_block = _block_at(w3, window_start, start, at)
    figures = Figures(at)
    ctx = _Context(w3, manifest, artifacts, reader, figures, at, now, first_block)
    report: dict[str, Any] = {
        "schema": SCHEMA,
        "network": network,
        "chainId": chain_id,
        "block": at,
        "blockHash": Web3.to_hex(block["hash"]),
        "timestamp": now,
        "time": utc(now),
        "explorer": (options.explorer or ("" if options.dev else EXPLORERS.get(chain_id, ""))).rstrip("/") or None,
        "days": options.days,
        "window": {"from": window_start, "to": now, "fromBlock": first_block},
        "deploymentBlock": start,
    }
    logger.info(f"reading supplies since block {start:,}")
    report["tokens"] = {key: _token(ctx, key, name) for key, name in TOKENS if name in manifest.contracts}
    logger.info("reading the reserve")
    report["reserve"] = _reserve(ctx)
    if "RedemptionQueue" in manifest.contracts:
        logger.info("reading the redemption queue")
        report["redemption"] = _redemption(ctx)
    logger.info("reading compliance actions")
    report["compliance"] = _compliance(ctx)
    logger.info("reading governance")
    report["governance"] = _governance(ctx)
    report["figures"] = figures.items
    report["cache"] = reader.stats.as_dict()
    report["buildSeconds"] = round(time.monotonic() - started, 3)
    return report


@dataclass
class _Context:
    w3: Web3
    manifest: Manifest
    artifacts: Artifacts
    reader: LogReader
    figures: Figures
    at: int
    now: int
    first_block: int  # first block of the window

    def contract(self, name: str, artifact: str | None = None) -> Contract:
        return self.artifacts.get(artifact or name).contract(self.w3, self.manifest.address(name))  # type: ignore[return-value]

    def times(self, events: list[Event], extra: tuple[int, ...] = ()) -> dict[int, int]:
        wanted: dict[int, str | None] = {e.block: e.block_hash for e in events}
        for number in extra:
            wanted.setdefault(number, None)
        return self.reader.timestamps(wanted)


def _block_at(w3: Web3, timestamp: int, low: int, high: int) -> int:
    """The first block in [low, high] at or after ``timestamp`` (``high`` if none is)."""
    while low < high:
        mid = (low + high) // 2
        if int(w3.eth.get_block(mid)["timestamp"]) < timestamp:
            low = mid + 1
        else:
            high = mid
    return low


# --- Supplies ---


def _token(ctx: _Context, key: str, name: str) -> dict[str, Any]:
    token = ctx.contract(name)
    f = token.functions
    decimals = int(f.decimals().call(block_identifier=ctx.at))
    symbol = str(f.symbol().call(block_identifier=ctx.at))
    supply = int(f.totalSupply().call(block_identifier=ctx.at))
    transfer = topic_of(token, "Transfer")
    mints = ctx.reader.read(f"{symbol} mints", token, [transfer, ZERO_TOPIC], ctx.at)
    burns = ctx.reader.read(f"{symbol} burns", token, [transfer, None, ZERO_TOPIC], ctx.at)
    changes = sorted([(e, int(e.args["value"])) for e in mints] + [(e, -int(e.args["value"])) for e in burns],
                     key=lambda c: c[0].order)
    before = sum(delta for e, delta in changes if e.block < ctx.first_block)
    in_window = [(e, d) for e, d in changes if e.block >= ctx.first_block]
    times = ctx.times([e for e, _ in in_window])
    opening = int(ctx.w3.eth.get_block(ctx.first_block)["timestamp"])
    series = [{"t": opening, "block": ctx.first_block, "tx": None, "raw": before}]
    running = before
    for event, delta in in_window:
        running += delta
        series.append({"t": times[event.block], "block": event.block, "tx": event.tx, "raw": running,
                       "change": delta})
    series.append({"t": ctx.now, "block": ctx.at, "tx": None, "raw": running})
    for point in series:
        point["text"] = units(point["raw"], decimals)
    last_tx = changes[-1][0].tx if changes else None
    last_block = changes[-1][0].block if changes else None
    fig = ctx.figures
    return {
        "name": name,
        "symbol": symbol,
        "address": token.address,
        "decimals": decimals,
        "supply": fig.add(f"{key}.supply", supply, units(supply, decimals), symbol, decimals, tx=last_tx),
        "minted": fig.add(f"{key}.minted", sum(d for _, d in in_window if d > 0),
                          units(sum(d for _, d in in_window if d > 0), decimals), symbol, decimals),
        "burned": fig.add(f"{key}.burned", -sum(d for _, d in in_window if d < 0),
                          units(-sum(d for _, d in in_window if d < 0), decimals), symbol, decimals),
        "lastChange": {"block": last_block, "tx": last_tx},
        "fromEvents": running,
        "reconciled": running == supply,
        "mints": len(mints),
        "burns": len(burns),
        "series": series,
    }


# --- The reserve ---


def _reserve(ctx: _Context) -> dict[str, Any]:
    reserve = Reserve.load(ctx.w3, ctx.artifacts, ctx.manifest, ctx.artifacts.decoder)
    status = read_status(reserve, ctx.at)
    fig = ctx.figures
    assets = []
    for row in status.rows:
        base = f"reserve.asset.{row.symbol}"
        age = status.now - row.updated_at if 0 < row.updated_at <= status.now else None
        assets.append({
            "symbol": row.symbol,
            "address": row.address,
            "balance": fig.add(f"{base}.balance", row.balance, units(row.balance, row.token_decimals), row.symbol, row.token_decimals),
            "price": fig.add(f"{base}.price", row.price, units(row.price, row.feed_decimals) if row.price else "-", "USD", row.feed_decimals),
            "priceAge": age,
            "priceOk": row.price_error == 0,
            "heartbeat": row.heartbeat,
            "haircut": fig.add(f"{base}.haircut", row.haircut_bps, percent(row.haircut_bps), "", 2),
            "value": fig.add(f"{base}.value", row.weighted, units(row.weighted, 18, 2) if row.weighted is not None else "-", "som", 18),
            "counted": fig.add(f"{base}.counted", row.counted, units(row.counted, 18, 2) if row.counted is not None else "-", "som", 18),
        })
    vault = reserve.vault
    events = ctx.reader.read("ReserveVault events", vault, [[topic_of(vault, n) for n in ("Attested", "Deposited", "Withdrawn", "RateUpdated")]], ctx.at)
    attest_events = [e for e in events if e.name == "Attested"]
    times = ctx.times(attest_events)
    attestations = [{
        "amount": units(e.args["amount"], 18, 2), "raw": e.args["amount"], "asOf": int(e.args["asOf"]),
        "asOfText": utc(int(e.args["asOf"])), "age": status.now - int(e.args["asOf"]),
        "reportHash": Web3.to_hex(e.args["reportHash"]), "uri": e.args["uri"], "attestor": e.args["attestor"],
        "block": e.block, "tx": e.tx, "time": times[e.block],
    } for e in reversed(attest_events)]
    last_attest = attest_events[-1] if attest_events else None
    attested = fig.add("reserve.attested", status.attested, units(status.attested, 18, 2), "som", 18,
                       block=last_attest.block if last_attest else None, tx=last_attest.tx if last_attest else None)
    total = fig.add("reserve.total", status.total, units(status.total, 18, 2) if status.total is not None else "refused", "som", 18)
    coverage = fig.add("reserve.coverage", status.coverage, coverage_text(status.coverage, short=True), "", 2)
    minimum = fig.add("reserve.minCoverage", status.min_coverage, percent(status.min_coverage), "", 2)
    rate = fig.add("reserve.rate", status.rate, units(status.rate, 18), "KGS/USD", 18)
    stress_rows = []
    bnb = next((r for r in status.rows if r.symbol == "BNB"), None)
    if bnb is not None:
        for drop in STRESS_DROPS:
            result = stress(reserve, "BNB", drop * 100, ctx.at)
            stress_rows.append({"drop": drop, "coverage": fig.add(f"reserve.stress.BNB.{drop}", result.shocked,
                                                                  coverage_text(result.shocked, short=True), "", 2),
                                "belowMinimum": result.shocked is not None and result.shocked < status.min_coverage})
    return {
        "vault": vault.address,
        "assets": assets,
        "attested": attested,
        "attestedAsOf": status.attested_as_of,
        "attestedAge": status.now - status.attested_as_of if status.attested_as_of else None,
        "attestationMaxAge": status.attestation_max_age,
        "reportHash": "0x" + status.report_hash.hex(),
        "attestations": attestations,
        "rate": rate,
        "rateAge": status.now - status.rate_updated_at if status.rate_updated_at else None,
        "total": total,
        "refusal": status.refusal,
        "coverage": coverage,
        "minCoverage": minimum,
        "stress": stress_rows,
        "coverageSeries": _coverage_series(ctx, reserve, events),
    }


def _coverage_series(ctx: _Context, reserve: Reserve, vault_events: list[Event]) -> list[dict[str, Any]]:
    """Coverage at every block of the window where a mint, burn or reserve event changed it, and now."""
    kgst = ctx.contract("Stablecoin")
    transfer = topic_of(kgst, "Transfer")
    supply_events = (ctx.reader.read("KGST mints", kgst, [transfer, ZERO_TOPIC], ctx.at)
                     + ctx.reader.read("KGST burns", kgst, [transfer, None, ZERO_TOPIC], ctx.at))
    chosen: dict[int, Event] = {}
    for event in sorted(supply_events + vault_events, key=lambda e: e.order):
        if event.block >= ctx.first_block:
            chosen[event.block] = event
    blocks = sorted(chosen)[-(MAX_COVERAGE_POINTS - 1):]
    times = ctx.times([chosen[b] for b in blocks], (ctx.at,))
    series = []
    for number in [*blocks, ctx.at] if ctx.at not in blocks else blocks:
        try:
            value, _why = reserve.try_call(reserve.vault.functions.coverageRatio(), number)
        except Exception:  # the node keeps no state that old (not an archive node)
            value = None
        series.append({"t": times[number], "block": number, "tx": chosen[number].tx if number in chosen else None,
                       "raw": value, "text": coverage_text(value, short=True)})
    return series


# --- The redemption queue ---


def _redemption(ctx: _Context) -> dict[str, Any]:
    """The queue at the report's block: pending count and amount, the oldest pending request's
    age; over the window, requests paid within and after their deadline and the median time to
    pay; every breach (a cancellation after a missed deadline) since deployment, with its tx."""
    queue = ctx.contract("RedemptionQueue")
    kgst = ctx.contract("Stablecoin")
    decimals = int(kgst.functions.decimals().call(block_identifier=ctx.at))
    f = queue.functions
    names = ("RedemptionRequested", "RedemptionPaid", "RedemptionRejected", "RedemptionCancelled", "EscrowSeizureExecuted")
    events = ctx.reader.read("RedemptionQueue events", queue, [[topic_of(queue, n) for n in names]], ctx.at)
    times = ctx.times(events)
    requested: dict[int, Event] = {}
    ended: dict[int, Event] = {}
    for e in events:
        rid = int(e.args["requestId"])
        if e.name == "RedemptionRequested":
            requested[rid] = e
        else:
            ended[rid] = e
    pending = [requested[i] for i in requested if i not in ended]
    oldest = min(pending, key=lambda e: e.order) if pending else None
    oldest_age = ctx.now - times[oldest.block] if oldest else None
    paid = [e for e in ended.values() if e.name == "RedemptionPaid" and e.block >= ctx.first_block and e.args["requestId"] in requested]
    durations = sorted(times[e.block] - times[requested[int(e.args["requestId"])].block] for e in paid)
    late = sum(1 for e in paid if e.args["late"])
    median = _median(durations)
    breaches = [{
        "requestId": int(e.args["requestId"]), "holder": e.args["holder"], "amount": units(int(e.args["amount"]), decimals),
        "deadline": int(e.args["deadline"]), "deadlineText": utc(int(e.args["deadline"])),
        "overdue": times[e.block] - int(e.args["deadline"]), "block": e.block, "tx": e.tx, "time": times[e.block],
        "timeText": utc(times[e.block]),
    } for e in sorted((e for e in ended.values() if e.name == "RedemptionCancelled"), key=lambda e: e.order, reverse=True)]
    fig = ctx.figures
    pending_count = int(f.pendingCount().call(block_identifier=ctx.at))
    pending_amount = int(f.pendingAmount().call(block_identifier=ctx.at))
    service_level = int(f.serviceLevel().call(block_identifier=ctx.at))
    last = events[-1] if events else None
    return {
        "queue": queue.address,
        "serviceLevel": service_level,
        "paused": bool(f.paused().call(block_identifier=ctx.at)),
        "pendingCount": fig.add("redemption.pendingCount", pending_count, f"{pending_count:,}", "requests",
                                block=last.block if last else None, tx=last.tx if last else None),
        "pendingAmount": fig.add("redemption.pendingAmount", pending_amount, units(pending_amount, decimals), "KGST", decimals),
        "oldestAge": fig.add("redemption.oldestAge", oldest_age, _hours(oldest_age), "",
                             block=oldest.block if oldest else None, tx=oldest.tx if oldest else None),
        "paidWithin": fig.add("redemption.paidWithin", len(paid) - late, f"{len(paid) - late:,}", "requests"),
        "paidAfter": fig.add("redemption.paidAfter", late, f"{late:,}", "requests"),
        "medianToPay": fig.add("redemption.medianToPay", median, _hours(median), ""),
        "breachCount": fig.add("redemption.breaches", len(breaches), f"{len(breaches):,}", "breaches",
                               tx=breaches[0]["tx"] if breaches else None, block=breaches[0]["block"] if breaches else None),
        "requests": len(requested),
        "rejected": sum(1 for e in ended.values() if e.name == "RedemptionRejected"),
        "seized": sum(1 for e in ended.values() if e.name == "EscrowSeizureExecuted"),
        "breaches": breaches,
    }


def _median(values: list[int]) -> int | None:
    if not values:
        return None
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) // 2


def _hours(seconds: int | None) -> str:
    return "-" if seconds is None else f"{seconds / 3600:.1f} h"


# --- Compliance ---


def _compliance(ctx: _Context) -> dict[str, Any]:
    actions: list[dict[str, Any]] = []
    pauses: list[dict[str, Any]] = []
    names = ("AccountBlocked", "AccountUnblocked", "SeizureProposed", "SeizureExecuted", "SeizureRejected", "PauseFlagsUpdated")
    from somstack.ops.reasons import load as load_reasons

    texts = load_reasons(ctx.manifest.path)  # the operator's reason texts, kept off chain beside the manifest
    for key, name in TOKENS:
        if name not in ctx.manifest.contracts:
            continue
        token = ctx.contract(name)
        decimals = int(token.functions.decimals().call(block_identifier=ctx.at))
        events = ctx.reader.read(f"{name} compliance", token, [[topic_of(token, n) for n in names]], ctx.at)
        times = ctx.times(events)
        open_: dict[int, dict[str, Any]] = {}
        for e in events:
            where = {"token": key, "block": e.block, "tx": e.tx, "time": times[e.block], "timeText": utc(times[e.block])}
            a = e.args
            if e.name == "AccountBlocked":
                ref = Web3.to_hex(a["reason"])
                actions.append({**where, "kind": "block", "account": a["account"], "ref": ref, "reasonText": texts.get(ref.lower())})
            elif e.name == "AccountUnblocked":
                actions.append({**where, "kind": "unblock", "account": a["account"], "ref": None})
            elif e.name in ("SeizureProposed", "SeizureExecuted"):
                actions.append({**where, "kind": "seizure proposed" if e.name == "SeizureProposed" else "seizure executed",
                                "account": a["account"], "ref": Web3.to_hex(a["caseRef"]), "seizureId": int(a["seizureId"]),
                                "amount": units(int(a["amount"]), decimals), "recovery": a["recovery"]})
            elif e.name == "SeizureRejected":
                actions.append({**where, "kind": "seizure rejected", "account": None, "ref": None, "seizureId": int(a["seizureId"])})
            else:  # PauseFlagsUpdated: a period per switch, from on to off
                previous, new = int(a["previousFlags"]), int(a["newFlags"])
                for bit, label in PAUSE_FLAGS.items():
                    if new & bit and not previous & bit:
                        open_[bit] = {"token": key, "what": label, "from": where, "to": None, "by": a["account"]}
                        pauses.append(open_[bit])
                    elif previous & bit and not new & bit and bit in open_:
                        open_.pop(bit)["to"] = where
    actions.sort(key=lambda x: (x["block"], x["tx"]), reverse=True)
    pauses.sort(key=lambda p: p["from"]["block"], reverse=True)
    for period in pauses:
        end = period["to"]["time"] if period["to"] else ctx.now
        period["seconds"] = end - period["from"]["time"]
    return {"actions": actions, "pauses": pauses,
            "blocks": sum(1 for x in actions if x["kind"] == "block"),
            "seizures": sum(1 for x in actions if x["kind"] == "seizure executed")}


# --- Governance ---


def _governance(ctx: _Context) -> dict[str, Any]:
    manager = ctx.contract("AccessManager", "SomAccessManager")
    grants = ctx.reader.read("AccessManager role grants", manager, [topic_of(manager, "RoleGranted")], ctx.at)
    matrix = read_matrix(ctx.w3, ctx.manifest, ctx.artifacts, ctx.at, granted=[e.args for e in grants])
    ops = ("OperationScheduled", "OperationExecuted", "OperationCanceled")
    events = ctx.reader.read("AccessManager operations", manager, [[topic_of(manager, n) for n in ops]], ctx.at)
    targets = _targets(ctx)
    scheduled: dict[tuple[str, int], Event] = {}
    for e in events:
        key = (Web3.to_hex(e.args["operationId"]), int(e.args["nonce"]))
        if e.name == "OperationScheduled":
            scheduled[key] = e
        else:
            scheduled.pop(key, None)
    pending = []
    times = ctx.times(list(scheduled.values()))
    for (operation, nonce), e in sorted(scheduled.items(), key=lambda kv: kv[1].order, reverse=True):
        target = to_checksum_address(e.args["target"])
        name, functions = targets.get(target, (target, {}))
        data = bytes(e.args["data"])
        due = int(e.args["schedule"])
        live = int(manager.functions.getSchedule(operation).call(block_identifier=ctx.at))
        status = "expired" if live == 0 else "executable" if due <= ctx.now else "waiting"
        pending.append({"operationId": operation, "nonce": nonce, "caller": e.args["caller"], "target": target,
                        "targetName": name, "function": functions.get(data[:4].hex(), "0x" + data[:4].hex()),
                        "executableAt": due, "executableAtText": utc(due), "status": status,
                        "block": e.block, "tx": e.tx, "time": times[e.block]})
    upgrades = []
    for name, record in ctx.manifest.contracts.items():
        if record.get("artifact") != "SomProxy":
            continue
        proxy = ctx.contract(name)
        found = ctx.reader.read(f"{name} upgrades", proxy, [topic_of(proxy, "Upgraded")], ctx.at)
        upgrades += [{"contract": name, "proxy": proxy.address, "implementation": e.args["implementation"],
                      "block": e.block, "tx": e.tx, "blockHash": e.block_hash} for e in found]
    upgrades.sort(key=lambda u: u["block"], reverse=True)
    upgrades = upgrades[:10]
    times = ctx.reader.timestamps({u["block"]: u.pop("blockHash") for u in upgrades})
    for u in upgrades:
        u["time"] = times[u["block"]]
        u["timeText"] = utc(times[u["block"]])
    return {
        "manager": matrix.manager,
        "matrixBlock": matrix.block,
        "roles": [{"id": r.id, "name": r.name, "members": [{"address": a, "delay": d} for a, d in r.members],
                   "grantDelay": r.grant_delay, "functions": r.functions} for r in matrix.rows],
        "adminDelays": matrix.admin_delays,
        "deployerRoles": list(matrix.deployer_roles),
        "mismatches": matrix.mismatches,
        "pending": pending,
        "upgrades": upgrades,
    }


def _targets(ctx: _Context) -> dict[str, tuple[str, dict[str, str]]]:
    """Address -> (manifest name, selector hex -> function name) of every deployed contract."""
    found: dict[str, tuple[str, dict[str, str]]] = {}
    for name, record in ctx.manifest.contracts.items():
        artifact = name if record.get("artifact") == "SomProxy" else record.get("artifact") or name
        try:
            abi = ctx.artifacts.get(artifact).abi
        except SomstackError:
            abi = []
        functions = {function_abi_to_4byte_selector(i).hex(): i["name"] for i in abi if i.get("type") == "function"}
        found[to_checksum_address(record["address"])] = (name, functions)
    return found


__all__ = ["Options", "ReportError", "build_report", "default_explorer"]
