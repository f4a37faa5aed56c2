"""`somstack compliance block|unblock` against a chain of the module's own: one sanction applied
to KGST and to the digital som, one line per token; a rerun completes what is missing and sends
nothing twice; a signer without COMPLIANCE gets a failed line per token and one error line.

One anvil per module, deployed with `somstack deploy --network local` (the `local` network
pointed at it through SOMSTACK_RPC_LOCAL); each test runs between an anvil snapshot and its
revert. COMPLIANCE is dev account 6, the stranger account 19."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from clihelp import assert_one_line_error, deployed_chain, run
from eth_utils import keccak, to_checksum_address
from web3 import Web3

from somstack.core.artifacts import Artifacts

CHAIN_ID = 31337
COMPLIANCE, STRANGER = 6, 19
TARGET = to_checksum_address(keccak(text="sanctioned-person")[-20:])
REASON = "UN-SC-2025/0042"
REASON_HASH = "0x" + "5a" * 32


@pytest.fixture(scope="module")
def world(settings, tmp_path_factory):
    """A fresh anvil as network `local`, deployed by the CLI."""
    with deployed_chain(settings, tmp_path_factory, CHAIN_ID) as (node, manifest):
        w3 = Web3(Web3.HTTPProvider(node.url))
        artifacts = Artifacts(settings.root)
        tokens = {
            "KGST": artifacts.get("Stablecoin").contract(w3, manifest.address("Stablecoin")),
            "digital som": artifacts.get("DigitalCurrency").contract(w3, manifest.address("DigitalCurrency")),
        }
        yield SimpleNamespace(w3=w3, tokens=tokens, accounts=w3.eth.accounts)


@pytest.fixture(autouse=True)
def isolated(world):
    """Each test starts from the freshly deployed state and leaves no trace."""
    snapshot = world.w3.provider.make_request("evm_snapshot", [])["result"]
    yield
    assert world.w3.provider.make_request("evm_revert", [snapshot])["result"] is True


def blocked(world, address=TARGET):
    """{token label: isBlocked(address)}."""
    return {label: token.functions.isBlocked(address).call() for label, token in world.tokens.items()}


def block_directly(world, label, address=TARGET):
    """Blocks `address` on one token only, by COMPLIANCE through web3 (as a partial earlier run)."""
    tx = world.tokens[label].functions.blockAccount(address, keccak(text="earlier")).transact({"from": world.accounts[COMPLIANCE]})
    assert world.w3.eth.wait_for_transaction_receipt(tx)["status"] == 1


def outcome_lines(out):
    """{token label: the rest of its line after the token address}."""
    lines = {}
    for line in out.splitlines():
        match = re.fullmatch(r"(KGST|digital som) +(0x[0-9a-fA-F]{40})  (.*)", line)
        if match:
            lines[match.group(1)] = (match.group(2), match.group(3))
    return lines


def tx_of(result):
    (tx,) = re.fullmatch(r".* \(tx (0x[0-9a-f]{64})\)", result).groups()
    return tx


# --- block ---


def test_block_blocks_on_both_tokens(capsys, world):
    code, _out, err = run(capsys, "compliance", "block", TARGET, "--reason", REASON)
    assert code == 0, err
    assert blocked(world) == {"KGST": True, "digital som": True}


def test_block_prints_one_line_per_token(capsys, world):
    code, out, err = run(capsys, "compliance", "block", TARGET.lower(), "--reason", REASON)
    assert code == 0, err
    lines = outcome_lines(out)
    assert len(out.splitlines()) == 2 and list(lines) == ["KGST", "digital som"]
    for label, (address, result) in lines.items():
        assert address == world.tokens[label].address
        assert re.fullmatch(r"blocked \(tx 0x[0-9a-f]{64}\)", result), result


def test_block_records_the_hash_of_the_reason_text(capsys, world):
    code, out, err = run(capsys, "compliance", "block", TARGET, "--reason", REASON)
    assert code == 0, err
    for label, (_address, result) in outcome_lines(out).items():
        receipt = world.w3.eth.get_transaction_receipt(tx_of(result))
        (event,) = world.tokens[label].events.AccountBlocked().process_receipt(receipt)
        assert (event["args"]["account"], event["args"]["reason"]) == (TARGET, keccak(text=REASON))


def test_block_records_a_bytes32_reason_as_given(capsys, world):
    code, out, err = run(capsys, "compliance", "block", TARGET, "--reason", REASON_HASH)
    assert code == 0, err
    for label, (_address, result) in outcome_lines(out).items():
        receipt = world.w3.eth.get_transaction_receipt(tx_of(result))
        (event,) = world.tokens[label].events.AccountBlocked().process_receipt(receipt)
        assert event["args"]["reason"] == bytes.fromhex("5a" * 32)


def test_block_again_says_already_blocked_on_both_and_sends_nothing(capsys, world):
    code, _out, err = run(capsys, "compliance", "block", TARGET, "--reason", REASON)
    assert code == 0, err
    block = world.w3.eth.block_number
    code, out, err = run(capsys, "compliance", "block", TARGET, "--reason", REASON)
    assert code == 0, err
    assert {label: result for label, (_a, result) in outcome_lines(out).items()} == {
        "KGST": "already blocked",
        "digital som": "already blocked",
    }
    assert world.w3.eth.block_number == block
    assert "Error" not in err


def test_block_after_a_partial_sanction_completes_it(capsys, world):
    block_directly(world, "KGST")
    code, out, err = run(capsys, "compliance", "block", TARGET, "--reason", REASON)
    assert code == 0, err
    results = {label: result for label, (_a, result) in outcome_lines(out).items()}
    assert results["KGST"] == "already blocked"
    assert results["digital som"].startswith("blocked (tx 0x")
    assert blocked(world) == {"KGST": True, "digital som": True}


# --- unblock ---


def test_unblock_reverses_a_block_on_both_tokens(capsys, world):
    code, _out, err = run(capsys, "compliance", "block", TARGET, "--reason", REASON)
    assert code == 0, err
    code, out, err = run(capsys, "compliance", "unblock", TARGET)
    assert code == 0, err
    assert blocked(world) == {"KGST": False, "digital som": False}
    results = {label: result for label, (_a, result) in outcome_lines(out).items()}
    assert list(results) == ["KGST", "digital som"]
    assert all(re.fullmatch(r"unblocked \(tx 0x[0-9a-f]{64}\)", r) for r in results.values()), results


def test_unblock_of_an_address_never_blocked_says_already_unblocked(capsys, world):
    block = world.w3.eth.block_number
    code, out, err = run(capsys, "compliance", "unblock", TARGET)
    assert code == 0, err
    assert {label: result for label, (_a, result) in outcome_lines(out).items()} == {
        "KGST": "already unblocked",
        "digital som": "already unblocked",
    }
    assert world.w3.eth.block_number == block


# --- refusals ---


def test_block_by_a_stranger_fails_on_each_token_in_one_line(capsys, world):
    stranger = world.accounts[STRANGER]
    code, out, err = run(capsys, "compliance", "block", TARGET, "--reason", REASON, "--from-index", str(STRANGER))
    assert_one_line_error(code, err, "(SomstackError) 2 of 2 token(s) not updated (see above); run the command again once fixed")
    results = {label: result for label, (_a, result) in outcome_lines(out).items()}
    assert results == {
        "KGST": f"failed: {stranger} lacks the COMPLIANCE role needed for Stablecoin.blockAccount",
        "digital som": f"failed: {stranger} lacks the COMPLIANCE role needed for DigitalCurrency.blockAccount",
    }
    assert blocked(world) == {"KGST": False, "digital som": False}


def test_unblock_by_a_stranger_fails_on_each_token_in_one_line(capsys, world):
    block_directly(world, "KGST")
    block_directly(world, "digital som")
    stranger = world.accounts[STRANGER]
    code, out, err = run(capsys, "compliance", "unblock", TARGET, "--from-index", str(STRANGER))
    assert_one_line_error(code, err, "(SomstackError) 2 of 2 token(s) not updated")
    results = {label: result for label, (_a, result) in outcome_lines(out).items()}
    assert results == {
        "KGST": f"failed: {stranger} lacks the COMPLIANCE role needed for Stablecoin.unblockAccount",
        "digital som": f"failed: {stranger} lacks the COMPLIANCE role needed for DigitalCurrency.unblockAccount",
    }
    assert blocked(world) == {"KGST": True, "digital som": True}


def test_block_by_a_stranger_after_a_partial_sanction_fails_only_where_needed(capsys, world):
    block_directly(world, "KGST")
    code, out, err = run(capsys, "compliance", "block", TARGET, "--reason", REASON, "--from-index", str(STRANGER))
    assert_one_line_error(code, err, "(SomstackError) 1 of 2 token(s) not updated")
    results = {label: result for label, (_a, result) in outcome_lines(out).items()}
    assert results["KGST"] == "already blocked"
    assert results["digital som"].startswith("failed: ")


@pytest.mark.parametrize(
    "address, fragment",
    [
        ("0x1234", "address: '0x1234' is not an address"),
        ("0x52908400098527886e0F7030069857D2E4169EE7", "has a wrong checksum"),
        ("0x" + "00" * 20, "the zero address"),
    ],
    ids=["malformed", "wrong-checksum", "zero"],
)
def test_block_of_a_bad_address_fails_in_one_line(capsys, world, address, fragment):
    block = world.w3.eth.block_number
    code, out, err = run(capsys, "compliance", "block", address, "--reason", REASON)
    assert_one_line_error(code, err, "(InputError)", fragment)
    assert out == "" and world.w3.eth.block_number == block


def test_block_with_a_blank_reason_fails_in_one_line(capsys, world):
    code, out, err = run(capsys, "compliance", "block", TARGET, "--reason", "  ")
    assert_one_line_error(code, err, "(InputError)", "--reason must name the sanctions record")
    assert out == "" and blocked(world) == {"KGST": False, "digital som": False}


def test_block_without_a_reason_is_a_usage_error(capsys, world):
    code, _out, err = run(capsys, "compliance", "block", TARGET)
    assert code == 2 and "Missing option '--reason'" in err and "Traceback" not in err
