"""`somstack redeem request|list|pay|reject|cancel|export|settle` and the queue's line in
`somstack status`, against the module's own deployed chain (fixture `cli_chain`).

Dev accounts (brownie-config.yaml dev_holders): MINTER 1, MINTER_ADMIN 2, COMPLIANCE 6,
REDEEMER 24; holders 11 and 12; account 19 holds no role."""

from __future__ import annotations

import csv
import json

import pytest
from eth_utils import keccak

from clihelp import assert_one_line_error, run
from somstack.cli import main

MINTER, COMPLIANCE, REDEEMER, HOLDER, OTHER, STRANGER = 1, 6, 24, 11, 12, 19
UNIT = 10**18
SLA = 172_800


@pytest.fixture(scope="module")
def stocked(cli_chain):
    """Holders 11 and 12 with 1,000 KGST each (the reserve covers it)."""
    assert main(["reserve", "set-rate", "--rate", "87.5"]) == 0
    assert main(["reserve", "deposit", "--asset", "BNB", "--amount", "1000"]) == 0
    # BNB counts at most 60/40 of what the rest is worth (issue 15): som attested in banks beside it
    report = "0x" + "ab" * 32
    assert main(["reserve", "attest", "--amount", "50000000", "--as-of", "now", "--report-hash", report, "--uri", "ipfs://statement"]) == 0
    assert main(["minter", "set", cli_chain.accounts[MINTER], "--allowance", "1000000"]) == 0
    for i, holder in enumerate((HOLDER, OTHER)):
        assert main(["mint", cli_chain.accounts[holder], "1000", "--ref", f"deposit-redeem-{i}"]) == 0
    return cli_chain


@pytest.fixture
def chain(stocked, chain_snapshot):
    return chain_snapshot


@pytest.fixture
def queue(chain):
    return chain.contract("RedemptionQueue")


def ask(capsys, amount="300", holder=HOLDER, payout="bank-details-salted-1"):
    return run(capsys, "redeem", "request", amount, "--payout", payout, "--from-index", str(holder))


def direct(chain, holder, amount, payout):
    """A request sent straight from the node's account (faster than the CLI, which has its own tests)."""
    kgst, queue = chain.contract("Stablecoin"), chain.contract("RedemptionQueue")
    sender = {"from": chain.accounts[holder]}
    for call in (kgst.functions.approve(queue.address, amount * UNIT), queue.functions.requestRedemption(amount * UNIT, keccak(text=payout))):
        # each mined before the next is estimated (under load anvil may answer the hash first)
        assert chain.w3.eth.wait_for_transaction_receipt(call.transact({**sender, "gas": 300_000}))["status"] == 1


@pytest.fixture
def two(chain):
    """Requests 1 (holder 11, 300 KGST) and 2 (holder 12, 200 KGST)."""
    direct(chain, HOLDER, 300, "bank-details-salted-1")
    direct(chain, OTHER, 200, "bank-details-salted-2")
    return chain


def later(chain, seconds=SLA + 1):
    chain.w3.provider.make_request("evm_increaseTime", [seconds])
    chain.w3.provider.make_request("evm_mine", [])


def write(path, rows, header=("request_id", "bank_ref")):
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def ref(text):
    return "0x" + keccak(text=text).hex()


# --- request, list, status ---


def test_request_approves_and_queues(capsys, chain, queue):
    code, out, err = ask(capsys)
    assert code == 0, err
    assert "approve the redemption queue" in out and "request redemption of 300 KGST" in out
    assert (queue.functions.pendingCount().call(), queue.functions.pendingAmount().call()) == (1, 300 * UNIT)


def test_request_below_minimum_is_one_line(capsys, chain):
    code, _out, err = ask(capsys, "99.5")
    assert_one_line_error(code, err, "smallest redemption is 100 KGST")


def test_request_over_balance_is_one_line(capsys, chain):
    code, _out, err = ask(capsys, "5000")
    assert_one_line_error(code, err, "holds 1,000 KGST, cannot redeem 5,000 KGST")


def test_request_ambiguous_amount_refused(capsys, chain):
    code, _out, err = ask(capsys, "1,50.0")
    assert_one_line_error(code, err, "'1,50.0' is ambiguous")


def test_list_shows_requests(capsys, two):
    code, out, _err = run(capsys, "redeem", "list", "--status", "pending")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[:4] == ["id", "holder", "KGST", "status"] and len(lines) == 3
    assert two.accounts[OTHER] in lines[2] and "200" in lines[2]
    code, out, _err = run(capsys, "redeem", "list", "--status", "pending", "--json")
    listed = json.loads(out)
    assert code == 0 and len(listed) == 2 and listed[1]["holder"] == two.accounts[OTHER]
    assert listed[1]["amount"] == 200 * 10**18 and listed[1]["status"] == 1


def test_status_has_queue_line(capsys, two):
    code, out, _err = run(capsys, "status")
    line = next(l for l in out.splitlines() if l.startswith("redemption queue:"))
    assert code == 0 and "2 pending (500 KGST)" in line and "0 overdue" in line and "48 h service level" in line


def test_status_counts_overdue(capsys, two):
    later(two)
    code, out, _err = run(capsys, "status")
    assert "2 overdue" in next(l for l in out.splitlines() if l.startswith("redemption queue:"))


# --- pay, reject, cancel ---


def test_pay_burns(capsys, two, queue):
    kgst = two.contract("Stablecoin")
    supply = kgst.functions.totalSupply().call()
    code, out, err = run(capsys, "redeem", "pay", "1", "--bank-ref", "bank-payout-77", "--from-index", str(REDEEMER))
    assert code == 0, err
    assert "pay request 1" in out and kgst.functions.totalSupply().call() == supply - 300 * UNIT


def test_pay_can_be_proposed_to_the_desks_safe(capsys, two, tmp_path):
    """`redeem pay` is an operator command (marked so): a Safe holding REDEEMER gets it as a batch."""
    kgst, out = two.contract("Stablecoin"), tmp_path / "pay.json"
    supply, safe = kgst.functions.totalSupply().call(), two.accounts[REDEEMER]
    code, stdout, err = run(capsys, "governance", "propose", "--safe", safe, "--out", str(out), "redeem", "pay", "1", "--bank-ref", "bank-payout-78")
    assert code == 0, err
    assert "added to the Safe batch as transaction 1" in stdout and kgst.functions.totalSupply().call() == supply
    [tx] = json.loads(out.read_text())["transactions"]
    sent = two.w3.eth.send_transaction({"from": safe, "to": tx["to"], "data": tx["data"], "value": int(tx["value"])})
    assert two.w3.eth.wait_for_transaction_receipt(sent)["status"] == 1
    assert kgst.functions.totalSupply().call() == supply - 300 * UNIT


def test_pay_without_role_is_one_line(capsys, two):
    code, _out, err = run(capsys, "redeem", "pay", "1", "--bank-ref", "x", "--from-index", str(STRANGER))
    assert_one_line_error(code, err, "lacks the REDEEMER role")


def test_pay_twice_is_one_line(capsys, two):
    assert run(capsys, "redeem", "pay", "1", "--bank-ref", "x", "--from-index", str(REDEEMER))[0] == 0
    code, _out, err = run(capsys, "redeem", "pay", "1", "--bank-ref", "y", "--from-index", str(REDEEMER))
    assert_one_line_error(code, err, "request 1 is paid, not pending")


def test_pay_frozen_is_one_line(capsys, two):
    assert run(capsys, "block", two.accounts[HOLDER], "--reason", "sanctions-1")[0] == 0
    code, _out, err = run(capsys, "redeem", "pay", "1", "--bank-ref", "x", "--from-index", str(REDEEMER))
    assert_one_line_error(code, err, "is blocked, the escrow is frozen")


def test_reject_refunds(capsys, two, queue):
    kgst = two.contract("Stablecoin")
    code, out, err = run(capsys, "redeem", "reject", "2", "--reason", "1", "--from-index", str(REDEEMER))
    assert code == 0, err
    assert "bank details invalid" in out and kgst.functions.balanceOf(two.accounts[OTHER]).call() == 1_000 * UNIT


def test_reject_unknown_reason_is_one_line(capsys, two):
    code, _out, err = run(capsys, "redeem", "reject", "2", "--reason", "7", "--from-index", str(REDEEMER))
    assert_one_line_error(code, err, "--reason must be one of")


def test_cancel_before_deadline_is_one_line(capsys, two):
    code, _out, err = run(capsys, "redeem", "cancel", "1", "--from-index", str(HOLDER))
    assert_one_line_error(code, err, "may be cancelled only after its deadline")


def test_cancel_after_deadline_is_breach(capsys, two, queue):
    later(two)
    code, out, err = run(capsys, "redeem", "cancel", "1", "--from-index", str(HOLDER))
    assert code == 0, err
    assert "a breach" in out and queue.functions.breachCount().call() == 1


def test_cancel_by_other_is_one_line(capsys, two):
    later(two)
    code, _out, err = run(capsys, "redeem", "cancel", "1", "--from-index", str(OTHER))
    assert_one_line_error(code, err, "only its holder may cancel it")


# --- export and settle ---


def test_export_pending(capsys, two, tmp_path):
    out_file = tmp_path / "payouts.csv"
    code, out, _err = run(capsys, "redeem", "export", "--status", "pending", "--out", str(out_file))
    rows = list(csv.DictReader(out_file.open()))
    assert code == 0 and "2 pending" in out
    assert [(r["request_id"], r["amount"], r["payout_ref"]) for r in rows] == [
        ("1", "300", ref("bank-details-salted-1")), ("2", "200", ref("bank-details-salted-2"))
    ]


def settle(capsys, path, *extra):
    return run(capsys, "redeem", "settle", str(path), "--from-index", str(REDEEMER), *extra)


def test_settle_pays_confirmed(capsys, two, queue, tmp_path):
    done = write(tmp_path / "done.csv", [(1, ref("b1")), (2, ref("b2"))])
    code, out, err = settle(capsys, done, "--yes")
    assert code == 0, err
    assert "to pay: 2 request(s), 500 KGST in total, largest 300 KGST" in out
    assert [queue.functions.request(i).call()[3] for i in (1, 2)] == [2, 2]


def test_settle_rerun_pays_nothing_twice(capsys, two, queue, tmp_path):
    done = write(tmp_path / "done.csv", [(1, ref("b1")), (2, ref("b2"))])
    assert settle(capsys, done, "--yes")[0] == 0
    supply = two.contract("Stablecoin").functions.totalSupply().call()
    code, out, _err = settle(capsys, done, "--yes")
    assert code == 0 and "already paid (skipped): 2" in out and "nothing sent" in out
    assert two.contract("Stablecoin").functions.totalSupply().call() == supply


def test_settle_partial_rerun_pays_only_new(capsys, two, queue, tmp_path):
    assert settle(capsys, write(tmp_path / "a.csv", [(1, ref("b1"))]), "--yes")[0] == 0
    code, out, _err = settle(capsys, write(tmp_path / "b.csv", [(1, ref("b1")), (2, ref("b2"))]), "--yes")
    assert code == 0 and "to pay: 1 request(s)" in out and "already paid (skipped): 1" in out


def test_settle_bad_rows_refused_with_line_numbers(capsys, two, queue, tmp_path):
    done = write(tmp_path / "done.csv", [
        (1, ref("b1")), ("x", ref("b2")), (2, "0x00"), (1, ref("b3")), (9, ref("b9")), (2, ref("b2"), "150,0"),
    ], header=("request_id", "bank_ref", "amount"))
    code, _out, err = settle(capsys, done, "--yes")
    assert_one_line_error(code, err, "5 bad row(s), nothing sent", "line 3: request_id 'x'", "line 4: bank_ref '0x00'",
                          "line 5: request 1 already on line 2", "line 6: there is no request 9", "line 7: amount '150,0'")
    assert queue.functions.pendingCount().call() == 2


def test_settle_unicode_digit_request_id_is_a_refused_row_not_a_crash(capsys, two, queue, tmp_path):
    """`"²".isdigit()` is true and `int("²")` raises: the bank file's request id is ASCII digits only."""
    done = write(tmp_path / "done.csv", [("²", ref("b1")), ("１", ref("b2"))], header=("request_id", "bank_ref"))
    code, _out, err = settle(capsys, done, "--yes")
    assert_one_line_error(code, err, "2 bad row(s), nothing sent", "line 2: request_id '²'", "line 3: request_id '１'")
    assert queue.functions.pendingCount().call() == 2


def test_settle_wrong_amount_refused(capsys, two, queue, tmp_path):
    done = write(tmp_path / "done.csv", [(1, ref("b1"), "250")], header=("request_id", "bank_ref", "amount"))
    code, _out, err = settle(capsys, done, "--yes")
    assert_one_line_error(code, err, "line 2: request 1 is for 300 KGST, the file says 250")


def test_settle_other_bank_ref_for_paid_refused(capsys, two, tmp_path):
    assert settle(capsys, write(tmp_path / "a.csv", [(1, ref("b1"))]), "--yes")[0] == 0
    code, _out, err = settle(capsys, write(tmp_path / "b.csv", [(1, ref("other"))]), "--yes")
    assert_one_line_error(code, err, "line 2: request 1 was paid earlier under bank reference")


def test_settle_rejected_request_refused(capsys, two, tmp_path):
    assert run(capsys, "redeem", "reject", "2", "--reason", "1", "--from-index", str(REDEEMER))[0] == 0
    code, _out, err = settle(capsys, write(tmp_path / "a.csv", [(1, ref("b1")), (2, ref("b2"))]), "--yes")
    assert_one_line_error(code, err, "1 bad row(s)", "line 3: request 2 is rejected, not pending")


def test_settle_dry_run_sends_nothing(capsys, two, queue, tmp_path):
    code, out, _err = settle(capsys, write(tmp_path / "a.csv", [(1, ref("b1"))]), "--dry-run")
    assert code == 0 and "nothing sent (dry run)" in out and queue.functions.pendingCount().call() == 2


def test_settle_off_terminal_needs_yes(capsys, two, queue, tmp_path):
    code, _out, err = settle(capsys, write(tmp_path / "a.csv", [(1, ref("b1"))]))
    assert_one_line_error(code, err, "pass --yes")
    assert queue.functions.pendingCount().call() == 2


def test_settle_missing_column_is_one_line(capsys, two, tmp_path):
    code, _out, err = settle(capsys, write(tmp_path / "a.csv", [(1,)], header=("request_id",)), "--yes")
    assert_one_line_error(code, err, "missing bank_ref")


def test_settle_batches(capsys, chain, queue, tmp_path):
    for i in range(5):
        direct(chain, HOLDER, 100, f"salted-{i}")
    code, out, err = settle(capsys, write(tmp_path / "a.csv", [(i, ref(f"b{i}")) for i in range(1, 6)]), "--yes", "--batch-size", "2")
    assert code == 0, err
    assert out.count("mined in block") == 3 and queue.functions.pendingCount().call() == 0
