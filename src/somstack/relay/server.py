"""The relayer's HTTP service (`somstack relay serve`), on aiohttp's web server.

Why aiohttp: it is already installed (web3 depends on it, pinned in constraints.txt), so the
relayer adds no dependency; it is maintained and asyncio-native, so the HTTP handlers, the
rate limits and the submitter task share one event loop (the synchronous web3 calls run in
worker threads, as chain.py's Sender is synchronous).

API (openapi.json in this package, served at ``GET /openapi.json``; README "Relayer"):

- ``POST /v1/transfers``: a signed EIP-3009 authorization; answers at once (202, or 200 for
  one already known) with its id and status, or a 4xx/503 with ``{"error": reason, "message"}``.
- ``GET /v1/transfers/{id}``: its status (accepted, submitted, confirmed, failed) and hash.
- ``GET /v1/config``: the chain, the relayer's address, the tokens and their EIP-712 domains,
  the fee (what the client needs to sign).
- ``GET /healthz``, ``GET /metrics`` (Prometheus text format).
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Awaitable, Callable

from aiohttp import web
from web3 import Web3

from ..chain import RetryPolicy, Sender, is_transport_error, rpc_web3
from ..errors import ErrorDecoder, RpcUnavailableError
from . import checks
from .checks import Authorization, Refusal, TokenInfo
from .store import ACCEPTED, SUBMITTED, Store, Transfer
from .submitter import Submitter

log = logging.getLogger("somstack.relay")

LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)  # [s]


FIELDS = {"token", "kind", "from", "to", "value", "validAfter", "validBefore", "nonce", "signature", "chainId", "fee"}


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


# --- Metrics (Prometheus text exposition format, version 0.0.4) ---


class Metrics:
    def __init__(self) -> None:
        self.accepted = 0
        self.refused: dict[str, int] = {}
        self.buckets = [0] * len(LATENCY_BUCKETS)
        self.count = 0
        self.total = 0.0

    def observe(self, seconds: float) -> None:
        for i, bound in enumerate(LATENCY_BUCKETS):
            if seconds <= bound:
                self.buckets[i] += 1
        self.count += 1
        self.total += seconds

    def text(self, submitter: Submitter, pending: dict[str, int], balance: int | None) -> str:
        s = submitter.stats
        lines = [
            "# HELP relay_accepted_total Authorizations accepted.", "# TYPE relay_accepted_total counter",
            f"relay_accepted_total {self.accepted}",
            "# HELP relay_refused_total Requests refused, by reason.", "# TYPE relay_refused_total counter",
            *(f'relay_refused_total{{reason="{r}"}} {n}' for r, n in sorted(self.refused.items())),
            "# HELP relay_submitted_total Transactions sent (first sends).", "# TYPE relay_submitted_total counter",
            f"relay_submitted_total {s.submitted}",
            "# HELP relay_replaced_total Transactions replaced with a higher fee.", "# TYPE relay_replaced_total counter",
            f"relay_replaced_total {s.replaced}",
            "# HELP relay_confirmed_total Authorizations mined successfully.", "# TYPE relay_confirmed_total counter",
            f"relay_confirmed_total {s.confirmed}",
            "# HELP relay_failed_total Authorizations that failed after acceptance.", "# TYPE relay_failed_total counter",
            f"relay_failed_total {s.failed}",
            "# HELP relay_pending Authorizations not yet mined, by status.", "# TYPE relay_pending gauge",
            f'relay_pending{{status="accepted"}} {pending.get(ACCEPTED, 0)}',
            f'relay_pending{{status="submitted"}} {pending.get(SUBMITTED, 0)}',
            "# HELP relay_confirmation_seconds From acceptance to confirmation.", "# TYPE relay_confirmation_seconds histogram",
            *(f'relay_confirmation_seconds_bucket{{le="{b}"}} {n}' for b, n in zip(LATENCY_BUCKETS, self.buckets)),
            f'relay_confirmation_seconds_bucket{{le="+Inf"}} {self.count}',
            f"relay_confirmation_seconds_sum {self.total:.6f}",
            f"relay_confirmation_seconds_count {self.count}",
        ]
        if balance is not None:
            lines += ["# HELP relay_relayer_balance_wei BNB balance of the relayer key.", "# TYPE relay_relayer_balance_wei gauge",
                      f"relay_relayer_balance_wei {balance}"]
        return "\n".join(lines) + "\n"


# --- The service ---


def openapi_document() -> dict[str, Any]:
    return json.loads(resources.files("somstack.relay").joinpath("openapi.json").read_text())


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
        self.metrics = Metrics()
        self.submitter = Submitter(sender, store, self.tokens, replace_after=config.replace_after, on_event=self._on_event)
        self.relayer = sender.signer.address
        self.queue: str | None = None  # KGST's redemption queue, when the deployment has one (kind "redeem")
        self._senders = SenderLimits(config.sender_rate, config.sender_burst)
        self._global = TokenBucket(config.global_rate, config.global_burst)
        self._wake: asyncio.Event | None = None
        self._balance: tuple[float, int] | None = None
        self._clock: tuple[float, int] = (0.0, 0)
        self._low = False
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

    def _read_chain(self) -> tuple[int, int]:
        """The relayer's balance [wei] and the latest block's timestamp, in one batch."""
        w3 = self._handles()[0]
        with w3.batch_requests() as batch:
            batch.add(w3.eth.get_balance(self.relayer))  # type: ignore[arg-type]
            batch.add(w3.eth.get_block("latest"))
            balance, block = batch.execute()
        return int(balance), int(block["timestamp"])

    def _on_event(self, what: str, transfer: Transfer) -> None:
        if what == "confirmed":
            self.metrics.observe(time.time() - transfer.accepted_at)

    # --- The submitter task ---

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
                if not (is_transport_error(exc) or isinstance(exc, RpcUnavailableError)):
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

    # --- Accepting ---

    async def _refresh(self) -> None:
        """The relayer's balance and the chain's clock, read again every 2 s at most."""
        now = time.monotonic()
        if self._balance is None or now - self._balance[0] > 2.0:
            balance, stamp = await asyncio.to_thread(self._read_chain)
            self._balance, self._clock = (now, balance), (now, stamp)

    async def relayer_balance(self) -> int:
        await self._refresh()
        assert self._balance is not None
        return self._balance[1]

    async def chain_now(self) -> float:
        """The chain's time (the latest block's timestamp, run on by the local clock): what the
        token checks validAfter and validBefore against, which on a test chain may be far from
        the wall clock."""
        await self._refresh()
        fetched, stamp = self._clock
        return stamp + (time.monotonic() - fetched)

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
        if not isinstance(body, dict):
            raise Refusal("malformed", "the body must be a JSON object")
        unknown = sorted(set(body) - FIELDS)
        if unknown:
            raise Refusal("malformed", f"unknown field(s): {', '.join(unknown)[:200]}")
        if "chainId" in body:
            chain_id = body["chainId"]
            if isinstance(chain_id, bool) or not isinstance(chain_id, (int, str)) or str(chain_id) != str(self.chain_id):
                raise Refusal("wrong_chain", f"this relayer serves chain {self.chain_id}")
        token = checks._address(body, "token")
        if token not in self.tokens:
            raise Refusal("unknown_token", f"this relayer relays {', '.join(sorted(self.tokens))}; not {token}")
        auth = checks.parse(body, token)
        fee = None
        if "fee" in body and token not in self.config.fee:
            raise Refusal("malformed", "this relayer takes no fee: leave out 'fee'")
        if token in self.config.fee:
            raw = body.get("fee")
            if raw is None:
                raise Refusal("fee_required", f"this relayer takes a fee of {self.config.fee[token]} token units: add a "
                                              f"'fee' receive authorization to {self.relayer}")
            if not isinstance(raw, dict):
                raise Refusal("malformed", "fee must be a JSON object")
            fee = checks.parse({**raw, "from": body.get("from"), "to": self.relayer}, token, kind="receive")
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

    def _limit(self, sender: str) -> None:
        if not self._senders.take(sender, time.monotonic()):
            raise Refusal("rate_limited", f"too many requests from {sender}; slow down")

    async def _signature(self, token: TokenInfo, auth: Authorization) -> None:
        if checks.recover(token.domain, auth) != auth.sender:
            await asyncio.to_thread(self._contract_signature, token, auth)

    async def accept(self, body: Any) -> tuple[int, dict[str, Any]]:
        if not self._global.take(time.monotonic()):
            raise Refusal("rate_limited", "the relayer is busy; try again shortly")
        token, auth, fee = self._parse(body)
        await self._signature(token, auth)
        self._limit(auth.sender)  # after the signature: nobody can spend another sender's allowance
        known = self.store.get(auth.id)
        if known is not None:
            return 200, known.public()
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
            known = self.store.get(auth.id)
            if known is not None:  # a twin request was accepted (and perhaps mined) meanwhile
                return 200, known.public()
            raise
        records = [auth.record(gas)]
        if fee is not None:
            _, fee_gas = await asyncio.to_thread(self._on_chain, fee)
            records.append(fee.record(fee_gas, fee_for=auth.id))
        # No await from here to the insert: on the one event loop this section is atomic, so what is
        # pending counts against the balance and concurrent posts cannot overdraw the sender.
        known = self.store.get(auth.id)
        if known is not None:
            return 200, known.public()
        if fee is not None and self.store.get(fee.id) is not None:
            raise Refusal("nonce_used", f"the fee authorization nonce of {fee.sender} is already taken by another transfer")
        outflow = self.store.pending_outflow(token.contract.address, auth.sender, since=read_at)
        need = sum(r.value for r in records)
        if balance - outflow < need:
            raise Refusal("insufficient_balance", f"{auth.sender} holds {balance} token units, {outflow} of them "
                                                  f"already promised to pending transfers; {need} more asked")
        stored, new = self.store.add(*records)
        if stored.id != auth.id:  # not reached while this section has no await (checked above)
            raise Refusal("nonce_used", f"the fee authorization nonce of {auth.sender} is already taken by another transfer")
        if new:
            self.metrics.accepted += 1
            if self._wake is not None:
                self._wake.set()
        answer = stored.public()
        if fee is not None:
            answer["feeId"] = fee.id
        return (202 if new else 200), answer

    # --- HTTP ---

    def refused(self, refusal: Refusal) -> web.Response:
        self.metrics.refused[refusal.reason] = self.metrics.refused.get(refusal.reason, 0) + 1
        return web.json_response({"error": refusal.reason, "message": str(refusal)}, status=refusal.status)

    async def post_transfer(self, request: web.Request, kind: str | None = None) -> web.Response:
        try:
            if request.content_length is not None and request.content_length > self.config.max_body:
                raise Refusal("too_large", f"the body may have at most {self.config.max_body} bytes")
            try:
                raw = await request.read()
            except web.HTTPRequestEntityTooLarge:
                raise Refusal("too_large", f"the body may have at most {self.config.max_body} bytes") from None
            try:
                body = json.loads(raw)
            except (ValueError, UnicodeDecodeError, RecursionError):
                raise Refusal("malformed", "the body is not JSON") from None
            if kind is not None and (not isinstance(body, dict) or body.setdefault("kind", kind) != kind):
                raise Refusal("malformed", f"this route takes kind '{kind}' (or none)")
            status, answer = await self.accept(body)
            return web.json_response(answer, status=status)
        except Refusal as refusal:
            return self.refused(refusal)
        except Exception as exc:
            if is_transport_error(exc) or isinstance(exc, RpcUnavailableError):
                return self.refused(Refusal("chain_unavailable", "the chain does not answer; try again later"))
            raise

    async def post_redemption(self, request: web.Request) -> web.Response:
        """POST /v1/redemptions: a request of kind "redeem" (KGST to the redemption queue)."""
        return await self.post_transfer(request, kind="redeem")

    async def get_transfer(self, request: web.Request) -> web.Response:
        transfer_id = request.match_info["id"].lower()
        known = self.store.get(transfer_id) if len(transfer_id) == 66 else None
        if known is None:
            return web.json_response({"error": "not_found", "message": f"no transfer {transfer_id}"}, status=404)
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

    async def healthz(self, request: web.Request) -> web.Response:
        healthy = self.submitter.healthy
        pending = self.store.counts()
        return web.json_response({"status": "ok" if healthy else "chain_unavailable", "chainId": self.chain_id,
                                  "relayer": self.relayer, "accepted": pending.get(ACCEPTED, 0),
                                  "submitted": pending.get(SUBMITTED, 0), "relayerLow": self._low},
                                 status=200 if healthy else 503)

    async def metrics_page(self, request: web.Request) -> web.Response:
        balance = self._balance[1] if self._balance else None
        text = self.metrics.text(self.submitter, self.store.counts(), balance)
        return web.Response(text=text, content_type="text/plain", charset="utf-8",
                            headers={"X-Prometheus-Format": "0.0.4"})

    async def openapi(self, request: web.Request) -> web.Response:
        return web.json_response(openapi_document())

    def app(self) -> web.Application:
        @web.middleware
        async def no_5xx(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
            try:
                return await handler(request)
            except web.HTTPException as exc:
                if exc.status == 413:
                    return self.refused(Refusal("too_large", f"the body may have at most {self.config.max_body} bytes"))
                return web.json_response({"error": "not_found" if exc.status == 404 else "http_error", "message": exc.reason},
                                         status=exc.status)
            except Exception:
                log.exception("unexpected error while serving %s %s", request.method, request.path)
                return web.json_response({"error": "internal", "message": "unexpected error; see the relayer's log"}, status=500)

        app = web.Application(client_max_size=self.config.max_body, middlewares=[no_5xx])
        app.router.add_post("/v1/transfers", self.post_transfer)
        app.router.add_post("/v1/redemptions", self.post_redemption)
        app.router.add_get("/v1/transfers/{id}", self.get_transfer)
        app.router.add_get("/v1/config", self.get_config)
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get("/metrics", self.metrics_page)
        app.router.add_get("/openapi.json", self.openapi)
        return app

    async def serve(self, host: str, port: int, started: Callable[[int], None] | None = None,
                    stop: asyncio.Event | None = None) -> None:
        """Serves until ``stop`` is set (or forever); the submitter runs alongside."""
        runner = web.AppRunner(self.app(), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound = runner.addresses[0][1] if runner.addresses else port
        task = asyncio.create_task(self.run_submitter())
        log.info("relayer %s serving chain %d on http://%s:%d (%d pending)", self.relayer, self.chain_id, host, bound,
                 sum(self.store.counts().get(s, 0) for s in (ACCEPTED, SUBMITTED)))
        if started:
            started(bound)
        try:
            await (stop.wait() if stop is not None else asyncio.Event().wait())
        finally:
            task.cancel()
            await runner.cleanup()


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
    from ..ops import deployed_address
    from ..signatures import Domain

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
