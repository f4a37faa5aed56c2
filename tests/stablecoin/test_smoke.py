from brownie import web3

UNIT = 10**18


def test_transfer_moves_balance(funded, alice, bob):
    funded.transfer(bob, 10 * UNIT, {"from": alice})
    assert funded.balanceOf(bob) == 1_010 * UNIT


def test_blocked_sender_is_refused(funded, alice, bob, compliance, reverts):
    funded.blockAccount(alice, b"\x01" * 32, {"from": compliance})
    with reverts("StablecoinAccountBlocked", account=alice.address):
        funded.transfer(bob, 1, {"from": alice})


def test_stranger_cannot_mint(funded, stranger, alice, reverts):
    with reverts("AccessManagedUnauthorized", caller=stranger.address):
        funded.mint(alice, 1, b"\x02" * 32, {"from": stranger})
