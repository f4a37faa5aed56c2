"""The reserve's findings of the independent review (issue 15), each replayed as the attacker did
it and now refused (the token findings are in tests/security/test_audit_findings.py):

2. max share did not bound a manipulated feed: with 3,000 som attested and a dust balance of
   BTCB (max share 40%), multiplying the BTCB price by 10^7 let a 10,000,000 KGST mint pass,
   because the cap was a share of a gross reserve that included BTCB's own pumped value. The cap
   is now taken against what everything else is worth: c_i <= s / (1 - s) x (G - v_i).
3. the rate's change bound had no time in it: 15 back-to-back +5% updates more than doubled the
   rate in seconds. The bound now holds per RATE_WINDOW (one day) against the rate the window
   opened with.
4. anyone halted minting with 1 wei: a dust deposit of a registered asset whose feed is stale
   made every mint and withdrawal revert. An unusable price now counts the asset as zero (and the
   valuation says why) instead of reverting: minting stops only if the rest does not cover.
"""

from __future__ import annotations

import pytest
from brownie import chain

from vaultlib import DAY, RATE_MAX_CHANGE_BPS, UNIT, USD, latest_time

BPS = 10_000
STALE, FEED_REVERTED = 4, 1  # IReserveVault.PriceError
BTCB_ANSWER = 90_000 * USD  # the local mock feed's answer (brownie-config.yaml)
DUST = 10**12  # 0.000001 BTCB


def _row(vault, asset):
    """The valuation row of `asset`: (asset, balance, price, feedDecimals, updatedAt, gross,
    weighted, counted, priceError)."""
    rows, _attested, _total = vault.valuation()
    return next(r for r in rows if r[0] == asset)


# --- Finding 2: the max share bounds a manipulated feed ---


def test_finding2_pumped_dust_cannot_carry_a_mint(vault, feeds, reserve_assets, attest, deposit, mint, stranger, kgst, reverts):
    attest(3_000 * UNIT)
    deposit("BTCB", DUST)
    feeds["BTCB"].updateAnswer(BTCB_ANSWER * 10**7, {"from": stranger})
    row = _row(vault, reserve_assets["BTCB"])
    assert row[6] > 20_000_000 * UNIT  # the pumped weighted value: under the old cap (40% of it) the mint passed
    supply = kgst.totalSupply()
    others = 3_000 * UNIT  # everything but BTCB: the attestation
    assert row[7] == others * 6_666 // BPS  # BTCB counts two thirds of the rest (in bps), whatever its price
    with reverts("ReserveVaultCoverageTooLow"):
        mint(10_000_000 * UNIT)
    assert kgst.totalSupply() == supply


def test_finding2_one_asset_never_makes_up_more_than_its_share(vault, feeds, reserve_assets, attest, deposit, stranger):
    attest(3_000 * UNIT)
    deposit("BTCB", DUST)
    deposit("BNB", 10**16)
    for factor in (1, 10**3, 10**7):
        feeds["BTCB"].updateAnswer(BTCB_ANSWER * factor, {"from": stranger})
        rows, attested, total = vault.valuation()
        gross = attested + sum(r[6] for r in rows)
        for r in rows:
            share = vault.asset(r[0])[0][3]
            if share < BPS:
                assert r[7] * (BPS - share) <= share * (gross - r[6])  # c_i <= s/(1-s) x others
                assert r[7] * BPS <= share * total  # so at most s of the reserve value


def test_finding2_honest_reserve_counts_as_before(vault, reserve_assets, attest, deposit):
    """A reserve well spread over its assets is not cut: the cap only binds on concentration."""
    attest(1_000_000 * UNIT)
    deposit("BTCB", DUST)
    row = _row(vault, reserve_assets["BTCB"])
    assert row[7] == row[6]


# --- Finding 3: the rate moves at most maxChangeBps per window ---


def _next_window(vault):
    """Sleeps until the current rate window has closed (the next update opens one)."""
    closes = vault.rateWindow()[2]
    if latest_time() < closes:
        chain.sleep(closes - latest_time())
        chain.mine()


def test_finding3_back_to_back_updates_cannot_double_the_rate(vault, rate_setter, reverts):
    _next_window(vault)
    start = vault.rate()[0]
    step = start * (BPS + RATE_MAX_CHANGE_BPS) // BPS
    vault.setRate(step, {"from": rate_setter})  # +5%: opens the window at the old rate, within its bound
    assert vault.rateWindow()[0] == start
    for _ in range(14):  # the audit's 15 updates of +5% each, back to back
        with reverts("ReserveVaultRateJumpTooLarge", referenceRate=start, maxChangeBps=RATE_MAX_CHANGE_BPS):
            vault.setRate(vault.rate()[0] * (BPS + RATE_MAX_CHANGE_BPS) // BPS, {"from": rate_setter})
    assert vault.rate()[0] == step  # +5% in the window, not x2.08


def test_finding3_moves_within_the_window_stay_within_the_bound(vault, rate_setter, reverts):
    _next_window(vault)
    start = vault.rate()[0]
    for bps in (300, -400, 500, -500, 200):
        vault.setRate(start * (BPS + bps) // BPS, {"from": rate_setter})
    with reverts("ReserveVaultRateJumpTooLarge", referenceRate=start):
        vault.setRate(start * (BPS + 501) // BPS, {"from": rate_setter})


def test_finding3_a_new_window_opens_at_the_rate_it_replaces(vault, rate_setter):
    _next_window(vault)
    start = vault.rate()[0]
    first = start * (BPS + RATE_MAX_CHANGE_BPS) // BPS
    vault.setRate(first, {"from": rate_setter})
    opened = vault.rateWindow()[1]
    chain.sleep(DAY)
    chain.mine()
    second = first * (BPS + RATE_MAX_CHANGE_BPS) // BPS
    vault.setRate(second, {"from": rate_setter})
    reference, opened_at, closes_at = vault.rateWindow()
    assert (reference, closes_at - opened_at) == (first, DAY) and opened_at >= opened + DAY


# --- Finding 4: a dust deposit of a stale-priced asset halts nothing ---


def _stale(feed, stranger):
    round_id, answer, _started, _updated, _answered = feed.latestRoundData()
    old = latest_time() - 2 * DAY
    feed.setRoundData(round_id + 1, answer, old, old, round_id + 1, {"from": stranger})


def test_finding4_dust_of_a_stale_asset_does_not_halt_minting(vault, feeds, reserve_assets, deposit, mint, kgst, stranger):
    deposit("BTCB", 1)  # 1 wei, by anyone
    _stale(feeds["BTCB"], stranger)
    supply = kgst.totalSupply()
    mint(1_000 * UNIT)  # the attested reserve covers: the mint goes through
    assert kgst.totalSupply() == supply + 1_000 * UNIT
    row = _row(vault, reserve_assets["BTCB"])
    assert (row[1], row[6], row[7], row[8]) == (1, 0, 0, STALE)  # held, counted as zero, and says why


def test_finding4_dust_of_a_stale_asset_does_not_halt_withdrawals(vault, feeds, reserve_assets, deposit, withdraw, stranger, reserve_manager):
    deposit("BNB", 10 * UNIT)
    deposit("BTCB", 1)
    _stale(feeds["BTCB"], stranger)
    withdraw(reserve_assets["BNB"], reserve_manager, UNIT)
    assert vault.asset(reserve_assets["BNB"])[4] == 9 * UNIT


def test_finding4_still_fails_closed_when_the_rest_does_not_cover(vault, feeds, reserve_assets, attest, deposit, mint, stranger, reverts):
    """An unusable price is not a free pass: the asset counts zero, so if the rest does not cover
    the supply the mint is refused."""
    attest(3_000 * UNIT)
    deposit("BSC-USD", 10_000 * UNIT)
    mint(5_000 * UNIT)  # covered by BSC-USD (~855,000 som)
    feeds["BSC-USD"].setReverting(True, {"from": stranger})
    assert _row(vault, reserve_assets["BSC-USD"])[8] == FEED_REVERTED
    with reverts("ReserveVaultCoverageTooLow"):
        mint(1 * UNIT)


def test_finding2_a_price_near_the_int256_limit_takes_the_full_precision_cap(vault, feeds, reserve_assets, attest, deposit, stranger):
    """The cheap cap test is exact below 2^200 wad; above, the cap is computed in full precision
    (Math.mulDiv) and still holds BTCB to two thirds of the rest."""
    attest(3_000 * UNIT)
    deposit("BTCB", 1)  # 1 wei
    deposit("BNB", 10**16)  # 0.01 BNB (367 som weighted): far under its cap next to a pumped BTCB
    feeds["BTCB"].updateAnswer(2**254, {"from": stranger})
    rows, attested, total = vault.valuation()
    btcb = next(r for r in rows if r[0] == reserve_assets["BTCB"])
    bnb = next(r for r in rows if r[0] == reserve_assets["BNB"])
    assert attested + sum(r[6] for r in rows) >= 2**200
    assert bnb[7] == bnb[6] > 0  # the full-precision cap does not bind BNB
    assert btcb[7] == (3_000 * UNIT + bnb[6]) * 6_666 // BPS
    assert total == 3_000 * UNIT + bnb[7] + btcb[7]


def test_rate_window_of_a_vault_without_rate_is_empty(fresh_vault, admin):
    vault = fresh_vault()
    assert vault.rateWindow() == (0, 0, 0)
    vault.setRate(87 * UNIT, {"from": admin})  # the first rate opens a window at itself
    reference, opened_at, closes_at = vault.rateWindow()
    assert (reference, closes_at - opened_at) == (87 * UNIT, DAY) and opened_at == latest_time()
