"""Opening a named network for a command: settings, connection (or a chain of our own on
`local`), the signer and a Sender. Shared by the CLI, `brownie run` scripts and the demo.

The RPC of a network comes from brownie-config.yaml; ``SOMSTACK_RPC_<NETWORK>`` (the network
name upper-cased, ``-`` as ``_``: ``SOMSTACK_RPC_LOCAL``, ``SOMSTACK_RPC_BSC_TEST``) or an
explicit ``rpc=`` (the CLI's ``--rpc``) overrides it, e.g. to reach an anvil on another port.
The chain id is checked against the network's all the same.
"""

from __future__ import annotations

import os
import re
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Iterator
from urllib.parse import urlparse

from web3 import Web3

from .accounts import DEFAULT_KEY_VARIABLE, key_from_env, key_from_keystore
from .chain import LocalNode, LocalSigner, NodeSigner, Sender, Signer, check_chain, connect
from .config import Network, Settings, load_settings
from .contracts import Artifacts
from .errors import ConfigError, RpcUnavailableError

Log = Callable[[str], None]


@dataclass(frozen=True)
class KeyOptions:
    """Where the signing key comes from: an environment variable, or a keystore and password."""

    key_env: str | None = None
    keystore: Path | None = None
    password: str | None = None


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
    log: Log = print,
    settings: Settings | None = None,
    rpc: str | None = None,
    start_node: bool = True,
    read_only: bool = False,
) -> Iterator[Session]:
    """Connects to ``network_name`` (at ``rpc`` if given, see the module's note on overrides);
    on a dev network nobody serves, runs a chain of our own unless ``start_node`` is false
    (commands that read an existing deployment have nothing to read on a fresh chain). A
    ``read_only`` session loads no key: its sender refuses to send."""
    settings = settings or load_settings()
    network = resolve_network(settings, network_name, rpc)
    node = None
    try:
        w3 = connect(network)
    except RpcUnavailableError:
        if not network.dev or not start_node:
            raise
        port = urlparse(network.rpc or "").port or 8545
        log(f"no chain answers at {network.rpc}: starting a local anvil for this command (it stops with it)")
        if network.bsc_canonical:
            from .bsclocal import start_bsc_local

            node = start_bsc_local(settings, port)
        else:
            node = LocalNode(settings, network.chain_id, port).start()
        w3 = Web3(Web3.HTTPProvider(node.url))
        check_chain(w3, network)
    try:
        signer = ReadOnlySigner() if read_only else load_signer(network, w3, keys)
        sender = Sender(w3, signer, Artifacts(settings.root).decoder)
        yield Session(settings, network, w3, sender, node)
    finally:
        if node is not None:
            node.stop()


def brownie_session(keys: KeyOptions = KeyOptions(), log: Log = print) -> Session:
    """A session on the network brownie is connected to (for `brownie run scripts/...`).

    brownie's development network maps to `local`; a live brownie network maps to the named
    network of the same chain id in brownie-config.yaml.
    """
    from brownie import web3 as brownie_web3

    settings = load_settings()
    chain_id = brownie_web3.eth.chain_id
    if _is_dev():
        network = settings.network("local")
        network = Network(network.name, brownie_web3.provider.endpoint_uri, "brownie", chain_id, dev=True)  # type: ignore[attr-defined]
    else:
        matches = [settings.network(n) for n in settings.network_names() if settings.network(n).chain_id == chain_id]
        if not matches:
            raise ConfigError(f"no network of chain {chain_id} in brownie-config.yaml somstack.networks")
        network = matches[0]
    w3 = Web3(brownie_web3.provider)
    check_chain(w3, network)
    signer = load_signer(network, w3, keys)
    return Session(settings, network, w3, Sender(w3, signer, Artifacts(settings.root).decoder))


def _is_dev() -> bool:
    from brownie._config import CONFIG

    return CONFIG.network_type == "development"
