"""Deposits: anyone may add to the reserve, BEP-20 assets with approve + deposit, native BNB by
`depositNative` or a plain transfer; the vault credits what actually arrived, of registered
assets only, and never counts a donation."""

import pytest
from brownie import FeeOnTransferToken, MockReserveToken

from vaultlib import NATIVE, UNIT, USD


@pytest.mark.parametrize("symbol", ["BTCB", "BSC-USD"])
def test_erc20_deposit_credits_the_vault(vault, tokens, reserve_assets, mallory, symbol):
    token, amount = tokens[symbol], 3 * UNIT + 7
    token.mint(mallory, amount, {"from": mallory})
    token.approve(vault, amount, {"from": mallory})
    tx = vault.deposit(token, amount, {"from": mallory})
    assert dict(tx.events["Deposited"]) == {"asset": reserve_assets[symbol], "from": mallory, "amount": amount}
    assert vault.asset(token)[4] == amount
    assert (token.balanceOf(vault), token.balanceOf(mallory)) == (amount, 0)


@pytest.mark.parametrize("how", ["plain-transfer", "depositNative"])
def test_native_deposit_credits_the_vault(vault, alice, how):
    amount = 2_500_000_000_000_000_001  # 2.5 BNB and a wei
    sender_before = alice.balance()
    if how == "plain-transfer":
        tx = alice.transfer(vault, amount)
    else:
        tx = vault.depositNative({"from": alice, "value": amount})
    assert dict(tx.events["Deposited"]) == {"asset": NATIVE, "from": alice, "amount": amount}
    assert vault.asset(NATIVE)[4] == amount
    assert vault.balance() == amount
    assert alice.balance() == sender_before - amount  # gas is free on the local chain


def test_deposits_add_up(vault, deposit, alice, bob):
    deposit("BSC-USD", 100 * UNIT, alice)
    deposit("BSC-USD", 250 * UNIT, bob)
    vault.depositNative({"from": alice, "value": 1 * UNIT})
    bob.transfer(vault, 2 * UNIT)
    assert vault.asset(vault.assets()[2])[4] == 350 * UNIT
    assert vault.asset(NATIVE)[4] == 3 * UNIT


@pytest.mark.parametrize("how", ["erc20", "depositNative", "plain-transfer"])
def test_zero_deposit_reverts(vault, tokens, carol, reverts, how):
    with reverts("ReserveVaultZeroAmount"):
        if how == "erc20":
            vault.deposit(tokens["BTCB"], 0, {"from": carol})
        elif how == "depositNative":
            vault.depositNative({"from": carol, "value": 0})
        else:
            carol.transfer(vault, 0)


def test_erc20_deposit_of_the_native_key_reverts(vault, carol, reverts):
    with reverts("ReserveVaultInvalidConfig", asset=NATIVE):
        vault.deposit(NATIVE, 1 * UNIT, {"from": carol})


def test_deposit_of_an_unregistered_asset_reverts(vault, carol, stranger, reverts):
    token = MockReserveToken.deploy("Unlisted", "UNL", 18, {"from": stranger})
    token.mint(carol, 1 * UNIT, {"from": carol})
    token.approve(vault, 1 * UNIT, {"from": carol})
    with reverts("ReserveVaultAssetNotRegistered", asset=token.address):
        vault.deposit(token, 1 * UNIT, {"from": carol})
    assert token.balanceOf(carol) == 1 * UNIT


def test_deposit_without_allowance_reverts(vault, tokens, carol, reverts):
    tokens["BTCB"].mint(carol, 1 * UNIT, {"from": carol})
    with reverts("ERC20InsufficientAllowance", spender=vault.address, allowance=0, needed=1 * UNIT):
        vault.deposit(tokens["BTCB"], 1 * UNIT, {"from": carol})


@pytest.fixture
def fee_token(new_asset, stranger):
    """A registered fee-on-transfer token (1% fee), $1 per token, no haircut, 100% share."""
    token = FeeOnTransferToken.deploy(100, {"from": stranger})
    new_asset(token=token, answer=1 * USD)
    return token


def test_fee_on_transfer_deposit_credits_what_arrived(vault, fee_token, attest, carol):
    attest(0)
    fee_token.mint(carol, 1_000 * UNIT, {"from": carol})
    fee_token.approve(vault, 1_000 * UNIT, {"from": carol})
    tx = vault.deposit(fee_token, 1_000 * UNIT, {"from": carol})
    assert tx.events["Deposited"]["amount"] == 990 * UNIT
    assert vault.asset(fee_token)[4] == fee_token.balanceOf(vault) == 990 * UNIT
    assert vault.reserveValue() == 86_575_500 * 10**15  # 990 x $1 x 87.45 som


def test_fee_on_transfer_deposit_of_nothing_arriving_reverts(vault, fee_token, carol, stranger, reverts):
    fee_token.setFeeBps(10_000, {"from": stranger})
    fee_token.mint(carol, 1 * UNIT, {"from": carol})
    fee_token.approve(vault, 1 * UNIT, {"from": carol})
    with reverts("ReserveVaultZeroAmount"):
        vault.deposit(fee_token, 1 * UNIT, {"from": carol})


def test_donation_is_not_counted(vault, tokens, deposit, attest, carol):
    attest(0)
    deposit("BSC-USD", 100 * UNIT)
    value = vault.reserveValue()
    tokens["BSC-USD"].mint(carol, 50 * UNIT, {"from": carol})
    tokens["BSC-USD"].transfer(vault, 50 * UNIT, {"from": carol})  # sent, not deposited
    assert tokens["BSC-USD"].balanceOf(vault) == 150 * UNIT
    assert vault.asset(tokens["BSC-USD"])[4] == 100 * UNIT
    assert vault.reserveValue() == value == 8_570_100 * 10**15  # 100 x $1 x 87.45 x 98%
