"""`somstack compliance import LIST.csv` against a chain of the module's own: a sanctions list
validated whole (every bad row named, nothing sent), applied to KGST and the digital som in
AccessManager multicall batches, idempotent on rerun, resumed after an interruption without
sending a mined batch again, and with --sync the accounts blocked but not listed unblocked.

One anvil per module, deployed with `somstack deploy --network local` (the `local` network
pointed at it through SOMSTACK_RPC_LOCAL); each test runs between an anvil snapshot and its
revert. COMPLIANCE is dev account 6, the stranger account 19. Lists are written by the tests
(`write_sanctions`), never committed."""

from __future__ import annotations

import json
import re
from types import SimpleNamespace

import pytest
from clihelp import assert_one_line_error, deployed_chain, reverted, run
from eth_utils import keccak, to_checksum_address
from faults import CtrlC, FlakySender, Interrupt
from support import logs
from web3 import Web3
from web3.exceptions import ContractCustomError

from somstack.core.artifacts import Artifacts
from somstack.core.chain import NodeSigner, Sender
from somstack.ops.sanctions import (
    Blocklists,
    Listing,
    apply_plan,
    plan_import,
    read_list,
)

CHAIN_ID = 31337
COMPLIANCE, STRANGER, HOLDER = 6, 19, 25
LISTED = 250
LABELS = ("KGST", "digital som")


# --- The list generator ---


def sanctioned(i):
    """The i-th sanctioned address: deterministic, with no key."""
    return to_checksum_address(keccak(text=f"somstack-sanctioned:{i}")[-20:])


def write_sanctions(path, indexes, source=False):
    """A valid list of the addresses `indexes` (reason 'UN-SC/<i>', a text to hash); returns its path."""
    header = "address,reason,source" if source else "address,reason"
    rows = [f"{sanctioned(i)},UN-SC/{i}" + (",OFAC SDN" if source else "") for i in indexes]
    return write_lines(path, [header, *rows])


def write_lines(path, lines):
    """Raw CSV lines, bad ones as they are."""
    path.write_text("".join(f"{line}\n" for line in lines))
    return path


# --- The chain of this module ---


@pytest.fixture(scope="module")
def world(settings, tmp_path_factory):
    """A fresh anvil as network `local`, deployed by the CLI."""
    with deployed_chain(settings, tmp_path_factory, CHAIN_ID) as (node, manifest):
        w3 = Web3(Web3.HTTPProvider(node.url, request_kwargs={"timeout": 60}))
        artifacts = Artifacts(settings.root)
        lists = Blocklists.of_manifest(w3, manifest, artifacts)
        yield SimpleNamespace(
            w3=w3,
            lists=lists,
            tokens={t.label: t for t in lists.tokens},
            accounts=[to_checksum_address(a) for a in w3.eth.accounts],
            decoder=artifacts.decoder,
        )


@pytest.fixture(autouse=True)
def isolated(world):
    """Each test starts from the freshly deployed state and leaves no trace."""
    with reverted(world.w3):
        yield


@pytest.fixture
def full_list(tmp_path):
    return write_sanctions(tmp_path / "sanctions.csv", range(LISTED))


def blocked_count(world, addresses):
    """{token label: how many of `addresses` it blocks}."""
    return {label: sum(world.lists.are_blocked(token, addresses)) for label, token in world.tokens.items()}


def block_directly(world, label, address):
    """Blocks `address` on one token, by COMPLIANCE through web3 (another operator, or a `compliance block`)."""
    contract = world.tokens[label].contract
    tx = contract.functions.blockAccount(address, keccak(text="earlier")).transact({"from": world.accounts[COMPLIANCE]})
    assert world.w3.eth.wait_for_transaction_receipt(tx)["status"] == 1


def report(out):
    """{token label: its report line after the token address, gas blanked out}."""
    lines = {}
    for line in out.splitlines():
        match = re.fullmatch(r"(KGST|digital som) +(0x[0-9a-fA-F]{40})  (.*)", line)
        if match:
            lines[match.group(1)] = re.sub(r"gas [\d,]+", "gas N", match.group(3))
    return lines


def import_cli(capsys, path, *options):
    return run(capsys, "compliance", "import", str(path), "--yes", *options)


# --- Validation ---


def test_import_names_every_bad_row_and_sends_nothing(capsys, world, tmp_path):
    good = sanctioned(1)
    path = write_lines(tmp_path / "bad.csv", [
        "address,reason",
        f"{good},UN-SC/1",
        "0x1234,UN-SC/2",                                      # row 3: malformed
        "0x" + "00" * 20 + ",UN-SC/3",                         # row 4: zero
        "0x52908400098527886e0F7030069857D2E4169EE7,UN-SC/4",  # row 5: wrong checksum
        f"{sanctioned(5)},  ",                                 # row 6: empty reason
        f"{good.lower()},UN-SC/6",                             # row 7: duplicate of row 2
        f"{sanctioned(7)},UN-SC/7,extra",                      # row 8: a third cell
        f"{sanctioned(8)},0x" + "00" * 32,                     # row 9: the zero hash
    ])
    block = world.w3.eth.block_number
    code, out, err = import_cli(capsys, path)
    assert_one_line_error(code, err, "(SanctionsListRejectedError) 7 of 8 rows refused (listed above); nothing was sent")
    problems = [line for line in err.splitlines() if line.startswith("bad.csv: ")]
    assert [p.split(":")[1].strip() for p in problems] == [f"row {n}" for n in (3, 4, 5, 6, 7, 8, 9)]
    assert "'0x1234' is not an address" in problems[0]
    assert "the zero address" in problems[1]
    assert "wrong checksum" in problems[2]
    assert "empty reason" in problems[3]
    assert f"{good} is listed already on row 2" in problems[4]
    assert "expected 2 cells (address,reason), found 3" in problems[5]
    assert "zero hash" in problems[6]
    assert out == "" and world.w3.eth.block_number == block


def test_import_of_a_large_list_with_one_bad_row_sends_nothing(capsys, world, tmp_path):
    path = write_sanctions(tmp_path / "sanctions.csv", range(LISTED))
    lines = path.read_text().splitlines()
    lines[200] = f"{sanctioned(199)[:-1]},UN-SC/199"  # row 201: the address lost a digit
    write_lines(path, lines)
    block = world.w3.eth.block_number
    code, _out, err = import_cli(capsys, path)
    assert_one_line_error(code, err, f"1 of {LISTED} rows refused")
    assert "sanctions.csv: row 201: address: " in err
    assert world.w3.eth.block_number == block


@pytest.mark.parametrize("header", ["address,amount", "reason,address,sources", "address", "wallet,reason"])
def test_import_with_a_wrong_header_fails_in_one_line(capsys, world, tmp_path, header):
    path = write_lines(tmp_path / "list.csv", [header, f"{sanctioned(1)},UN-SC/1"])
    code, out, err = import_cli(capsys, path)
    assert_one_line_error(code, err, "(SanctionsInputError) list.csv row 1: the header must name the columns address,reason")
    assert out == ""


def test_import_of_an_empty_file_fails_in_one_line(capsys, world, tmp_path):
    code, _out, err = import_cli(capsys, write_lines(tmp_path / "empty.csv", []))
    assert_one_line_error(code, err, "(SanctionsInputError)", "is empty")


def test_import_of_a_missing_file_fails_in_one_line(capsys, world, tmp_path):
    code, _out, err = import_cli(capsys, tmp_path / "nowhere.csv")
    assert_one_line_error(code, err, "(SanctionsInputError) cannot read")


def test_read_list_takes_columns_in_any_order_with_their_source(tmp_path):
    reason = "0x" + "5a" * 32
    path = write_lines(tmp_path / "list.csv", ["Source,Address,Reason", f"EU CFSP,{sanctioned(1).lower()},{reason}", f"OFAC,{sanctioned(2)},UN-SC/2"])
    assert read_list(path) == [
        Listing(2, sanctioned(1), bytes.fromhex("5a" * 32), "EU CFSP"),
        Listing(3, sanctioned(2), keccak(text="UN-SC/2"), "OFAC"),
    ]


# --- Applying ---


def test_import_blocks_every_listed_address_on_both_tokens(capsys, world, full_list):
    code, _out, err = import_cli(capsys, full_list)
    assert code == 0, err
    assert blocked_count(world, [sanctioned(i) for i in range(LISTED)]) == {"KGST": LISTED, "digital som": LISTED}


def test_import_sends_one_transaction_per_batch_of_each_token(capsys, world, full_list):
    block = world.w3.eth.block_number
    code, out, err = import_cli(capsys, full_list)
    assert code == 0, err
    assert world.w3.eth.block_number - block == 2 * 3  # 250 in batches of 100, on each token
    assert report(out) == {label: "added 250, already present 0, failed 0 (3 tx, gas N)" for label in LABELS}


def test_import_with_batch_size_250_sends_one_transaction_per_token(capsys, world, full_list):
    block = world.w3.eth.block_number
    code, out, err = import_cli(capsys, full_list, "--batch-size", "250")
    assert code == 0, err
    assert world.w3.eth.block_number - block == 2
    assert report(out)["KGST"] == "added 250, already present 0, failed 0 (1 tx, gas N)"


def test_import_batch_size_over_the_gas_cap_is_a_usage_error(capsys, world, full_list):
    code, _out, err = import_cli(capsys, full_list, "--batch-size", "251")
    assert code == 2 and "251 is not in the range 1<=x<=250" in err


def test_import_records_the_reason_of_each_row(capsys, world, tmp_path):
    path = write_lines(tmp_path / "list.csv", ["address,reason", f"{sanctioned(1)},UN-SC/1", f"{sanctioned(2)},0x{'5a' * 32}"])
    code, _out, err = import_cli(capsys, path)
    assert code == 0, err
    for token in world.lists.tokens:
        logs = token.contract.events.AccountBlocked.get_logs(from_block=0)
        assert {(e["args"]["account"], e["args"]["reason"]) for e in logs} == {
            (sanctioned(1), keccak(text="UN-SC/1")),
            (sanctioned(2), bytes.fromhex("5a" * 32)),
        }


def test_import_shows_a_progress_bar_on_stderr(capsys, world, full_list):
    code, out, err = import_cli(capsys, full_list)
    assert code == 0, err
    assert "applying" in err and "applying" not in out


def test_import_blocked_address_cannot_transfer(capsys, world, tmp_path):
    holder = world.accounts[HOLDER]
    code, _out, err = import_cli(capsys, write_lines(tmp_path / "list.csv", ["address,reason", f"{holder},UN-SC/holder"]))
    assert code == 0, err
    kgst = world.tokens["KGST"].contract
    with pytest.raises(ContractCustomError) as refused:
        kgst.functions.transfer(world.accounts[0], 0).call({"from": holder})
    assert str(world.decoder.decode(refused.value.data)) == f"BlockedAddress(account={holder})"


def test_import_completes_a_token_blocked_in_part(capsys, world, full_list):
    for i in range(30):
        block_directly(world, "KGST", sanctioned(i))
    code, out, err = import_cli(capsys, full_list)
    assert code == 0, err
    assert report(out) == {
        "KGST": "added 220, already present 30, failed 0 (3 tx, gas N)",
        "digital som": "added 250, already present 0, failed 0 (3 tx, gas N)",
    }
    assert blocked_count(world, [sanctioned(i) for i in range(LISTED)]) == {"KGST": LISTED, "digital som": LISTED}


def test_import_gas_per_address_in_a_batch_is_below_a_single_block(capsys, world, full_list):
    token = world.tokens["KGST"].contract
    tx = token.functions.blockAccount(sanctioned(LISTED + 1), keccak(text="single")).transact({"from": world.accounts[COMPLIANCE]})
    single = world.w3.eth.wait_for_transaction_receipt(tx)["gasUsed"]
    code, out, err = import_cli(capsys, full_list, "--batch-size", "250")
    assert code == 0, err
    (gas,) = re.search(r"KGST .*\(1 tx, gas ([\d,]+)\)", out).groups()
    assert int(gas.replace(",", "")) / LISTED < single * 0.8


# --- Rerun, dry run ---


def test_import_rerun_sends_nothing_and_reports_all_present(capsys, world, full_list):
    code, _out, err = import_cli(capsys, full_list)
    assert code == 0, err
    block = world.w3.eth.block_number
    code, out, err = import_cli(capsys, full_list)
    assert code == 0, err
    assert world.w3.eth.block_number == block
    assert report(out) == {label: "added 0, already present 250, failed 0" for label in LABELS}


def test_import_dry_run_prints_the_plan_and_sends_nothing(capsys, world, tmp_path):
    block_directly(world, "KGST", sanctioned(0))
    block_directly(world, "KGST", sanctioned(99))  # blocked, not listed
    path = write_sanctions(tmp_path / "list.csv", range(3), source=True)
    block = world.w3.eth.block_number
    code, out, err = import_cli(capsys, path, "--dry-run", "--sync")
    assert code == 0, err
    assert world.w3.eth.block_number == block
    assert report(out) == {
        "KGST": "would add 2, already present 1, would remove 1 (2 transaction(s))",
        "digital som": "would add 3, already present 0, would remove 0 (1 transaction(s))",
    }
    assert f"  + {sanctioned(1)}  row 3  OFAC SDN" in out.splitlines()
    assert f"  - {sanctioned(99)}  blocked on chain, not on the list" in out.splitlines()
    assert out.splitlines()[-1] == "dry run: nothing was sent"


# --- --sync ---


def test_import_sync_unblocks_the_address_dropped_from_the_list(capsys, world, full_list, tmp_path):
    code, _out, err = import_cli(capsys, full_list)
    assert code == 0, err
    shorter = write_sanctions(tmp_path / "shorter.csv", range(1, LISTED))
    code, out, err = import_cli(capsys, shorter, "--sync")
    assert code == 0, err
    assert report(out) == {label: "added 0, already present 249, removed 1, failed 0 (1 tx, gas N)" for label in LABELS}
    assert blocked_count(world, [sanctioned(0)]) == {"KGST": 0, "digital som": 0}
    assert blocked_count(world, [sanctioned(i) for i in range(1, LISTED)]) == {"KGST": 249, "digital som": 249}


def test_import_sync_unblocks_an_account_blocked_by_hand_and_keeps_one_unblocked_since(capsys, world, tmp_path):
    block_directly(world, "digital som", sanctioned(500))
    block_directly(world, "KGST", sanctioned(501))
    contract = world.tokens["KGST"].contract
    tx = contract.functions.unblockAccount(sanctioned(501)).transact({"from": world.accounts[COMPLIANCE]})
    world.w3.eth.wait_for_transaction_receipt(tx)
    code, out, err = import_cli(capsys, write_sanctions(tmp_path / "list.csv", range(2)), "--sync")
    assert code == 0, err
    assert report(out) == {
        "KGST": "added 2, already present 0, removed 0, failed 0 (1 tx, gas N)",
        "digital som": "added 2, already present 0, removed 1, failed 0 (2 tx, gas N)",
    }
    assert blocked_count(world, [sanctioned(500), sanctioned(501)]) == {"KGST": 0, "digital som": 0}


def test_import_without_sync_leaves_unlisted_blocks(capsys, world, tmp_path):
    block_directly(world, "KGST", sanctioned(500))
    code, out, err = import_cli(capsys, write_sanctions(tmp_path / "list.csv", range(2)))
    assert code == 0, err
    assert "removed" not in out
    assert blocked_count(world, [sanctioned(500)])["KGST"] == 1


# --- Refusals ---


@pytest.mark.parametrize("options", [(), ("--sync",), ("--dry-run",)], ids=["import", "sync", "dry-run"])
def test_import_by_a_stranger_is_refused_in_one_line_and_sends_nothing(capsys, world, full_list, options):
    stranger = world.accounts[STRANGER]
    block = world.w3.eth.block_number
    code, out, err = import_cli(capsys, full_list, "--from-index", str(STRANGER), *options)
    assert_one_line_error(code, err, f"(MissingRoleError) {stranger} lacks the COMPLIANCE role needed for Stablecoin.blockAccount")
    assert out == "" and world.w3.eth.block_number == block


# --- Governance routes ---


def test_import_proposed_to_a_safe_writes_its_batches_and_sends_nothing(capsys, world, full_list, tmp_path):
    safe = world.accounts[COMPLIANCE]  # stands for a Safe that holds COMPLIANCE
    batch_file = tmp_path / "proposal.json"
    block = world.w3.eth.block_number
    code, out, err = run(capsys, "governance", "propose", "--safe", safe, "--out", str(batch_file), "compliance", "import", str(full_list))
    assert code == 0, err
    assert world.w3.eth.block_number == block
    assert report(out) == {label: "to be added 250, already present 0, failed 0 (3 tx proposed, gas N)" for label in LABELS}
    transactions = json.loads(batch_file.read_text())["transactions"]
    assert [t["to"] for t in transactions] == [world.lists.manager.address] * 6


def test_import_under_a_schedule_route_is_refused_in_one_line(capsys, world, full_list):
    block = world.w3.eth.block_number
    code, _out, err = run(capsys, "governance", "schedule", "compliance", "import", str(full_list))
    assert_one_line_error(code, err, "(RouteError) compliance import blocks in AccessManager multicall batches, which cannot be scheduled")
    assert world.w3.eth.block_number == block


# --- Interrupted runs ---


def interrupted_import(world, path, fail_at, after_send):
    """An import by COMPLIANCE interrupted at its `fail_at`-th transaction (100 per batch)."""
    signer = NodeSigner(world.accounts[COMPLIANCE])
    flaky = FlakySender(world.w3, signer, world.decoder, fail_at=fail_at, after_send=after_send)
    plans = plan_import(world.lists, read_list(path), sync=False)
    with pytest.raises(Interrupt):
        apply_plan(world.lists, flaky, plans)
    if after_send:
        Sender(world.w3, signer, world.decoder).wait(flaky.unawaited, "the interrupted batch")


@pytest.mark.parametrize("after_send, mined", [(False, 1), (True, 2)], ids=["before-send", "sent-not-awaited"])
def test_import_interrupted_leaves_the_mined_batches(world, full_list, after_send, mined):
    interrupted_import(world, full_list, fail_at=2, after_send=after_send)
    assert blocked_count(world, [sanctioned(i) for i in range(LISTED)]) == {"KGST": 100 * mined, "digital som": 0}


@pytest.mark.parametrize("after_send, mined", [(False, 1), (True, 2)], ids=["before-send", "sent-not-awaited"])
def test_import_rerun_after_an_interruption_sends_only_the_rest(capsys, world, full_list, after_send, mined):
    interrupted_import(world, full_list, fail_at=2, after_send=after_send)
    block = world.w3.eth.block_number
    code, out, err = import_cli(capsys, full_list)
    assert code == 0, err
    rest = 3 - mined  # KGST batches of 100, 100, 50
    assert world.w3.eth.block_number - block == rest + 3
    assert report(out) == {
        "KGST": f"added {LISTED - 100 * mined}, already present {100 * mined}, failed 0 ({rest} tx, gas N)",
        "digital som": "added 250, already present 0, failed 0 (3 tx, gas N)",
    }
    assert blocked_count(world, [sanctioned(i) for i in range(LISTED)]) == {"KGST": LISTED, "digital som": LISTED}


def test_import_batch_mined_meanwhile_is_read_again_and_the_rest_sent(world, full_list):
    """Between the plan and its batch, another operator blocks one of the batch's addresses:
    the batch reverts whole, is read again and goes out without it."""
    plans = plan_import(world.lists, read_list(full_list), sync=False)
    block_directly(world, "KGST", sanctioned(5))
    sender = Sender(world.w3, NodeSigner(world.accounts[COMPLIANCE]), world.decoder)
    with logs.logged() as logged:
        results = apply_plan(world.lists, sender, plans)
    assert [(r.added, r.present, r.failed) for r in results] == [(249, 1, 0), (250, 0, 0)]
    assert "  1 account(s) of blockAccount batch 1/3 on KGST (100 accounts) changed meanwhile: sending the rest again" in logged
    assert blocked_count(world, [sanctioned(i) for i in range(LISTED)]) == {"KGST": LISTED, "digital som": LISTED}


# --- Operator safety (issue 16): asked first, and a Ctrl-C says what was done ---


def test_import_without_a_terminal_or_yes_sends_nothing(capsys, world, full_list):
    block = world.w3.eth.block_number
    code, _out, err = run(capsys, "compliance", "import", str(full_list))
    assert_one_line_error(code, err, "not confirmed: pass --yes", "nothing was sent")
    assert world.w3.eth.block_number == block


def test_import_interrupted_says_what_was_mined_and_a_rerun_completes(capsys, world, full_list, monkeypatch):
    CtrlC(monkeypatch, at=3)
    code, _out, err = import_cli(capsys, full_list)
    assert code == 130 and "Aborted." not in err and "Traceback" not in err
    assert "Interrupted: this run sent 2 transaction(s): 2 mined, 0 reverted, 0 pending" in err
    assert f"resume with: somstack compliance import {full_list} --yes" in err
    monkeypatch.undo()
    code, _out, err = import_cli(capsys, full_list)
    assert code == 0, err
    assert blocked_count(world, [sanctioned(i) for i in range(LISTED)]) == {"KGST": LISTED, "digital som": LISTED}


def test_import_of_200000_bad_rows_prints_the_first_20_and_a_count(capsys, world, tmp_path):
    path = write_lines(tmp_path / "bad.csv", ["address,reason", *["0x1234,UN"] * 200_000])
    code, _out, err = import_cli(capsys, path)
    assert_one_line_error(code, err, "(SanctionsListRejectedError) 200000 of 200000 rows refused")
    lines = err.splitlines()
    assert len([line for line in lines if line.startswith("bad.csv: row ")]) == 20
    assert "bad.csv: ... and 199,980 more refused row(s) not listed" in lines
