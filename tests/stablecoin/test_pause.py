"""The granular pause: transfers (1), minting (2) and redemption (4), each on its own switch."""

import pytest
from eth_utils import keccak

UNIT = 10**18
PAUSE_TRANSFERS, PAUSE_MINT, PAUSE_REDEEM = 1, 2, 4
ALL_FLAGS = PAUSE_TRANSFERS | PAUSE_MINT | PAUSE_REDEEM


@pytest.fixture
def desk(funded, alice, burner):
    """The burner holds 10 KGST to redeem."""
    funded.transfer(burner, 10 * UNIT, {"from": alice})
    return funded


# The three token operations, each tried from a funded state; returns nothing, raises on revert.
def _transfer(token, accounts):
    token.transfer(accounts["bob"], 1 * UNIT, {"from": accounts["alice"]})


def _mint(token, accounts):
    token.mint(accounts["carol"], 1 * UNIT, keccak(text="deposit-pause"), {"from": accounts["minter"]})


def _redeem(token, accounts):
    token.burn(1 * UNIT, keccak(text="redemption-pause"), {"from": accounts["burner"]})


OPERATIONS = {PAUSE_TRANSFERS: _transfer, PAUSE_MINT: _mint, PAUSE_REDEEM: _redeem}
OPERATION_IDS = {PAUSE_TRANSFERS: "transfers", PAUSE_MINT: "mint", PAUSE_REDEEM: "redeem"}


@pytest.fixture
def parties(alice, bob, carol, minter, burner):
    return {"alice": alice, "bob": bob, "carol": carol, "minter": minter, "burner": burner}


@pytest.mark.parametrize("flag", list(OPERATIONS), ids=OPERATION_IDS.get)
def test_pause_flag_stops_its_operation(desk, pauser, parties, reverts, flag):
    desk.pause(flag, {"from": pauser})
    with reverts("OperationPaused", flag=flag):
        OPERATIONS[flag](desk, parties)


@pytest.mark.parametrize(
    "flag, operation",
    [(f, o) for f in OPERATIONS for o in OPERATIONS if f != o],
    ids=[f"{OPERATION_IDS[f]}-paused-{OPERATION_IDS[o]}-runs" for f in OPERATIONS for o in OPERATIONS if f != o],
)
def test_pause_flag_leaves_other_operations_running(desk, pauser, parties, flag, operation):
    desk.pause(flag, {"from": pauser})
    supply, alice_balance = desk.totalSupply(), desk.balanceOf(parties["alice"])
    OPERATIONS[operation](desk, parties)
    assert (desk.totalSupply(), desk.balanceOf(parties["alice"])) != (supply, alice_balance)


@pytest.mark.parametrize("flag", list(OPERATIONS), ids=OPERATION_IDS.get)
def test_unpause_flag_restores_its_operation(desk, pauser, parties, flag):
    desk.pause(flag, {"from": pauser})
    desk.unpause(flag, {"from": pauser})
    supply, alice_balance = desk.totalSupply(), desk.balanceOf(parties["alice"])
    OPERATIONS[flag](desk, parties)
    assert (desk.totalSupply(), desk.balanceOf(parties["alice"])) != (supply, alice_balance)


def test_pause_transfers_stops_approve(funded, pauser, alice, bob, reverts):
    funded.pause(PAUSE_TRANSFERS, {"from": pauser})
    with reverts("OperationPaused", flag=PAUSE_TRANSFERS):
        funded.approve(bob, 1 * UNIT, {"from": alice})


def test_pause_transfers_stops_transfer_from(funded, pauser, alice, bob, carol, reverts):
    funded.approve(bob, 10 * UNIT, {"from": alice})
    funded.pause(PAUSE_TRANSFERS, {"from": pauser})
    with reverts("OperationPaused", flag=PAUSE_TRANSFERS):
        funded.transferFrom(alice, carol, 1 * UNIT, {"from": bob})


def test_pause_transfers_stops_transfer_with_reference(funded, pauser, alice, bob, reverts):
    funded.pause(PAUSE_TRANSFERS, {"from": pauser})
    with reverts("OperationPaused", flag=PAUSE_TRANSFERS):
        funded.transferWithReference(bob, 1 * UNIT, keccak(text="travel-rule"), {"from": alice})


def test_pause_transfers_keeps_allowance(funded, pauser, alice, bob, carol, reverts):
    funded.approve(bob, 10 * UNIT, {"from": alice})
    funded.pause(PAUSE_TRANSFERS, {"from": pauser})
    with reverts("OperationPaused"):
        funded.transferFrom(alice, carol, 1 * UNIT, {"from": bob})
    assert funded.allowance(alice, bob) == 10 * UNIT


def test_pause_by_guardian_sets_flag(kgst, guardian):
    kgst.pause(PAUSE_TRANSFERS, {"from": guardian})
    assert kgst.pausedFlags() == PAUSE_TRANSFERS


def test_unpause_by_guardian_reverts(kgst, guardian, reverts):
    kgst.pause(PAUSE_TRANSFERS, {"from": guardian})
    with reverts("AccessManagedUnauthorized", caller=guardian.address):
        kgst.unpause(PAUSE_TRANSFERS, {"from": guardian})


def test_unpause_by_guardian_keeps_flag(kgst, guardian, reverts):
    kgst.pause(PAUSE_MINT, {"from": guardian})
    with reverts("AccessManagedUnauthorized"):
        kgst.unpause(PAUSE_MINT, {"from": guardian})
    assert kgst.pausedFlags() == PAUSE_MINT


@pytest.mark.parametrize(
    "function, flags",
    [("pause", 0), ("pause", 8), ("pause", 9), ("pause", 255), ("unpause", 0), ("unpause", 8)],
    ids=["pause-zero", "pause-eight", "pause-valid-plus-eight", "pause-all-bits", "unpause-zero", "unpause-eight"],
)
def test_pause_invalid_flags_revert(kgst, pauser, reverts, function, flags):
    with reverts("InvalidPauseFlags", flags=flags):
        getattr(kgst, function)(flags, {"from": pauser})


def test_pause_emits_flags_update(kgst, pauser):
    kgst.pause(PAUSE_MINT, {"from": pauser})
    tx = kgst.pause(PAUSE_REDEEM, {"from": pauser})
    event = tx.events["PauseFlagsUpdated"]
    assert (event["account"], event["previousFlags"], event["newFlags"]) == (pauser, PAUSE_MINT, PAUSE_MINT | PAUSE_REDEEM)


def test_unpause_emits_flags_update(kgst, pauser):
    kgst.pause(ALL_FLAGS, {"from": pauser})
    tx = kgst.unpause(PAUSE_TRANSFERS, {"from": pauser})
    event = tx.events["PauseFlagsUpdated"]
    assert (event["account"], event["previousFlags"], event["newFlags"]) == (pauser, ALL_FLAGS, PAUSE_MINT | PAUSE_REDEEM)


def test_paused_flags_initially_zero(kgst):
    assert kgst.pausedFlags() == 0


def test_pause_adds_to_existing_flags(kgst, pauser):
    kgst.pause(PAUSE_TRANSFERS, {"from": pauser})
    kgst.pause(PAUSE_REDEEM, {"from": pauser})
    assert kgst.pausedFlags() == PAUSE_TRANSFERS | PAUSE_REDEEM


def test_unpause_clears_only_given_flags(kgst, pauser):
    kgst.pause(ALL_FLAGS, {"from": pauser})
    kgst.unpause(PAUSE_MINT, {"from": pauser})
    assert kgst.pausedFlags() == PAUSE_TRANSFERS | PAUSE_REDEEM


def test_pause_constants_match_flags(kgst):
    assert (kgst.PAUSE_TRANSFERS(), kgst.PAUSE_MINT(), kgst.PAUSE_REDEEM()) == (PAUSE_TRANSFERS, PAUSE_MINT, PAUSE_REDEEM)


def test_pause_by_stranger_reverts(kgst, stranger, reverts):
    with reverts("AccessManagedUnauthorized", caller=stranger.address):
        kgst.pause(PAUSE_TRANSFERS, {"from": stranger})
