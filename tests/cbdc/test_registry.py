"""The wallet registry of the digital som: registration, tier changes and de-registration by the
KYC officer only, with their events; one capped wallet per identity (uncapped tiers exempt);
tier 0 can neither hold nor send; tiers set by ADMIN only, consistent, and a lowered cap that keeps
existing balances but refuses new funds."""

import pytest
from brownie import ZERO_ADDRESS, chain
from eth_utils import keccak

from cbdclib import BANK_TIER, BASIC_TIER, DAY, FULL_TIER, GOVERNMENT_TIER, STANDARD_TIER, TYIYN, identity_of, kyc_record

ZERO_REF = b"\x00" * 32
SANCTIONS = keccak(text="sanctions-record-1")
ACCESS_MANAGER_MIN_SETBACK = 5 * DAY  # AccessManager.minSetback(): a raised delay applies after it


def _wallet_of(som, wallet):
    tier, identity, overflow = som.walletOf(wallet)
    return tier, bytes(identity), overflow


# --- registerWallet ---


@pytest.mark.parametrize("tier, capped_wallet", [(BASIC_TIER, "alice"), (BANK_TIER, None)], ids=["capped", "uncapped"])
def test_register_wallet_records_tier_and_identity(som, register, alice, tier, capped_wallet):
    """A capped registration also claims the identity's one capped wallet; an uncapped one does not."""
    register(alice, tier)
    assert _wallet_of(som, alice) == (tier, identity_of("alice"), ZERO_ADDRESS)
    assert som.cappedWalletOf(identity_of("alice")) == (alice if capped_wallet else ZERO_ADDRESS)


def test_wallet_of_unregistered_is_empty(som, stranger):
    assert _wallet_of(som, stranger) == (0, ZERO_REF, ZERO_ADDRESS)


@pytest.mark.parametrize("caller", ["stranger", "admin"])
def test_register_wallet_by_non_kyc_officer_reverts(som, alice, reverts, request, caller):
    account = request.getfixturevalue(caller)
    with reverts("AccessManagedUnauthorized", caller=account.address):
        som.registerWallet(alice, BASIC_TIER, identity_of("alice"), kyc_record("alice"), {"from": account})
    assert som.walletOf(alice)[0] == 0


@pytest.mark.parametrize(
    "wallet, identity, record, error",
    [
        (ZERO_ADDRESS, identity_of("alice"), kyc_record("alice"), "ZeroAddress"),
        (None, ZERO_REF, kyc_record("alice"), "ZeroReference"),
        (None, identity_of("alice"), ZERO_REF, "ZeroReference"),
    ],
    ids=["zero-wallet", "zero-identity", "zero-record"],
)
def test_register_wallet_empty_argument_reverts(som, kyc_officer, alice, reverts, wallet, identity, record, error):
    with reverts(error):
        som.registerWallet(wallet or alice, BASIC_TIER, identity, record, {"from": kyc_officer})
    assert som.walletOf(alice)[0] == 0


@pytest.mark.parametrize("tier", [0, 4, 128], ids=["tier0", "unset4", "above-max128"])
def test_register_wallet_invalid_tier_reverts(som, register, alice, reverts, tier):
    with reverts("DigitalCurrencyInvalidTier", tier=tier):
        register(alice, tier)


def test_register_wallet_in_disabled_tier_reverts(som, register, admin, tiers, alice, reverts):
    t = tiers[STANDARD_TIER]
    som.setTier(STANDARD_TIER, (t.holding_cap, t.transfer_limit, t.daily_limit, False), {"from": admin})
    with reverts("DigitalCurrencyInvalidTier", tier=STANDARD_TIER):
        register(alice, STANDARD_TIER)


def test_register_wallet_twice_reverts(som, register, alice, reverts):
    register(alice, BASIC_TIER)
    with reverts("DigitalCurrencyAlreadyRegistered", account=alice.address):
        register(alice, GOVERNMENT_TIER, "someone-else")
    assert som.walletOf(alice)[0] == BASIC_TIER


@pytest.mark.parametrize("first, second", [(BASIC_TIER, BASIC_TIER), (FULL_TIER, STANDARD_TIER)])
def test_register_second_capped_wallet_of_identity_reverts(som, register, alice, bob, reverts, first, second):
    register(alice, first)
    with reverts("DigitalCurrencyIdentityHasCappedWallet", identity=identity_of("alice"), wallet=alice.address):
        register(bob, second, "alice")
    assert (som.walletOf(bob)[0], som.cappedWalletOf(identity_of("alice"))) == (0, alice)


def test_identity_may_hold_many_uncapped_wallets(som, register, alice, bob, carol, mallory):
    register(alice, BASIC_TIER)
    for wallet, tier in ((bob, GOVERNMENT_TIER), (carol, BANK_TIER), (mallory, BANK_TIER)):
        register(wallet, tier, "alice")
    assert [_wallet_of(som, w)[:2] for w in (alice, bob, carol, mallory)] == [
        (BASIC_TIER, identity_of("alice")),
        (GOVERNMENT_TIER, identity_of("alice")),
        (BANK_TIER, identity_of("alice")),
        (BANK_TIER, identity_of("alice")),
    ]
    assert som.cappedWalletOf(identity_of("alice")) == alice


# --- changeTier ---


def test_change_tier_emits_wallet_tier_changed(som, register, kyc_officer, alice):
    register(alice, BASIC_TIER)
    tx = som.changeTier(alice, FULL_TIER, kyc_record("alice-upgrade"), {"from": kyc_officer})
    e = tx.events["WalletTierChanged"]
    assert (e["wallet"], e["previousTier"], e["newTier"], bytes(e["kycRecord"])) == (
        alice, BASIC_TIER, FULL_TIER, kyc_record("alice-upgrade")
    )


def test_change_tier_keeps_balance_and_identity(som, register, fund, kyc_officer, alice):
    register(alice, BASIC_TIER)
    fund(alice, 1_234 * TYIYN)
    som.changeTier(alice, STANDARD_TIER, kyc_record("alice-upgrade"), {"from": kyc_officer})
    assert (_wallet_of(som, alice), som.balanceOf(alice)) == ((STANDARD_TIER, identity_of("alice"), ZERO_ADDRESS), 1_234 * TYIYN)


def test_change_tier_capped_to_capped_keeps_identity_claim(som, register, kyc_officer, alice, bob, reverts):
    register(alice, BASIC_TIER)
    som.changeTier(alice, FULL_TIER, kyc_record("alice-upgrade"), {"from": kyc_officer})
    assert som.cappedWalletOf(identity_of("alice")) == alice
    with reverts("DigitalCurrencyIdentityHasCappedWallet", identity=identity_of("alice"), wallet=alice.address):
        register(bob, BASIC_TIER, "alice")


def test_change_tier_capped_to_uncapped_frees_identity(som, register, kyc_officer, alice, bob):
    register(alice, BASIC_TIER)
    som.changeTier(alice, BANK_TIER, kyc_record("alice-bank"), {"from": kyc_officer})
    assert som.cappedWalletOf(identity_of("alice")) == ZERO_ADDRESS
    register(bob, BASIC_TIER, "alice")
    assert som.cappedWalletOf(identity_of("alice")) == bob


def test_change_tier_uncapped_to_capped_claims_identity(som, register, kyc_officer, alice):
    register(alice, BANK_TIER)
    som.changeTier(alice, STANDARD_TIER, kyc_record("alice-down"), {"from": kyc_officer})
    assert som.cappedWalletOf(identity_of("alice")) == alice


def test_change_tier_uncapped_to_capped_with_capped_sibling_reverts(som, register, kyc_officer, alice, bob, reverts):
    register(alice, BASIC_TIER)
    register(bob, GOVERNMENT_TIER, "alice")
    with reverts("DigitalCurrencyIdentityHasCappedWallet", identity=identity_of("alice"), wallet=alice.address):
        som.changeTier(bob, STANDARD_TIER, kyc_record("bob-down"), {"from": kyc_officer})
    assert (som.walletOf(bob)[0], som.cappedWalletOf(identity_of("alice"))) == (GOVERNMENT_TIER, alice)


def test_change_tier_to_same_tier_reverts(som, register, kyc_officer, alice, reverts):
    register(alice, STANDARD_TIER)
    with reverts("DigitalCurrencyTierUnchanged", account=alice.address, tier=STANDARD_TIER):
        som.changeTier(alice, STANDARD_TIER, kyc_record("again"), {"from": kyc_officer})


def test_change_tier_of_unregistered_reverts(som, kyc_officer, alice, reverts):
    with reverts("DigitalCurrencyNotRegistered", account=alice.address):
        som.changeTier(alice, STANDARD_TIER, kyc_record("alice"), {"from": kyc_officer})


@pytest.mark.parametrize("tier", [0, 4])
def test_change_tier_to_invalid_tier_reverts(som, register, kyc_officer, alice, reverts, tier):
    register(alice, BASIC_TIER)
    with reverts("DigitalCurrencyInvalidTier", tier=tier):
        som.changeTier(alice, tier, kyc_record("alice"), {"from": kyc_officer})
    assert som.walletOf(alice)[0] == BASIC_TIER


def test_change_tier_zero_record_reverts(som, register, kyc_officer, alice, reverts):
    register(alice, BASIC_TIER)
    with reverts("ZeroReference"):
        som.changeTier(alice, STANDARD_TIER, ZERO_REF, {"from": kyc_officer})


@pytest.mark.parametrize("call", ["changeTier", "deregisterWallet"])
def test_tier_change_and_deregistration_by_stranger_revert(som, register, stranger, alice, reverts, call):
    register(alice, BASIC_TIER)
    args = (alice, FULL_TIER, kyc_record("alice")) if call == "changeTier" else (alice, kyc_record("alice"))
    with reverts("AccessManagedUnauthorized", caller=stranger.address):
        getattr(som, call)(*args, {"from": stranger})
    assert som.walletOf(alice)[0] == BASIC_TIER


# --- deregisterWallet ---


def test_deregister_wallet_with_balance_reverts(som, register, fund, kyc_officer, alice, reverts):
    register(alice, BASIC_TIER)
    fund(alice, 1)
    with reverts("DigitalCurrencyWalletNotEmpty", account=alice.address, balance=1):
        som.deregisterWallet(alice, kyc_record("alice-exit"), {"from": kyc_officer})
    assert som.walletOf(alice)[0] == BASIC_TIER


def test_deregister_wallet_emits_wallet_deregistered(som, register, kyc_officer, alice):
    register(alice, BASIC_TIER)
    tx = som.deregisterWallet(alice, kyc_record("alice-exit"), {"from": kyc_officer})
    e = tx.events["WalletDeregistered"]
    assert (e["wallet"], bytes(e["identity"]), bytes(e["kycRecord"])) == (alice, identity_of("alice"), kyc_record("alice-exit"))


def test_deregister_emptied_wallet_resets_record(som, register, fund, kyc_officer, treasury, alice):
    register(alice, BASIC_TIER)
    fund(alice, 500 * TYIYN)
    som.transfer(treasury, 500 * TYIYN, {"from": alice})
    som.deregisterWallet(alice, kyc_record("alice-exit"), {"from": kyc_officer})
    assert _wallet_of(som, alice) == (0, ZERO_REF, ZERO_ADDRESS)


def test_deregister_wallet_frees_identity(som, register, kyc_officer, alice, bob):
    register(alice, BASIC_TIER)
    som.deregisterWallet(alice, kyc_record("alice-exit"), {"from": kyc_officer})
    assert som.cappedWalletOf(identity_of("alice")) == ZERO_ADDRESS
    register(bob, FULL_TIER, "alice")
    assert som.cappedWalletOf(identity_of("alice")) == bob


def test_deregister_uncapped_wallet_leaves_capped_sibling(som, register, kyc_officer, alice, bob):
    register(alice, BASIC_TIER)
    register(bob, BANK_TIER, "alice")
    som.deregisterWallet(bob, kyc_record("bob-exit"), {"from": kyc_officer})
    assert som.cappedWalletOf(identity_of("alice")) == alice


def test_deregister_wallet_clears_overflow_link(som, register, fund, kyc_officer, tiers, treasury, bank_wallet, alice, reverts):
    register(alice, BASIC_TIER)
    som.setWaterfall(alice, bank_wallet, {"from": kyc_officer})
    som.deregisterWallet(alice, kyc_record("alice-exit"), {"from": kyc_officer})
    register(alice, BASIC_TIER)
    assert som.walletOf(alice)[2] == ZERO_ADDRESS
    cap = tiers[BASIC_TIER].holding_cap
    with reverts("DigitalCurrencyHoldingCapExceeded", account=alice.address, tier=BASIC_TIER, cap=cap, balanceAfter=cap + 1):
        fund(alice, cap + 1)


def test_deregister_wallet_keeps_blocklist_flag(som, register, kyc_officer, compliance, alice):
    register(alice, BASIC_TIER)
    som.blockAccount(alice, SANCTIONS, {"from": compliance})
    som.deregisterWallet(alice, kyc_record("alice-exit"), {"from": kyc_officer})
    assert (som.walletOf(alice)[0], som.isBlocked(alice)) == (0, True)


def test_reregistered_blocked_wallet_stays_blocked(som, register, fund, kyc_officer, compliance, alice, reverts):
    register(alice, BASIC_TIER)
    som.blockAccount(alice, SANCTIONS, {"from": compliance})
    som.deregisterWallet(alice, kyc_record("alice-exit"), {"from": kyc_officer})
    register(alice, STANDARD_TIER)
    with reverts("BlockedAddress", account=alice.address):
        fund(alice, 1)


def test_deregister_unregistered_wallet_reverts(som, kyc_officer, alice, reverts):
    with reverts("DigitalCurrencyNotRegistered", account=alice.address):
        som.deregisterWallet(alice, kyc_record("alice-exit"), {"from": kyc_officer})


def test_deregister_wallet_zero_record_reverts(som, register, kyc_officer, alice, reverts):
    register(alice, BASIC_TIER)
    with reverts("ZeroReference"):
        som.deregisterWallet(alice, ZERO_REF, {"from": kyc_officer})


# --- Tier 0: neither hold nor send ---


def test_unregistered_wallet_cannot_receive(som, treasury, stranger, reverts):
    with reverts("DigitalCurrencyNotRegistered", account=stranger.address):
        som.transfer(stranger, 1, {"from": treasury})
    assert som.balanceOf(stranger) == 0


def test_unregistered_wallet_cannot_send(som, treasury, stranger, reverts):
    with reverts("DigitalCurrencyNotRegistered", account=stranger.address):
        som.transfer(treasury, 0, {"from": stranger})


# --- setTier (ADMIN) ---


def test_set_tier_stores_config(som, admin):
    config = (7_000 * TYIYN, 1_000 * TYIYN, 2_000 * TYIYN, True)
    som.setTier(4, config, {"from": admin})
    assert tuple(som.tier(4)) == config


def test_set_tier_emits_tier_configured(som, admin):
    tx = som.setTier(4, (7_000 * TYIYN, 1_000 * TYIYN, 2_000 * TYIYN, True), {"from": admin})
    assert dict(tx.events["TierConfigured"]) == {
        "tier": 4, "holdingCap": 7_000 * TYIYN, "transferLimit": 1_000 * TYIYN, "dailyLimit": 2_000 * TYIYN, "enabled": True
    }


@pytest.mark.parametrize("caller", ["stranger", "kyc_officer"])
def test_set_tier_by_non_admin_reverts(som, reverts, request, caller):
    account = request.getfixturevalue(caller)
    with reverts("AccessManagedUnauthorized", caller=account.address):
        som.setTier(4, (1, 1, 1, True), {"from": account})
    assert tuple(som.tier(4)) == (0, 0, 0, False)


def test_set_tier_transfer_limit_above_daily_limit_reverts(som, admin, reverts):
    with reverts("DigitalCurrencyInvalidTierLimits", tier=4):
        som.setTier(4, (10_000, 5_001, 5_000, True), {"from": admin})
    assert tuple(som.tier(4)) == (0, 0, 0, False)


def test_set_tier_transfer_limit_equal_to_daily_limit_succeeds(som, admin):
    som.setTier(4, (10_000, 5_000, 5_000, True), {"from": admin})
    assert tuple(som.tier(4)) == (10_000, 5_000, 5_000, True)


@pytest.mark.parametrize("tier", [0, 128])
def test_set_tier_invalid_id_reverts(som, admin, reverts, tier):
    with reverts("DigitalCurrencyInvalidTier", tier=tier):
        som.setTier(tier, (1, 1, 1, True), {"from": admin})


def test_target_admin_delay_applies_after_setback(som, manager, settings):
    """The plan sets the admin delay; AccessManager puts a raised delay in force after 5 days."""
    before = manager.getTargetAdminDelay(som)
    chain.sleep(ACCESS_MANAGER_MIN_SETBACK + 1)
    chain.mine()
    assert (before, manager.getTargetAdminDelay(som)) == (0, settings.deployment("local").upgrade_delay)


def test_set_tier_by_admin_needs_no_schedule_after_setback(som, manager, admin):
    """Observed: the target admin delay governs the manager's own admin calls about the token
    (setTargetFunctionRole, setTargetClosed), not the token's ADMIN-role functions, and the admin
    holds ADMIN with no execution delay: setTier executes at once even with the delay in force."""
    chain.sleep(ACCESS_MANAGER_MIN_SETBACK + 1)
    chain.mine()
    assert tuple(manager.canCall(admin, som, som.setTier.signature)) == (True, 0)
    som.setTier(4, (1, 1, 1, True), {"from": admin})
    assert tuple(som.tier(4)) == (1, 1, 1, True)


# --- A lowered cap ---


@pytest.fixture
def lowered(som, register, fund, admin, tiers, alice):
    """alice holds 40,000 som in the basic tier, whose cap is then lowered to 30,000 som."""
    register(alice, BASIC_TIER)
    fund(alice, 40_000 * TYIYN)
    t = tiers[BASIC_TIER]
    som.setTier(BASIC_TIER, (30_000 * TYIYN, t.transfer_limit, t.daily_limit, True), {"from": admin})
    return som


def test_lowered_cap_keeps_existing_balance(lowered, alice):
    assert (lowered.balanceOf(alice), lowered.tier(BASIC_TIER)[0]) == (40_000 * TYIYN, 30_000 * TYIYN)


def test_lowered_cap_refuses_incoming(lowered, fund, alice, reverts):
    with reverts("DigitalCurrencyHoldingCapExceeded", account=alice.address, tier=BASIC_TIER, cap=30_000 * TYIYN, balanceAfter=40_000 * TYIYN + 1):
        fund(alice, 1)


def test_lowered_cap_lets_wallet_spend(lowered, treasury, alice):
    lowered.transfer(treasury, 5_000 * TYIYN, {"from": alice})
    assert lowered.balanceOf(alice) == 35_000 * TYIYN


def test_lowered_cap_receives_again_up_to_it(lowered, fund, treasury, alice):
    lowered.transfer(treasury, 10_000 * TYIYN, {"from": alice})
    lowered.transfer(treasury, 100 * TYIYN, {"from": alice})
    fund(alice, 100 * TYIYN)
    assert lowered.balanceOf(alice) == 30_000 * TYIYN
