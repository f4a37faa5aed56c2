"""What the relayer checks before it accepts an authorization, and why it refuses one.

Off chain first (no RPC): the JSON shape and types, the validity window against the clock, and
the EIP-712 signature recovered with eth-account (:mod:`somstack.core.signatures` builds the typed
message; high-s signatures are refused as OZ's ECDSA refuses them). Then on chain, in one
JSON-RPC batch: whether the nonce is used (``authorizationState``), the token's own pre-check
(``detectTransferRestriction``: pause, blocklist, KYC registration, tier limits, balance) and the
sender's balance; an ERC-1271 wallet's ``isValidSignature`` when the signer holds code; and last
a simulation of the very call the relayer will send (``eth_estimateGas`` from the relayer's
address), whose revert is decoded into a reason.

Every refusal is a :class:`Refusal` carrying an HTTP status and a machine-readable reason.
"""

from __future__ import annotations

import functools
import re
import time
from dataclasses import dataclass
from typing import Any

from eth_abi import encode as abi_encode
from eth_keys import KeyAPI
from eth_utils import keccak
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import ContractCustomError, ContractLogicError

from somstack.core.errors import ErrorDecoder, InputError, RpcUnavailableError
from somstack.core.format import parse_address, parse_bytes32
from somstack.core.signatures import AUTHORIZATION_TYPES, Domain, typed_message
from somstack.relay.store import Transfer, authorization_id

UINT256_MAX = 2**256 - 1
SECP256K1_HALF_N = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0
MAX_SIGNATURE_BYTES = 2048  # an ERC-1271 wallet's signature may be longer than 65 bytes
ERC1271_MAGIC = bytes.fromhex("1626ba7e")
ERC1271_ABI = [{
    "type": "function", "name": "isValidSignature", "stateMutability": "view",
    "inputs": [{"name": "hash", "type": "bytes32"}, {"name": "signature", "type": "bytes"}],
    "outputs": [{"name": "", "type": "bytes4"}],
}]

# reason -> HTTP status of the refusal
REASONS: dict[str, int] = {
    "malformed": 400,
    "wrong_chain": 400,
    "bad_signature": 400,
    "not_relayer_recipient": 400,
    "unauthorized_api_key": 401,
    "fee_required": 402,
    "unknown_token": 404,
    "nonce_used": 409,
    "request_timeout": 408,
    "too_large": 413,
    "unsupported_media_type": 415,
    "expired": 422,
    "not_yet_valid": 422,
    "blocked": 422,
    "paused": 422,
    "not_registered": 422,
    "tier_limit": 422,
    "insufficient_balance": 422,
    "rejected": 422,
    "rate_limited": 429,
    "relayer_low_balance": 503,
    "chain_unavailable": 503,
}

# detectTransferRestriction codes (contracts/libraries/TransferRestrictions.sol) -> reason
RESTRICTIONS = {1: "paused", 2: "blocked", 3: "blocked", 4: "insufficient_balance", 5: "malformed", 6: "malformed",
                7: "blocked", 9: "not_registered", 10: "not_registered", 11: "tier_limit", 12: "tier_limit",
                13: "tier_limit"}


class Refusal(Exception):
    """The relayer does not take the request: ``reason`` (machine-readable), an HTTP status,
    and a one-line message for people."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason
        self.status = REASONS[reason]


@dataclass(frozen=True)
class TokenInfo:
    """A token the relayer serves: its handle, its EIP-712 domain and its short name."""

    key: str  # kgst, som
    contract: Contract
    domain: Domain
    decimals: int


@dataclass(frozen=True)
class Authorization:
    """A parsed request body (before any chain check)."""

    token: str
    kind: str
    sender: str
    recipient: str
    value: int
    valid_after: int
    valid_before: int
    nonce: bytes
    signature: bytes

    @property
    def id(self) -> str:
        return authorization_id(self.token, self.sender, self.nonce)

    @property
    def primary(self) -> str:
        # a redemption is a receive authorization to the redemption queue (nonce = payout reference)
        return "ReceiveWithAuthorization" if self.kind in ("receive", "redeem") else "TransferWithAuthorization"

    @property
    def target(self) -> str:
        """The contract the relayer calls: the token, or for a redemption the queue."""
        return self.recipient if self.kind == "redeem" else self.token

    def message(self) -> dict[str, Any]:
        return {"from": self.sender, "to": self.recipient, "value": self.value, "validAfter": self.valid_after,
                "validBefore": self.valid_before, "nonce": self.nonce}

    def record(self, gas: int, fee_for: str | None = None) -> Transfer:
        return Transfer(id=self.id, token=self.token, kind=self.kind, sender=self.sender, recipient=self.recipient,
                        value=self.value, valid_after=self.valid_after, valid_before=self.valid_before,
                        nonce="0x" + self.nonce.hex(), signature="0x" + self.signature.hex(), gas=gas, fee_for=fee_for)


# --- Parsing (off chain) ---


def _malformed(message: str) -> Refusal:
    return Refusal("malformed", message)


def _uint(body: dict[str, Any], key: str) -> int:
    value = body.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise _malformed(f"{key} must be an integer or a string of decimal digits")
    if isinstance(value, str):
        if not re.fullmatch(r"[0-9]{1,78}", value, re.ASCII):  # str.isdigit() takes "²" (int() then raises) and "٣"
            raise _malformed(f"{key} must be an integer or a string of decimal digits")
        value = int(value)
    if not 0 <= value <= UINT256_MAX:
        raise _malformed(f"{key} must fit a uint256")
    return value


def _text(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str):
        raise _malformed(f"{key} must be a string")
    return value


def _address(body: dict[str, Any], key: str) -> str:
    try:
        return parse_address(_text(body, key), key)
    except InputError as exc:
        raise _malformed(str(exc)) from None


def _signature(body: dict[str, Any]) -> bytes:
    text = _text(body, "signature")
    try:
        value = bytes.fromhex(text[2:]) if text.startswith("0x") else b""
    except ValueError:
        value = b""
    if not 65 <= len(value) <= MAX_SIGNATURE_BYTES:
        raise _malformed(f"signature must be 0x and 65 to {MAX_SIGNATURE_BYTES} bytes of hex")
    return value


def parse(body: Any, token: str, kind: str | None = None) -> Authorization:
    """The authorization in a request body (``token`` already resolved); ``kind`` forces the
    kind (a fee authorization is always a receive)."""
    if not isinstance(body, dict):
        raise _malformed("the body must be a JSON object")
    kind = kind or body.get("kind", "transfer")
    if kind not in ("transfer", "receive", "redeem"):
        raise _malformed("kind must be 'transfer', 'receive' or 'redeem'")
    try:
        nonce = parse_bytes32(_text(body, "nonce"), "nonce")
    except InputError as exc:
        raise _malformed(str(exc)) from None
    value = _uint(body, "value")
    if value == 0:
        raise _malformed("value must be more than zero")
    return Authorization(token=token, kind=kind, sender=_address(body, "from"), recipient=_address(body, "to"), value=value,
                         valid_after=_uint(body, "validAfter"), valid_before=_uint(body, "validBefore"), nonce=nonce,
                         signature=_signature(body))


def check_window(auth: Authorization, margin: int, now: float | None = None) -> None:
    """EIP-3009 validity: validAfter < now < validBefore, with ``margin`` [s] left to get mined."""
    now = time.time() if now is None else now
    if auth.valid_after >= now:
        raise Refusal("not_yet_valid", f"the authorization is valid only after {auth.valid_after} (now {int(now)})")
    if auth.valid_before <= now + margin:
        raise Refusal("expired", f"the authorization expires at {auth.valid_before}: too late to relay (now {int(now)}, "
                                 f"{margin} s needed to get mined)")


_DOMAIN_TYPEHASH = keccak(text="EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)")
_TYPEHASHES = {kind: keccak(text=f"{primary}(address from,address to,uint256 value,uint256 validAfter,uint256 "
                                 "validBefore,bytes32 nonce)")
               for kind, primary in (("transfer", "TransferWithAuthorization"), ("receive", "ReceiveWithAuthorization"))}


@functools.lru_cache(maxsize=64)
def domain_separator(domain: Domain) -> bytes:
    return keccak(abi_encode(["bytes32", "bytes32", "bytes32", "uint256", "address"],
                             [_DOMAIN_TYPEHASH, keccak(text=domain.name), keccak(text=domain.version), domain.chain_id,
                              domain.verifying_contract]))


def digest(domain: Domain, auth: Authorization) -> bytes:
    """The EIP-712 hash the token checks (``_hashTypedDataV4``), computed directly (the generic
    typed-data encoder took milliseconds; test_relay_limits checks both agree)."""
    struct = keccak(_TYPEHASHES["receive" if auth.kind == "redeem" else auth.kind] + abi_encode(
        ["address", "address", "uint256", "uint256", "uint256", "bytes32"],
        [auth.sender, auth.recipient, auth.value, auth.valid_after, auth.valid_before, auth.nonce]))
    return keccak(b"\x19\x01" + domain_separator(domain) + struct)


def typed_digest(domain: Domain, auth: Authorization) -> bytes:
    """The same hash through eth-account's typed-data encoder (the reference)."""
    signable = typed_message(domain, auth.primary, AUTHORIZATION_TYPES, auth.message())
    return keccak(b"\x19" + signable.version + signable.header + signable.body)


def recover(domain: Domain, auth: Authorization) -> str | None:
    """The ECDSA signer of a 65-byte signature, or None (malleable high-s, or unrecoverable);
    secp256k1 through eth-keys, in C with coincurve."""
    sig = auth.signature
    if len(sig) != 65 or int.from_bytes(sig[32:64], "big") > SECP256K1_HALF_N:
        return None
    v = sig[64] - 27 if sig[64] >= 27 else sig[64]
    if v not in (0, 1):
        return None
    try:
        signature = KeyAPI.Signature(vrs=(v, int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:64], "big")))
        return signature.recover_public_key_from_msg_hash(digest(domain, auth)).to_checksum_address()
    except Exception:  # r or s out of range, no point on the curve: not a signature of anybody
        return None


# --- On chain ---


def _selector(signature: str) -> bytes:
    return keccak(text=signature)[:4]


_AUTH_TYPES = ["address", "address", "uint256", "uint256", "uint256", "bytes32", "bytes"]
_SELECTORS = {
    "transfer": _selector("transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,bytes)"),
    "receive": _selector("receiveWithAuthorization(address,address,uint256,uint256,uint256,bytes32,bytes)"),
}
_REDEEM = _selector("requestRedemptionWithAuthorization(address,uint256,bytes32,uint256,uint256,bytes)")
_REDEEM_TYPES = ["address", "uint256", "bytes32", "uint256", "uint256", "bytes"]
_AUTHORIZATION_STATE = _selector("authorizationState(address,bytes32)")
_DETECT = _selector("detectTransferRestriction(address,address,uint256)")
_BALANCE_OF = _selector("balanceOf(address)")


def encode(selector: bytes, types: list[str], args: list[Any]) -> str:
    return "0x" + (selector + abi_encode(types, args)).hex()


def call_data(auth: Authorization) -> str:
    """The calldata of the bytes-signature overload (ISignedTransfers), valid for EOAs and
    ERC-1271 wallets alike (encoded with eth-abi: the submitter encodes thousands)."""
    if auth.kind == "redeem":  # RedemptionQueue.requestRedemptionWithAuthorization: the nonce is the payout reference
        return encode(_REDEEM, _REDEEM_TYPES, [auth.sender, auth.value, auth.nonce, auth.valid_after, auth.valid_before, auth.signature])
    args = [auth.sender, auth.recipient, auth.value, auth.valid_after, auth.valid_before, auth.nonce, auth.signature]
    return encode(_SELECTORS[auth.kind], _AUTH_TYPES, args)


def check_contract_signature(w3: Web3, token: TokenInfo, auth: Authorization) -> None:
    """For a signature that does not recover to ``from``: accepted only when ``from`` is a
    contract wallet whose ERC-1271 ``isValidSignature`` approves it."""
    if not w3.eth.get_code(auth.sender):  # type: ignore[arg-type]
        raise Refusal("bad_signature", f"the signature is not {auth.sender}'s for this token and chain")
    wallet = w3.eth.contract(address=auth.sender, abi=ERC1271_ABI)  # type: ignore[call-overload]
    try:
        magic = wallet.functions.isValidSignature(digest(token.domain, auth), auth.signature).call()
    except (ContractCustomError, ContractLogicError, ValueError):
        magic = b""
    if bytes(magic) != ERC1271_MAGIC:
        raise Refusal("bad_signature", f"the contract wallet {auth.sender} does not accept the signature (ERC-1271)")


def batch_replies(w3: Web3, calls: list[tuple[str, list[Any]]]) -> list[dict[str, Any]]:
    """One JSON-RPC batch; the replies in the order of the calls (web3 7 matches them up
    already; re-sorting by id would misplace an error reply that has none)."""
    replies = w3.provider.make_batch_request(calls)  # type: ignore[attr-defined]
    if not isinstance(replies, list) or len(replies) != len(calls):
        raise RpcUnavailableError(f"the RPC answered a batch with {str(replies)[:200]}")
    return replies


def check_on_chain(w3: Web3, contract: Contract, auth: Authorization, relayer: str, decoder: ErrorDecoder) -> tuple[int, int]:
    """Asks the chain in one JSON-RPC batch (the signature already checked): the nonce, the
    token's pre-check, the sender's balance and the simulated call. Returns (the sender's
    balance, the gas the call needs)."""
    token = contract.address
    calls = [
        ("eth_call", [{"to": token, "data": encode(_AUTHORIZATION_STATE, ["address", "bytes32"], [auth.sender, auth.nonce])}, "latest"]),
        ("eth_call", [{"to": token, "data": encode(_DETECT, ["address", "address", "uint256"], [auth.sender, auth.recipient, auth.value])}, "latest"]),
        ("eth_call", [{"to": token, "data": encode(_BALANCE_OF, ["address"], [auth.sender])}, "latest"]),
        ("eth_estimateGas", [{"from": relayer, "to": auth.target, "data": call_data(auth)}]),
    ]
    used, restriction, balance, gas = batch_replies(w3, calls)
    for reply in (used, restriction, balance):
        if "error" in reply:
            raise RpcUnavailableError(f"the RPC refused a read of the token: {reply['error']}")
    if int(used["result"], 16):
        raise Refusal("nonce_used", f"the authorization nonce of {auth.sender} is already used or cancelled")
    code = int(restriction["result"], 16)
    reason = RESTRICTIONS.get(code)
    if reason:
        message = contract.functions.messageForTransferRestriction(code).call()
        raise Refusal(reason, f"the token refuses the transfer: {message} (code {code})")
    if "error" in gas:
        raise refusal_of_revert(decoder, (gas["error"] or {}).get("data"), auth)
    return int(balance["result"], 16), int(gas["result"], 16)


def refusal_of_revert(decoder: ErrorDecoder, data: Any, auth: Authorization) -> Refusal:
    """The reason of a simulated call's revert, from its decoded custom error."""
    decoded = decoder.decode(data if isinstance(data, (str, bytes)) else None)
    name = decoded.name if decoded else ""
    text = f"the simulated call reverts: {decoded or 'without a known reason'}"
    if name.endswith("InvalidSignature"):
        return Refusal("bad_signature", text)
    if name == "ERC3009UsedAuthorization":
        return Refusal("nonce_used", text)
    if name == "ERC3009InvalidAuthorizationTime":
        return Refusal("not_yet_valid" if auth.valid_after >= time.time() else "expired", text)
    for fragment, reason in (("Paused", "paused"), ("Blocked", "blocked"), ("NotRegistered", "not_registered"),
                             ("LimitExceeded", "tier_limit"), ("HoldingCap", "tier_limit"),
                             ("InsufficientBalance", "insufficient_balance")):
        if fragment in name:
            return Refusal(reason, text)
    return Refusal("rejected", text)
