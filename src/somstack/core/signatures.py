"""EIP-712 signatures for KGST: EIP-2612 permits and EIP-3009 authorizations, signed locally
with eth-account. Used by the demo, the tests and the relayer client."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data

PERMIT_TYPES = [
    {"name": "owner", "type": "address"},
    {"name": "spender", "type": "address"},
    {"name": "value", "type": "uint256"},
    {"name": "nonce", "type": "uint256"},
    {"name": "deadline", "type": "uint256"},
]
AUTHORIZATION_TYPES = [
    {"name": "from", "type": "address"},
    {"name": "to", "type": "address"},
    {"name": "value", "type": "uint256"},
    {"name": "validAfter", "type": "uint256"},
    {"name": "validBefore", "type": "uint256"},
    {"name": "nonce", "type": "bytes32"},
]
CANCEL_TYPES = [{"name": "authorizer", "type": "address"}, {"name": "nonce", "type": "bytes32"}]


@dataclass(frozen=True)
class Domain:
    """An EIP-712 domain, as ERC-5267 `eip712Domain()` reports it."""

    name: str
    version: str
    chain_id: int
    verifying_contract: str

    @classmethod
    def of(cls, token: Any) -> "Domain":
        """Reads the domain of a deployed token (a web3 or brownie contract handle)."""
        values = token.functions.eip712Domain().call() if hasattr(token, "functions") else token.eip712Domain()
        _fields, name, version, chain_id, verifying, _salt, _extensions = values
        return cls(name, version, int(chain_id), verifying)

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "chainId": self.chain_id, "verifyingContract": self.verifying_contract}


@dataclass(frozen=True)
class Signature:
    v: int
    r: bytes
    s: bytes

    @property
    def packed(self) -> bytes:
        """r ‖ s ‖ v, the 65-byte form of the bytes-signature overloads."""
        return self.r + self.s + bytes([self.v])


def typed_message(domain: Domain, primary: str, types: list[dict[str, str]], message: dict[str, Any]) -> Any:
    """The EIP-712 signable message (also what an ERC-1271 wallet is asked to approve)."""
    typed = {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            primary: types,
        },
        "primaryType": primary,
        "domain": domain.as_dict(),
        "message": message,
    }
    return encode_typed_data(full_message=typed)


def _sign(domain: Domain, primary: str, types: list[dict[str, str]], message: dict[str, Any], key: Any) -> Signature:
    """``key``: a private key, or an account that signs itself (eth-account's, an HSM's)."""
    typed = typed_message(domain, primary, types, message)
    signed = key.sign_message(typed) if hasattr(key, "sign_message") else Account.sign_message(typed, key)
    return Signature(signed.v, signed.r.to_bytes(32, "big"), signed.s.to_bytes(32, "big"))


def sign_permit(domain: Domain, key: Any, owner: str, spender: str, value: int, nonce: int, deadline: int) -> Signature:
    message = {"owner": owner, "spender": spender, "value": value, "nonce": nonce, "deadline": deadline}
    return _sign(domain, "Permit", PERMIT_TYPES, message, key)


def random_nonce() -> bytes:
    """A random 32-byte EIP-3009 nonce, as wallets and payment clients make them."""
    return os.urandom(32)


def sign_authorization(
    domain: Domain,
    key: Any,
    sender: str,
    to: str,
    value: int,
    valid_after: int,
    valid_before: int,
    nonce: bytes,
    receive: bool = False,
) -> Signature:
    """Signs an EIP-3009 TransferWithAuthorization (or ReceiveWithAuthorization)."""
    message = {"from": sender, "to": to, "value": value, "validAfter": valid_after, "validBefore": valid_before, "nonce": nonce}
    primary = "ReceiveWithAuthorization" if receive else "TransferWithAuthorization"
    return _sign(domain, primary, AUTHORIZATION_TYPES, message, key)


def sign_cancel(domain: Domain, key: Any, authorizer: str, nonce: bytes) -> Signature:
    return _sign(domain, "CancelAuthorization", CANCEL_TYPES, {"authorizer": authorizer, "nonce": nonce}, key)
