"""Connection to a chain, the chain-id guard, signers, sending, and the local anvil node."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Protocol

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.exceptions import ContractCustomError, ContractLogicError, TransactionNotFound

from .config import Network, Settings
from .errors import (
    ChainMismatchError,
    ConfigError,
    ErrorDecoder,
    InsufficientFundsError,
    RpcUnavailableError,
    TransactionFailed,
)

RPC_TIMEOUT = 10  # [s] per request


def connect(network: Network, timeout: float = RPC_TIMEOUT) -> Web3:
    """A Web3 connected to ``network``'s RPC, after checking that it serves the right chain."""
    if not network.rpc:
        raise ConfigError(
            f"network '{network.name}' has no RPC URL: set {network.rpc_source.lstrip('${').rstrip('}')} in .env"
        )
    w3 = Web3(Web3.HTTPProvider(network.rpc, request_kwargs={"timeout": timeout}))
    check_chain(w3, network)
    return w3


def check_chain(w3: Web3, network: Network) -> int:
    """Returns the chain id; raises when the RPC is silent or serves another chain."""
    try:
        chain_id = w3.eth.chain_id
    except Exception as exc:  # requests/aiohttp/OSError: any failure to talk is "no answer"
        raise RpcUnavailableError(f"the RPC of network '{network.name}' does not answer ({type(exc).__name__})") from None
    if chain_id != network.chain_id:
        raise ChainMismatchError(
            f"network '{network.name}' expects chain id {network.chain_id}, but its RPC serves chain {chain_id}"
        )
    return chain_id


# --- Signers ---


class Signer(Protocol):
    """Who sends: an address, and a way to get a transaction onto the chain."""

    address: str

    def send(self, w3: Web3, tx: dict[str, Any]) -> bytes: ...


@dataclass
class LocalSigner:
    """Signs locally with an eth-account key (operators, live networks). Never prints the key."""

    account: LocalAccount

    @property
    def address(self) -> str:
        return self.account.address

    def send(self, w3: Web3, tx: dict[str, Any]) -> bytes:
        signed = self.account.sign_transaction(tx)
        return w3.eth.send_raw_transaction(signed.raw_transaction)

    def __repr__(self) -> str:
        return f"LocalSigner({self.address})"


@dataclass
class NodeSigner:
    """An account the node holds unlocked (anvil's dev accounts): the node signs."""

    address: str

    def send(self, w3: Web3, tx: dict[str, Any]) -> bytes:
        return w3.eth.send_transaction(tx)  # type: ignore[arg-type]


# --- Sending ---


@dataclass
class Sender:
    """Builds, checks, sends and confirms transactions for one signer on one chain.

    Every revert, whether found while estimating gas or after mining, becomes a
    :class:`TransactionFailed` carrying the decoded custom error.
    """

    w3: Web3
    signer: Signer
    decoder: ErrorDecoder
    confirmations_timeout: float = 180.0
    on_sent: Callable[[str], None] | None = None

    def transact(self, tx: dict[str, Any], what: str) -> Any:
        """Sends ``tx`` (fields ``to``/``data``/``value``) and returns the receipt."""
        return self.wait(self.submit(tx, what), what)

    def submit(self, tx: dict[str, Any], what: str) -> str:
        """Estimates, checks the balance, sends; returns the transaction hash without waiting."""
        tx = {k: v for k, v in tx.items() if v is not None}
        tx["from"] = self.signer.address
        tx.setdefault("value", 0)
        tx["chainId"] = self.w3.eth.chain_id
        try:
            gas = self.w3.eth.estimate_gas(tx)  # type: ignore[arg-type]
        except (ContractCustomError, ContractLogicError) as exc:
            raise self._failure(what, getattr(exc, "data", None)) from None
        tx["gas"] = gas * 12 // 10 + 10_000  # margin for state that moves between estimate and inclusion
        tx["gasPrice"] = self.w3.eth.gas_price
        need = tx["gas"] * tx["gasPrice"] + int(tx["value"])
        balance = self.w3.eth.get_balance(self.signer.address)
        if balance < need:
            raise InsufficientFundsError(
                f"{self.signer.address} holds {Web3.from_wei(balance, 'ether')} BNB, "
                f"{what} needs up to {Web3.from_wei(need, 'ether')} BNB"
            )
        tx["nonce"] = self.w3.eth.get_transaction_count(self.signer.address, "pending")
        tx_hash = self.signer.send(self.w3, tx).hex()
        tx_hash = tx_hash if tx_hash.startswith("0x") else "0x" + tx_hash
        if self.on_sent:
            self.on_sent(tx_hash)
        return tx_hash

    def wait(self, tx_hash: str, what: str) -> Any:
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=self.confirmations_timeout)  # type: ignore[arg-type]
        if receipt["status"] != 1:
            raise self._failure(what, self._replay(tx_hash), tx_hash)
        return receipt

    def receipt_if_mined(self, tx_hash: str) -> Any | None:
        """The receipt of an earlier transaction, waiting for it if the node still knows it."""
        try:
            self.w3.eth.get_transaction(tx_hash)  # type: ignore[arg-type]
        except TransactionNotFound:
            return None
        return self.wait(tx_hash, f"transaction {tx_hash}")

    def _replay(self, tx_hash: str) -> Any:
        tx = self.w3.eth.get_transaction(tx_hash)  # type: ignore[arg-type]
        call = {"from": tx["from"], "to": tx.get("to"), "data": tx["input"], "value": tx["value"]}
        try:
            self.w3.eth.call(call, tx["blockNumber"] - 1)  # type: ignore[arg-type]
        except (ContractCustomError, ContractLogicError) as exc:
            return getattr(exc, "data", None)
        return None

    def _failure(self, what: str, data: Any, tx_hash: str | None = None) -> TransactionFailed:
        decoded = self.decoder.decode(data if isinstance(data, (str, bytes)) else None)
        reason = str(decoded) if decoded else "reverted without a known reason"
        return TransactionFailed(f"{what} reverted: {reason}", decoded, tx_hash)


# --- The local node ---


def anvil_executable(root: Path) -> str:
    local = root / "node_modules" / ".bin" / "anvil"
    if local.exists():
        return str(local)
    found = shutil.which("anvil")
    if not found:
        raise ConfigError("anvil not found: run `make install` (it comes from the npm package @foundry-rs/anvil)")
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LocalNode:
    """An anvil chain of our own, configured like the `local` network (hardfork, accounts)."""

    def __init__(self, settings: Settings, chain_id: int, port: int | None = None):
        self.settings = settings
        self.chain_id = chain_id
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 20.0) -> "LocalNode":
        anvil = self.settings.anvil
        cmd = [
            anvil_executable(self.settings.root),
            "--port", str(self.port),
            "--chain-id", str(self.chain_id),
            "--hardfork", str(anvil.get("hardfork", "prague")),
            "--accounts", str(anvil.get("accounts", 20)),
            "--gas-limit", str(anvil.get("gas_limit", 30_000_000)),
            "--silent",
        ]
        self.process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=os.environ.copy())
        deadline = time.monotonic() + timeout
        w3 = Web3(Web3.HTTPProvider(self.url, request_kwargs={"timeout": 2}))
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RpcUnavailableError(f"anvil exited at start (code {self.process.returncode})")
            try:
                if w3.eth.chain_id == self.chain_id:
                    return self
            except Exception:  # not listening yet
                time.sleep(0.1)
        self.stop()
        raise RpcUnavailableError(f"anvil did not answer on {self.url} within {timeout:.0f} s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process = None

    def __enter__(self) -> "LocalNode":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
