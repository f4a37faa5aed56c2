"""KGST minting gated on the reserve: a mint goes through only if the reserve value covers the
supply after it at the minimum coverage (at least 100%), with every input fresh. Transfers,
burns and redemptions never ask the vault."""

import pytest
from brownie import chain
from eth_utils import keccak

from vaultlib import STALE, UNIT, USD, latest_time

SOM = UNIT
SUPPLY = 2_000 * UNIT  # alice's and bob's genesis KGST


@pytest.mark.parametrize(
    "setup, reserve",
    [
        ("attested", 3_000 * SOM),  # 3,000 som in banks
        ("assets", 8_570_100 * 10**15),  # 100 BSC-USD x 87.45 x 98%
        ("capped", 2_500 * SOM),  # 1,000 som + 1 BNB (36,729 som weighted, counted 60/40 of the 1,000 attested)
    ],
)
def test_mint_up_to_exactly_full_coverage(vault, kgst, attest, deposit, mint, reverts, setup, reserve):
    attest({"attested": 3_000, "assets": 0, "capped": 1_000}[setup] * SOM)
    if setup == "assets":
        deposit("BSC-USD", 100 * UNIT)
    elif setup == "capped":
        deposit("BNB", 1 * UNIT)
    assert vault.reserveValue() == reserve

    mint(reserve - SUPPLY)  # supply == reserve: 100% coverage
    assert kgst.totalSupply() == reserve
    assert vault.coverageRatio() == 10_000

    with reverts("ReserveVaultCoverageTooLow", reserveValue=reserve, supply=reserve + 1, minCoverageBps=10_000):
        mint(1)
    assert kgst.totalSupply() == reserve


def test_mint_beyond_the_reserve_reverts(kgst, attest, mint, reverts, minter):
    attest(2_000 * SOM)  # exactly the current supply
    allowance = kgst.minterAllowance(minter)
    with reverts("ReserveVaultCoverageTooLow", reserveValue=2_000 * SOM, supply=SUPPLY + 1, minCoverageBps=10_000):
        mint(1)
    assert kgst.totalSupply() == SUPPLY
    assert kgst.minterAllowance(minter) == allowance  # the refused mint used up nothing


def test_check_mint_answers_the_same_rule(vault, attest, call_error):
    attest(3_000 * SOM)
    vault.checkMint(3_000 * UNIT)  # does not revert
    error = call_error(vault.checkMint, 3_000 * UNIT + 1)
    assert (error.name, error.args) == (
        "ReserveVaultCoverageTooLow",
        {"reserveValue": 3_000 * SOM, "supply": 3_000 * UNIT + 1, "minCoverageBps": 10_000},
    )


@pytest.mark.parametrize("stale", ["rate", "attestation"])
def test_mint_while_an_input_is_stale_reverts(
    vault, kgst, feeds, reserve_assets, reserve_admin, deposit, mint, reverts, stranger, stale
):
    """The inputs governance posts fail the valuation when stale (a stale price only makes its
    asset count zero: tests/vault/test_feeds.py)."""
    if stale == "rate":
        chain.sleep(172_800 + 10)
        chain.mine()
        expected = ("ReserveVaultRateStale", {"updatedAt": vault.rate()[1], "maxAge": 172_800})
    else:
        vault.setAttestationMaxAge(100, {"from": reserve_admin})
        chain.sleep(110)
        chain.mine()
        expected = ("ReserveVaultAttestationStale", {"asOf": vault.attestation()[1], "maxAge": 100})
    with reverts(expected[0], **expected[1]):
        mint(1 * UNIT)
    assert kgst.totalSupply() == SUPPLY


def test_transfers_burns_and_redemptions_work_while_everything_is_stale(
    vault, kgst, deposit, mint, call_error, reverts, alice, bob, carol, burner
):
    deposit("BTCB", 1 * UNIT)
    chain.sleep(40 * 86_400)  # price, rate and attestation all stale
    chain.mine()
    assert call_error(vault.reserveValue).name == "ReserveVaultRateStale"

    kgst.transfer(bob, 10 * UNIT, {"from": alice})
    kgst.approve(carol, 20 * UNIT, {"from": alice})
    kgst.transferFrom(alice, carol, 20 * UNIT, {"from": carol})
    kgst.transfer(burner, 100 * UNIT, {"from": alice})
    tx = kgst.burn(100 * UNIT, keccak(text="redemption-stale"), {"from": burner})

    assert dict(tx.events["Redeemed"])["amount"] == 100 * UNIT
    assert (kgst.balanceOf(alice), kgst.balanceOf(bob), kgst.balanceOf(carol)) == (870 * UNIT, 1_010 * UNIT, 20 * UNIT)
    assert kgst.totalSupply() == SUPPLY - 100 * UNIT
    with reverts("ReserveVaultRateStale"):
        mint(1 * UNIT)


@pytest.mark.parametrize("bps", [0, 9_999])
def test_min_coverage_below_100_percent_refused(vault, reserve_admin, reverts, bps):
    with reverts("ReserveVaultMinCoverageTooLow", minCoverageBps=bps):
        vault.setMinCoverage(bps, {"from": reserve_admin})
    assert vault.minCoverage() == 10_000


@pytest.mark.parametrize("bps", [10_000, 15_000])
def test_set_min_coverage_emits(vault, reserve_admin, bps):
    tx = vault.setMinCoverage(bps, {"from": reserve_admin})
    assert dict(tx.events["MinCoverageUpdated"]) == {"previousBps": 10_000, "newBps": bps}
    assert vault.minCoverage() == bps


def test_raising_min_coverage_refuses_a_previously_allowed_mint(vault, kgst, reserve_admin, attest, mint, reverts):
    attest(3_000 * SOM)
    vault.checkMint(SUPPLY + 1_000 * UNIT)  # allowed at 100%
    vault.setMinCoverage(15_000, {"from": reserve_admin})
    refused = {"reserveValue": 3_000 * SOM, "supply": SUPPLY + 1_000 * UNIT, "minCoverageBps": 15_000}
    with reverts("ReserveVaultCoverageTooLow", **refused):
        mint(1_000 * UNIT)
    with reverts("ReserveVaultCoverageTooLow", reserveValue=3_000 * SOM, supply=SUPPLY + 1, minCoverageBps=15_000):
        mint(1)  # 3,000 som cover exactly 2,000 KGST at 150%
    vault.setMinCoverage(10_000, {"from": reserve_admin})
    mint(1_000 * UNIT)
    assert kgst.totalSupply() == 3_000 * UNIT
