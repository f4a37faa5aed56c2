"""The ERC-1404 pre-check of KGST: each reason code of TransferRestrictions in the situation that
causes it, its message, and agreement between the pre-check and what the transfer really does."""

from types import SimpleNamespace

import pytest
from brownie import ZERO_ADDRESS, accounts, web3
from brownie.exceptions import VirtualMachineError
from eth_utils import keccak

UNIT = 10**18
MAX_UINT256 = 2**256 - 1
PAUSE_TRANSFERS = 1
REASON = keccak(text="sanctions-record-1")

# TransferRestrictions.sol
SUCCESS = 0
PAUSED = 1
SENDER_BLOCKED = 2
RECIPIENT_BLOCKED = 3
INSUFFICIENT_BALANCE = 4
INVALID_SENDER = 5
INVALID_RECIPIENT = 6
SPENDER_BLOCKED = 7
INSUFFICIENT_ALLOWANCE = 8

MESSAGES = {
    SUCCESS: "SUCCESS",
    PAUSED: "PAUSED: transfers are paused",
    SENDER_BLOCKED: "SENDER_BLOCKED: the sender is on the blocklist",
    RECIPIENT_BLOCKED: "RECIPIENT_BLOCKED: the recipient is on the blocklist",
    INSUFFICIENT_BALANCE: "INSUFFICIENT_BALANCE: the sender's balance is too low",
    INVALID_SENDER: "INVALID_SENDER: the sender is the zero address",
    INVALID_RECIPIENT: "INVALID_RECIPIENT: the recipient is the zero address",
    SPENDER_BLOCKED: "SPENDER_BLOCKED: the spender is on the blocklist",
    INSUFFICIENT_ALLOWANCE: "INSUFFICIENT_ALLOWANCE: the spender's allowance is too low",
}


@pytest.fixture
def env(funded, pauser, compliance, alice, bob, carol, users):
    return SimpleNamespace(kgst=funded, pauser=pauser, compliance=compliance, alice=alice, bob=bob, carol=carol, dave=users.dave, zero=ZERO_ADDRESS)


# --- Situations: each prepares the chain; names in the cases are attributes of `env` ---


def _pause(env):
    env.kgst.pause(PAUSE_TRANSFERS, {"from": env.pauser})


def _block(*names):
    def prepare(env):
        for name in names:
            env.kgst.blockAccount(getattr(env, name), REASON, {"from": env.compliance})

    return prepare


def _approve(owner, spender, value, then=None):
    def prepare(env):
        env.kgst.approve(getattr(env, spender), value, {"from": getattr(env, owner)})
        if then:
            then(env)

    return prepare


def _nothing(env):
    pass


# (situation, from, to, amount, expected code)
TRANSFER_CASES = {
    "plain": (_nothing, "alice", "bob", 10 * UNIT, SUCCESS),
    "whole_balance": (_nothing, "alice", "bob", 1_000 * UNIT, SUCCESS),
    "zero_from_empty_account": (_nothing, "carol", "bob", 0, SUCCESS),
    "paused": (_pause, "alice", "bob", 10 * UNIT, PAUSED),
    "sender_blocked": (_block("alice"), "alice", "bob", 10 * UNIT, SENDER_BLOCKED),
    "sender_blocked_zero_amount": (_block("alice"), "alice", "bob", 0, SENDER_BLOCKED),
    "recipient_blocked": (_block("bob"), "alice", "bob", 10 * UNIT, RECIPIENT_BLOCKED),
    "both_blocked": (_block("alice", "bob"), "alice", "bob", 10 * UNIT, SENDER_BLOCKED),
    "above_balance": (_nothing, "alice", "bob", 1_000 * UNIT + 1, INSUFFICIENT_BALANCE),
    "empty_account": (_nothing, "carol", "bob", 1, INSUFFICIENT_BALANCE),
    "zero_sender": (_nothing, "zero", "bob", 0, INVALID_SENDER),
    "zero_recipient": (_nothing, "alice", "zero", 10 * UNIT, INVALID_RECIPIENT),
    "zero_recipient_while_paused": (_pause, "alice", "zero", 10 * UNIT, INVALID_RECIPIENT),
}

# (situation, spender, from, to, amount, expected code); carol spends alice's allowance.
TRANSFER_FROM_CASES = {
    "within_allowance": (_approve("alice", "carol", 100 * UNIT), "carol", "alice", "bob", 10 * UNIT, SUCCESS),
    "whole_allowance": (_approve("alice", "carol", 100 * UNIT), "carol", "alice", "bob", 100 * UNIT, SUCCESS),
    "unlimited_allowance": (_approve("alice", "carol", MAX_UINT256), "carol", "alice", "bob", 1_000 * UNIT, SUCCESS),
    "spender_blocked": (_approve("alice", "carol", 100 * UNIT, _block("carol")), "carol", "alice", "bob", 10 * UNIT, SPENDER_BLOCKED),
    "spender_blocked_unlimited": (_approve("alice", "carol", MAX_UINT256, _block("carol")), "carol", "alice", "bob", 10 * UNIT, SPENDER_BLOCKED),
    "spender_blocked_while_paused": (_approve("alice", "carol", 100 * UNIT, lambda e: (_block("carol")(e), _pause(e))), "carol", "alice", "bob", 10 * UNIT, SPENDER_BLOCKED),
    "above_allowance": (_approve("alice", "carol", 100 * UNIT), "carol", "alice", "bob", 100 * UNIT + 1, INSUFFICIENT_ALLOWANCE),
    "no_allowance": (_nothing, "dave", "alice", "bob", 1, INSUFFICIENT_ALLOWANCE),
    "paused": (_approve("alice", "carol", 100 * UNIT, _pause), "carol", "alice", "bob", 10 * UNIT, PAUSED),
    "sender_blocked": (_approve("alice", "carol", 100 * UNIT, _block("alice")), "carol", "alice", "bob", 10 * UNIT, SENDER_BLOCKED),
    "recipient_blocked": (_approve("alice", "carol", 100 * UNIT, _block("bob")), "carol", "alice", "bob", 10 * UNIT, RECIPIENT_BLOCKED),
    "above_balance": (_approve("alice", "carol", MAX_UINT256), "carol", "alice", "bob", 1_000 * UNIT + 1, INSUFFICIENT_BALANCE),
    "above_balance_and_allowance": (_approve("alice", "carol", 100 * UNIT), "carol", "alice", "bob", 1_000 * UNIT + 1, INSUFFICIENT_BALANCE),
    "zero_sender": (_nothing, "carol", "zero", "bob", 1, INVALID_SENDER),
    "zero_recipient": (_approve("alice", "carol", 100 * UNIT), "carol", "alice", "zero", 10 * UNIT, INVALID_RECIPIENT),
}

# Situations where only the outcome is compared with the pre-check (no single expected code).
TRANSFER_FROM_OUTCOME_ONLY_CASES = {
    "owner_spends_own_balance_without_self_allowance": (_nothing, "alice", "alice", "bob", 10 * UNIT),
    "owner_spends_own_balance_with_self_allowance": (_approve("alice", "alice", 100 * UNIT), "alice", "alice", "bob", 10 * UNIT),
    "zero_amount_without_allowance": (_nothing, "dave", "alice", "bob", 0),
}


def _sender(env, name):
    """The account that sends a transaction as `name` (the zero address is impersonated)."""
    if name != "zero":
        return getattr(env, name)
    # Impersonated again each time: brownie keeps the account once made, but anvil may have
    # dropped the impersonation with a reverted snapshot (seen under --coverage, where brownie
    # sends each view call as a transaction and undoes it: "No Signer available").
    web3.provider.make_request("anvil_impersonateAccount", [ZERO_ADDRESS])
    return accounts.at(ZERO_ADDRESS, force=True)


def _succeeds(send):
    try:
        send()
    except VirtualMachineError:
        return False
    return True


# --- detectTransferRestriction ---


@pytest.mark.parametrize("case", TRANSFER_CASES.values(), ids=TRANSFER_CASES.keys())
def test_detect_transfer_restriction_returns_code(env, case):
    prepare, sender, to, amount, expected = case
    prepare(env)
    assert env.kgst.detectTransferRestriction(getattr(env, sender), getattr(env, to), amount) == expected


@pytest.mark.parametrize("case", TRANSFER_CASES.values(), ids=TRANSFER_CASES.keys())
def test_detect_transfer_restriction_matches_transfer_outcome(env, case):
    prepare, sender, to, amount, _expected = case
    prepare(env)
    code = env.kgst.detectTransferRestriction(getattr(env, sender), getattr(env, to), amount)
    succeeded = _succeeds(lambda: env.kgst.transfer(getattr(env, to), amount, {"from": _sender(env, sender)}))
    assert succeeded == (code == SUCCESS), f"pre-check said {code}, transfer {'succeeded' if succeeded else 'reverted'}"


# --- detectTransferFromRestriction ---


@pytest.mark.parametrize("case", TRANSFER_FROM_CASES.values(), ids=TRANSFER_FROM_CASES.keys())
def test_detect_transfer_from_restriction_returns_code(env, case):
    prepare, spender, sender, to, amount, expected = case
    prepare(env)
    assert env.kgst.detectTransferFromRestriction(getattr(env, spender), getattr(env, sender), getattr(env, to), amount) == expected


@pytest.mark.parametrize(
    "case",
    [c[:5] for c in TRANSFER_FROM_CASES.values()] + list(TRANSFER_FROM_OUTCOME_ONLY_CASES.values()),
    ids=[*TRANSFER_FROM_CASES.keys(), *TRANSFER_FROM_OUTCOME_ONLY_CASES.keys()],
)
def test_detect_transfer_from_restriction_matches_transfer_from_outcome(env, case):
    prepare, spender, sender, to, amount = case
    prepare(env)
    code = env.kgst.detectTransferFromRestriction(getattr(env, spender), getattr(env, sender), getattr(env, to), amount)
    succeeded = _succeeds(lambda: env.kgst.transferFrom(getattr(env, sender), getattr(env, to), amount, {"from": getattr(env, spender)}))
    assert succeeded == (code == SUCCESS), f"pre-check said {code}, transferFrom {'succeeded' if succeeded else 'reverted'}"


def test_detect_transfer_restriction_success_after_unpause(env):
    _pause(env)
    env.kgst.unpause(PAUSE_TRANSFERS, {"from": env.pauser})
    assert env.kgst.detectTransferRestriction(env.alice, env.bob, 10 * UNIT) == SUCCESS


def test_detect_transfer_restriction_success_after_unblock(env):
    _block("alice")(env)
    env.kgst.unblockAccount(env.alice, {"from": env.compliance})
    assert env.kgst.detectTransferRestriction(env.alice, env.bob, 10 * UNIT) == SUCCESS


def test_detect_transfer_restriction_ignores_mint_and_redeem_pause(env):
    env.kgst.pause(2 | 4, {"from": env.pauser})
    assert env.kgst.detectTransferRestriction(env.alice, env.bob, 10 * UNIT) == SUCCESS


# --- messageForTransferRestriction ---


@pytest.mark.parametrize("code, text", MESSAGES.items(), ids=[t.split(":")[0] for t in MESSAGES.values()])
def test_message_for_transfer_restriction_names_code(kgst, code, text):
    assert kgst.messageForTransferRestriction(code) == text


@pytest.mark.parametrize("code", [14, 255])
def test_message_for_unknown_code_is_unknown(kgst, code):
    assert kgst.messageForTransferRestriction(code) == "UNKNOWN"
