"""Maker-checker seizure: compliance proposes moving a blocked balance, a second officer executes."""

import pytest
from eth_utils import keccak

UNIT = 10**18
ZERO_ADDRESS = "0x" + "00" * 20
ZERO_REF = b"\x00" * 32
PAUSE_TRANSFERS = 1
SEIZE_APPROVER_ROLE = 7
CASE = keccak(text="court-case-42")
EVIDENCE = keccak(text="evidence-bundle")
# IStablecoin.SeizureStatus
NONE, PROPOSED, EXECUTED, REJECTED = 0, 1, 2, 3


@pytest.fixture
def recovery(carol):
    """The issuer's recovery address."""
    return carol


@pytest.fixture
def blocked(funded, compliance, alice):
    """alice (1,000 KGST) is on the blocklist."""
    funded.blockAccount(alice, keccak(text="sanctions"), {"from": compliance})
    return funded


@pytest.fixture
def proposed(blocked, compliance, alice, recovery):
    """Seizure 1: 400 KGST of alice to the recovery address, proposed by compliance."""
    blocked.proposeSeizure(alice, recovery, 400 * UNIT, CASE, EVIDENCE, {"from": compliance})
    return blocked


def test_propose_seizure_emits_seizure_proposed(blocked, compliance, alice, recovery):
    tx = blocked.proposeSeizure(alice, recovery, 400 * UNIT, CASE, EVIDENCE, {"from": compliance})
    e = tx.events["SeizureProposed"]
    assert (e["seizureId"], e["account"], e["recovery"], e["amount"], bytes(e["caseRef"]), bytes(e["evidenceHash"]), e["proposer"]) == (
        1, alice, recovery, 400 * UNIT, CASE, EVIDENCE, compliance
    )


@pytest.mark.parametrize("earlier", [0, 2])
def test_propose_seizure_returns_next_id(blocked, compliance, alice, recovery, earlier):
    for _ in range(earlier):
        blocked.proposeSeizure(alice, recovery, 1 * UNIT, CASE, EVIDENCE, {"from": compliance})
    seizure_id = blocked.proposeSeizure.call(alice, recovery, 400 * UNIT, CASE, EVIDENCE, {"from": compliance})
    assert seizure_id == earlier + 1


def test_propose_seizure_records_order(proposed, compliance, alice, recovery):
    order = proposed.seizure(1)
    assert (order[0], order[1], order[2], bytes(order[3]), bytes(order[4]), order[5], order[6]) == (
        alice, recovery, 400 * UNIT, CASE, EVIDENCE, compliance, PROPOSED
    )


def test_propose_seizure_counts(proposed, compliance, alice, recovery):
    proposed.proposeSeizure(alice, recovery, 1 * UNIT, CASE, EVIDENCE, {"from": compliance})
    assert proposed.seizureCount() == 2


def test_propose_seizure_moves_nothing(proposed, alice):
    assert proposed.balanceOf(alice) == 1_000 * UNIT


def test_seizure_unknown_id_is_empty(kgst):
    assert kgst.seizure(1)[6] == NONE


def test_propose_seizure_not_blocked_reverts(funded, compliance, bob, recovery, reverts):
    with reverts("AccountNotBlocked", account=bob.address):
        funded.proposeSeizure(bob, recovery, 1 * UNIT, CASE, EVIDENCE, {"from": compliance})


def test_propose_seizure_blocked_recovery_reverts(blocked, compliance, alice, mallory, reverts):
    blocked.blockAccount(mallory, keccak(text="sanctions-2"), {"from": compliance})
    with reverts("BlockedAddress", account=mallory.address):
        blocked.proposeSeizure(alice, mallory, 1 * UNIT, CASE, EVIDENCE, {"from": compliance})


@pytest.mark.parametrize(
    "recovery_address, amount, case, error",
    [(ZERO_ADDRESS, 1, CASE, "ZeroAddress"), (None, 0, CASE, "ZeroAmount"), (None, 1, ZERO_REF, "ZeroReference")],
    ids=["zero-recovery", "zero-amount", "zero-case"],
)
def test_propose_seizure_empty_argument_reverts(blocked, compliance, alice, recovery, reverts, recovery_address, amount, case, error):
    with reverts(error):
        blocked.proposeSeizure(alice, recovery_address or recovery, amount, case, EVIDENCE, {"from": compliance})


def test_execute_seizure_moves_balance(proposed, seize_approver, alice, recovery):
    proposed.executeSeizure(1, {"from": seize_approver})
    assert (proposed.balanceOf(alice), proposed.balanceOf(recovery)) == (600 * UNIT, 400 * UNIT)


def test_execute_seizure_keeps_total_supply(proposed, seize_approver):
    supply = proposed.totalSupply()
    proposed.executeSeizure(1, {"from": seize_approver})
    assert proposed.totalSupply() == supply


def test_execute_seizure_keeps_account_blocked(proposed, seize_approver, alice, recovery):
    proposed.executeSeizure(1, {"from": seize_approver})
    assert (proposed.isBlocked(alice), proposed.isBlocked(recovery)) == (True, False)


def test_execute_seizure_emits_seizure_executed(proposed, seize_approver, alice, recovery):
    tx = proposed.executeSeizure(1, {"from": seize_approver})
    e = tx.events["SeizureExecuted"]
    assert (e["seizureId"], e["account"], e["recovery"], e["amount"], bytes(e["caseRef"]), e["approver"]) == (
        1, alice, recovery, 400 * UNIT, CASE, seize_approver
    )


def test_execute_seizure_emits_transfer(proposed, seize_approver, alice, recovery):
    tx = proposed.executeSeizure(1, {"from": seize_approver})
    e = tx.events["Transfer"]
    assert (e["from"], e["to"], e["value"]) == (alice, recovery, 400 * UNIT)


def test_execute_seizure_marks_executed(proposed, seize_approver):
    proposed.executeSeizure(1, {"from": seize_approver})
    assert proposed.seizure(1)[6] == EXECUTED


def test_execute_seizure_while_transfers_paused_succeeds(proposed, seize_approver, pauser, recovery):
    proposed.pause(PAUSE_TRANSFERS, {"from": pauser})
    proposed.executeSeizure(1, {"from": seize_approver})
    assert proposed.balanceOf(recovery) == 400 * UNIT


def test_execute_seizure_whole_balance_succeeds(blocked, compliance, seize_approver, alice, recovery):
    blocked.proposeSeizure(alice, recovery, 1_000 * UNIT, CASE, EVIDENCE, {"from": compliance})
    blocked.executeSeizure(1, {"from": seize_approver})
    assert (blocked.balanceOf(alice), blocked.balanceOf(recovery)) == (0, 1_000 * UNIT)


def test_execute_seizure_by_proposer_holding_both_roles_reverts(proposed, manager, admin, compliance, reverts):
    manager.grantRole(SEIZE_APPROVER_ROLE, compliance, 0, {"from": admin})
    with reverts("SeizureSelfApproval", seizureId=1, officer=compliance.address):
        proposed.executeSeizure(1, {"from": compliance})


def test_execute_seizure_by_compliance_without_approver_role_reverts(proposed, compliance, reverts):
    with reverts("AccessManagedUnauthorized", caller=compliance.address):
        proposed.executeSeizure(1, {"from": compliance})


def test_execute_seizure_twice_reverts(proposed, seize_approver, reverts):
    proposed.executeSeizure(1, {"from": seize_approver})
    with reverts("SeizureNotPending", seizureId=1):
        proposed.executeSeizure(1, {"from": seize_approver})


def test_execute_seizure_unknown_id_reverts(proposed, seize_approver, reverts):
    with reverts("SeizureNotPending", seizureId=2):
        proposed.executeSeizure(2, {"from": seize_approver})


def test_reject_seizure_emits_seizure_rejected(proposed, seize_approver):
    tx = proposed.rejectSeizure(1, {"from": seize_approver})
    e = tx.events["SeizureRejected"]
    assert (e["seizureId"], e["approver"]) == (1, seize_approver)


def test_reject_seizure_marks_rejected(proposed, seize_approver):
    proposed.rejectSeizure(1, {"from": seize_approver})
    assert proposed.seizure(1)[6] == REJECTED


def test_rejected_seizure_cannot_execute(proposed, seize_approver, reverts):
    proposed.rejectSeizure(1, {"from": seize_approver})
    with reverts("SeizureNotPending", seizureId=1):
        proposed.executeSeizure(1, {"from": seize_approver})


def test_rejected_seizure_moves_nothing(proposed, seize_approver, alice, recovery, reverts):
    proposed.rejectSeizure(1, {"from": seize_approver})
    with reverts("SeizureNotPending"):
        proposed.executeSeizure(1, {"from": seize_approver})
    assert (proposed.balanceOf(alice), proposed.balanceOf(recovery)) == (1_000 * UNIT, 0)


def test_reject_executed_seizure_reverts(proposed, seize_approver, reverts):
    proposed.executeSeizure(1, {"from": seize_approver})
    with reverts("SeizureNotPending", seizureId=1):
        proposed.rejectSeizure(1, {"from": seize_approver})


def test_execute_seizure_after_unblock_reverts(proposed, compliance, seize_approver, alice, reverts):
    """Unblocking cancels the account's pending orders (issue 15, finding 5)."""
    proposed.unblockAccount(alice, {"from": compliance})
    assert proposed.seizure(1)[6] == 4  # Cancelled
    with reverts("SeizureNotPending", seizureId=1):
        proposed.executeSeizure(1, {"from": seize_approver})


def test_execute_seizure_above_balance_reverts(blocked, compliance, seize_approver, alice, recovery, reverts):
    blocked.proposeSeizure(alice, recovery, 1_000 * UNIT + 1, CASE, EVIDENCE, {"from": compliance})
    with reverts("ERC20InsufficientBalance", sender=alice.address, balance=1_000 * UNIT, needed=1_000 * UNIT + 1):
        blocked.executeSeizure(1, {"from": seize_approver})


def test_execute_seizure_to_recovery_blocked_since_reverts(proposed, compliance, seize_approver, recovery, reverts):
    proposed.blockAccount(recovery, keccak(text="sanctions-2"), {"from": compliance})
    with reverts("BlockedAddress", account=recovery.address):
        proposed.executeSeizure(1, {"from": seize_approver})


def test_propose_seizure_by_stranger_reverts(blocked, stranger, alice, recovery, reverts):
    with reverts("AccessManagedUnauthorized", caller=stranger.address):
        blocked.proposeSeizure(alice, recovery, 1 * UNIT, CASE, EVIDENCE, {"from": stranger})
