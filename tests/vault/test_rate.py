"""The official KGS/USD rate: published by RATE_SETTER, at most 5% per update, never zero, and
no older than 2 days when the reserve is valued (else minting halts)."""

import pytest
from brownie import chain

from vaultlib import BPS, RATE, RATE_MAX_AGE, RATE_MAX_CHANGE_BPS, UNIT, ZERO_ADDRESS, latest_time, pin_next_block

MAX_STEP = RATE * RATE_MAX_CHANGE_BPS // BPS  # 4.3725 KGS/USD


def test_set_rate_publishes_the_rate(vault, rate_setter, attest, deposit):
    attest(0)
    deposit("BSC-USD", 1_000 * UNIT)
    tx = vault.setRate(88 * UNIT, {"from": rate_setter})
    event = tx.events["RateUpdated"]
    assert (event["previousRate"], event["newRate"], event["setter"]) == (RATE, 88 * UNIT, rate_setter)
    assert vault.rate() == (88 * UNIT, tx.timestamp, RATE_MAX_AGE, RATE_MAX_CHANGE_BPS)
    assert vault.reserveValue() == 86_240 * UNIT  # 1,000 USD x 88 x 98%


@pytest.mark.parametrize("caller", ["stranger", "reserve_admin"])
def test_set_rate_by_other_accounts_reverts(vault, reverts, request, caller):
    account = request.getfixturevalue(caller)
    with reverts("AccessManagedUnauthorized", caller=account.address):
        vault.setRate(88 * UNIT, {"from": account})
    assert vault.rate()[0] == RATE


@pytest.mark.parametrize(
    "new_rate, accepted",
    [(RATE + MAX_STEP, True), (RATE + MAX_STEP + 1, False), (RATE - MAX_STEP, True), (RATE - MAX_STEP - 1, False)],
    ids=["up-5%", "up-5%+1wei", "down-5%", "down-5%-1wei"],
)
def test_rate_change_limit(vault, rate_setter, reverts, new_rate, accepted):
    if accepted:
        vault.setRate(new_rate, {"from": rate_setter})
        assert vault.rate()[0] == new_rate
    else:
        with reverts("ReserveVaultRateJumpTooLarge", referenceRate=RATE, newRate=new_rate, maxChangeBps=500):
            vault.setRate(new_rate, {"from": rate_setter})
        assert vault.rate()[0] == RATE


def test_zero_rate_refused(vault, rate_setter, reverts):
    with reverts("ReserveVaultZeroAmount"):
        vault.setRate(0, {"from": rate_setter})


@pytest.mark.parametrize(
    "age, fresh", [(RATE_MAX_AGE, True), (RATE_MAX_AGE + 1, False)], ids=["at-max-age", "one-second-past"]
)
def test_rate_max_age_edge(vault, kgst, mint, reverts, age, fresh):
    published_at = vault.rate()[1]
    pin_next_block(published_at + age)
    if fresh:
        mint(1 * UNIT)
        assert kgst.totalSupply() == 2_001 * UNIT
    else:
        with reverts("ReserveVaultRateStale", updatedAt=published_at, maxAge=RATE_MAX_AGE):
            mint(1 * UNIT)


def test_stale_rate_halts_minting_until_published_again(vault, kgst, rate_setter, mint, reverts):
    chain.sleep(RATE_MAX_AGE + 10)
    chain.mine()
    with reverts("ReserveVaultRateStale"):
        mint(1 * UNIT)
    vault.setRate(RATE, {"from": rate_setter})  # same rate, new timestamp
    mint(1 * UNIT)
    assert kgst.totalSupply() == 2_001 * UNIT


def test_set_rate_bounds_tightens_the_change_limit(vault, rate_setter, reserve_admin, reverts):
    tx = vault.setRateBounds(3_600, 100, {"from": reserve_admin})
    assert dict(tx.events["RateBoundsUpdated"]) == {"maxAge": 3_600, "maxChangeBps": 100}
    assert vault.rate()[2:] == (3_600, 100)
    step = RATE // 100  # 1%
    with reverts("ReserveVaultRateJumpTooLarge", referenceRate=RATE, newRate=RATE + step + 1, maxChangeBps=100):
        vault.setRate(RATE + step + 1, {"from": rate_setter})
    vault.setRate(RATE + step, {"from": rate_setter})
    assert vault.rate()[0] == RATE + step


@pytest.mark.parametrize("max_age, max_change", [(0, 500), (3_600, 0)], ids=["zero-age", "zero-change"])
def test_zero_rate_bounds_refused(vault, reserve_admin, reverts, max_age, max_change):
    with reverts("ReserveVaultInvalidConfig", asset=ZERO_ADDRESS):
        vault.setRateBounds(max_age, max_change, {"from": reserve_admin})


def test_fresh_vault_without_rate_refuses_to_value(fresh_vault, admin, call_error):
    vault = fresh_vault()
    error = call_error(vault.reserveValue)
    assert error.name == "ReserveVaultRateNotSet"
    error = call_error(vault.checkMint, 1)
    assert error.name == "ReserveVaultRateNotSet"
    # The first rate has nothing to jump from: any positive value is taken.
    vault.setRate(3 * UNIT, {"from": admin})
    assert vault.rate()[0] == 3 * UNIT
    assert vault.reserveValue() == 0  # no asset, never attested
    assert latest_time() - vault.rate()[1] < 60
