"""The six findings of the independent review (issue 15) that live in the tokens, each replayed as
the attacker did it and now refused with a named custom error; and the two decisions that came
with them (a blocked minter, the overflow link). The reserve's findings (2: max share, 3: the
rate's change per window, 4: a dust deposit of a stale-priced asset) are replayed in
tests/vault/test_reserve_findings.py.

1. maker-checker through the AccessManager (KGST and the digital som): an officer holding both
   COMPLIANCE and SEIZE_APPROVER proposes directly and executes through `AccessManager.execute`
   (or the other way round, or as a scheduled operation). The token refuses any seizure proposed
   or executed through the manager (`SeizureRelayed`), so proposer and approver are always the
   officers' own addresses, and the direct route still refuses self-approval.
5. an order outlives its block: unblocking cancels every pending order of the account; blocking
   it again months later does not revive it (`SeizureNotPending`, status Cancelled).
6. a tier that has held wallets cannot switch between capped and uncapped
   (`DigitalCurrencyTierInUse`): its kind is fixed by its first wallet.
"""

from __future__ import annotations

import pytest
from brownie import chain
from cbdclib import (
    BANK_TIER,
    BASIC_TIER,
    FULL_TIER,
    GOVERNMENT_TIER,
    STANDARD_TIER,
    TYIYN,
    UNLIMITED,
    identity_of,
    kyc_record,
)
from eth_utils import keccak, to_checksum_address

from somstack.system.roles import role_id

UNIT = 10**18
CASE = keccak(text="court-case-15")
EVIDENCE = keccak(text="evidence-15")
REASON = keccak(text="sanctions-15")
OTHER_REASON = keccak(text="another-sanction-months-later")
PROPOSED, EXECUTED, REJECTED, CANCELLED = 1, 2, 3, 4
ZERO = "0x" + "00" * 20
SEIZE_APPROVER = role_id("SEIZE_APPROVER")
COMPLIANCE = role_id("COMPLIANCE")
DELAY = 3_600  # an execution delay on the officer's role [s]


def _wallet(name):
    return to_checksum_address(keccak(text=f"finding-wallet:{name}")[-20:])


@pytest.fixture(params=["kgst", "som"])
def token(request, funded, cbdc_ready, kyc_officer, treasury, alice):
    """Each token with alice holding 1,000 and a recovery address fit for it (the digital som's
    recovery wallet sits in the uncapped government tier)."""
    if request.param == "kgst":
        return funded, _wallet("kgst-recovery"), 1_000 * UNIT
    cbdc_ready.registerWallet(alice, BASIC_TIER, identity_of("alice"), kyc_record("alice"), {"from": kyc_officer})
    cbdc_ready.transfer(alice, 1_000 * TYIYN, {"from": treasury})
    recovery = _wallet("som-recovery")
    cbdc_ready.registerWallet(recovery, GOVERNMENT_TIER, identity_of("som-recovery"), kyc_record("som-recovery"), {"from": kyc_officer})
    return cbdc_ready, recovery, 1_000 * TYIYN


@pytest.fixture
def dual(manager, admin, compliance):
    """The audit's attacker: the compliance officer also holds SEIZE_APPROVER."""
    manager.grantRole(SEIZE_APPROVER, compliance, 0, {"from": admin})
    return compliance


def _blocked(token, account, officer):
    token.blockAccount(account, REASON, {"from": officer})


# --- Finding 1: maker-checker, by every route ---


def test_finding1_propose_direct_execute_through_manager_refused(token, dual, manager, alice, reverts):
    contract, recovery, amount = token
    _blocked(contract, alice, dual)
    contract.proposeSeizure(alice, recovery, amount, CASE, EVIDENCE, {"from": dual})
    with reverts("SeizureRelayed", authority=manager.address):
        manager.execute(contract, contract.executeSeizure.encode_input(1), {"from": dual})
    assert contract.balanceOf(alice) == amount and contract.seizure(1)[6] == PROPOSED


def test_finding1_propose_through_manager_execute_direct_refused(token, dual, manager, alice, reverts):
    contract, recovery, amount = token
    _blocked(contract, alice, dual)
    with reverts("SeizureRelayed", authority=manager.address):
        manager.execute(contract, contract.proposeSeizure.encode_input(alice, recovery, amount, CASE, EVIDENCE), {"from": dual})
    assert contract.seizureCount() == 0


def test_finding1_scheduled_operation_refused(token, dual, manager, admin, alice, reverts):
    """The approver role carries an execution delay: the officer schedules its own approval, waits
    the delay and runs it. The token sees the manager: refused."""
    contract, recovery, amount = token
    _blocked(contract, alice, dual)
    contract.proposeSeizure(alice, recovery, amount, CASE, EVIDENCE, {"from": dual})
    manager.grantRole(SEIZE_APPROVER, dual, DELAY, {"from": admin})  # the grant now carries a delay
    data = contract.executeSeizure.encode_input(1)
    manager.schedule(contract, data, 0, {"from": dual})
    chain.sleep(DELAY + 1)
    chain.mine()
    with reverts("SeizureRelayed", authority=manager.address):
        manager.execute(contract, data, {"from": dual})
    assert contract.balanceOf(alice) == amount


def test_finding1_direct_self_approval_still_refused(token, dual, alice, reverts):
    contract, recovery, amount = token
    _blocked(contract, alice, dual)
    contract.proposeSeizure(alice, recovery, amount, CASE, EVIDENCE, {"from": dual})
    with reverts("SeizureSelfApproval", seizureId=1, officer=dual.address):
        contract.executeSeizure(1, {"from": dual})


def test_finding1_records_the_officers_on_the_direct_route(token, compliance, seize_approver, alice):
    """The route that works: two officers, each calling the token; both are recorded as they are."""
    contract, recovery, amount = token
    _blocked(contract, alice, compliance)
    proposed = contract.proposeSeizure(alice, recovery, amount, CASE, EVIDENCE, {"from": compliance})
    executed = contract.executeSeizure(1, {"from": seize_approver})
    assert proposed.events["SeizureProposed"]["proposer"] == compliance.address
    assert executed.events["SeizureExecuted"]["approver"] == seize_approver.address
    assert contract.balanceOf(recovery) == amount and contract.seizure(1)[5] == compliance.address


def test_finding1_rejection_through_manager_allowed(token, compliance, seize_approver, manager, admin, alice):
    """Rejecting removes risk: it may come through the manager (a delayed approver's route)."""
    contract, recovery, amount = token
    _blocked(contract, alice, compliance)
    contract.proposeSeizure(alice, recovery, amount, CASE, EVIDENCE, {"from": compliance})
    manager.execute(contract, contract.rejectSeizure.encode_input(1), {"from": seize_approver})
    assert contract.seizure(1)[6] == REJECTED


# --- Finding 5: an order outlives its block ---


def test_finding5_unblock_then_reblock_does_not_revive_the_order(token, compliance, seize_approver, alice, reverts):
    contract, recovery, amount = token
    _blocked(contract, alice, compliance)
    contract.proposeSeizure(alice, recovery, amount, CASE, EVIDENCE, {"from": compliance})
    contract.unblockAccount(alice, {"from": compliance})
    assert contract.seizure(1)[6] == CANCELLED
    chain.sleep(120 * 86_400)  # months later, blocked again for another reason
    chain.mine()
    contract.blockAccount(alice, OTHER_REASON, {"from": compliance})
    assert contract.seizure(1)[6] == CANCELLED
    with reverts("SeizureNotPending", seizureId=1):
        contract.executeSeizure(1, {"from": seize_approver})
    with reverts("SeizureNotPending", seizureId=1):
        contract.rejectSeizure(1, {"from": seize_approver})
    assert contract.balanceOf(alice) == amount


def test_finding5_new_order_after_reblock_runs(token, compliance, seize_approver, alice):
    """The account's new block takes new orders; only those proposed before the unblock are void."""
    contract, recovery, amount = token
    _blocked(contract, alice, compliance)
    contract.proposeSeizure(alice, recovery, amount, CASE, EVIDENCE, {"from": compliance})
    contract.unblockAccount(alice, {"from": compliance})
    contract.blockAccount(alice, OTHER_REASON, {"from": compliance})
    contract.proposeSeizure(alice, recovery, amount // 2, CASE, EVIDENCE, {"from": compliance})
    contract.executeSeizure(2, {"from": seize_approver})
    assert (contract.seizure(1)[6], contract.seizure(2)[6]) == (CANCELLED, EXECUTED)
    assert contract.balanceOf(alice) == amount - amount // 2


def test_finding5_unblock_cancels_only_that_accounts_orders(token, compliance, seize_approver, alice, bob):
    contract, recovery, _amount = token
    if contract.isBlocked(bob) is False and contract.balanceOf(bob) == 0:
        pass  # bob needs no balance for a proposal
    _blocked(contract, alice, compliance)
    _blocked(contract, bob, compliance)
    contract.proposeSeizure(alice, recovery, 1, CASE, EVIDENCE, {"from": compliance})
    contract.proposeSeizure(bob, recovery, 1, CASE, EVIDENCE, {"from": compliance})
    contract.unblockAccount(alice, {"from": compliance})
    assert (contract.seizure(1)[6], contract.seizure(2)[6]) == (CANCELLED, PROPOSED)


# --- Finding 6: capped <-> uncapped while a tier has wallets ---


def _tier(contract, tier_id):
    return tuple(contract.tier(tier_id))


def test_finding6_uncapped_tier_with_wallets_cannot_become_capped(cbdc_ready, kyc_officer, admin, reverts):
    """Two wallets of one identity in an uncapped tier (allowed there); making that tier capped
    would give the identity two capped wallets: refused."""
    for name in ("twin-a", "twin-b"):
        cbdc_ready.registerWallet(_wallet(name), BANK_TIER, identity_of("one-person"), kyc_record(name), {"from": kyc_officer})
    _cap, transfer_limit, daily_limit, enabled = _tier(cbdc_ready, BANK_TIER)
    with reverts("DigitalCurrencyTierInUse", tier=BANK_TIER):
        cbdc_ready.setTier(BANK_TIER, (1_000_000 * TYIYN, min(transfer_limit, 1_000_000 * TYIYN), daily_limit, enabled), {"from": admin})
    assert _tier(cbdc_ready, BANK_TIER)[0] == UNLIMITED
    assert cbdc_ready.cappedWalletOf(identity_of("one-person")) == ZERO


def test_finding6_capped_tier_with_wallets_cannot_become_uncapped(cbdc_ready, kyc_officer, admin, reverts):
    cbdc_ready.registerWallet(_wallet("capped"), STANDARD_TIER, identity_of("capped"), kyc_record("capped"), {"from": kyc_officer})
    _cap, transfer_limit, daily_limit, enabled = _tier(cbdc_ready, STANDARD_TIER)
    with reverts("DigitalCurrencyTierInUse", tier=STANDARD_TIER):
        cbdc_ready.setTier(STANDARD_TIER, (UNLIMITED, transfer_limit, daily_limit, enabled), {"from": admin})


def test_finding6_a_used_tier_keeps_its_kind_even_emptied(cbdc_ready, kyc_officer, admin, reverts):
    """Its kind is fixed by its first wallet (a flag the registrations set once, instead of a
    count every registration would pay for): moved out or de-registered, the tier stays capped."""
    mover, leaver = _wallet("mover"), _wallet("leaver")
    cbdc_ready.registerWallet(mover, STANDARD_TIER, identity_of("mover"), kyc_record("mover"), {"from": kyc_officer})
    cbdc_ready.registerWallets([leaver], STANDARD_TIER, [identity_of("leaver")], [kyc_record("leaver")], {"from": kyc_officer})
    cap, transfer_limit, daily_limit, enabled = _tier(cbdc_ready, STANDARD_TIER)
    cbdc_ready.setTier(STANDARD_TIER, (cap * 2, transfer_limit, daily_limit, enabled), {"from": admin})  # still capped: fine
    assert _tier(cbdc_ready, STANDARD_TIER)[0] == cap * 2
    cbdc_ready.changeTier(mover, BASIC_TIER, kyc_record("mover-2"), {"from": kyc_officer})
    cbdc_ready.deregisterWallet(leaver, kyc_record("leaver-out"), {"from": kyc_officer})
    with reverts("DigitalCurrencyTierInUse", tier=STANDARD_TIER):
        cbdc_ready.setTier(STANDARD_TIER, (UNLIMITED, transfer_limit, daily_limit, enabled), {"from": admin})


def test_finding6_moving_a_wallet_in_fixes_the_kind(cbdc_ready, kyc_officer, admin, reverts):
    wallet = _wallet("climber")
    cbdc_ready.registerWallet(wallet, BASIC_TIER, identity_of("climber"), kyc_record("climber"), {"from": kyc_officer})
    cbdc_ready.changeTier(wallet, FULL_TIER, kyc_record("climber-2"), {"from": kyc_officer})
    _cap, transfer_limit, daily_limit, enabled = _tier(cbdc_ready, FULL_TIER)
    with reverts("DigitalCurrencyTierInUse", tier=FULL_TIER):
        cbdc_ready.setTier(FULL_TIER, (UNLIMITED, transfer_limit, daily_limit, enabled), {"from": admin})


def test_finding6_an_unused_tier_may_change_its_kind(cbdc_ready, admin):
    _cap, transfer_limit, daily_limit, enabled = _tier(cbdc_ready, FULL_TIER)  # nobody in it yet
    cbdc_ready.setTier(FULL_TIER, (UNLIMITED, transfer_limit, daily_limit, enabled), {"from": admin})
    assert _tier(cbdc_ready, FULL_TIER)[0] == UNLIMITED


# --- A blocked minter cannot mint (as on USDC) ---


def test_blocked_minter_cannot_mint(funded, minter, compliance, carol, reverts):
    funded.blockAccount(minter, REASON, {"from": compliance})
    with reverts("BlockedAddress", account=minter.address):
        funded.mint(carol, 1 * UNIT, keccak(text="deposit-blocked-minter"), {"from": minter})
    funded.unblockAccount(minter, {"from": compliance})
    funded.mint(carol, 1 * UNIT, keccak(text="deposit-unblocked-minter"), {"from": minter})
    assert funded.balanceOf(carol) == 1 * UNIT


def test_minter_blocked_before_its_allowance_still_cannot_mint(funded, minter, minter_admin, compliance, carol, reverts):
    """The flag follows the minter into a new allowance, and the allowance reads as set."""
    funded.removeMinter(minter, {"from": minter_admin})
    funded.blockAccount(minter, REASON, {"from": compliance})
    funded.configureMinter(minter, 500 * UNIT, {"from": minter_admin})
    assert funded.minterAllowance(minter) == 500 * UNIT
    with reverts("BlockedAddress", account=minter.address):
        funded.mint(carol, 1 * UNIT, keccak(text="deposit-blocked-new-minter"), {"from": minter})
    funded.unblockAccount(minter, {"from": compliance})
    assert funded.minterAllowance(minter) == 500 * UNIT


def test_minter_allowance_leaves_the_flag_bit(funded, minter, minter_admin, reverts):
    with reverts("StablecoinMinterAllowanceTooLarge", allowance=2**255):
        funded.configureMinter(minter, 2**255, {"from": minter_admin})
    funded.configureMinter(minter, 2**255 - 1, {"from": minter_admin})
    assert funded.minterAllowance(minter) == 2**255 - 1


# --- The overflow link needs the KYC officer (no wallet becomes another's overflow alone) ---


def test_holder_cannot_name_an_overflow_wallet_itself(cbdc_ready, kyc_officer, bank_wallet, alice, reverts):
    cbdc_ready.registerWallet(alice, BASIC_TIER, identity_of("alice"), kyc_record("alice"), {"from": kyc_officer})
    with reverts("AccessManagedUnauthorized", caller=alice.address):
        cbdc_ready.setWaterfall(alice, bank_wallet, {"from": alice})
    cbdc_ready.setWaterfall(alice, bank_wallet, {"from": kyc_officer})
    assert cbdc_ready.walletOf(alice)[2] == bank_wallet.address
