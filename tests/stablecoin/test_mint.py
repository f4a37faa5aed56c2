"""Minting: allowance-capped minters, one mint per fiat deposit reference, pause and blocklist."""

import pytest
from eth_utils import keccak

UNIT = 10**18
ZERO_REF = b"\x00" * 32
PAUSE_TRANSFERS, PAUSE_MINT = 1, 2


def ref(text):
    return keccak(text=text)


@pytest.fixture
def limited(kgst, minter, minter_admin):
    """The minter may mint exactly 500 KGST."""
    kgst.configureMinter(minter, 500 * UNIT, {"from": minter_admin})
    return kgst


def test_mint_within_allowance_credits_recipient(limited, minter, carol):
    limited.mint(carol, 200 * UNIT, ref("deposit-1"), {"from": minter})
    assert limited.balanceOf(carol) == 200 * UNIT


def test_mint_within_allowance_raises_total_supply(limited, minter, carol):
    before = limited.totalSupply()
    limited.mint(carol, 200 * UNIT, ref("deposit-1"), {"from": minter})
    assert limited.totalSupply() == before + 200 * UNIT


def test_mint_within_allowance_consumes_allowance(limited, minter, carol):
    limited.mint(carol, 200 * UNIT, ref("deposit-1"), {"from": minter})
    assert limited.minterAllowance(minter) == 300 * UNIT


def test_mint_emits_minted(limited, minter, carol):
    tx = limited.mint(carol, 200 * UNIT, ref("deposit-1"), {"from": minter})
    event = tx.events["Minted"]
    assert (event["minter"], event["to"], event["amount"]) == (minter, carol, 200 * UNIT)
    assert bytes(event["depositRef"]) == ref("deposit-1")


def test_mint_emits_transfer_from_zero(limited, minter, carol):
    tx = limited.mint(carol, 200 * UNIT, ref("deposit-1"), {"from": minter})
    event = tx.events["Transfer"]
    assert (event["from"], event["to"], event["value"]) == ("0x" + "00" * 20, carol, 200 * UNIT)


def test_mint_whole_allowance_leaves_zero(limited, minter, carol):
    limited.mint(carol, 500 * UNIT, ref("deposit-1"), {"from": minter})
    assert limited.minterAllowance(minter) == 0


def test_mint_over_allowance_reverts(limited, minter, carol, reverts):
    with reverts("StablecoinMinterAllowanceExceeded", minter=minter.address, allowance=500 * UNIT, amount=500 * UNIT + 1):
        limited.mint(carol, 500 * UNIT + 1, ref("deposit-1"), {"from": minter})


def test_mint_over_remaining_allowance_reverts(limited, minter, carol, reverts):
    limited.mint(carol, 400 * UNIT, ref("deposit-1"), {"from": minter})
    with reverts("StablecoinMinterAllowanceExceeded", minter=minter.address, allowance=100 * UNIT, amount=101 * UNIT):
        limited.mint(carol, 101 * UNIT, ref("deposit-2"), {"from": minter})


def test_mint_reused_deposit_reference_reverts(limited, minter, carol, reverts):
    limited.mint(carol, 1 * UNIT, ref("deposit-1"), {"from": minter})
    with reverts("StablecoinDepositReferenceUsed", depositRef=ref("deposit-1")):
        limited.mint(carol, 1 * UNIT, ref("deposit-1"), {"from": minter})


def test_mint_reused_deposit_reference_to_other_recipient_reverts(limited, minter, carol, bob, reverts):
    limited.mint(carol, 1 * UNIT, ref("deposit-1"), {"from": minter})
    with reverts("StablecoinDepositReferenceUsed", depositRef=ref("deposit-1")):
        limited.mint(bob, 2 * UNIT, ref("deposit-1"), {"from": minter})


def test_mint_zero_reference_reverts(limited, minter, carol, reverts):
    with reverts("ZeroReference"):
        limited.mint(carol, 1 * UNIT, ZERO_REF, {"from": minter})


def test_mint_zero_amount_reverts(limited, minter, carol, reverts):
    with reverts("ZeroAmount"):
        limited.mint(carol, 0, ref("deposit-1"), {"from": minter})


def test_mint_refused_leaves_reference_unused(limited, minter, carol, reverts):
    with reverts("StablecoinMinterAllowanceExceeded"):
        limited.mint(carol, 501 * UNIT, ref("deposit-1"), {"from": minter})
    assert limited.isDepositReferenceUsed(ref("deposit-1")) is False


def test_mint_to_blocked_address_reverts(limited, minter, compliance, mallory, reverts):
    limited.blockAccount(mallory, ref("sanctions"), {"from": compliance})
    with reverts("BlockedAddress", account=mallory.address):
        limited.mint(mallory, 1 * UNIT, ref("deposit-1"), {"from": minter})


def test_mint_while_mint_paused_reverts(limited, minter, pauser, carol, reverts):
    limited.pause(PAUSE_MINT, {"from": pauser})
    with reverts("OperationPaused", flag=PAUSE_MINT):
        limited.mint(carol, 1 * UNIT, ref("deposit-1"), {"from": minter})


def test_mint_paused_still_allows_transfers(funded, pauser, alice, bob):
    funded.pause(PAUSE_MINT, {"from": pauser})
    funded.transfer(bob, 5 * UNIT, {"from": alice})
    assert funded.balanceOf(bob) == 1_005 * UNIT


def test_mint_after_mint_unpaused_succeeds(limited, minter, pauser, carol):
    limited.pause(PAUSE_MINT, {"from": pauser})
    limited.unpause(PAUSE_MINT, {"from": pauser})
    limited.mint(carol, 1 * UNIT, ref("deposit-1"), {"from": minter})
    assert limited.balanceOf(carol) == 1 * UNIT


def test_mint_while_transfers_paused_succeeds(limited, minter, pauser, carol):
    limited.pause(PAUSE_TRANSFERS, {"from": pauser})
    limited.mint(carol, 1 * UNIT, ref("deposit-1"), {"from": minter})
    assert limited.balanceOf(carol) == 1 * UNIT


@pytest.mark.parametrize("minted", [False, True], ids=["unused", "used"])
def test_is_deposit_reference_used_reports_mint(limited, minter, carol, minted):
    if minted:
        limited.mint(carol, 1 * UNIT, ref("deposit-1"), {"from": minter})
    assert limited.isDepositReferenceUsed(ref("deposit-1")) is minted
