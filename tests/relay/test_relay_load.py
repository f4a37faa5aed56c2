"""Load: 1,000 authorizations from 100 senders (200 from 20 without --long) posted concurrently (32 at a time, loopback) to a
`somstack relay serve` process: every one confirmed exactly once, the balances reconcile to the
unit, the relayer's nonces have no gap and no reuse. Throughput and the accept -> confirmation
latency (p50, p99, from the relayer's own record) are printed, never asserted."""

from __future__ import annotations

import time

import pytest
from eth_account import Account

import stateful
from relaylib import UNIT, fund_many, percentile, post_all, sign_many, spawned
from somstack.relay.store import CONFIRMED, Store

# Full size (1,000 authorizations from 100 senders) with --long (`make test-long`); `make test`
# runs the same checks on 200 from 20 senders, still 32 requests at a time.
SENDERS, PER_SENDER = (100, 10) if stateful.LONG else (20, 10)
pytestmark = pytest.mark.slow


def test_thousand_authorizations_from_hundred_senders_are_each_paid_once(relay_chain, relayer_key, tmp_path, capsys):
    chain = relay_chain
    k = chain.kgst.functions
    senders = [Account.create() for _ in range(SENDERS)]
    recipients = [Account.create().address for _ in range(50)]
    fund_many(chain, [s.address for s in senders], 100 * UNIT)
    # odd amounts, so that a transfer paid twice or lost shows in every balance
    bodies, delta = sign_many(chain, senders, recipients, PER_SENDER, lambda i, j: UNIT + i * 1_000_003 + j * 7)
    before = {a: k.balanceOf(a).call() for a in delta}
    supply = k.totalSupply().call()
    db = tmp_path / "load.sqlite"
    with spawned(chain, relayer_key, db, "--sender-burst", "100", "--global-burst", "5000", "--global-rate", "5000",
                 "--client-burst", "5000", "--client-rate", "5000") as (url, _):
        started = time.monotonic()
        answers = post_all(url, bodies)
        posted = time.monotonic() - started
        assert [a[0] for a in answers] == [202] * len(bodies), [a for a in answers if a[0] != 202][:3]
        ids = [a[1]["id"] for a in answers]
        store = Store(db)
        try:
            deadline = time.monotonic() + 300
            while store.counts().get(CONFIRMED, 0) < len(bodies) and time.monotonic() < deadline:
                time.sleep(0.25)
            elapsed = time.monotonic() - started
            records = {t.id: t for t in store.all()}
        finally:
            store.close()
    assert len(set(ids)) == len(bodies)
    assert all(records[i].status == CONFIRMED for i in ids), {records[i].status for i in ids}
    hashes = {records[i].tx_hash for i in ids}
    assert len(hashes) == len(bodies)  # one transaction each
    assert chain.w3.eth.get_transaction_count(relayer_key.address) == len(bodies)  # no gap, no reuse, none extra
    nonces = sorted(records[i].tx_nonce for i in ids)
    assert nonces == list(range(len(bodies)))
    for address, change in delta.items():
        assert k.balanceOf(address).call() == before[address] + change, address
    assert k.totalSupply().call() == supply
    latencies = [records[i].finished_at - records[i].accepted_at for i in ids]
    with capsys.disabled():
        print(f"\nrelay load: {len(bodies)} authorizations from {SENDERS} senders: all posted in {posted:.1f} s "
              f"({len(bodies) / posted:.0f}/s accepted), all confirmed in {elapsed:.1f} s ({len(bodies) / elapsed:.0f}/s); "
              f"accept->confirmation p50 {percentile(latencies, 0.5):.2f} s, p99 {percentile(latencies, 0.99):.2f} s")
