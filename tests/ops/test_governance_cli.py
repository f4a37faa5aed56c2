"""Governance from the operator's side: `somstack roles` reads the role matrix from the chain
and flags the deployer; with SOMSTACK_GOVERNANCE set, the deploy plan hands the AccessManager's
admin to it and the deployer renounces."""

from __future__ import annotations

import json

import pytest
from clihelp import run
from web3 import Web3

from somstack.core.artifacts import Artifacts

GOVERNANCE = Web3.to_checksum_address("0x000000000000000000000000000000000000beef")


def _deploy(capsys, deployed_local, monkeypatch, governance=None):
    """The chain as `somstack deploy --network local` left it (with SOMSTACK_GOVERNANCE: handed
    over), deployed once per worker and reverted for each test (clihelp.DeployedChains)."""
    node, _out, _err = deployed_local(governance)
    return Web3(Web3.HTTPProvider(node.url))


def _manager(w3, deployments_dir, settings):
    manifest = json.loads((deployments_dir / "31337.json").read_text())
    return Artifacts(settings.root).get("SomAccessManager").contract(w3, manifest["contracts"]["AccessManager"]["address"]), manifest


def test_roles_flags_the_deployer_still_holding_admin(capsys, deployed_local, deployments_dir, monkeypatch):
    w3 = _deploy(capsys, deployed_local, monkeypatch)
    code, out, err = run(capsys, "roles", "--network", "local")
    assert code == 0, err
    deployer = w3.eth.accounts[0]
    assert f"WARNING: the deployer {deployer} still holds ADMIN" in out
    admin_line = next(line for line in out.splitlines() if line.split()[:2] == ["0", "ADMIN"])
    assert f"{deployer} [DEPLOYER]" in admin_line


def test_roles_lists_members_delays_and_guarded_functions(capsys, deployed_local, deployments_dir, monkeypatch):
    w3 = _deploy(capsys, deployed_local, monkeypatch)
    code, out, _err = run(capsys, "roles", "--network", "local")
    lines = {line.split()[1]: line for line in out.splitlines() if line[:4].strip().isdigit()}
    assert w3.eth.accounts[9] + " (delay 60 s)" in lines["UPGRADER"]
    assert "Stablecoin.upgradeToAndCall" in lines["UPGRADER"] and "DigitalCurrency.upgradeToAndCall" in lines["UPGRADER"]
    assert w3.eth.accounts[21] in lines["TREASURY"] and "DigitalCurrency.disburse" in lines["TREASURY"]
    assert "DigitalCurrency.setTier" in lines["ADMIN"]
    # AccessManager applies the raised admin delay after its 5-day setback: it reads 0 until then.
    assert "admin delay of DigitalCurrency: 0 s" in out
    assert "WARNING: DigitalCurrency" not in out and "on chain" not in out


def test_roles_shows_the_admin_delays_once_the_setback_has_passed(capsys, deployed_local, deployments_dir, monkeypatch):
    w3 = _deploy(capsys, deployed_local, monkeypatch)
    w3.provider.make_request("evm_increaseTime", [5 * 86_400 + 1])  # AccessManager.minSetback()
    w3.provider.make_request("evm_mine", [])
    code, out, _err = run(capsys, "roles", "--network", "local")
    assert code == 0
    for contract in ("Stablecoin", "ReserveVault", "DigitalCurrency"):
        assert f"admin delay of {contract}: 60 s" in out  # brownie-config.yaml overrides.local.upgrade_delay


def test_deploy_hands_admin_to_governance_and_the_deployer_renounces(capsys, deployed_local, deployments_dir, monkeypatch, settings):
    w3 = _deploy(capsys, deployed_local, monkeypatch, GOVERNANCE)
    manager, manifest = _manager(w3, deployments_dir, settings)
    assert tuple(manager.functions.hasRole(0, GOVERNANCE).call()) == (True, 0)
    assert manager.functions.hasRole(0, w3.eth.accounts[0]).call()[0] is False
    assert manifest["governance"] == Web3.to_checksum_address(GOVERNANCE) and manifest["complete"] is True


def test_roles_after_handover_says_the_deployer_holds_no_role(capsys, deployed_local, deployments_dir, monkeypatch):
    _deploy(capsys, deployed_local, monkeypatch, GOVERNANCE)
    code, out, _err = run(capsys, "roles", "--network", "local")
    assert code == 0
    assert "the deployer holds no role" in out
    admin_line = next(line for line in out.splitlines() if line.split()[:2] == ["0", "ADMIN"])
    assert Web3.to_checksum_address(GOVERNANCE) in admin_line and "[DEPLOYER]" not in admin_line


def test_deploy_rerun_after_handover_sends_nothing(capsys, deployed_local, deployments_dir, monkeypatch):
    w3 = _deploy(capsys, deployed_local, monkeypatch, GOVERNANCE)
    nonce = w3.eth.get_transaction_count(w3.eth.accounts[0])
    code, _out, err = run(capsys, "deploy", "--network", "local")
    assert code == 0 and "nothing to do" in err
    assert w3.eth.get_transaction_count(w3.eth.accounts[0]) == nonce


@pytest.mark.parametrize("value", ["0x1234", "0x" + "00" * 20])
def test_deploy_with_a_bad_governance_address_fails_in_one_line(capsys, node_factory, deployments_dir, monkeypatch, value):
    node = node_factory()
    monkeypatch.setenv("SOMSTACK_RPC_LOCAL", node.url)
    monkeypatch.setenv("SOMSTACK_GOVERNANCE", value)
    code, _out, err = run(capsys, "deploy", "--network", "local")
    assert code == 1 and f"SOMSTACK_GOVERNANCE holds '{value}', which is not an address" in err and "Traceback" not in err


def test_roles_shows_pending_delay_changes_with_their_effective_time(capsys, deployed_local, deployments_dir, monkeypatch, settings):
    from somstack.system.roles import role_id

    w3 = _deploy(capsys, deployed_local, monkeypatch)
    code, out, err = run(capsys, "roles", "--network", "local")
    assert code == 0, err
    assert "admin delay of DigitalCurrency: 0 s (becomes 60 s at 20" in out  # raised at deploy, after the 5-day setback
    manager, _manifest = _manager(w3, deployments_dir, settings)
    upgrader = w3.eth.accounts[9]
    tx = manager.functions.grantRole(role_id("UPGRADER"), upgrader, 0).transact({"from": w3.eth.accounts[0]})
    assert w3.eth.wait_for_transaction_receipt(tx)["status"] == 1
    code, out, err = run(capsys, "roles", "--network", "local")
    line = next(line for line in out.splitlines() if line.split()[1:2] == ["UPGRADER"])
    assert f"{upgrader} (delay 60 s) (delay becomes 0 s at 20" in line


def test_deploy_after_env_changed_says_so_and_handover_applies_it(capsys, deployed_local, deployments_dir, monkeypatch, settings):
    w3 = _deploy(capsys, deployed_local, monkeypatch)
    monkeypatch.setenv("SOMSTACK_GOVERNANCE", GOVERNANCE)
    code, _out, err = run(capsys, "deploy", "--network", "local")
    assert code == 0, err
    assert "31337.json is complete, but .env asks for what the chain does not hold: grant ADMIN to governance" in err
    assert "run `somstack handover --network local`" in err and "nothing to do" not in err
    code, out, err = run(capsys, "handover", "--network", "local", "--yes")
    assert code == 0, err
    assert f"  grant ADMIN to governance {GOVERNANCE}" in out and f"  deployer {w3.eth.accounts[0]} renounces ADMIN" in out
    manager, manifest = _manager(w3, deployments_dir, settings)
    assert tuple(manager.functions.hasRole(0, GOVERNANCE).call()) == (True, 0)
    assert manager.functions.hasRole(0, w3.eth.accounts[0]).call()[0] is False
    assert manifest["governance"] == GOVERNANCE
    code, out, err = run(capsys, "handover", "--network", "local", "--yes")
    assert code == 0 and out.splitlines()[-1] == "nothing to hand over: the chain holds every role .env names"


def test_handover_dry_run_sends_nothing(capsys, deployed_local, deployments_dir, monkeypatch):
    w3 = _deploy(capsys, deployed_local, monkeypatch)
    monkeypatch.setenv("SOMSTACK_GOVERNANCE", GOVERNANCE)
    block = w3.eth.block_number
    code, out, err = run(capsys, "handover", "--network", "local", "--dry-run")
    assert code == 0, err
    assert out.splitlines()[-1] == "dry run: nothing was sent" and w3.eth.block_number == block
