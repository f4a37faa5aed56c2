"""`somstack governance propose|schedule|execute` around operator commands: a Safe Transaction
Builder batch that the Safe can send as written (and that sends nothing when written), and
AccessManager delayed operations scheduled, refused before they are due, executed once.

The "Safe" of these tests is a dev account that holds the role (the batch's transactions are
sent from it, as the Safe would send them): MINTER_ADMIN 2, COMPLIANCE 6, RESERVE_MANAGER 18
(execution delay 60 s on local); account 19 holds no role."""

from __future__ import annotations

import json

import pytest
from clihelp import assert_one_line_error, run

from somstack.cli import main
from somstack.system.routes import (
    ProposalSender,
    Route,
    RouteError,
    SafeSigner,
    batch_checksum,
)

MINTER, MINTER_ADMIN, COMPLIANCE, RESERVE_MANAGER, STRANGER, HOLDER = 1, 2, 6, 18, 19, 11
UNIT = 10**18
DELAY = 60


@pytest.fixture(scope="module")
def funded(cli_chain):
    """The module's chain with 100 BNB in the reserve (nothing minted: all of it may leave)."""
    assert main(["reserve", "deposit", "--asset", "BNB", "--amount", "100"]) == 0
    return cli_chain


@pytest.fixture
def chain(funded, chain_snapshot):
    return chain_snapshot


def acct(chain, index):
    return chain.accounts[index]


def later(chain, seconds):
    chain.w3.provider.make_request("evm_increaseTime", [seconds])
    chain.w3.provider.make_request("evm_mine", [])


def send_batch(chain, batch):
    """Sends every transaction of a Safe batch from the Safe, as the Safe would; receipts."""
    safe = batch["meta"]["createdFromSafeAddress"]
    receipts = []
    for tx in batch["transactions"]:
        sent = chain.w3.eth.send_transaction({"from": safe, "to": tx["to"], "data": tx["data"], "value": int(tx["value"])})
        receipts.append(chain.w3.eth.wait_for_transaction_receipt(sent))
    return receipts


def propose(capsys, chain, out, safe_index, *command):
    return run(capsys, "governance", "propose", "--safe", acct(chain, safe_index), "--out", str(out), *command)


# --- The batch file ---


def test_the_checksum_matches_the_transaction_builders():
    """The value below was computed from this batch by an independent JavaScript implementation
    of the Transaction Builder's checksum (keys sorted, meta.name null, keccak-256), non-ASCII
    text included."""
    batch = {
        "version": "1.0", "chainId": "97", "createdAt": 1763683200000,
        "meta": {
            "name": "SomStack",
            "description": "1. set the minter allowance of 0x00000000000000000000000000000000000000a1 to 1,000 KGST\n"
                           "2. pause transfers on KGST — ЦБ",
            "txBuilderVersion": "1.17.1",
            "createdFromSafeAddress": "0x00000000000000000000000000000000000000Aa",
            "createdFromOwnerAddress": "",
        },
        "transactions": [
            {"to": "0x00000000000000000000000000000000000000b1", "value": "0", "data": "0x4e44d956",
             "contractMethod": None, "contractInputsValues": None},
            {"to": "0x00000000000000000000000000000000000000b2", "value": "5", "data": "0x",
             "contractMethod": None, "contractInputsValues": None},
        ],
    }
    assert batch_checksum(batch) == "0x734c0650e00d34b6efd0ac8f3ec5260c65df65ae177fe3bc7815e4281379edb2"
    assert batch_checksum({**batch, "meta": {**batch["meta"], "name": "another name"}}) == batch_checksum(batch)
    assert batch_checksum({**batch, "chainId": "56"}) != batch_checksum(batch)


def test_propose_writes_a_batch_the_safe_can_send_and_sends_nothing(capsys, chain, tmp_path):
    kgst = chain.contract("Stablecoin")
    out = tmp_path / "batch.json"
    safe = acct(chain, MINTER_ADMIN)
    nonce, block = chain.w3.eth.get_transaction_count(safe), chain.w3.eth.block_number
    code, stdout, err = propose(capsys, chain, out, MINTER_ADMIN, "minter", "set", acct(chain, MINTER), "--allowance", "5000")
    assert code == 0, err
    assert "added to the Safe batch as transaction 1" in stdout and "wrote" in stdout
    assert (chain.w3.eth.get_transaction_count(safe), chain.w3.eth.block_number) == (nonce, block)
    assert kgst.functions.minterAllowance(acct(chain, MINTER)).call() == 0
    batch = json.loads(out.read_text())
    assert batch["version"] == "1.0" and batch["chainId"] == "31337"
    assert batch["meta"]["createdFromSafeAddress"] == safe
    assert batch["meta"]["checksum"] == batch_checksum(batch)
    [tx] = batch["transactions"]
    assert tx["to"] == kgst.address and tx["value"] == "0"
    assert tx["contractMethod"] is None and tx["contractInputsValues"] is None
    assert [r["status"] for r in send_batch(chain, batch)] == [1]
    assert kgst.functions.minterAllowance(acct(chain, MINTER)).call() == 5000 * UNIT


def test_a_command_of_several_calls_becomes_one_batch(capsys, chain, tmp_path):
    out = tmp_path / "sanction.json"
    target = acct(chain, HOLDER)
    code, stdout, err = propose(capsys, chain, out, COMPLIANCE, "block", target, "--reason", "UN-7")
    assert code == 0, err
    assert stdout.count("blockAccount proposed") == 2
    batch = json.loads(out.read_text())
    assert len(batch["transactions"]) == 2
    send_batch(chain, batch)
    assert chain.contract("Stablecoin").functions.isBlocked(target).call()
    assert chain.contract("DigitalCurrency").functions.isBlocked(target).call()


def test_append_adds_to_the_batch_and_keeps_the_checksum_right(capsys, chain, tmp_path):
    out = tmp_path / "batch.json"
    assert propose(capsys, chain, out, MINTER_ADMIN, "minter", "set", acct(chain, MINTER), "--allowance", "1")[0] == 0
    code, _, err = run(capsys, "governance", "propose", "--safe", acct(chain, MINTER_ADMIN), "--out", str(out), "--append",
                       "minter", "set", acct(chain, HOLDER), "--allowance", "2")
    assert code == 0, err
    batch = json.loads(out.read_text())
    assert len(batch["transactions"]) == 2
    assert batch["meta"]["checksum"] == batch_checksum(batch)
    assert batch["meta"]["description"].splitlines()[1].startswith("2. set the minter allowance of")


def test_an_existing_file_is_not_overwritten(capsys, chain, tmp_path):
    out = tmp_path / "batch.json"
    out.write_text("{}")
    code, _, err = propose(capsys, chain, out, MINTER_ADMIN, "minter", "set", acct(chain, MINTER), "--allowance", "1")
    assert_one_line_error(code, err, "exists: pass --append")
    assert out.read_text() == "{}"


def test_append_to_another_safes_batch_is_refused(capsys, chain, tmp_path):
    out = tmp_path / "batch.json"
    assert propose(capsys, chain, out, MINTER_ADMIN, "minter", "set", acct(chain, MINTER), "--allowance", "1")[0] == 0
    before = out.read_text()
    code, _, err = run(capsys, "governance", "propose", "--safe", acct(chain, COMPLIANCE), "--out", str(out), "--append",
                       "block", acct(chain, HOLDER), "--reason", "x")
    assert_one_line_error(code, err, "is a batch for the Safe")
    assert out.read_text() == before


def test_a_call_the_safe_may_not_make_is_refused_and_nothing_written(capsys, chain, tmp_path):
    out = tmp_path / "batch.json"
    code, _, err = propose(capsys, chain, out, STRANGER, "minter", "set", acct(chain, MINTER), "--allowance", "1")
    assert_one_line_error(code, err, "lacks the MINTER_ADMIN role")
    assert not out.exists()


def test_a_call_that_would_revert_from_the_safe_is_refused_with_its_error(capsys, chain, tmp_path):
    assert run(capsys, "minter", "set", acct(chain, MINTER), "--allowance", "10")[0] == 0
    out = tmp_path / "batch.json"
    # No som rate is published on this chain: the vault refuses any mint.
    code, _, err = propose(capsys, chain, out, MINTER, "mint", acct(chain, HOLDER), "1", "--ref", "deposit-1")
    assert_one_line_error(code, err, "sent by the Safe", "ReserveVaultRateNotSet")
    assert not out.exists()


def test_direct_proposal_for_a_delayed_safe_is_refused(capsys, chain, tmp_path):
    out = tmp_path / "batch.json"
    code, _, err = propose(capsys, chain, out, RESERVE_MANAGER, "--via", "direct", "reserve", "withdraw", "--asset", "BNB",
                           "--amount", "1", "--to", acct(chain, HOLDER))
    assert_one_line_error(code, err, "execution delay of 60 s")
    assert not out.exists()


def test_nothing_to_do_means_nothing_to_propose(capsys, chain, tmp_path):
    assert run(capsys, "block", acct(chain, HOLDER), "--reason", "x")[0] == 0
    out = tmp_path / "batch.json"
    code, _, err = propose(capsys, chain, out, COMPLIANCE, "block", acct(chain, HOLDER), "--reason", "x")
    assert_one_line_error(code, err, "nothing to propose")
    assert not out.exists()


def test_a_command_that_follows_its_own_transactions_cannot_be_proposed(chain):
    """A payroll (cbdc disburse) or a deployment submits and follows its own transactions."""
    route = Route("propose", safe=acct(chain, MINTER_ADMIN))
    sender = ProposalSender(chain.w3, SafeSigner(route.safe), None, manager=chain.contract("AccessManager", "SomAccessManager"),
                            route=route)
    with pytest.raises(RouteError, match="a Safe batch cannot do"):
        sender.submit({"to": acct(chain, HOLDER), "data": "0x"}, "disburse batch 1")
    assert route.calls == []


@pytest.mark.parametrize("command", [["deploy"], ["verify-input"], ["node"]])
def test_only_operator_commands_run_under_governance(capsys, chain, tmp_path, command):
    code, _, err = propose(capsys, chain, tmp_path / "b.json", MINTER_ADMIN, *command)
    assert code == 2 and "is not an operator command" in err


@pytest.mark.parametrize("command", [["reserve", "status"], ["redeem", "request", "10", "--payout", "p"], ["seize", "show", "1"]])
def test_a_command_of_an_operator_group_not_marked_operator_is_refused(capsys, chain, tmp_path, command):
    out = tmp_path / "b.json"
    code, stdout, err = propose(capsys, chain, out, MINTER_ADMIN, *command)
    assert code == 2 and f"`{command[0]} {command[1]}` is not an operator command" in err and stdout == ""
    assert not out.exists()


def test_governance_cannot_nest(capsys, chain, tmp_path):
    code, _, err = run(capsys, "governance", "schedule", "governance", "execute", "pause")
    assert code == 2 and "cannot run another governance command" in err


# --- Delayed operations through the AccessManager ---


def withdraw(capsys, chain, route, amount="10", *extra):
    return run(capsys, "governance", route, "reserve", "withdraw", "--asset", "BNB", "--amount", amount,
               "--to", acct(chain, HOLDER), *extra)


def test_a_delayed_role_acting_directly_is_told_to_schedule(capsys, chain):
    code, _, err = run(capsys, "reserve", "withdraw", "--asset", "BNB", "--amount", "1", "--to", acct(chain, HOLDER))
    assert_one_line_error(code, err, "execution delay of 60 s", "somstack governance schedule")


@pytest.fixture
def wall_clock_at_chain_time(chain, monkeypatch):
    """The wall clock of somstack.system.routes reads the chain's time: a dev chain's block is then
    never mined early (chain time lags the wall clock after snapshots are reverted)."""
    import types

    monkeypatch.setattr("somstack.system.routes.time", types.SimpleNamespace(time=lambda: chain.w3.eth.get_block("latest")["timestamp"]))


def test_schedule_then_execute_once_due(capsys, chain, wall_clock_at_chain_time):
    holder = acct(chain, HOLDER)
    before = chain.w3.eth.get_balance(holder)
    code, out, err = withdraw(capsys, chain, "schedule")
    assert code == 0, err
    assert "scheduled as operation 0x" in out and "executable from" in out
    assert chain.w3.eth.get_balance(holder) == before
    code, _, err = withdraw(capsys, chain, "execute")
    assert_one_line_error(code, err, "is scheduled for", "execute it then")
    later(chain, DELAY + 1)
    code, out, err = withdraw(capsys, chain, "execute")
    assert code == 0, err
    assert "executed through the AccessManager" in out
    assert chain.w3.eth.get_balance(holder) == before + 10 * UNIT


def test_an_operation_executes_once(capsys, chain):
    assert withdraw(capsys, chain, "schedule")[0] == 0
    later(chain, DELAY + 1)
    assert withdraw(capsys, chain, "execute")[0] == 0
    code, _, err = withdraw(capsys, chain, "execute")
    assert_one_line_error(code, err, "is not scheduled")


def test_execute_with_other_arguments_than_scheduled_is_refused(capsys, chain):
    assert withdraw(capsys, chain, "schedule", "10")[0] == 0
    later(chain, DELAY + 1)
    code, _, err = withdraw(capsys, chain, "execute", "11")
    assert_one_line_error(code, err, "is not scheduled")


def test_scheduling_twice_reports_the_managers_refusal(capsys, chain):
    assert withdraw(capsys, chain, "schedule")[0] == 0
    code, _, err = withdraw(capsys, chain, "schedule")
    assert_one_line_error(code, err, "AccessManagerAlreadyScheduled")


def test_scheduling_a_call_without_delay_is_refused(capsys, chain):
    code, _, err = run(capsys, "governance", "schedule", "pause")
    assert_one_line_error(code, err, "no execution delay", "send it directly")


def test_a_withdrawal_the_vault_would_refuse_is_not_scheduled(capsys, chain):
    block = chain.w3.eth.block_number
    code, _, err = withdraw(capsys, chain, "schedule", "101")
    assert_one_line_error(code, err, "the vault holds 100 BNB, not 101")
    assert chain.w3.eth.block_number == block


def test_auto_proposal_schedules_then_executes_for_a_delayed_safe(capsys, chain, tmp_path):
    holder = acct(chain, HOLDER)
    before = chain.w3.eth.get_balance(holder)
    first = tmp_path / "schedule.json"
    code, out, err = propose(capsys, chain, first, RESERVE_MANAGER, "reserve", "withdraw", "--asset", "BNB", "--amount", "4",
                             "--to", holder)
    assert code == 0, err
    assert "as AccessManager.schedule" in out
    send_batch(chain, json.loads(first.read_text()))
    later(chain, DELAY + 1)
    second = tmp_path / "execute.json"
    code, out, err = propose(capsys, chain, second, RESERVE_MANAGER, "reserve", "withdraw", "--asset", "BNB", "--amount", "4",
                             "--to", holder)
    assert code == 0, err
    assert "as AccessManager.execute" in out
    send_batch(chain, json.loads(second.read_text()))
    assert chain.w3.eth.get_balance(holder) == before + 4 * UNIT


def test_a_payroll_cannot_be_proposed(capsys, chain, tmp_path):
    out = tmp_path / "b.json"
    code, _, err = propose(capsys, chain, out, MINTER_ADMIN, "cbdc", "disburse", str(tmp_path / "p.csv"), "--payroll", "2026-12-x")
    assert code == 2 and "a payroll cannot be proposed to a Safe" in err and "Traceback" not in err
    assert not out.exists()


def test_execute_on_a_dev_chain_mines_a_block_once_due_by_the_wall_clock(capsys, chain, monkeypatch):
    """A local chain's clock moves only with its blocks: an operation due by the wall clock is
    executed after one block is mined at the wall clock's time."""
    import types

    holder = acct(chain, HOLDER)
    before = chain.w3.eth.get_balance(holder)
    assert withdraw(capsys, chain, "schedule")[0] == 0
    now = chain.w3.eth.get_block("latest")["timestamp"]
    monkeypatch.setattr("somstack.system.routes.time", types.SimpleNamespace(time=lambda: now + DELAY + 5))
    code, out, err = withdraw(capsys, chain, "execute")
    assert code == 0, err
    assert chain.w3.eth.get_block("latest")["timestamp"] >= now + DELAY + 5
    assert chain.w3.eth.get_balance(holder) == before + 10 * UNIT


def test_execute_before_the_wall_clock_is_there_says_so(capsys, chain, wall_clock_at_chain_time):
    assert withdraw(capsys, chain, "schedule")[0] == 0
    code, _, err = withdraw(capsys, chain, "execute")
    assert_one_line_error(code, err, "execute it then", "this command mines one once the wall clock is there")
