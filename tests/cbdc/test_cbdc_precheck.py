"""The ERC-1404 pre-check of the digital som: detectTransferRestriction gives each reason code of
TransferRestrictions (0-6 and the tier codes 9-13) in a situation built for it, and the real
transfer then does what the pre-check said (succeeds on 0, reverts with the matching custom error
otherwise); detectTransferFromRestriction adds the spender codes 7 and 8; the messages."""

from types import SimpleNamespace

import pytest
from brownie import ZERO_ADDRESS, accounts, web3
from eth_utils import keccak

from cbdclib import (
    BASIC_TIER,
    DAILY_LIMIT_EXCEEDED,
    DAY,
    FULL_TIER,
    HOLDING_CAP_EXCEEDED,
    INSUFFICIENT_ALLOWANCE,
    INSUFFICIENT_BALANCE,
    INVALID_RECIPIENT,
    INVALID_SENDER,
    PAUSE_MINT,
    PAUSE_REDEEM,
    PAUSE_TRANSFERS,
    PAUSED,
    RECIPIENT_BLOCKED,
    RECIPIENT_NOT_REGISTERED,
    SENDER_BLOCKED,
    SENDER_NOT_REGISTERED,
    SPENDER_BLOCKED,
    SUCCESS,
    TRANSFER_LIMIT_EXCEEDED,
    TYIYN,
    identity_of,
    kyc_record,
)

MAX_UINT256 = 2**256 - 1
SANCTIONS = keccak(text="sanctions-record-1")
ALICE_HOLDS = 20_000 * TYIYN  # alice's balance in every situation (basic tier)
ALLOWANCE = 100 * TYIYN  # what alice lets carol spend, where she does


@pytest.fixture
def env(cbdc_ready, tiers, kyc_officer, treasury, pauser, compliance, bank_wallet, stranger, alice, bob, carol):
    """alice (basic tier) holds 20,000 som; bob (basic tier) holds nothing; carol is unregistered
    (a spender); the bank wallet is uncapped; the stranger unregistered."""
    som = cbdc_ready
    for wallet, name in ((alice, "alice"), (bob, "bob")):
        som.registerWallet(wallet, BASIC_TIER, identity_of(name), kyc_record(name), {"from": kyc_officer})
    som.transfer(alice, ALICE_HOLDS, {"from": treasury})
    basic = tiers[BASIC_TIER]
    return SimpleNamespace(
        som=som, tier=basic, cap=basic.holding_cap, limit=basic.transfer_limit, daily=basic.daily_limit,
        kyc_officer=kyc_officer, treasury=treasury, pauser=pauser, compliance=compliance,
        bank=bank_wallet, stranger=stranger, alice=alice, bob=bob, carol=carol, zero=ZERO_ADDRESS,
    )


# --- Situations: each prepares the chain; names in the cases are attributes of `env` ---


def _nothing(env):
    pass


def _pause(env):
    env.som.pause(PAUSE_TRANSFERS, {"from": env.pauser})


def _pause_mint_and_redeem(env):
    env.som.pause(PAUSE_MINT | PAUSE_REDEEM, {"from": env.pauser})


def _block(*names):
    def prepare(env):
        for name in names:
            env.som.blockAccount(getattr(env, name), SANCTIONS, {"from": env.compliance})

    return prepare


def _bob_at_cap(env):
    env.som.transfer(env.bob, env.cap, {"from": env.treasury})


def _bob_linked(env):
    """bob linked the bank as his overflow wallet."""
    env.som.setWaterfall(env.bob, env.bank, {"from": env.kyc_officer})


def _bob_at_cap_linked_to_blocked_bank(env):
    _bob_at_cap(env)
    _bob_linked(env)
    _block("bank")(env)


def _bob_linked_to_bank_now_capped(env):
    _bob_linked(env)
    env.som.changeTier(env.bank, FULL_TIER, kyc_record("bank-downgrade"), {"from": env.kyc_officer})


def _alice_spent_all_but(rest):
    """alice, at the start of a fresh UTC day, spends her daily limit less `rest` (to the treasury)."""

    def prepare(env):
        today = web3.eth.get_block("latest").timestamp // DAY
        web3.provider.make_request("evm_setNextBlockTimestamp", [(today + 1) * DAY + 60])
        env.som.transfer(env.alice, env.daily, {"from": env.treasury})
        spend = env.daily - rest
        while spend:
            amount = min(spend, env.limit)
            env.som.transfer(env.treasury, amount, {"from": env.alice})
            spend -= amount

    return prepare


def _approve(owner, spender, value, then=_nothing):
    def prepare(env):
        env.som.approve(getattr(env, spender), value, {"from": getattr(env, owner)})
        then(env)

    return prepare


# Amounts may depend on the tier figures: a callable of env, or an int.
def _amount(env, amount):
    return amount(env) if callable(amount) else amount


# id: (situation, from, to, amount, code, (error name, {argument: env -> value}) or None)
TRANSFER_CASES = {
    "plain": (_nothing, "alice", "bob", 100 * TYIYN, SUCCESS, None),
    "at_transfer_limit": (_nothing, "alice", "treasury", lambda e: e.limit, SUCCESS, None),
    "to_cap_exactly": (_nothing, "treasury", "bob", lambda e: e.cap, SUCCESS, None),
    "at_daily_limit": (_alice_spent_all_but(5_000 * TYIYN), "alice", "treasury", 5_000 * TYIYN, SUCCESS, None),
    "over_cap_with_overflow": (_bob_linked, "treasury", "bob", lambda e: e.cap + 1, SUCCESS, None),
    "self_transfer_at_cap": (_bob_at_cap, "bob", "bob", 1, SUCCESS, None),
    "mint_and_redeem_paused": (_pause_mint_and_redeem, "alice", "bob", 100 * TYIYN, SUCCESS, None),
    "paused": (_pause, "alice", "bob", 100 * TYIYN, PAUSED, ("OperationPaused", {"flag": lambda e: PAUSE_TRANSFERS})),
    "sender_blocked": (_block("alice"), "alice", "bob", 100 * TYIYN, SENDER_BLOCKED, ("BlockedAddress", {"account": lambda e: e.alice.address})),
    "recipient_blocked": (_block("bob"), "alice", "bob", 100 * TYIYN, RECIPIENT_BLOCKED, ("BlockedAddress", {"account": lambda e: e.bob.address})),
    "overflow_blocked": (
        _bob_at_cap_linked_to_blocked_bank, "treasury", "bob", 1, RECIPIENT_BLOCKED,
        ("BlockedAddress", {"account": lambda e: e.bank.address}),
    ),
    "above_balance": (
        _nothing, "alice", "treasury", ALICE_HOLDS + 1, INSUFFICIENT_BALANCE,
        ("ERC20InsufficientBalance", {"sender": lambda e: e.alice.address, "balance": lambda e: ALICE_HOLDS, "needed": lambda e: ALICE_HOLDS + 1}),
    ),
    "zero_sender": (_nothing, "zero", "bob", 0, INVALID_SENDER, ("ERC20InvalidSender", {"sender": lambda e: ZERO_ADDRESS})),
    "zero_recipient": (_nothing, "alice", "zero", 100 * TYIYN, INVALID_RECIPIENT, ("ERC20InvalidReceiver", {"receiver": lambda e: ZERO_ADDRESS})),
    "sender_not_registered": (
        _nothing, "stranger", "bob", 1, SENDER_NOT_REGISTERED,
        ("DigitalCurrencyNotRegistered", {"account": lambda e: e.stranger.address}),
    ),
    "recipient_not_registered": (
        _nothing, "alice", "stranger", 100 * TYIYN, RECIPIENT_NOT_REGISTERED,
        ("DigitalCurrencyNotRegistered", {"account": lambda e: e.stranger.address}),
    ),
    "holding_cap": (
        _nothing, "treasury", "bob", lambda e: e.cap + 1, HOLDING_CAP_EXCEEDED,
        ("DigitalCurrencyHoldingCapExceeded", {"account": lambda e: e.bob.address, "tier": lambda e: BASIC_TIER, "cap": lambda e: e.cap, "balanceAfter": lambda e: e.cap + 1}),
    ),
    "overflow_no_longer_uncapped": (
        _bob_linked_to_bank_now_capped, "treasury", "bob", lambda e: e.cap + 1, HOLDING_CAP_EXCEEDED,
        ("DigitalCurrencyNotUncapped", {"account": lambda e: e.bank.address, "tier": lambda e: FULL_TIER}),
    ),
    "transfer_limit": (
        _nothing, "alice", "treasury", lambda e: e.limit + 1, TRANSFER_LIMIT_EXCEEDED,
        ("DigitalCurrencyTransferLimitExceeded", {"account": lambda e: e.alice.address, "tier": lambda e: BASIC_TIER, "limit": lambda e: e.limit, "amount": lambda e: e.limit + 1}),
    ),
    "daily_limit": (
        _alice_spent_all_but(5_000 * TYIYN), "alice", "treasury", 5_000 * TYIYN + 1, DAILY_LIMIT_EXCEEDED,
        ("DigitalCurrencyDailyLimitExceeded", {"account": lambda e: e.alice.address, "tier": lambda e: BASIC_TIER, "limit": lambda e: e.daily, "spentAfter": lambda e: e.daily + 1}),
    ),
}
SUCCESS_CASES = {k: c for k, c in TRANSFER_CASES.items() if c[4] == SUCCESS}
REFUSAL_CASES = {k: c for k, c in TRANSFER_CASES.items() if c[4] != SUCCESS}


def _sender(env, name):
    """The account that sends as `name` (the zero address is impersonated)."""
    if name != "zero":
        return getattr(env, name)
    # Impersonated again each time: brownie keeps the account once made, but anvil may have
    # dropped the impersonation with a reverted snapshot (seen under --coverage, where brownie
    # sends each view call as a transaction and undoes it: "No Signer available").
    web3.provider.make_request("anvil_impersonateAccount", [ZERO_ADDRESS])
    return accounts.at(ZERO_ADDRESS, force=True)


def _expected_args(env, error_args):
    return {key: value(env) for key, value in error_args.items()}


# --- detectTransferRestriction, paired with the transfer ---


def test_codes_cover_every_transfer_reason():
    assert {c[4] for c in TRANSFER_CASES.values()} == {0, 1, 2, 3, 4, 5, 6, 9, 10, 11, 12, 13}


@pytest.mark.parametrize("case", SUCCESS_CASES.values(), ids=SUCCESS_CASES.keys())
def test_transfer_succeeds_where_pre_check_says_success(env, case):
    prepare, sender, to, amount, _code, _error = case
    prepare(env)
    value = _amount(env, amount)
    assert env.som.detectTransferRestriction(getattr(env, sender), getattr(env, to), value) == SUCCESS
    supply = env.som.totalSupply()
    tx = env.som.transfer(getattr(env, to), value, {"from": _sender(env, sender)})
    assert (tx.status, sum(e["value"] for e in tx.events["Transfer"]), env.som.totalSupply()) == (1, value, supply)


@pytest.mark.parametrize("case", REFUSAL_CASES.values(), ids=REFUSAL_CASES.keys())
def test_transfer_reverts_where_pre_check_gives_reason(env, reverts, case):
    prepare, sender, to, amount, code, (error, error_args) = case
    prepare(env)
    value = _amount(env, amount)
    assert env.som.detectTransferRestriction(getattr(env, sender), getattr(env, to), value) == code
    with reverts(error, **_expected_args(env, error_args)):
        env.som.transfer(getattr(env, to), value, {"from": _sender(env, sender)})


def test_detect_transfer_restriction_after_overflow_unlinked_is_cap_exceeded(env):
    _bob_linked(env)
    env.som.setWaterfall(env.bob, ZERO_ADDRESS, {"from": env.kyc_officer})
    assert env.som.detectTransferRestriction(env.treasury, env.bob, env.cap + 1) == HOLDING_CAP_EXCEEDED


# --- detectTransferFromRestriction: carol spends alice's allowance ---

# id: (situation, spender, from, to, amount, code, (error name, {argument: env -> value}) or None)
TRANSFER_FROM_CASES = {
    "within_allowance": (_approve("alice", "carol", ALLOWANCE), "carol", "alice", "bob", 10 * TYIYN, SUCCESS, None),
    "whole_allowance": (_approve("alice", "carol", ALLOWANCE), "carol", "alice", "bob", ALLOWANCE, SUCCESS, None),
    "spender_blocked": (
        _approve("alice", "carol", ALLOWANCE, _block("carol")), "carol", "alice", "bob", 10 * TYIYN, SPENDER_BLOCKED,
        ("BlockedAddress", {"account": lambda e: e.carol.address}),
    ),
    "above_allowance": (
        _approve("alice", "carol", ALLOWANCE), "carol", "alice", "bob", ALLOWANCE + 1, INSUFFICIENT_ALLOWANCE,
        ("ERC20InsufficientAllowance", {"spender": lambda e: e.carol.address, "allowance": lambda e: ALLOWANCE, "needed": lambda e: ALLOWANCE + 1}),
    ),
    "no_allowance": (
        _nothing, "carol", "alice", "bob", 1, INSUFFICIENT_ALLOWANCE,
        ("ERC20InsufficientAllowance", {"spender": lambda e: e.carol.address, "allowance": lambda e: 0, "needed": lambda e: 1}),
    ),
    "owner_blocked_spending_own_allowance": (
        _approve("alice", "alice", ALLOWANCE, _block("alice")), "alice", "alice", "bob", 10 * TYIYN, SENDER_BLOCKED,
        ("BlockedAddress", {"account": lambda e: e.alice.address}),
    ),
    "transfer_limit_within_allowance": (
        _approve("alice", "carol", MAX_UINT256), "carol", "alice", "treasury", lambda e: e.limit + 1, TRANSFER_LIMIT_EXCEEDED,
        ("DigitalCurrencyTransferLimitExceeded", {"account": lambda e: e.alice.address, "tier": lambda e: BASIC_TIER, "limit": lambda e: e.limit, "amount": lambda e: e.limit + 1}),
    ),
    "recipient_not_registered_within_allowance": (
        _approve("alice", "carol", ALLOWANCE), "carol", "alice", "stranger", 10 * TYIYN, RECIPIENT_NOT_REGISTERED,
        ("DigitalCurrencyNotRegistered", {"account": lambda e: e.stranger.address}),
    ),
}
FROM_SUCCESS_CASES = {k: c for k, c in TRANSFER_FROM_CASES.items() if c[5] == SUCCESS}
FROM_REFUSAL_CASES = {k: c for k, c in TRANSFER_FROM_CASES.items() if c[5] != SUCCESS}


@pytest.mark.parametrize("case", FROM_SUCCESS_CASES.values(), ids=FROM_SUCCESS_CASES.keys())
def test_transfer_from_succeeds_where_pre_check_says_success(env, case):
    prepare, spender, sender, to, amount, _code, _error = case
    prepare(env)
    value = _amount(env, amount)
    spender, sender, to = getattr(env, spender), getattr(env, sender), getattr(env, to)
    assert env.som.detectTransferFromRestriction(spender, sender, to, value) == SUCCESS
    env.som.transferFrom(sender, to, value, {"from": spender})
    assert (env.som.balanceOf(to), env.som.allowance(sender, spender)) == (value, ALLOWANCE - value)


@pytest.mark.parametrize("case", FROM_REFUSAL_CASES.values(), ids=FROM_REFUSAL_CASES.keys())
def test_transfer_from_reverts_where_pre_check_gives_reason(env, reverts, case):
    prepare, spender, sender, to, amount, code, (error, error_args) = case
    prepare(env)
    value = _amount(env, amount)
    spender, sender, to = getattr(env, spender), getattr(env, sender), getattr(env, to)
    assert env.som.detectTransferFromRestriction(spender, sender, to, value) == code
    with reverts(error, **_expected_args(env, error_args)):
        env.som.transferFrom(sender, to, value, {"from": spender})


# --- messageForTransferRestriction ---

TIER_CODE_NAMES = {
    9: "SENDER_NOT_REGISTERED",
    10: "RECIPIENT_NOT_REGISTERED",
    11: "HOLDING_CAP_EXCEEDED",
    12: "TRANSFER_LIMIT_EXCEEDED",
    13: "DAILY_LIMIT_EXCEEDED",
}


@pytest.mark.parametrize("code, name", TIER_CODE_NAMES.items(), ids=TIER_CODE_NAMES.values())
def test_message_for_tier_code_starts_with_its_name(cbdc, code, name):
    text = cbdc.messageForTransferRestriction(code)
    assert text.startswith(f"{name}: ") and len(text) > len(name) + 2


def test_message_for_success_is_success(cbdc):
    assert cbdc.messageForTransferRestriction(SUCCESS) == "SUCCESS"


def test_message_for_unknown_code_is_unknown(cbdc):
    assert cbdc.messageForTransferRestriction(14) == "UNKNOWN"
