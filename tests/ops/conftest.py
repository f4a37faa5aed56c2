"""Fixtures for the operator-facing tests: chains of our own (anvil through somstack's
LocalNode, on free ports), independent of brownie's development chain."""

from __future__ import annotations

import pytest
from eth_account import Account
from web3 import Web3

from somstack.chain import LocalNode


@pytest.fixture
def node_factory(settings):
    nodes = []

    def start(chain_id: int = 31337) -> LocalNode:
        node = LocalNode(settings, chain_id).start()
        nodes.append(node)
        return node

    yield start
    for node in nodes:
        node.stop()


@pytest.fixture
def deployments_dir(tmp_path, monkeypatch):
    folder = tmp_path / "deployments"
    monkeypatch.setenv("SOMSTACK_DEPLOYMENTS_DIR", str(folder))
    return folder


@pytest.fixture
def funded_key(settings):
    """A fresh key, and a function that gives it `bnb` BNB on a node (anvil_setBalance)."""
    account = Account.create()

    def fund(node: LocalNode, bnb: int = 100) -> None:
        w3 = Web3(Web3.HTTPProvider(node.url))
        w3.provider.make_request("anvil_setBalance", [account.address, hex(bnb * 10**18)])

    return account, fund
