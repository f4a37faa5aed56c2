"""`somstack deploy` on bad input: one clear line on stderr, exit 1, no traceback, manifest untouched."""

from __future__ import annotations

import json

import pytest
from clihelp import assert_one_line_error, run
from eth_account import Account

from somstack.core.chain import free_port


@pytest.fixture
def testnet(node_factory, monkeypatch):
    """A local anvil posing as BSC testnet (chain 97), reachable as network `bsc-test`."""
    node = node_factory(chain_id=97)
    monkeypatch.setenv("BSC_TESTNET_RPC_URL", node.url)
    return node


def test_cli_deploy_without_key_fails_in_one_line(capsys, testnet, deployments_dir, monkeypatch):
    monkeypatch.delenv("DEPLOYER_PRIVATE_KEY", raising=False)
    code, _out, err = run(capsys, "deploy", "--network", "bsc-test")
    assert_one_line_error(code, err, "KeyLoadError", "DEPLOYER_PRIVATE_KEY is not set")
    assert not deployments_dir.exists()


def test_cli_deploy_with_malformed_key_fails_without_echoing_it(capsys, testnet, deployments_dir, monkeypatch):
    monkeypatch.setenv("DEPLOYER_PRIVATE_KEY", "0xdeadbeefcafe1234")
    code, _out, err = run(capsys, "deploy", "--network", "bsc-test")
    assert_one_line_error(code, err, "not a private key")
    assert "deadbeefcafe1234" not in err
    assert not deployments_dir.exists()


def test_cli_deploy_with_silent_rpc_fails_in_one_line(capsys, deployments_dir, monkeypatch):
    monkeypatch.setenv("BSC_TESTNET_RPC_URL", f"http://127.0.0.1:{free_port()}")
    code, _out, err = run(capsys, "deploy", "--network", "bsc-test")
    assert_one_line_error(code, err, "RpcUnavailableError", "does not answer")
    assert not deployments_dir.exists()


def test_cli_deploy_on_wrong_chain_fails_in_one_line(capsys, node_factory, deployments_dir, monkeypatch):
    node = node_factory(chain_id=31337)
    monkeypatch.setenv("BSC_TESTNET_RPC_URL", node.url)
    code, _out, err = run(capsys, "deploy", "--network", "bsc-test")
    assert_one_line_error(code, err, "ChainMismatchError", "expects chain id 97", "chain 31337")
    assert not deployments_dir.exists()


def test_cli_deploy_without_bnb_fails_and_leaves_manifest_as_it_was(capsys, testnet, deployments_dir, monkeypatch):
    deployments_dir.mkdir()
    earlier = deployments_dir / "97.json"
    earlier.write_text(json.dumps({"chainId": 97, "contracts": {}, "steps": {}, "complete": False}))
    before = earlier.read_bytes()
    monkeypatch.setenv("DEPLOYER_PRIVATE_KEY", Account.create().key.hex())
    code, _out, err = run(capsys, "deploy", "--network", "bsc-test")
    assert_one_line_error(code, err, "InsufficientFundsError", "0 BNB")
    assert earlier.read_bytes() == before


def test_cli_deploy_unknown_network_fails_in_one_line(capsys, deployments_dir):
    code, _out, err = run(capsys, "deploy", "--network", "bsc-moon")
    assert_one_line_error(code, err, "unknown network 'bsc-moon'")


def test_cli_mainnet_needs_confirmation(capsys, node_factory, deployments_dir, monkeypatch, funded_key):
    node = node_factory(chain_id=56)
    account, fund = funded_key
    fund(node)
    monkeypatch.setenv("BSC_MAINNET_RPC_URL", node.url)
    monkeypatch.setenv("DEPLOYER_PRIVATE_KEY", account.key.hex())
    code, _out, err = run(capsys, "deploy", "--network", "bsc-main")
    assert_one_line_error(code, err, "--yes-mainnet")
    assert not deployments_dir.exists()


def test_cli_deploy_with_key_deploys_then_reports_nothing_to_do(capsys, testnet, deployments_dir, monkeypatch, funded_key):
    account, fund = funded_key
    fund(testnet)
    monkeypatch.setenv("DEPLOYER_PRIVATE_KEY", account.key.hex())
    code, out, err = run(capsys, "deploy", "--network", "bsc-test")
    assert code == 0, err
    manifest = json.loads((deployments_dir / "97.json").read_text())
    assert manifest["complete"] and manifest["deployer"] == account.address
    assert manifest["contracts"]["Stablecoin"]["address"] in out
    assert account.key.hex()[2:] not in out + err
    code, _out, err = run(capsys, "deploy", "--network", "bsc-test")
    assert code == 0 and "nothing to do" in err


def test_cli_deploy_to_a_dev_chain_nobody_serves_refuses_a_throwaway_chain(capsys, deployments_dir, monkeypatch):
    port = free_port()
    monkeypatch.setenv("SOMSTACK_RPC_LOCAL", f"http://127.0.0.1:{port}")
    code, _out, err = run(capsys, "deploy", "--network", "local")
    assert_one_line_error(code, err, "RpcUnavailableError", f"start it with `somstack node --port {port}`", "--ephemeral")
    assert "starting a local anvil" not in err
    assert not list(deployments_dir.glob("*.json"))


def test_cli_deploy_takes_rpc(capsys, node_factory, deployments_dir):
    node = node_factory()
    code, out, err = run(capsys, "deploy", "--network", "local", "--rpc", node.url)
    assert code == 0, err
    assert "DigitalCurrency" in out and (deployments_dir / "31337.json").exists()


def test_cli_deploy_interrupted_says_what_was_mined_and_a_rerun_completes(capsys, node_factory, deployments_dir, monkeypatch):
    """Finding 4: Ctrl-C during a deploy printed only `Aborted.`."""
    from faults import CtrlC

    node = node_factory()
    monkeypatch.setenv("SOMSTACK_RPC_LOCAL", node.url)
    with pytest.MonkeyPatch.context() as patch:
        CtrlC(patch, at=4)
        code, _out, err = run(capsys, "deploy", "--network", "local")
    assert code == 130 and "Aborted." not in err and "Traceback" not in err
    assert "Interrupted: this run sent 3 transaction(s): 3 mined, 0 reverted, 0 pending" in err
    assert err.splitlines()[-1] == "resume with: somstack deploy --network local"
    code, out, err = run(capsys, "deploy", "--network", "local")
    assert code == 0, err
    assert "DigitalCurrency" in out
