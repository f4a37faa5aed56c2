"""The project's networks as brownie sees them: `somstack networks sync` (run by `make install`)
registers them in brownie's network file from brownie-config.yaml, idempotently, and
`brownie run scripts/deploy.py --network bsc-local | bsc-test` then deploys through them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import brownie
import pytest
import yaml
from eth_account import Account
from web3 import Web3

from somstack.core.accounts import DEFAULT_KEY_VARIABLE
from somstack.core.bsclocal import ADDRESSES
from somstack.core.chain import free_port
from somstack.core.networks import sync

BROWNIE_DEFAULTS = Path(brownie.__file__).parent / "data" / "network-config.yaml"  # a fresh machine's file
BIN = Path(sys.executable).parent
NATIVE = "0xEeeeeEeeeEeEeeEeEeEeeEEEeeeeEeeeeeeeEEeE"


@pytest.fixture
def brownie_file(tmp_path):
    path = tmp_path / "network-config.yaml"
    shutil.copyfile(BROWNIE_DEFAULTS, path)
    return path


def _entries(path):
    data = yaml.safe_load(path.read_text())
    dev = {e["id"]: e for e in data["development"]}
    live = {n["id"]: n for g in data["live"] for n in g["networks"]}
    return dev, live


def test_sync_registers_the_dev_networks_from_brownie_config(settings, brownie_file):
    changes = {c.network: c.action for c in sync(settings, brownie_file)}
    assert changes == {"bsc-local": "added", "bsc-fork": "added", "bsc-test": "updated", "bsc-main": "updated"}
    dev, _live = _entries(brownie_file)
    anvil = settings.anvil
    assert dev["bsc-local"]["cmd"] == "anvil" and dev["bsc-local"]["host"] == "http://127.0.0.1"
    assert dev["bsc-local"]["cmd_settings"] == {
        "port": 8546, "chain_id": 56, "evm_version": anvil["hardfork"], "accounts": 30, "gas_limit": anvil["gas_limit"]}
    assert dev["bsc-fork"]["cmd_settings"]["fork"] == "$BSC_FORK_RPC_URL"  # brownie expands it when it launches anvil
    assert dev["bsc-fork"]["cmd_settings"]["chain_id"] == 56 and dev["bsc-fork"]["cmd_settings"]["port"] == 8547
    assert "local" not in dev  # brownie's own `development` network is the local chain


def test_sync_points_brownies_bsc_networks_at_the_env_rpc_and_keeps_its_other_fields(settings, brownie_file):
    _dev, before = _entries(brownie_file)
    sync(settings, brownie_file)
    _dev, live = _entries(brownie_file)
    assert (live["bsc-test"]["host"], live["bsc-test"]["chainid"]) == ("$BSC_TESTNET_RPC_URL", 97)
    assert (live["bsc-main"]["host"], live["bsc-main"]["chainid"]) == ("$BSC_MAINNET_RPC_URL", 56)
    assert live["bsc-main"]["explorer"] == before["bsc-main"]["explorer"]
    assert {k: v for k, v in live.items() if not k.startswith("bsc-")} == {k: v for k, v in before.items() if not k.startswith("bsc-")}


def test_sync_again_changes_nothing(settings, brownie_file):
    sync(settings, brownie_file)
    written = brownie_file.read_bytes()
    assert {c.action for c in sync(settings, brownie_file)} == {"unchanged"}
    assert brownie_file.read_bytes() == written


def test_sync_repairs_an_entry_edited_by_hand(settings, brownie_file):
    sync(settings, brownie_file)
    data = yaml.safe_load(brownie_file.read_text())
    next(e for e in data["development"] if e["id"] == "bsc-local")["cmd_settings"]["chain_id"] = 31337
    brownie_file.write_text(yaml.safe_dump(data))
    assert {c.network: c.action for c in sync(settings, brownie_file)}["bsc-local"] == "updated"
    assert _entries(brownie_file)[0]["bsc-local"]["cmd_settings"]["chain_id"] == 56


def test_brownie_config_development_settings_name_no_port_and_no_chain_id(settings):
    """brownie copies them over every development network: either would override bsc-local's."""
    copied = settings.raw["networks"]["development"]["cmd_settings"]
    assert "port" not in copied and "chain_id" not in copied


# --- brownie itself, on a fresh machine (a home of its own) ---


def _env(home, **extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SOMSTACK_", "BSC_", "DEPLOYER_"))}
    env.update(HOME=str(home), PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}", **extra)
    return env


def _run(args, env, root):
    return subprocess.run(args, cwd=root, env=env, capture_output=True, text=True, timeout=600)


@pytest.fixture
def fresh_home(settings, tmp_path):
    """A home where brownie has never run, with the project's networks synced into it the way
    `make install` does."""
    home = tmp_path / "home"
    home.mkdir()
    return home


def test_brownie_run_deploy_on_bsc_local_places_the_bsc_contracts_and_deploys(settings, fresh_home, tmp_path):
    port = free_port()
    env = _env(fresh_home, SOMSTACK_RPC_BSC_LOCAL=f"http://127.0.0.1:{port}", SOMSTACK_DEPLOYMENTS_DIR=str(tmp_path / "deployments"))
    synced = _run([str(BIN / "somstack"), "networks", "sync"], env, settings.root)
    assert synced.returncode == 0, synced.stderr
    assert "bsc-local  development added" in synced.stdout
    ran = _run([str(BIN / "brownie"), "run", "scripts/deploy.py", "--network", "bsc-local"], env, settings.root)
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-3000:]
    assert "--chain-id 56" in ran.stdout and f"--port {port}" in ran.stdout  # brownie launched the registered chain
    assert "placed WBNB at its BSC mainnet address" in ran.stdout
    manifest = json.loads((tmp_path / "deployments" / "56-bsc-local.json").read_text())
    assert manifest["complete"] and manifest["network"] == "bsc-local"
    assert manifest["contracts"]["Stablecoin"]["address"] in ran.stdout
    # native BNB registered with the aggregator at its real address (the vault reads it then: a
    # chain without the placed feed fails the plan with FailedCall)
    assert manifest["contracts"]["ReserveVault"]["assets"] == {"BNB": NATIVE}
    assert all(f"placed {name} at its BSC mainnet address" in ran.stdout for name in ADDRESSES)


def test_brownie_run_deploy_on_bsc_test_uses_the_rpc_from_the_environment(settings, fresh_home, tmp_path, node_factory):
    node = node_factory(chain_id=97)
    account = Account.create()
    Web3(Web3.HTTPProvider(node.url)).provider.make_request("anvil_setBalance", [account.address, hex(10**19)])
    # The deployer is a key made for this test only; it signs through the variable operators use.
    env = _env(fresh_home, BSC_TESTNET_RPC_URL=node.url, SOMSTACK_DEPLOYMENTS_DIR=str(tmp_path / "deployments"),
               **{DEFAULT_KEY_VARIABLE: account.key.hex()})
    assert _run([str(BIN / "somstack"), "networks", "sync"], env, settings.root).returncode == 0
    ran = _run([str(BIN / "brownie"), "run", "scripts/deploy.py", "--network", "bsc-test"], env, settings.root)
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-3000:]
    manifest = json.loads((tmp_path / "deployments" / "97.json").read_text())
    assert manifest["complete"] and manifest["network"] == "bsc-test" and manifest["deployer"] == account.address
    assert Web3(Web3.HTTPProvider(node.url)).eth.get_code(manifest["contracts"]["Stablecoin"]["address"])
    assert account.key.hex()[2:] not in ran.stdout + ran.stderr


def test_a_rehearsal_never_shares_the_live_chains_record(settings, tmp_path):
    """bsc-local and bsc-fork borrow BSC's chain id 56: their manifests are their own files, so a
    mainnet deployment never reads steps a rehearsal recorded as done."""
    from somstack.core.manifest import manifest_path

    paths = {name: manifest_path(tmp_path, 56, settings.network(name)) for name in ("bsc-local", "bsc-fork", "bsc-main")}
    assert paths["bsc-main"].name == "56.json"
    assert len(set(paths.values())) == 3
    assert manifest_path(tmp_path, 31337, settings.network("local")).name == "31337.json"
