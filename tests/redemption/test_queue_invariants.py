"""Stateful invariants of the redemption queue (hypothesis through brownie's state_machine).

Random requests (direct and relayed), payment and rejection batches (some with a bad entry, which
must change nothing), cancellations before and after the deadline, blocks and unblocks, escrow
seizures and pauses. After every step:
- KGST's supply = the holders' balances + the escrow (the queue's balance), and the escrow is
  exactly the sum of the pending requests (chain == model);
- each request's status on chain is the model's, and a request that left Pending never changes
  again: it was paid, rejected, cancelled or seized exactly once;
- the counts add up: pending + paid + rejected + cancelled + seized = requests made, and the
  breaches are the cancellations.
"""

import pytest
from brownie import accounts, chain
from brownie.exceptions import VirtualMachineError
from eth_utils import keccak
from hypothesis import strategies as st
from stateful import stateful_settings

from somstack.core.signatures import Domain, sign_authorization

UNIT = 10**18
MIN = 100 * UNIT
SLA = 172_800
PENDING, PAID, REJECTED, CANCELLED, SEIZED = 1, 2, 3, 4, 5
HOLDERS = ("alice", "bob", "carol")
SETTINGS = stateful_settings(default_examples=10)


class QueueMachine:
    st_holder = st.sampled_from(HOLDERS)
    st_amount = st.one_of(st.sampled_from((MIN - 1, MIN, 250 * UNIT)), st.integers(MIN, 700 * UNIT))
    st_bool = st.booleans()
    st_pick = st.integers(0, 2**16)
    st_size = st.integers(1, 4)
    st_wait = st.sampled_from((0, 3_600, SLA + 1))

    def __init__(cls, kgst, queue, people, roles):
        cls.kgst, cls.queue, cls.people, cls.roles = kgst, queue, people, roles
        cls.domain = Domain.of(kgst)

    def setup(self):
        self.status = {}  # request id -> status
        self.amount = {}
        self.holder = {}
        self.deadline = {}
        self.blocked = set()
        self.paused = False
        self.breaches = 0
        self.refs = 0
        self.ended_before = {}

    # --- helpers ---

    def _ref(self):
        self.refs += 1
        return keccak(text=f"stateful-payout-{self.refs}-{len(self.status)}")

    def _pending(self, pick, size, payable=True):
        ids = sorted(i for i, s in self.status.items() if s == PENDING and (not payable or self.holder[i] not in self.blocked))
        if not ids:
            return []
        start = pick % len(ids)
        return (ids[start:] + ids[:start])[:size]

    def _expect(self, ok, send):
        try:
            tx = send()
        except VirtualMachineError:
            assert not ok, "a step the model allows reverted"
            return None
        assert ok, "a step the model refuses went through"
        return tx

    # --- rules ---

    def rule_request(self, st_holder, st_amount, st_bool):
        who = self.people[st_holder]
        ok = not self.paused and st_holder not in self.blocked and st_amount >= MIN and self.kgst.balanceOf(who) >= st_amount
        ref = self._ref()
        if st_bool:
            before = chain[-1].timestamp + 3_600
            sig = sign_authorization(self.domain, who.private_key, who.address, self.queue.address, st_amount, 0, before, ref, receive=True)
            send = lambda: self.queue.requestRedemptionWithAuthorization(who, st_amount, ref, 0, before, sig.packed, {"from": self.roles["relayer"]})
        else:
            self.kgst.approve(self.queue, st_amount, {"from": who}) if st_holder not in self.blocked else None
            send = lambda: self.queue.requestRedemption(st_amount, ref, {"from": who})
        tx = self._expect(ok, send)
        if tx:
            rid = tx.events["RedemptionRequested"]["requestId"]
            self.status[rid], self.amount[rid], self.holder[rid] = PENDING, st_amount, st_holder
            self.deadline[rid] = tx.events["RedemptionRequested"]["deadline"]

    def rule_pay(self, st_pick, st_size, st_bool):
        ids = self._pending(st_pick, st_size)
        if not ids:
            return
        bad = st_bool and len(self.status) > len(ids)
        batch = ids + ([max(self.status) + 1] if bad else [])
        refs = [keccak(text=f"bank-{i}") for i in batch]
        tx = self._expect(not bad, lambda: self.queue.pay(batch, refs, {"from": self.roles["redeemer"]}))
        if tx:
            assert len(tx.events["RedemptionPaid"]) == len(ids)
            for i in ids:
                self.status[i] = PAID

    def rule_reject(self, st_pick, st_size):
        ids = self._pending(st_pick, st_size)
        if ids:
            self.queue.reject(ids, [1] * len(ids), {"from": self.roles["redeemer"]})
            for i in ids:
                self.status[i] = REJECTED

    def rule_cancel(self, st_pick, st_wait):
        ids = self._pending(st_pick, 1, payable=False)
        if not ids:
            return
        if st_wait:
            chain.sleep(st_wait)
            chain.mine()
        rid = ids[0]
        ok = chain[-1].timestamp + 1 > self.deadline[rid] and self.holder[rid] not in self.blocked
        tx = self._expect(ok, lambda: self.queue.cancel(rid, {"from": self.people[self.holder[rid]]}))
        if tx:
            self.status[rid] = CANCELLED
            self.breaches += 1

    def rule_block(self, st_holder):
        who = self.people[st_holder]
        if st_holder in self.blocked:
            self.kgst.unblockAccount(who, {"from": self.roles["compliance"]})
            self.blocked.discard(st_holder)
        else:
            self.kgst.blockAccount(who, keccak(text="stateful-sanctions"), {"from": self.roles["compliance"]})
            self.blocked.add(st_holder)

    def rule_seize(self, st_pick):
        ids = [i for i, s in self.status.items() if s == PENDING and self.holder[i] in self.blocked]
        if not ids:
            return
        rid = ids[st_pick % len(ids)]
        self.queue.proposeEscrowSeizure(rid, self.roles["recovery"], keccak(text=f"case-{rid}"), b"\x00" * 32, {"from": self.roles["compliance"]})
        self.queue.executeEscrowSeizure(self.queue.escrowSeizureCount(), {"from": self.roles["seize_approver"]})
        self.status[rid] = SEIZED

    def rule_pause(self):
        if self.paused:
            self.queue.unpause({"from": self.roles["pauser"]})
        else:
            self.queue.pause({"from": self.roles["pauser"]})
        self.paused = not self.paused

    # --- invariants ---

    def invariant(self):
        kgst, queue = self.kgst, self.queue
        escrow = kgst.balanceOf(queue)
        balances = sum(kgst.balanceOf(a) for a in (*self.people.values(), self.roles["recovery"]))
        pending = {i: a for i, a in self.amount.items() if self.status[i] == PENDING}
        assert kgst.totalSupply() == balances + escrow, "supply != balances + escrow"
        assert escrow == queue.pendingAmount() == sum(pending.values()), "escrow != pending requests"
        assert queue.pendingCount() == len(pending)
        assert queue.requestCount() == len(self.status)
        assert queue.breachCount() == self.breaches == sum(1 for s in self.status.values() if s == CANCELLED)
        for rid, status in self.status.items():
            assert queue.request(rid)[3] == status, f"request {rid}: chain status differs from the model"
            if rid in self.ended_before:
                assert status == self.ended_before[rid], f"request {rid} ended twice"
            elif status != PENDING:
                self.ended_before[rid] = status


def test_queue_stateful_invariants(state_machine, queue, funded, alice, bob, carol, relayer, redeemer, compliance, seize_approver, pauser):
    funded.transfer(carol, 500 * UNIT, {"from": alice})
    people = {"alice": alice, "bob": bob, "carol": carol}
    roles = {"relayer": relayer, "redeemer": redeemer, "compliance": compliance, "seize_approver": seize_approver,
             "pauser": pauser, "recovery": accounts[26]}
    state_machine(QueueMachine, funded, queue, people, roles, settings=SETTINGS)
