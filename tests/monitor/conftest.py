"""Fixtures of the monitor's chain tests: one anvil of the session's own on a port derived from
SOMSTACK_TEST_PORT (+20, +10 per xdist worker), deployed by `somstack deploy`, with KGST minted
to a holder; `local` points at it only inside ``chain.env()``."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import pytest
from web3 import Web3

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ops"))

from monitorlib import monitor_port  # noqa: E402

from somstack.cli import main
from somstack.core.artifacts import Artifacts
from somstack.core.chain import LocalNode
from somstack.core.manifest import Manifest

UNIT = 10**18
MINTER, COMPLIANCE, HOLDER = 1, 6, 11


@pytest.fixture(scope="session")
def chain(settings, tmp_path_factory):
    node = LocalNode(settings, 31337, port=monitor_port()).start()
    deployments = tmp_path_factory.mktemp("deployments")
    env = {"SOMSTACK_RPC_LOCAL": node.url, "SOMSTACK_DEPLOYMENTS_DIR": str(deployments)}

    @contextmanager
    def in_env():
        with pytest.MonkeyPatch.context() as mp:
            for name, value in env.items():
                mp.setenv(name, value)
            yield env

    try:
        w3 = Web3(Web3.HTTPProvider(node.url))
        accounts = w3.eth.accounts
        with in_env():
            assert main(["deploy", "--network", "local"]) == 0
            assert main(["reserve", "set-rate", "--rate", "87.45"]) == 0
            assert main(["reserve", "deposit", "--asset", "BNB", "--amount", "1000"]) == 0
            # BNB counts at most 60/40 of what the rest is worth (issue 15): som attested in banks beside it
            assert main(["reserve", "attest", "--amount", "50000000", "--as-of", "now", "--report-hash", "0x" + "ab" * 32,
                         "--uri", "ipfs://statement"]) == 0
            assert main(["minter", "set", accounts[MINTER], "--allowance", "100000000"]) == 0
            assert main(["mint", accounts[HOLDER], "10000000", "--ref", "monitor-tests"]) == 0
        manifest = Manifest.load(deployments / "31337.json", 31337)
        kgst = Artifacts(settings.root).get("Stablecoin").contract(w3, manifest.address("Stablecoin"))

        def pay(src, dst, whole, ref: bytes | None = None):
            call = kgst.functions.transferWithReference(dst, int(whole * UNIT), ref) if ref else kgst.functions.transfer(dst, int(whole * UNIT))
            tx = call.transact({"from": src})
            return w3.eth.wait_for_transaction_receipt(tx)

        def rpc(method, *params):
            return w3.provider.make_request(method, list(params))["result"]

        yield SimpleNamespace(w3=w3, node=node, env=in_env, accounts=accounts, holder=accounts[HOLDER], kgst=kgst, pay=pay, rpc=rpc,
                              manifest=manifest)
    finally:
        node.stop()
