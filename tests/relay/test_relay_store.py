"""The relayer's store on its own (a SQLite file in tmp_path, no chain)."""

from __future__ import annotations

import time

import pytest

from somstack.relay.store import CONFIRMED, Overdrawn, Store, Transfer

TOKEN = "0x" + "11" * 20
SENDER = "0x" + "22" * 20


def transfer(n, value=5, fee_for=None):
    return Transfer(id=f"0x{n:064x}", token=TOKEN, kind="transfer", sender=SENDER, recipient="0x" + "33" * 20,
                    value=value, valid_after=0, valid_before=2**40, nonce=f"0x{n:064x}", signature="0x00", gas=50_000,
                    fee_for=fee_for)


def test_add_with_a_fee_id_already_stored_writes_nothing_and_does_not_raise(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    try:
        first, new = store.add(transfer(1), transfer(2, fee_for=transfer(1).id))
        assert new and first.id == transfer(1).id
        stored, new = store.add(transfer(3), transfer(2, fee_for=transfer(3).id))
        assert not new and stored.id == transfer(2).id
        assert store.get(transfer(3).id) is None
        assert [t.id for t in store.all()] == [transfer(1).id, transfer(2).id]
    finally:
        store.close()


def test_outflow_since_a_balance_read_counts_what_was_confirmed_after_it(tmp_path):
    """A transfer confirmed between the balance read and the outflow query is in neither the
    balance nor the pending ones: `since` counts it."""
    store = Store(tmp_path / "s.sqlite")
    try:
        store.add(transfer(1, value=7))
        store.add(transfer(2, value=11))
        store.finish(transfer(1).id, CONFIRMED, "0x" + "aa" * 32)  # confirmed before the read
        read_at = time.time()
        store.finish(transfer(2).id, CONFIRMED, "0x" + "bb" * 32)  # confirmed after it
        store.add(transfer(3, value=13))  # still pending
        assert store.pending_outflow(TOKEN, SENDER) == 13
        assert store.pending_outflow(TOKEN, SENDER, since=read_at) == 11 + 13
        assert store.pending_outflow(TOKEN, "0x" + "44" * 20, since=read_at) == 0
    finally:
        store.close()


def test_add_over_the_budget_net_of_pending_raises_overdrawn_and_writes_nothing(tmp_path):
    """The overdraft check both stores share (relay.store.record_new), on SQLite."""
    store = Store(tmp_path / "s.sqlite")
    try:
        store.add(transfer(1, value=60), budget=(100, 0.0))
        with pytest.raises(Overdrawn) as refused:
            store.add(transfer(2, value=30), transfer(3, value=30, fee_for=transfer(2).id), budget=(100, 0.0))
        assert refused.value.outflow == 60
        assert store.get(transfer(2).id) is None and store.get(transfer(3).id) is None
        assert store.add(transfer(4, value=40), budget=(100, 0.0))[1] is True
    finally:
        store.close()
