"""Redemption burns: the burner burns KGST it holds, with the fiat payout reference."""

import pytest
from eth_utils import keccak

UNIT = 10**18
ZERO_ADDRESS = "0x" + "00" * 20
ZERO_REF = b"\x00" * 32
PAUSE_TRANSFERS, PAUSE_MINT, PAUSE_REDEEM = 1, 2, 4
REDEMPTION = keccak(text="redemption-1")


@pytest.fixture
def desk(funded, alice, burner):
    """The redemption desk (burner) holds 100 KGST that alice handed in."""
    funded.transfer(burner, 100 * UNIT, {"from": alice})
    return funded


def test_burn_lowers_burner_balance(desk, burner):
    desk.burn(40 * UNIT, REDEMPTION, {"from": burner})
    assert desk.balanceOf(burner) == 60 * UNIT


def test_burn_lowers_total_supply(desk, burner):
    before = desk.totalSupply()
    desk.burn(40 * UNIT, REDEMPTION, {"from": burner})
    assert desk.totalSupply() == before - 40 * UNIT


def test_burn_emits_redeemed(desk, burner):
    tx = desk.burn(40 * UNIT, REDEMPTION, {"from": burner})
    event = tx.events["Redeemed"]
    assert (event["burner"], event["amount"], bytes(event["redemptionRef"])) == (burner, 40 * UNIT, REDEMPTION)


def test_burn_emits_transfer_to_zero(desk, burner):
    tx = desk.burn(40 * UNIT, REDEMPTION, {"from": burner})
    event = tx.events["Transfer"]
    assert (event["from"], event["to"], event["value"]) == (burner, ZERO_ADDRESS, 40 * UNIT)


def test_burn_whole_balance_leaves_zero(desk, burner):
    desk.burn(100 * UNIT, REDEMPTION, {"from": burner})
    assert desk.balanceOf(burner) == 0


def test_burn_zero_reference_reverts(desk, burner, reverts):
    with reverts("ZeroReference"):
        desk.burn(1 * UNIT, ZERO_REF, {"from": burner})


def test_burn_zero_amount_reverts(desk, burner, reverts):
    with reverts("ZeroAmount"):
        desk.burn(0, REDEMPTION, {"from": burner})


def test_burn_while_redeem_paused_reverts(desk, burner, pauser, reverts):
    desk.pause(PAUSE_REDEEM, {"from": pauser})
    with reverts("OperationPaused", flag=PAUSE_REDEEM):
        desk.burn(1 * UNIT, REDEMPTION, {"from": burner})


@pytest.mark.parametrize("flag", [PAUSE_TRANSFERS, PAUSE_MINT], ids=["transfers", "mint"])
def test_burn_while_other_switch_paused_succeeds(desk, burner, pauser, flag):
    desk.pause(flag, {"from": pauser})
    desk.burn(1 * UNIT, REDEMPTION, {"from": burner})
    assert desk.balanceOf(burner) == 99 * UNIT


def test_burn_more_than_balance_reverts(desk, burner, reverts):
    with reverts("ERC20InsufficientBalance", sender=burner.address, balance=100 * UNIT, needed=100 * UNIT + 1):
        desk.burn(100 * UNIT + 1, REDEMPTION, {"from": burner})


def test_burn_by_blocked_burner_reverts(desk, burner, compliance, reverts):
    desk.blockAccount(burner, keccak(text="sanctions"), {"from": compliance})
    with reverts("BlockedAddress", account=burner.address):
        desk.burn(1 * UNIT, REDEMPTION, {"from": burner})


def test_burn_by_holder_without_role_reverts(desk, alice, reverts):
    with reverts("AccessManagedUnauthorized", caller=alice.address):
        desk.burn(1 * UNIT, REDEMPTION, {"from": alice})
