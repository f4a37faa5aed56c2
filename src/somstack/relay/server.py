"""The relayer's HTTP service (`somstack relay serve`), on aiohttp's web server.

Why aiohttp: it is already installed (web3 depends on it, pinned in constraints.txt), so the
relayer adds no dependency; it is maintained and asyncio-native, so the HTTP handlers, the
rate limits and the submitter task share one event loop (the synchronous web3 calls run in
worker threads, as chain.py's Sender is synchronous).

API (the models of :mod:`.api`, its OpenAPI document generated from them and served at
``GET /openapi.json``; docs/relayer.md):

- ``POST /v1/transfers``: a signed EIP-3009 authorization; answers at once (202, or 200 for
  one already known) with its id and status, or a 4xx/503 with ``{"error": reason, "message"}``.
- ``GET /v1/transfers/{id}``: its status (accepted, submitted, confirmed, failed) and hash.
- ``GET /v1/config``: the chain, the relayer's address, the tokens and their EIP-712 domains,
  the fee (what the client needs to sign).
- ``GET /healthz`` (the chain's head polled every second, the submitter's rounds), ``GET /readyz``
  (whether new transfers can be accepted now), ``GET /metrics`` (prometheus_client).

Abuse: a request spends, in this order, its client's budget (IP, or an API key the operator
issued), then is validated and its signature recovered; an authorization already stored is
answered from the store; only then are the sender's and the relayer-wide budgets spent. So a
flood of junk spends only its own client's budget. Slow clients are cut: a request's headers
must arrive within ``header_timeout`` of the connection (or of the last answer on it), its body
within ``body_timeout``, and a client holds at most ``max_connections`` connections at once.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Iterator

from aiohttp import web
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)
from prometheus_client.core import CounterMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from prometheus_client.registry import Collector
from web3 import Web3

from somstack.core.chain import RetryPolicy, Sender, is_transport_error, rpc_web3
from somstack.core.errors import ErrorDecoder, RpcUnavailableError
from somstack.relay import api, checks
from somstack.relay.checks import Authorization, Refusal, TokenInfo
from somstack.relay.store import ACCEPTED, SUBMITTED, Overdrawn, Store, Transfer
from somstack.relay.submitter import Submitter

log = logging.getLogger("somstack.relay")

LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)  # [s]
ACCEPT_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)  # [s]
HEALTHY_WITHIN = 5.0  # [s] /healthz is 503 when the chain has not answered a head poll for this long


# --- Limits ---


@dataclass
class TokenBucket:
    """``rate`` tokens per second, up to ``burst``; each request takes one."""

    rate: float
    burst: float
    tokens: float = -1.0
    stamp: float = 0.0

    def take(self, now: float) -> bool:
        if self.tokens < 0:
            self.tokens, self.stamp = self.burst, now
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False

    def full(self, now: float) -> bool:
        """Whether the bucket has refilled by ``now`` (then it is as good as a fresh one)."""
        return self.tokens < 0 or min(self.burst, self.tokens + (now - self.stamp) * self.rate) >= self.burst


class SenderLimits:
    """One token bucket per sender. The buckets that have refilled are forgotten when their
    number passes a threshold, which then becomes twice what is left (never below ``floor``):
    the pruning costs O(1) per request on average."""

    def __init__(self, rate: float, burst: float, floor: int = 10_000):
        self.rate, self.burst, self.floor = rate, burst, floor
        self.buckets: dict[str, TokenBucket] = {}
        self.prune_at = floor

    def take(self, sender: str, now: float) -> bool:
        if len(self.buckets) >= self.prune_at:
            self.buckets = {k: b for k, b in self.buckets.items() if not b.full(now)}
            self.prune_at = max(self.floor, 2 * len(self.buckets))
        return self.buckets.setdefault(sender, TokenBucket(self.rate, self.burst)).take(now)


@dataclass(frozen=True)
class RelayConfig:
    """The service's policy (the options of `somstack relay serve`)."""

    max_body: int = 16 * 1024  # [bytes]
    sender_rate: float = 1.0  # [requests/s] per sender address
    sender_burst: float = 20.0
    global_rate: float = 200.0  # [requests/s] for everybody
    global_burst: float = 1000.0
    fee: dict[str, int] = field(default_factory=dict)  # token address -> fee [token units]; empty: sponsored
    min_balance: int = 10**16  # [wei] below this, new transfers are refused (relayer_low_balance)
    margin: int = 30  # [s] an authorization must stay valid at least this long to be accepted
    replace_after: float = 60.0  # [s] before an unmined transaction is replaced with a higher fee
    chain_pause: float = 1.0  # [s] between tries while the chain does not answer
    client_rate: float = 50.0  # [requests/s] per client (IP address, or API key)
    client_burst: float = 200.0
    max_connections: int = 64  # per client (IP address) at once; more are closed at once
    header_timeout: float = 10.0  # [s] for a request's headers (from the connection or the last answer on it)
    body_timeout: float = 10.0  # [s] for a request's body once its headers are in
    head_poll: float = 1.0  # [s] between polls of the chain's head (and the relayer's balance)
    api_keys: frozenset[str] = frozenset()  # sha256 hex of the API keys the operator issued
    lease: float = 10.0  # [s] PostgreSQL store: an instance silent this long has its pending work adopted


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


# --- Metrics (prometheus_client, a registry per relayer) ---


class _SubmitterCounters(Collector):
    """The submitter's own counts (its Stats), read at each scrape."""

    DOC = {"submitted": "Transactions sent (first sends).", "replaced": "Transactions replaced with a higher fee.",
           "confirmed": "Authorizations mined successfully.", "failed": "Authorizations that failed after acceptance."}

    def __init__(self, submitter: Submitter):
        self.submitter = submitter

    def collect(self) -> Iterator[CounterMetricFamily]:
        for name, doc in self.DOC.items():
            yield CounterMetricFamily(f"relay_{name}", doc, value=getattr(self.submitter.stats, name))


class Metrics:
    def __init__(self, relay: "Relay") -> None:
        self.registry = r = CollectorRegistry(auto_describe=True)
        ProcessCollector(registry=r)
        PlatformCollector(registry=r)
        self.accepted = Counter("relay_accepted", "Authorizations accepted.", registry=r)
        self.refused = Counter("relay_refused", "Requests refused, by reason.", ["reason"], registry=r)
        self.known = Counter("relay_known", "Authorizations posted again, answered from the store.", registry=r)
        self.confirmation = Histogram("relay_confirmation_seconds", "From acceptance to confirmation.", buckets=LATENCY_BUCKETS,
                                      registry=r)
        self.accept_latency = Histogram("relay_accept_seconds", "Time to answer POST /v1/transfers, by status.",
                                        ["status"], buckets=ACCEPT_BUCKETS, registry=r)
        self.cut = Counter("relay_connections_cut", "Connections closed: too many from one client, or too slow.", ["why"],
                           registry=r)
        r.register(_SubmitterCounters(relay.submitter))
        pending = Gauge("relay_pending", "Authorizations not yet mined, by status.", ["status"], registry=r)
        for status in (ACCEPTED, SUBMITTED):
            pending.labels(status).set_function(lambda status=status: relay.store.counts().get(status, 0))
        Gauge("relay_relayer_balance_wei", "BNB balance of the relayer key (last head poll).", registry=r).set_function(
            lambda: relay._balance[1] if relay._balance else float("nan"))
        Gauge("relay_chain_head", "The latest block number seen.", registry=r).set_function(
            lambda: relay._head[1] if relay._head else float("nan"))
        Gauge("relay_chain_seen_seconds", "Seconds since the chain last answered a head poll.", registry=r).set_function(
            lambda: time.monotonic() - relay._head[0] if relay._head else float("inf"))

    def text(self) -> bytes:
        return generate_latest(self.registry)


# --- The service ---


def openapi_document() -> dict[str, Any]:
    return api.openapi_document()


_DOCUMENT: bytes | None = None


class Relay:
    """The state of one relayer: chain handles, the store, the submitter, limits, metrics."""

    def __init__(self, sender: Sender, tokens: list[TokenInfo], store: Store, decoder: ErrorDecoder,
                 config: RelayConfig = RelayConfig()):
        self.w3: Web3 = sender.w3
        self.tokens = {t.contract.address: t for t in tokens}
        self.store = store
        self.decoder = decoder
        self.config = config
        self.chain_id = int(self.w3.eth.chain_id)
        self.submitter = Submitter(sender, store, self.tokens, replace_after=config.replace_after, on_event=self._on_event)
        self.relayer = sender.signer.address
        self.queue: str | None = None  # KGST's redemption queue, when the deployment has one (kind "redeem")
        self._clients = SenderLimits(config.client_rate, config.client_burst)
        self._senders = SenderLimits(config.sender_rate, config.sender_burst)
        self._global = TokenBucket(config.global_rate, config.global_burst)
        self._wake: asyncio.Event | None = None
        self._balance: tuple[float, int] | None = None  # (monotonic time read, wei)
        self._clock: tuple[float, int] = (0.0, 0)  # (monotonic time read, latest block's timestamp)
        self._head: tuple[float, int] | None = None  # (monotonic time of the last poll answered, block number)
        self._low = False
        self._chain_failed = False  # the submitter's last failed round failed because the chain did not answer
        self.metrics = Metrics(self)
        # web3's batches are per provider: each worker thread asks through a Web3 of its own,
        # failing fast (a 503 to the client) instead of the submitter's patient retries
        self._url = str(getattr(sender.w3.provider, "endpoint_uri", ""))
        self._local = threading.local()

    def _handles(self) -> tuple[Web3, dict[str, Any]]:
        local = self._local
        if not hasattr(local, "w3"):
            local.w3 = rpc_web3(self._url, RetryPolicy(attempts=1, timeout=10), "the relayer's RPC")
            local.contracts = {a: local.w3.eth.contract(address=a, abi=t.contract.abi) for a, t in self.tokens.items()}
        return local.w3, local.contracts

    def _on_chain(self, auth: Authorization) -> tuple[int, int]:
        w3, contracts = self._handles()
        return checks.check_on_chain(w3, contracts[auth.token], auth, self.relayer, self.decoder)

    def _contract_signature(self, token: TokenInfo, auth: Authorization) -> None:
        checks.check_contract_signature(self._handles()[0], token, auth)

    def _read_chain(self) -> tuple[int, int, int]:
        """The relayer's balance [wei], the latest block's number and timestamp, in one batch."""
        w3 = self._handles()[0]
        with w3.batch_requests() as batch:
            batch.add(w3.eth.get_balance(self.relayer))  # type: ignore[arg-type]
            batch.add(w3.eth.get_block("latest"))
            balance, block = batch.execute()
        return int(balance), int(block["number"]), int(block["timestamp"])

    def _on_event(self, what: str, transfer: Transfer) -> None:
        if what == "confirmed":
            self.metrics.confirmation.observe(time.time() - transfer.accepted_at)

    # --- The submitter task and the head poll ---

    async def run_submitter(self) -> None:
        self._wake = asyncio.Event()
        down_since: float | None = None
        while True:
            try:
                more = await asyncio.to_thread(self.submitter.round)
                if down_since is not None:
                    log.info("the chain answers again after %.0f s: submissions resume", time.time() - down_since)
                    down_since = None
            except Exception as exc:
                self._chain_failed = is_transport_error(exc) or isinstance(exc, RpcUnavailableError)
                if not self._chain_failed:
                    log.exception("submitter round failed; tried again")
                elif down_since is None:
                    down_since = time.time()
                    log.warning("the chain does not answer (%s): submissions wait", type(exc).__name__)
                self.submitter.healthy = False
                await asyncio.sleep(self.config.chain_pause)
                continue
            if self.submitter.refusals:  # the node refuses our sends (no BNB left?): try again less often
                await asyncio.sleep(min(30.0, self.config.chain_pause * 2 ** min(self.submitter.refusals, 5)))
                continue
            if more:
                continue
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=0.25)
            except asyncio.TimeoutError:
                pass

    async def poll_head(self) -> None:
        """Every ``head_poll`` seconds: the chain's head and the relayer's balance, so that
        /healthz knows within 5 s that the chain stopped answering (the submitter only notices
        when it has something to send)."""
        while True:
            try:
                await self._refresh(force=True)
            except Exception as exc:
                if not (is_transport_error(exc) or isinstance(exc, RpcUnavailableError)):
                    log.exception("head poll failed")
            await asyncio.sleep(self.config.head_poll)

    # --- Accepting ---

    async def _refresh(self, force: bool = False) -> None:
        """The relayer's balance and the chain's head, read again if 2 s old (the head poll
        keeps them fresh; a request reads them itself only if the poll is behind)."""
        now = time.monotonic()
        if force or self._balance is None or now - self._balance[0] > 2.0:
            balance, number, stamp = await asyncio.to_thread(self._read_chain)
            now = time.monotonic()
            self._balance, self._clock, self._head = (now, balance), (now, stamp), (now, number)

    async def relayer_balance(self) -> int:
        await self._refresh()
        assert self._balance is not None
        return self._balance[1]

    async def chain_now(self) -> float:
        """The time the token will check validAfter and validBefore against: the latest block's
        timestamp run on by the local clock, but never behind the wall clock. An idle dev chain
        mines no block for minutes and its last timestamp lags: a block mined now carries the
        wall clock (a warped test chain runs ahead, and is taken as it is)."""
        await self._refresh()
        fetched, stamp = self._clock
        return max(stamp + (time.monotonic() - fetched), time.time())

    async def check_balance(self) -> None:
        balance = await self.relayer_balance()
        low = balance < self.config.min_balance
        if low and not self._low:
            log.warning("relayer %s runs low: %s BNB, below the minimum of %s BNB: new transfers are refused until it is funded",
                        self.relayer, Web3.from_wei(balance, "ether"), Web3.from_wei(self.config.min_balance, "ether"))
        elif self._low and not low:
            log.info("relayer %s funded again (%s BNB): transfers accepted", self.relayer, Web3.from_wei(balance, "ether"))
        self._low = low
        if low:
            raise Refusal("relayer_low_balance", "the relayer's BNB balance is too low to pay for gas; try again later")

    def _parse(self, body: Any) -> tuple[TokenInfo, Authorization, Authorization | None]:
        """The request validated with its model (api.TransferRequest), then the relayer's own
        rules (chain, token, fee, receive only to the relayer)."""
        try:
            request = api.parse_request(body)
        except api.Malformed as exc:
            raise Refusal("malformed", str(exc)) from None
        if request.chain_id is not None and request.chain_id != self.chain_id:
            raise Refusal("wrong_chain", f"this relayer serves chain {self.chain_id}")
        token = request.token
        if token not in self.tokens:
            raise Refusal("unknown_token", f"this relayer relays {', '.join(sorted(self.tokens))}; not {token}")
        fields = request.model_dump(by_alias=True, exclude_none=True)
        auth = checks.parse(fields, token)
        fee = None
        if request.fee is not None and token not in self.config.fee:
            raise Refusal("malformed", "this relayer takes no fee: leave out 'fee'")
        if token in self.config.fee:
            if request.fee is None:
                raise Refusal("fee_required", f"this relayer takes a fee of {self.config.fee[token]} token units: add a "
                                              f"'fee' receive authorization to {self.relayer}")
            fee = checks.parse({**fields["fee"], "from": request.sender, "to": self.relayer}, token, kind="receive")
            if fee.value < self.config.fee[token]:
                raise Refusal("fee_required", f"the fee must be at least {self.config.fee[token]} token units")
            if fee.nonce == auth.nonce:
                raise Refusal("malformed", "the fee authorization needs its own nonce")
        if auth.kind == "redeem" and (self.queue is None or auth.recipient != self.queue or self.tokens[token].key != "kgst"):
            raise Refusal("malformed", f"a redemption is a KGST receive authorization to the redemption queue "
                                       f"{self.queue or '(none deployed)'}, with the payout reference as its nonce")
        if auth.kind == "receive" and auth.recipient != self.relayer:
            raise Refusal("not_relayer_recipient", f"a receive authorization can only be submitted by its recipient: "
                                                   f"here the relayer {self.relayer}")
        return self.tokens[token], auth, fee

    async def _signature(self, token: TokenInfo, auth: Authorization) -> None:
        if checks.recover(token.domain, auth) != auth.sender:
            await asyncio.to_thread(self._contract_signature, token, auth)

    def client_of(self, request: web.Request) -> str:
        """Whom the per-client budget is kept for: an API key the operator issued (header
        X-API-Key), else the peer's IP address (never a header a client can choose)."""
        key = request.headers.get("X-API-Key")
        if key is not None:
            if key_digest(key) not in self.config.api_keys:
                raise Refusal("unauthorized_api_key", "this API key is not one the operator issued; leave out X-API-Key to "
                                                      "be served as your IP address")
            return "key:" + key_digest(key)
        peer = request.transport.get_extra_info("peername") if request.transport else None
        return "ip:" + (str(peer[0]) if peer else "?")

    async def _store(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """A store call, in a worker thread when the store says so (both do: PostgreSQL's round
        trips and SQLite's fsync at each commit would block the event loop)."""
        if getattr(self.store, "threaded", False):
            return await asyncio.to_thread(method, *args, **kwargs)
        return method(*args, **kwargs)

    async def _known(self, auth: Authorization) -> Transfer | None:
        """The stored record of this very authorization (same id and same signed content), or
        None: a retry is answered from it without spending any budget or asking the chain."""
        known = await self._store(self.store.get, auth.id)
        if known is None:
            return None
        same = (known.signature == "0x" + auth.signature.hex() and known.recipient == auth.recipient
                and known.value == auth.value and known.valid_after == auth.valid_after
                and known.valid_before == auth.valid_before and known.kind == auth.kind)
        return known if same else None

    async def accept(self, body: Any) -> tuple[int, dict[str, Any]]:
        token, auth, fee = self._parse(body)  # shape and types: no budget spent on junk
        known = await self._known(auth)
        if known is not None:  # an identical retry: answered from the store, nothing spent
            self.metrics.known.inc()
            return 200, known.public()
        await self._signature(token, auth)  # before any shared budget: nobody spends another sender's
        now_monotonic = time.monotonic()
        if not self._senders.take(auth.sender, now_monotonic):
            raise Refusal("rate_limited", f"too many requests from {auth.sender}; slow down")
        if not self._global.take(now_monotonic):
            raise Refusal("rate_limited", "the relayer is busy; try again shortly")
        await self.check_balance()
        now = await self.chain_now()
        checks.check_window(auth, self.config.margin, now)
        if fee is not None:
            await self._signature(token, fee)
            checks.check_window(fee, self.config.margin, now)
        read_at = time.time()  # what is confirmed from here on may be missing from the balance read next
        try:
            balance, gas = await asyncio.to_thread(self._on_chain, auth)
        except Refusal:
            known = await self._store(self.store.get, auth.id)
            if known is not None:  # a twin request was accepted (and perhaps mined) meanwhile
                return 200, known.public()
            raise
        records = [auth.record(gas)]
        if fee is not None:
            _, fee_gas = await asyncio.to_thread(self._on_chain, fee)
            records.append(fee.record(fee_gas, fee_for=auth.id))
            if await self._store(self.store.get, fee.id) is not None:
                raise Refusal("nonce_used", f"the fee authorization nonce of {fee.sender} is already taken by another transfer")
        need = sum(r.value for r in records)
        # The store adds them in one transaction that checks, under its lock, that no id is known
        # and that the balance covers them net of what is pending (in the whole database for
        # PostgreSQL): concurrent posts, to one instance or several, cannot overdraw the sender.
        try:
            stored, new = await self._store(self.store.add, *records, budget=(balance, read_at))
        except Overdrawn as exc:
            raise Refusal("insufficient_balance", f"{auth.sender} holds {balance} token units, {exc.outflow} of them "
                                                  f"already promised to pending transfers; {need} more asked") from None
        if stored.id != auth.id:  # the fee's id was taken meanwhile
            raise Refusal("nonce_used", f"the fee authorization nonce of {auth.sender} is already taken by another transfer")
        if new:
            self.metrics.accepted.inc()
            if self._wake is not None:
                self._wake.set()
        answer = stored.public()
        if fee is not None:
            answer["feeId"] = fee.id
        return (202 if new else 200), answer

    # --- HTTP ---

    def refused(self, refusal: Refusal, headers: dict[str, str] | None = None) -> web.Response:
        self.metrics.refused.labels(refusal.reason).inc()
        return web.json_response({"error": refusal.reason, "message": str(refusal)}, status=refusal.status, headers=headers)

    async def _body(self, request: web.Request) -> Any:
        """The request's JSON body: application/json only, UTF-8 only, within max_body bytes
        and body_timeout seconds; no NaN, no duplicate keys."""
        if request.content_type != "application/json" or request.charset not in (None, "utf-8", "UTF-8"):
            raise Refusal("unsupported_media_type", "the body must be JSON: Content-Type: application/json (UTF-8)")
        if request.content_length is not None and request.content_length > self.config.max_body:
            raise Refusal("too_large", f"the body may have at most {self.config.max_body} bytes")
        try:
            raw = await asyncio.wait_for(request.read(), self.config.body_timeout)
        except web.HTTPRequestEntityTooLarge:
            raise Refusal("too_large", f"the body may have at most {self.config.max_body} bytes") from None
        except asyncio.TimeoutError:
            raise Refusal("request_timeout", f"the body did not arrive within {self.config.body_timeout:g} s") from None
        try:
            return json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise Refusal("malformed", "the body is not UTF-8 JSON (one object, no duplicate keys, no NaN)") from None

    async def post_transfer(self, request: web.Request, kind: str | None = None) -> web.Response:
        started = time.monotonic()
        status = 500
        try:
            if not self._clients.take(self.client_of(request), started):  # before anything else: junk spends its own
                raise Refusal("rate_limited", "too many requests from this client; slow down")
            body = await self._body(request)
            if kind is not None and (not isinstance(body, dict) or body.setdefault("kind", kind) != kind):
                raise Refusal("malformed", f"this route takes kind '{kind}' (or none)")
            status, answer = await self.accept(body)
            return web.json_response(answer, status=status)
        except Refusal as refusal:
            status = refusal.status
            headers = {"Connection": "close"} if refusal.reason == "request_timeout" else None
            return self.refused(refusal, headers)
        except Exception as exc:
            if is_transport_error(exc) or isinstance(exc, RpcUnavailableError):
                status = 503
                return self.refused(Refusal("chain_unavailable", "the chain does not answer; try again later"))
            raise
        finally:
            self.metrics.accept_latency.labels(str(status)).observe(time.monotonic() - started)

    async def post_redemption(self, request: web.Request) -> web.Response:
        """POST /v1/redemptions: a request of kind "redeem" (KGST to the redemption queue)."""
        return await self.post_transfer(request, kind="redeem")

    async def get_transfer(self, request: web.Request) -> web.Response:
        transfer_id = request.match_info["id"].lower()
        known = await self._store(self.store.get, transfer_id) if len(transfer_id) == 66 else None
        if known is None:
            return web.json_response({"error": "not_found", "message": f"no transfer {transfer_id[:80]}"}, status=404)
        return web.json_response(known.public())

    async def get_config(self, request: web.Request) -> web.Response:
        try:
            now = int(await self.chain_now())
        except Exception as exc:
            if is_transport_error(exc) or isinstance(exc, RpcUnavailableError):
                return self.refused(Refusal("chain_unavailable", "the chain does not answer; try again later"))
            raise
        return web.json_response({
            "chainId": self.chain_id,
            "chainTime": now,
            "relayer": self.relayer,
            "tokens": {t.key: {"address": a, "decimals": t.decimals, "fee": str(self.config.fee.get(a, 0)),
                               "domain": t.domain.as_dict()} for a, t in self.tokens.items()},
            "minValiditySeconds": self.config.margin,
            "redemptionQueue": self.queue,
        })

    def chain_seen(self) -> float | None:
        """Seconds since the chain last answered (a head poll or a submitter round)."""
        return time.monotonic() - self._head[0] if self._head else None

    def _submitter_state(self) -> str:
        if not self.submitter.healthy:
            return "failing"
        return "node_refuses_sends" if self.submitter.refusals else "ok"

    def _chain_ok(self) -> bool:
        seen = self.chain_seen()
        return seen is not None and seen <= HEALTHY_WITHIN and not (self._chain_failed and not self.submitter.healthy)

    async def healthz(self, request: web.Request) -> web.Response:
        seen = self.chain_seen()
        chain_ok = self._chain_ok()
        submitter = self._submitter_state()
        status = "ok" if chain_ok and submitter != "failing" else ("chain_unavailable" if not chain_ok else "submitter_failing")
        pending = await self._store(self.store.counts)
        return web.json_response({
            "status": status, "chainId": self.chain_id, "relayer": self.relayer,
            "chain": {"head": self._head[1] if self._head else None, "headTime": self._clock[1] if self._head else None,
                      "seenSecondsAgo": round(seen, 3) if seen is not None else None},
            "submitter": submitter, "accepted": pending.get(ACCEPTED, 0), "submitted": pending.get(SUBMITTED, 0),
            "relayerLow": self._low,
        }, status=200 if status == "ok" else 503)

    async def readyz(self, request: web.Request) -> web.Response:
        if not self._chain_ok():
            reason: str | None = "chain_unavailable"
        elif not self.submitter.healthy:
            reason = "submitter_failing"
        elif self._balance is not None and self._balance[1] < self.config.min_balance:
            reason = "relayer_low_balance"
        else:
            reason = None
        return web.json_response({"ready": reason is None, "reason": reason}, status=200 if reason is None else 503)

    async def metrics_page(self, request: web.Request) -> web.Response:
        return web.Response(body=await self._store(self.metrics.text), headers={"Content-Type": CONTENT_TYPE_PLAIN_0_0_4})

    async def openapi(self, request: web.Request) -> web.Response:
        global _DOCUMENT
        if _DOCUMENT is None:
            _DOCUMENT = json.dumps(openapi_document()).encode()
        return web.Response(body=_DOCUMENT, content_type="application/json")

    def app(self, guard: "ConnectionGuard | None" = None) -> web.Application:
        @web.middleware
        async def no_5xx(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
            if guard is not None:
                guard.busy(request)
            try:
                return await handler(request)
            except web.HTTPException as exc:
                if exc.status == 413:
                    return self.refused(Refusal("too_large", f"the body may have at most {self.config.max_body} bytes"))
                if exc.status == 405:
                    allow = ", ".join(sorted(getattr(exc, "allowed_methods", ()) or ()))
                    return web.json_response({"error": "method_not_allowed", "message": f"{request.method} is not allowed "
                                              f"here; allowed: {allow}"}, status=405, headers={"Allow": allow})
                if exc.status == 404:
                    return web.json_response({"error": "not_found", "message": "no such path"}, status=404)
                log.warning("unexpected HTTP %d for %s %s", exc.status, request.method, request.path[:200])
                return web.json_response({"error": "internal", "message": str(exc.reason)[:200]}, status=exc.status)
            except Exception:
                log.exception("unexpected error while serving %s %s", request.method, request.path[:200])
                return web.json_response({"error": "internal", "message": "unexpected error; see the relayer's log"}, status=500)
            finally:
                if guard is not None:
                    guard.idle(request)

        app = web.Application(client_max_size=self.config.max_body, middlewares=[no_5xx])
        app.router.add_post("/v1/transfers", self.post_transfer)
        app.router.add_post("/v1/redemptions", self.post_redemption)
        app.router.add_get("/v1/transfers/{id}", self.get_transfer, allow_head=False)
        app.router.add_get("/v1/config", self.get_config, allow_head=False)
        app.router.add_get("/healthz", self.healthz, allow_head=False)
        app.router.add_get("/readyz", self.readyz, allow_head=False)
        app.router.add_get("/metrics", self.metrics_page, allow_head=False)
        app.router.add_get("/openapi.json", self.openapi, allow_head=False)
        return app

    async def serve(self, host: str, port: int, started: Callable[[int], None] | None = None,
                    stop: asyncio.Event | None = None) -> None:
        """Serves until ``stop`` is set (or forever); the submitter and the head poll run alongside."""
        guard = ConnectionGuard(self.config, self.metrics)
        runner = web.AppRunner(self.app(guard), access_log=None, keepalive_timeout=self.config.header_timeout)
        await runner.setup()
        assert runner.server is not None
        guard.attach(runner.server)
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound = runner.addresses[0][1] if runner.addresses else port
        tasks = [asyncio.create_task(self.run_submitter()), asyncio.create_task(self.poll_head()),
                 asyncio.create_task(guard.watch())]
        log.info("relayer %s serving chain %d on http://%s:%d (%d pending)", self.relayer, self.chain_id, host, bound,
                 sum(self.store.counts().get(s, 0) for s in (ACCEPTED, SUBMITTED)))
        if started:
            started(bound)
        try:
            await (stop.wait() if stop is not None else asyncio.Event().wait())
        finally:
            for task in tasks:
                task.cancel()
            await runner.cleanup()


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise ValueError("duplicate key")
    return out


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


class ConnectionGuard:
    """Cuts slow clients and caps each client's connections (aiohttp has no header read
    timeout of its own). Hooks the low-level server's connection_made/connection_lost: a
    connection beyond ``max_connections`` from one IP is closed at once; a connection that has
    no request in progress (its headers not yet in) for ``header_timeout`` seconds, since it
    was opened or since its last answer, is closed by :meth:`watch`."""

    def __init__(self, config: RelayConfig, metrics: Metrics):
        self.config = config
        self.metrics = metrics
        self.per_ip: dict[str, int] = {}
        self.ip_of: dict[Any, str] = {}  # protocol -> its peer's IP address (RequestHandler has __slots__)
        self.idle_since: dict[Any, float] = {}  # protocol -> monotonic time it became idle
        self.requests: dict[Any, int] = {}  # protocol -> requests in progress

    def attach(self, server: web.Server) -> None:
        made, lost = server.connection_made, server.connection_lost

        def connection_made(handler: Any, transport: Any) -> None:
            made(handler, transport)
            peer = transport.get_extra_info("peername")
            ip = str(peer[0]) if peer else "?"
            self.ip_of[handler] = ip
            self.per_ip[ip] = self.per_ip.get(ip, 0) + 1
            self.idle_since[handler] = time.monotonic()
            if self.per_ip[ip] > self.config.max_connections:
                self.metrics.cut.labels("too_many_connections").inc()
                transport.abort()

        def connection_lost(handler: Any, exc: BaseException | None = None) -> None:
            ip = self.ip_of.pop(handler, None)
            if ip is not None:
                self.per_ip[ip] -= 1
                if not self.per_ip[ip]:
                    del self.per_ip[ip]
            self.idle_since.pop(handler, None)
            self.requests.pop(handler, None)
            lost(handler, exc)

        server.connection_made = connection_made  # type: ignore[method-assign]
        server.connection_lost = connection_lost  # type: ignore[method-assign]

    def busy(self, request: web.Request) -> None:
        self.requests[request.protocol] = self.requests.get(request.protocol, 0) + 1

    def idle(self, request: web.Request) -> None:
        protocol = request.protocol
        if protocol in self.requests:
            self.requests[protocol] -= 1
            if protocol in self.idle_since:
                self.idle_since[protocol] = time.monotonic()

    async def watch(self) -> None:
        period = min(1.0, self.config.header_timeout / 4)
        while True:
            await asyncio.sleep(period)
            now = time.monotonic()
            for handler, since in list(self.idle_since.items()):
                if not self.requests.get(handler) and now - since > self.config.header_timeout:
                    self.metrics.cut.labels("slow_headers").inc()
                    self.idle_since[handler] = now  # counted once
                    transport = getattr(handler, "transport", None)
                    if transport is not None:
                        transport.abort()


class Background:
    """A relayer served from a thread of its own (tests, the demo): ``url`` once started."""

    def __init__(self, relay: Relay, host: str = "127.0.0.1", port: int = 0):
        self.relay = relay
        self.url = ""
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, args=(host, port), daemon=True)

    def _run(self, host: str, port: int) -> None:
        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()

            def started(bound: int) -> None:
                self.url = f"http://{host}:{bound}"
                self._ready.set()

            await self.relay.serve(host, port, started, self._stop)

        asyncio.run(main())

    def __enter__(self) -> "Background":
        self._thread.start()
        if not self._ready.wait(30):
            raise RuntimeError("the relayer did not start")
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)


# --- From a session (the CLI, the demo) ---

TOKEN_CONTRACTS = {"Stablecoin": "kgst", "DigitalCurrency": "som"}  # manifest name -> --token value


def tokens_of(w3: Web3, manifest: Any, artifacts: Any) -> list[TokenInfo]:
    """The deployment's tokens the relayer serves (those the manifest records), with their
    EIP-712 domains as the contracts report them (ERC-5267)."""
    from somstack.core.session import deployed_address
    from somstack.core.signatures import Domain

    found = []
    for name, key in TOKEN_CONTRACTS.items():
        if name not in manifest.contracts:
            continue
        contract = artifacts.get(name).contract(w3, deployed_address(w3, manifest, name))
        found.append(TokenInfo(key, contract, Domain.of(contract), int(contract.functions.decimals().call())))
    return found


def default_db(root: Any, chain_id: int) -> Any:
    """build/relay/<chain id>.sqlite under the project root."""
    return root / "build" / "relay" / f"{chain_id}.sqlite"
