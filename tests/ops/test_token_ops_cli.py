"""The day-to-day token commands: `somstack mint|burn|pause|unpause|block|unblock|minter set|
seize ...|rescue`, each against the module's own deployed chain (fixture `cli_chain`), each
checking the caller's role first and explaining a refusal in one line.

Dev accounts (brownie-config.yaml dev_holders): MINTER 1, MINTER_ADMIN 2, BURNER 3, PAUSER and
UNPAUSER 4, the guardian 5 (PAUSER only), COMPLIANCE 6, SEIZE_APPROVER 7, RESCUER 8, ISSUER 20;
account 19 holds no role."""

from __future__ import annotations

import json

import pytest
from eth_utils import keccak
from web3 import Web3

from clihelp import assert_one_line_error, run
from somstack.cli import main

MINTER, MINTER_ADMIN, BURNER, PAUSER, GUARDIAN, COMPLIANCE, APPROVER, RESCUER = 1, 2, 3, 4, 5, 6, 7, 8
ISSUER, STRANGER, HOLDER, RECOVERY = 20, 19, 11, 12
UNIT = 10**18


@pytest.fixture(scope="module")
def covered(cli_chain):
    """The module's chain with a reserve that covers minting: a som rate, 1,000 BNB and 50,000,000
    som attested in banks (BNB's cap is 60/40 of what everything else is worth: alone, it would
    count nothing)."""
    assert main(["reserve", "set-rate", "--rate", "87.5"]) == 0
    assert main(["reserve", "deposit", "--asset", "BNB", "--amount", "1000"]) == 0
    report = "0x" + "ab" * 32
    assert main(["reserve", "attest", "--amount", "50000000", "--as-of", "now", "--report-hash", report, "--uri", "ipfs://statement"]) == 0
    return cli_chain


@pytest.fixture
def chain(covered, chain_snapshot):
    return chain_snapshot


@pytest.fixture
def kgst(chain):
    return chain.contract("Stablecoin")


def account(chain, index):
    return chain.accounts[index]


def allow(capsys, chain, minter_index=MINTER, amount="1000000"):
    code, out, err = run(capsys, "minter", "set", account(chain, minter_index), "--allowance", amount)
    assert code == 0, err
    return out


def mint(capsys, chain, to_index, amount, ref="deposit-1", *extra):
    return run(capsys, "mint", account(chain, to_index), amount, "--ref", ref, *extra)


# --- Minter allowances ---


def test_minter_set_configures_the_allowance(capsys, chain, kgst):
    out = allow(capsys, chain, amount="2500.5")
    assert kgst.functions.minterAllowance(account(chain, MINTER)).call() == 25005 * UNIT // 10
    assert "set the minter allowance" in out and "mined in block" in out


def test_minter_set_zero_removes_the_minter(capsys, chain, kgst):
    allow(capsys, chain)
    allow(capsys, chain, amount="0")
    assert kgst.functions.minterAllowance(account(chain, MINTER)).call() == 0


def test_minter_set_to_the_same_allowance_sends_nothing(capsys, chain, kgst):
    allow(capsys, chain, amount="10")
    block = chain.w3.eth.block_number
    code, _, err = run(capsys, "minter", "set", account(chain, MINTER), "--allowance", "10")
    assert_one_line_error(code, err, "already has an allowance of 10 KGST")
    assert chain.w3.eth.block_number == block


def test_minter_set_by_a_stranger_is_refused_naming_the_role(capsys, chain):
    code, _, err = run(capsys, "minter", "set", account(chain, MINTER), "--allowance", "1", "--from-index", str(STRANGER))
    assert_one_line_error(code, err, "lacks the MINTER_ADMIN role", "Stablecoin.configureMinter")


def test_minter_set_warns_when_the_minter_lacks_the_minter_role(capsys, chain):
    code, _, err = run(capsys, "minter", "set", account(chain, HOLDER), "--allowance", "5")
    assert code == 0
    assert "does not hold the MINTER role yet" in err


# --- Mint and burn ---


def test_mint_credits_the_recipient_and_spends_the_allowance(capsys, chain, kgst):
    allow(capsys, chain, amount="1000")
    code, out, err = mint(capsys, chain, HOLDER, "250")
    assert code == 0, err
    assert kgst.functions.balanceOf(account(chain, HOLDER)).call() == 250 * UNIT
    assert kgst.functions.minterAllowance(account(chain, MINTER)).call() == 750 * UNIT
    assert kgst.functions.isDepositReferenceUsed(keccak(text="deposit-1")).call()
    assert "mint 250 KGST" in out


def test_mint_with_a_used_deposit_reference_is_refused_before_sending(capsys, chain, kgst):
    allow(capsys, chain)
    assert mint(capsys, chain, HOLDER, "1")[0] == 0
    block = chain.w3.eth.block_number
    code, _, err = mint(capsys, chain, HOLDER, "1")
    assert_one_line_error(code, err, "was used by an earlier mint")
    assert chain.w3.eth.block_number == block


def test_mint_over_the_allowance_names_the_allowance_and_the_fix(capsys, chain):
    allow(capsys, chain, amount="10")
    code, _, err = mint(capsys, chain, HOLDER, "10.5")
    assert_one_line_error(code, err, "may mint 10 KGST more, not 10.5 KGST", "somstack minter set")


def test_mint_by_an_account_without_minter_is_refused(capsys, chain):
    code, _, err = mint(capsys, chain, HOLDER, "1", "deposit-1", "--from-index", str(STRANGER))
    assert_one_line_error(code, err, "lacks the MINTER role", "Stablecoin.mint")


def test_mint_with_a_malformed_amount_is_one_line(capsys, chain):
    code, _, err = mint(capsys, chain, HOLDER, "ten")
    assert_one_line_error(code, err, "'ten' is not a number")


def test_mint_to_a_blocked_recipient_reports_the_decoded_error(capsys, chain):
    allow(capsys, chain)
    assert run(capsys, "block", account(chain, HOLDER), "--reason", "case")[0] == 0
    code, _, err = mint(capsys, chain, HOLDER, "1")
    assert_one_line_error(code, err, "BlockedAddress")


def test_mint_of_the_digital_som_to_an_unregistered_wallet_is_refused(capsys, chain):
    code, _, err = run(capsys, "mint", account(chain, HOLDER), "5", "--ref", "issue-1", "--token", "som")
    assert_one_line_error(code, err, "reverted", "DigitalCurrency")


def test_burn_takes_the_burners_own_balance(capsys, chain, kgst):
    allow(capsys, chain)
    assert mint(capsys, chain, BURNER, "40")[0] == 0
    code, out, err = run(capsys, "burn", "15", "--ref", "payout-1")
    assert code == 0, err
    assert kgst.functions.balanceOf(account(chain, BURNER)).call() == 25 * UNIT
    assert "burn 15 KGST" in out


def test_burn_beyond_the_balance_is_refused_before_sending(capsys, chain):
    code, _, err = run(capsys, "burn", "1", "--ref", "payout-1")
    assert_one_line_error(code, err, "holds 0 KGST, cannot burn 1 KGST")


# --- Pause ---


def test_pause_defaults_to_everything_on_every_token(capsys, chain, kgst):
    code, out, err = run(capsys, "pause")
    assert code == 0, err
    assert kgst.functions.pausedFlags().call() == 7
    assert chain.contract("DigitalCurrency").functions.pausedFlags().call() == 7
    assert out.count("pause transfers, mint, redeem") == 2


def test_pause_of_one_flag_on_one_token(capsys, chain, kgst):
    assert run(capsys, "pause", "--token", "kgst", "--what", "mint")[0] == 0
    assert kgst.functions.pausedFlags().call() == 2
    assert chain.contract("DigitalCurrency").functions.pausedFlags().call() == 0


def test_pausing_again_sends_nothing(capsys, chain):
    assert run(capsys, "pause", "--what", "transfers")[0] == 0
    block = chain.w3.eth.block_number
    code, out, _ = run(capsys, "pause", "--what", "transfers")
    assert code == 0 and out.count("already paused for transfers") == 2
    assert chain.w3.eth.block_number == block


def test_unpause_lifts_only_what_is_named(capsys, chain, kgst):
    assert run(capsys, "pause")[0] == 0
    assert run(capsys, "unpause", "--what", "transfers,redeem")[0] == 0
    assert kgst.functions.pausedFlags().call() == 2


def test_the_guardian_may_pause_but_not_unpause(capsys, chain, kgst):
    assert run(capsys, "pause", "--from-index", str(GUARDIAN))[0] == 0
    code, _, err = run(capsys, "unpause", "--from-index", str(GUARDIAN))
    assert_one_line_error(code, err, "lacks the UNPAUSER role")
    assert kgst.functions.pausedFlags().call() == 7


def test_pause_checks_every_tokens_role_before_sending_any(capsys, chain, kgst):
    block = chain.w3.eth.block_number
    code, _, err = run(capsys, "pause", "--from-index", str(STRANGER))
    assert_one_line_error(code, err, "lacks the PAUSER role")
    assert chain.w3.eth.block_number == block


def test_pause_with_an_unknown_flag_is_one_line(capsys, chain):
    code, _, err = run(capsys, "pause", "--what", "minting")
    assert_one_line_error(code, err, "--what must be transfers, mint, redeem or all")


# --- Block, seizure ---


def test_block_and_unblock_act_on_every_token(capsys, chain, kgst):
    target = account(chain, HOLDER)
    assert run(capsys, "block", target, "--reason", "UN-1")[0] == 0
    assert kgst.functions.isBlocked(target).call()
    assert chain.contract("DigitalCurrency").functions.isBlocked(target).call()
    assert run(capsys, "unblock", target)[0] == 0
    assert not kgst.functions.isBlocked(target).call()


def seize_setup(capsys, chain, amount="100"):
    allow(capsys, chain)
    assert mint(capsys, chain, HOLDER, amount)[0] == 0
    assert run(capsys, "block", account(chain, HOLDER), "--reason", "court-order")[0] == 0


def propose(capsys, chain, amount="60"):
    return run(capsys, "seize", "propose", account(chain, HOLDER), "--to", account(chain, RECOVERY),
               "--amount", amount, "--case", "case-2026-17", "--evidence", "bundle-9")


def test_seizure_is_proposed_then_executed_by_another_officer(capsys, chain, kgst):
    seize_setup(capsys, chain)
    code, out, err = propose(capsys, chain)
    assert code == 0, err
    assert "seizure id 1" in out
    code, out, err = run(capsys, "seize", "execute", "1")
    assert code == 0, err
    assert kgst.functions.balanceOf(account(chain, HOLDER)).call() == 40 * UNIT
    assert kgst.functions.balanceOf(account(chain, RECOVERY)).call() == 60 * UNIT
    code, out, _ = run(capsys, "seize", "show", "1")
    assert code == 0 and "executed" in out.splitlines()[0]
    assert f"0x{keccak(text='case-2026-17').hex()}" in out
    code, out, _ = run(capsys, "seize", "show", "1", "--json")
    shown = json.loads(out)
    assert code == 0 and shown["status"] == "executed" and shown["amount"] == 60 * UNIT
    assert shown["account"] == account(chain, HOLDER) and shown["case"] == f"0x{keccak(text='case-2026-17').hex()}"


def test_seizure_of_an_unblocked_account_is_refused(capsys, chain):
    allow(capsys, chain)
    assert mint(capsys, chain, HOLDER, "10")[0] == 0
    code, _, err = propose(capsys, chain, "5")
    assert_one_line_error(code, err, "is not blocked on KGST", "somstack block")


def test_seizure_beyond_the_balance_is_refused(capsys, chain):
    seize_setup(capsys, chain, "10")
    code, _, err = propose(capsys, chain, "11")
    assert_one_line_error(code, err, "holds 10 KGST, less than the 11 KGST to seize")


def test_the_proposer_cannot_execute_its_own_seizure(capsys, chain):
    seize_setup(capsys, chain)
    assert propose(capsys, chain)[0] == 0
    code, _, err = run(capsys, "seize", "execute", "1", "--from-index", str(COMPLIANCE))
    assert_one_line_error(code, err, "proposed seizure 1: another officer must approve it")


def test_a_rejected_seizure_cannot_be_executed(capsys, chain, kgst):
    seize_setup(capsys, chain)
    assert propose(capsys, chain)[0] == 0
    assert run(capsys, "seize", "reject", "1")[0] == 0
    code, _, err = run(capsys, "seize", "execute", "1")
    assert_one_line_error(code, err, "seizure 1 on KGST is rejected, not proposed")
    assert kgst.functions.balanceOf(account(chain, HOLDER)).call() == 100 * UNIT


def test_show_of_an_unknown_seizure_is_one_line(capsys, chain):
    code, _, err = run(capsys, "seize", "show", "9")
    assert_one_line_error(code, err, "KGST has no seizure 9")


# --- Rescue ---


def test_rescue_returns_a_token_sent_to_kgst_by_mistake(capsys, chain, kgst):
    btcb = chain.contract("Token:BTCB", "MockReserveToken")
    owner = account(chain, HOLDER)
    tx = btcb.functions.mint(owner, 3 * 10**18).transact({"from": chain.accounts[0]})
    chain.w3.eth.wait_for_transaction_receipt(tx)
    tx = btcb.functions.transfer(kgst.address, 3 * 10**18).transact({"from": owner})
    chain.w3.eth.wait_for_transaction_receipt(tx)
    code, out, err = run(capsys, "rescue", btcb.address, "2.5", "--to", owner)
    assert code == 0, err
    assert btcb.functions.balanceOf(owner).call() == 25 * 10**17
    assert btcb.functions.balanceOf(kgst.address).call() == 5 * 10**17


def test_rescue_of_more_than_the_contract_holds_is_refused(capsys, chain):
    btcb = chain.contract("Token:BTCB", "MockReserveToken")
    code, _, err = run(capsys, "rescue", btcb.address, "1", "--to", account(chain, HOLDER))
    assert_one_line_error(code, err, "holds 0 of")


def test_rescue_of_an_address_without_code_is_refused(capsys, chain):
    code, _, err = run(capsys, "rescue", account(chain, HOLDER), "1", "--to", account(chain, HOLDER))
    assert_one_line_error(code, err, "no contract at")


# --- Operator safety (issue 16): refusals in one line, before any call ---


@pytest.mark.parametrize("allowance, fragment", [("1e80", "is too large for the contract"), ("-5", "is negative")])
def test_minter_set_refuses_an_impossible_allowance_in_one_line(capsys, chain, allowance, fragment):
    block = chain.w3.eth.block_number
    code, _, err = run(capsys, "minter", "set", account(chain, MINTER), "--allowance", allowance)
    assert_one_line_error(code, err, fragment)
    assert "MismatchedABI" not in err and chain.w3.eth.block_number == block


def test_seize_execute_of_an_unknown_id_says_it_does_not_exist(capsys, chain):
    code, _, err = run(capsys, "seize", "execute", "99")
    assert_one_line_error(code, err, "seizure 99 does not exist on KGST")


def test_a_keystore_without_a_terminal_or_password_file_is_one_line(capsys, chain, tmp_path, monkeypatch):
    keystore = tmp_path / "key.json"
    keystore.write_text("{}")
    monkeypatch.setattr("sys.stdin.isatty", lambda: False, raising=False)
    code, _, err = run(capsys, "minter", "set", account(chain, MINTER), "--allowance", "1", "--keystore", str(keystore))
    assert_one_line_error(code, err, "no terminal to ask it on", "--password-file")


def test_verify_input_with_rpc_refuses_a_chain_without_the_deployment(capsys, chain, node_factory, tmp_path):
    other = node_factory()
    code, _, err = run(capsys, "verify-input", "--network", "local", "--rpc", other.url, "--out", str(tmp_path / "v"))
    assert_one_line_error(code, err, "(ManifestError)", "AccessManager", f"no code at {other.url}")
    assert not (tmp_path / "v").exists()


def test_a_manifest_refuses_another_chain_with_code_at_the_same_addresses(capsys, chain, node_factory):
    """A manifest belongs to one chain (its block 0): another anvil given the same code at the
    same addresses is not the deployment."""
    other = node_factory()
    w3 = Web3(Web3.HTTPProvider(other.url))
    for record in chain.manifest.contracts.values():
        address = record["address"]
        w3.provider.make_request("anvil_setCode", [address, Web3.to_hex(chain.w3.eth.get_code(address))])
    code, _, err = run(capsys, "minter", "set", account(chain, MINTER), "--allowance", "1", "--rpc", other.url)
    assert_one_line_error(code, err, "(ManifestError)", "31337.json belongs to the chain whose block 0 is", "not to this one")
    assert w3.eth.block_number == 0


def test_the_manifest_records_the_chains_genesis(chain):
    assert chain.manifest.data["genesis"] == Web3.to_hex(chain.w3.eth.get_block(0)["hash"])


def test_mint_of_a_negative_amount_is_refused_as_an_amount(capsys, chain):
    code, _, err = run(capsys, "mint", account(chain, HOLDER), "-5", "--ref", "deposit-neg")
    assert_one_line_error(code, err, "'-5' is negative")
    assert "No such option" not in err


@pytest.mark.parametrize("amount", ["150,50", "1,000", "1 000", "١٢"])
def test_mint_of_an_ambiguous_amount_is_refused_and_mints_nothing(capsys, chain, amount):
    """The payroll's decimal comma (issue 16, finding 3) on KGST's own amounts: `150,50` was read
    as 15,050 by the shared amount parser of mint, burn, allowances and reserve deposits."""
    allow(capsys, chain)
    token = chain.contract("Stablecoin")
    supply = token.functions.totalSupply().call()
    code, _, err = mint(capsys, chain, HOLDER, amount)
    assert_one_line_error(code, err, "(InputError)", f"'{amount}' is ambiguous")
    assert token.functions.totalSupply().call() == supply
