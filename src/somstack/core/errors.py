"""The exception tree of SomStack, and the decoding of revert data into named custom errors.

Every error an operator can cause (bad key, wrong chain, silent RPC, empty wallet, a revert)
is a :class:`SomstackError`; the CLI prints it as one line and exits with the ``exit_code`` of its
class: the codes are decided here, in the hierarchy, and listed in docs/errors.md.
"""

from __future__ import annotations

from typing import Any, Iterable

from eth_abi import decode as abi_decode
from eth_utils import keccak, to_checksum_address

# Exit codes of the CLI (docs/errors.md): 0 done, 2 usage (click's), 130 interrupted (Ctrl-C).
EXIT_ERROR = 1  # any other error SomStack raises on purpose
EXIT_INPUT = 3  # a value given to the command is malformed
EXIT_MISSING_ROLE = 4  # the signer lacks the AccessManager role the function needs
EXIT_REFUSED = 5  # the contract refused (a revert) or would refuse (checked before sending)
EXIT_CHAIN_UNAVAILABLE = 6  # the RPC does not answer, or answers for another chain
EXIT_INTERRUPTED = 130


class SomstackError(Exception):
    """Root of every error SomStack raises on purpose."""

    exit_code = EXIT_ERROR


class InputError(SomstackError):
    """A value given to a command (an address, a hash, an amount, a file) is malformed."""

    exit_code = EXIT_INPUT


class MissingRoleError(SomstackError):
    """The signer lacks the AccessManager role that the function needs."""

    exit_code = EXIT_MISSING_ROLE


class RefusedError(SomstackError):
    """The contract refused the operation (a revert), or would refuse it (checked before
    sending): the message says why."""

    exit_code = EXIT_REFUSED


class ConfigError(SomstackError):
    """The configuration (brownie-config.yaml, .env, options) is missing or malformed."""


class KeyLoadError(SomstackError):
    """A signing key is missing or malformed. The message never contains the key."""


class HsmError(KeyLoadError):
    """A PKCS#11 module, token, PIN or key cannot be used (somstack.core.hsm); one line, no PIN."""


class HsmConnectionLost(HsmError):
    """The token stopped answering while signing: what was sent before stays sent, and a rerun
    of a deploy or a payroll resumes after it."""


class RpcUnavailableError(SomstackError):
    """The RPC endpoint of a network does not answer."""

    exit_code = EXIT_CHAIN_UNAVAILABLE


class ChainMismatchError(SomstackError):
    """The RPC answers for another chain than the named network's."""

    exit_code = EXIT_CHAIN_UNAVAILABLE


class InsufficientFundsError(SomstackError):
    """The sender cannot pay for what it is about to send."""


class ArtifactError(SomstackError):
    """A compiled artifact is missing or unreadable."""


class StorageLayoutError(SomstackError):
    """A contract's storage layout changed other than by appending since the last release
    (security/storage-layouts/), or cannot be read."""


class ManifestError(SomstackError):
    """The deployment manifest is unreadable or does not match the chain."""


class ConfirmationTimeout(SomstackError):
    """A sent transaction was not mined within the confirmation timeout. It may still be mined;
    a deployment or a payroll rerun finds it (manifest, batch ids), other commands must be
    checked on chain before they are run again."""

    def __init__(self, message: str, tx_hash: str):
        super().__init__(message)
        self.tx_hash = tx_hash


class TransactionFailed(RefusedError):
    """A transaction reverted; ``error`` is the decoded custom error, if any."""

    def __init__(self, message: str, error: "DecodedError | None" = None, tx_hash: str | None = None):
        super().__init__(message)
        self.error = error
        self.tx_hash = tx_hash


class DecodedError:
    """A custom error decoded from revert data: its name and its arguments."""

    def __init__(self, name: str, args: dict[str, Any]):
        self.name = name
        self.args = args

    def __str__(self) -> str:
        inner = ", ".join(f"{k}={_fmt(v)}" for k, v in self.args.items())
        return f"{self.name}({inner})"

    def __repr__(self) -> str:
        return f"DecodedError({self})"


def _fmt(value: Any) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return str(value)


def _abi_type(param: dict[str, Any]) -> str:
    kind = param["type"]
    if kind.startswith("tuple"):
        inner = ",".join(_abi_type(c) for c in param["components"])
        return f"({inner}){kind[5:]}"
    return kind


_PANIC_SELECTOR = bytes.fromhex("4e487b71")
_ERROR_SELECTOR = bytes.fromhex("08c379a0")


class ErrorDecoder:
    """Maps 4-byte selectors of custom errors, gathered from ABIs, to their names and types."""

    def __init__(self, abis: Iterable[list[dict[str, Any]]]):
        self._errors: dict[bytes, tuple[str, list[dict[str, Any]]]] = {}
        for abi in abis:
            for item in abi:
                if item.get("type") != "error":
                    continue
                types = ",".join(_abi_type(i) for i in item["inputs"])
                selector = keccak(text=f"{item['name']}({types})")[:4]
                self._errors[selector] = (item["name"], item["inputs"])

    def decode(self, data: bytes | str | None) -> DecodedError | None:
        """Decodes revert ``data``; ``None`` when it is empty or unknown."""
        if data is None:
            return None
        if isinstance(data, str):
            text = data[2:] if data.startswith("0x") else data
            try:
                data = bytes.fromhex(text)
            except ValueError:
                return None
        if len(data) < 4:
            return None
        selector, body = data[:4], data[4:]
        try:
            if selector == _ERROR_SELECTOR:
                return DecodedError("Error", {"message": abi_decode(["string"], body)[0]})
            if selector == _PANIC_SELECTOR:
                return DecodedError("Panic", {"code": hex(abi_decode(["uint256"], body)[0])})
            if selector not in self._errors:
                return None
            name, inputs = self._errors[selector]
            values = abi_decode([_abi_type(i) for i in inputs], body)
        except Exception:  # malformed revert data: report it as unknown, never crash on it
            return None
        args = {}
        for index, (param, value) in enumerate(zip(inputs, values)):
            if param["type"] == "address":
                value = to_checksum_address(value)
            args[param["name"] or f"arg{index}"] = value
        return DecodedError(name, args)
