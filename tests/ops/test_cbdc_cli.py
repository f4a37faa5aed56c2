"""`somstack cbdc tiers|register|disburse` against a chain of the module's own: the tier table,
registration with its one-line refusals, and payrolls from CSV files: paid in full with a
reconciliation, rejected whole (10,000 rows with planted bad rows) without sending anything,
and resumed after an interruption without paying any wallet twice.

One anvil per module, deployed with `somstack deploy --network local` (the `local` network
pointed at it through SOMSTACK_RPC_LOCAL); the issuer and the treasury are registered in the
government tier, 1 billion som issued to the treasury, and 10,000 payees registered in the
basic tier. Each test runs between an anvil snapshot and its revert."""

from __future__ import annotations

import io
import re
from contextlib import redirect_stderr, redirect_stdout
from types import SimpleNamespace

import pytest
import requests
from cbdclib import (
    BASIC_TIER,
    GOVERNMENT_TIER,
    TREASURY_FLOAT,
    TYIYN,
    identity_of,
    kyc_record,
)
from clihelp import assert_one_line_error, deployed_chain, run
from eth_utils import keccak, to_checksum_address
from faults import CtrlC, FlakySender, Interrupt
from support import logs
from web3 import Web3

from somstack.cli import main
from somstack.core.artifacts import Artifacts
from somstack.core.chain import NodeSigner, Sender
from somstack.core.errors import SomstackError
from somstack.ops import cbdc as cbdc_ops
from somstack.ops.cbdc import Cbdc, disburse, prepare_payroll, register_many

PAYEES = 10_000  # registered in the basic tier by the module fixture
ISSUER, TREASURY, KYC_OFFICER, COMPLIANCE, STRANGER = 20, 21, 22, 6, 19
CHAIN_ID = 31337
BALANCE_OF = "0x70a08231"


# --- Helpers ---


def payee(i):
    """The i-th registered payee: a deterministic address with no key."""
    return to_checksum_address(keccak(text=f"somstack-payee:{i}")[-20:])


def outsider(name):
    """An address that nobody registered."""
    return to_checksum_address(keccak(text=f"somstack-outsider:{name}")[-20:])


def amount_of(i):
    """The payroll amount of payee i [tyiyn]: 100.00 to 199.99 som."""
    return 100 * TYIYN + (i * 37) % (100 * TYIYN)


def som(amount):
    """Token units as the CSV writes them: 123.45."""
    return f"{amount // TYIYN}.{amount % TYIYN:02d}"


def som_grouped(amount):
    """Token units as the reconciliation prints them: 1,234.56."""
    return f"{amount // TYIYN:,}.{amount % TYIYN:02d}"


def write_rows(path, rows, header=True):
    """Writes raw CSV lines (each a string, bad ones included as they are)."""
    path.write_text(("address,amount\n" if header else "") + "".join(f"{row}\n" for row in rows))
    return path


def payroll_of(path, indexes, amount=amount_of):
    """A valid payroll of the payees `indexes`; returns the path and {address: amount}."""
    expected = {payee(i): amount(i) for i in indexes}
    write_rows(path, [f"{address},{som(value)}" for address, value in expected.items()])
    return path, expected


def balances(token, addresses):
    """balanceOf of each address, in one raw JSON-RPC batch (web3's contract calls cost ~3 ms
    each in Python)."""
    out = {}
    for start in range(0, len(addresses), 500):
        part = addresses[start : start + 500]
        calls = [
            {"jsonrpc": "2.0", "id": n, "method": "eth_call",
             "params": [{"to": token.address, "data": BALANCE_OF + address[2:].lower().rjust(64, "0")}, "latest"]}
            for n, address in enumerate(part)
        ]
        replies = sorted(requests.post(token.w3.provider.endpoint_uri, json=calls, timeout=60).json(), key=lambda r: r["id"])
        out.update((address, int(reply["result"], 16)) for address, reply in zip(part, replies))
    return out


def mined(w3, tx_hash):
    """Waits for a transaction sent with web3 (anvil mines it a moment after answering)."""
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash)
    assert receipt["status"] == 1
    return receipt


def line_of(out, prefix):
    (line,) = [line for line in out.splitlines() if line.startswith(prefix)]
    return line


def reconciliation(out):
    """The three summary lines of `cbdc disburse`, gas blanked out."""
    lines = [line_of(out, "rows "), line_of(out, "paid now "), line_of(out, "skipped ")]
    return [re.sub(r"\(gas [\d,]+\)", "(gas N)", line) for line in lines]


class EagerRivalSender(Sender):
    """Before its `at`-th transaction, an earlier transaction of the same batch is mined (a
    transaction of an interrupted run that was mined after all): sent here, by hand."""

    def __init__(self, *args, at, **kwargs):
        super().__init__(*args, **kwargs)
        self.at, self.count = at, 0

    def submit(self, tx, what):
        self.count += 1
        if self.count == self.at:
            mined(self.w3, self.w3.eth.send_transaction({"from": self.signer.address, "to": tx["to"], "data": tx["data"]}))
        return super().submit(tx, what)


# --- The chain of this module ---


def register_payees(w3, token, officer, chunk=200):
    """Registers the PAYEES in the basic tier, `chunk` per registerWallets transaction, sent
    at once with a fixed gas limit (register_many estimates each one: 4 times slower)."""
    hashes = []
    for start in range(0, PAYEES, chunk):
        part = range(start, min(start + chunk, PAYEES))
        data = token.encode_abi("registerWallets", [[payee(i) for i in part], BASIC_TIER,
                                                    [identity_of(f"payee-{i}") for i in part], [kyc_record(f"payee-{i}") for i in part]])
        hashes.append(w3.eth.send_transaction({"from": officer, "to": token.address, "data": data, "gas": 16_000_000}))
    for tx_hash in hashes:
        mined(w3, tx_hash)
    assert token.functions.walletOf(payee(PAYEES - 1)).call()[0] == BASIC_TIER


@pytest.fixture(scope="module")
def world(settings, tmp_path_factory):
    """A fresh anvil as network `local`, deployed by the CLI, with the treasury funded and
    10,000 payees registered in the basic tier."""
    with deployed_chain(settings, tmp_path_factory, CHAIN_ID) as (node, manifest):
        w3 = Web3(Web3.HTTPProvider(node.url, request_kwargs={"timeout": 60}))
        accounts = w3.eth.accounts
        artifacts = Artifacts(settings.root)
        token = artifacts.get("DigitalCurrency").contract(w3, manifest.address("DigitalCurrency"))
        manager = artifacts.get("SomAccessManager").contract(w3, manifest.address("AccessManager"))
        cbdc = Cbdc(w3, token, manager, settings.deployment("local").digital_currency)

        def sender(index):
            return Sender(w3, NodeSigner(to_checksum_address(accounts[index])), artifacts.decoder)

        officials = [to_checksum_address(accounts[ISSUER]), to_checksum_address(accounts[TREASURY])]
        register_many(cbdc, sender(KYC_OFFICER), officials, GOVERNMENT_TIER,
                      [identity_of("issuer"), identity_of("treasury")], [kyc_record("issuer"), kyc_record("treasury")])
        mined(w3, token.functions.mint(officials[1], TREASURY_FLOAT, keccak(text="issuance-genesis")).transact({"from": officials[0]}))
        register_payees(w3, token, accounts[KYC_OFFICER])
        yield SimpleNamespace(w3=w3, token=token, cbdc=cbdc, sender=sender, accounts=accounts,
                              issuer=officials[0], treasury=officials[1])


@pytest.fixture(autouse=True)
def isolated(world):
    """Each test starts from the module's state and leaves no trace (anvil snapshot/revert)."""
    snapshot = world.w3.provider.make_request("evm_snapshot", [])["result"]
    yield
    assert world.w3.provider.make_request("evm_revert", [snapshot])["result"] is True


def treasury_balance(world):
    return world.token.functions.balanceOf(world.treasury).call()


# --- tiers ---


def test_tiers_prints_every_configured_tier_with_its_limits(capsys, world):
    code, out, err = run(capsys, "cbdc", "tiers")
    assert code == 0, err
    rows = [" ".join(line.split()) for line in out.splitlines()[1:6]]
    assert rows == [
        "1 basic (phone KYC) 50,000 10,000 25,000 yes",
        "2 standard (ID KYC) 300,000 100,000 200,000 yes",
        "3 full (in-person KYC) 1,500,000 500,000 1,000,000 yes",
        "10 government unlimited unlimited unlimited yes",
        "11 bank unlimited unlimited unlimited yes",
    ]
    assert out.splitlines()[0].split()[:2] == ["tier", "name"]


def test_tiers_flags_a_tier_that_differs_from_the_settings(capsys, world):
    admin = world.accounts[0]  # ADMIN: setTier is left to it
    mined(world.w3, world.token.functions.setTier(2, (300_000 * TYIYN, 100_000 * TYIYN, 200_000 * TYIYN, False)).transact({"from": admin}))
    code, out, err = run(capsys, "cbdc", "tiers")
    assert code == 0, err
    (row,) = [line for line in out.splitlines() if line.split()[:1] == ["2"]]
    assert " ".join(row.split()) == "2 standard (ID KYC) 300,000 100,000 200,000 no differs from brownie-config.yaml"


# --- register ---

KYC = "0x" + "11" * 32
IDENTITY = "0x" + "22" * 32


def test_register_puts_the_wallet_in_its_tier_on_chain(capsys, world):
    wallet = outsider("new-citizen")
    code, out, err = run(capsys, "cbdc", "register", wallet.lower(), "--tier", "2", "--kyc-hash", KYC, "--identity", IDENTITY)
    assert code == 0, err
    assert out.startswith(f"registerWallet({wallet}, tier 2): mined in block ")
    assert list(world.token.functions.walletOf(wallet).call()) == [2, bytes.fromhex("22" * 32), "0x" + "00" * 20]
    assert world.token.functions.cappedWalletOf(bytes.fromhex("22" * 32)).call() == wallet


def test_register_in_an_uncapped_tier_lets_an_identity_hold_a_second_wallet(capsys, world):
    wallet = outsider("ministry-account")
    identity = "0x" + identity_of("payee-7").hex().removeprefix("0x")  # holds the capped wallet payee(7)
    code, _out, err = run(capsys, "cbdc", "register", wallet, "--tier", "10", "--kyc-hash", KYC, "--identity", identity)
    assert code == 0, err
    assert world.token.functions.walletOf(wallet).call()[0] == GOVERNMENT_TIER


@pytest.mark.parametrize(
    "address, fragment",
    [
        ("0x1234", "wallet: '0x1234' is not an address"),
        ("0x52908400098527886e0F7030069857D2E4169EE7", "has a wrong checksum"),
        ("0x" + "00" * 20, "wallet: the zero address is not allowed here"),
    ],
    ids=["malformed", "wrong-checksum", "zero"],
)
def test_register_bad_address_fails_in_one_line(capsys, world, address, fragment):
    block = world.w3.eth.block_number
    code, _out, err = run(capsys, "cbdc", "register", address, "--tier", "1", "--kyc-hash", KYC, "--identity", IDENTITY)
    assert_one_line_error(code, err, "(CbdcInputError)", fragment)
    assert world.w3.eth.block_number == block


@pytest.mark.parametrize(
    "option, value",
    [
        ("--kyc-hash", "0x1234"),
        ("--kyc-hash", "0x" + "00" * 32),
        ("--identity", "11" * 32),
        ("--identity", "0x" + "zz" * 32),
    ],
    ids=["short", "zero", "no-0x", "not-hex"],
)
def test_register_bad_hash_fails_in_one_line(capsys, world, option, value):
    hashes = {"--kyc-hash": KYC, "--identity": IDENTITY, option: value}
    code, _out, err = run(capsys, "cbdc", "register", outsider("x"), "--tier", "1", *[x for kv in hashes.items() for x in kv])
    assert_one_line_error(code, err, "(CbdcInputError)", f"{option} must be 0x and 64 hex digits, not zero", f"got '{value}'")
    assert world.token.functions.walletOf(outsider("x")).call()[0] == 0


@pytest.mark.parametrize("tier", ["0", "5", "127", "200"])
def test_register_in_an_unknown_tier_fails_listing_the_enabled_ones(capsys, world, tier):
    code, _out, err = run(capsys, "cbdc", "register", outsider("x"), "--tier", tier, "--kyc-hash", KYC, "--identity", IDENTITY)
    assert_one_line_error(code, err, "(WalletRefusedError)", f"tier {tier} is not an enabled tier (enabled: 1, 2, 3, 10, 11)")


def test_register_in_a_disabled_tier_fails_listing_the_enabled_ones(capsys, world):
    mined(world.w3, world.token.functions.setTier(2, (300_000 * TYIYN, 100_000 * TYIYN, 200_000 * TYIYN, False)).transact({"from": world.accounts[0]}))
    code, _out, err = run(capsys, "cbdc", "register", outsider("x"), "--tier", "2", "--kyc-hash", KYC, "--identity", IDENTITY)
    assert_one_line_error(code, err, "(WalletRefusedError)", "tier 2 is not an enabled tier (enabled: 1, 3, 10, 11)")


def test_register_of_a_registered_wallet_fails_naming_its_tier(capsys, world):
    code, _out, err = run(capsys, "cbdc", "register", payee(3), "--tier", "2", "--kyc-hash", KYC, "--identity", IDENTITY)
    assert_one_line_error(code, err, "(WalletRefusedError)", f"{payee(3)} is registered already, in tier 1")


def test_register_of_an_identity_with_a_capped_wallet_fails_naming_it(capsys, world):
    identity = "0x" + identity_of("payee-7").hex().removeprefix("0x")
    block = world.w3.eth.block_number
    code, _out, err = run(capsys, "cbdc", "register", outsider("x"), "--tier", "3", "--kyc-hash", KYC, "--identity", identity)
    assert_one_line_error(code, err, "(WalletRefusedError)", f"identity {identity} already holds the capped wallet {payee(7)}")
    assert world.w3.eth.block_number == block


def test_register_by_a_stranger_fails_naming_the_role(capsys, world):
    stranger = world.accounts[STRANGER]
    code, _out, err = run(capsys, "cbdc", "register", outsider("x"), "--tier", "1", "--kyc-hash", KYC, "--identity", IDENTITY,
                          "--from-index", str(STRANGER))
    assert_one_line_error(code, err, "(MissingRoleError)", stranger, "lacks the KYC_OFFICER role needed for DigitalCurrency.registerWallet")
    assert world.token.functions.walletOf(outsider("x")).call()[0] == 0


# --- disburse: a valid file ---

ROWS, BATCH = 45, 20  # 3 batches: 20, 20, 5


@pytest.fixture
def payroll(tmp_path):
    """A valid 45-row payroll of payees 0-44; the path and {address: amount}."""
    return payroll_of(tmp_path / "payroll.csv", range(ROWS))


PAYROLL = "2026-11-teachers"


def disburse_cli(capsys, path, *options, payroll=PAYROLL):
    return run(capsys, "cbdc", "disburse", str(path), "--payroll", payroll, "--yes", "--batch-size", str(BATCH), *options)


def test_disburse_pays_every_row_exactly(capsys, world, payroll):
    path, expected = payroll
    code, _out, err = disburse_cli(capsys, path)
    assert code == 0, err
    assert balances(world.token, list(expected)) == expected
    assert treasury_balance(world) == TREASURY_FLOAT - sum(expected.values())


def test_disburse_prints_the_reconciliation(capsys, world, payroll):
    path, expected = payroll
    code, out, err = disburse_cli(capsys, path)
    assert code == 0, err
    assert reconciliation(out) == [
        "rows 45 in 3 batch(es): 3 paid now, 0 paid before (not paid again)",
        f"paid now 45 rows, {som_grouped(sum(expected.values()))} som (gas N); paid before 0.00 som",
        "skipped 0 rows",
    ]


def test_disburse_by_default_pays_200_rows_per_batch(capsys, world, tmp_path):
    path, expected = payroll_of(tmp_path / "payroll.csv", range(201))
    code, out, err = run(capsys, "cbdc", "disburse", str(path), "--payroll", PAYROLL, "--yes")
    assert code == 0, err
    assert reconciliation(out)[0] == "rows 201 in 2 batch(es): 2 paid now, 0 paid before (not paid again)"
    assert balances(world.token, list(expected)) == expected


def test_disburse_rerun_of_a_paid_file_pays_nothing(capsys, world, payroll):
    path, expected = payroll
    total = sum(expected.values())
    code, _out, err = disburse_cli(capsys, path)
    assert code == 0, err
    block = world.w3.eth.block_number
    code, out, err = disburse_cli(capsys, path)
    assert code == 0, err
    assert reconciliation(out) == [
        "rows 45 in 3 batch(es): 0 paid now, 3 paid before (not paid again)",
        f"paid now 0 rows, 0.00 som (gas N); paid before {som_grouped(total)} som",
        "skipped 0 rows",
    ]
    assert world.w3.eth.block_number == block
    assert balances(world.token, list(expected)) == expected
    assert treasury_balance(world) == TREASURY_FLOAT - total


def batch_ids(world, path, batch_size=BATCH, payroll=PAYROLL):
    return [b.batch_id for b in prepare_payroll(world.cbdc, world.treasury, path, payroll, batch_size).batches]


def test_disburse_batch_ids_of_the_same_file_are_the_same(world, payroll, tmp_path):
    path, _expected = payroll
    copy, _ = payroll_of(tmp_path / "copy.csv", range(ROWS))
    ids = batch_ids(world, path)
    assert len(set(ids)) == 3
    assert batch_ids(world, path) == ids
    assert batch_ids(world, copy) == ids


def test_disburse_batch_ids_change_only_in_the_batch_of_a_changed_amount(world, payroll, tmp_path):
    path, _expected = payroll
    changed, _ = payroll_of(tmp_path / "changed.csv", range(ROWS), lambda i: amount_of(i) + (TYIYN if i == ROWS - 1 else 0))
    ids, new_ids = batch_ids(world, path), batch_ids(world, changed)
    assert len(set(new_ids)) == 3 and len(set(ids) & set(new_ids)) == 2


def test_disburse_batch_ids_do_not_depend_on_the_order_of_the_rows(world, payroll, tmp_path):
    path, _expected = payroll
    shuffled, _ = payroll_of(tmp_path / "shuffled.csv", reversed(range(ROWS)))
    assert batch_ids(world, shuffled) == batch_ids(world, path)


def test_disburse_batch_ids_of_another_payroll_id_are_other_ids(world, payroll):
    path, _expected = payroll
    assert not set(batch_ids(world, path)) & set(batch_ids(world, path, payroll="2026-12-teachers"))


def test_disburse_batch_ids_of_the_cli_are_those_found_paid_on_chain(capsys, world, payroll):
    path, _expected = payroll
    ids = batch_ids(world, path)
    assert [world.token.functions.isBatchPaid(i).call() for i in ids] == [False] * 3
    code, _out, err = disburse_cli(capsys, path)
    assert code == 0, err
    assert [world.token.functions.isBatchPaid(i).call() for i in ids] == [True] * 3


def test_disburse_treasury_short_of_funds_sends_nothing(capsys, world, payroll):
    path, expected = payroll
    total = sum(expected.values())
    keep = total - 1
    mined(world.w3, world.token.functions.transfer(world.issuer, TREASURY_FLOAT - keep).transact({"from": world.treasury}))
    block = world.w3.eth.block_number
    code, _out, err = disburse_cli(capsys, path)
    assert_one_line_error(code, err, "(WalletRefusedError)", f"holds {som_grouped(keep)} som", f"need {som_grouped(total)} som",
                          "nothing was sent")
    assert world.w3.eth.block_number == block


def test_disburse_by_a_stranger_fails_naming_the_role(capsys, world, payroll):
    path, _expected = payroll
    stranger = world.accounts[STRANGER]
    code, _out, err = disburse_cli(capsys, path, "--from-index", str(STRANGER))
    assert_one_line_error(code, err, "(MissingRoleError)", stranger, "lacks the TREASURY role needed for DigitalCurrency.disburse")


# --- disburse: a 10,000-row file with planted bad rows ---

WRONG_CHECKSUM = "0x52908400098527886e0F7030069857D2E4169EE7"  # one letter lower-cased (valid: ...6E0F...)
PLANTED = {  # row -> (the line, what its error line says); the header is row 1
    101: (f"0x1234,{som(amount_of(99))}", "address: '0x1234' is not an address"),
    1_502: (f"{WRONG_CHECKSUM},100", f"address: '{WRONG_CHECKSUM}' has a wrong checksum (mixed case that does not match)"),
    2_003: (f"{payee(2001)},100.125", "amount: 100.125 has more than 2 decimals (the tyiyn is the smallest unit)"),
    3_004: (f"{payee(3002)},0", "amount: '0' must be a positive amount of som"),
    3_505: (f"{payee(3503)},-5", "amount: '-5' must be a positive amount of som"),
    4_006: (f"{payee(4004)},lots", "amount: 'lots' is not an amount of som"),
    5_007: (f"{payee(0)},100", f"{payee(0)} is listed already on row 2: one payment per wallet per file"),
    6_008: (f"{outsider('nobody')},100", f"{outsider('nobody')}: the wallet is not registered (tier 0)"),
    7_009: (f"{payee(7007)},50000.01", f"{payee(7007)}: the payment would take the wallet over its holding cap, and it has no overflow wallet"),
    8_010: (f"{payee(8008)},100", f"{payee(8008)}: the wallet is blocked"),
    9_011: (f"{payee(9009)},100,extra", "expected 2 columns (address,amount), found 3"),
}
BLOCKED = payee(8008)


@pytest.fixture(scope="module")
def planted(world, tmp_path_factory):
    """`cbdc disburse` run once on a 10,000-row payroll (rows 2 to 10,001) with the PLANTED
    rows among valid payments to the registered payees, payee 8008 blocked. Checking 10,000
    rows takes ~30 s, so the run is shared; what it left on chain is read before the revert."""
    rows = [PLANTED[i + 2][0] if i + 2 in PLANTED else f"{payee(i)},{som(amount_of(i))}" for i in range(PAYEES)]
    path = write_rows(tmp_path_factory.mktemp("planted") / "payroll.csv", rows)
    w3 = world.w3
    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]
    try:
        mined(w3, world.token.functions.blockAccount(BLOCKED, keccak(text="sanction-1")).transact({"from": world.accounts[COMPLIANCE]}))
        block, treasury = w3.eth.block_number, treasury_balance(world)
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            code = main(["cbdc", "disburse", str(path), "--payroll", "planted", "--yes"])
        payments, _problems = cbdc_ops.read_payroll(path, 2)
        ids = [b.batch_id for b in cbdc_ops.batches_of("planted", payments, cbdc_ops.DEFAULT_BATCH_SIZE)]
        return SimpleNamespace(
            code=code, out=out.getvalue(), err=err.getvalue(), valid_rows=len(payments), batch_ids=ids,
            blocks_before=block, blocks_after=w3.eth.block_number, treasury_before=treasury, treasury_after=treasury_balance(world),
            paid=balances(world.token, [p.address for p in payments]), batches_paid=[world.token.functions.isBatchPaid(i).call() for i in ids],
        )
    finally:
        assert w3.provider.make_request("evm_revert", [snapshot])["result"] is True


def test_disburse_of_planted_bad_rows_reports_each_with_its_row(planted):
    reported = [line for line in planted.err.splitlines() if line.startswith("payroll.csv: row ")]
    assert reported == [f"payroll.csv: row {row}: {text}" for row, (_line, text) in sorted(PLANTED.items())]


def test_disburse_of_planted_bad_rows_ends_in_one_error_line(planted):
    assert_one_line_error(planted.code, planted.err)
    assert planted.err.splitlines()[-1] == "Error: (PayrollRejectedError) 11 of 10000 rows refused (listed above); nothing was sent"


def test_disburse_of_planted_bad_rows_sends_nothing(planted):
    assert planted.code == 1 and planted.out == ""
    assert planted.blocks_after == planted.blocks_before
    assert planted.treasury_after == planted.treasury_before == TREASURY_FLOAT
    assert planted.valid_rows == 9_992 and set(planted.paid.values()) == {0}


def test_disburse_of_planted_bad_rows_pays_no_batch(planted):
    assert len(planted.batch_ids) == 50 and planted.batches_paid == [False] * 50


# --- disburse: interrupted, then resumed ---

RESUME_ROWS, RESUME_BATCH = 100, 10  # 10 batches
INTERRUPTED_AT = 5  # the 5th transaction: 4 batches mined before it


@pytest.fixture
def resumable(world, tmp_path):
    """A 100-row payroll in batches of 10, and its batches as the CLI cuts them."""
    path, expected = payroll_of(tmp_path / "payroll.csv", range(RESUME_ROWS))
    plan = prepare_payroll(world.cbdc, world.treasury, path, PAYROLL, RESUME_BATCH)
    assert len(plan.batches) == 10 and plan.rows == RESUME_ROWS
    return SimpleNamespace(path=path, expected=expected, total=sum(expected.values()), batches=plan.batches, plan=plan)


def interrupted_run(world, plan, fail_at=INTERRUPTED_AT, after_send=False):
    """somstack.ops.cbdc.disburse interrupted at its `fail_at`-th transaction: before sending it,
    or after sending it (then it is mined, but its receipt was never awaited)."""
    treasury = world.sender(TREASURY)
    flaky = FlakySender(treasury.w3, treasury.signer, treasury.decoder, fail_at=fail_at, after_send=after_send)
    with pytest.raises(Interrupt):
        disburse(world.cbdc, flaky, plan)
    if after_send:
        mined(world.w3, flaky.unawaited)


def resume_cli(capsys, payroll):
    return run(capsys, "cbdc", "disburse", str(payroll.path), "--payroll", PAYROLL, "--yes", "--batch-size", str(RESUME_BATCH))


def paid_flags(world, batches):
    return [world.token.functions.isBatchPaid(b.batch_id).call() for b in batches]


@pytest.mark.parametrize("after_send, paid_before", [(False, 4), (True, 5)], ids=["before-send", "sent-not-awaited"])
def test_disburse_interrupted_leaves_the_mined_batches_paid(world, resumable, after_send, paid_before):
    interrupted_run(world, resumable.plan, after_send=after_send)
    assert paid_flags(world, resumable.batches) == [True] * paid_before + [False] * (10 - paid_before)


@pytest.mark.parametrize("after_send, paid_before", [(False, 4), (True, 5)], ids=["before-send", "sent-not-awaited"])
def test_disburse_rerun_after_an_interruption_pays_only_the_rest(capsys, world, resumable, after_send, paid_before):
    interrupted_run(world, resumable.plan, after_send=after_send)
    before = sum(b.total for b in resumable.batches[:paid_before])
    code, out, err = resume_cli(capsys, resumable)
    assert code == 0, err
    assert reconciliation(out) == [
        f"rows 100 in 10 batch(es): {10 - paid_before} paid now, {paid_before} paid before (not paid again)",
        f"paid now {10 * (10 - paid_before)} rows, {som_grouped(resumable.total - before)} som (gas N); "
        f"paid before {som_grouped(before)} som",
        "skipped 0 rows",
    ]


@pytest.mark.parametrize("after_send", [False, True], ids=["before-send", "sent-not-awaited"])
def test_disburse_rerun_after_an_interruption_pays_every_wallet_once(capsys, world, resumable, after_send):
    interrupted_run(world, resumable.plan, after_send=after_send)
    code, _out, err = resume_cli(capsys, resumable)
    assert code == 0, err
    assert balances(world.token, list(resumable.expected)) == resumable.expected
    assert treasury_balance(world) == TREASURY_FLOAT - resumable.total
    assert paid_flags(world, resumable.batches) == [True] * 10


def test_disburse_rerun_after_a_batch_sent_by_hand_does_not_pay_it_twice(capsys, world, resumable):
    interrupted_run(world, resumable.plan)  # batches 1-4 mined
    fifth = resumable.batches[4]
    data = world.token.encode_abi("disburse", [fifth.batch_id, [p.address for p in fifth.payments], [p.amount for p in fifth.payments], False])
    mined(world.w3, world.w3.eth.send_transaction({"from": world.treasury, "to": world.token.address, "data": data}))
    code, out, err = resume_cli(capsys, resumable)
    assert code == 0, err
    assert reconciliation(out)[0] == "rows 100 in 10 batch(es): 5 paid now, 5 paid before (not paid again)"
    assert balances(world.token, list(resumable.expected)) == resumable.expected
    assert treasury_balance(world) == TREASURY_FLOAT - resumable.total


def test_disburse_batch_mined_meanwhile_is_counted_paid_not_paid_twice(world, resumable):
    treasury = world.sender(TREASURY)
    rival = EagerRivalSender(treasury.w3, treasury.signer, treasury.decoder, at=3)
    with logs.logged() as logged:
        result = disburse(world.cbdc, rival, resumable.plan)
    assert (result.batches_sent, result.batches_paid_before, result.paid_rows) == (9, 1, 90)
    assert result.previously_paid_total == resumable.batches[2].total
    assert result.total_paid == resumable.total - resumable.batches[2].total
    assert "  batch 3 was paid meanwhile (an earlier transaction was mined): not paid again" in logged
    assert balances(world.token, list(resumable.expected)) == resumable.expected
    assert treasury_balance(world) == TREASURY_FLOAT - resumable.total


class MiningSender(Sender):
    """With anvil's automine off: mines one block (whatever is pending) before awaiting each receipt."""

    def wait(self, tx_hash, what):
        self.w3.provider.make_request("evm_mine", [])
        return super().wait(tx_hash, what)


def rerun_with_a_batch_pending(world, resumable):
    """Batches 1-4 mined by an interrupted run, batch 5's transaction still in the mempool
    (sent, not yet mined) when somstack.ops.cbdc.disburse runs again; its result, or the error."""
    interrupted_run(world, resumable.plan)
    fifth = resumable.batches[4]
    data = world.token.encode_abi("disburse", [fifth.batch_id, [p.address for p in fifth.payments], [p.amount for p in fifth.payments], False])
    make = world.w3.provider.make_request
    make("evm_setAutomine", [False])
    try:
        world.w3.eth.send_transaction({"from": world.treasury, "to": world.token.address, "data": data})
        treasury = world.sender(TREASURY)
        try:
            return disburse(world.cbdc, MiningSender(treasury.w3, treasury.signer, treasury.decoder), resumable.plan)
        except SomstackError as exc:
            return exc
    finally:
        make("evm_mine", [])
        make("evm_setAutomine", [True])


def test_disburse_batch_still_pending_from_an_earlier_run_is_not_paid_twice(world, resumable):
    rerun_with_a_batch_pending(world, resumable)
    fifth = resumable.batches[4]
    assert balances(world.token, [p.address for p in fifth.payments]) == {p.address: p.amount for p in fifth.payments}
    assert world.token.functions.isBatchPaid(fifth.batch_id).call()


def test_disburse_batch_still_pending_from_an_earlier_run_is_counted_paid_and_the_run_completes(world, resumable):
    result = rerun_with_a_batch_pending(world, resumable)
    assert not isinstance(result, SomstackError), result
    assert (result.batches_sent, result.batches_paid_before, result.paid_rows) == (5, 5, 50)
    assert balances(world.token, list(resumable.expected)) == resumable.expected
    assert treasury_balance(world) == TREASURY_FLOAT - resumable.total


def test_disburse_skipping_ineligible_wallets_reports_each_skipped_row(world, resumable):
    blocked = resumable.batches[1].payments[3]  # row 15 (the header is row 1)
    mined(world.w3, world.token.functions.blockAccount(blocked.address, keccak(text="sanction-2")).transact({"from": world.accounts[COMPLIANCE]}))
    result = disburse(world.cbdc, world.sender(TREASURY), resumable.plan, skip_ineligible=True)
    assert [str(p) for p in result.skipped] == [f"row {blocked.row}: {blocked.address}: skipped, the wallet is blocked"]
    assert (result.batches_sent, result.paid_rows, result.total_paid) == (10, 99, resumable.total - blocked.amount)
    assert result.lines(2)[2] == "skipped 1 rows"
    assert treasury_balance(world) == TREASURY_FLOAT - resumable.total + blocked.amount


@pytest.mark.parametrize("first, second", [(20, 10), (10, 20)], ids=["20-then-10", "10-then-20"])
def test_disburse_rerun_with_another_batch_size_pays_every_wallet_exactly_once(capsys, world, resumable, first, second):
    plan = prepare_payroll(world.cbdc, world.treasury, resumable.path, PAYROLL, first)
    interrupted_run(world, plan, fail_at=3)  # 2 batches mined
    code, _out, err = run(capsys, "cbdc", "disburse", str(resumable.path), "--payroll", PAYROLL, "--yes", "--batch-size", str(second))
    assert code == 0, err
    assert balances(world.token, list(resumable.expected)) == resumable.expected
    assert treasury_balance(world) == TREASURY_FLOAT - resumable.total


# --- bad input ---


def test_disburse_of_a_missing_file_fails_in_one_line(capsys, world, tmp_path):
    path = tmp_path / "nowhere.csv"
    code, _out, err = run(capsys, "cbdc", "disburse", str(path), "--payroll", PAYROLL, "--yes")
    assert_one_line_error(code, err, "(CbdcInputError)", f"cannot read {path}: No such file or directory")


@pytest.mark.parametrize("text", ["", "address,amount\n", "\n\n"], ids=["empty", "header-only", "blank-lines"])
def test_disburse_of_a_file_without_rows_fails_in_one_line(capsys, world, tmp_path, text):
    path = tmp_path / "payroll.csv"
    path.write_text(text)
    code, _out, err = run(capsys, "cbdc", "disburse", str(path), "--payroll", PAYROLL, "--yes")
    assert_one_line_error(code, err, "(CbdcInputError)", f"{path} has no payment rows")


def test_disburse_of_a_binary_file_fails_in_one_line(capsys, world, tmp_path):
    path = tmp_path / "payroll.csv"
    path.write_bytes(b"\xff\xfe\x00\x81payroll")
    code, _out, err = run(capsys, "cbdc", "disburse", str(path), "--payroll", PAYROLL, "--yes")
    assert_one_line_error(code, err, "(CbdcInputError)", f"{path} is not a UTF-8 text file")


def test_disburse_of_a_directory_fails_as_a_usage_error(capsys, world, tmp_path):
    code, _out, err = run(capsys, "cbdc", "disburse", str(tmp_path), "--payroll", PAYROLL, "--yes")
    assert code == 2 and "Traceback" not in err


# --- Operator safety (issue 16): a payroll does what the operator meant, or refuses ---


def pay(capsys, path, payroll=PAYROLL, *options):
    return run(capsys, "cbdc", "disburse", str(path), "--payroll", payroll, *options)


def test_disburse_needs_a_payroll_id(capsys, world, payroll):
    path, _expected = payroll
    code, _out, err = run(capsys, "cbdc", "disburse", str(path), "--yes")
    assert code == 2 and "Missing option '--payroll'" in err and "Traceback" not in err


@pytest.mark.parametrize("bad", ["", "-x", "a b", "x" * 81, "november;drop"])
def test_disburse_refuses_a_malformed_payroll_id_in_one_line(capsys, world, payroll, bad):
    path, _expected = payroll
    code, _out, err = pay(capsys, path, bad, "--yes")
    assert_one_line_error(code, err, "(CbdcInputError)", "is not a payroll id")


def test_disburse_same_rows_under_the_next_months_payroll_id_are_paid_again(capsys, world, payroll):
    """Finding 1: an identical monthly payroll was silently not paid."""
    path, expected = payroll
    assert pay(capsys, path, "2026-11-teachers", "--yes")[0] == 0
    code, out, err = pay(capsys, path, "2026-12-teachers", "--yes")
    assert code == 0, err
    assert reconciliation(out)[0] == "rows 45 in 1 batch(es): 1 paid now, 0 paid before (not paid again)" or \
        "0 paid before" in reconciliation(out)[0]
    assert balances(world.token, list(expected)) == {a: 2 * v for a, v in expected.items()}


def test_disburse_rerun_under_the_same_id_in_another_order_pays_nobody_twice(capsys, world, tmp_path):
    path, expected = payroll_of(tmp_path / "a.csv", range(ROWS))
    assert disburse_cli(capsys, path)[0] == 0
    shuffled, _ = payroll_of(tmp_path / "b.csv", [(i * 7) % ROWS for i in range(ROWS)])
    block = world.w3.eth.block_number
    code, out, err = disburse_cli(capsys, shuffled, "--batch-size", "7")
    assert code == 0, err
    assert "to pay now: 0 batch(es)" in out
    assert world.w3.eth.block_number == block
    assert balances(world.token, list(expected)) == expected


def test_disburse_same_id_with_an_edited_paid_row_is_refused_naming_the_row_and_transaction(capsys, world, tmp_path):
    """Finding 2: a corrected file under the same payroll paid everyone again."""
    path, expected = payroll_of(tmp_path / "a.csv", range(ROWS))
    code, _out, err = disburse_cli(capsys, path)
    assert code == 0, err
    paid = paid_under_ids(world)
    edited, _ = payroll_of(tmp_path / "b.csv", range(ROWS), lambda i: amount_of(i) + (TYIYN if i == ROWS - 1 else 0))
    block = world.w3.eth.block_number
    code, out, err = disburse_cli(capsys, edited)
    assert_one_line_error(code, err, "(PayrollConflictError)", f"payroll '{PAYROLL}' was paid before with other content", "nothing was sent")
    last = payee(ROWS - 1)
    (row_line,) = [line for line in err.splitlines() if line.startswith(f"b.csv: row {ROWS + 1}: ")]
    assert f"{last}: {som_grouped(amount_of(ROWS - 1) + TYIYN)} som in the file, but {som_grouped(amount_of(ROWS - 1))} som was paid" in row_line
    assert "(tx 0x" in row_line
    assert sorted(line.split(" tx ")[1].split()[0] for line in err.splitlines() if "paid under '" in line) == sorted(paid)
    assert world.w3.eth.block_number == block and out == ""
    assert balances(world.token, list(expected)) == expected


def paid_under_ids(world, payroll=PAYROLL):
    return [b.tx for b in cbdc_ops.paid_under(world.cbdc, world.treasury, payroll)]


def test_disburse_same_id_without_a_paid_row_is_refused(capsys, world, tmp_path):
    path, _expected = payroll_of(tmp_path / "a.csv", range(ROWS))
    assert disburse_cli(capsys, path)[0] == 0
    fewer, _ = payroll_of(tmp_path / "b.csv", range(1, ROWS))
    code, _out, err = disburse_cli(capsys, fewer)
    assert_one_line_error(code, err, "(PayrollConflictError)")
    assert any(line.startswith(f"b.csv: not in the file: {payee(0)}: paid ") for line in err.splitlines()), err


@pytest.mark.parametrize("text", ['"150,50"', '"1.234,5"', '"1,234.50"', '"1 234"', "150 som", "$150", "1.234.5"])
def test_disburse_refuses_an_ambiguous_amount_with_its_row(capsys, world, tmp_path, text):
    """Finding 3: a decimal comma paid 100x."""
    path = write_rows(tmp_path / "p.csv", [f"{payee(0)},100", f"{payee(1)},{text}"])
    code, _out, err = pay(capsys, path, PAYROLL, "--yes")
    assert_one_line_error(code, err, "(PayrollRejectedError)", "1 of 2 rows refused")
    assert "p.csv: row 3: amount: " in err and "is ambiguous" in err and "--amount-format" in err
    assert balances(world.token, [payee(0), payee(1)]) == {payee(0): 0, payee(1): 0}


@pytest.mark.parametrize("fmt, text, paid", [("decimal-comma", '"150,50"', 15_050), ("decimal-comma", '"1.234,5"', 123_450),
                                             ("decimal-point", '"1,234.50"', 123_450), ("decimal-comma", "1 234 сом", 123_400)])
def test_disburse_with_an_explicit_amount_format_pays_what_was_written(capsys, world, tmp_path, fmt, text, paid):
    path = write_rows(tmp_path / "p.csv", [f"{payee(1)},{text}"])
    code, _out, err = pay(capsys, path, PAYROLL, "--yes", "--amount-format", fmt)
    assert code == 0, err
    assert balances(world.token, [payee(1)]) == {payee(1): paid}


@pytest.mark.parametrize("text, fragment", [("1" + "0" * 80, "more than the digital som can hold"), ("-150", "must be a positive amount"),
                                            ("1e80", "is not an amount of som")])
def test_disburse_refuses_an_amount_too_large_or_negative_as_an_amount(capsys, world, tmp_path, text, fragment):
    path = write_rows(tmp_path / "p.csv", [f"{payee(1)},{text}"])
    code, _out, err = pay(capsys, path, PAYROLL, "--yes")
    assert_one_line_error(code, err, "(PayrollRejectedError)")
    assert f"p.csv: row 2: amount: " in err and fragment in err


def test_disburse_prints_the_plan_before_paying(capsys, world, payroll):
    path, expected = payroll
    code, out, err = disburse_cli(capsys, path)
    assert code == 0, err
    largest = max(expected.values())
    lines = out.splitlines()
    assert lines[0] == f"payroll {PAYROLL} (payroll.csv) on chain {CHAIN_ID}, from the treasury {world.treasury}"
    assert lines[1].startswith(f"  rows 45, recipients 45, total {som_grouped(sum(expected.values()))} som, largest {som_grouped(largest)} som (row ")
    assert lines[2] == "  already paid under this payroll: 0 batch(es), 0 payments, 0.00 som"
    assert lines[3] == f"  to pay now: 3 batch(es) of at most 20, 45 payments, {som_grouped(sum(expected.values()))} som"


def test_disburse_dry_run_prints_the_plan_and_sends_nothing(capsys, world, payroll):
    path, expected = payroll
    block = world.w3.eth.block_number
    code, out, err = pay(capsys, path, PAYROLL, "--dry-run", "--batch-size", "20")
    assert code == 0, err
    assert "  to pay now: 3 batch(es) of at most 20, 45 payments" in out and out.splitlines()[-1] == "dry run: nothing was sent"
    assert world.w3.eth.block_number == block


def test_disburse_without_a_terminal_or_yes_sends_nothing(capsys, world, payroll):
    path, expected = payroll
    block = world.w3.eth.block_number
    code, out, err = pay(capsys, path, PAYROLL)
    assert_one_line_error(code, err, "not confirmed: pass --yes", "nothing was sent")
    assert "to pay now: 3 batch(es)" not in out or world.w3.eth.block_number == block
    assert world.w3.eth.block_number == block


@pytest.mark.parametrize("answer, paid", [("y\n", True), ("n\n", False), ("", False)], ids=["yes", "no", "eof"])
def test_disburse_on_a_terminal_asks_first(capsys, world, payroll, monkeypatch, answer, paid):
    path, expected = payroll
    monkeypatch.setattr("sys.stdin", io.StringIO(answer))
    monkeypatch.setattr("sys.stdin.isatty", lambda: True, raising=False)
    code, _out, err = pay(capsys, path, PAYROLL)
    assert "pay 45 payments in 1 batch(es)?" in err or "pay 45 payments in" in err
    assert (code == 0) == paid
    assert balances(world.token, list(expected)) == (expected if paid else dict.fromkeys(expected, 0))


def with_ceilings(monkeypatch, **ceilings):
    """The CLI's Cbdc with other payroll ceilings (brownie-config.yaml digital_currency.payroll)."""
    import dataclasses

    original = Cbdc.of_session.__func__

    def of_session(cls, session):
        cbdc = original(cls, session)
        cbdc.params = dataclasses.replace(cbdc.params, **ceilings)
        return cbdc

    monkeypatch.setattr(Cbdc, "of_session", classmethod(of_session))


def test_disburse_row_over_the_ceiling_is_refused_with_its_row(capsys, world, tmp_path, monkeypatch):
    with_ceilings(monkeypatch, payroll_max_row=150 * TYIYN)
    path = write_rows(tmp_path / "p.csv", [f"{payee(0)},100", f"{payee(1)},150.01"])
    code, _out, err = pay(capsys, path, PAYROLL, "--yes")
    assert_one_line_error(code, err, "(PayrollRejectedError)", "1 of 2 rows refused")
    assert f"p.csv: row 3: {payee(1)}: 150.01 som is over the ceiling of 150.00 som a row (digital_currency.payroll.max_row)" in err


def test_disburse_payroll_over_the_ceiling_is_refused(capsys, world, payroll, monkeypatch):
    path, expected = payroll
    with_ceilings(monkeypatch, payroll_max_total=sum(expected.values()) - 1)
    code, _out, err = disburse_cli(capsys, path)
    assert_one_line_error(code, err, "(PayrollCeilingError)", f"add up to {som_grouped(sum(expected.values()))} som", "max_total")
    assert balances(world.token, list(expected)) == dict.fromkeys(expected, 0)


def test_the_configured_ceilings_are_read_from_brownie_config(settings):
    params = settings.deployment("local").digital_currency
    assert (params.payroll_max_row, params.payroll_max_total) == (1_000_000 * TYIYN, 5_000_000_000 * TYIYN)


def test_disburse_of_200000_bad_rows_prints_the_first_20_and_a_count(capsys, world, tmp_path):
    path = write_rows(tmp_path / "bad.csv", ["0x1234,1"] * 200_000)
    code, _out, err = pay(capsys, path, PAYROLL, "--yes")
    assert_one_line_error(code, err, "(PayrollRejectedError)", "200000 of 200000 rows refused")
    lines = err.splitlines()
    assert len([line for line in lines if line.startswith("bad.csv: row ")]) == 20
    assert "bad.csv: ... and 199,980 more refused row(s) not listed" in lines


def test_disburse_interrupted_says_what_was_mined_and_how_to_resume(capsys, world, payroll, monkeypatch):
    """Finding 4: Ctrl-C printed only `Aborted.`."""
    path, expected = payroll
    CtrlC(monkeypatch, at=3)
    code, _out, err = disburse_cli(capsys, path)
    assert code == 130
    assert "Aborted." not in err and "Traceback" not in err
    assert "Interrupted: this run sent 2 transaction(s): 2 mined, 0 reverted, 0 pending" in err
    mined_lines = [line for line in err.splitlines() if line.startswith("  mined: payroll 2026-11-teachers: disburse batch ")]
    assert len(mined_lines) == 2 and all(" 0x" in line and "(block " in line for line in mined_lines)
    assert f"resume with: somstack cbdc disburse {path} --payroll {PAYROLL} --yes --batch-size 20" in err
    monkeypatch.undo()
    code, out, err = disburse_cli(capsys, path)
    assert code == 0, err
    assert reconciliation(out)[0] == "rows 45 in 3 batch(es): 1 paid now, 2 paid before (not paid again)"
    assert balances(world.token, list(expected)) == expected


def test_register_interrupted_before_sending_says_nothing_was_sent(capsys, world, monkeypatch):
    CtrlC(monkeypatch, at=1)
    code, _out, err = run(capsys, "cbdc", "register", outsider("ctrl-c"), "--tier", "1", "--kyc-hash", KYC, "--identity", IDENTITY)
    assert code == 130
    assert "Interrupted: this run sent 0 transaction(s)" in err and "  nothing was sent" in err
    assert "resume with: somstack cbdc register" in err


# --- A 10,000-row payroll: run, interrupted, the file edited, rerun; every balance checked ---


def test_disburse_10000_rows_interrupted_edited_and_rerun_pays_every_wallet_exactly(capsys, world, tmp_path, monkeypatch):
    expected = {payee(i): amount_of(i) for i in range(PAYEES)}
    path = write_rows(tmp_path / "payroll-2026-12.csv", [f"{a},{som(v)}" for a, v in expected.items()])
    ctrl_c = CtrlC(monkeypatch, at=31)  # 30 of 50 batches mined, then Ctrl-C
    code, _out, err = pay(capsys, path, "2026-12-all", "--yes")
    assert code == 130, err
    assert "Interrupted: this run sent 30 transaction(s): 30 mined, 0 reverted, 0 pending" in err
    monkeypatch.undo()
    assert ctrl_c.count == 31
    after_break = balances(world.token, list(expected))
    paid = [a for a, v in after_break.items() if v]
    unpaid = [a for a, v in after_break.items() if not v]
    assert len(paid) == 6_000 and all(after_break[a] == expected[a] for a in paid)

    # An edit of a paid row under the same payroll id: refused, nothing sent.
    edited = dict(expected)
    edited[paid[-1]] += TYIYN
    write_rows(path, [f"{a},{som(v)}" for a, v in edited.items()])
    block = world.w3.eth.block_number
    code, _out, err = pay(capsys, path, "2026-12-all", "--yes")
    assert_one_line_error(code, err, "(PayrollConflictError)", "1 row(s) differ", "30 paid batch(es)")
    assert world.w3.eth.block_number == block

    # A correction of an unpaid row, the rows reversed: the rest is paid, each wallet once.
    edited = dict(expected)
    edited[unpaid[0]] += 5 * TYIYN
    write_rows(path, [f"{a},{som(v)}" for a, v in reversed(list(edited.items()))])
    code, out, err = pay(capsys, path, "2026-12-all", "--yes")
    assert code == 0, err
    assert reconciliation(out)[0] == "rows 10,000 in 50 batch(es): 20 paid now, 30 paid before (not paid again)"
    assert balances(world.token, list(expected)) == edited
    assert treasury_balance(world) == TREASURY_FLOAT - sum(edited.values())


# --- register-many: a wallets file validated whole, batched per tier, resumable ---


def hex32(value):
    return "0x" + bytes(value).hex()


def wallet_rows(names, tier):
    return [f"{outsider(n)},{tier},{hex32(kyc_record(n))},{hex32(identity_of(n))}" for n in names]


def wallets_file(path, rows):
    path.write_text("address,tier,kyc_hash,identity_hash\n" + "".join(f"{r}\n" for r in rows))
    return path


def tiers_on_chain(world, addresses):
    return [r[0] for r in cbdc_ops._read_many(world.cbdc, "walletOf(address)", ["address"], [[a] for a in addresses],
                                              ["uint8", "bytes32", "address"])]


def test_register_many_registers_every_wallet_in_its_tier(capsys, world, tmp_path):
    basic, full = [f"rm-basic-{i}" for i in range(900)], [f"rm-full-{i}" for i in range(100)]
    path = wallets_file(tmp_path / "wallets.csv", wallet_rows(basic, 1) + wallet_rows(full, 3))
    code, out, err = run(capsys, "cbdc", "register-many", str(path), "--yes")
    assert code == 0, err
    assert "  to register now: 1,000 (tier 1: 900, tier 3: 100) in 7 transaction(s) of at most 150" in out
    assert out.splitlines()[-1].startswith("registered 1,000 wallets in 7 transaction(s), gas ")
    assert tiers_on_chain(world, [outsider(n) for n in basic + full]) == [1] * 900 + [3] * 100


def test_register_many_refuses_the_whole_file_listing_each_bad_row(capsys, world, tmp_path):
    good = wallet_rows([f"rm-ok-{i}" for i in range(5)], 1)
    rows = good + [
        f"0x1234,1,{hex32(kyc_record('a'))},{hex32(identity_of('a'))}",  # row 7
        f"{outsider('t0')},0,{hex32(kyc_record('t0'))},{hex32(identity_of('t0'))}",  # row 8
        f"{outsider('t5')},5,{hex32(kyc_record('t5'))},{hex32(identity_of('t5'))}",  # row 9
        f"{outsider('z')},1,0x{'00' * 32},{hex32(identity_of('z'))}",  # row 10
        f"{outsider('rm-ok-0')},1,{hex32(kyc_record('x'))},{hex32(identity_of('x'))}",  # row 11: duplicate address
        f"{outsider('twin')},2,{hex32(kyc_record('twin'))},{hex32(identity_of('rm-ok-1'))}",  # row 12: identity twice, capped
        f"{payee(3)},2,{hex32(kyc_record('p3'))},{hex32(identity_of('payee-3'))}",  # row 13: registered in tier 1
        f"{outsider('p7')},3,{hex32(kyc_record('p7'))},{hex32(identity_of('payee-7'))}",  # row 14: identity holds payee(7)
    ]
    path = wallets_file(tmp_path / "wallets.csv", rows)
    block = world.w3.eth.block_number
    code, out, err = run(capsys, "cbdc", "register-many", str(path), "--yes")
    assert_one_line_error(code, err, "(WalletsRejectedError)", "8 of 13 rows refused", "nothing was sent")
    refused = [int(line.split()[2].rstrip(":")) for line in err.splitlines() if line.startswith("wallets.csv: row ")]
    assert refused == [7, 8, 9, 10, 11, 12, 13, 14]
    assert "tier 5 is not an enabled tier" in err and f"{payee(3)} is registered already, in tier 1" in err
    assert f"already holds the capped wallet {payee(7)}" in err
    assert world.w3.eth.block_number == block and out == ""


def test_register_many_interrupted_then_rerun_registers_the_rest_once(capsys, world, tmp_path, monkeypatch):
    names = [f"rm-resume-{i}" for i in range(400)]
    path = wallets_file(tmp_path / "wallets.csv", wallet_rows(names, 1))
    CtrlC(monkeypatch, at=2)
    code, _out, err = run(capsys, "cbdc", "register-many", str(path), "--yes", "--batch-size", "100")
    assert code == 130
    assert "Interrupted: this run sent 1 transaction(s): 1 mined" in err and "registerWallets 1/4 (100 wallets, tier 1)" in err
    monkeypatch.undo()
    code, out, err = run(capsys, "cbdc", "register-many", str(path), "--yes", "--batch-size", "100")
    assert code == 0, err
    assert out.splitlines()[-1].startswith("registered 300 wallets in 3 transaction(s)") and out.splitlines()[-1].endswith("; 100 registered before")
    assert tiers_on_chain(world, [outsider(n) for n in names]) == [1] * 400


def test_register_many_dry_run_sends_nothing(capsys, world, tmp_path):
    path = wallets_file(tmp_path / "wallets.csv", wallet_rows(["rm-dry"], 1))
    block = world.w3.eth.block_number
    code, out, err = run(capsys, "cbdc", "register-many", str(path), "--dry-run")
    assert code == 0, err
    assert out.splitlines()[-1] == "dry run: nothing was sent" and world.w3.eth.block_number == block
