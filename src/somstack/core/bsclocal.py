"""`bsc-local`: an offline chain that looks like BNB Smart Chain to scripts.

anvil runs with BSC's chain id (56) and the EVM BSC runs (prague, since the Pascal hard fork;
the hardfork comes from ``somstack.anvil`` in brownie-config.yaml, as for the `local` chain).
The canonical BSC contracts SomStack uses are then placed at their real mainnet addresses with
``anvil_setCode`` (runtime code compiled in this project, from build/contracts) and
``anvil_setStorageAt`` (the state their constructor would have written: constructors do not
run when code is placed). A script written against the real addresses runs unchanged.

The addresses and their sources are in docs/bsc-addresses.md. Nothing here talks to a live
chain: the placed contracts are mocks (anyone may mint BSC-USD or set the BNB/USD answer).
"""

from __future__ import annotations

import logging
import signal
import socket
import threading
import time
from dataclasses import dataclass

from eth_utils import keccak
from web3 import Web3

from somstack.core.artifacts import Artifacts
from somstack.core.chain import LocalNode
from somstack.core.config import Network, Settings
from somstack.core.errors import ArtifactError, ConfigError, RpcUnavailableError

logger = logging.getLogger(__name__)


BSC_CHAIN_ID = 56  # BNB Smart Chain mainnet
DEV_CHAIN_ID = 31337  # anvil's default, the chain id of the `local` network

# The placed state. BSC-USD's metadata follows the project's `local` mocks (brownie-config.yaml);
# see docs/bsc-addresses.md for what the mainnet contract itself reports.
BNB_USD_DECIMALS = 8
BNB_USD_DESCRIPTION = "BNB / USD"
BNB_USD_ANSWER = 600 * 10**8  # 600 USD per BNB, 8 decimals
BSC_USD_NAME = "Tether USD"  # what the contract at 0x55d3...7955 reports (BscScan labels it "Binance-Peg BSC-USD")
BSC_USD_SYMBOL = "USDT"
BSC_USD_DECIMALS = 18

# Storage slots of the mocks (solc 0.8.37 storageLayout of contracts/test/*.sol, OpenZeppelin 5
# ERC20 first: _balances 0, _allowances 1, _totalSupply 2, _name 3, _symbol 4). The tests read
# every value back through the contracts' getters, so a layout change shows there.
_ERC20_NAME_SLOT = 3
_ERC20_SYMBOL_SLOT = 4
_RESERVE_TOKEN_NAME_SLOT = 5  # MockReserveToken._tokenName
_RESERVE_TOKEN_SYMBOL_SLOT = 6  # MockReserveToken._tokenSymbol
_RESERVE_TOKEN_DECIMALS_SLOT = 7  # MockReserveToken._tokenDecimals (uint8)
_FEED_DECIMALS_SLOT = 0  # MockAggregatorV3._decimals (uint8)
_FEED_DESCRIPTION_SLOT = 1  # _description
_FEED_REVERTING_ROUND_SLOT = 2  # reverting (bool, byte 0) packed with _roundId (uint80, from byte 1)
_FEED_ANSWER_SLOT = 3  # _answer (int256)
_FEED_STARTED_AT_SLOT = 4  # _startedAt
_FEED_UPDATED_AT_SLOT = 5  # _updatedAt
_FEED_ANSWERED_IN_ROUND_SLOT = 6  # _answeredInRound (uint80)


@dataclass(frozen=True)
class CanonicalContract:
    """A BSC mainnet contract that `bsc-local` imitates at the same address."""

    name: str
    address: str
    artifact: str  # the artifact in build/contracts whose runtime code is placed
    state: str  # how its state is set
    source: str  # where the address was checked (details and dates: docs/bsc-addresses.md)


CANONICAL: tuple[CanonicalContract, ...] = (
    CanonicalContract(
        name="WBNB",
        address="0xbb4CdB9CBd36B01bD1cBaEBF2De08d9173bc095c",
        artifact="MockWBNB",
        state="code only: name, symbol and decimals are constants in the code; balances start empty",
        source="Chainlink CCIP directory, BNB Chain mainnet (fee token WBNB 0xbb4C...095c); "
        "PancakeSwap default token list (WBNB Token, chainId 56)",
    ),
    CanonicalContract(
        name="BNB/USD",
        address="0x0567F2323251f0Aab15c8dFb1967E4e8A7D42aeE",
        artifact="MockAggregatorV3",
        state="storage: decimals 8, description 'BNB / USD', round 1 with the answer given, "
        "startedAt = updatedAt = the latest block's timestamp, not reverting",
        source="BNB Chain documentation, 'BNB Smart Chain Price Feeds from Chainlink' "
        "(docs.bnbchain.org/docs/link/): Aggregator BNB/USD",
    ),
    CanonicalContract(
        name="BSC-USD",
        address="0x55d398326f99059fF775485246999027B3197955",
        artifact="MockReserveToken",
        state=f"storage: name '{BSC_USD_NAME}', symbol '{BSC_USD_SYMBOL}', decimals {BSC_USD_DECIMALS} "
        "(in the mock's metadata slots and OpenZeppelin's _name/_symbol); supply starts at 0",
        source="PancakeSwap default token list (Binance Pegged USDT, chainId 56, 18 decimals)",
    ),
    CanonicalContract(
        name="Multicall3",
        address="0xcA11bde05977b3631167028862bE2a173976CA11",
        artifact="Multicall3Lite",
        state="code only: no storage, no constructor",
        source="Multicall3 deployment list (github.com/mds1/multicall deployments.json): BNB Smart Chain, chainId 56",
    ),
)

ADDRESSES: dict[str, str] = {c.name: c.address for c in CANONICAL}


def canonical(name: str) -> CanonicalContract:
    """The entry of CANONICAL called ``name`` (``WBNB``, ``BNB/USD``, ``BSC-USD``, ``Multicall3``)."""
    for entry in CANONICAL:
        if entry.name == name:
            return entry
    raise ConfigError(f"no canonical BSC contract called '{name}' (known: {', '.join(ADDRESSES)})")


# --- Storage encoding ---


def _word(value: int) -> str:
    """A 32-byte storage word; negative integers in two's complement (int256)."""
    if not -(2**255) <= value < 2**256:
        raise ValueError(f"{value} does not fit a storage word")
    return "0x" + (value % 2**256).to_bytes(32, "big").hex()


def _string_words(slot: int, text: str) -> dict[int, int]:
    """The storage words of a Solidity ``string`` at ``slot``: inline when shorter than 32 bytes
    (data left-aligned, length * 2 in the last byte), else length * 2 + 1 at ``slot`` and the data
    from keccak256(slot) on."""
    data = text.encode()
    if len(data) < 32:
        return {slot: int.from_bytes(data.ljust(31, b"\0") + bytes([len(data) * 2]), "big")}
    words = {slot: len(data) * 2 + 1}
    base = int.from_bytes(keccak(slot.to_bytes(32, "big")), "big")
    for i in range(0, len(data), 32):
        words[base + i // 32] = int.from_bytes(data[i : i + 32].ljust(32, b"\0"), "big")
    return words


def canonical_storage(entry: CanonicalContract, bnb_usd_answer: int, timestamp: int) -> dict[int, int]:
    """The storage words to write for ``entry`` (slot -> value): what its constructor would set."""
    if entry.artifact == "MockAggregatorV3":
        if not -(2**255) <= bnb_usd_answer < 2**255:
            raise ConfigError(f"the BNB/USD answer {bnb_usd_answer} does not fit an int256")
        round_id = 1
        return {
            _FEED_DECIMALS_SLOT: BNB_USD_DECIMALS,
            **_string_words(_FEED_DESCRIPTION_SLOT, BNB_USD_DESCRIPTION),
            _FEED_REVERTING_ROUND_SLOT: round_id << 8,  # reverting = false
            _FEED_ANSWER_SLOT: bnb_usd_answer,
            _FEED_STARTED_AT_SLOT: timestamp,
            _FEED_UPDATED_AT_SLOT: timestamp,
            _FEED_ANSWERED_IN_ROUND_SLOT: round_id,
        }
    if entry.artifact == "MockReserveToken":
        return {
            **_string_words(_ERC20_NAME_SLOT, BSC_USD_NAME),
            **_string_words(_ERC20_SYMBOL_SLOT, BSC_USD_SYMBOL),
            **_string_words(_RESERVE_TOKEN_NAME_SLOT, BSC_USD_NAME),
            **_string_words(_RESERVE_TOKEN_SYMBOL_SLOT, BSC_USD_SYMBOL),
            _RESERVE_TOKEN_DECIMALS_SLOT: BSC_USD_DECIMALS,
        }
    return {}  # MockWBNB, Multicall3Lite: constants only


# --- Placing ---


def _rpc(w3: Web3, method: str, params: list[object]) -> object:
    response = w3.provider.make_request(method, params)  # type: ignore[arg-type]
    error = response.get("error")
    if error:
        message = error.get("message", error) if isinstance(error, dict) else error
        raise RpcUnavailableError(f"{method} failed: {message} (is this an anvil node?)")
    return response.get("result")


def place_canonical(w3: Web3, artifacts: Artifacts, bnb_usd_answer: int = BNB_USD_ANSWER) -> dict[str, str]:
    """Places every CANONICAL contract on the anvil chain of ``w3``: its runtime code, then its
    storage. Returns name -> address.

    Idempotent: placing again writes the same code and resets the slots it owns (the feed gets a
    fresh round at the latest block's time); balances and allowances are left as they are.
    """
    codes = {}
    for entry in CANONICAL:  # every artifact first: nothing is placed when one is missing
        code = artifacts.get(entry.artifact).deployed_bytecode
        if not code or code in ("0x", "0x0"):
            raise ArtifactError(f"{entry.artifact} has no runtime code: compile first (brownie compile)")
        codes[entry.name] = code if code.startswith("0x") else "0x" + code
    timestamp = int(w3.eth.get_block("latest")["timestamp"])
    placed = {}
    for entry in CANONICAL:
        address = Web3.to_checksum_address(entry.address)
        _rpc(w3, "anvil_setCode", [address, codes[entry.name]])
        for slot, value in canonical_storage(entry, bnb_usd_answer, timestamp).items():
            _rpc(w3, "anvil_setStorageAt", [address, hex(slot), _word(value)])
        if w3.eth.get_code(address).hex().removeprefix("0x") != codes[entry.name].removeprefix("0x").lower():
            raise RpcUnavailableError(f"the code of {entry.name} did not stick at {address}")
        placed[entry.name] = address
    return placed


def start_bsc_local(settings: Settings, port: int | None = None, bnb_usd_answer: int = BNB_USD_ANSWER) -> LocalNode:
    """Starts anvil as `bsc-local` (chain id 56, the hardfork of ``somstack.anvil``) on ``port``
    (a free one if None) and places the CANONICAL contracts. The caller stops the node."""
    node = LocalNode(settings, BSC_CHAIN_ID, port).start()
    try:
        place_canonical(Web3(Web3.HTTPProvider(node.url)), Artifacts(settings.root), bnb_usd_answer)
    except BaseException:
        node.stop()
        raise
    return node


def ensure_canonical(w3: Web3, artifacts: Artifacts) -> list[str]:
    """Places the CANONICAL contracts when one of them has no code (a bsc-local chain that
    brownie, not somstack, started); returns the names placed (none when all are there)."""
    if all(w3.eth.get_code(Web3.to_checksum_address(c.address)) for c in CANONICAL):
        return []
    return list(place_canonical(w3, artifacts))


def start_node_for(settings: Settings, network: Network, port: int | None = None) -> LocalNode:
    """Starts the chain of a dev network on ``port``: `bsc-local` with the canonical contracts,
    a fork of ``network.fork`` (`bsc-fork`), or a plain anvil (`local`). The caller stops it."""
    if network.bsc_canonical:
        return start_bsc_local(settings, port)
    return LocalNode(settings, network.chain_id, port, fork_url=fork_url_of(network)).start()


def fork_url_of(network: Network) -> str | None:
    """The RPC a forking network forks; a clear error when its variable is not set."""
    if not network.fork_source:
        return None
    if not network.fork:
        variable = network.fork_source.strip().lstrip("${").rstrip("}")
        raise ConfigError(f"network '{network.name}' forks ${variable}: set {variable} in .env to a BSC RPC URL (archive node for old blocks)")
    return network.fork


# --- `somstack node [--bsc | --fork]` ---


def _check_port_free(port: int) -> None:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as anvil binds: a closed port in TIME_WAIT is free
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            raise ConfigError(f"port {port} is in use: stop what listens there or choose another port") from None


def _artifacts_ready(settings: Settings) -> Artifacts:
    """The project's artifacts, compiling first when one of the placed contracts has none."""
    artifacts = Artifacts(settings.root)
    try:
        for entry in CANONICAL:
            artifacts.get(entry.artifact)
    except ArtifactError:
        from somstack.core.artifacts import compile_project

        compile_project(settings.root)
    return artifacts


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run_node(
    settings: Settings, bsc: bool, port: int, stop: threading.Event | None = None, fork: Network | None = None
) -> None:
    """Runs a local chain until Ctrl-C or SIGTERM (or until ``stop`` is set), then stops it.

    ``bsc``: `bsc-local` (chain id 56, the canonical BSC contracts placed); ``fork``: that
    forking network (`bsc-fork`: its chain id, forking its ``fork`` RPC); otherwise a plain
    anvil with chain id 31337, like the `local` network. Prints the URL, the chain id, the number
    of unlocked accounts and, for `bsc-local`, the placed contracts.
    """
    fork_url = fork_url_of(fork) if fork is not None else None
    _check_port_free(port)
    artifacts = _artifacts_ready(settings) if bsc and fork is None else None
    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _interrupt) if in_main else None  # SIGTERM stops anvil too
    chain_id = fork.chain_id if fork is not None else BSC_CHAIN_ID if bsc else DEV_CHAIN_ID
    node = LocalNode(settings, chain_id, port, fork_url=fork_url)
    label = fork.name if fork is not None else "bsc-local" if bsc else "local"
    try:
        if fork is not None:
            logger.info(f"forking {fork.fork_source} (chain {chain_id}): the first block may take a while")
        node.start()
        w3 = Web3(Web3.HTTPProvider(node.url))
        placed = place_canonical(w3, artifacts) if artifacts is not None else {}
        logger.info(f"{label} chain: anvil at {node.url}")
        logger.info(f"  chain id  {w3.eth.chain_id}")
        if fork is not None:
            logger.info(f"  forked at block {w3.eth.block_number:,} of {fork.fork_source}")
        logger.info(f"  hardfork  {settings.anvil.get('hardfork', 'prague')}")
        logger.info(f"  accounts  {len(w3.eth.accounts)} unlocked (anvil's default mnemonic)")
        if placed:
            logger.info("  canonical BSC contracts (mocks at the mainnet addresses):")
            for name, address in placed.items():
                logger.info(f"    {name:<11s} {address}  ({canonical(name).artifact})")
        logger.info("Ctrl-C stops the chain (its state is not kept).")
        while not (stop is not None and stop.is_set()):
            if node.process is None or node.process.poll() is not None:
                time.sleep(0.5)  # a Ctrl-C reaches anvil too (same process group): let ours arrive
                raise RpcUnavailableError(f"anvil at {node.url} stopped on its own")
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass
    finally:
        node.stop()
        if in_main:
            signal.signal(signal.SIGTERM, previous)
    logger.info("chain stopped")
