"""The overflow "waterfall": without a linked overflow wallet a payment above the recipient's
holding cap reverts; with one (its bank's, uncapped, unblocked, not itself) the part above the cap
goes there in the same transaction, for transfers, mints and batch payouts alike."""

import pytest
from brownie import ZERO_ADDRESS
from eth_utils import keccak

from cbdclib import BASIC_TIER, FULL_TIER, STANDARD_TIER, TYIYN, kyc_record

SANCTIONS = keccak(text="sanctions-record-1")


@pytest.fixture
def cap(tiers):
    """The basic tier's holding cap [token units]."""
    return tiers[BASIC_TIER].holding_cap


@pytest.fixture
def near_cap(som, register, treasury, cap, alice):
    """alice (basic tier) holds her cap less 100 som, with no overflow wallet."""
    register(alice, BASIC_TIER)
    som.transfer(alice, cap - 100 * TYIYN, {"from": treasury})
    return alice


@pytest.fixture
def linked(som, near_cap, bank_wallet, kyc_officer):
    """alice, 100 som under her cap, has linked her bank's wallet as her overflow wallet."""
    som.setWaterfall(near_cap, bank_wallet, {"from": kyc_officer})
    return near_cap


def _transfers(tx):
    return [(e["from"], e["to"], e["value"]) for e in tx.events["Transfer"]]


# --- Without an overflow wallet ---


def test_over_cap_without_overflow_reverts(som, near_cap, treasury, cap, reverts):
    with reverts("DigitalCurrencyHoldingCapExceeded", account=near_cap.address, tier=BASIC_TIER, cap=cap, balanceAfter=cap + 1):
        som.transfer(near_cap, 100 * TYIYN + 1, {"from": treasury})
    assert som.balanceOf(near_cap) == cap - 100 * TYIYN


# --- Linking ---


def test_set_overflow_account_records_link(som, linked, bank_wallet):
    assert som.walletOf(linked)[2] == bank_wallet


def test_set_overflow_account_emits_overflow_account_updated(som, near_cap, bank_wallet, kyc_officer):
    tx = som.setWaterfall(near_cap, bank_wallet, {"from": kyc_officer})
    assert dict(tx.events["OverflowAccountUpdated"]) == {"wallet": near_cap, "previousOverflow": ZERO_ADDRESS, "newOverflow": bank_wallet}


def test_unlink_overflow_account_emits_previous(som, linked, bank_wallet, kyc_officer):
    tx = som.setWaterfall(linked, ZERO_ADDRESS, {"from": kyc_officer})
    assert dict(tx.events["OverflowAccountUpdated"]) == {"wallet": linked, "previousOverflow": bank_wallet, "newOverflow": ZERO_ADDRESS}


def test_unlinked_wallet_reverts_over_cap_again(som, linked, treasury, cap, reverts, kyc_officer):
    som.setWaterfall(linked, ZERO_ADDRESS, {"from": kyc_officer})
    with reverts("DigitalCurrencyHoldingCapExceeded", account=linked.address, tier=BASIC_TIER, cap=cap, balanceAfter=cap + 1):
        som.transfer(linked, 100 * TYIYN + 1, {"from": treasury})


def test_overflow_account_in_capped_tier_reverts(som, near_cap, register, bob, reverts, kyc_officer):
    register(bob, FULL_TIER, "bob")
    with reverts("DigitalCurrencyNotUncapped", account=bob.address, tier=FULL_TIER):
        som.setWaterfall(near_cap, bob, {"from": kyc_officer})


def test_overflow_account_unregistered_reverts(som, near_cap, stranger, reverts, kyc_officer):
    with reverts("DigitalCurrencyNotUncapped", account=stranger.address, tier=0):
        som.setWaterfall(near_cap, stranger, {"from": kyc_officer})


def test_overflow_account_blocked_reverts(som, near_cap, compliance, bank_wallet, reverts, kyc_officer):
    som.blockAccount(bank_wallet, SANCTIONS, {"from": compliance})
    with reverts("BlockedAddress", account=bank_wallet.address):
        som.setWaterfall(near_cap, bank_wallet, {"from": kyc_officer})


@pytest.mark.parametrize("who", ["near_cap", "bank_wallet"], ids=["capped", "uncapped"])
def test_overflow_account_self_reverts(som, reverts, request, who, kyc_officer):
    wallet = request.getfixturevalue(who)
    with reverts("DigitalCurrencySelfOverflow", account=wallet.address):
        som.setWaterfall(wallet, wallet, {"from": kyc_officer})


def test_set_overflow_account_by_unregistered_reverts(som, stranger, bank_wallet, reverts, kyc_officer):
    with reverts("DigitalCurrencyNotRegistered", account=stranger.address):
        som.setWaterfall(stranger, bank_wallet, {"from": kyc_officer})


def test_set_overflow_account_by_blocked_wallet_reverts(som, near_cap, compliance, bank_wallet, reverts, kyc_officer):
    som.blockAccount(near_cap, SANCTIONS, {"from": compliance})
    with reverts("BlockedAddress", account=near_cap.address):
        som.setWaterfall(near_cap, bank_wallet, {"from": kyc_officer})


# --- The waterfall on a transfer ---


def test_waterfall_fills_holder_to_cap_and_sends_excess_to_overflow(som, linked, treasury, bank_wallet, cap):
    bank_before, treasury_before = som.balanceOf(bank_wallet), som.balanceOf(treasury)
    som.transfer(linked, 250 * TYIYN, {"from": treasury})
    assert (som.balanceOf(linked), som.balanceOf(bank_wallet) - bank_before, treasury_before - som.balanceOf(treasury)) == (
        cap, 150 * TYIYN, 250 * TYIYN
    )


def test_waterfall_emits_two_transfers_and_overflowed(som, linked, treasury, bank_wallet):
    tx = som.transfer(linked, 250 * TYIYN, {"from": treasury})
    assert _transfers(tx) == [(treasury, linked, 100 * TYIYN), (treasury, bank_wallet, 150 * TYIYN)]
    assert [dict(e) for e in tx.events["Overflowed"]] == [{"wallet": linked, "overflow": bank_wallet, "amount": 150 * TYIYN}]


def test_waterfall_up_to_cap_exactly_does_not_overflow(som, linked, treasury, bank_wallet, cap):
    bank_before = som.balanceOf(bank_wallet)
    tx = som.transfer(linked, 100 * TYIYN, {"from": treasury})
    assert (som.balanceOf(linked), som.balanceOf(bank_wallet), "Overflowed" in tx.events) == (cap, bank_before, False)


def test_waterfall_one_unit_over_cap_overflows_one_unit(som, linked, treasury, bank_wallet, cap):
    tx = som.transfer(linked, 100 * TYIYN + 1, {"from": treasury})
    assert (som.balanceOf(linked), tx.events["Overflowed"]["amount"]) == (cap, 1)
    assert _transfers(tx) == [(treasury, linked, 100 * TYIYN), (treasury, bank_wallet, 1)]


def test_waterfall_from_capped_sender(som, linked, register, treasury, bank_wallet, bob, cap):
    """The sender's limits apply to the whole amount, the waterfall to the recipient's side."""
    register(bob, STANDARD_TIER, "bob")
    som.transfer(bob, 1_000 * TYIYN, {"from": treasury})
    som.transfer(linked, 300 * TYIYN, {"from": bob})
    assert (som.balanceOf(bob), som.balanceOf(linked), som.balanceOf(bank_wallet)) == (700 * TYIYN, cap, 200 * TYIYN)


def test_waterfall_to_sender_as_overflow_returns_the_excess(som, near_cap, bank_wallet, treasury, cap, kyc_officer):
    """The bank pays its own customer, who overflows to that same bank: the bank keeps the excess."""
    som.transfer(bank_wallet, 1_000 * TYIYN, {"from": treasury})
    som.setWaterfall(near_cap, bank_wallet, {"from": kyc_officer})
    som.transfer(near_cap, 400 * TYIYN, {"from": bank_wallet})
    assert (som.balanceOf(near_cap), som.balanceOf(bank_wallet)) == (cap, 900 * TYIYN)


def test_wallet_above_cap_sends_whole_payment_to_overflow(som, register, kyc_officer, treasury, bank_wallet, cap, alice):
    register(alice, STANDARD_TIER)
    som.transfer(alice, cap + 5_000 * TYIYN, {"from": treasury})
    som.changeTier(alice, BASIC_TIER, kyc_record("alice-downgrade"), {"from": kyc_officer})
    som.setWaterfall(alice, bank_wallet, {"from": kyc_officer})
    tx = som.transfer(alice, 70 * TYIYN, {"from": treasury})
    assert (som.balanceOf(alice), som.balanceOf(bank_wallet)) == (cap + 5_000 * TYIYN, 70 * TYIYN)
    assert _transfers(tx) == [(treasury, bank_wallet, 70 * TYIYN)]
    assert dict(tx.events["Overflowed"]) == {"wallet": alice, "overflow": bank_wallet, "amount": 70 * TYIYN}


# --- The overflow wallet's state at payment time ---


def test_blocked_overflow_makes_over_cap_payment_revert(som, linked, compliance, treasury, bank_wallet, cap, reverts):
    som.blockAccount(bank_wallet, SANCTIONS, {"from": compliance})
    with reverts("BlockedAddress", account=bank_wallet.address):
        som.transfer(linked, 100 * TYIYN + 1, {"from": treasury})
    assert som.balanceOf(linked) == cap - 100 * TYIYN


def test_blocked_overflow_leaves_under_cap_payment_alone(som, linked, compliance, treasury, bank_wallet, cap):
    som.blockAccount(bank_wallet, SANCTIONS, {"from": compliance})
    som.transfer(linked, 100 * TYIYN, {"from": treasury})
    assert (som.balanceOf(linked), som.isBlocked(bank_wallet)) == (cap, True)


def test_overflow_moved_to_capped_tier_makes_over_cap_payment_revert(som, linked, kyc_officer, treasury, bank_wallet, reverts):
    som.changeTier(bank_wallet, FULL_TIER, kyc_record("bank-downgrade"), {"from": kyc_officer})
    with reverts("DigitalCurrencyNotUncapped", account=bank_wallet.address, tier=FULL_TIER):
        som.transfer(linked, 100 * TYIYN + 1, {"from": treasury})


# --- Mint and batch payouts ---


def test_mint_over_cap_overflows(som, linked, issuer, bank_wallet, cap):
    ref = keccak(text="issuance-waterfall")
    tx = som.mint(linked, 250 * TYIYN, ref, {"from": issuer})
    assert (som.balanceOf(linked), som.balanceOf(bank_wallet)) == (cap, 150 * TYIYN)
    assert _transfers(tx) == [(ZERO_ADDRESS, linked, 100 * TYIYN), (ZERO_ADDRESS, bank_wallet, 150 * TYIYN)]
    assert dict(tx.events["Overflowed"]) == {"wallet": linked, "overflow": bank_wallet, "amount": 150 * TYIYN}


def test_mint_over_cap_without_overflow_reverts(som, near_cap, issuer, cap, reverts):
    with reverts("DigitalCurrencyHoldingCapExceeded", account=near_cap.address, tier=BASIC_TIER, cap=cap, balanceAfter=cap + 1):
        som.mint(near_cap, 100 * TYIYN + 1, keccak(text="issuance-over"), {"from": issuer})


def test_disburse_over_cap_overflows(som, linked, register, treasury, bank_wallet, bob, cap):
    register(bob, BASIC_TIER, "bob")
    tx = som.disburse(keccak(text="payroll-waterfall"), [linked, bob], [250 * TYIYN, 40 * TYIYN], False, {"from": treasury})
    assert (som.balanceOf(linked), som.balanceOf(bank_wallet), som.balanceOf(bob)) == (cap, 150 * TYIYN, 40 * TYIYN)
    assert _transfers(tx) == [(treasury, linked, 100 * TYIYN), (treasury, bank_wallet, 150 * TYIYN), (treasury, bob, 40 * TYIYN)]
    e = tx.events["BatchDisbursed"]
    assert (e["paid"], e["total"], list(e["skipped"])) == (2, 290 * TYIYN, [])


def test_disburse_over_cap_without_overflow_reverts(som, near_cap, treasury, cap, reverts):
    batch = keccak(text="payroll-over")
    with reverts("DigitalCurrencyHoldingCapExceeded", account=near_cap.address, tier=BASIC_TIER, cap=cap, balanceAfter=cap + 1):
        som.disburse(batch, [near_cap], [100 * TYIYN + 1], False, {"from": treasury})
    assert som.isBatchPaid(batch) is False
