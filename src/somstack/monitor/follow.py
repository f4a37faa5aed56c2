"""Following the chain: `somstack monitor run` and `monitor export`.

The follower reads the events of KGST and the digital som (addresses and deployment blocks from
the manifest): Transfer, TransferReference (the travel-rule reference), Minted/Issued,
Redeemed/Retired, AccountBlocked/AccountUnblocked and SeizureExecuted, up to ``confirmations``
blocks behind the head, in chunks. Each chunk's events, the hashes of its blocks and the new
cursor are committed in one SQLite transaction, so a kill at any moment loses nothing and
duplicates nothing: the next run resumes after the cursor.

Reorganisations: before reading on, the stored hash of the cursor's block is compared with the
chain's. When they differ (a reorganisation deeper than the confirmations, or a dev chain
reverted to a snapshot), the follower walks back over the blocks it stored to the last one the
chain still has, drops every event after it, and reads again from there. A log whose block hash
is not the hash of its block as read a moment before stops the chunk (the chain moved while
reading): it is read again on the next poll.

After every poll that changed the events, the rules run over all stored transfers (the same
engine as `monitor scan`, over the same file format) with the on-chain blocklist plus any
--blocklist, and the stored alerts are reconciled: new alerts are raised and queued for the
webhook, alerts no longer produced (their events were dropped) are retracted and the
retraction queued. The outbox is delivered with retries and never dropped.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from eth_utils import event_abi_to_log_topic, to_hex
from web3 import Web3

from somstack.core.errors import SomstackError
from somstack.monitor.alerts import Alert
from somstack.monitor.settings import RuleSet
from somstack.monitor.store import Store
from somstack.monitor.transfers import format_amount, write

logger = logging.getLogger(__name__)


TOKENS = {"Stablecoin": "KGST", "DigitalCurrency": "DSOM"}
EVENTS = ("Transfer", "TransferReference", "Minted", "Redeemed", "Issued", "Retired", "AccountBlocked", "AccountUnblocked",
          "SeizureExecuted")


class ChainMoved(SomstackError):
    """The chain reorganised while a chunk was read: read again on the next poll."""


@dataclass
class PollResult:
    head: int
    cursor: int
    new_events: int = 0
    dropped_events: int = 0
    reorg_to: int | None = None

    @property
    def changed(self) -> bool:
        return bool(self.new_events or self.dropped_events)


def _hex(value: Any) -> str:
    return to_hex(value) if not isinstance(value, str) else value


class Follower:
    def __init__(self, w3: Web3, manifest: Any, artifacts: Any, store: Store, confirmations: int, chunk: int = 2000):
        self.w3, self.store, self.confirmations, self.chunk = w3, store, confirmations, chunk
        self.tokens: dict[str, tuple[str, int]] = {}  # address (lower) -> (symbol, decimals)
        self.topics: dict[str, tuple[str, Any]] = {}  # topic0 -> (event name, event object)
        starts = []
        for name, symbol in TOKENS.items():
            record = manifest.contracts.get(name)
            if not record:
                continue
            contract = artifacts.get(name).contract(w3, record["address"])
            self.tokens[record["address"].lower()] = (symbol, int(contract.functions.decimals().call()))
            starts.append(int(record.get("block") or 0))
            for item in contract.abi:
                if item.get("type") == "event" and item["name"] in EVENTS:
                    self.topics.setdefault(to_hex(event_abi_to_log_topic(item)), (item["name"], contract.events[item["name"]]()))
        if not self.tokens:
            raise SomstackError("the manifest records neither KGST nor the digital som: nothing to follow")
        self.start = min(starts)

    # --- reading ---

    def _chain_hash(self, number: int) -> str | None:
        try:
            block = self.w3.eth.get_block(number)
        except Exception:  # past the head (a dev chain reverted) or pruned
            return None
        return _hex(block["hash"]).lower() if block else None

    def check_reorg(self) -> tuple[int | None, int]:
        """Finds the last stored block the chain still has; drops what follows. Returns (the
        block it went back to or None, the number of events dropped)."""
        cursor = self.store.cursor()
        if cursor is None or cursor < self.start:
            return None, 0
        stored = self.store.block_hash(cursor)
        if stored is not None and self._chain_hash(cursor) == stored:
            return None, 0
        ancestor = self.start - 1
        for number, block_hash in self.store.known_blocks_desc(cursor):
            if self._chain_hash(number) == block_hash:
                ancestor = number
                break
        dropped = self.store.retract_after(ancestor)
        logger.info(f"monitor: the chain no longer has block {cursor} as read: back to block {ancestor}, {len(dropped)} event(s) retracted")
        return ancestor, len(dropped)

    def _decode(self, log: dict[str, Any], ts: int) -> tuple[Any, ...] | None:
        topic = _hex(log["topics"][0]).lower() if log["topics"] else None
        if topic not in self.topics:
            return None
        name, event = self.topics[topic]
        symbol, decimals = self.tokens[log["address"].lower()]
        args = event.process_log(log)["args"]

        def amount(key: str) -> str:
            return format_amount(int(args[key]), decimals)

        def addr(key: str) -> str:
            return str(args[key]).lower()

        def ref(key: str) -> str:
            return "0x" + bytes(args[key]).hex()

        src = dst = account = value = reference = None
        if name == "Transfer":
            src, dst, value = addr("from"), addr("to"), amount("value")
        elif name == "TransferReference":
            src, dst, value, reference = addr("from"), addr("to"), amount("amount"), ref("ref")
        elif name in ("Minted", "Issued"):
            account, value, reference = addr("to"), amount("amount"), ref("depositRef" if name == "Minted" else "ref")
        elif name in ("Redeemed", "Retired"):
            account, value, reference = addr("burner" if name == "Redeemed" else "issuer"), amount("amount"), \
                ref("redemptionRef" if name == "Redeemed" else "ref")
        elif name == "AccountBlocked":
            account, reference = addr("account"), ref("reason")
        elif name == "AccountUnblocked":
            account = addr("account")
        elif name == "SeizureExecuted":
            account, dst, value, reference = addr("account"), addr("recovery"), amount("amount"), ref("caseRef")
        return (int(log["blockNumber"]), _hex(log["blockHash"]).lower(), ts, _hex(log["transactionHash"]).lower(),
                int(log["logIndex"]), symbol, name, src, dst, account, value, reference)

    def poll(self) -> PollResult:
        """Reads up to ``confirmations`` behind the head (after a reorganisation check)."""
        head = int(self.w3.eth.block_number)
        ancestor, dropped = self.check_reorg()
        target = head - self.confirmations
        cursor = self.store.cursor()
        cursor = self.start - 1 if cursor is None else cursor
        result = PollResult(head, cursor, dropped_events=dropped, reorg_to=ancestor)
        addresses = [Web3.to_checksum_address(a) for a in self.tokens]
        while cursor < target:
            end = min(target, cursor + self.chunk)
            logs = self.w3.eth.get_logs({"fromBlock": cursor + 1, "toBlock": end, "address": addresses, "topics": [list(self.topics)]})
            numbers = sorted({int(log["blockNumber"]) for log in logs} | {end})
            blocks = {}
            for number in numbers:
                block = self.w3.eth.get_block(number)
                blocks[number] = (number, _hex(block["hash"]).lower(), int(block["timestamp"]))
            events = []
            for log in logs:
                number = int(log["blockNumber"])
                if _hex(log["blockHash"]).lower() != blocks[number][1]:
                    raise ChainMoved(f"block {number} changed while it was read")
                decoded = self._decode(log, blocks[number][2])
                if decoded is not None:
                    events.append(decoded)
            self.store.commit_range(events, list(blocks.values()), end)
            result.new_events += len(events)
            cursor = end
        result.cursor = cursor
        return result


# --- evaluating the rules over the store ---


def export_transfers(store: Store, out: Path) -> int:
    """The stored transfers as a transfers file; a seizure's transfer (from the seized account to
    the recovery address, in the transaction of its SeizureExecuted) is left out: it is the
    issuer's enforcement, not a payment."""
    seized = {(r[0], r[1], r[2]) for r in store.db.execute("SELECT tx_hash, account, dst FROM events WHERE name = 'SeizureExecuted'")}
    rows = [row for row in store.transfers() if (row[2], row[5], row[6]) not in seized]
    return write(out, rows)


def evaluate(store: Store, rules: RuleSet, extra_listed: list[str], work: Path) -> tuple[list[Alert], list[str], list[str], list[str]]:
    from somstack.monitor.scan import scan

    path = work / "monitor-transfers.csv"
    export_transfers(store, path)
    listed = sorted({a.lower() for a in extra_listed} | set(store.blocked_on_chain()))
    result = scan(path, rules, listed, threads=2)
    new, updated, retracted = store.reconcile([a.to_json() for a in result.alerts])
    return result.alerts, new, updated, retracted


# --- the webhook outbox ---


def signature(secret: str, body: bytes) -> str:
    """The ``X-Somstack-Signature`` of a webhook body: ``sha256=`` and the HMAC-SHA256 in hex."""
    import hashlib
    import hmac

    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def deliver(store: Store, url: str | None, timeout: float = 5.0, now: float | None = None, secret: str | None = None) -> tuple[int, int]:
    """Posts each due outbox entry to ``url``, oldest first; a failure is retried later (backoff
    doubling from 1 s to 5 min) and ends the round, so a slow or failing receiver does not hold
    the follower up; nothing is dropped. Returns (delivered, failed)."""
    if not url:
        return 0, 0
    now = time.time() if now is None else now
    ok = failed = 0
    for seq, alert_id, kind, payload, attempts in store.outbox_due(now):
        body = json.dumps({"kind": kind, "delivery": seq, "alert": json.loads(payload)}).encode()
        headers = {"Content-Type": "application/json", "Idempotency-Key": f"{alert_id}:{seq}"}
        if secret:
            headers["X-Somstack-Signature"] = signature(secret, body)
        request = urllib.request.Request(url, data=body, method="POST", headers=headers)
        error = None
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:
                if not 200 <= answer.status < 300:
                    error = f"HTTP {answer.status}"
        except urllib.error.HTTPError as exc:
            error = f"HTTP {exc.code}"
        except (urllib.error.URLError, OSError) as exc:
            error = str(getattr(exc, "reason", exc))
        store.outbox_result(seq, error is None, error, now + min(300.0, 2.0 ** attempts))
        if error is None:
            ok += 1
        else:
            failed += 1
            break  # the receiver is failing: the rest wait for the next round, in order
    return ok, failed


# --- /metrics and /healthz ---


@dataclass
class Health:
    started: float = field(default_factory=time.time)
    last_ok: float = 0.0
    last_error: str | None = None
    head: int = 0
    cursor: int = 0
    stale_after: float = 60.0

    def healthy(self) -> bool:
        return self.last_ok > 0 and time.time() - self.last_ok <= self.stale_after


class Metrics:
    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge

        self.registry = CollectorRegistry()
        self.cursor = Gauge("somstack_monitor_cursor_block", "Last block read (confirmations behind the head).", registry=self.registry)
        self.head = Gauge("somstack_monitor_head_block", "Chain head at the last poll.", registry=self.registry)
        self.events = Counter("somstack_monitor_events", "Events read from the chain.", registry=self.registry)
        self.retracted_events = Counter("somstack_monitor_events_retracted", "Events dropped by reorganisations.", registry=self.registry)
        self.alerts = Counter("somstack_monitor_alerts_raised", "Alerts raised, by rule.", ["rule"], registry=self.registry)
        self.retracted = Counter("somstack_monitor_alerts_retracted", "Alerts retracted after a reorganisation.", registry=self.registry)
        self.open = Gauge("somstack_monitor_alerts_open", "Alerts open in the store.", registry=self.registry)
        self.outbox = Gauge("somstack_monitor_outbox_pending", "Webhook deliveries not yet accepted.", registry=self.registry)
        self.evaluate = Gauge("somstack_monitor_evaluation_seconds", "Duration of the last rules evaluation.", registry=self.registry)

    def render(self) -> bytes:
        from prometheus_client import generate_latest

        return generate_latest(self.registry)


def serve_http(host: str, port: int, metrics: Metrics, health: Health) -> ThreadingHTTPServer:
    from prometheus_client import CONTENT_TYPE_LATEST

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            if self.path == "/metrics":
                body, status, kind = metrics.render(), 200, CONTENT_TYPE_LATEST
            elif self.path == "/healthz":
                ok = health.healthy()
                body = json.dumps({"ok": ok, "head": health.head, "cursor": health.cursor, "last_ok": int(health.last_ok),
                                   "error": health.last_error}).encode()
                status, kind = (200 if ok else 503), "application/json"
            else:
                body, status, kind = b"not found\n", 404, "text/plain"
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            return

    server = ThreadingHTTPServer((host, port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True, name="monitor-http").start()
    return server


@dataclass
class Runner:
    """One monitor: poll, evaluate, deliver; ``step`` is one round (tests drive it directly)."""

    follower: Follower
    store: Store
    rules: RuleSet
    extra_listed: list[str]
    work: Path
    webhook: str | None = None
    webhook_secret: str | None = None
    metrics: Metrics = field(default_factory=Metrics)
    health: Health = field(default_factory=Health)
    evaluated: bool = False

    def step(self) -> PollResult:
        try:
            result = self.follower.poll()
        except ChainMoved as exc:
            self.health.last_error = str(exc)
            logger.info(f"monitor: {exc}; reading again")
            return PollResult(self.health.head, self.health.cursor)
        self.metrics.head.set(result.head)
        self.metrics.cursor.set(result.cursor)
        self.metrics.events.inc(result.new_events)
        self.metrics.retracted_events.inc(result.dropped_events)
        if result.changed or not self.evaluated:
            start = time.perf_counter()
            alerts, new, _updated, retracted = evaluate(self.store, self.rules, self.extra_listed, self.work)
            self.evaluated = True
            self.metrics.evaluate.set(time.perf_counter() - start)
            by_id = {a.id: a for a in alerts}
            for alert_id in new:
                self.metrics.alerts.labels(by_id[alert_id].rule).inc()
                logger.info(f"alert {alert_id} {by_id[alert_id].rule}: {by_id[alert_id].explanation}")
            for alert_id in retracted:
                self.metrics.retracted.inc()
                logger.info(f"alert {alert_id} retracted: the rules no longer produce it (a reorganisation, or an unblock)")
        deliver(self.store, self.webhook, secret=self.webhook_secret)
        self.metrics.open.set(len(self.store.alerts("open")))
        self.metrics.outbox.set(self.store.outbox_pending())
        self.health.head, self.health.cursor, self.health.last_ok, self.health.last_error = result.head, result.cursor, time.time(), None
        return result

    def run(self, poll: float, once: bool = False, rounds: int | None = None) -> None:
        """Polls until interrupted (``once``: one round, its errors raised; ``rounds``: that many).
        A failed round (the node not answering, a store busy) is logged and retried at the next
        poll; /healthz answers 503 while no round has succeeded for a minute."""
        done = 0
        while True:
            try:
                self.step()
            except KeyboardInterrupt:
                raise
            except Exception as exc:
                if once:
                    raise
                self.health.last_error = f"{type(exc).__name__}: {exc}"
                logger.info(f"monitor: this round failed ({self.health.last_error}); trying again in {poll:g} s")
            done += 1
            if once or (rounds is not None and done >= rounds):
                return
            time.sleep(poll)

