"""Feed checks: an asset whose feed answers <= 0, has an incomplete round, a timestamp in the
future or older than the asset's heartbeat, or reverts, counts as zero and the valuation says why
(issue 15, finding 4: a revert let a 1-wei deposit of a stale-priced asset halt every mint); a
mint then goes through only if the rest covers the supply (fail closed); an asset the vault does
not hold is not priced."""

import pytest

from vaultlib import (
    FEED_REVERTED,
    FUTURE_TIMESTAMP,
    HEARTBEAT,
    INCOMPLETE_ROUND,
    NON_POSITIVE,
    NONE,
    STALE,
    UNIT,
    USD,
    latest_time,
    pin_next_block,
)


def _break(feed, case, sender):
    """Makes `feed` unusable in the way named by `case`."""
    now = latest_time()
    answer = feed.latestRoundData()[1]
    if case == "reverting":
        feed.setReverting(True, {"from": sender})
    elif case == "negative":
        feed.setRoundData(9, -1, now, now, 9, {"from": sender})
    elif case == "zero":
        feed.setRoundData(9, 0, now, now, 9, {"from": sender})
    elif case == "incomplete":
        feed.setRoundData(9, answer, now, 0, 9, {"from": sender})
    elif case == "future":
        feed.setRoundData(9, answer, now, now + 3_600, 9, {"from": sender})
    elif case == "stale":
        feed.setRoundData(9, answer, now - HEARTBEAT - 1, now - HEARTBEAT - 1, 9, {"from": sender})
    return answer


@pytest.mark.parametrize(
    "symbol, case, reason",
    [
        ("BTCB", "reverting", FEED_REVERTED),
        ("BNB", "negative", NON_POSITIVE),
        ("BSC-USD", "zero", NON_POSITIVE),
        ("BTCB", "incomplete", INCOMPLETE_ROUND),
        ("BNB", "future", FUTURE_TIMESTAMP),
        ("BSC-USD", "stale", STALE),
    ],
)
def test_unusable_feed_counts_the_asset_as_zero(
    vault, kgst, feeds, reserve_assets, deposit, mint, stranger, symbol, case, reason
):
    asset = reserve_assets[symbol]
    deposit(symbol, 1 * UNIT)
    before = vault.reserveValue()
    _break(feeds[symbol], case, stranger)

    assert vault.price(asset)[2] == reason
    row = next(r for r in vault.valuation()[0] if r[0] == asset)
    assert (row[1], row[6], row[7], row[8]) == (1 * UNIT, 0, 0, reason)  # held, counted zero, and why
    assert vault.reserveValue() < before
    mint(1 * UNIT)  # the session's attestation covers the supply: minting goes on
    assert kgst.totalSupply() == 2_001 * UNIT


def test_unusable_feed_stops_minting_when_the_rest_does_not_cover(vault, kgst, feeds, attest, deposit, mint, stranger, reverts):
    attest(0)
    deposit("BSC-USD", 10_000 * UNIT)  # 857,010 som: covers 2,000 KGST
    mint(1 * UNIT)
    _break(feeds["BSC-USD"], "stale", stranger)
    with reverts("ReserveVaultCoverageTooLow", reserveValue=0, supply=2_002 * UNIT):
        mint(1 * UNIT)
    assert kgst.totalSupply() == 2_001 * UNIT


@pytest.mark.parametrize("case", ["reverting", "zero", "stale"])
def test_repaired_feed_restores_minting(vault, kgst, feeds, reserve_assets, deposit, mint, stranger, case):
    deposit("BTCB", 1 * UNIT)
    answer = _break(feeds["BTCB"], case, stranger)
    feeds["BTCB"].setReverting(False, {"from": stranger})
    feeds["BTCB"].updateAnswer(answer, {"from": stranger})
    assert vault.price(reserve_assets["BTCB"])[2] == NONE
    mint(1 * UNIT)
    assert kgst.totalSupply() == 2_001 * UNIT


@pytest.mark.parametrize("age, fresh", [(HEARTBEAT, True), (HEARTBEAT + 1, False)], ids=["at-heartbeat", "one-second-past"])
def test_heartbeat_edge(kgst, feeds, reserve_assets, attest, deposit, mint, reverts, stranger, age, fresh):
    """BSC-USD alone covers the supply; one second past its heartbeat it counts zero."""
    attest(0)
    deposit("BSC-USD", 10_000 * UNIT)
    mint_at = latest_time() + 100
    feeds["BSC-USD"].setRoundData(9, 1 * USD, mint_at - age, mint_at - age, 9, {"from": stranger})
    pin_next_block(mint_at)
    if fresh:
        tx = mint(1 * UNIT)
        assert tx.timestamp == mint_at
        assert kgst.totalSupply() == 2_001 * UNIT
    else:
        with reverts("ReserveVaultCoverageTooLow", reserveValue=0):
            mint(1 * UNIT)


def test_asset_without_balance_is_not_priced(vault, kgst, feeds, reserve_assets, deposit, mint, reverts, stranger):
    feeds["BTCB"].setReverting(True, {"from": stranger})
    assert vault.price(reserve_assets["BTCB"])[2] == FEED_REVERTED
    reserve = vault.reserveValue()  # BTCB holds nothing: its broken feed is not read
    mint(1 * UNIT)
    assert kgst.totalSupply() == 2_001 * UNIT
    assert vault.valuation()[0][1][2] == 0  # BTCB's row: no price read

    deposit("BTCB", 1)  # now held: priced, unusable, counted zero (a dust deposit halts nothing)
    mint(1 * UNIT)
    assert vault.valuation()[0][1][8] == FEED_REVERTED
    assert vault.reserveValue() == reserve > 0


def test_price_reports_a_usable_answer(vault, feeds, reserve_assets):
    answer, updated_at, error = vault.price(reserve_assets["BTCB"])
    assert (answer, updated_at, error) == (90_000 * USD, feeds["BTCB"].latestRoundData()[3], NONE)


def test_price_of_an_unregistered_asset_reverts(vault, kgst, call_error):
    error = call_error(vault.price, kgst.address)
    assert (error.name, error.args) == ("ReserveVaultAssetNotRegistered", {"asset": kgst.address})
