"""KGST as a plain ERC-20: transfers, allowances, events, OpenZeppelin errors, metadata, and
transfers carrying a travel-rule reference."""

from brownie import ZERO_ADDRESS
from eth_utils import keccak

UNIT = 10**18
MAX_UINT256 = 2**256 - 1
REF = keccak(text="travel-rule-record-1")


# --- Metadata ---


def test_name_is_kgst_som_stablecoin(kgst):
    assert kgst.name() == "KGST Som Stablecoin"


def test_symbol_is_kgst(kgst):
    assert kgst.symbol() == "KGST"


def test_decimals_are_18(kgst):
    assert kgst.decimals() == 18


def test_total_supply_counts_the_genesis_mints(funded):
    assert funded.totalSupply() == 2_000 * UNIT


# --- transfer ---


def test_transfer_debits_sender(funded, alice, bob):
    funded.transfer(bob, 10 * UNIT, {"from": alice})
    assert funded.balanceOf(alice) == 990 * UNIT


def test_transfer_credits_recipient(funded, alice, carol):
    funded.transfer(carol, 10 * UNIT, {"from": alice})
    assert funded.balanceOf(carol) == 10 * UNIT


def test_transfer_keeps_total_supply(funded, alice, carol):
    funded.transfer(carol, 10 * UNIT, {"from": alice})
    assert funded.totalSupply() == 2_000 * UNIT


def test_transfer_returns_true(funded, alice, bob):
    assert funded.transfer.call(bob, 1, {"from": alice}) is True


def test_transfer_emits_transfer_event(funded, alice, bob):
    tx = funded.transfer(bob, 7 * UNIT, {"from": alice})
    assert tx.events["Transfer"] == {"from": alice.address, "to": bob.address, "value": 7 * UNIT}


def test_transfer_of_whole_balance_leaves_zero(funded, alice, bob):
    funded.transfer(bob, 1_000 * UNIT, {"from": alice})
    assert funded.balanceOf(alice) == 0


def test_transfer_to_self_keeps_balance(funded, alice):
    funded.transfer(alice, 5 * UNIT, {"from": alice})
    assert funded.balanceOf(alice) == 1_000 * UNIT


def test_transfer_of_zero_emits_transfer(funded, carol, bob):
    tx = funded.transfer(bob, 0, {"from": carol})
    assert tx.events["Transfer"] == {"from": carol.address, "to": bob.address, "value": 0}


def test_transfer_above_balance_reverts_with_insufficient_balance(funded, alice, bob, reverts):
    with reverts("ERC20InsufficientBalance", sender=alice.address, balance=1_000 * UNIT, needed=1_000 * UNIT + 1):
        funded.transfer(bob, 1_000 * UNIT + 1, {"from": alice})


def test_transfer_from_empty_account_reverts_with_zero_balance(funded, carol, bob, reverts):
    with reverts("ERC20InsufficientBalance", sender=carol.address, balance=0, needed=1):
        funded.transfer(bob, 1, {"from": carol})


def test_transfer_to_zero_address_reverts_with_invalid_receiver(funded, alice, reverts):
    with reverts("ERC20InvalidReceiver", receiver=ZERO_ADDRESS):
        funded.transfer(ZERO_ADDRESS, 1, {"from": alice})


# --- approve and allowance ---


def test_allowance_starts_at_zero(funded, alice, bob):
    assert funded.allowance(alice, bob) == 0


def test_approve_sets_allowance(funded, alice, bob):
    funded.approve(bob, 50 * UNIT, {"from": alice})
    assert funded.allowance(alice, bob) == 50 * UNIT


def test_approve_overwrites_previous_allowance(funded, alice, bob):
    funded.approve(bob, 50 * UNIT, {"from": alice})
    funded.approve(bob, 3 * UNIT, {"from": alice})
    assert funded.allowance(alice, bob) == 3 * UNIT


def test_approve_returns_true(funded, alice, bob):
    assert funded.approve.call(bob, 1, {"from": alice}) is True


def test_approve_emits_approval_event(funded, alice, bob):
    tx = funded.approve(bob, 50 * UNIT, {"from": alice})
    assert tx.events["Approval"] == {"owner": alice.address, "spender": bob.address, "value": 50 * UNIT}


def test_approve_above_balance_is_allowed(funded, carol, bob):
    funded.approve(bob, 10**6 * UNIT, {"from": carol})
    assert funded.allowance(carol, bob) == 10**6 * UNIT


def test_approve_zero_spender_reverts_with_invalid_spender(funded, alice, reverts):
    with reverts("ERC20InvalidSpender", spender=ZERO_ADDRESS):
        funded.approve(ZERO_ADDRESS, 1, {"from": alice})


# --- transferFrom ---


def test_transfer_from_moves_balance(funded, alice, bob, carol):
    funded.approve(carol, 100 * UNIT, {"from": alice})
    funded.transferFrom(alice, bob, 40 * UNIT, {"from": carol})
    assert (funded.balanceOf(alice), funded.balanceOf(bob)) == (960 * UNIT, 1_040 * UNIT)


def test_transfer_from_decreases_allowance(funded, alice, bob, carol):
    funded.approve(carol, 100 * UNIT, {"from": alice})
    funded.transferFrom(alice, bob, 40 * UNIT, {"from": carol})
    assert funded.allowance(alice, carol) == 60 * UNIT


def test_transfer_from_returns_true(funded, alice, bob, carol):
    funded.approve(carol, 100 * UNIT, {"from": alice})
    assert funded.transferFrom.call(alice, bob, 1, {"from": carol}) is True


def test_transfer_from_emits_transfer_event(funded, alice, bob, carol):
    funded.approve(carol, 100 * UNIT, {"from": alice})
    tx = funded.transferFrom(alice, bob, 40 * UNIT, {"from": carol})
    assert tx.events["Transfer"] == {"from": alice.address, "to": bob.address, "value": 40 * UNIT}


def test_transfer_from_emits_no_approval_event(funded, alice, bob, carol):
    funded.approve(carol, 100 * UNIT, {"from": alice})
    tx = funded.transferFrom(alice, bob, 40 * UNIT, {"from": carol})
    assert "Approval" not in tx.events


def test_transfer_from_unlimited_allowance_is_not_decreased(funded, alice, bob, carol):
    funded.approve(carol, MAX_UINT256, {"from": alice})
    funded.transferFrom(alice, bob, 40 * UNIT, {"from": carol})
    assert funded.allowance(alice, carol) == MAX_UINT256


def test_transfer_from_whole_allowance_leaves_zero(funded, alice, bob, carol):
    funded.approve(carol, 40 * UNIT, {"from": alice})
    funded.transferFrom(alice, bob, 40 * UNIT, {"from": carol})
    assert funded.allowance(alice, carol) == 0


def test_transfer_from_above_allowance_reverts_with_insufficient_allowance(funded, alice, bob, carol, reverts):
    funded.approve(carol, 10 * UNIT, {"from": alice})
    with reverts("ERC20InsufficientAllowance", spender=carol.address, allowance=10 * UNIT, needed=10 * UNIT + 1):
        funded.transferFrom(alice, bob, 10 * UNIT + 1, {"from": carol})


def test_transfer_from_without_approval_reverts_with_zero_allowance(funded, alice, bob, carol, reverts):
    with reverts("ERC20InsufficientAllowance", spender=carol.address, allowance=0, needed=1):
        funded.transferFrom(alice, bob, 1, {"from": carol})


def test_transfer_from_above_balance_reverts_with_insufficient_balance(funded, alice, bob, carol, reverts):
    funded.approve(carol, MAX_UINT256, {"from": alice})
    with reverts("ERC20InsufficientBalance", sender=alice.address, balance=1_000 * UNIT, needed=1_001 * UNIT):
        funded.transferFrom(alice, bob, 1_001 * UNIT, {"from": carol})


def test_transfer_from_to_zero_address_reverts_with_invalid_receiver(funded, alice, carol, reverts):
    funded.approve(carol, 100 * UNIT, {"from": alice})
    with reverts("ERC20InvalidReceiver", receiver=ZERO_ADDRESS):
        funded.transferFrom(alice, ZERO_ADDRESS, 1, {"from": carol})


def test_transfer_from_zero_address_reverts_with_insufficient_allowance(funded, bob, carol, reverts):
    with reverts("ERC20InsufficientAllowance", spender=carol.address, allowance=0, needed=1):
        funded.transferFrom(ZERO_ADDRESS, bob, 1, {"from": carol})


def test_transfer_from_zero_address_of_nothing_reverts_with_invalid_approver(funded, bob, carol, reverts):
    with reverts("ERC20InvalidApprover", approver=ZERO_ADDRESS):
        funded.transferFrom(ZERO_ADDRESS, bob, 0, {"from": carol})


def test_transfer_from_reverted_keeps_allowance(funded, alice, bob, carol, reverts):
    funded.approve(carol, 2_000 * UNIT, {"from": alice})
    with reverts("ERC20InsufficientBalance"):
        funded.transferFrom(alice, bob, 1_001 * UNIT, {"from": carol})
    assert funded.allowance(alice, carol) == 2_000 * UNIT


# --- transferWithReference ---


def test_transfer_with_reference_moves_balance(funded, alice, bob):
    funded.transferWithReference(bob, 25 * UNIT, REF, {"from": alice})
    assert (funded.balanceOf(alice), funded.balanceOf(bob)) == (975 * UNIT, 1_025 * UNIT)


def test_transfer_with_reference_returns_true(funded, alice, bob):
    assert funded.transferWithReference.call(bob, 1, REF, {"from": alice}) is True


def test_transfer_with_reference_emits_transfer_reference_event(funded, alice, bob):
    tx = funded.transferWithReference(bob, 25 * UNIT, REF, {"from": alice})
    assert tx.events["TransferReference"] == {"from": alice.address, "to": bob.address, "amount": 25 * UNIT, "ref": "0x" + REF.hex()}


def test_transfer_with_reference_emits_transfer_event(funded, alice, bob):
    tx = funded.transferWithReference(bob, 25 * UNIT, REF, {"from": alice})
    assert tx.events["Transfer"] == {"from": alice.address, "to": bob.address, "value": 25 * UNIT}


def test_transfer_with_zero_reference_reverts(funded, alice, bob, reverts):
    with reverts("ZeroReference"):
        funded.transferWithReference(bob, 1, b"\x00" * 32, {"from": alice})


def test_transfer_with_reference_above_balance_reverts_with_insufficient_balance(funded, alice, bob, reverts):
    with reverts("ERC20InsufficientBalance", sender=alice.address, balance=1_000 * UNIT, needed=1_001 * UNIT):
        funded.transferWithReference(bob, 1_001 * UNIT, REF, {"from": alice})


def test_transfer_with_reference_to_zero_address_reverts_with_invalid_receiver(funded, alice, reverts):
    with reverts("ERC20InvalidReceiver", receiver=ZERO_ADDRESS):
        funded.transferWithReference(ZERO_ADDRESS, 1, REF, {"from": alice})
