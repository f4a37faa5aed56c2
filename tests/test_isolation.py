"""The suite's isolation (tests/conftest.py): a test that takes its own brownie snapshot after
sending, as brownie's state_machine does when it starts, still leaves nothing to the next test.
This is how test_queue_stateful_invariants once left a transfer to every later test of its
worker. The two tests run in this order, in one process (xdist keeps a file on one worker)."""

from brownie import chain

UNIT = 10**18


def test_a_test_that_sends_then_takes_its_own_snapshot(funded, alice, bob):
    funded.transfer(bob, 1 * UNIT, {"from": alice})
    chain.snapshot()  # brownie's state_machine does this
    funded.transfer(bob, 1 * UNIT, {"from": alice})
    assert funded.balanceOf(alice) == 998 * UNIT


def test_the_next_test_starts_from_the_session_state(funded, alice, bob):
    assert funded.balanceOf(alice) == 1_000 * UNIT
    assert funded.balanceOf(bob) == 1_000 * UNIT
