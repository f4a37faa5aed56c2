"""Helpers of the relayer tests: a relayer served in-process, signed request bodies, polling."""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import replace

import requests

from somstack.chain import LocalSigner, NodeSigner, Sender
from somstack.relay.client import authorization
from somstack.relay.server import Background, Relay, RelayConfig, tokens_of
from somstack.relay.store import Store

UNIT = 10**18
# dev accounts (brownie-config.yaml dev_holders)
MINTER, PAUSER, COMPLIANCE, HOLDER = 1, 4, 6, 11
# generous limits: the tests that are not about limits must never meet them
OPEN = RelayConfig(sender_rate=1000, sender_burst=1000, global_rate=100_000, global_burst=100_000)


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
    return requests.post(url + "/v1/transfers", json=body, timeout=30, **kwargs)


def wait_status(url, transfer_id, statuses=("confirmed", "failed"), timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        answer = requests.get(f"{url}/v1/transfers/{transfer_id}", timeout=10).json()
        if answer["status"] in statuses or time.monotonic() > deadline:
            return answer
        time.sleep(0.1)


def open_config(**changes):
    return replace(OPEN, **changes)
