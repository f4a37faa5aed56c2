"""increaseAllowance / decreaseAllowance on both tokens (contracts/token/SignedTransfers.sol):
relative allowance changes, so a spend mined before the change is not granted twice (the ERC-20
approve race that slither-check-erc asks tokens to guard against). They follow `approve`'s rules:
transfers unpaused, neither party blocked, except that an allowance to a blocked spender may be
lowered to zero."""

import brownie
import pytest
from eth_utils import keccak

MAX_UINT256 = 2**256 - 1
PAUSE_TRANSFERS = 1
REASON = keccak(text="sanctions-record-1")

# both tokens refuse with the same errors of the compliance core (ICompliantToken)
TOKENS = ("kgst", "cbdc")


@pytest.fixture(params=list(TOKENS))
def token(request, kgst, cbdc):
    # Both session fixtures are requested by name so that they are set up before the per-test
    # snapshot (a getfixturevalue of one inside the test would be reverted with the test).
    token = {"kgst": kgst, "cbdc": cbdc}[request.param]
    return token


def test_increase_allowance_adds_to_current(token, alice, bob):
    token.approve(bob, 100, {"from": alice})
    token.increaseAllowance(bob, 25, {"from": alice})
    assert token.allowance(alice, bob) == 125


def test_increase_allowance_returns_true(token, alice, bob):
    assert token.increaseAllowance.call(bob, 1, {"from": alice}) is True


def test_increase_allowance_emits_approval_with_new_allowance(token, alice, bob):
    token.approve(bob, 100, {"from": alice})
    tx = token.increaseAllowance(bob, 25, {"from": alice})
    assert tx.events["Approval"] == {"owner": alice.address, "spender": bob.address, "value": 125}


def test_increase_allowance_past_max_reverts(token, alice, bob):
    token.approve(bob, MAX_UINT256, {"from": alice})
    with brownie.reverts("Integer overflow"):  # Panic(0x11): checked arithmetic, never wrapped
        token.increaseAllowance(bob, 1, {"from": alice})
    assert token.allowance(alice, bob) == MAX_UINT256


def test_decrease_allowance_subtracts_from_current(token, alice, bob):
    token.approve(bob, 100, {"from": alice})
    token.decreaseAllowance(bob, 30, {"from": alice})
    assert token.allowance(alice, bob) == 70


def test_decrease_allowance_emits_approval_with_new_allowance(token, alice, bob):
    token.approve(bob, 100, {"from": alice})
    tx = token.decreaseAllowance(bob, 100, {"from": alice})
    assert tx.events["Approval"] == {"owner": alice.address, "spender": bob.address, "value": 0}


def test_decrease_allowance_below_zero_reverts(token, alice, bob, reverts):
    token.approve(bob, 10, {"from": alice})
    with reverts("SignedTransfersAllowanceUnderflow", spender=bob.address, allowance=10, decrease=11):
        token.decreaseAllowance(bob, 11, {"from": alice})


def test_increase_allowance_while_transfers_paused_reverts(token, pauser, alice, bob, reverts):
    token.pause(PAUSE_TRANSFERS, {"from": pauser})
    with reverts("OperationPaused", flag=PAUSE_TRANSFERS):
        token.increaseAllowance(bob, 1, {"from": alice})


def test_increase_allowance_to_blocked_spender_reverts(token, compliance, alice, mallory, reverts):
    token.blockAccount(mallory, REASON, {"from": compliance})
    with reverts("BlockedAddress", account=mallory.address):
        token.increaseAllowance(mallory, 1, {"from": alice})


def test_increase_allowance_by_blocked_owner_reverts(token, compliance, alice, bob, reverts):
    token.blockAccount(alice, REASON, {"from": compliance})
    with reverts("BlockedAddress", account=alice.address):
        token.increaseAllowance(bob, 1, {"from": alice})


def test_decrease_allowance_of_blocked_spender_to_zero_is_allowed(token, compliance, alice, mallory):
    token.approve(mallory, 10, {"from": alice})
    token.blockAccount(mallory, REASON, {"from": compliance})
    token.decreaseAllowance(mallory, 10, {"from": alice})
    assert token.allowance(alice, mallory) == 0


def test_decrease_allowance_of_blocked_spender_to_nonzero_reverts(token, compliance, alice, mallory, reverts):
    token.approve(mallory, 10, {"from": alice})
    token.blockAccount(mallory, REASON, {"from": compliance})
    with reverts("BlockedAddress", account=mallory.address):
        token.decreaseAllowance(mallory, 4, {"from": alice})
