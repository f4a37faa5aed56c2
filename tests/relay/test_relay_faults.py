"""Faults under the relayer: the `somstack relay serve` process killed (SIGKILL) in the middle of
a load and restarted on the same SQLite file; the chain stopped and restarted under a serving
relayer (its state kept with anvil_dumpState / anvil_loadState); a transaction left unmined,
replaced with a higher fee. Nothing accepted is lost, nothing is paid twice."""

from __future__ import annotations

import threading
import time

import requests
from eth_account import Account

from relaylib import UNIT, body_of, fund_many, open_config, post, post_all, served, sign_many, spawned, wait_status
from somstack.relay.store import CONFIRMED, FAILED, Store

SPAWN_LIMITS = ("--sender-burst", "100", "--global-burst", "5000", "--global-rate", "5000", "--replace-after", "5",
                "--client-burst", "5000", "--client-rate", "5000")


def _reconciled(chain, delta, before):
    k = chain.kgst.functions
    for address, change in delta.items():
        assert k.balanceOf(address).call() == before[address] + change, address


def _counts(db):
    store = Store(db)
    try:
        return store.counts()
    finally:
        store.close()


def test_relayer_killed_mid_load_loses_nothing_and_pays_nothing_twice(relay_chain, relayer_key, tmp_path):
    chain = relay_chain
    senders = [Account.create() for _ in range(30)]
    recipients = [Account.create().address for _ in range(10)]
    fund_many(chain, [s.address for s in senders], 50 * UNIT)
    bodies, delta = sign_many(chain, senders, recipients, 10, lambda i, j: UNIT + i * 101 + j)
    before = {a: chain.kgst.functions.balanceOf(a).call() for a in delta}
    db = tmp_path / "kill.sqlite"
    first = []
    with spawned(chain, relayer_key, db, *SPAWN_LIMITS) as (url, process):
        poster = threading.Thread(target=lambda: first.extend(post_all(url, bodies, concurrency=16)))
        poster.start()
        deadline = time.monotonic() + 60
        while sum(_counts(db).values()) < 100 and time.monotonic() < deadline:
            time.sleep(0.05)
        process.kill()  # SIGKILL: no cleanup, whatever was in flight is cut
        process.wait(10)
        poster.join(120)
    accepted = {answer["id"] for status, answer in first if status in (200, 202)}
    assert 0 < len(accepted) < len(bodies)  # killed in the middle
    assert sum(status is None for status, _ in first) > 0  # clients saw the cut
    with spawned(chain, relayer_key, db, *SPAWN_LIMITS) as (url, _):
        again = post_all(url, bodies)  # clients do not know what arrived: they post everything again
        assert all(status in (200, 202) for status, _ in again), [a for a in again if a[0] not in (200, 202)][:3]
        ids = [answer["id"] for _, answer in again]
        assert accepted <= set(ids)  # nothing accepted before the kill was lost
        for transfer_id in ids:
            assert wait_status(url, transfer_id)["status"] == "confirmed"
    counts = _counts(db)
    assert counts.get(CONFIRMED) == len(bodies) and not counts.get(FAILED)
    assert chain.w3.eth.get_transaction_count(relayer_key.address) == len(bodies)  # nothing sent twice
    _reconciled(chain, delta, before)


def test_chain_stopped_and_restarted_under_the_relayer_submissions_wait_and_resume(relay_chain, relayer_key, tmp_path):
    chain, w3, node = relay_chain, relay_chain.w3, relay_chain.node
    senders = [Account.create() for _ in range(5)]
    fund_many(chain, [s.address for s in senders], 50 * UNIT)
    bodies, delta = sign_many(chain, senders, [Account.create().address], 2, lambda i, j: UNIT + 10 * i + j)
    before = {a: chain.kgst.functions.balanceOf(a).call() for a in delta}
    config = open_config(replace_after=1.0, chain_pause=0.2)
    with served(chain, relayer_key, tmp_path / "chain.sqlite", config) as (url, relay):
        w3.provider.make_request("evm_setAutomine", [False])  # sent, not yet mined, when the chain stops
        try:
            ids = [post(url, b).json()["id"] for b in bodies]
            for transfer_id in ids:
                assert wait_status(url, transfer_id, ("submitted",))["status"] == "submitted"
            state = w3.provider.make_request("anvil_dumpState", [])["result"]
            node.stop()
            deadline = time.monotonic() + 20
            while requests.get(url + "/healthz", timeout=5).status_code != 503 and time.monotonic() < deadline:
                time.sleep(0.1)
            assert requests.get(url + "/healthz", timeout=5).json()["status"] == "chain_unavailable"
            late = post(url, body_of(chain, senders[0], senders[1].address, UNIT))
            assert late.status_code == 503 and late.json()["error"] == "chain_unavailable"
            time.sleep(1.5)  # past replace_after while the chain is away
            assert {wait_status(url, i, ("submitted",))["status"] for i in ids} == {"submitted"}
        finally:
            if node.process is None:
                node.start()
                assert w3.provider.make_request("anvil_loadState", [state])["result"] is True
            w3.provider.make_request("evm_setAutomine", [True])
        for transfer_id in ids:
            assert wait_status(url, transfer_id)["status"] == "confirmed"
        assert requests.get(url + "/healthz", timeout=5).status_code == 200
    assert w3.eth.get_transaction_count(relayer_key.address) == len(bodies)
    _reconciled(chain, delta, before)


def test_unmined_transaction_is_replaced_with_a_higher_fee(relay_chain, relayer_key, tmp_path, sender_account):
    chain, w3 = relay_chain, relay_chain.w3
    to = Account.create().address
    price = w3.eth.gas_price
    with served(chain, relayer_key, tmp_path / "stuck.sqlite", open_config(replace_after=0.5)) as (url, relay):
        w3.provider.make_request("evm_setAutomine", [False])
        try:
            transfer_id = post(url, body_of(chain, sender_account, to, 7 * UNIT)).json()["id"]
            deadline = time.monotonic() + 20
            while relay.submitter.stats.replaced == 0 and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            w3.provider.make_request("evm_setAutomine", [True])
            w3.provider.make_request("evm_mine", [])
        done = wait_status(url, transfer_id)
        record = relay.store.get(transfer_id)
    assert done["status"] == "confirmed"
    assert len(record.tx_hashes) >= 2 and done["txHash"] == record.tx_hashes[-1]
    mined = w3.eth.get_transaction(done["txHash"])
    assert mined["gasPrice"] == record.gas_price >= price * 9 // 8 and mined["nonce"] == record.tx_nonce == 0
    assert w3.eth.get_transaction_count(relayer_key.address) == 1
    assert chain.kgst.functions.balanceOf(to).call() == 7 * UNIT


def test_transfers_wait_while_the_relayer_cannot_pay_and_go_once_it_is_funded(relay_chain, tmp_path, sender_account):
    """With no minimum balance configured, a relayer without BNB accepts; the node refuses its
    sends, which wait (backing off) and go once the relayer is funded, each once."""
    chain, w3 = relay_chain, relay_chain.w3
    poor = Account.create()
    to = Account.create().address
    with served(chain, poor, tmp_path / "poor.sqlite", open_config(min_balance=0, chain_pause=0.1)) as (url, relay):
        ids = [post(url, body_of(chain, sender_account, to, UNIT)).json()["id"] for _ in range(2)]
        deadline = time.monotonic() + 20
        while relay.submitter.refusals == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert relay.submitter.refusals > 0
        assert {wait_status(url, i, ("accepted",))["status"] for i in ids} == {"accepted"}
        w3.provider.make_request("anvil_setBalance", [poor.address, hex(UNIT)])
        assert {wait_status(url, i)["status"] for i in ids} == {"confirmed"}
    assert w3.eth.get_transaction_count(poor.address) == 2
    assert chain.kgst.functions.balanceOf(to).call() == 2 * UNIT
