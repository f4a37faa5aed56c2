"""KGST's redemption queue: each path and each refusal (requests direct and relayed, payment and
rejection in batches, cancellation after a missed deadline, pause, blocked holders, seizure of a
frozen escrow by maker-checker, governance settings)."""

import pytest
from brownie import ZERO_ADDRESS, accounts, chain, web3
from eth_utils import keccak

from somstack.core.signatures import Domain, sign_authorization

UNIT = 10**18
PENDING, PAID, REJECTED, CANCELLED, SEIZED = 1, 2, 3, 4, 5
PAUSE_TRANSFERS, PAUSE_REDEEM = 1, 4
MIN = 100 * UNIT  # brownie-config.yaml deployment.redemption.min_amount
SLA = 172_800  # deployment.redemption.service_level [s]
CASE = keccak(text="court-case-2026-77")
EVIDENCE = keccak(text="evidence-bundle")
SANCTIONS = keccak(text="sanctions-record-9")


def ref(label):
    """A payout reference: a salted hash of bank details, one per request."""
    return keccak(text=f"payout:{label}")


def bank(label):
    return keccak(text=f"bank-payout:{label}")


def ask(queue, kgst, holder, amount, label):
    kgst.approve(queue, amount, {"from": holder})
    return queue.requestRedemption(amount, ref(label), {"from": holder})


def signed(queue, kgst, holder, amount, label, valid_before=None):
    """A relayed request's arguments: holder's ReceiveWithAuthorization to the queue, nonce = ref."""
    before = valid_before or chain[-1].timestamp + 3_600
    sig = sign_authorization(Domain.of(kgst), holder.private_key, holder.address, queue.address, amount, 0, before, ref(label), receive=True)
    return (holder, amount, ref(label), 0, before, sig.packed)


@pytest.fixture
def pending(queue, funded, alice, bob):
    """Three pending requests: #1 alice 300, #2 bob 200, #3 alice 150."""
    ask(queue, funded, alice, 300 * UNIT, "a1")
    ask(queue, funded, bob, 200 * UNIT, "b1")
    ask(queue, funded, alice, 150 * UNIT, "a2")
    return queue


@pytest.fixture
def walletless():
    """A holder with a key and no BNB at all."""
    return accounts.add(keccak(text="somstack-test-migrant-worker"))


# --- Deployment ---


def test_queue_wired_by_plan(queue, kgst, manager):
    assert (queue.token(), queue.minAmount(), queue.serviceLevel(), queue.paused()) == (kgst.address, MIN, SLA, False)


def test_queue_holds_burner_role(queue, manager):
    assert manager.hasRole(3, queue)[0] is True


# --- Requests (direct) ---


def test_request_moves_amount_to_escrow(queue, funded, alice):
    ask(queue, funded, alice, 300 * UNIT, "a1")
    assert (funded.balanceOf(alice), funded.balanceOf(queue)) == (700 * UNIT, 300 * UNIT)


def test_request_keeps_total_supply(queue, funded, alice):
    supply = funded.totalSupply()
    ask(queue, funded, alice, 300 * UNIT, "a1")
    assert funded.totalSupply() == supply


def test_request_counts_pending(queue, funded, alice):
    ask(queue, funded, alice, 300 * UNIT, "a1")
    assert (queue.requestCount(), queue.pendingCount(), queue.pendingAmount()) == (1, 1, 300 * UNIT)


def test_request_records_deadline(queue, funded, alice):
    tx = ask(queue, funded, alice, 300 * UNIT, "a1")
    stamp = chain[tx.block_number].timestamp
    assert tuple(queue.request(1)) == (alice, stamp, stamp + SLA, PENDING, 300 * UNIT)


def test_request_emits_redemption_requested(queue, funded, alice):
    tx = ask(queue, funded, alice, 300 * UNIT, "a1")
    e = tx.events["RedemptionRequested"]
    assert (e["requestId"], e["holder"], e["amount"], bytes(e["payoutRef"]), e["submitter"]) == (1, alice, 300 * UNIT, ref("a1"), alice)


def test_request_below_minimum_reverts(queue, funded, alice, reverts):
    funded.approve(queue, MIN, {"from": alice})
    with reverts("RedemptionQueueAmountTooSmall", amount=MIN - 1, minimum=MIN):
        queue.requestRedemption(MIN - 1, ref("x"), {"from": alice})


def test_request_zero_reference_reverts(queue, funded, alice, reverts):
    funded.approve(queue, MIN, {"from": alice})
    with reverts("RedemptionQueueZeroReference"):
        queue.requestRedemption(MIN, b"\x00" * 32, {"from": alice})


def test_request_without_allowance_reverts(queue, funded, alice, reverts):
    with reverts("ERC20InsufficientAllowance"):
        queue.requestRedemption(MIN, ref("x"), {"from": alice})


def test_request_over_balance_reverts(queue, funded, alice, reverts):
    funded.approve(queue, 2_000 * UNIT, {"from": alice})
    with reverts("ERC20InsufficientBalance"):
        queue.requestRedemption(2_000 * UNIT, ref("x"), {"from": alice})


def test_request_blocked_holder_reverts(queue, funded, alice, compliance, reverts):
    funded.approve(queue, MIN, {"from": alice})
    funded.blockAccount(alice, SANCTIONS, {"from": compliance})
    with reverts("RedemptionQueueAccountBlocked", account=alice.address):
        queue.requestRedemption(MIN, ref("x"), {"from": alice})


def test_request_kgst_transfers_paused_reverts(queue, funded, alice, pauser, reverts):
    funded.approve(queue, MIN, {"from": alice})
    funded.pause(PAUSE_TRANSFERS, {"from": pauser})
    with reverts("OperationPaused", flag=PAUSE_TRANSFERS):
        queue.requestRedemption(MIN, ref("x"), {"from": alice})


# --- Requests (relayed, gasless) ---


def test_relayed_request_from_holder_without_bnb(queue, funded, alice, relayer, walletless):
    funded.transfer(walletless, 400 * UNIT, {"from": alice})
    queue.requestRedemptionWithAuthorization(*signed(queue, funded, walletless, 400 * UNIT, "w1"), {"from": relayer})
    assert (web3.eth.get_balance(walletless.address), funded.balanceOf(walletless), queue.pendingAmount()) == (0, 0, 400 * UNIT)


def test_relayed_request_names_submitter(queue, funded, alice, relayer):
    tx = queue.requestRedemptionWithAuthorization(*signed(queue, funded, alice, MIN, "r1"), {"from": relayer})
    e = tx.events["RedemptionRequested"]
    assert (e["holder"], e["submitter"], bytes(e["payoutRef"])) == (alice, relayer, ref("r1"))


def test_relayed_request_other_reference_reverts(queue, funded, alice, relayer, reverts):
    holder, amount, _ref, after, before, sig = signed(queue, funded, alice, MIN, "r1")
    with reverts("InvalidSignature", signer=alice.address):
        queue.requestRedemptionWithAuthorization(holder, amount, ref("attacker-bank"), after, before, sig, {"from": relayer})


def test_relayed_request_other_amount_reverts(queue, funded, alice, relayer, reverts):
    holder, amount, payout, after, before, sig = signed(queue, funded, alice, MIN, "r1")
    with reverts("InvalidSignature", signer=alice.address):
        queue.requestRedemptionWithAuthorization(holder, amount + UNIT, payout, after, before, sig, {"from": relayer})


def test_relayed_request_replay_reverts(queue, funded, alice, relayer, reverts):
    args = signed(queue, funded, alice, MIN, "r1")
    queue.requestRedemptionWithAuthorization(*args, {"from": relayer})
    with reverts("ERC3009UsedAuthorization", authorizer=alice.address, nonce=ref("r1")):
        queue.requestRedemptionWithAuthorization(*args, {"from": relayer})


def test_relayed_request_expired_reverts(queue, funded, alice, relayer, reverts):
    before = chain[-1].timestamp + 10
    args = signed(queue, funded, alice, MIN, "r1", valid_before=before)
    chain.sleep(60)
    with reverts("ERC3009InvalidAuthorizationTime"):
        queue.requestRedemptionWithAuthorization(*args, {"from": relayer})


def test_relayed_request_blocked_relayer_reverts(queue, funded, alice, relayer, compliance, reverts):
    funded.blockAccount(relayer, SANCTIONS, {"from": compliance})
    with reverts("RedemptionQueueAccountBlocked", account=relayer.address):
        queue.requestRedemptionWithAuthorization(*signed(queue, funded, alice, MIN, "r1"), {"from": relayer})


def test_relayed_request_blocked_holder_reverts(queue, funded, alice, relayer, compliance, reverts):
    funded.blockAccount(alice, SANCTIONS, {"from": compliance})
    with reverts("RedemptionQueueAccountBlocked", account=alice.address):
        queue.requestRedemptionWithAuthorization(*signed(queue, funded, alice, MIN, "r1"), {"from": relayer})


def test_relayed_request_paused_reverts(queue, funded, alice, relayer, pauser, reverts):
    queue.pause({"from": pauser})
    with reverts("RedemptionQueuePaused"):
        queue.requestRedemptionWithAuthorization(*signed(queue, funded, alice, MIN, "r1"), {"from": relayer})


# --- Payment ---


def test_pay_burns_escrow(pending, funded, redeemer):
    supply = funded.totalSupply()
    pending.pay([1], [bank("1")], {"from": redeemer})
    assert (funded.totalSupply(), funded.balanceOf(pending)) == (supply - 300 * UNIT, 350 * UNIT)


def test_pay_marks_paid(pending, redeemer):
    pending.pay([1], [bank("1")], {"from": redeemer})
    assert (pending.request(1)[3], pending.pendingCount(), pending.pendingAmount()) == (PAID, 2, 350 * UNIT)


def test_pay_emits_paid_and_kgst_redeemed(pending, redeemer):
    tx = pending.pay([1], [bank("1")], {"from": redeemer})
    paid, burned = tx.events["RedemptionPaid"], tx.events["Redeemed"]
    assert (paid["requestId"], paid["amount"], bytes(paid["bankRef"]), paid["late"]) == (1, 300 * UNIT, bank("1"), False)
    assert (burned["burner"], burned["amount"], bytes(burned["redemptionRef"])) == (pending, 300 * UNIT, bank("1"))


def test_pay_batch_burns_once(pending, funded, redeemer):
    supply = funded.totalSupply()
    refs = [bank(i) for i in "123"]
    tx = pending.pay([1, 2, 3], refs, {"from": redeemer})
    assert (len(tx.events["RedemptionPaid"]), len(tx.events["Redeemed"]), funded.totalSupply()) == (3, 1, supply - 650 * UNIT)
    assert bytes(tx.events["Redeemed"]["redemptionRef"]) == keccak(b"".join(refs))


def test_pay_after_deadline_is_late(pending, redeemer):
    chain.sleep(SLA + 1)
    tx = pending.pay([2], [bank("2")], {"from": redeemer})
    assert tx.events["RedemptionPaid"]["late"] is True


def test_pay_twice_reverts(pending, redeemer, reverts):
    pending.pay([1], [bank("1")], {"from": redeemer})
    with reverts("RedemptionQueueNotPending", requestId=1, status=PAID):
        pending.pay([1], [bank("1b")], {"from": redeemer})


def test_pay_duplicate_in_batch_reverts(pending, redeemer, reverts):
    with reverts("RedemptionQueueNotPending", requestId=1, status=PAID):
        pending.pay([1, 1], [bank("1"), bank("1b")], {"from": redeemer})


def test_pay_unknown_request_reverts(pending, redeemer, reverts):
    with reverts("RedemptionQueueNotPending", requestId=9, status=0):
        pending.pay([9], [bank("9")], {"from": redeemer})


def test_pay_zero_bank_reference_reverts(pending, redeemer, reverts):
    with reverts("RedemptionQueueZeroReference"):
        pending.pay([1], [b"\x00" * 32], {"from": redeemer})


@pytest.mark.parametrize("ids, refs", [([], []), ([1, 2], [bank("1")])], ids=["empty", "mismatch"])
def test_pay_bad_batch_reverts(pending, redeemer, reverts, ids, refs):
    with reverts("RedemptionQueueBadBatch", ids=len(ids), values=len(refs)):
        pending.pay(ids, refs, {"from": redeemer})


def test_pay_batch_all_or_nothing(pending, redeemer, reverts):
    with reverts("RedemptionQueueNotPending", requestId=7, status=0):
        pending.pay([1, 7], [bank("1"), bank("7")], {"from": redeemer})
    assert pending.request(1)[3] == PENDING


def test_pay_kgst_redemption_paused_reverts(pending, funded, pauser, redeemer, reverts):
    funded.pause(PAUSE_REDEEM, {"from": pauser})
    with reverts("OperationPaused", flag=PAUSE_REDEEM):
        pending.pay([1], [bank("1")], {"from": redeemer})


@pytest.mark.parametrize("who", ["stranger", "burner", "alice"])
def test_pay_without_redeemer_reverts(pending, reverts, request, who):
    with reverts("AccessManagedUnauthorized"):
        pending.pay([1], [bank("1")], {"from": request.getfixturevalue(who)})


# --- Rejection ---


def test_reject_refunds_holders(pending, funded, redeemer, alice, bob):
    pending.reject([1, 2], [3, 4], {"from": redeemer})
    assert (funded.balanceOf(alice), funded.balanceOf(bob), funded.balanceOf(pending)) == (850 * UNIT, 1_000 * UNIT, 150 * UNIT)


def test_reject_marks_rejected_with_reason(pending, redeemer):
    tx = pending.reject([2], [4], {"from": redeemer})
    e = tx.events["RedemptionRejected"]
    assert (pending.request(2)[3], e["requestId"], e["holder"], e["amount"], e["reason"]) == (REJECTED, 2, pending.request(2)[0], 200 * UNIT, 4)


def test_reject_keeps_supply(pending, funded, redeemer):
    supply = funded.totalSupply()
    pending.reject([1, 2, 3], [1, 1, 1], {"from": redeemer})
    assert (funded.totalSupply(), pending.pendingAmount(), pending.pendingCount()) == (supply, 0, 0)


def test_reject_zero_reason_reverts(pending, redeemer, reverts):
    with reverts("RedemptionQueueZeroReference"):
        pending.reject([1], [0], {"from": redeemer})


def test_reject_paid_reverts(pending, redeemer, reverts):
    pending.pay([1], [bank("1")], {"from": redeemer})
    with reverts("RedemptionQueueNotPending", requestId=1, status=PAID):
        pending.reject([1], [1], {"from": redeemer})


@pytest.mark.parametrize("ids, reasons", [([], []), ([1], [1, 2])], ids=["empty", "mismatch"])
def test_reject_bad_batch_reverts(pending, redeemer, reverts, ids, reasons):
    with reverts("RedemptionQueueBadBatch", ids=len(ids), values=len(reasons)):
        pending.reject(ids, reasons, {"from": redeemer})


def test_reject_without_redeemer_reverts(pending, stranger, reverts):
    with reverts("AccessManagedUnauthorized"):
        pending.reject([1], [1], {"from": stranger})


# --- Deadline: breach and cancellation ---


def test_cancel_before_deadline_reverts(pending, alice, reverts):
    deadline = pending.request(1)[2]
    with reverts("RedemptionQueueDeadlineNotPassed", requestId=1, deadline=deadline):
        pending.cancel(1, {"from": alice})


def test_cancel_after_deadline_refunds(pending, funded, alice):
    chain.sleep(SLA + 1)
    pending.cancel(1, {"from": alice})
    assert (funded.balanceOf(alice), pending.request(1)[3], pending.pendingAmount()) == (850 * UNIT, CANCELLED, 350 * UNIT)


def test_cancel_counts_breach_for_good(pending, alice, bob, redeemer):
    chain.sleep(SLA + 1)
    pending.cancel(1, {"from": alice})
    pending.cancel(2, {"from": bob})
    pending.pay([3], [bank("3")], {"from": redeemer})
    assert pending.breachCount() == 2


def test_cancel_emits_cancelled(pending, alice):
    deadline = pending.request(1)[2]
    chain.sleep(SLA + 1)
    e = pending.cancel(1, {"from": alice}).events["RedemptionCancelled"]
    assert (e["requestId"], e["holder"], e["amount"], e["deadline"]) == (1, alice, 300 * UNIT, deadline)


def test_cancel_by_other_reverts(pending, bob, reverts):
    chain.sleep(SLA + 1)
    with reverts("RedemptionQueueNotHolder", requestId=1, caller=bob.address):
        pending.cancel(1, {"from": bob})


def test_cancel_paid_reverts(pending, alice, redeemer, reverts):
    pending.pay([1], [bank("1")], {"from": redeemer})
    chain.sleep(SLA + 1)
    with reverts("RedemptionQueueNotPending", requestId=1, status=PAID):
        pending.cancel(1, {"from": alice})


def test_cancel_twice_reverts(pending, alice, reverts):
    chain.sleep(SLA + 1)
    pending.cancel(1, {"from": alice})
    with reverts("RedemptionQueueNotPending", requestId=1, status=CANCELLED):
        pending.cancel(1, {"from": alice})


def test_cancel_works_while_queue_paused(pending, alice, pauser):
    pending.pause({"from": pauser})
    chain.sleep(SLA + 1)
    pending.cancel(1, {"from": alice})
    assert pending.request(1)[3] == CANCELLED


def test_service_level_change_keeps_queued_deadlines(pending, funded, alice, admin):
    deadline = pending.request(1)[2]
    pending.setServiceLevel(3_600, {"from": admin})
    tx = ask(pending, funded, alice, MIN, "a3")
    assert (pending.request(1)[2], pending.request(4)[2]) == (deadline, chain[tx.block_number].timestamp + 3_600)


# --- Pause ---


def test_pause_stops_requests(queue, funded, alice, pauser, reverts):
    queue.pause({"from": pauser})
    funded.approve(queue, MIN, {"from": alice})
    with reverts("RedemptionQueuePaused"):
        queue.requestRedemption(MIN, ref("x"), {"from": alice})


def test_pause_leaves_desk_working(pending, pauser, redeemer):
    pending.pause({"from": pauser})
    pending.pay([1], [bank("1")], {"from": redeemer})
    pending.reject([2], [1], {"from": redeemer})
    assert (pending.request(1)[3], pending.request(2)[3]) == (PAID, REJECTED)


def test_unpause_resumes_requests(queue, funded, alice, pauser):
    queue.pause({"from": pauser})
    tx = queue.unpause({"from": pauser})
    ask(queue, funded, alice, MIN, "x")
    assert (tx.events["PauseUpdated"]["paused"], queue.pendingCount()) == (False, 1)


def test_guardian_cannot_unpause(queue, guardian, reverts):
    queue.pause({"from": guardian})
    with reverts("AccessManagedUnauthorized"):
        queue.unpause({"from": guardian})


def test_pause_twice_reverts(queue, pauser, reverts):
    queue.pause({"from": pauser})
    with reverts("RedemptionQueuePauseUnchanged", paused=True):
        queue.pause({"from": pauser})


def test_pause_by_stranger_reverts(queue, stranger, reverts):
    with reverts("AccessManagedUnauthorized"):
        queue.pause({"from": stranger})


# --- Blocked holder: frozen escrow ---


@pytest.fixture
def frozen(pending, funded, alice, compliance):
    """alice (requests #1 and #3) blocked after requesting."""
    funded.blockAccount(alice, SANCTIONS, {"from": compliance})
    return pending


def test_frozen_escrow_cannot_be_paid(frozen, alice, redeemer, reverts):
    with reverts("RedemptionQueueHolderFrozen", requestId=1, holder=alice.address):
        frozen.pay([1], [bank("1")], {"from": redeemer})


def test_frozen_escrow_cannot_be_rejected(frozen, alice, redeemer, reverts):
    with reverts("RedemptionQueueHolderFrozen", requestId=3, holder=alice.address):
        frozen.reject([2, 3], [1, 1], {"from": redeemer})


def test_frozen_escrow_cannot_be_cancelled(frozen, alice, reverts):
    chain.sleep(SLA + 1)
    chain.mine()  # the revert is replayed on the block before: past the deadline too
    with reverts("RedemptionQueueHolderFrozen", requestId=1, holder=alice.address):
        frozen.cancel(1, {"from": alice})


def test_frozen_escrow_leaves_others_payable(frozen, redeemer):
    frozen.pay([2], [bank("2")], {"from": redeemer})
    assert frozen.request(2)[3] == PAID


# --- Seizure of a frozen escrow (maker-checker) ---


@pytest.fixture
def recovery():
    return accounts[25]


@pytest.fixture
def proposed(frozen, compliance, recovery):
    frozen.proposeEscrowSeizure(1, recovery, CASE, EVIDENCE, {"from": compliance})
    return frozen


def test_propose_escrow_seizure_records_case(proposed, compliance, recovery):
    assert tuple(proposed.escrowSeizure(1)) == (1, recovery, "0x" + CASE.hex(), "0x" + EVIDENCE.hex(), compliance, 1)


def test_propose_escrow_seizure_moves_nothing(proposed, funded):
    assert (funded.balanceOf(proposed), proposed.request(1)[3]) == (650 * UNIT, PENDING)


def test_execute_escrow_seizure_moves_escrow(proposed, funded, seize_approver, recovery):
    supply = funded.totalSupply()
    proposed.executeEscrowSeizure(1, {"from": seize_approver})
    assert (funded.balanceOf(recovery), funded.balanceOf(proposed), funded.totalSupply()) == (300 * UNIT, 350 * UNIT, supply)


def test_execute_escrow_seizure_marks_seized(proposed, seize_approver):
    proposed.executeEscrowSeizure(1, {"from": seize_approver})
    assert (proposed.request(1)[3], proposed.escrowSeizure(1)[5], proposed.pendingAmount(), proposed.pendingCount()) == (
        SEIZED, 2, 350 * UNIT, 2
    )


def test_execute_escrow_seizure_emits_case(proposed, seize_approver, alice, recovery):
    e = proposed.executeEscrowSeizure(1, {"from": seize_approver}).events["EscrowSeizureExecuted"]
    assert (e["seizureId"], e["requestId"], e["holder"], e["recovery"], e["amount"], bytes(e["caseRef"]), e["approver"]) == (
        1, 1, alice, recovery, 300 * UNIT, CASE, seize_approver
    )


def test_execute_escrow_seizure_twice_reverts(proposed, seize_approver, reverts):
    proposed.executeEscrowSeizure(1, {"from": seize_approver})
    with reverts("RedemptionQueueSeizureNotPending", seizureId=1):
        proposed.executeEscrowSeizure(1, {"from": seize_approver})


def test_seized_request_cannot_be_paid(proposed, seize_approver, redeemer, funded, alice, compliance, reverts):
    proposed.executeEscrowSeizure(1, {"from": seize_approver})
    funded.unblockAccount(alice, {"from": compliance})
    with reverts("RedemptionQueueNotPending", requestId=1, status=SEIZED):
        proposed.pay([1], [bank("1")], {"from": redeemer})


def test_escrow_seizure_self_approval_reverts(proposed, manager, admin, compliance, reverts):
    manager.grantRole(7, compliance, 0, {"from": admin})
    with reverts("RedemptionQueueSeizureSelfApproval", seizureId=1, officer=compliance.address):
        proposed.executeEscrowSeizure(1, {"from": compliance})


def test_escrow_seizure_through_access_manager_reverts(frozen, manager, admin, recovery, reverts):
    """A call relayed by the AccessManager (a scheduled route) hides the officer: refused."""
    manager.grantRole(6, admin, 0, {"from": admin})
    data = frozen.proposeEscrowSeizure.encode_input(1, recovery, CASE, EVIDENCE)
    with reverts("RedemptionQueueOfficerUnknown", caller=manager.address):
        manager.execute(frozen, data, {"from": admin})


def test_escrow_seizure_holder_unblocked_reverts(proposed, funded, alice, compliance, seize_approver, reverts):
    funded.unblockAccount(alice, {"from": compliance})
    with reverts("RedemptionQueueHolderNotBlocked", requestId=1, holder=alice.address):
        proposed.executeEscrowSeizure(1, {"from": seize_approver})


def test_propose_escrow_seizure_holder_not_blocked_reverts(pending, bob, compliance, recovery, reverts):
    with reverts("RedemptionQueueHolderNotBlocked", requestId=2, holder=bob.address):
        pending.proposeEscrowSeizure(2, recovery, CASE, EVIDENCE, {"from": compliance})


def test_propose_escrow_seizure_blocked_recovery_reverts(frozen, funded, compliance, mallory, reverts):
    funded.blockAccount(mallory, SANCTIONS, {"from": compliance})
    with reverts("RedemptionQueueAccountBlocked", account=mallory.address):
        frozen.proposeEscrowSeizure(1, mallory, CASE, EVIDENCE, {"from": compliance})


@pytest.mark.parametrize("zero", ["recovery", "case"])
def test_propose_escrow_seizure_empty_argument_reverts(frozen, compliance, recovery, reverts, zero):
    error = "RedemptionQueueZeroAddress" if zero == "recovery" else "RedemptionQueueZeroReference"
    with reverts(error):
        frozen.proposeEscrowSeizure(
            1, ZERO_ADDRESS if zero == "recovery" else recovery, b"\x00" * 32 if zero == "case" else CASE, EVIDENCE, {"from": compliance}
        )


def test_reject_escrow_seizure(proposed, seize_approver, reverts):
    tx = proposed.rejectEscrowSeizure(1, {"from": seize_approver})
    assert (tx.events["EscrowSeizureRejected"]["approver"], proposed.escrowSeizure(1)[5], proposed.request(1)[3]) == (
        seize_approver, 3, PENDING
    )
    with reverts("RedemptionQueueSeizureNotPending", seizureId=1):
        proposed.executeEscrowSeizure(1, {"from": seize_approver})


@pytest.mark.parametrize("fn, who", [("proposeEscrowSeizure", "seize_approver"), ("executeEscrowSeizure", "compliance")])
def test_escrow_seizure_wrong_role_reverts(proposed, recovery, reverts, request, fn, who):
    args = (1, recovery, CASE, EVIDENCE) if fn == "proposeEscrowSeizure" else (1,)
    with reverts("AccessManagedUnauthorized"):
        getattr(proposed, fn)(*args, {"from": request.getfixturevalue(who)})


# --- Governance settings ---


def test_set_min_amount(queue, admin):
    tx = queue.setMinAmount(5 * UNIT, {"from": admin})
    assert (queue.minAmount(), tx.events["MinAmountUpdated"]["previousMinAmount"]) == (5 * UNIT, MIN)


@pytest.mark.parametrize("seconds", [0, 90 * 86_400 + 1])
def test_set_service_level_out_of_range_reverts(queue, admin, reverts, seconds):
    with reverts("RedemptionQueueInvalidServiceLevel", serviceLevel=seconds):
        queue.setServiceLevel(seconds, {"from": admin})


@pytest.mark.parametrize("fn, arg", [("setMinAmount", 1), ("setServiceLevel", 60)])
def test_settings_need_admin(queue, redeemer, reverts, fn, arg):
    with reverts("AccessManagedUnauthorized"):
        getattr(queue, fn)(arg, {"from": redeemer})


def test_zero_minimum_still_refuses_zero_amount(queue, funded, alice, admin, reverts):
    queue.setMinAmount(0, {"from": admin})
    with reverts("RedemptionQueueAmountTooSmall", amount=0, minimum=0):
        queue.requestRedemption(0, ref("x"), {"from": alice})


# --- Edges: self-submitted authorization, bounds, initialization ---


def test_relayed_request_submitted_by_holder_itself(queue, funded, alice):
    tx = queue.requestRedemptionWithAuthorization(*signed(queue, funded, alice, MIN, "self"), {"from": alice})
    assert (tx.events["RedemptionRequested"]["submitter"], queue.pendingAmount()) == (alice, MIN)


def test_set_min_amount_beyond_supply_bound_reverts(queue, admin, reverts):
    with reverts("RedemptionQueueAmountTooSmall", amount=2**128 - 1, minimum=2**128):
        queue.setMinAmount(2**128, {"from": admin})


def test_initialize_again_reverts(queue, kgst, manager, admin, reverts):
    with reverts("InvalidInitialization"):
        queue.initialize(kgst, manager, MIN, SLA, {"from": admin})


def test_initializer_refuses_zero_addresses(kgst, manager, stranger, reverts):
    """Behind a proxy that does not initialize (contracts/test/UninitializedProxy.sol): the
    initializer is a transaction of its own, so its checks are measured by coverage."""
    from brownie import Contract, RedemptionQueue, UninitializedProxy

    proxy = UninitializedProxy.deploy(RedemptionQueue.deploy({"from": stranger}), {"from": stranger})
    bare = Contract.from_abi("RedemptionQueue", proxy.address, RedemptionQueue.abi)
    with reverts("RedemptionQueueZeroAddress"):
        bare.initialize(ZERO_ADDRESS, manager, MIN, SLA, {"from": stranger})
    with reverts("RedemptionQueueZeroAddress"):
        bare.initialize(kgst, ZERO_ADDRESS, MIN, SLA, {"from": stranger})
    bare.initialize(kgst, manager, MIN, SLA, {"from": stranger})
    assert (bare.token(), bare.minAmount(), bare.serviceLevel()) == (kgst.address, MIN, SLA)
