"""Fixtures for the operator-facing tests: chains of our own (anvil through somstack's
LocalNode, on free ports), independent of brownie's development chain."""

from __future__ import annotations

import pytest
from eth_account import Account
from web3 import Web3

from somstack.core.chain import LocalNode


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


@pytest.fixture(scope="module")
def cli_chain(settings, tmp_path_factory):
    """A fresh anvil of the module's own as network `local`, deployed by `somstack deploy`
    (clihelp.deployed_chain); `contract(name)` is the deployed contract of that manifest name."""
    from types import SimpleNamespace

    from clihelp import deployed_chain

    from somstack.core.artifacts import Artifacts

    with deployed_chain(settings, tmp_path_factory) as (node, manifest):
        w3 = Web3(Web3.HTTPProvider(node.url))
        artifacts = Artifacts(settings.root)

        def contract(name, artifact=None):
            return artifacts.get(artifact or name).contract(w3, manifest.address(name))

        yield SimpleNamespace(w3=w3, node=node, manifest=manifest, artifacts=artifacts, accounts=w3.eth.accounts,
                              contract=contract)


@pytest.fixture
def chain_snapshot(cli_chain):
    """The test starts from the module's deployed state and leaves no trace (clihelp.reverted)."""
    from clihelp import reverted

    with reverted(cli_chain.w3):
        yield cli_chain



@pytest.fixture
def deployed_local(settings, tmp_path_factory, deployments_dir, monkeypatch):
    """`deployed_local(governance=None, chain_id=31337)`: a chain as fresh from `somstack deploy
    --network local` (the process's pool, tests/support/chains.py: deployed once, reverted for
    each test), reachable as network `local` for this test, its manifest in `deployments_dir`;
    returns (node, deploy's stdout, deploy's stderr)."""
    from support import chains

    pool, held = chains.pool(settings, tmp_path_factory), []

    def use(governance=None, chain_id=31337):
        chain = pool.checkout(chain_id, governance)
        held.append(chain)
        monkeypatch.setenv("SOMSTACK_RPC_LOCAL", chain.node.url)
        if governance:
            monkeypatch.setenv("SOMSTACK_GOVERNANCE", governance)
        else:
            monkeypatch.delenv("SOMSTACK_GOVERNANCE", raising=False)
        chains.copy_manifests(chain, deployments_dir)
        return chain.node, chain.out, chain.err

    yield use
    for chain in held:
        pool.checkin(chain)
