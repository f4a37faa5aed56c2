"""Opening a named network for a command: settings, connection (or a chain of our own on
`local`), the signer and a Sender. Shared by the CLI, `brownie run` scripts and the demo.

The RPC of a network comes from brownie-config.yaml; ``SOMSTACK_RPC_<NETWORK>`` (the network
name upper-cased, ``-`` as ``_``: ``SOMSTACK_RPC_LOCAL``, ``SOMSTACK_RPC_BSC_TEST``) or an
explicit ``rpc=`` (the CLI's ``--rpc``) overrides it, e.g. to reach an anvil on another port.
The chain id is checked against the network's all the same.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, TypeVar

from web3 import Web3

from somstack.core.chain import NodeSigner, Sender
from somstack.core.errors import ConfigError, ManifestError
from somstack.core.manifest import Manifest, check_genesis, deployed_manifest

T = TypeVar("T")

import os
import re
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Iterator
from urllib.parse import urlparse

from somstack.core.accounts import DEFAULT_KEY_VARIABLE, key_from_env, key_from_keystore
from somstack.core.artifacts import Artifacts
from somstack.core.chain import (
    LocalNode,
    LocalSigner,
    RetryPolicy,
    Signer,
    check_chain,
    connect,
    rpc_web3,
)
from somstack.core.config import Network, Settings, load_settings
from somstack.core.errors import RpcUnavailableError
from somstack.core.hsm import HsmOptions, account_of

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class KeyOptions:
    """Where the signing key comes from: an environment variable, a keystore and password, or
    a key that stays in a PKCS#11 token (``hsm``, :mod:`somstack.core.hsm`)."""

    key_env: str | None = None
    keystore: Path | None = None
    password: str | None = None
    hsm: HsmOptions | None = None

    @property
    def keyed(self) -> bool:
        """A key was named: it signs, even on a dev chain whose node holds unlocked accounts."""
        return self.key_env is not None or self.keystore is not None or (self.hsm is not None and self.hsm.key is not None)


@dataclass
class Session:
    settings: Settings
    network: Network
    w3: Web3
    sender: Sender
    node: LocalNode | None = None

    @property
    def artifacts(self) -> Artifacts:
        return Artifacts(self.settings.root)


@dataclass(frozen=True)
class ReadOnlySigner:
    """The signer of a read-only session (status pages need no key): it sends nothing."""

    address: str = "0x0000000000000000000000000000000000000000"

    def send(self, w3: Web3, tx: dict[str, Any]) -> bytes:
        raise ConfigError("this command only reads: it has no key to send with")


def load_signer(network: Network, w3: Web3, keys: KeyOptions) -> Signer:
    if keys.hsm is not None and keys.hsm.key is not None:
        return LocalSigner(account_of(keys.hsm))  # type: ignore[arg-type]  # an eth-account BaseAccount
    if keys.keystore is not None:
        if keys.password is None:
            raise ConfigError("a keystore needs a password (prompt or --password-file)")
        return LocalSigner(key_from_keystore(keys.keystore, keys.password))
    if keys.key_env or not network.dev:
        return LocalSigner(key_from_env(keys.key_env or DEFAULT_KEY_VARIABLE))
    return NodeSigner(w3.eth.accounts[0])  # dev chain: the node's first unlocked account


def rpc_override_variable(network_name: str) -> str:
    """The environment variable that overrides the RPC of ``network_name``."""
    return "SOMSTACK_RPC_" + re.sub(r"[^A-Z0-9]", "_", network_name.upper())


def resolve_network(settings: Settings, network_name: str, rpc: str | None = None) -> Network:
    """The named network, with its RPC replaced by ``rpc`` or by ``SOMSTACK_RPC_<NETWORK>``."""
    network = settings.network(network_name)
    variable = rpc_override_variable(network_name)
    if rpc:
        return replace(network, rpc=rpc, rpc_source="--rpc")
    if os.environ.get(variable, "").strip():
        return replace(network, rpc=os.environ[variable].strip(), rpc_source=f"${variable}")
    return network


@contextmanager
def open_session(
    network_name: str,
    keys: KeyOptions = KeyOptions(),
    settings: Settings | None = None,
    rpc: str | None = None,
    start_node: bool = True,
    read_only: bool = False,
) -> Iterator[Session]:
    """Connects to ``network_name`` (at ``rpc`` if given, see the module's note on overrides);
    on a dev network nobody serves, runs a chain of our own unless ``start_node`` is false
    (commands that read an existing deployment have nothing to read on a fresh chain). A
    ``read_only`` session loads no key: its sender refuses to send.

    Reads follow the RPC policy of brownie-config.yaml ``somstack.rpc`` (retries with backoff,
    then one clear error); a dev network's loopback port is asked once: nobody there means no
    chain, not a slow one."""
    settings = settings or load_settings()
    network = resolve_network(settings, network_name, rpc)
    policy = RetryPolicy.of(settings)
    node = None
    try:
        w3 = connect(network, replace(policy, attempts=1) if network.dev else policy)
    except RpcUnavailableError:
        if not network.dev:
            raise
        if not start_node:
            raise RpcUnavailableError(
                f"no chain answers at {network.rpc} (network '{network.name}'): start it with "
                f"`{node_command(network)}`, or name its RPC with --rpc"
            ) from None
        port = urlparse(network.rpc or "").port or 8545
        logger.info(f"no chain answers at {network.rpc}: starting a local anvil for this command (it stops with it)")
        from somstack.core.bsclocal import start_node_for

        node = start_node_for(settings, network, port)
        w3 = rpc_web3(node.url, policy, f"the local chain at {node.url}")
        check_chain(w3, network)
    try:
        signer = ReadOnlySigner() if read_only else load_signer(network, w3, keys)
        sender = Sender(w3, signer, Artifacts(settings.root).decoder, policy=policy)
        yield Session(settings, network, w3, sender, node)
    finally:
        if node is not None:
            node.stop()


def node_command(network: Network) -> str:
    """The command that serves a dev network: `somstack node`, with --bsc or --fork."""
    port = urlparse(network.rpc or "").port
    return ("somstack node" + (" --fork" if network.fork_source else " --bsc" if network.bsc_canonical else "")
            + (f" --port {port}" if port else ""))


def brownie_session(keys: KeyOptions = KeyOptions()) -> Session:
    """A session on the network brownie is connected to (for `brownie run scripts/...`).

    A brownie network with the id of a named network of brownie-config.yaml is that network
    (`bsc-local`, `bsc-fork`, `bsc-test`, `bsc-main`: `somstack networks sync` registers them).
    Any other development network maps by its chain id: a fork (``fork`` in its settings) to the
    named dev network that forks (`bsc-fork`), chain 56 to `bsc-local`, 31337 to `local`. A
    live network maps to the named network of its chain id. On a `bsc-local` chain that brownie
    started, the canonical BSC contracts are placed when they are missing.
    """
    from brownie import web3 as brownie_web3
    from brownie._config import CONFIG

    settings = load_settings()
    chain_id = brownie_web3.eth.chain_id
    active = CONFIG.active_network
    network = settings.network(_brownie_network_name(settings, active, chain_id, _is_dev()))
    if network.dev:
        network = replace(network, rpc=brownie_web3.provider.endpoint_uri, rpc_source="brownie")  # type: ignore[attr-defined]
    w3 = Web3(brownie_web3.provider)
    check_chain(w3, network)
    if network.bsc_canonical:
        from somstack.core.bsclocal import ensure_canonical

        for name in ensure_canonical(w3, Artifacts(settings.root)):
            logger.info(f"placed {name} at its BSC mainnet address (bsc-local)")
    signer = load_signer(network, w3, keys)
    return Session(settings, network, w3, Sender(w3, signer, Artifacts(settings.root).decoder, policy=RetryPolicy.of(settings)))


def _brownie_network_name(settings: Settings, active: dict[str, Any], chain_id: int, dev: bool) -> str:
    names = settings.network_names()
    candidates = [settings.network(n) for n in names]
    if active.get("id") in names:
        named = settings.network(active["id"])
        if named.dev == dev:
            return named.name
    if dev:
        forking = bool((active.get("cmd_settings") or {}).get("fork"))
        matches = [n for n in candidates if n.dev and n.chain_id == chain_id and bool(n.fork_source) == forking]
    else:
        matches = [n for n in candidates if not n.dev and n.chain_id == chain_id]
    if not matches:
        kind = "development" if dev else "live"
        raise ConfigError(f"no {kind} network of chain {chain_id} in brownie-config.yaml somstack.core.networks")
    return matches[0].name


def _is_dev() -> bool:
    from brownie._config import CONFIG

    return CONFIG.network_type == "development"


def session_manifest(session: Session) -> Manifest:
    """The manifest of the session's network, which must have been deployed to."""
    manifest = deployed_manifest(session.settings.deployments_dir, session.w3.eth.chain_id, session.network)
    check_genesis(manifest, session.w3)
    return manifest


def deployed_address(w3: Web3, manifest: Manifest, name: str) -> str:
    """The recorded address of ``name``, checked to hold code on this chain."""
    address = manifest.address(name)
    if not w3.eth.get_code(Web3.to_checksum_address(address)):
        raise ManifestError(
            f"{manifest.path.name} puts the {name} at {address}, but this chain has no code there "
            "(the manifest describes another chain, or a dev chain that was restarted: deploy again)"
        )
    return address
