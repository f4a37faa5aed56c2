"""Opening a named network for a command: settings, connection (or a chain of our own on
`local`), the signer and a Sender. Shared by the CLI, `brownie run` scripts and the demo."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator
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


def load_signer(network: Network, w3: Web3, keys: KeyOptions) -> Signer:
    if keys.keystore is not None:
        if keys.password is None:
            raise ConfigError("a keystore needs a password (prompt or --password-file)")
        return LocalSigner(key_from_keystore(keys.keystore, keys.password))
    if keys.key_env or not network.dev:
        return LocalSigner(key_from_env(keys.key_env or DEFAULT_KEY_VARIABLE))
    return NodeSigner(w3.eth.accounts[0])  # dev chain: the node's first unlocked account


@contextmanager
def open_session(
    network_name: str,
    keys: KeyOptions = KeyOptions(),
    log: Log = print,
    settings: Settings | None = None,
) -> Iterator[Session]:
    """Connects to ``network_name``; on a dev network nobody serves, runs a chain of our own."""
    settings = settings or load_settings()
    network = settings.network(network_name)
    node = None
    try:
        w3 = connect(network)
    except RpcUnavailableError:
        if not network.dev:
            raise
        port = urlparse(network.rpc or "").port or 8545
        log(f"no chain answers at {network.rpc}: starting a local anvil for this command (it stops with it)")
        node = LocalNode(settings, network.chain_id, port).start()
        w3 = Web3(Web3.HTTPProvider(node.url))
        check_chain(w3, network)
    try:
        signer = load_signer(network, w3, keys)
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
