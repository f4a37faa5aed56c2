"""The limits of a capped wallet, each at its edge: holding cap, per-transfer limit and daily outflow
limit (a UTC calendar day of the chain's time, block.timestamp // 86400, reset at 00:00 UTC and
not before); the outflowToday view; no limit in the uncapped tiers; and the same limits on
transferFrom and EIP-3009 authorizations."""

import pytest
from brownie import chain, web3
from cbdclib import (
    BANK_TIER,
    BASIC_TIER,
    DAY,
    FULL_TIER,
    GOVERNMENT_TIER,
    STANDARD_TIER,
    TYIYN,
)

from somstack.core.signatures import Domain, random_nonce, sign_authorization

CAPPED = [BASIC_TIER, STANDARD_TIER, FULL_TIER]
VRS = "address,address,uint256,uint256,uint256,bytes32,uint8,bytes32,bytes32"


def _latest_time():
    return web3.eth.get_block("latest").timestamp


def _next_midnight():
    """00:00 UTC of the day after the latest block's."""
    return (_latest_time() // DAY + 1) * DAY


def _pin_next_block(timestamp):
    """The next block (so the next transaction) is mined at exactly `timestamp`."""
    web3.provider.make_request("evm_setNextBlockTimestamp", [timestamp])


@pytest.fixture(autouse=True)
def fresh_day():
    """Every test starts a minute into a UTC day, so that no midnight falls inside it by chance;
    returns that day's number (block.timestamp // 86400)."""
    start = _next_midnight() + 60
    _pin_next_block(start)
    chain.mine()
    return start // DAY


@pytest.fixture
def holder(register, fund, alice):
    """holder(tier, amount): alice registered in `tier` holding `amount`."""

    def _holder(tier, amount):
        register(alice, tier)
        fund(alice, amount)
        return alice

    return _holder


def _spend(som, sender, to, total, chunk):
    """Sends `total` from `sender` to `to` in transfers of at most `chunk`."""
    while total:
        amount = min(total, chunk)
        som.transfer(to, amount, {"from": sender})
        total -= amount


# --- Holding cap ---


@pytest.mark.parametrize("tier", CAPPED)
def test_holding_cap_reached_exactly_succeeds(som, register, fund, tiers, alice, tier):
    register(alice, tier)
    fund(alice, tiers[tier].holding_cap)
    assert som.balanceOf(alice) == tiers[tier].holding_cap


@pytest.mark.parametrize("tier", CAPPED)
def test_holding_cap_one_unit_over_reverts(som, register, fund, tiers, alice, reverts, tier):
    cap = tiers[tier].holding_cap
    register(alice, tier)
    fund(alice, cap - 5)
    with reverts("DigitalCurrencyHoldingCapExceeded", account=alice.address, tier=tier, cap=cap, balanceAfter=cap + 1):
        fund(alice, 6)
    assert som.balanceOf(alice) == cap - 5


def test_holding_cap_of_recipient_binds_capped_sender(som, holder, register, tiers, bob, reverts):
    """A full-tier wallet paying a basic-tier wallet: the recipient's cap binds, not the sender's."""
    cap = tiers[BASIC_TIER].holding_cap
    alice = holder(FULL_TIER, cap + 1)
    register(bob, BASIC_TIER, "bob")
    som.transfer(bob, cap - 1, {"from": alice})
    with reverts("DigitalCurrencyHoldingCapExceeded", account=bob.address, tier=BASIC_TIER, cap=cap, balanceAfter=cap + 1):
        som.transfer(bob, 2, {"from": alice})


# --- Per-transfer limit ---


@pytest.mark.parametrize("tier", CAPPED)
def test_transfer_limit_exactly_succeeds(som, holder, tiers, treasury, tier):
    limit = tiers[tier].transfer_limit
    alice = holder(tier, limit + 1)
    som.transfer(treasury, limit, {"from": alice})
    assert som.balanceOf(alice) == 1


@pytest.mark.parametrize("tier", CAPPED)
def test_transfer_limit_one_unit_over_reverts(som, holder, tiers, treasury, reverts, tier):
    limit = tiers[tier].transfer_limit
    alice = holder(tier, limit + 1)
    with reverts("DigitalCurrencyTransferLimitExceeded", account=alice.address, tier=tier, limit=limit, amount=limit + 1):
        som.transfer(treasury, limit + 1, {"from": alice})
    assert som.balanceOf(alice) == limit + 1


# --- Daily outflow limit ---


@pytest.mark.parametrize("tier", CAPPED)
def test_daily_limit_reached_exactly_over_several_transfers_succeeds(som, holder, tiers, treasury, tier):
    t = tiers[tier]
    alice = holder(tier, t.daily_limit + 1)
    _spend(som, alice, treasury, t.daily_limit, t.transfer_limit)
    assert (som.outflowToday(alice), som.balanceOf(alice)) == (t.daily_limit, 1)


@pytest.mark.parametrize("tier", CAPPED)
def test_daily_limit_one_unit_over_reverts(som, holder, tiers, treasury, reverts, tier):
    t = tiers[tier]
    alice = holder(tier, t.daily_limit + 1)
    _spend(som, alice, treasury, t.daily_limit, t.transfer_limit)
    with reverts("DigitalCurrencyDailyLimitExceeded", account=alice.address, tier=tier, limit=t.daily_limit, spentAfter=t.daily_limit + 1):
        som.transfer(treasury, 1, {"from": alice})
    assert som.outflowToday(alice) == t.daily_limit


def test_daily_limit_counts_each_transfer(som, holder, tiers, treasury, reverts):
    """Three transfers each within the per-transfer limit, together one unit over the daily one."""
    t = tiers[BASIC_TIER]
    alice = holder(BASIC_TIER, t.daily_limit + 1)
    som.transfer(treasury, t.transfer_limit, {"from": alice})
    som.transfer(treasury, t.transfer_limit, {"from": alice})
    rest = t.daily_limit - 2 * t.transfer_limit + 1
    with reverts("DigitalCurrencyDailyLimitExceeded", account=alice.address, tier=BASIC_TIER, limit=t.daily_limit, spentAfter=t.daily_limit + 1):
        som.transfer(treasury, rest, {"from": alice})


def test_incoming_payments_do_not_count_toward_daily_limit(som, holder, fund, tiers, treasury):
    t = tiers[BASIC_TIER]
    alice = holder(BASIC_TIER, t.transfer_limit)
    som.transfer(treasury, t.transfer_limit, {"from": alice})
    fund(alice, t.transfer_limit)
    assert som.outflowToday(alice) == t.transfer_limit


def test_outflow_today_is_per_wallet(som, holder, register, fund, treasury, bob):
    alice = holder(BASIC_TIER, 1_000 * TYIYN)
    register(bob, BASIC_TIER, "bob")
    fund(bob, 1_000 * TYIYN)
    som.transfer(treasury, 300 * TYIYN, {"from": alice})
    som.transfer(treasury, 200 * TYIYN, {"from": bob})
    assert (som.outflowToday(alice), som.outflowToday(bob)) == (300 * TYIYN, 200 * TYIYN)


# --- Day rollover (UTC calendar days) ---


@pytest.fixture
def spent_today(som, holder, tiers, treasury):
    """alice (basic tier) has spent her whole daily limit today and holds a second day's worth."""
    t = tiers[BASIC_TIER]
    alice = holder(BASIC_TIER, 2 * t.daily_limit)
    _spend(som, alice, treasury, t.daily_limit, t.transfer_limit)
    return alice


def test_daily_limit_still_binds_one_second_before_midnight(som, spent_today, tiers, treasury, reverts):
    limit = tiers[BASIC_TIER].daily_limit
    _pin_next_block(_next_midnight() - 1)
    with reverts("DigitalCurrencyDailyLimitExceeded", account=spent_today.address, tier=BASIC_TIER, limit=limit, spentAfter=limit + 1):
        som.transfer(treasury, 1, {"from": spent_today})


def test_daily_limit_resets_at_utc_midnight(som, spent_today, tiers, treasury):
    t = tiers[BASIC_TIER]
    midnight = _next_midnight()
    _pin_next_block(midnight)
    tx = som.transfer(treasury, t.transfer_limit, {"from": spent_today})
    assert (tx.timestamp, som.outflowToday(spent_today)) == (midnight, t.transfer_limit)


def test_daily_limit_resets_to_full_limit_after_midnight(som, spent_today, tiers, treasury):
    t = tiers[BASIC_TIER]
    chain.sleep(_next_midnight() - _latest_time())
    _spend(som, spent_today, treasury, t.daily_limit, t.transfer_limit)
    assert (som.outflowToday(spent_today), som.balanceOf(spent_today)) == (t.daily_limit, 0)


def test_outflow_today_reads_zero_after_midnight(som, spent_today):
    _pin_next_block(_next_midnight())
    chain.mine()
    assert som.outflowToday(spent_today) == 0


def test_daily_limit_is_a_calendar_day_not_24_hours(som, holder, tiers, treasury, fresh_day):
    """Spent late in a day, the bucket empties at midnight, less than 24 hours later."""
    t = tiers[BASIC_TIER]
    alice = holder(BASIC_TIER, 2 * t.daily_limit)
    _pin_next_block((fresh_day + 1) * DAY - 60)
    _spend(som, alice, treasury, t.daily_limit, t.transfer_limit)
    _pin_next_block((fresh_day + 1) * DAY + 60)
    som.transfer(treasury, t.transfer_limit, {"from": alice})
    assert som.outflowToday(alice) == t.transfer_limit


# --- Uncapped tiers ---


@pytest.mark.parametrize("tier", [GOVERNMENT_TIER, BANK_TIER])
def test_uncapped_tier_has_no_cap_nor_limits(som, register, fund, tiers, treasury, alice, tier):
    big = 10 * tiers[FULL_TIER].holding_cap  # above every capped tier's figures
    register(alice, tier)
    fund(alice, 3 * big)
    for _ in range(3):
        som.transfer(treasury, big, {"from": alice})
    assert som.balanceOf(alice) == 0


# --- transferFrom, permit and EIP-3009 obey the owner's limits ---


def test_transfer_from_over_transfer_limit_reverts(som, holder, tiers, treasury, bob, reverts):
    limit = tiers[BASIC_TIER].transfer_limit
    alice = holder(BASIC_TIER, limit + 1)
    som.approve(bob, limit + 1, {"from": alice})
    with reverts("DigitalCurrencyTransferLimitExceeded", account=alice.address, tier=BASIC_TIER, limit=limit, amount=limit + 1):
        som.transferFrom(alice, treasury, limit + 1, {"from": bob})


def test_transfer_from_shares_owner_daily_limit(som, holder, tiers, treasury, bob, reverts):
    t = tiers[BASIC_TIER]
    alice = holder(BASIC_TIER, t.daily_limit + 1)
    som.approve(bob, t.daily_limit + 1, {"from": alice})
    _spend(som, alice, treasury, t.daily_limit - 1, t.transfer_limit)
    som.transferFrom(alice, treasury, 1, {"from": bob})
    with reverts("DigitalCurrencyDailyLimitExceeded", account=alice.address, tier=BASIC_TIER, limit=t.daily_limit, spentAfter=t.daily_limit + 1):
        som.transferFrom(alice, treasury, 1, {"from": bob})


def test_transfer_from_into_full_wallet_reverts(som, holder, register, fund, tiers, treasury, bob, reverts):
    cap = tiers[BASIC_TIER].holding_cap
    alice = holder(BASIC_TIER, 1)
    register(bob, BASIC_TIER, "bob")
    fund(bob, cap)
    som.approve(treasury, 1, {"from": alice})
    with reverts("DigitalCurrencyHoldingCapExceeded", account=bob.address, tier=BASIC_TIER, cap=cap, balanceAfter=cap + 1):
        som.transferFrom(alice, bob, 1, {"from": treasury})


@pytest.fixture
def authorize(som):
    """authorize(signer, to, value): a transferWithAuthorization signed by `signer`, valid for an hour."""
    domain = Domain.of(som)

    def _authorize(signer, to, value):
        window = (0, _latest_time() + 3_600)
        nonce = random_nonce()
        sig = sign_authorization(domain, signer.private_key, signer.address, str(to), value, *window, nonce)
        return (signer, to, value, *window, nonce, sig.v, sig.r, sig.s)

    return _authorize


def test_transfer_with_authorization_over_transfer_limit_reverts(som, holder, authorize, tiers, treasury, relayer, reverts):
    limit = tiers[BASIC_TIER].transfer_limit
    alice = holder(BASIC_TIER, limit + 1)
    with reverts("DigitalCurrencyTransferLimitExceeded", account=alice.address, tier=BASIC_TIER, limit=limit, amount=limit + 1):
        som.transferWithAuthorization[VRS](*authorize(alice, treasury, limit + 1), {"from": relayer})


def test_transfer_with_authorization_over_daily_limit_reverts(som, holder, authorize, tiers, treasury, relayer, reverts):
    t = tiers[BASIC_TIER]
    alice = holder(BASIC_TIER, t.daily_limit + 1)
    _spend(som, alice, treasury, t.daily_limit, t.transfer_limit)
    with reverts("DigitalCurrencyDailyLimitExceeded", account=alice.address, tier=BASIC_TIER, limit=t.daily_limit, spentAfter=t.daily_limit + 1):
        som.transferWithAuthorization[VRS](*authorize(alice, treasury, 1), {"from": relayer})


def test_transfer_with_authorization_into_full_wallet_reverts(som, holder, register, fund, authorize, tiers, bob, relayer, reverts):
    cap = tiers[BASIC_TIER].holding_cap
    alice = holder(BASIC_TIER, 1)
    register(bob, BASIC_TIER, "bob")
    fund(bob, cap)
    with reverts("DigitalCurrencyHoldingCapExceeded", account=bob.address, tier=BASIC_TIER, cap=cap, balanceAfter=cap + 1):
        som.transferWithAuthorization[VRS](*authorize(alice, bob, 1), {"from": relayer})
