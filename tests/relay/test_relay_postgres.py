"""Two relayer instances, one PostgreSQL store (issue 17): a real PostgreSQL server of the
module's own (tests/relay/pgserver.py), each test a database of its own. The store alone first
(claims, adoption, the shared balance check), then two `somstack relay serve` processes, each
with its own key: the same authorizations posted to both are accepted and paid once; one killed
with SIGKILL in the middle of a load has its pending work taken over by the other; restarted,
it sends nothing twice."""

from __future__ import annotations

import threading
import time

import pytest
from eth_account import Account
from pgserver import fresh_database, postgres_server
from relaylib import UNIT, fund_many, post_all, sign_many, spawned, wait_status

from somstack.relay.pgstore import PgStore, redacted
from somstack.relay.store import (
    ACCEPTED,
    CONFIRMED,
    FAILED,
    SUBMITTED,
    Overdrawn,
    Transfer,
)

SPAWN = ("--sender-burst", "100", "--global-burst", "5000", "--global-rate", "5000", "--client-burst", "5000",
         "--client-rate", "5000", "--replace-after", "5", "--lease", "2")


@pytest.fixture(scope="module")
def pg():
    with postgres_server() as base:
        yield base


def _transfer(n, sender="0x" + "11" * 20, value=10):
    return Transfer(id="0x" + f"{n:064x}", token="0x" + "22" * 20, kind="transfer", sender=sender, recipient="0x" + "33" * 20,
                    value=value, valid_after=0, valid_before=2**40, nonce="0x" + f"{n:064x}", signature="0x" + "44" * 65,
                    gas=60_000)


@pytest.fixture
def two_stores(pg):
    url = fresh_database(pg)
    a, b = PgStore(url, "0xA", lease=1.0), PgStore(url, "0xB", lease=1.0)
    yield a, b
    a.close()
    b.close()


def test_an_authorization_added_through_two_instances_is_one_row(two_stores):
    a, b = two_stores
    assert a.add(_transfer(1))[1] is True
    stored, new = b.add(_transfer(1))
    assert new is False and stored.id == _transfer(1).id
    assert sum(1 for _ in a.all()) == 1


def test_accepted_rows_are_claimed_by_one_instance_only(two_stores):
    a, b = two_stores
    for n in range(10):
        a.add(_transfer(n))
    mine = a.pending(ACCEPTED, 6)
    theirs = b.pending(ACCEPTED, 100)
    assert len(mine) == 6 and len(theirs) == 4
    assert not {t.id for t in mine} & {t.id for t in theirs}
    assert {t.owner for t in mine} == {"0xA"} and {t.owner for t in theirs} == {"0xB"}


def test_pending_rows_of_a_silent_instance_are_adopted_after_the_lease(two_stores):
    a, b = two_stores
    for n in range(3):
        a.add(_transfer(n))
    claimed = a.pending(ACCEPTED)
    a.mark_many([(claimed[0].id, "0x" + "aa" * 32, 0, 1)])
    a.heartbeat()
    b.heartbeat()
    assert b.heartbeat() == 0 and not b.pending(ACCEPTED) and not b.pending(SUBMITTED)  # a is alive
    a._conn().execute("UPDATE relay_instances SET seen_at = seen_at - 5 WHERE owner = '0xA'")  # a went silent
    assert b.heartbeat() == 3
    assert len(b.pending(ACCEPTED)) == 2
    (sent,) = b.pending(SUBMITTED)
    assert sent.sent_by == "0xA" and sent.tx_hashes == ["0x" + "aa" * 32]  # looked up, never replaced from b's key


def test_two_instances_cannot_overdraw_a_sender_together(two_stores):
    a, b = two_stores
    a.add(_transfer(1, value=60), budget=(100, 0.0))
    with pytest.raises(Overdrawn) as refused:
        b.add(_transfer(2, value=60), budget=(100, 0.0))
    assert refused.value.outflow == 60
    assert b.add(_transfer(3, value=40), budget=(100, 0.0))[1] is True


def test_the_password_is_not_logged():
    assert redacted("postgresql://relay:s3cret@db:5432/relay") == "postgresql://relay:***@db:5432/relay"


def test_relay_serve_on_a_database_that_does_not_answer_is_one_line_without_the_password(relay_chain, capsys):
    from clihelp import assert_one_line_error, run

    from somstack.core.chain import free_port

    url = f"postgresql://relay:s3cret@127.0.0.1:{free_port()}/relay"
    with relay_chain.cli_env(), pytest.MonkeyPatch.context() as env:
        env.setenv("SOMSTACK_RELAY_DB", url)  # as an operator keeps the password off the command line
        code, _, err = run(capsys, "relay", "serve", "--network", "local", "--port", "0")
    assert_one_line_error(code, err, "StoreUnavailableError", "refuses the connection", "relay:***@")
    assert "s3cret" not in err


# --- Two `relay serve` processes ---


def _key(chain):
    key = Account.create()
    chain.w3.provider.make_request("anvil_setBalance", [key.address, hex(100 * UNIT)])
    return key


def _load(chain, senders, per_sender):
    fund_many(chain, [s.address for s in senders], 50 * UNIT)
    bodies, delta = sign_many(chain, senders, [Account.create().address for _ in range(5)], per_sender,
                              lambda i, j: UNIT + i * 101 + j)
    return bodies, delta, {a: chain.kgst.functions.balanceOf(a).call() for a in delta}


def _reconciled(chain, delta, before):
    for address, change in delta.items():
        assert chain.kgst.functions.balanceOf(address).call() == before[address] + change, address


def _counts(url):
    store = PgStore(url, "0xcounter")
    try:
        return store.counts()
    finally:
        store.close()


def test_the_same_authorizations_posted_to_two_instances_are_accepted_and_paid_once(relay_chain, pg, tmp_path):
    chain, db = relay_chain, fresh_database(pg)
    bodies, delta, before = _load(chain, [Account.create() for _ in range(10)], 6)
    a_key, b_key = _key(chain), _key(chain)
    with spawned(chain, a_key, db, *SPAWN, log_to=tmp_path / "a.log") as (a_url, _), \
            spawned(chain, b_key, db, *SPAWN, log_to=tmp_path / "b.log") as (b_url, _):
        answers = {}
        posters = [threading.Thread(target=lambda u=u: answers.__setitem__(u, post_all(u, bodies, concurrency=16)))
                   for u in (a_url, b_url)]
        for p in posters:
            p.start()
        for p in posters:
            p.join(120)
        both = answers[a_url] + answers[b_url]
        assert all(status in (200, 202) for status, _ in both), [x for x in both if x[0] not in (200, 202)][:3]
        new = [answer["id"] for status, answer in both if status == 202]
        assert sorted(new) == sorted({answer["id"] for _, answer in both})  # each accepted once, by one of them
        for transfer_id in new:
            assert wait_status(a_url, transfer_id)["status"] == "confirmed"
    assert _counts(db) == {CONFIRMED: len(bodies)}
    sent = [chain.w3.eth.get_transaction_count(k.address) for k in (a_key, b_key)]
    assert sum(sent) == len(bodies)  # each paid once, from one key or the other
    _reconciled(chain, delta, before)


def test_an_instance_killed_mid_load_has_its_work_taken_over_and_sends_nothing_twice_when_restarted(relay_chain, pg, tmp_path):
    chain, db = relay_chain, fresh_database(pg)
    bodies, delta, before = _load(chain, [Account.create() for _ in range(20)], 10)
    a_key, b_key = _key(chain), _key(chain)
    first = []
    with spawned(chain, b_key, db, *SPAWN, log_to=tmp_path / "b.log") as (b_url, _):
        with spawned(chain, a_key, db, *SPAWN, log_to=tmp_path / "a.log") as (a_url, a_process):
            poster = threading.Thread(target=lambda: first.extend(post_all(a_url, bodies, concurrency=16)))
            poster.start()
            deadline = time.monotonic() + 60
            while sum(_counts(db).values()) < 60 and time.monotonic() < deadline:
                time.sleep(0.05)
            a_process.kill()  # SIGKILL: whatever it accepted, claimed or sent is left as it was
            a_process.wait(10)
            poster.join(120)
        accepted = {answer["id"] for status, answer in first if status in (200, 202)}
        assert 0 < len(accepted) < len(bodies)
        again = post_all(b_url, bodies)  # the clients post everything again, to the instance left
        assert all(status in (200, 202) for status, _ in again), [x for x in again if x[0] not in (200, 202)][:3]
        for _, answer in again:
            assert wait_status(b_url, answer["id"], timeout=90)["status"] == "confirmed"
        assert accepted <= {answer["id"] for _, answer in again}
    sent = {k.address: chain.w3.eth.get_transaction_count(k.address) for k in (a_key, b_key)}
    assert sum(sent.values()) == len(bodies) and sent[b_key.address] > 0
    assert "adopted" in (tmp_path / "b.log").read_text()  # b took over what a had claimed or sent
    with spawned(chain, a_key, db, *SPAWN, log_to=tmp_path / "a2.log"):  # the killed instance comes back
        time.sleep(1.0)
        assert chain.w3.eth.get_transaction_count(a_key.address) == sent[a_key.address]
    counts = _counts(db)
    assert counts == {CONFIRMED: len(bodies)} and not counts.get(FAILED)
    _reconciled(chain, delta, before)
