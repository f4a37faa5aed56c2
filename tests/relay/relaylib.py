"""Helpers of the relayer tests: a relayer served in-process, signed request bodies, polling."""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import replace

import requests

from somstack.core.chain import LocalSigner, NodeSigner, Sender
from somstack.relay.client import authorization
from somstack.relay.server import Background, Relay, RelayConfig, tokens_of
from somstack.relay.store import Store

UNIT = 10**18
# dev accounts (brownie-config.yaml dev_holders)
MINTER, PAUSER, COMPLIANCE, HOLDER = 1, 4, 6, 11
# generous limits: the tests that are not about limits must never meet them
OPEN = RelayConfig(sender_rate=1000, sender_burst=1000, global_rate=100_000, global_burst=100_000, client_rate=100_000,
                   client_burst=100_000)


@contextmanager
def served(chain, key, db, config=OPEN):
    """A relayer with `key` and the SQLite file `db`, served in-process; yields (url, relay)."""
    sender = Sender(chain.w3, LocalSigner(key) if key is not None else NodeSigner(chain.accounts[0]), chain.decoder)
    relay = Relay(sender, tokens_of(chain.w3, chain.manifest, chain.artifacts), Store(db), chain.decoder, config)
    try:
        with Background(relay) as bg:
            yield bg.url, relay
    finally:
        relay.store.close()


def body_of(chain, account, to, value, **overrides):
    """A signed KGST transfer authorization from `account` as the API takes it."""
    body = authorization(account, chain.domain, chain.kgst.address, to, value, 3600)
    body.update(overrides)
    return body


def post(url, body, **kwargs):
    """POST /v1/transfers; every answer is checked against the model the OpenAPI document declares."""
    reply = requests.post(url + "/v1/transfers", json=body, timeout=30, **kwargs)
    from somstack.relay import api

    api.declared("post", "/v1/transfers", reply.status_code).model_validate(reply.json())
    return reply


def wait_status(url, transfer_id, statuses=("confirmed", "failed"), timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        answer = requests.get(f"{url}/v1/transfers/{transfer_id}", timeout=10).json()
        if answer["status"] in statuses or time.monotonic() > deadline:
            return answer
        time.sleep(0.1)


def open_config(**changes):
    return replace(OPEN, **changes)


@contextmanager
def spawned(chain, key, db, *options, log_to=None):
    """`somstack relay serve` as a process of its own, on `chain` as network `local`, the relayer
    key in RELAYER_KEY; yields (url, process). Stopped with SIGTERM on exit unless the test
    killed it."""
    import os
    import subprocess
    import sys

    from somstack.core.chain import free_port

    port = free_port()
    env = {**os.environ, **chain.env, "RELAYER_KEY": key.key.hex()}
    cmd = [sys.executable, "-m", "somstack.cli", "relay", "serve", "--network", "local", "--key-env", "RELAYER_KEY",
           "--port", str(port), "--db", str(db), *options]
    log = open(log_to or str(db) + f".{port}.log", "wb")  # log_to: where db is a URL
    process = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, open(log.name).read()
            try:
                if requests.get(url + "/healthz", timeout=2).status_code == 200:
                    break
            except requests.exceptions.ConnectionError:
                pass
            assert time.monotonic() < deadline, "the relayer did not start"
            time.sleep(0.2)
        yield url, process
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(10)
        log.close()


def sign_many(chain, senders, recipients, per_sender, value_of):
    """per_sender signed KGST authorizations from each sender, to recipients in turn; the
    bodies and the expected balance changes {address: delta}."""
    bodies, delta = [], {}
    for i in range(per_sender):
        for j, account in enumerate(senders):
            to = recipients[(i * len(senders) + j) % len(recipients)]
            value = value_of(i, j)
            bodies.append(body_of(chain, account, to, value))
            delta[account.address] = delta.get(account.address, 0) - value
            delta[to] = delta.get(to, 0) + value
    return bodies, delta


def post_all(url, bodies, concurrency=32, retry_refused=False):
    """Posts every body concurrently (at most `concurrency` at once, aiohttp on the loopback);
    the answers in order: (status, json) or (None, error name) for a failed connection."""
    import asyncio

    import aiohttp

    async def main():
        gate = asyncio.Semaphore(concurrency)
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as session:

            async def one(body):
                async with gate:
                    try:
                        async with session.post(url + "/v1/transfers", json=body) as reply:
                            return reply.status, await reply.json()
                    except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                        return None, type(exc).__name__

            return await asyncio.gather(*(one(b) for b in bodies))

    return asyncio.run(main())


def fund_many(chain, addresses, amount):
    """`amount` KGST units to each address from the holder, sent at once, then waited for."""
    holder = chain.accounts[HOLDER]
    hashes = [chain.kgst.functions.transfer(a, amount).transact({"from": holder}) for a in addresses]
    for h in hashes:
        assert chain.w3.eth.wait_for_transaction_receipt(h)["status"] == 1


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]
