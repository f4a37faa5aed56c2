"""Once-only batch payouts of the digital som: the treasury pays many registered wallets in one
transaction, each payment under the transfer rules (registration, blocklist, holding cap and the
overflow waterfall), the treasury's own balance and limits on the batch, and a batch id that
pays at most once."""

import pytest
from eth_utils import keccak, to_checksum_address

from cbdclib import (
    BANK_TIER,
    BASIC_TIER,
    HOLDING_CAP_EXCEEDED,
    INVALID_RECIPIENT,
    PAUSE_TRANSFERS,
    RECIPIENT_BLOCKED,
    RECIPIENT_NOT_REGISTERED,
    STANDARD_TIER,
    TREASURY_FLOAT,
    TYIYN,
    identity_of,
    kyc_record,
)

ZERO_ADDRESS = "0x" + "00" * 20
ZERO_REF = b"\x00" * 32
BATCH = keccak(text="payroll-2025-11")
OTHER_BATCH = keccak(text="pensions-2025-11")
SANCTION = keccak(text="sanctions-record-1")
GAS_BATCH_SIZE = 50
GAS_PER_RECIPIENT_BUDGET = 28_000


def som(amount):
    """`amount` som in token units (tyiyn)."""
    return amount * TYIYN


def address_of(name):
    """A deterministic address with no key: a recipient needs no BNB to be paid."""
    return to_checksum_address(keccak(text=f"recipient:{name}")[-20:])


@pytest.fixture
def register(cbdc_ready, kyc_officer):
    """register(wallet, tier=BASIC_TIER, name=None): a KYC registration for `name` (default: the address)."""

    def _register(wallet, tier=BASIC_TIER, name=None):
        name = name or str(wallet)
        cbdc_ready.registerWallet(wallet, tier, identity_of(name), kyc_record(name), {"from": kyc_officer})
        return wallet

    return _register


@pytest.fixture
def citizens(register):
    """Three empty wallets registered in the basic tier."""
    return [register(address_of(f"citizen-{i}")) for i in range(3)]


@pytest.fixture
def basic_cap(tiers):
    return tiers[BASIC_TIER].holding_cap


@pytest.fixture
def ineligible(cbdc_ready, register, compliance, basic_cap):
    """name -> (recipient, amount) that cannot be paid: unregistered, blocked (registered, then
    sanctioned), over its holding cap with no overflow wallet, and the zero address."""
    blocked = register(address_of("sanctioned"))
    cbdc_ready.blockAccount(blocked, SANCTION, {"from": compliance})
    over_cap = register(address_of("over-cap"))
    return {
        "unregistered": (address_of("unregistered"), som(100)),
        "blocked": (blocked, som(100)),
        "over_cap": (over_cap, basic_cap + 1),
        "zero": (ZERO_ADDRESS, som(100)),
    }


# In strict mode each ineligible recipient reverts the batch with its own error.
STRICT_ERRORS = {
    "unregistered": lambda to, amount, cap: ("DigitalCurrencyNotRegistered", {"account": to}),
    "blocked": lambda to, amount, cap: ("BlockedAddress", {"account": to}),
    "over_cap": lambda to, amount, cap: (
        "DigitalCurrencyHoldingCapExceeded",
        {"account": to, "tier": BASIC_TIER, "cap": cap, "balanceAfter": amount},
    ),
    "zero": lambda to, amount, cap: ("ERC20InvalidReceiver", {"receiver": to}),
}
# In skip mode each is skipped with its TransferRestrictions code.
SKIP_REASONS = {
    "unregistered": RECIPIENT_NOT_REGISTERED,
    "blocked": RECIPIENT_BLOCKED,
    "over_cap": HOLDING_CAP_EXCEEDED,
    "zero": INVALID_RECIPIENT,
}
INELIGIBLE = list(SKIP_REASONS)


def _event(tx):
    e = tx.events["BatchDisbursed"]
    return (bytes(e["batchId"]), e["treasury"], e["paid"], e["total"], list(e["skipped"]), list(e["reasons"]))


# --- Paying a batch ---


def test_disburse_pays_each_amount(cbdc_ready, treasury, citizens):
    cbdc_ready.disburse(BATCH, citizens, [som(100), som(250), som(7)], False, {"from": treasury})
    assert [cbdc_ready.balanceOf(c) for c in citizens] == [som(100), som(250), som(7)]


def test_disburse_debits_treasury_the_total(cbdc_ready, treasury, citizens):
    supply = cbdc_ready.totalSupply()
    cbdc_ready.disburse(BATCH, citizens, [som(100), som(250), som(7)], False, {"from": treasury})
    assert (cbdc_ready.balanceOf(treasury), cbdc_ready.totalSupply()) == (TREASURY_FLOAT - som(357), supply)


def test_disburse_returns_paid_and_total(cbdc_ready, treasury, citizens):
    result = cbdc_ready.disburse.call(BATCH, citizens, [som(100), som(250), som(7)], False, {"from": treasury})
    assert tuple(result) == (3, som(357))


def test_disburse_emits_batch_disbursed(cbdc_ready, treasury, citizens):
    tx = cbdc_ready.disburse(BATCH, citizens, [som(100), som(250), som(7)], False, {"from": treasury})
    assert _event(tx) == (BATCH, treasury.address, 3, som(357), [], [])


def test_disburse_emits_transfer_per_payment(cbdc_ready, treasury, citizens):
    tx = cbdc_ready.disburse(BATCH, citizens, [som(100), som(250), som(7)], False, {"from": treasury})
    transfers = [(e["from"], e["to"], e["value"]) for e in tx.events["Transfer"]]
    assert transfers == [(treasury.address, c, a) for c, a in zip(citizens, [som(100), som(250), som(7)])]


# --- Who may pay ---


@pytest.mark.parametrize("caller", ["stranger", "issuer"])
def test_disburse_by_non_treasury_reverts(cbdc_ready, citizens, request, reverts, caller):
    account = request.getfixturevalue(caller)
    with reverts("AccessManagedUnauthorized", caller=account.address):
        cbdc_ready.disburse(BATCH, citizens[:1], [som(1)], False, {"from": account})


def test_disburse_by_blocked_treasury_reverts(cbdc_ready, treasury, compliance, citizens, reverts):
    cbdc_ready.blockAccount(treasury, SANCTION, {"from": compliance})
    with reverts("BlockedAddress", account=treasury.address):
        cbdc_ready.disburse(BATCH, citizens[:1], [som(1)], False, {"from": treasury})


def test_disburse_while_transfers_paused_reverts(cbdc_ready, treasury, pauser, citizens, reverts):
    cbdc_ready.pause(PAUSE_TRANSFERS, {"from": pauser})
    with reverts("OperationPaused", flag=PAUSE_TRANSFERS):
        cbdc_ready.disburse(BATCH, citizens[:1], [som(1)], False, {"from": treasury})


# --- A batch pays once ---


def test_disburse_marks_batch_paid(cbdc_ready, treasury, citizens):
    cbdc_ready.disburse(BATCH, citizens, [som(1)] * 3, False, {"from": treasury})
    assert (cbdc_ready.isBatchPaid(BATCH), cbdc_ready.isBatchPaid(OTHER_BATCH)) == (True, False)


def test_disburse_same_batch_id_reverts(cbdc_ready, treasury, citizens, reverts):
    cbdc_ready.disburse(BATCH, citizens, [som(1)] * 3, False, {"from": treasury})
    with reverts("DigitalCurrencyBatchAlreadyPaid", batchId=BATCH):
        cbdc_ready.disburse(BATCH, citizens, [som(1)] * 3, True, {"from": treasury})
    # the retry paid nobody a second time
    assert [cbdc_ready.balanceOf(c) for c in citizens] + [cbdc_ready.balanceOf(treasury)] == [som(1)] * 3 + [TREASURY_FLOAT - som(3)]


def test_disburse_same_batch_id_with_other_recipients_reverts(cbdc_ready, treasury, citizens, reverts):
    cbdc_ready.disburse(BATCH, citizens[:1], [som(1)], False, {"from": treasury})
    with reverts("DigitalCurrencyBatchAlreadyPaid", batchId=BATCH):
        cbdc_ready.disburse(BATCH, citizens[1:], [som(5), som(6)], False, {"from": treasury})


def test_disburse_reverted_batch_leaves_id_unused(cbdc_ready, treasury, citizens, ineligible, reverts):
    recipient, amount = ineligible["unregistered"]
    with reverts("DigitalCurrencyNotRegistered"):
        cbdc_ready.disburse(BATCH, citizens + [recipient], [som(1)] * 3 + [amount], False, {"from": treasury})
    assert cbdc_ready.isBatchPaid(BATCH) is False


def test_disburse_reverted_batch_pays_after_fix(cbdc_ready, treasury, citizens, ineligible, register, reverts):
    recipient, amount = ineligible["unregistered"]
    with reverts("DigitalCurrencyNotRegistered"):
        cbdc_ready.disburse(BATCH, citizens + [recipient], [som(1)] * 3 + [amount], False, {"from": treasury})
    register(recipient)
    cbdc_ready.disburse(BATCH, citizens + [recipient], [som(1)] * 3 + [amount], False, {"from": treasury})
    assert (cbdc_ready.balanceOf(recipient), cbdc_ready.isBatchPaid(BATCH)) == (amount, True)


# --- Malformed batches ---


def test_disburse_zero_batch_id_reverts(cbdc_ready, treasury, citizens, reverts):
    with reverts("ZeroReference"):
        cbdc_ready.disburse(ZERO_REF, citizens[:1], [som(1)], False, {"from": treasury})


@pytest.mark.parametrize(
    "recipients, amounts",
    [(0, 0), (2, 1), (1, 2)],
    ids=["empty", "fewer-amounts", "more-amounts"],
)
def test_disburse_invalid_batch_reverts(cbdc_ready, treasury, citizens, reverts, recipients, amounts):
    with reverts("DigitalCurrencyInvalidBatch", recipients=recipients, amounts=amounts):
        cbdc_ready.disburse(BATCH, citizens[:recipients], [som(1)] * amounts, False, {"from": treasury})


@pytest.mark.parametrize("skip", [False, True], ids=["strict", "skip"])
def test_disburse_zero_amount_reverts(cbdc_ready, treasury, citizens, reverts, skip):
    with reverts("ZeroAmount"):
        cbdc_ready.disburse(BATCH, citizens, [som(1), som(1), 0], skip, {"from": treasury})


def test_disburse_amount_above_any_balance_reverts(cbdc_ready, treasury, citizens, reverts):
    with reverts("ERC20InsufficientBalance", sender=treasury.address, balance=TREASURY_FLOAT, needed=2**128):
        cbdc_ready.disburse(BATCH, citizens[:1], [2**128], True, {"from": treasury})


# --- Strict mode: one ineligible recipient reverts the whole batch ---


@pytest.mark.parametrize("case", INELIGIBLE)
def test_disburse_strict_ineligible_recipient_reverts_whole_batch(cbdc_ready, treasury, citizens, ineligible, basic_cap, reverts, case):
    recipient, amount = ineligible[case]
    name, args = STRICT_ERRORS[case](recipient, amount, basic_cap)
    with reverts(name, **args):
        cbdc_ready.disburse(BATCH, citizens[:2] + [recipient], [som(1), som(2), amount], False, {"from": treasury})
    # nobody is paid, the treasury keeps everything
    assert (cbdc_ready.balanceOf(citizens[0]), cbdc_ready.balanceOf(citizens[1]), cbdc_ready.balanceOf(treasury)) == (0, 0, TREASURY_FLOAT)


# --- Skip mode: ineligible recipients are skipped and listed, the others paid ---


@pytest.fixture
def mixed(citizens, ineligible):
    """A batch of 7: citizens at 0, 2 and 6; unregistered, blocked, over-cap and zero at 1, 3, 4, 5."""
    rows = [
        (citizens[0], som(10)),
        ineligible["unregistered"],
        (citizens[1], som(20)),
        ineligible["blocked"],
        ineligible["over_cap"],
        ineligible["zero"],
        (citizens[2], som(30)),
    ]
    return [r for r, _ in rows], [a for _, a in rows]


def test_disburse_skip_lists_every_skipped_index_and_reason(cbdc_ready, treasury, mixed):
    tx = cbdc_ready.disburse(BATCH, *mixed, True, {"from": treasury})
    assert _event(tx) == (
        BATCH,
        treasury.address,
        3,
        som(60),
        [1, 3, 4, 5],
        [RECIPIENT_NOT_REGISTERED, RECIPIENT_BLOCKED, HOLDING_CAP_EXCEEDED, INVALID_RECIPIENT],
    )


def test_disburse_skip_pays_everybody_else(cbdc_ready, treasury, citizens, mixed):
    cbdc_ready.disburse(BATCH, *mixed, True, {"from": treasury})
    assert [cbdc_ready.balanceOf(c) for c in citizens] == [som(10), som(20), som(30)]


def test_disburse_skip_debits_only_what_was_paid(cbdc_ready, treasury, mixed):
    cbdc_ready.disburse(BATCH, *mixed, True, {"from": treasury})
    assert cbdc_ready.balanceOf(treasury) == TREASURY_FLOAT - som(60)


def test_disburse_skip_with_nobody_payable_moves_nothing(cbdc_ready, treasury, ineligible):
    rows = list(ineligible.values())
    tx = cbdc_ready.disburse(BATCH, [r for r, _ in rows], [a for _, a in rows], True, {"from": treasury})
    assert (_event(tx)[2:4], cbdc_ready.balanceOf(treasury)) == ((0, 0), TREASURY_FLOAT)


def test_disburse_skip_overflow_wallet_blocked_skips_recipient(cbdc_ready, treasury, alice, bank_wallet, compliance, register, basic_cap, kyc_officer):
    register(alice, name="alice")
    cbdc_ready.setWaterfall(alice, bank_wallet, {"from": kyc_officer})
    cbdc_ready.blockAccount(bank_wallet, SANCTION, {"from": compliance})
    tx = cbdc_ready.disburse(BATCH, [alice], [basic_cap + som(1)], True, {"from": treasury})
    assert _event(tx)[2:] == (0, 0, [0], [RECIPIENT_BLOCKED])


# --- A recipient listed twice is capped on the sum ---


def test_disburse_duplicate_recipient_within_cap_gets_both(cbdc_ready, treasury, citizens, basic_cap):
    half = basic_cap // 2
    cbdc_ready.disburse(BATCH, [citizens[0]] * 2, [half, half], False, {"from": treasury})
    assert cbdc_ready.balanceOf(citizens[0]) == 2 * half


def test_disburse_duplicate_recipient_over_cap_on_sum_reverts(cbdc_ready, treasury, citizens, basic_cap, reverts):
    first, second = basic_cap // 2 + som(1), basic_cap // 2
    with reverts(
        "DigitalCurrencyHoldingCapExceeded", account=citizens[0], tier=BASIC_TIER, cap=basic_cap, balanceAfter=first + second
    ):
        cbdc_ready.disburse(BATCH, [citizens[0]] * 2, [first, second], False, {"from": treasury})


def test_disburse_duplicate_recipient_over_cap_on_sum_skips_second(cbdc_ready, treasury, citizens, basic_cap):
    first, second = basic_cap // 2 + som(1), basic_cap // 2
    tx = cbdc_ready.disburse(BATCH, [citizens[0]] * 2, [first, second], True, {"from": treasury})
    assert (_event(tx)[2:], cbdc_ready.balanceOf(citizens[0])) == ((1, first, [1], [HOLDING_CAP_EXCEEDED]), first)


def test_disburse_up_to_exact_cap_pays(cbdc_ready, treasury, citizens, basic_cap):
    cbdc_ready.disburse(BATCH, citizens[:1], [basic_cap], False, {"from": treasury})
    assert cbdc_ready.balanceOf(citizens[0]) == basic_cap


# --- The waterfall: an overflow wallet takes the excess ---


@pytest.fixture
def linked(cbdc_ready, register, alice, bank_wallet, kyc_officer):
    """alice in the basic tier, her bank's wallet linked as her overflow wallet."""
    register(alice, name="alice")
    cbdc_ready.setWaterfall(alice, bank_wallet, {"from": kyc_officer})
    return alice


@pytest.mark.parametrize("held, amount", [(0, 57_000), (45_000, 12_000)], ids=["empty", "partly-filled"])
def test_disburse_overflow_pays_cap_and_bank_the_excess(cbdc_ready, treasury, linked, bank_wallet, basic_cap, held, amount):
    if held:
        cbdc_ready.disburse(OTHER_BATCH, [linked], [som(held)], False, {"from": treasury})
    cbdc_ready.disburse(BATCH, [linked], [som(amount)], False, {"from": treasury})
    assert (cbdc_ready.balanceOf(linked), cbdc_ready.balanceOf(bank_wallet)) == (basic_cap, som(held + amount) - basic_cap)


def test_disburse_overflow_emits_transfers_and_overflowed(cbdc_ready, treasury, linked, bank_wallet, basic_cap):
    tx = cbdc_ready.disburse(BATCH, [linked], [basic_cap + som(7)], False, {"from": treasury})
    transfers = [(e["from"], e["to"], e["value"]) for e in tx.events["Transfer"]]
    overflowed = tx.events["Overflowed"]
    assert transfers == [(treasury.address, linked.address, basic_cap), (treasury.address, bank_wallet.address, som(7))]
    assert (overflowed["wallet"], overflowed["overflow"], overflowed["amount"]) == (linked.address, bank_wallet.address, som(7))


def test_disburse_overflow_counts_whole_amount_as_paid(cbdc_ready, treasury, linked, basic_cap):
    tx = cbdc_ready.disburse(BATCH, [linked], [basic_cap + som(7)], False, {"from": treasury})
    assert (_event(tx)[2:4], cbdc_ready.balanceOf(treasury)) == ((1, basic_cap + som(7)), TREASURY_FLOAT - basic_cap - som(7))


def test_disburse_overflow_wallet_blocked_reverts(cbdc_ready, treasury, linked, bank_wallet, compliance, basic_cap, reverts):
    cbdc_ready.blockAccount(bank_wallet, SANCTION, {"from": compliance})
    with reverts("BlockedAddress", account=bank_wallet.address):
        cbdc_ready.disburse(BATCH, [linked], [basic_cap + som(1)], False, {"from": treasury})


# --- The treasury's own balance and limits ---


@pytest.fixture
def agency(register):
    """A government body's wallet in the (uncapped) bank tier: it can take any amount."""
    return register(address_of("agency"), BANK_TIER, "agency")


def test_disburse_above_treasury_balance_reverts_with_total(cbdc_ready, treasury, agency, bank_wallet, reverts):
    with reverts("ERC20InsufficientBalance", sender=treasury.address, balance=TREASURY_FLOAT, needed=TREASURY_FLOAT + 1):
        cbdc_ready.disburse(BATCH, [agency, bank_wallet], [TREASURY_FLOAT, 1], False, {"from": treasury})


@pytest.fixture
def capped_treasury(cbdc_ready, kyc_officer, treasury):
    """The treasury moved into the standard tier (100,000 som per transfer, 200,000 a day)."""
    cbdc_ready.changeTier(treasury, STANDARD_TIER, kyc_record("treasury-standard"), {"from": kyc_officer})
    return treasury


def test_disburse_treasury_transfer_limit_binds_each_amount(cbdc_ready, capped_treasury, agency, tiers, reverts):
    limit = tiers[STANDARD_TIER].transfer_limit
    with reverts("DigitalCurrencyTransferLimitExceeded", account=capped_treasury.address, tier=STANDARD_TIER, limit=limit, amount=limit + 1):
        cbdc_ready.disburse(BATCH, [agency, agency], [som(1), limit + 1], False, {"from": capped_treasury})


def test_disburse_treasury_transfer_limit_not_on_total(cbdc_ready, capped_treasury, agency, tiers):
    limit = tiers[STANDARD_TIER].transfer_limit
    cbdc_ready.disburse(BATCH, [agency, agency], [limit, som(1)], False, {"from": capped_treasury})
    assert cbdc_ready.balanceOf(agency) == limit + som(1)


def test_disburse_treasury_daily_limit_binds_batch_total(cbdc_ready, capped_treasury, agency, tiers, reverts):
    daily, amount = tiers[STANDARD_TIER].daily_limit, tiers[STANDARD_TIER].transfer_limit
    with reverts("DigitalCurrencyDailyLimitExceeded", account=capped_treasury.address, tier=STANDARD_TIER, limit=daily, spentAfter=3 * amount):
        cbdc_ready.disburse(BATCH, [agency] * 3, [amount] * 3, False, {"from": capped_treasury})


def test_disburse_treasury_daily_limit_counts_earlier_batches(cbdc_ready, capped_treasury, agency, tiers, reverts):
    daily = tiers[STANDARD_TIER].daily_limit
    cbdc_ready.disburse(OTHER_BATCH, [agency, agency], [daily // 2, daily // 2 - som(1)], False, {"from": capped_treasury})
    with reverts("DigitalCurrencyDailyLimitExceeded", spentAfter=daily + som(1)):
        cbdc_ready.disburse(BATCH, [agency], [som(2)], False, {"from": capped_treasury})


def test_disburse_skip_counts_only_paid_against_daily_limit(cbdc_ready, capped_treasury, agency, ineligible):
    recipient, _ = ineligible["unregistered"]
    cbdc_ready.disburse(BATCH, [agency, recipient], [som(4), som(9)], True, {"from": capped_treasury})
    assert cbdc_ready.outflowToday(capped_treasury) == som(4)


# --- Gas: a payout costs less than a transfer per recipient ---


@pytest.fixture
def crowd(cbdc_ready, kyc_officer):
    """GAS_BATCH_SIZE empty wallets registered in the basic tier (one bulk registration)."""
    wallets = [address_of(f"crowd-{i}") for i in range(GAS_BATCH_SIZE)]
    identities, records = [identity_of(w) for w in wallets], [kyc_record(w) for w in wallets]
    cbdc_ready.registerWallets(wallets, BASIC_TIER, identities, records, {"from": kyc_officer})
    return wallets


def test_disburse_gas_per_recipient_under_budget(cbdc_ready, treasury, crowd):
    tx = cbdc_ready.disburse(BATCH, crowd, [som(100)] * GAS_BATCH_SIZE, False, {"from": treasury})
    assert tx.gas_used / GAS_BATCH_SIZE < GAS_PER_RECIPIENT_BUDGET


def test_disburse_gas_under_half_of_separate_transfers(cbdc_ready, treasury, crowd, register):
    single = register(address_of("single-transfer"))
    transfer = cbdc_ready.transfer(single, som(100), {"from": treasury})
    batch = cbdc_ready.disburse(BATCH, crowd, [som(100)] * GAS_BATCH_SIZE, False, {"from": treasury})
    assert batch.gas_used < GAS_BATCH_SIZE * transfer.gas_used / 2
