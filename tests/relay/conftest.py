"""Fixtures of the relayer tests: one anvil of the session's own, deployed by `somstack deploy`
(tests/ops/clihelp.py), with a reserve that covers minting and a holder of 10,000,000 KGST;
relayers served in-process (server.Background) on a free loopback port, each with a fresh
SQLite file and a fresh relayer key funded by anvil_setBalance."""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import pytest
from eth_account import Account
from web3 import Web3

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ops"))

from relaylib import HOLDER, MINTER, UNIT, served  # noqa: E402

from somstack.cli import main
from somstack.core.artifacts import Artifacts
from somstack.core.signatures import Domain


@pytest.fixture(scope="session")
def relay_chain(settings, tmp_path_factory):
    from clihelp import deployed_chain

    names = ("SOMSTACK_RPC_LOCAL", "SOMSTACK_DEPLOYMENTS_DIR")
    prior = {name: os.environ.get(name) for name in names}
    with deployed_chain(settings, tmp_path_factory) as (node, manifest):
        env = {name: os.environ[name] for name in names}

        @contextmanager
        def cli_env():
            """The environment that makes network `local` this chain, for the body only (the
            session's other tests must not find it)."""
            os.environ.update(env)
            try:
                yield env
            finally:
                for name, value in prior.items():
                    if value is None:
                        os.environ.pop(name, None)
                    else:
                        os.environ[name] = value

        w3 = Web3(Web3.HTTPProvider(node.url))
        accounts = w3.eth.accounts
        with cli_env():  # from here on, `local` is this chain only inside cli_env()
            assert main(["reserve", "set-rate", "--rate", "87.5"]) == 0
            assert main(["reserve", "deposit", "--asset", "BNB", "--amount", "1000"]) == 0
            # fiat in banks: BNB's cap is 60/40 of what everything else is worth (alone, nothing)
            report = "0x" + "ab" * 32
            assert main(["reserve", "attest", "--amount", "50000000", "--as-of", "now", "--report-hash", report, "--uri", "ipfs://relay"]) == 0
            assert main(["minter", "set", accounts[MINTER], "--allowance", "100000000"]) == 0
            assert main(["mint", accounts[HOLDER], "10000000", "--ref", "relay-tests"]) == 0
        artifacts = Artifacts(settings.root)
        kgst = artifacts.get("Stablecoin").contract(w3, manifest.address("Stablecoin"))

        def fund(address, amount):
            """Gives `address` `amount` KGST units from the holder."""
            tx = kgst.functions.transfer(address, amount).transact({"from": accounts[HOLDER]})
            assert w3.eth.wait_for_transaction_receipt(tx)["status"] == 1

        def send(account_index, call):
            tx = call.transact({"from": accounts[account_index]})
            assert w3.eth.wait_for_transaction_receipt(tx)["status"] == 1

        yield SimpleNamespace(w3=w3, node=node, manifest=manifest, artifacts=artifacts, accounts=accounts, kgst=kgst,
                              domain=Domain.of(kgst), decoder=artifacts.decoder, fund=fund, send=send, settings=settings,
                              env=env, cli_env=cli_env)


@pytest.fixture
def relayer_key(relay_chain):
    """A fresh relayer key holding 100 BNB."""
    account = Account.create()
    relay_chain.w3.provider.make_request("anvil_setBalance", [account.address, hex(100 * UNIT)])
    return account


@pytest.fixture
def relay(relay_chain, relayer_key, tmp_path):
    """(url, Relay) of a relayer with generous limits."""
    with served(relay_chain, relayer_key, tmp_path / "relay.sqlite") as pair:
        yield pair


@pytest.fixture
def sender_account(relay_chain):
    """A fresh key with no BNB and 1,000 KGST."""
    account = Account.create()
    relay_chain.fund(account.address, 1_000 * UNIT)
    return account
