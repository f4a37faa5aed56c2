"""The sanctions blocklist: a blocked address takes part in no transfer or approval."""

import pytest
from eth_utils import keccak

UNIT = 10**18
MAX_UINT = 2**256 - 1
ZERO_ADDRESS = "0x" + "00" * 20
REASON = keccak(text="sanctions-record-1")


def block(token, account, compliance):
    token.blockAccount(account, REASON, {"from": compliance})


def test_blocked_sender_cannot_transfer(funded, compliance, alice, bob, reverts):
    block(funded, alice, compliance)
    with reverts("BlockedAddress", account=alice.address):
        funded.transfer(bob, 1 * UNIT, {"from": alice})


def test_blocked_sender_cannot_transfer_with_reference(funded, compliance, alice, bob, reverts):
    block(funded, alice, compliance)
    with reverts("BlockedAddress", account=alice.address):
        funded.transferWithReference(bob, 1 * UNIT, keccak(text="travel-rule"), {"from": alice})


def test_blocked_recipient_cannot_receive(funded, compliance, alice, mallory, reverts):
    block(funded, mallory, compliance)
    with reverts("BlockedAddress", account=mallory.address):
        funded.transfer(mallory, 1 * UNIT, {"from": alice})


def test_blocked_owner_cannot_approve(funded, compliance, alice, bob, reverts):
    block(funded, alice, compliance)
    with reverts("BlockedAddress", account=alice.address):
        funded.approve(bob, 1 * UNIT, {"from": alice})


def test_blocked_spender_cannot_be_approved(funded, compliance, alice, mallory, reverts):
    block(funded, mallory, compliance)
    with reverts("BlockedAddress", account=mallory.address):
        funded.approve(mallory, 1 * UNIT, {"from": alice})


def test_blocked_owner_funds_cannot_be_pulled(funded, compliance, alice, bob, carol, reverts):
    funded.approve(bob, 10 * UNIT, {"from": alice})
    block(funded, alice, compliance)
    with reverts("BlockedAddress", account=alice.address):
        funded.transferFrom(alice, carol, 1 * UNIT, {"from": bob})


def test_transfer_from_to_blocked_recipient_reverts(funded, compliance, alice, bob, mallory, reverts):
    funded.approve(bob, 10 * UNIT, {"from": alice})
    block(funded, mallory, compliance)
    with reverts("BlockedAddress", account=mallory.address):
        funded.transferFrom(alice, mallory, 1 * UNIT, {"from": bob})


@pytest.mark.parametrize("allowance", [10 * UNIT, MAX_UINT], ids=["limited", "unlimited"])
def test_blocked_spender_cannot_spend_allowance(funded, compliance, alice, mallory, carol, reverts, allowance):
    funded.approve(mallory, allowance, {"from": alice})
    block(funded, mallory, compliance)
    with reverts("BlockedAddress", account=mallory.address):
        funded.transferFrom(alice, carol, 1 * UNIT, {"from": mallory})


@pytest.mark.parametrize("allowance", [10 * UNIT, MAX_UINT], ids=["limited", "unlimited"])
def test_blocked_spender_refusal_keeps_owner_balance(funded, compliance, alice, mallory, carol, reverts, allowance):
    funded.approve(mallory, allowance, {"from": alice})
    block(funded, mallory, compliance)
    with reverts("BlockedAddress"):
        funded.transferFrom(alice, carol, 1 * UNIT, {"from": mallory})
    assert funded.balanceOf(alice) == 1_000 * UNIT


def test_unblocked_spender_can_spend_unlimited_allowance_again(funded, compliance, alice, mallory, carol):
    funded.approve(mallory, MAX_UINT, {"from": alice})
    block(funded, mallory, compliance)
    funded.unblockAccount(mallory, {"from": compliance})
    funded.transferFrom(alice, carol, 1 * UNIT, {"from": mallory})
    assert funded.balanceOf(carol) == 1 * UNIT


def test_block_account_emits_account_blocked(funded, compliance, mallory):
    tx = funded.blockAccount(mallory, REASON, {"from": compliance})
    event = tx.events["AccountBlocked"]
    assert (event["account"], bytes(event["reason"])) == (mallory, REASON)


def test_unblock_account_emits_account_unblocked(funded, compliance, mallory):
    block(funded, mallory, compliance)
    tx = funded.unblockAccount(mallory, {"from": compliance})
    assert tx.events["AccountUnblocked"]["account"] == mallory


def test_block_twice_reverts(funded, compliance, mallory, reverts):
    block(funded, mallory, compliance)
    with reverts("BlockStatusUnchanged", account=mallory.address, blocked=True):
        block(funded, mallory, compliance)


def test_unblock_not_blocked_reverts(funded, compliance, mallory, reverts):
    with reverts("BlockStatusUnchanged", account=mallory.address, blocked=False):
        funded.unblockAccount(mallory, {"from": compliance})


def test_block_zero_address_reverts(funded, compliance, reverts):
    with reverts("ZeroAddress"):
        funded.blockAccount(ZERO_ADDRESS, REASON, {"from": compliance})


def test_block_keeps_balance(funded, compliance, alice):
    block(funded, alice, compliance)
    assert funded.balanceOf(alice) == 1_000 * UNIT


def test_unblock_keeps_balance(funded, compliance, alice):
    block(funded, alice, compliance)
    funded.unblockAccount(alice, {"from": compliance})
    assert funded.balanceOf(alice) == 1_000 * UNIT


def test_block_keeps_total_supply(funded, compliance, alice):
    supply = funded.totalSupply()
    block(funded, alice, compliance)
    assert funded.totalSupply() == supply


def test_unblocked_account_can_transfer_again(funded, compliance, alice, bob):
    block(funded, alice, compliance)
    funded.unblockAccount(alice, {"from": compliance})
    funded.transfer(bob, 1 * UNIT, {"from": alice})
    assert funded.balanceOf(bob) == 1_001 * UNIT


@pytest.mark.parametrize("blocked", [False, True], ids=["clear", "blocked"])
def test_is_blocked_reports_status(funded, compliance, mallory, blocked):
    if blocked:
        block(funded, mallory, compliance)
    assert funded.isBlocked(mallory) is blocked


def test_is_blocked_false_after_unblock(funded, compliance, mallory):
    block(funded, mallory, compliance)
    funded.unblockAccount(mallory, {"from": compliance})
    assert funded.isBlocked(mallory) is False


def test_block_account_by_stranger_reverts(funded, stranger, mallory, reverts):
    with reverts("AccessManagedUnauthorized", caller=stranger.address):
        funded.blockAccount(mallory, REASON, {"from": stranger})
