"""`somstack reserve ...` against a chain of its own: the status table, the stress test, and the
sending commands with their one-line refusals (unknown asset, rate jump, missing role).

Each test deploys with `somstack deploy --network local`, the `local` network pointed at an
anvil of the test's own through SOMSTACK_RPC_LOCAL (brownie's chain keeps port 8545)."""

from __future__ import annotations

import json
import re

import pytest
from clihelp import assert_one_line_error, run
from web3 import Web3

from somstack.core.artifacts import Artifacts
from somstack.ops import reserve

UNIT = 10**18
REPORT = "0x" + "ab" * 32
SUPPLY = 1_000_000  # KGST minted by the `ready` fixture


def line_of(out, prefix):
    (line,) = [line for line in out.splitlines() if line.startswith(prefix)]
    return line


def row_of(out, asset):
    (line,) = [line for line in out.splitlines() if line.split()[:1] == [asset]]
    return line


def percent_in(line):
    return float(re.search(r"([\d,]+\.\d+)%", line).group(1).replace(",", ""))


@pytest.fixture
def chain(deployed_local, deployments_dir, monkeypatch, capsys, settings):
    """An anvil reachable as network `local`, as `somstack deploy` left it (deployed once per
    worker, reverted for each test: clihelp.DeployedChains)."""
    node, _out, _err = deployed_local()
    w3 = Web3(Web3.HTTPProvider(node.url))
    manifest = json.loads((deployments_dir / "31337.json").read_text())
    artifacts = Artifacts(settings.root)

    def contract(name, artifact):
        return artifacts.get(artifact).contract(w3, manifest["contracts"][name]["address"])

    return w3, contract


@pytest.fixture
def ready(chain, capsys):
    """The rate published (87.45), 500 BNB deposited, 50,000,000 som attested, 1,000,000 KGST minted."""
    w3, contract = chain
    for argv in (
        ("set-rate", "--rate", "87.45"),
        ("deposit", "--asset", "BNB", "--amount", "500"),
        ("attest", "--amount", "50000000", "--as-of", "now", "--report-hash", REPORT, "--uri", "ipfs://statement-1"),
    ):
        code, _out, err = run(capsys, "reserve", *argv)
        assert code == 0, err
    kgst, dev = contract("Stablecoin", "Stablecoin"), w3.eth.accounts
    # each mined before the next is estimated (MINTER_ADMIN -> MINTER, then the mint)
    for call, sender in ((kgst.functions.configureMinter(dev[1], SUPPLY * UNIT), dev[2]),
                         (kgst.functions.mint(dev[10], SUPPLY * UNIT, b"\x01" * 32), dev[1])):
        assert w3.eth.wait_for_transaction_receipt(call.transact({"from": sender}))["status"] == 1
    return chain


def advance(w3, seconds):
    w3.provider.make_request("evm_increaseTime", [seconds])
    w3.provider.make_request("evm_mine", [])


# --- status ---


def test_reserve_status_prints_every_asset_and_the_coverage(capsys, ready):
    code, out, err = run(capsys, "reserve", "status")
    assert code == 0, err
    for asset in ("BNB", "BTCB", "BSC-USD"):
        assert row_of(out, asset)
    # 500 BNB x 600 USD x 87.45 x (1 - 30%) = 18,364,500 som, plus 50,000,000 som attested
    assert "18,364,500.00" in row_of(out, "BNB")
    assert "68,364,500.00 som" in line_of(out, "reserve value")
    assert "1,000,000.00 KGST" in line_of(out, "KGST supply")
    assert percent_in(line_of(out, "coverage")) == 6836.45


def test_reserve_status_with_a_stale_price_counts_the_asset_as_zero(capsys, ready):
    """An unusable price does not refuse the valuation (issue 15, finding 4): the asset counts
    zero, the row says why, and the coverage is what the rest covers."""
    w3, _contract = ready
    advance(w3, 86_401)  # past every feed's 1-day heartbeat; the rate (2 days) is still fresh
    code, out, err = run(capsys, "reserve", "status")
    assert code == 0, err
    assert "price unusable, stale" in row_of(out, "BNB") and "counted as zero" in row_of(out, "BNB")
    assert "50,000,000.00 som" in line_of(out, "reserve value")  # the attested fiat alone
    assert percent_in(line_of(out, "coverage")) == 5000.00


# --- stress ---


def test_reserve_stress_bnb_drop_lowers_the_coverage(capsys, ready):
    code, out, err = run(capsys, "reserve", "stress", "--asset", "BNB", "--drop", "50")
    assert code == 0, err
    now, shocked = percent_in(line_of(out, "coverage now")), percent_in(line_of(out, "coverage if BNB falls 50%"))
    assert now == 6836.45 and shocked < now
    assert percent_in(row_of(out, "BTCB")) == now  # none held: a BTCB crash changes nothing
    assert percent_in(row_of(out, "BNB")) == shocked


def test_reserve_stress_of_an_unknown_asset_fails_listing_the_known_ones(capsys, chain):
    code, _out, err = run(capsys, "reserve", "stress", "--asset", "DOGE", "--drop", "50")
    assert_one_line_error(code, err, "UnknownAssetError", "DOGE", "known: BNB, BTCB, BSC-USD")


# --- sending ---


def test_reserve_set_rate_beyond_the_change_bound_fails_before_sending(capsys, ready):
    w3, contract = ready
    block = w3.eth.block_number
    code, _out, err = run(capsys, "reserve", "set-rate", "--rate", "92")  # +5.2% > 5%
    assert_one_line_error(code, err, "RateRejectedError", "5.20%", "5.00% allowed")
    assert w3.eth.block_number == block
    assert contract("ReserveVault", "ReserveVault").functions.rate().call()[0] == 87_45 * 10**16


def test_reserve_deposit_of_an_unknown_asset_fails_listing_the_known_ones(capsys, chain):
    code, _out, err = run(capsys, "reserve", "deposit", "--asset", "DOGE", "--amount", "5")
    assert_one_line_error(code, err, "UnknownAssetError", "unknown reserve asset 'DOGE'", "known: BNB, BTCB, BSC-USD")


@pytest.mark.parametrize(
    "argv, role",
    [
        (("set-rate", "--rate", "87.45"), "RATE_SETTER"),
        (("attest", "--amount", "1", "--as-of", "now", "--report-hash", REPORT, "--uri", "ipfs://x"), "ATTESTOR"),
    ],
)
def test_reserve_caller_without_the_role_fails_naming_it(capsys, chain, argv, role):
    w3, _contract = chain
    stranger = w3.eth.accounts[19]
    code, _out, err = run(capsys, "reserve", *argv, "--from-index", "19")
    assert_one_line_error(code, err, "MissingRoleError", stranger, f"lacks the {role} role")


def test_reserve_deposit_and_attest_change_the_status(capsys, ready):
    advance(ready[0], 1)  # the new attestation ("now") must be dated after the fixture's, even within its second
    code, _out, err = run(capsys, "reserve", "deposit", "--asset", "bnb", "--amount", "100")
    assert code == 0, err
    code, _out, err = run(capsys, "reserve", "attest", "--amount", "60000000", "--as-of", "now",
                          "--report-hash", "0x" + "cd" * 32, "--uri", "ipfs://statement-2")
    assert code == 0, err
    _code, out, _err = run(capsys, "reserve", "status")
    assert "600.0000" in row_of(out, "BNB")
    assert "60,000,000.00 som" in line_of(out, "attested off-chain")
    assert "0x" + "cd" * 32 in line_of(out, "attested off-chain")
    # 600 BNB -> 22,037,400 som, plus 60,000,000 attested
    assert "82,037,400.00 som" in line_of(out, "reserve value")


def test_reserve_deposit_of_a_bep20_approves_then_deposits(capsys, chain):
    w3, contract = chain
    usd = contract("Token:BSC-USD", "MockReserveToken")
    treasury = w3.eth.accounts[0]
    usd.functions.mint(treasury, 1_000 * UNIT).transact({"from": treasury})
    code, out, err = run(capsys, "reserve", "deposit", "--asset", "BSC-USD", "--amount", "1000.5")
    assert_one_line_error(code, err, "InsufficientFundsError", "holds 1,000 BSC-USD")
    code, out, err = run(capsys, "reserve", "deposit", "--asset", "BSC-USD", "--amount", "999.5")
    assert code == 0, err
    assert "approve" in err and "deposit 999.5 BSC-USD: mined" in out
    assert contract("ReserveVault", "ReserveVault").functions.asset(usd.address).call()[4] == 9995 * UNIT // 10


def test_reserve_revert_past_the_pre_checks_prints_the_decoded_custom_error(capsys, chain, monkeypatch):
    w3, _contract = chain
    stranger = w3.eth.accounts[19]
    monkeypatch.setattr(reserve, "require_role", lambda *_args: None)  # let the chain refuse it
    code, _out, err = run(capsys, "reserve", "set-rate", "--rate", "87.45", "--from-index", "19")
    assert_one_line_error(code, err, "(TransactionFailed)", f"AccessManagedUnauthorized(caller={stranger})")
