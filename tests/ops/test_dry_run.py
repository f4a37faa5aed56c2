"""`somstack deploy --dry-run`: every transaction of the plan with its gas (measured on a
rehearsal chain) and its cost at the target's gas price, the deployer's balance, and nothing
sent to the target."""

from __future__ import annotations

import re

from eth_account import Account
from web3 import Web3

from clihelp import run
from test_deploy_idempotent import PLAN_TRANSACTIONS


def _steps(out):
    return [line for line in out.splitlines() if re.match(r"^\s*\d+\s+\S+\s+[\d,]+ gas\s+[\d.]+ BNB$", line)]


def test_dry_run_lists_every_transaction_of_the_plan_and_sends_nothing(capsys, node_factory, deployments_dir, monkeypatch):
    node = node_factory()
    monkeypatch.setenv("SOMSTACK_RPC_LOCAL", node.url)
    w3 = Web3(Web3.HTTPProvider(node.url))
    block = w3.eth.block_number
    code, out, err = run(capsys, "deploy", "--network", "local", "--dry-run")
    assert code == 0, err
    assert len(_steps(out)) == PLAN_TRANSACTIONS
    assert w3.eth.block_number == block and not (deployments_dir / "31337.json").exists()
    assert out.rstrip().endswith("nothing was sent")


def test_dry_run_total_is_the_sum_of_its_steps_at_the_gas_price(capsys, node_factory, deployments_dir, monkeypatch):
    node = node_factory()
    monkeypatch.setenv("SOMSTACK_RPC_LOCAL", node.url)
    code, out, _err = run(capsys, "deploy", "--network", "local", "--dry-run")
    gas = sum(int(line.split()[2].replace(",", "")) for line in _steps(out))
    price = Web3.to_wei(re.search(r"gas price ([\d.]+) gwei", out).group(1), "gwei")
    total = re.search(rf"{PLAN_TRANSACTIONS} transactions, ([\d,]+) gas, ([\d.]+) BNB", out)
    assert int(total.group(1).replace(",", "")) == gas
    assert total.group(2) == f"{Web3.from_wei(gas * price, 'ether'):.6f}"


def test_dry_run_says_when_the_deployer_is_short(capsys, node_factory, deployments_dir, monkeypatch):
    node = node_factory()
    monkeypatch.setenv("SOMSTACK_RPC_LOCAL", node.url)
    monkeypatch.setenv("SOMSTACK_TEST_KEY", Account.create().key.hex())
    code, out, err = run(capsys, "deploy", "--network", "local", "--dry-run", "--key-env", "SOMSTACK_TEST_KEY")
    assert code == 0, err
    assert "deployer balance 0.000000 BNB: SHORT by" in out


def test_dry_run_after_a_complete_deployment_says_nothing_to_send(capsys, node_factory, deployments_dir, monkeypatch):
    node = node_factory()
    monkeypatch.setenv("SOMSTACK_RPC_LOCAL", node.url)
    assert run(capsys, "deploy", "--network", "local")[0] == 0
    code, out, _err = run(capsys, "deploy", "--network", "local", "--dry-run")
    assert code == 0 and "the deployment is complete; a real run sends nothing" in out
