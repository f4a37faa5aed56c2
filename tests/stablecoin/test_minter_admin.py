"""Minter allowances: set, raised, lowered (saturating at zero) and removed by the minter admin."""

import pytest
from eth_utils import keccak

UNIT = 10**18
ZERO_ADDRESS = "0x" + "00" * 20


@pytest.fixture
def configured(kgst, minter, minter_admin):
    """The minter may mint 500 KGST."""
    kgst.configureMinter(minter, 500 * UNIT, {"from": minter_admin})
    return kgst


def _allowance_event(tx):
    event = tx.events["MinterAllowanceUpdated"]
    return event["minter"], event["previousAllowance"], event["newAllowance"]


def test_configure_minter_sets_allowance(kgst, minter_admin, carol):
    kgst.configureMinter(carol, 123 * UNIT, {"from": minter_admin})
    assert kgst.minterAllowance(carol) == 123 * UNIT


def test_configure_minter_overwrites_allowance(configured, minter_admin, minter):
    configured.configureMinter(minter, 7 * UNIT, {"from": minter_admin})
    assert configured.minterAllowance(minter) == 7 * UNIT


def test_configure_minter_emits_update(configured, minter_admin, minter):
    tx = configured.configureMinter(minter, 7 * UNIT, {"from": minter_admin})
    assert _allowance_event(tx) == (minter, 500 * UNIT, 7 * UNIT)


def test_increase_minter_allowance_adds(configured, minter_admin, minter):
    configured.increaseMinterAllowance(minter, 250 * UNIT, {"from": minter_admin})
    assert configured.minterAllowance(minter) == 750 * UNIT


def test_increase_minter_allowance_emits_update(configured, minter_admin, minter):
    tx = configured.increaseMinterAllowance(minter, 250 * UNIT, {"from": minter_admin})
    assert _allowance_event(tx) == (minter, 500 * UNIT, 750 * UNIT)


def test_increase_minter_allowance_overflow_reverts(configured, minter_admin, minter, reverts):
    with reverts("Panic", code="0x11"):
        configured.increaseMinterAllowance(minter, 2**256 - 1, {"from": minter_admin})


@pytest.mark.parametrize(
    "decrease, remaining",
    [(100 * UNIT, 400 * UNIT), (500 * UNIT, 0), (501 * UNIT, 0), (2**256 - 1, 0)],
    ids=["partial", "exact", "above", "max"],
)
def test_decrease_minter_allowance_saturates_at_zero(configured, minter_admin, minter, decrease, remaining):
    configured.decreaseMinterAllowance(minter, decrease, {"from": minter_admin})
    assert configured.minterAllowance(minter) == remaining


def test_decrease_minter_allowance_emits_update(configured, minter_admin, minter):
    tx = configured.decreaseMinterAllowance(minter, 600 * UNIT, {"from": minter_admin})
    assert _allowance_event(tx) == (minter, 500 * UNIT, 0)


def test_decrease_minter_allowance_after_mint_saturates(configured, minter_admin, minter, carol):
    configured.mint(carol, 450 * UNIT, keccak(text="deposit-1"), {"from": minter})
    configured.decreaseMinterAllowance(minter, 100 * UNIT, {"from": minter_admin})
    assert configured.minterAllowance(minter) == 0


def test_remove_minter_zeroes_allowance(configured, minter_admin, minter):
    configured.removeMinter(minter, {"from": minter_admin})
    assert configured.minterAllowance(minter) == 0


def test_remove_minter_emits_update(configured, minter_admin, minter):
    tx = configured.removeMinter(minter, {"from": minter_admin})
    assert _allowance_event(tx) == (minter, 500 * UNIT, 0)


def test_removed_minter_cannot_mint(configured, minter_admin, minter, carol, reverts):
    configured.removeMinter(minter, {"from": minter_admin})
    with reverts("StablecoinMinterAllowanceExceeded", minter=minter.address, allowance=0, amount=1):
        configured.mint(carol, 1, keccak(text="deposit-1"), {"from": minter})


@pytest.mark.parametrize(
    "function, args",
    [
        ("configureMinter", (1,)),
        ("increaseMinterAllowance", (1,)),
        ("decreaseMinterAllowance", (1,)),
        ("removeMinter", ()),
    ],
)
def test_minter_admin_zero_address_reverts(kgst, minter_admin, reverts, function, args):
    with reverts("ZeroAddress"):
        getattr(kgst, function)(ZERO_ADDRESS, *args, {"from": minter_admin})


def test_minter_allowance_of_unknown_minter_is_zero(kgst, stranger):
    assert kgst.minterAllowance(stranger) == 0
