"""Rescue: tokens sent to the KGST proxy by mistake are returned by the rescuer."""

import pytest
from brownie import MockERC20

UNIT = 10**18
ZERO_ADDRESS = "0x" + "00" * 20


@pytest.fixture
def stray(kgst, admin, alice):
    """A foreign ERC-20 of which alice sent 50 to the KGST proxy by mistake."""
    token = MockERC20.deploy("Stray Token", "STRAY", {"from": admin})
    token.mint(alice, 100 * UNIT, {"from": admin})
    token.transfer(kgst, 50 * UNIT, {"from": alice})
    return token


@pytest.fixture
def self_sent(funded, alice):
    """alice sent 30 KGST to the token contract itself."""
    funded.transfer(funded, 30 * UNIT, {"from": alice})
    return funded


def test_rescue_foreign_token_returns_balance(kgst, stray, rescuer, alice):
    kgst.rescueERC20(stray, alice, 50 * UNIT, {"from": rescuer})
    assert (stray.balanceOf(alice), stray.balanceOf(kgst)) == (100 * UNIT, 0)


def test_rescue_foreign_token_partially(kgst, stray, rescuer, alice):
    kgst.rescueERC20(stray, alice, 20 * UNIT, {"from": rescuer})
    assert (stray.balanceOf(alice), stray.balanceOf(kgst)) == (70 * UNIT, 30 * UNIT)


def test_rescue_foreign_token_emits_tokens_rescued(kgst, stray, rescuer, alice):
    tx = kgst.rescueERC20(stray, alice, 50 * UNIT, {"from": rescuer})
    e = tx.events["TokensRescued"]
    assert (e["token"], e["to"], e["amount"]) == (stray, alice, 50 * UNIT)


def test_rescue_foreign_token_above_held_reverts(kgst, stray, rescuer, alice, reverts):
    with reverts("ERC20InsufficientBalance", sender=kgst.address, balance=50 * UNIT, needed=50 * UNIT + 1):
        kgst.rescueERC20(stray, alice, 50 * UNIT + 1, {"from": rescuer})


def test_rescue_own_token_returns_balance(self_sent, rescuer, alice):
    self_sent.rescueERC20(self_sent, alice, 30 * UNIT, {"from": rescuer})
    assert (self_sent.balanceOf(alice), self_sent.balanceOf(self_sent)) == (1_000 * UNIT, 0)


def test_rescue_own_token_emits_tokens_rescued(self_sent, rescuer, alice):
    tx = self_sent.rescueERC20(self_sent, alice, 30 * UNIT, {"from": rescuer})
    e = tx.events["TokensRescued"]
    assert (e["token"], e["to"], e["amount"]) == (self_sent, alice, 30 * UNIT)


def test_rescue_own_token_to_blocked_address_reverts(self_sent, rescuer, compliance, mallory, reverts):
    self_sent.blockAccount(mallory, b"\x01" * 32, {"from": compliance})
    with reverts("BlockedAddress", account=mallory.address):
        self_sent.rescueERC20(self_sent, mallory, 30 * UNIT, {"from": rescuer})


def test_rescue_to_zero_address_reverts(kgst, stray, rescuer, reverts):
    with reverts("ZeroAddress"):
        kgst.rescueERC20(stray, ZERO_ADDRESS, 1, {"from": rescuer})


@pytest.mark.parametrize("caller", ["stranger", "compliance", "alice"])
def test_rescue_by_non_rescuer_reverts(kgst, stray, request, reverts, caller):
    account = request.getfixturevalue(caller)
    with reverts("AccessManagedUnauthorized", caller=account.address):
        kgst.rescueERC20(stray, account, 50 * UNIT, {"from": account})


def test_rescue_by_stranger_leaves_tokens(kgst, stray, stranger, reverts):
    with reverts("AccessManagedUnauthorized"):
        kgst.rescueERC20(stray, stranger, 50 * UNIT, {"from": stranger})
    assert stray.balanceOf(kgst) == 50 * UNIT
