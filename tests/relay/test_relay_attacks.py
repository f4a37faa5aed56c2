"""The relayer under attack (issue 17): each finding performed against the real server, and
now refused or right.

1. unicode digits ("²", "٣", fullwidth) in any uint field: 400 malformed, never a 500, never
   read as a number even when the signature matches;
2. a flood of junk does not starve honest signed requests (per-client budget first, validation
   and signature before the shared budget, identical retries answered from the store);
3. /healthz reflects the chain within 5 s (a head poll), /readyz for load balancers;
4. slow clients are cut (header and body read timeouts) and a client's connections capped;
6. a relayer started while the chain is down waits for it; an idle chain's old clock does not
   let a nearly expired authorization pass --min-validity.
(5, the document and the server agreeing, is test_relay_contract.py.)
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from urllib.parse import urlparse

import aiohttp
import pytest
import requests
from eth_account import Account
from relaylib import UNIT, body_of, open_config, post, served, wait_status
from rpcproxy import RpcProxy

from somstack.core.chain import LocalSigner, RetryPolicy, Sender, free_port, rpc_web3
from somstack.core.signatures import random_nonce, sign_authorization
from somstack.relay.client import authorization
from somstack.relay.server import Background, Relay, key_digest, tokens_of
from somstack.relay.store import Store

API_KEY = "honest-wallet-provider-0001"
UNICODE_DIGITS = {"superscript two": "²", "arabic-indic three": "٣", "fullwidth twelve": "１２", "devanagari one": "१",
                  "digit then newline": "12\n", "padded": " 12", "underscored": "1_000"}


def _funded(chain, n=1, amount=100 * UNIT):
    accounts = [Account.create() for _ in range(n)]
    for a in accounts:
        chain.fund(a.address, amount)
    return accounts


def _key(chain):
    key = Account.create()
    chain.w3.provider.make_request("anvil_setBalance", [key.address, hex(100 * UNIT)])
    return key


@pytest.fixture(scope="module")
def open_relay(relay_chain, tmp_path_factory):
    with served(relay_chain, _key(relay_chain), tmp_path_factory.mktemp("attacks") / "a.sqlite") as pair:
        yield pair


# --- 1. Unicode digits ---


@pytest.mark.parametrize("field", ["value", "validAfter", "validBefore"])
@pytest.mark.parametrize("digits", sorted(UNICODE_DIGITS))
def test_unicode_digits_in_a_uint_field_are_malformed_never_500(relay_chain, open_relay, field, digits):
    url, _ = open_relay
    account = Account.create()
    body = {**body_of(relay_chain, account, Account.create().address, UNIT), field: UNICODE_DIGITS[digits]}
    reply = post(url, body)
    assert reply.status_code == 400, reply.text
    assert reply.json()["error"] == "malformed" and field in reply.json()["message"]


def test_arabic_indic_digit_is_refused_even_when_the_signature_matches_its_value(relay_chain, open_relay):
    """"٣" was read as 3: an authorization signed for 3 units posted with value "٣" was relayed."""
    url, _ = open_relay
    (account,) = _funded(relay_chain)
    to = Account.create().address
    body = body_of(relay_chain, account, to, 3)
    assert post(url, {**body, "value": "٣"}).json()["error"] == "malformed"
    assert post(url, {**body, "value": "３"}).json()["error"] == "malformed"
    assert post(url, body).status_code == 202  # the same authorization with ASCII digits is fine


def test_unicode_digits_in_the_fee_value_are_malformed(relay_chain, tmp_path):
    key = _key(relay_chain)
    fee = open_config(fee={relay_chain.kgst.address: UNIT // 10})
    (account,) = _funded(relay_chain)
    with served(relay_chain, key, tmp_path / "fee.sqlite", fee) as (url, relay):
        body = body_of(relay_chain, account, Account.create().address, UNIT)
        fee_body = authorization(account, relay_chain.domain, relay_chain.kgst.address, relay.relayer, UNIT // 10, 3600,
                                 kind="receive")
        fee_part = {k: fee_body[k] for k in ("value", "validAfter", "validBefore", "nonce", "signature")}
        for digits in ("²", "٣", "１２"):
            reply = post(url, {**body, "fee": {**fee_part, "value": digits}})
            assert reply.status_code == 400 and reply.json()["error"] == "malformed", reply.text
            assert reply.json()["message"].startswith("fee.value")


# --- 2. Starvation ---


def _flood_and_honest(url, junk, honest, api_key=None):
    """Posts the junk bodies (40 connections) and the honest ones (12 connections, with the API
    key) all at once from the loopback. Returns (junk answers, honest answers) as (status, json)."""

    async def main():
        timeout = aiohttp.ClientTimeout(total=60)
        async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=40)) as bad, \
                aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=12)) as good:

            async def one(session, body, headers):
                async with session.post(url + "/v1/transfers", json=body, headers=headers) as reply:
                    return reply.status, await reply.json()

            junk_tasks = [asyncio.ensure_future(one(bad, b, {})) for b in junk]
            await asyncio.sleep(0.05)  # the flood is on
            honest_tasks = [asyncio.ensure_future(one(good, b, {"X-API-Key": api_key} if api_key else {})) for b in honest]
            return await asyncio.gather(*junk_tasks), await asyncio.gather(*honest_tasks)

    return asyncio.run(main())


def test_a_flood_of_empty_objects_does_not_starve_honest_signed_requests(relay_chain, tmp_path):
    """Flooding {} made 10 of 12 honest requests answer 429: the shared budget was spent before
    any validation. Now the flooder's own client budget runs out; the honest clients (an API
    key the operator issued) are all accepted, and the junk spent no shared budget."""
    senders = _funded(relay_chain, 3)
    honest = [body_of(relay_chain, senders[i % 3], Account.create().address, UNIT) for i in range(12)]
    config = open_config(client_rate=1, client_burst=50, global_rate=0.01, global_burst=12,
                         api_keys=frozenset({key_digest(API_KEY)}))
    with served(relay_chain, _key(relay_chain), tmp_path / "flood.sqlite", config) as (url, relay):
        junk, good = _flood_and_honest(url, [{}] * 300, honest, API_KEY)
        assert [s for s, _ in good] == [202] * 12, good
        statuses = [s for s, _ in junk]
        assert statuses.count(400) <= 51 and statuses.count(429) >= 249  # its own budget (50 + refill) ran out
        assert {a["error"] for s, a in junk} == {"malformed", "rate_limited"}
        assert relay.metrics.refused.labels("malformed")._value.get() == statuses.count(400)


def test_junk_and_forged_signatures_spend_no_shared_budget(relay_chain, tmp_path):
    (account,) = _funded(relay_chain)
    forged = [body_of(relay_chain, Account.create(), Account.create().address, UNIT, **{"from": account.address})
              for _ in range(10)]
    with served(relay_chain, _key(relay_chain), tmp_path / "budget.sqlite",
                open_config(global_rate=0.001, global_burst=2, sender_rate=0.001, sender_burst=2)) as (url, _):
        for body in [{}] * 20 + [{"token": 1}] * 20:
            assert post(url, body).json()["error"] == "malformed"
        for body in forged:
            assert post(url, body).json()["error"] == "bad_signature"
        replies = [post(url, body_of(relay_chain, account, Account.create().address, UNIT)) for _ in range(3)]
        assert [r.status_code for r in replies] == [202, 202, 429]  # the whole budget of 2 was still there


def test_identical_retries_are_answered_from_the_store_without_spending(relay_chain, tmp_path):
    """Retries of one authorization counted against the sender's rate: a client retrying on a
    timeout locked its sender out."""
    (account,) = _funded(relay_chain)
    with served(relay_chain, _key(relay_chain), tmp_path / "retry.sqlite",
                open_config(sender_rate=0.001, sender_burst=2, global_rate=0.001, global_burst=2)) as (url, relay):
        first = body_of(relay_chain, account, Account.create().address, UNIT)
        transfer_id = post(url, first).json()["id"]
        for _ in range(10):
            again = post(url, first)
            assert again.status_code == 200 and again.json()["id"] == transfer_id
        assert post(url, body_of(relay_chain, account, Account.create().address, UNIT)).status_code == 202
        assert relay.metrics.known._value.get() >= 10
        altered = {**first, "to": Account.create().address}  # same id, another content: checked in full
        assert post(url, altered).json()["error"] in ("bad_signature", "rate_limited")


def test_an_api_key_nobody_issued_is_refused(open_relay, relay_chain):
    url, _ = open_relay
    reply = post(url, body_of(relay_chain, Account.create(), Account.create().address, UNIT),
                 headers={"X-API-Key": "made-up-key-000000000"})
    assert reply.status_code == 401 and reply.json()["error"] == "unauthorized_api_key"


# --- 3. Honest health ---


@contextmanager
def _served_through(chain, proxy, db, config):
    w3 = rpc_web3(proxy.url, RetryPolicy(attempts=1, timeout=5), "the test chain (proxied)")
    relay = Relay(Sender(w3, LocalSigner(_key(chain)), chain.decoder), tokens_of(chain.w3, chain.manifest, chain.artifacts),
                  Store(db), chain.decoder, config)
    try:
        with Background(relay) as bg:
            yield bg.url, relay
    finally:
        relay.store.close()


def _until(predicate, timeout):
    start = time.monotonic()
    while not predicate():
        assert time.monotonic() - start < timeout, "not within the time allowed"
        time.sleep(0.05)
    return time.monotonic() - start


def test_healthz_and_readyz_reflect_a_chain_gone_down_within_5_s(relay_chain, tmp_path):
    """/healthz said 200 for 20-44 s while the chain was down (nothing to submit, nothing noticed)."""
    with RpcProxy(relay_chain.node.url).start() as proxy, \
            _served_through(relay_chain, proxy, tmp_path / "health.sqlite", open_config(chain_pause=0.2)) as (url, _):
        _until(lambda: requests.get(url + "/healthz", timeout=5).status_code == 200, 10)
        assert requests.get(url + "/readyz", timeout=5).json() == {"ready": True, "reason": None}
        proxy.stop()
        took = _until(lambda: requests.get(url + "/healthz", timeout=5).status_code == 503, 7)
        assert took <= 6.5  # 5 s, a poll period and the test's own polling
        health = requests.get(url + "/healthz", timeout=5).json()
        assert health["status"] == "chain_unavailable" and health["chain"]["seenSecondsAgo"] > 5
        ready = requests.get(url + "/readyz", timeout=5)
        assert ready.status_code == 503 and ready.json()["reason"] == "chain_unavailable"
        proxy.start()
        _until(lambda: requests.get(url + "/healthz", timeout=5).status_code == 200, 5)
        assert requests.get(url + "/readyz", timeout=5).status_code == 200


def test_readyz_says_not_ready_when_the_relayer_cannot_pay(relay_chain, tmp_path):
    with served(relay_chain, Account.create(), tmp_path / "poor.sqlite") as (url, _):
        _until(lambda: requests.get(url + "/readyz", timeout=5).json()["reason"] == "relayer_low_balance", 5)
        assert requests.get(url + "/readyz", timeout=5).status_code == 503
        assert requests.get(url + "/healthz", timeout=5).status_code == 200  # alive, just not ready


# --- 4. Slow clients ---


@pytest.fixture(scope="module")
def strict_relay(relay_chain, tmp_path_factory):
    config = open_config(header_timeout=0.5, body_timeout=0.5, max_connections=4)
    with served(relay_chain, _key(relay_chain), tmp_path_factory.mktemp("slow") / "s.sqlite", config) as pair:
        yield pair


def _connect(url):
    parsed = urlparse(url)
    return socket.create_connection((parsed.hostname, parsed.port), timeout=5)


def _closed_within(sock, seconds):
    """Seconds until the server closed the connection (recv sees EOF or a reset)."""
    start = time.monotonic()
    sock.settimeout(seconds)
    try:
        while sock.recv(4096):
            pass
    except ConnectionResetError:
        pass
    return time.monotonic() - start


def test_slowloris_headers_are_cut_after_the_header_timeout(strict_relay):
    """5 slowloris connections were held for 90 s."""
    url, relay = strict_relay
    socks = [_connect(url) for _ in range(3)]
    for sock in socks:
        sock.sendall(b"POST /v1/transfers HTTP/1.1\r\nHost: relay\r\nX-Slow: ")  # and never the end of the headers
    try:
        assert max(_closed_within(s, 5) for s in socks) < 3
    finally:
        for sock in socks:
            sock.close()
    assert relay.metrics.cut.labels("slow_headers")._value.get() >= 3


def test_a_body_slower_than_the_body_timeout_is_408(strict_relay):
    url, _ = strict_relay
    with _connect(url) as sock:
        sock.sendall(b"POST /v1/transfers HTTP/1.1\r\nHost: relay\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 400\r\n\r\n{\"token\": ")
        sock.settimeout(5)
        answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 408") and b"request_timeout" in answer


def test_a_client_holds_at_most_max_connections(strict_relay):
    url, relay = strict_relay
    held = [_connect(url) for _ in range(4)]
    try:
        extra = _connect(url)
        assert _closed_within(extra, 2) < 0.4  # closed at once, before any header timeout
        extra.close()
    finally:
        for sock in held:
            sock.close()
    assert relay.metrics.cut.labels("too_many_connections")._value.get() >= 1
    _until(lambda: requests.get(url + "/healthz", timeout=5).status_code == 200, 5)  # served again once they left


# --- 6. Start while the chain is down; an idle chain's clock ---


def test_relayer_started_while_the_chain_is_down_waits_for_it(relay_chain, tmp_path):
    """It exited after ~12 s; now it waits, and serves once the chain answers."""
    key = _key(relay_chain)
    proxy = RpcProxy(relay_chain.node.url)  # not started: connections refused
    port = free_port()
    env = {**os.environ, **relay_chain.env, "SOMSTACK_RPC_LOCAL": proxy.url, "RELAYER_KEY": key.key.hex()}
    log_path = tmp_path / "wait.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "somstack.cli", "relay", "serve", "--network", "local",
                                    "--key-env", "RELAYER_KEY", "--port", str(port), "--db", str(tmp_path / "w.sqlite")],
                                   env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        _until(lambda: b"waiting for it" in log_path.read_bytes() or process.poll() is not None, 60)
        assert process.poll() is None, log_path.read_text()
        time.sleep(3)  # longer than a try: it keeps waiting (it used to exit after ~12 s of tries)
        assert process.poll() is None, log_path.read_text()
        proxy.start()

        def serving():
            try:
                return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
            except requests.exceptions.ConnectionError:
                assert process.poll() is None, log_path.read_text()
                return False

        _until(serving, 60)
    finally:
        proxy.stop()
        if process.poll() is None:
            process.terminate()
            process.wait(10)


def test_an_idle_chains_old_clock_does_not_let_a_nearly_expired_authorization_pass(relay_chain, tmp_path):
    """With the latest block 2 minutes old (an idle dev chain), an authorization with 10 s left
    passed --min-validity 30: the check took the block's time for now."""
    (account,) = _funded(relay_chain)
    with served(relay_chain, _key(relay_chain), tmp_path / "clock.sqlite", open_config(margin=30, head_poll=3600)) as (url, relay):
        _until(lambda: relay._head is not None, 10)
        now = int(time.time())
        relay._clock = (time.monotonic(), now - 120)  # what an idle chain reports
        to = Account.create().address
        nonce = random_nonce()
        sig = sign_authorization(relay_chain.domain, account.key, account.address, to, UNIT, now - 60, now + 10, nonce)
        body = {"token": relay_chain.kgst.address, "from": account.address, "to": to, "value": str(UNIT),
                "validAfter": str(now - 60), "validBefore": str(now + 10), "nonce": "0x" + nonce.hex(),
                "signature": "0x" + sig.packed.hex()}
        reply = post(url, body)
        assert reply.status_code == 422 and reply.json()["error"] == "expired", reply.text
        fine = post(url, body_of(relay_chain, account, to, UNIT))  # an hour left: accepted on the same clock
        assert fine.status_code == 202 and wait_status(url, fine.json()["id"])["status"] == "confirmed"
