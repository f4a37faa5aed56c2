"""Running the `somstack` CLI in-process, the one-line error contract of its failures, and a
deployed chain of a module's own with each test reverted."""

from contextlib import contextmanager

import pytest

from somstack.cli import main
from somstack.core.manifest import Manifest


def run(capsys, *argv):
    """Runs `somstack *argv` as the console script does; returns (exit code, stdout, stderr)."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code, err, *fragments):
    """The exit code of the error's class (docs/errors.md: 1, or 3 to 6), exactly one `Error: `
    line and it is the last line (progress lines may come first), no traceback, and every
    fragment in that line."""
    lines = [line for line in err.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("Error: ")]
    assert len(errors) == 1 and lines[-1] == errors[0], err
    assert code == exit_code_of(errors[0]), (code, errors[0])
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in errors[0], errors[0]


def exit_code_of(error_line):
    """The exit code the class named in an `Error: (Class) ...` line decides (1 if none)."""
    from somstack.core.errors import SomstackError

    name = error_line.removeprefix("Error: (").split(")", 1)[0]
    classes = [SomstackError]
    while classes:
        cls = classes.pop()
        if cls.__name__ == name:
            return cls.exit_code
        classes.extend(cls.__subclasses__())
    return 1


@contextmanager
def deployed_chain(settings, tmp_path_factory, chain_id=31337):
    """A chain as `somstack deploy --network local` left it, served as network `local`
    (SOMSTACK_RPC_LOCAL) with its manifest in a fresh SOMSTACK_DEPLOYMENTS_DIR, for a module's
    tests; yields (node, manifest). The chain is the process's pool's (tests/support/chains.py:
    deployed by the CLI once, reverted to just after it for each holder), held alone until the
    exit, when the environment is restored and the chain goes back to the pool."""
    from support import chains

    pool = chains.pool(settings, tmp_path_factory)
    chain = pool.checkout(chain_id)
    try:
        with pytest.MonkeyPatch.context() as mp:
            deployments = tmp_path_factory.mktemp("deployments")
            chains.copy_manifests(chain, deployments)
            mp.setenv("SOMSTACK_RPC_LOCAL", chain.node.url)
            mp.setenv("SOMSTACK_DEPLOYMENTS_DIR", str(deployments))
            yield chain.node, Manifest.load(deployments / f"{chain_id}.json", chain_id)
    finally:
        pool.checkin(chain)


@contextmanager
def reverted(w3):
    """Runs the body between an anvil snapshot and its revert: it leaves no trace on the chain."""
    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]
    yield
    assert w3.provider.make_request("evm_revert", [snapshot])["result"] is True
