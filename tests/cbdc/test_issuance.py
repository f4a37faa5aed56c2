"""Issuance by the central bank: mint and burn by the ISSUER role only, with non-zero amount and
reference, their Issued and Retired events; mint only to a registered, unblocked wallet within its
cap; burn only of the issuer's own holding, registered and within its tier; the PAUSE_MINT and
PAUSE_REDEEM switches; and the total supply through it all (bounded by 2^128 - 1)."""

import pytest
from brownie import ZERO_ADDRESS
from eth_utils import keccak

from cbdclib import (
    BASIC_TIER,
    PAUSE_MINT,
    PAUSE_REDEEM,
    PAUSE_TRANSFERS,
    STANDARD_TIER,
    TREASURY_FLOAT,
    TYIYN,
    UNLIMITED,
    kyc_record,
)

ZERO_REF = b"\x00" * 32
REF = keccak(text="issuance-2026-11-21")
SANCTIONS = keccak(text="sanctions-record-1")


@pytest.fixture
def holder(som, register, alice):
    """alice, registered in the basic tier, holding nothing."""
    register(alice, BASIC_TIER)
    return alice


@pytest.fixture
def issuer_holds(som, issuer, treasury):
    """The issuer (government tier) holds 5,000 som, returned by the treasury for retirement."""
    som.transfer(issuer, 5_000 * TYIYN, {"from": treasury})
    return 5_000 * TYIYN


# --- mint ---


def test_mint_credits_recipient_and_supply(som, holder, issuer):
    supply = som.totalSupply()
    som.mint(holder, 1_000 * TYIYN, REF, {"from": issuer})
    assert (som.balanceOf(holder), som.totalSupply() - supply) == (1_000 * TYIYN, 1_000 * TYIYN)


def test_mint_emits_issued_and_transfer(som, holder, issuer):
    tx = som.mint(holder, 1_000 * TYIYN, REF, {"from": issuer})
    e = tx.events["Issued"]
    assert (e["issuer"], e["to"], e["amount"], bytes(e["ref"])) == (issuer, holder, 1_000 * TYIYN, REF)
    assert dict(tx.events["Transfer"]) == {"from": ZERO_ADDRESS, "to": holder, "value": 1_000 * TYIYN}


@pytest.mark.parametrize("call", ["mint", "burn"])
@pytest.mark.parametrize("caller", ["stranger", "treasury"])
def test_issuance_by_non_issuer_reverts(som, treasury, reverts, request, call, caller):
    account = request.getfixturevalue(caller)
    args = (treasury, 1, REF) if call == "mint" else (1, REF)
    supply = som.totalSupply()
    with reverts("AccessManagedUnauthorized", caller=account.address):
        getattr(som, call)(*args, {"from": account})
    assert som.totalSupply() == supply


@pytest.mark.parametrize(
    "call, amount, ref, error",
    [
        ("mint", 0, REF, "ZeroAmount"),
        ("mint", 1, ZERO_REF, "ZeroReference"),
        ("burn", 0, REF, "ZeroAmount"),
        ("burn", 1, ZERO_REF, "ZeroReference"),
    ],
    ids=["mint-zero-amount", "mint-zero-ref", "burn-zero-amount", "burn-zero-ref"],
)
def test_issuance_empty_argument_reverts(som, issuer_holds, issuer, treasury, reverts, call, amount, ref, error):
    args = (treasury, amount, ref) if call == "mint" else (amount, ref)
    with reverts(error):
        getattr(som, call)(*args, {"from": issuer})


def test_mint_to_unregistered_reverts(som, issuer, stranger, reverts):
    with reverts("DigitalCurrencyNotRegistered", account=stranger.address):
        som.mint(stranger, 1, REF, {"from": issuer})


def test_mint_to_blocked_reverts(som, holder, issuer, compliance, reverts):
    som.blockAccount(holder, SANCTIONS, {"from": compliance})
    with reverts("BlockedAddress", account=holder.address):
        som.mint(holder, 1, REF, {"from": issuer})
    assert som.balanceOf(holder) == 0


def test_mint_to_zero_address_reverts(som, issuer, reverts):
    with reverts("ERC20InvalidReceiver", receiver=ZERO_ADDRESS):
        som.mint(ZERO_ADDRESS, 1, REF, {"from": issuer})


def test_mint_up_to_cap_succeeds(som, holder, issuer, tiers):
    som.mint(holder, tiers[BASIC_TIER].holding_cap, REF, {"from": issuer})
    assert som.balanceOf(holder) == tiers[BASIC_TIER].holding_cap


def test_mint_one_unit_over_cap_reverts(som, holder, issuer, tiers, reverts):
    cap = tiers[BASIC_TIER].holding_cap
    with reverts("DigitalCurrencyHoldingCapExceeded", account=holder.address, tier=BASIC_TIER, cap=cap, balanceAfter=cap + 1):
        som.mint(holder, cap + 1, REF, {"from": issuer})
    assert som.balanceOf(holder) == 0


def test_mint_up_to_supply_bound_succeeds(som, issuer, treasury):
    room = UNLIMITED - som.totalSupply()
    som.mint(treasury, room, REF, {"from": issuer})
    assert (som.totalSupply(), som.balanceOf(treasury)) == (UNLIMITED, TREASURY_FLOAT + room)


def test_mint_beyond_supply_bound_reverts(som, issuer, treasury, reverts):
    supply = som.totalSupply()
    with reverts("SupplyCapExceeded", totalSupply=supply, amount=UNLIMITED - supply + 1):
        som.mint(treasury, UNLIMITED - supply + 1, REF, {"from": issuer})


# --- burn ---


def test_burn_retires_issuer_holding(som, issuer_holds, issuer):
    supply = som.totalSupply()
    som.burn(2_000 * TYIYN, REF, {"from": issuer})
    assert (som.balanceOf(issuer), supply - som.totalSupply()) == (issuer_holds - 2_000 * TYIYN, 2_000 * TYIYN)


def test_burn_emits_retired_and_transfer(som, issuer_holds, issuer):
    tx = som.burn(2_000 * TYIYN, REF, {"from": issuer})
    e = tx.events["Retired"]
    assert (e["issuer"], e["amount"], bytes(e["ref"])) == (issuer, 2_000 * TYIYN, REF)
    assert dict(tx.events["Transfer"]) == {"from": issuer, "to": ZERO_ADDRESS, "value": 2_000 * TYIYN}


def test_burn_whole_holding_succeeds(som, issuer_holds, issuer):
    som.burn(issuer_holds, REF, {"from": issuer})
    assert som.balanceOf(issuer) == 0


def test_burn_more_than_held_reverts(som, issuer_holds, issuer, reverts):
    with reverts("ERC20InsufficientBalance", sender=issuer.address, balance=issuer_holds, needed=issuer_holds + 1):
        som.burn(issuer_holds + 1, REF, {"from": issuer})


def test_burn_by_unregistered_issuer_reverts(som, issuer, kyc_officer, reverts):
    som.deregisterWallet(issuer, kyc_record("issuer-exit"), {"from": kyc_officer})
    with reverts("DigitalCurrencyNotRegistered", account=issuer.address):
        som.burn(1, REF, {"from": issuer})


def test_burn_by_blocked_issuer_reverts(som, issuer_holds, issuer, compliance, reverts):
    som.blockAccount(issuer, SANCTIONS, {"from": compliance})
    with reverts("BlockedAddress", account=issuer.address):
        som.burn(1, REF, {"from": issuer})
    assert som.balanceOf(issuer) == issuer_holds


def test_burn_obeys_issuer_tier_limits(som, issuer, kyc_officer, treasury, tiers, reverts):
    """An issuer wallet in a capped tier retires no more at once than the tier lets it send."""
    limit = tiers[BASIC_TIER].transfer_limit
    som.changeTier(issuer, BASIC_TIER, kyc_record("issuer-basic"), {"from": kyc_officer})
    som.transfer(issuer, limit + 1, {"from": treasury})
    with reverts("DigitalCurrencyTransferLimitExceeded", account=issuer.address, tier=BASIC_TIER, limit=limit, amount=limit + 1):
        som.burn(limit + 1, REF, {"from": issuer})


# --- Pause switches ---


@pytest.mark.parametrize("flag, call", [(PAUSE_MINT, "mint"), (PAUSE_REDEEM, "burn")], ids=["PAUSE_MINT-mint", "PAUSE_REDEEM-burn"])
def test_pause_switch_stops_its_operation(som, issuer_holds, issuer, treasury, pauser, reverts, flag, call):
    som.pause(flag, {"from": pauser})
    args = (treasury, 1, REF) if call == "mint" else (1, REF)
    supply = som.totalSupply()
    with reverts("OperationPaused", flag=flag):
        getattr(som, call)(*args, {"from": issuer})
    assert som.totalSupply() == supply


@pytest.mark.parametrize(
    "flag, call, change",
    [(PAUSE_MINT, "burn", -1), (PAUSE_REDEEM, "mint", 1), (PAUSE_TRANSFERS, "mint", 1)],
    ids=["PAUSE_MINT-burn", "PAUSE_REDEEM-mint", "PAUSE_TRANSFERS-mint"],
)
def test_pause_switch_leaves_other_operations(som, issuer_holds, issuer, treasury, pauser, flag, call, change):
    som.pause(flag, {"from": pauser})
    args = (treasury, 1, REF) if call == "mint" else (1, REF)
    supply = som.totalSupply()
    getattr(som, call)(*args, {"from": issuer})
    assert som.totalSupply() == supply + change


def test_unpause_mint_resumes_issuance(som, holder, issuer, pauser):
    som.pause(PAUSE_MINT, {"from": pauser})
    som.unpause(PAUSE_MINT, {"from": pauser})
    som.mint(holder, 1, REF, {"from": issuer})
    assert som.balanceOf(holder) == 1


# --- The total supply ---


def test_total_supply_equals_sum_of_balances(som, register, issuer, treasury, bank_wallet, alice, bob):
    register(alice, BASIC_TIER)
    register(bob, STANDARD_TIER, "bob")
    som.mint(alice, 3_000 * TYIYN, REF, {"from": issuer})
    som.mint(bob, 7_000 * TYIYN, keccak(text="issuance-bob"), {"from": issuer})
    som.transfer(bob, 500 * TYIYN, {"from": alice})
    som.transfer(issuer, 4_000 * TYIYN, {"from": bob})
    som.transfer(bank_wallet, 1_000 * TYIYN, {"from": treasury})
    som.burn(3_500 * TYIYN, keccak(text="retirement-1"), {"from": issuer})
    holders = (treasury, issuer, bank_wallet, alice, bob)
    assert som.totalSupply() == sum(som.balanceOf(h) for h in holders) == TREASURY_FLOAT + 10_000 * TYIYN - 3_500 * TYIYN
