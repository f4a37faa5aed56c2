"""Withdrawals: only the RESERVE_MANAGER, only through the AccessManager after its 60 s execution
delay, within each asset's daily cap, never beyond the balance nor below the minimum coverage;
and no reentry from a malicious reserve token."""

import pytest
from brownie import ReentrantToken, chain

from vaultlib import DAY, FEED_REVERTED, NATIVE, REENTRANCY_SELECTOR, UNIT, USD, ZERO_ADDRESS, latest_time, pin_next_block


@pytest.mark.parametrize("symbol", ["BNB", "BTCB"])
def test_withdraw_sends_the_asset(vault, tokens, reserve_assets, deposit, withdraw, bob, symbol):
    asset = reserve_assets[symbol]
    deposit(symbol, 5 * UNIT)
    before = bob.balance() if symbol == "BNB" else tokens[symbol].balanceOf(bob)
    tx = withdraw(asset, bob, 2 * UNIT)
    after = bob.balance() if symbol == "BNB" else tokens[symbol].balanceOf(bob)
    assert after - before == 2 * UNIT
    assert dict(tx.events["Withdrawn"]) == {"asset": asset, "to": bob, "amount": 2 * UNIT}
    _config, _td, _fd, _registered, balance, withdrawn_today, day = vault.asset(asset)
    assert (balance, withdrawn_today, day) == (3 * UNIT, 2 * UNIT, tx.timestamp // DAY)


@pytest.mark.parametrize("who", ["reserve_manager-direct", "stranger", "admin", "before-delay"])
def test_withdraw_needs_the_role_and_its_delay(
    vault, manager, reserve_assets, reserve_manager, deposit, bob, reverts, request, who
):
    deposit("BTCB", 5 * UNIT)
    btcb = reserve_assets["BTCB"]
    data = vault.withdraw.encode_input(btcb, bob, 1 * UNIT)
    if who == "reserve_manager-direct":  # holds the role, but behind a delay: must schedule
        with reverts("AccessManagerNotScheduled"):
            vault.withdraw(btcb, bob, 1 * UNIT, {"from": reserve_manager})
    elif who == "before-delay":
        manager.schedule(vault, data, 0, {"from": reserve_manager})
        chain.sleep(30)
        chain.mine()
        with reverts("AccessManagerNotReady"):
            manager.execute(vault, data, {"from": reserve_manager})
    else:
        account = request.getfixturevalue(who)
        with reverts("AccessManagedUnauthorized", caller=account.address):
            vault.withdraw(btcb, account, 1 * UNIT, {"from": account})
        with reverts("AccessManagerUnauthorizedCall", caller=account.address, target=vault.address):
            manager.schedule(vault, data, 0, {"from": account})
    assert vault.asset(btcb)[4] == 5 * UNIT


def _start_of_next_day(refresh):
    """Moves the chain to 10 s after the next UTC midnight, with fresh feeds and rate."""
    pin_next_block((latest_time() // DAY + 1) * DAY + 10)
    chain.mine()
    refresh()


def test_daily_cap_limits_withdrawals_per_day(vault, reserve_assets, deposit, withdraw, refresh, bob, reverts):
    btcb = reserve_assets["BTCB"]  # daily cap: 10 BTCB
    _start_of_next_day(refresh)
    deposit("BTCB", 30 * UNIT)
    withdraw(btcb, bob, 6 * UNIT)
    with reverts("ReserveVaultDailyCapExceeded", asset=btcb, cap=10 * UNIT, withdrawnToday=6 * UNIT, amount=5 * UNIT):
        withdraw(btcb, bob, 5 * UNIT)
    withdraw(btcb, bob, 4 * UNIT)  # exactly up to the cap
    with reverts("ReserveVaultDailyCapExceeded", asset=btcb, cap=10 * UNIT, withdrawnToday=10 * UNIT, amount=1):
        withdraw(btcb, bob, 1)
    assert vault.asset(btcb)[4] == 20 * UNIT


def test_daily_cap_resets_the_next_day(vault, reserve_assets, deposit, withdraw, refresh, bob):
    btcb = reserve_assets["BTCB"]
    _start_of_next_day(refresh)
    deposit("BTCB", 30 * UNIT)
    withdraw(btcb, bob, 10 * UNIT)
    _start_of_next_day(refresh)
    tx = withdraw(btcb, bob, 10 * UNIT)
    assert vault.asset(btcb)[5:] == (10 * UNIT, tx.timestamp // DAY)
    assert vault.asset(btcb)[4] == 10 * UNIT


def test_withdraw_below_minimum_coverage_reverts(vault, reserve_assets, attest, deposit, withdraw, bob, reverts):
    usd = reserve_assets["BSC-USD"]
    attest(0)
    deposit("BSC-USD", 100 * UNIT)  # 8,570.1 som against 2,000 KGST
    # 23 USD left would be worth 23 x 87.45 x 98% = 1,971.123 som < 2,000
    with reverts("ReserveVaultCoverageTooLow", reserveValue=1_971_123 * 10**15, supply=2_000 * UNIT, minCoverageBps=10_000):
        withdraw(usd, bob, 77 * UNIT)
    withdraw(usd, bob, 76 * UNIT)  # 24 USD left: 2,056.824 som
    assert vault.asset(usd)[4] == 24 * UNIT
    assert vault.coverageRatio() == 10_284


def test_withdraw_more_than_the_balance_reverts(vault, reserve_assets, deposit, withdraw, bob, reverts, tokens):
    btcb = reserve_assets["BTCB"]
    deposit("BTCB", 2 * UNIT)
    tokens["BTCB"].mint(vault, 5 * UNIT, {"from": bob})  # a donation is not the vault's to withdraw
    with reverts("ReserveVaultInsufficientReserve", asset=btcb, balance=2 * UNIT, amount=2 * UNIT + 1):
        withdraw(btcb, bob, 2 * UNIT + 1)


@pytest.mark.parametrize(
    "case, error",
    [
        ("zero-recipient", "ReserveVaultZeroAddress"),
        ("zero-amount", "ReserveVaultZeroAmount"),
        ("unregistered", "ReserveVaultAssetNotRegistered"),
    ],
)
def test_withdraw_bad_arguments_revert(vault, kgst, reserve_assets, deposit, withdraw, bob, reverts, case, error):
    deposit("BTCB", 2 * UNIT)
    asset, to, amount = reserve_assets["BTCB"], bob.address, 1 * UNIT
    if case == "zero-recipient":
        to = ZERO_ADDRESS
    elif case == "zero-amount":
        amount = 0
    else:
        asset = kgst.address
    with reverts(error):
        withdraw(asset, to, amount)


def test_native_withdraw_to_a_refusing_contract_reverts(vault, kgst, deposit, withdraw, reverts):
    deposit("BNB", 2 * UNIT)
    with reverts("ReserveVaultNativeTransferFailed", to=kgst.address, amount=1 * UNIT):
        withdraw(NATIVE, kgst, 1 * UNIT)  # KGST has no receive
    assert vault.asset(NATIVE)[4] == vault.balance() == 2 * UNIT


def test_broken_feed_counts_zero_and_withdrawals_go_on(vault, feeds, reserve_assets, deposit, withdraw, bob, stranger):
    """A broken feed no longer halts the vault (issue 15, finding 4): its asset counts zero, and a
    withdrawal goes through while the rest covers the supply."""
    deposit("BNB", 2 * UNIT)
    deposit("BTCB", 1 * UNIT)
    feeds["BTCB"].setReverting(True, {"from": stranger})
    withdraw(NATIVE, bob, 1 * UNIT)
    assert vault.asset(NATIVE)[4] == 1 * UNIT
    btcb = next(r for r in vault.valuation()[0] if r[0] == reserve_assets["BTCB"])
    assert (btcb[7], btcb[8]) == (0, FEED_REVERTED)


# --- A malicious reserve token ---


@pytest.fixture
def reentrant(vault, new_asset, carol, stranger):
    """A registered ReentrantToken ($1), of which carol has deposited 100."""
    token = ReentrantToken.deploy({"from": stranger})
    new_asset(token=token, answer=1 * USD)
    token.mint(carol, 1_000 * UNIT, {"from": carol})
    token.approve(vault, 1_000 * UNIT, {"from": carol})
    vault.deposit(token, 100 * UNIT, {"from": carol})
    return token


@pytest.mark.parametrize(
    "during, reenter",
    [("deposit", "deposit"), ("deposit", "depositNative"), ("withdraw", "deposit"), ("withdraw", "depositNative")],
)
def test_malicious_token_cannot_reenter(vault, reentrant, withdraw, carol, bob, stranger, during, reenter):
    inner = vault.deposit.encode_input(reentrant, 1 * UNIT) if reenter == "deposit" else vault.depositNative.encode_input()
    reentrant.mint(reentrant, 1 * UNIT, {"from": stranger})  # so that an inner deposit could pay
    reentrant.arm(vault, inner, {"from": stranger})
    if during == "deposit":
        vault.deposit(reentrant, 10 * UNIT, {"from": carol})
        expected = 110 * UNIT
    else:
        withdraw(reentrant, bob, 10 * UNIT)
        expected = 90 * UNIT
    assert reentrant.armed() is False  # the callback was made
    assert reentrant.lastCallSucceeded() is False
    assert reentrant.lastRevertData() == REENTRANCY_SELECTOR
    assert vault.asset(reentrant)[4] == reentrant.balanceOf(vault) == expected


def test_malicious_token_cannot_withdraw_during_a_transfer(vault, reentrant, withdraw, artifacts, bob, mallory, stranger):
    reentrant.arm(vault, vault.withdraw.encode_input(reentrant, mallory, 50 * UNIT), {"from": stranger})
    withdraw(reentrant, bob, 10 * UNIT)
    assert reentrant.lastCallSucceeded() is False
    error = artifacts.decoder.decode(reentrant.lastRevertData())
    assert (error.name, error.args) == ("AccessManagedUnauthorized", {"caller": reentrant.address})
    assert reentrant.balanceOf(mallory) == 0
    assert vault.asset(reentrant)[4] == reentrant.balanceOf(vault) == 90 * UNIT
