"""Deployed chains for the operator, relayer and report tests: a pool per test process.

`somstack deploy --network local` on a fresh anvil costs about 2.4 s of CPU (80 transactions);
the operator tests did it for every test or module that wanted "a freshly deployed chain". A
chain of the pool is deployed through the CLI once, then snapshotted (evm_snapshot); whoever
checks it out gets it reverted to that snapshot (state, blocks and logs as they were right after
the deployment; the clock set to the wall clock, as on a chain deployed just now) and a copy of
its manifest, and holds it alone until it checks it in. One anvil per holder at a time: a module
fixture that keeps a chain for all its tests never shares it. A chain whose snapshot is gone (its node was restarted) is stopped and replaced.
Tests that need a chain that never saw a deployment, or a restarted one, start their own.
"""

from __future__ import annotations

import io
import shutil
import time
from contextlib import redirect_stderr, redirect_stdout
from types import SimpleNamespace

import pytest

_POOL = None


class Pool:
    def __init__(self, settings, folder):
        self.settings, self.folder = settings, folder
        self.free: dict[tuple, list] = {}
        self.nodes: list = []

    def _deploy(self, chain_id: int, governance: str | None):
        from web3 import Web3

        from somstack.cli import main
        from somstack.core.chain import LocalNode

        node = LocalNode(self.settings, chain_id).start()
        self.nodes.append(node)
        folder = self.folder / f"{chain_id}-{governance or 'deployer'}-{len(self.nodes)}"
        out, err = io.StringIO(), io.StringIO()
        with pytest.MonkeyPatch.context() as mp, redirect_stdout(out), redirect_stderr(err):
            mp.setenv("SOMSTACK_RPC_LOCAL", node.url)
            mp.setenv("SOMSTACK_DEPLOYMENTS_DIR", str(folder))
            if governance:
                mp.setenv("SOMSTACK_GOVERNANCE", governance)
            else:
                mp.delenv("SOMSTACK_GOVERNANCE", raising=False)
            code = main(["deploy", "--network", "local"])
        if code != 0:
            node.stop()
            raise AssertionError(f"somstack deploy failed ({code}):\n{err.getvalue()}")
        return SimpleNamespace(key=(chain_id, governance), node=node, w3=Web3(Web3.HTTPProvider(node.url)), folder=folder,
                               out=out.getvalue(), err=err.getvalue(), snapshot=None)

    def checkout(self, chain_id: int = 31337, governance: str | None = None):
        """A chain of that variant as the deployment left it, for the caller alone until checkin."""
        free = self.free.setdefault((chain_id, governance), [])
        chain = None
        while free and chain is None:
            chain = free.pop()
            try:
                reverted = chain.w3.provider.make_request("evm_revert", [chain.snapshot]).get("result") is True
            except Exception:  # the node is gone
                reverted = False
            if not reverted:
                chain.node.stop()
                chain = None
        if chain is None:
            chain = self._deploy(chain_id, governance)
        else:
            # evm_revert also took the chain's clock back to the deployment's time; a chain deployed
            # just now would read the wall clock (signatures valid from "now" must be valid on it)
            latest = chain.w3.eth.get_block("latest")["timestamp"]
            chain.w3.provider.make_request("evm_setTime", [max(int(time.time()), latest)])
        chain.snapshot = chain.w3.provider.make_request("evm_snapshot", [])["result"]
        return chain

    def checkin(self, chain) -> None:
        self.free.setdefault(chain.key, []).append(chain)

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()
        self.nodes, self.free = [], {}


def copy_manifests(chain, folder) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for manifest in chain.folder.glob("*.json"):
        shutil.copy(manifest, folder / manifest.name)


def pool(settings, tmp_path_factory) -> Pool:
    """This process's pool (its anvils are stopped at the session's end)."""
    global _POOL
    if _POOL is None:
        _POOL = Pool(settings, tmp_path_factory.mktemp("deployed-chains"))
    return _POOL


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session):
    if _POOL is not None:
        _POOL.stop()
