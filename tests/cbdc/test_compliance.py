"""Pause, sanctions blocklist, maker-checker seizure and rescue on the digital som: they behave
exactly as on KGST (tests/stablecoin), with the digital som's errors, and a seizure's recovery
wallet must be registered in an uncapped tier."""

import pytest
from brownie import MockERC20
from cbdclib import (
    BASIC_TIER,
    GOVERNMENT_TIER,
    PAUSE_MINT,
    PAUSE_REDEEM,
    PAUSE_TRANSFERS,
    STANDARD_TIER,
    TYIYN,
    identity_of,
    kyc_record,
)
from eth_utils import keccak, to_checksum_address

from somstack.system.roles import role_id

ALL_FLAGS = PAUSE_TRANSFERS | PAUSE_MINT | PAUSE_REDEEM
MAX_UINT = 2**256 - 1
ZERO_ADDRESS = "0x" + "00" * 20
ZERO_REF = b"\x00" * 32
REASON = keccak(text="sanctions-record-1")
CASE = keccak(text="court-case-42")
EVIDENCE = keccak(text="evidence-bundle")
# IDigitalCurrency.SeizureStatus
NONE, PROPOSED, EXECUTED, REJECTED = 0, 1, 2, 3


def som(amount):
    """`amount` som in token units (tyiyn)."""
    return amount * TYIYN


def address_of(name):
    """A deterministic address with no key (it never sends a transaction)."""
    return to_checksum_address(keccak(text=f"wallet:{name}")[-20:])


@pytest.fixture
def register(cbdc_ready, kyc_officer):
    """register(wallet, tier, name): a KYC registration of `wallet` for the person or body `name`."""

    def _register(wallet, tier, name):
        cbdc_ready.registerWallet(wallet, tier, identity_of(name), kyc_record(name), {"from": kyc_officer})
        return wallet

    return _register


@pytest.fixture
def som_ready(cbdc_ready, register, treasury, alice, bob, carol, mallory):
    """alice, bob, carol and mallory in the standard tier; alice and bob paid 1,000 som each."""
    for person, name in ((alice, "alice"), (bob, "bob"), (carol, "carol"), (mallory, "mallory")):
        register(person, STANDARD_TIER, name)
    cbdc_ready.disburse(keccak(text="genesis-payroll"), [alice, bob], [som(1_000)] * 2, False, {"from": treasury})
    return cbdc_ready


def block(token, account, compliance):
    token.blockAccount(account, REASON, {"from": compliance})


# --- Pause ---


@pytest.fixture
def desk(som_ready, issuer):
    """The issuer holds 10 som to retire."""
    som_ready.mint(issuer, som(10), keccak(text="issuance-desk"), {"from": issuer})
    return som_ready


def _transfer(token, parties):
    token.transfer(parties["bob"], som(1), {"from": parties["alice"]})


def _mint(token, parties):
    token.mint(parties["carol"], som(1), keccak(text="issuance-pause"), {"from": parties["issuer"]})


def _redeem(token, parties):
    token.burn(som(1), keccak(text="retirement-pause"), {"from": parties["issuer"]})


OPERATIONS = {PAUSE_TRANSFERS: _transfer, PAUSE_MINT: _mint, PAUSE_REDEEM: _redeem}
OPERATION_IDS = {PAUSE_TRANSFERS: "transfers", PAUSE_MINT: "mint", PAUSE_REDEEM: "redeem"}


@pytest.fixture
def parties(alice, bob, carol, issuer):
    return {"alice": alice, "bob": bob, "carol": carol, "issuer": issuer}


@pytest.mark.parametrize("flag", list(OPERATIONS), ids=OPERATION_IDS.get)
def test_pause_flag_stops_its_operation(desk, pauser, parties, reverts, flag):
    desk.pause(flag, {"from": pauser})
    with reverts("OperationPaused", flag=flag):
        OPERATIONS[flag](desk, parties)


def test_pause_transfers_leaves_mint_running(desk, pauser, parties, carol):
    desk.pause(PAUSE_TRANSFERS, {"from": pauser})
    _mint(desk, parties)
    assert desk.balanceOf(carol) == som(1)


def test_pause_transfers_stops_transfer_from(som_ready, pauser, alice, bob, carol, reverts):
    som_ready.approve(bob, som(10), {"from": alice})
    som_ready.pause(PAUSE_TRANSFERS, {"from": pauser})
    with reverts("OperationPaused", flag=PAUSE_TRANSFERS):
        som_ready.transferFrom(alice, carol, som(1), {"from": bob})


def test_pause_transfers_stops_approve(som_ready, pauser, alice, bob, reverts):
    som_ready.pause(PAUSE_TRANSFERS, {"from": pauser})
    with reverts("OperationPaused", flag=PAUSE_TRANSFERS):
        som_ready.approve(bob, som(1), {"from": alice})


def test_pause_by_guardian_sets_flag(cbdc, guardian):
    cbdc.pause(PAUSE_TRANSFERS, {"from": guardian})
    assert cbdc.pausedFlags() == PAUSE_TRANSFERS


def test_unpause_by_guardian_reverts_and_keeps_flag(cbdc, guardian, reverts):
    cbdc.pause(PAUSE_MINT, {"from": guardian})
    with reverts("AccessManagedUnauthorized", caller=guardian.address):
        cbdc.unpause(PAUSE_MINT, {"from": guardian})
    assert cbdc.pausedFlags() == PAUSE_MINT


@pytest.mark.parametrize(
    "function, flags",
    [("pause", 0), ("pause", 8), ("unpause", 8)],
    ids=["pause-zero", "pause-eight", "unpause-eight"],
)
def test_pause_invalid_flags_revert(cbdc, pauser, reverts, function, flags):
    with reverts("InvalidPauseFlags", flags=flags):
        getattr(cbdc, function)(flags, {"from": pauser})


def test_pause_emits_flags_update(cbdc, pauser):
    cbdc.pause(PAUSE_MINT, {"from": pauser})
    tx = cbdc.pause(PAUSE_REDEEM, {"from": pauser})
    e = tx.events["PauseFlagsUpdated"]
    assert (e["account"], e["previousFlags"], e["newFlags"]) == (pauser, PAUSE_MINT, PAUSE_MINT | PAUSE_REDEEM)


# --- Blocklist ---


def test_block_account_emits_account_blocked(cbdc, compliance, mallory):
    tx = cbdc.blockAccount(mallory, REASON, {"from": compliance})
    e = tx.events["AccountBlocked"]
    assert (e["account"], bytes(e["reason"]), cbdc.isBlocked(mallory)) == (mallory, REASON, True)


def test_unblock_account_emits_account_unblocked(cbdc, compliance, mallory):
    block(cbdc, mallory, compliance)
    tx = cbdc.unblockAccount(mallory, {"from": compliance})
    assert (tx.events["AccountUnblocked"]["account"], cbdc.isBlocked(mallory)) == (mallory, False)


def test_block_twice_reverts(cbdc, compliance, mallory, reverts):
    block(cbdc, mallory, compliance)
    with reverts("BlockStatusUnchanged", account=mallory.address, blocked=True):
        block(cbdc, mallory, compliance)


def test_unblock_not_blocked_reverts(cbdc, compliance, mallory, reverts):
    with reverts("BlockStatusUnchanged", account=mallory.address, blocked=False):
        cbdc.unblockAccount(mallory, {"from": compliance})


def test_block_zero_address_reverts(cbdc, compliance, reverts):
    with reverts("ZeroAddress"):
        cbdc.blockAccount(ZERO_ADDRESS, REASON, {"from": compliance})


@pytest.mark.parametrize("caller", ["stranger", "kyc_officer"])
def test_block_account_by_non_compliance_reverts(cbdc, request, mallory, reverts, caller):
    account = request.getfixturevalue(caller)
    with reverts("AccessManagedUnauthorized", caller=account.address):
        cbdc.blockAccount(mallory, REASON, {"from": account})


def test_unblock_account_by_stranger_reverts(cbdc, compliance, stranger, mallory, reverts):
    block(cbdc, mallory, compliance)
    with reverts("AccessManagedUnauthorized", caller=stranger.address):
        cbdc.unblockAccount(mallory, {"from": stranger})


def test_blocked_sender_cannot_transfer(som_ready, compliance, alice, bob, reverts):
    block(som_ready, alice, compliance)
    with reverts("BlockedAddress", account=alice.address):
        som_ready.transfer(bob, som(1), {"from": alice})


def test_blocked_recipient_cannot_receive(som_ready, compliance, alice, mallory, reverts):
    block(som_ready, mallory, compliance)
    with reverts("BlockedAddress", account=mallory.address):
        som_ready.transfer(mallory, som(1), {"from": alice})


def test_blocked_recipient_cannot_be_issued_to(som_ready, compliance, issuer, mallory, reverts):
    block(som_ready, mallory, compliance)
    with reverts("BlockedAddress", account=mallory.address):
        som_ready.mint(mallory, som(1), keccak(text="issuance-blocked"), {"from": issuer})


def test_blocked_owner_cannot_approve(som_ready, compliance, alice, bob, reverts):
    block(som_ready, alice, compliance)
    with reverts("BlockedAddress", account=alice.address):
        som_ready.approve(bob, som(1), {"from": alice})


def test_blocked_spender_cannot_be_approved(som_ready, compliance, alice, mallory, reverts):
    block(som_ready, mallory, compliance)
    with reverts("BlockedAddress", account=mallory.address):
        som_ready.approve(mallory, som(1), {"from": alice})


def test_allowance_of_blocked_spender_can_be_revoked(som_ready, compliance, alice, mallory):
    som_ready.approve(mallory, som(10), {"from": alice})
    block(som_ready, mallory, compliance)
    som_ready.approve(mallory, 0, {"from": alice})
    assert som_ready.allowance(alice, mallory) == 0


def test_blocked_owner_funds_cannot_be_pulled(som_ready, compliance, alice, bob, carol, reverts):
    som_ready.approve(bob, som(10), {"from": alice})
    block(som_ready, alice, compliance)
    with reverts("BlockedAddress", account=alice.address):
        som_ready.transferFrom(alice, carol, som(1), {"from": bob})


def test_transfer_from_to_blocked_recipient_reverts(som_ready, compliance, alice, bob, mallory, reverts):
    som_ready.approve(bob, som(10), {"from": alice})
    block(som_ready, mallory, compliance)
    with reverts("BlockedAddress", account=mallory.address):
        som_ready.transferFrom(alice, mallory, som(1), {"from": bob})


@pytest.mark.parametrize("allowance", [som(10), MAX_UINT], ids=["limited", "unlimited"])
def test_blocked_spender_cannot_spend_allowance(som_ready, compliance, alice, mallory, carol, reverts, allowance):
    som_ready.approve(mallory, allowance, {"from": alice})
    block(som_ready, mallory, compliance)
    with reverts("BlockedAddress", account=mallory.address):
        som_ready.transferFrom(alice, carol, som(1), {"from": mallory})
    assert (som_ready.balanceOf(alice), som_ready.allowance(alice, mallory)) == (som(1_000), allowance)


def test_block_keeps_balance_and_tier(som_ready, compliance, alice):
    block(som_ready, alice, compliance)
    assert (som_ready.balanceOf(alice), som_ready.walletOf(alice)[0]) == (som(1_000), STANDARD_TIER)


def test_unblocked_wallet_can_transfer_again(som_ready, compliance, alice, bob):
    block(som_ready, alice, compliance)
    som_ready.unblockAccount(alice, {"from": compliance})
    som_ready.transfer(bob, som(1), {"from": alice})
    assert som_ready.balanceOf(bob) == som(1_001)


def test_wallet_blocked_before_registration_stays_blocked(cbdc_ready, compliance, register):
    wallet = address_of("sanctioned-before-kyc")
    block(cbdc_ready, wallet, compliance)
    register(wallet, BASIC_TIER, "sanctioned-before-kyc")
    assert (cbdc_ready.isBlocked(wallet), cbdc_ready.walletOf(wallet)[0]) == (True, BASIC_TIER)


# --- Seizure ---


@pytest.fixture
def recovery(register):
    """The central bank's recovery wallet, in the (uncapped) government tier."""
    return register(address_of("recovery"), GOVERNMENT_TIER, "central-bank-recovery")


@pytest.fixture
def blocked(som_ready, compliance, alice):
    """alice (1,000 som) is on the blocklist."""
    block(som_ready, alice, compliance)
    return som_ready


@pytest.fixture
def proposed(blocked, compliance, alice, recovery):
    """Seizure 1: 400 som of alice to the recovery wallet, proposed by compliance."""
    blocked.proposeSeizure(alice, recovery, som(400), CASE, EVIDENCE, {"from": compliance})
    return blocked


def test_propose_seizure_emits_seizure_proposed(blocked, compliance, alice, recovery):
    tx = blocked.proposeSeizure(alice, recovery, som(400), CASE, EVIDENCE, {"from": compliance})
    e = tx.events["SeizureProposed"]
    assert (e["seizureId"], e["account"], e["recovery"], e["amount"], bytes(e["caseRef"]), bytes(e["evidenceHash"]), e["proposer"]) == (
        1, alice, recovery, som(400), CASE, EVIDENCE, compliance
    )


def test_propose_seizure_records_order_and_moves_nothing(proposed, compliance, alice, recovery):
    order = proposed.seizure(1)
    assert (order[0], order[1], order[2], bytes(order[3]), bytes(order[4]), order[5], order[6], proposed.seizureCount()) == (
        alice, recovery, som(400), CASE, EVIDENCE, compliance, PROPOSED, 1
    )
    assert (proposed.balanceOf(alice), proposed.balanceOf(recovery)) == (som(1_000), 0)


def test_propose_seizure_not_blocked_reverts(som_ready, compliance, bob, recovery, reverts):
    with reverts("AccountNotBlocked", account=bob.address):
        som_ready.proposeSeizure(bob, recovery, som(1), CASE, EVIDENCE, {"from": compliance})


@pytest.mark.parametrize("case", ["capped", "unregistered"])
def test_propose_seizure_to_recovery_not_uncapped_reverts(blocked, compliance, alice, carol, reverts, case):
    recovery, tier = (carol, STANDARD_TIER) if case == "capped" else (address_of("nobody"), 0)
    with reverts("DigitalCurrencyNotUncapped", account=str(recovery), tier=tier):
        blocked.proposeSeizure(alice, recovery, som(1), CASE, EVIDENCE, {"from": compliance})


def test_propose_seizure_to_blocked_recovery_reverts(blocked, compliance, alice, recovery, reverts):
    block(blocked, recovery, compliance)
    with reverts("BlockedAddress", account=recovery):
        blocked.proposeSeizure(alice, recovery, som(1), CASE, EVIDENCE, {"from": compliance})


@pytest.mark.parametrize(
    "to_zero, amount, case, error",
    [(True, 1, CASE, "ZeroAddress"), (False, 0, CASE, "ZeroAmount"), (False, 1, ZERO_REF, "ZeroReference")],
    ids=["zero-recovery", "zero-amount", "zero-case"],
)
def test_propose_seizure_empty_argument_reverts(blocked, compliance, alice, recovery, reverts, to_zero, amount, case, error):
    with reverts(error):
        blocked.proposeSeizure(alice, ZERO_ADDRESS if to_zero else recovery, amount, case, EVIDENCE, {"from": compliance})


def test_propose_seizure_by_seize_approver_reverts(blocked, seize_approver, alice, recovery, reverts):
    with reverts("AccessManagedUnauthorized", caller=seize_approver.address):
        blocked.proposeSeizure(alice, recovery, som(1), CASE, EVIDENCE, {"from": seize_approver})


def test_execute_seizure_moves_exactly_the_amount(proposed, seize_approver, alice, recovery):
    supply = proposed.totalSupply()
    proposed.executeSeizure(1, {"from": seize_approver})
    assert (proposed.balanceOf(alice), proposed.balanceOf(recovery), proposed.totalSupply()) == (som(600), som(400), supply)
    assert proposed.seizure(1)[6] == EXECUTED


def test_execute_seizure_emits_seizure_executed_and_transfer(proposed, seize_approver, alice, recovery):
    tx = proposed.executeSeizure(1, {"from": seize_approver})
    e, t = tx.events["SeizureExecuted"], tx.events["Transfer"]
    assert (e["seizureId"], e["account"], e["recovery"], e["amount"], bytes(e["caseRef"]), e["approver"]) == (
        1, alice, recovery, som(400), CASE, seize_approver
    )
    assert (t["from"], t["to"], t["value"]) == (alice, recovery, som(400))


def test_execute_seizure_keeps_blocklist_flags_and_tiers(proposed, seize_approver, alice, recovery):
    proposed.executeSeizure(1, {"from": seize_approver})
    assert (proposed.isBlocked(alice), proposed.isBlocked(recovery), proposed.walletOf(alice)[0], proposed.walletOf(recovery)[0]) == (
        True, False, STANDARD_TIER, GOVERNMENT_TIER
    )


@pytest.fixture
def full_basic(cbdc_ready, register, treasury, compliance, recovery):
    """A basic-tier wallet filled to its cap, blocked, and a seizure of all of it proposed: the
    amount is above the basic per-transfer and daily limits."""
    wallet = register(address_of("dave"), BASIC_TIER, "dave")
    cap = cbdc_ready.tier(BASIC_TIER)[0]
    cbdc_ready.disburse(keccak(text="payroll-dave"), [wallet], [cap], False, {"from": treasury})
    block(cbdc_ready, wallet, compliance)
    cbdc_ready.proposeSeizure(wallet, recovery, cap, CASE, EVIDENCE, {"from": compliance})
    return wallet, cap


def test_execute_seizure_while_paused_ignores_limits(cbdc_ready, full_basic, pauser, seize_approver, recovery):
    wallet, cap = full_basic
    cbdc_ready.pause(ALL_FLAGS, {"from": pauser})
    cbdc_ready.executeSeizure(1, {"from": seize_approver})
    assert (cbdc_ready.balanceOf(wallet), cbdc_ready.balanceOf(recovery)) == (0, cap)


def test_execute_seizure_not_counted_as_outflow(cbdc_ready, full_basic, seize_approver):
    wallet, _ = full_basic
    cbdc_ready.executeSeizure(1, {"from": seize_approver})
    assert cbdc_ready.outflowToday(wallet) == 0


def test_execute_seizure_by_proposer_holding_both_roles_reverts(proposed, manager, admin, compliance, reverts):
    manager.grantRole(role_id("SEIZE_APPROVER"), compliance, 0, {"from": admin})
    with reverts("SeizureSelfApproval", seizureId=1, officer=compliance.address):
        proposed.executeSeizure(1, {"from": compliance})


def test_execute_seizure_by_compliance_without_approver_role_reverts(proposed, compliance, reverts):
    with reverts("AccessManagedUnauthorized", caller=compliance.address):
        proposed.executeSeizure(1, {"from": compliance})


def test_execute_seizure_twice_reverts(proposed, seize_approver, alice, reverts):
    proposed.executeSeizure(1, {"from": seize_approver})
    with reverts("SeizureNotPending", seizureId=1):
        proposed.executeSeizure(1, {"from": seize_approver})
    assert proposed.balanceOf(alice) == som(600)


def test_execute_seizure_above_balance_reverts(blocked, compliance, seize_approver, alice, recovery, reverts):
    blocked.proposeSeizure(alice, recovery, som(1_000) + 1, CASE, EVIDENCE, {"from": compliance})
    with reverts("ERC20InsufficientBalance", sender=alice.address, balance=som(1_000), needed=som(1_000) + 1):
        blocked.executeSeizure(1, {"from": seize_approver})


def test_execute_seizure_after_unblock_reverts(proposed, compliance, seize_approver, alice, reverts):
    """Unblocking cancels the account's pending orders (issue 15, finding 5)."""
    proposed.unblockAccount(alice, {"from": compliance})
    assert proposed.seizure(1)[6] == 4  # Cancelled
    with reverts("SeizureNotPending", seizureId=1):
        proposed.executeSeizure(1, {"from": seize_approver})


def test_execute_seizure_to_recovery_moved_to_capped_tier_reverts(proposed, kyc_officer, seize_approver, recovery, reverts):
    proposed.changeTier(recovery, STANDARD_TIER, kyc_record("recovery-downgrade"), {"from": kyc_officer})
    with reverts("DigitalCurrencyNotUncapped", account=recovery, tier=STANDARD_TIER):
        proposed.executeSeizure(1, {"from": seize_approver})


def test_execute_seizure_to_recovery_blocked_since_reverts(proposed, compliance, seize_approver, recovery, reverts):
    block(proposed, recovery, compliance)
    with reverts("BlockedAddress", account=recovery):
        proposed.executeSeizure(1, {"from": seize_approver})


def test_reject_seizure_emits_and_marks_rejected(proposed, seize_approver):
    tx = proposed.rejectSeizure(1, {"from": seize_approver})
    e = tx.events["SeizureRejected"]
    assert (e["seizureId"], e["approver"], proposed.seizure(1)[6]) == (1, seize_approver, REJECTED)


def test_rejected_seizure_cannot_execute(proposed, seize_approver, alice, reverts):
    proposed.rejectSeizure(1, {"from": seize_approver})
    with reverts("SeizureNotPending", seizureId=1):
        proposed.executeSeizure(1, {"from": seize_approver})
    assert proposed.balanceOf(alice) == som(1_000)


def test_reject_executed_seizure_reverts(proposed, seize_approver, reverts):
    proposed.executeSeizure(1, {"from": seize_approver})
    with reverts("SeizureNotPending", seizureId=1):
        proposed.rejectSeizure(1, {"from": seize_approver})


# --- Rescue ---


@pytest.fixture
def stray(cbdc, admin, alice):
    """A foreign ERC-20 of which alice sent 50 to the digital som proxy by mistake."""
    token = MockERC20.deploy("Stray Token", "STRAY", {"from": admin})
    token.mint(alice, 100 * 10**18, {"from": admin})
    token.transfer(cbdc, 50 * 10**18, {"from": alice})
    return token


def test_rescue_foreign_token_returns_balance(cbdc, stray, rescuer, alice):
    cbdc.rescueERC20(stray, alice, 50 * 10**18, {"from": rescuer})
    assert (stray.balanceOf(alice), stray.balanceOf(cbdc)) == (100 * 10**18, 0)


def test_rescue_foreign_token_emits_tokens_rescued(cbdc, stray, rescuer, alice):
    tx = cbdc.rescueERC20(stray, alice, 20 * 10**18, {"from": rescuer})
    e = tx.events["TokensRescued"]
    assert (e["token"], e["to"], e["amount"]) == (stray, alice, 20 * 10**18)


def test_rescue_foreign_token_above_held_reverts(cbdc, stray, rescuer, alice, reverts):
    with reverts("ERC20InsufficientBalance", sender=cbdc.address, balance=50 * 10**18, needed=50 * 10**18 + 1):
        cbdc.rescueERC20(stray, alice, 50 * 10**18 + 1, {"from": rescuer})


def test_rescue_to_zero_address_reverts(cbdc, stray, rescuer, reverts):
    with reverts("ZeroAddress"):
        cbdc.rescueERC20(stray, ZERO_ADDRESS, 1, {"from": rescuer})


def test_rescue_by_non_rescuer_reverts(cbdc, stray, compliance, reverts):
    with reverts("AccessManagedUnauthorized", caller=compliance.address):
        cbdc.rescueERC20(stray, compliance, 50 * 10**18, {"from": compliance})
    assert stray.balanceOf(cbdc) == 50 * 10**18
