"""Valuation: amount x price x rate x (1 - haircut) per asset, capped at its maximum share s of
the reserve measured against everything else (c_i <= s / (1 - s) x (G - v_i), issue 15), plus the
latest attestation; coverage against KGST supply and under stress.

The local reserve (brownie-config.yaml): BNB $600 (haircut 30%, share 60%), BTCB $90,000 (20%,
40%), BSC-USD $1 (2%, 100%), 8-decimals feeds, at 87.45 KGS/USD. KGST supply is 2,000.
"""

import pytest

from vaultlib import BPS, NATIVE, RATE, UNIT, USD, Position, ratio, reserve_value

SOM = UNIT  # one som [wad]
MAX_UINT = 2**256 - 1


@pytest.fixture
def mixed_reserve(attest, deposit):
    """10 BNB, 1 BTCB, 50,000 BSC-USD and 1,000,000 som attested in banks."""
    deposit("BNB", 10 * UNIT)
    deposit("BTCB", 1 * UNIT)
    deposit("BSC-USD", 50_000 * UNIT)
    attest(1_000_000 * SOM)


def test_valuation_figures_follow_the_rule(vault, feeds, reserve_assets, mixed_reserve):
    # gross = amount x price x 87.45; weighted = gross x (1 - haircut); G = sum(weighted) + attested
    # = 367,290 + 6,296,400 + 4,285,050 + 1,000,000 = 11,948,740 som. BTCB (40%) is capped at
    # 40/60 of everything else (the ratio in bps, rounded down: 6,666): (11,948,740 - 6,296,400)
    # x 0.6666 = 3,767,849.84 som.
    btcb_cap = 5_652_340 * SOM * 6_666 // BPS
    expected = {
        "BNB": (10 * UNIT, 600 * USD, 524_700 * SOM, 367_290 * SOM, 367_290 * SOM),
        "BTCB": (1 * UNIT, 90_000 * USD, 7_870_500 * SOM, 6_296_400 * SOM, btcb_cap),
        "BSC-USD": (50_000 * UNIT, 1 * USD, 4_372_500 * SOM, 4_285_050 * SOM, 4_285_050 * SOM),
    }
    rows, attested, total = vault.valuation()
    assert [row[0] for row in rows] == [reserve_assets[s] for s in expected]
    for row, (symbol, (balance, answer, gross, weighted, counted)) in zip(rows, expected.items()):
        _asset, got_balance, price, feed_decimals, updated_at, got_gross, got_weighted, got_counted, error = row
        assert (got_balance, price, feed_decimals, error) == (balance, answer, 8, 0), symbol
        assert updated_at == feeds[symbol].latestRoundData()[3], symbol
        assert (got_gross, got_weighted, got_counted) == (gross, weighted, counted), symbol
    assert attested == 1_000_000 * SOM
    assert total == (1_000_000 + 367_290 + 4_285_050) * SOM + btcb_cap
    assert vault.reserveValue() == total


def test_valuation_counts_only_the_attestation_without_assets(vault, attest):
    attest(12_345 * SOM)
    rows, attested, total = vault.valuation()
    assert len(rows) == 3
    assert all(row[1] == 0 and row[2] == 0 and row[7] == 0 for row in rows)  # balance, price, counted
    assert attested == total == vault.reserveValue() == 12_345 * SOM


def test_max_share_cap_holds_a_rallying_asset_to_its_share_of_the_rest(vault, feeds, attest, deposit, stranger):
    attest(0)
    deposit("BNB", 10 * UNIT)
    deposit("BSC-USD", 50_000 * UNIT)
    bnb_before = vault.valuation()[0][0]
    assert bnb_before[6] == bnb_before[7] == 367_290 * SOM  # under its 60% share: counted in full
    assert vault.reserveValue() == (367_290 + 4_285_050) * SOM

    feeds["BNB"].updateAnswer(60_000 * USD, {"from": stranger})  # BNB x100

    bnb = vault.valuation()[0][0]
    rest = 4_285_050  # weighted BSC-USD, nothing attested: what everything but BNB is worth
    assert bnb[6] == 36_729_000 * SOM
    assert bnb[7] == rest * 6_000 // 4_000 * SOM == 6_427_575 * SOM  # 60% of the reserve at most
    assert vault.reserveValue() == (6_427_575 + 4_285_050) * SOM
    assert bnb[7] * BPS <= 6_000 * vault.reserveValue()


def test_max_share_cap_lets_a_lone_capped_asset_count_nothing(vault, attest, deposit):
    attest(0)
    deposit("BTCB", 1 * UNIT)
    # 1 BTCB weighs 6,296,400 som; alone it would be 100% of the reserve, above its 40% share:
    # its cap is 40/60 of everything else, which is nothing.
    assert vault.valuation()[0][1][6] == 6_296_400 * SOM
    assert vault.reserveValue() == 0


@pytest.mark.parametrize(
    "attested, coverage",
    [(2_000 * SOM, 10_000), (3_000 * SOM, 15_000), (3_000 * SOM - 1, 14_999), (0, 0)],
    ids=["100%", "150%", "rounds-down", "empty"],
)
def test_coverage_ratio_is_reserve_over_supply_in_bps(vault, kgst, attest, attested, coverage):
    attest(attested)
    assert kgst.totalSupply() == 2_000 * UNIT
    assert vault.coverageRatio() == coverage


def test_coverage_ratio_without_supply_is_max(vault, kgst, burner, alice, bob, attest):
    attest(0)
    kgst.transfer(burner, 1_000 * UNIT, {"from": alice})
    kgst.transfer(burner, 1_000 * UNIT, {"from": bob})
    kgst.burn(2_000 * UNIT, b"\x01" * 32, {"from": burner})
    assert kgst.totalSupply() == 0
    assert vault.coverageRatio() == MAX_UINT


@pytest.mark.parametrize("symbol, drop", [("BNB", 5_000), ("BTCB", 5_000), ("BSC-USD", 1)])
def test_stressed_coverage_equals_coverage_after_the_feed_moves(
    vault, feeds, reserve_assets, stranger, mixed_reserve, symbol, drop
):
    before = vault.coverageRatio()
    stressed = vault.stressedCoverage(reserve_assets[symbol], drop)
    answer = feeds[symbol].latestRoundData()[1]
    feeds[symbol].updateAnswer(answer * (BPS - drop) // BPS, {"from": stranger})
    assert vault.coverageRatio() == stressed
    assert stressed < before


def test_stressed_coverage_of_a_total_loss_counts_nothing_of_the_asset(vault, reserve_assets, positions, mixed_reserve):
    held = positions()
    btcb = list(vault.assets()).index(reserve_assets["BTCB"])
    held[btcb].answer = 0
    expected = ratio(reserve_value(held, RATE, 1_000_000 * SOM), 2_000 * UNIT)
    assert vault.stressedCoverage(reserve_assets["BTCB"], BPS) == expected
    # without BTCB: 367,290 + 4,285,050 + 1,000,000 som (no cap binds) over 2,000 KGST
    assert expected == 5_652_340 * BPS // 2_000


def test_stressed_coverage_refuses_a_drop_above_100_percent(vault, call_error, mixed_reserve):
    error = call_error(vault.stressedCoverage, NATIVE, BPS + 1)
    assert (error.name, error.args) == ("ReserveVaultInvalidConfig", {"asset": NATIVE})


def test_stressed_coverage_refuses_an_unregistered_asset(vault, kgst, call_error):
    error = call_error(vault.stressedCoverage, kgst.address, 5_000)
    assert (error.name, error.args) == ("ReserveVaultAssetNotRegistered", {"asset": kgst.address})


@pytest.mark.parametrize(
    "token_decimals, feed_decimals, amount, answer, expected",
    [
        # 1,234.567891 tokens at $1 -> 1,234.567891 x 87.45 som
        (6, 18, 1_234_567_891, 10**18, 1_234_567_891 * 8_745 * 10**10),
        # 2.5 tokens at $40,000 -> 8,745,000 som
        (8, 18, 250_000_000, 40_000 * 10**18, 8_745_000 * SOM),
        # 1e-8 token at $90,000 -> 0.078705 som
        (8, 8, 1, 90_000 * USD, 78_705 * 10**12),
        # 1 token at $0.9999 -> 87.441255 som
        (6, 8, 1_000_000, 99_990_000, 87_441_255 * 10**12),
        # 1e-18 token at $1/3 -> 29.1499... wei of som, rounded down
        (18, 18, 1, 333_333_333_333_333_333, 29),
    ],
    ids=["6tok-18feed", "8tok-18feed", "8tok-8feed", "6tok-8feed", "18tok-18feed-rounding"],
)
def test_value_math_across_token_and_feed_decimals(
    vault, new_asset, attest, carol, token_decimals, feed_decimals, amount, answer, expected
):
    attest(0)
    asset = new_asset(token_decimals=token_decimals, feed_decimals=feed_decimals, answer=answer)
    asset.token.mint(carol, amount, {"from": carol})
    asset.token.approve(vault, amount, {"from": carol})
    vault.deposit(asset.token, amount, {"from": carol})

    recorded = vault.asset(asset.token)
    assert (recorded[1], recorded[2]) == (token_decimals, feed_decimals)
    row = vault.valuation()[0][-1]
    assert (row[0], row[1], row[2], row[3]) == (asset.token.address, amount, answer, feed_decimals)
    assert row[5] == row[6] == row[7] == expected  # no haircut, 100% share: counted in full
    assert vault.reserveValue() == expected


def test_value_math_applies_the_haircut_rounding_down(vault, new_asset, attest, carol):
    attest(0)
    asset = new_asset(token_decimals=6, feed_decimals=18, answer=333_333_333_333_333_333, haircut=1_234)
    asset.token.mint(carol, 1, {"from": carol})
    asset.token.approve(vault, 1, {"from": carol})
    vault.deposit(asset.token, 1, {"from": carol})
    row = vault.valuation()[0][-1]
    # 1e-6 token at $1/3 x 87.45 = 29,149,999,999,999.99 wei -> 29,149,999,999,999; x 87.66%
    # = 25,552,889,999,999.12 -> 25,552,889,999,999
    assert (row[5], row[6], row[7]) == (29_149_999_999_999, 25_552_889_999_999, 25_552_889_999_999)
    assert vault.reserveValue() == 25_552_889_999_999


def test_valuation_matches_the_model(vault, attest, deposit, feeds, stranger, positions):
    """Model cross-check on an uneven mix (odd amounts, moved prices, two caps binding)."""
    attest(777_777 * SOM + 7)
    deposit("BNB", 3 * UNIT + 123_456_789)
    deposit("BTCB", 3 * UNIT + 1)
    deposit("BSC-USD", 12_345 * UNIT + 6_789)
    feeds["BTCB"].updateAnswer(91_234_56789012, {"from": stranger})
    feeds["BNB"].updateAnswer(612_34567890, {"from": stranger})
    held = positions()
    model_total = reserve_value(held, RATE, 777_777 * SOM + 7)
    assert vault.reserveValue() == model_total
    assert vault.coverageRatio() == ratio(model_total, 2_000 * UNIT)
    assert held[0] == Position(3 * UNIT + 123_456_789, 612_34567890, 18, 8, 3_000, 6_000)
