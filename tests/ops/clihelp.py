"""Running the `somstack` CLI in-process, the one-line error contract of its failures, and a
deployed chain of a module's own with each test reverted."""

from contextlib import contextmanager

import pytest

from somstack.chain import LocalNode
from somstack.cli import main
from somstack.manifest import Manifest


def run(capsys, *argv):
    """Runs `somstack *argv` as the console script does; returns (exit code, stdout, stderr)."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code, err, *fragments):
    """Exit 1, exactly one `Error: ` line and it is the last line (progress lines may come
    first), no traceback, and every fragment in that line."""
    assert code == 1
    lines = [line for line in err.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("Error: ")]
    assert len(errors) == 1 and lines[-1] == errors[0], err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in errors[0], errors[0]


@contextmanager
def deployed_chain(settings, tmp_path_factory, chain_id=31337):
    """A fresh anvil served as network `local` (SOMSTACK_RPC_LOCAL) and deployed by
    `somstack deploy --network local`, for a module's tests; yields (node, manifest). The chain
    stops and the environment is restored on exit."""
    node = LocalNode(settings, chain_id).start()
    try:
        with pytest.MonkeyPatch.context() as mp:
            deployments = tmp_path_factory.mktemp("deployments")
            mp.setenv("SOMSTACK_RPC_LOCAL", node.url)
            mp.setenv("SOMSTACK_DEPLOYMENTS_DIR", str(deployments))
            assert main(["deploy", "--network", "local"]) == 0
            yield node, Manifest.load(deployments / f"{chain_id}.json", chain_id)
    finally:
        node.stop()


@contextmanager
def reverted(w3):
    """Runs the body between an anvil snapshot and its revert: it leaves no trace on the chain."""
    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]
    yield
    assert w3.provider.make_request("evm_revert", [snapshot])["result"] is True


class DeployedChains:
    """Chains as `somstack deploy --network local` leaves them, one anvil per variant (chain id,
    SOMSTACK_GOVERNANCE) for the whole worker: the first test that asks for a variant deploys it
    through the CLI (about 2.4 s of CPU and 80 transactions), every later one gets the same
    anvil reverted to the snapshot taken right after that deployment (state, blocks, logs and
    the chain's clock as they were) and a copy of its manifest. Tests that need a chain that
    never saw a deployment, or a restarted one, start their own (node_factory)."""

    def __init__(self, settings, folder):
        self.settings, self.folder, self.chains = settings, folder, {}

    def _deploy(self, chain_id, governance):
        import io
        from contextlib import redirect_stderr, redirect_stdout

        from web3 import Web3

        node = LocalNode(self.settings, chain_id).start()
        folder = self.folder / f"{chain_id}-{governance or 'deployer'}"
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
        w3 = Web3(Web3.HTTPProvider(node.url))
        return {"node": node, "w3": w3, "folder": folder, "out": out.getvalue(), "err": err.getvalue(), "snapshot": None}

    def use(self, monkeypatch, deployments_dir, chain_id=31337, governance=None):
        """The variant's chain, reverted to just after its deployment, as network `local` for this
        test (SOMSTACK_RPC_LOCAL, SOMSTACK_GOVERNANCE) with its manifest in `deployments_dir`;
        returns (node, deploy's stdout, deploy's stderr)."""
        import shutil

        key = (chain_id, governance)
        chain = self.chains.get(key)
        if chain is None:
            chain = self.chains[key] = self._deploy(chain_id, governance)
        else:
            assert chain["w3"].provider.make_request("evm_revert", [chain["snapshot"]])["result"] is True
        chain["snapshot"] = chain["w3"].provider.make_request("evm_snapshot", [])["result"]
        monkeypatch.setenv("SOMSTACK_RPC_LOCAL", chain["node"].url)
        if governance:
            monkeypatch.setenv("SOMSTACK_GOVERNANCE", governance)
        else:
            monkeypatch.delenv("SOMSTACK_GOVERNANCE", raising=False)
        deployments_dir.mkdir(parents=True, exist_ok=True)
        for manifest in chain["folder"].glob("*.json"):
            shutil.copy(manifest, deployments_dir / manifest.name)
        return chain["node"], chain["out"], chain["err"]

    def stop(self):
        for chain in self.chains.values():
            chain["node"].stop()
