"""Keys that never leave a hardware security module: secp256k1 keys generated inside a PKCS#11
token (Thales Luna, Utimaco, YubiHSM, AWS CloudHSM, SoftHSM...), used for signatures only.

The token signs a 32-byte digest (``CKM_ECDSA``) and returns ``r || s``; this module brings
``s`` to its low form, finds ``v`` (:mod:`somstack.core._secp256k1`) and lets eth-account serialize,
so that what an :class:`HsmAccount` signs (legacy and EIP-1559 transactions with their chain id,
EIP-191 and EIP-712 messages) is what eth-account itself would produce and accept. An
:class:`HsmAccount` is an eth-account ``BaseAccount``: a :class:`somstack.core.chain.LocalSigner` and
the relayer sign with it as with a key in memory.

Where things come from: the module (a shared library) from ``--pkcs11-module`` or
``SOMSTACK_PKCS11_MODULE``, the token's label from ``--pkcs11-token`` or
``SOMSTACK_PKCS11_TOKEN``, the user PIN from ``--pin-file`` or ``SOMSTACK_PKCS11_PIN_FILE`` or a
prompt, never from the command line. One login per token and process: a PKCS#11 application
is logged in on all its sessions at once. A wrong PIN is tried once, never again by itself:
the token's own failure counter (and lock) stays as the token keeps it.

A key is refused unless it is an EC key on secp256k1 that the token marks sensitive and not
extractable: a key that could be read out is no HSM key.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

# eth-account's own serialization (what Account.sign_transaction runs), with the token as the key
from eth_account._utils.legacy_transactions import (
    serializable_unsigned_transaction_from_dict,
)
from eth_account._utils.signing import sign_transaction_dict
from eth_account.datastructures import SignedMessage, SignedTransaction
from eth_account.messages import SignableMessage, _hash_eip191_message
from eth_account.signers.base import BaseAccount
from eth_keys.datatypes import Signature as EthSignature
from eth_utils import keccak, to_checksum_address
from hexbytes import HexBytes

from somstack.core import _secp256k1 as ec
from somstack.core.errors import HsmConnectionLost, HsmError

MODULE_VARIABLE = "SOMSTACK_PKCS11_MODULE"
TOKEN_VARIABLE = "SOMSTACK_PKCS11_TOKEN"
PIN_FILE_VARIABLE = "SOMSTACK_PKCS11_PIN_FILE"
SECP256K1_OID = "1.3.132.0.10"
SECP256K1_PARAMS = bytes.fromhex("06052b8104000a")  # DER OBJECT IDENTIFIER 1.3.132.0.10

# Failures that mean the token is gone (unplugged, network HSM unreachable, session dropped),
# as opposed to a refusal about this key or this request.
_LOST = ("SessionHandleInvalid", "SessionClosed", "DeviceRemoved", "DeviceError", "TokenNotPresent",
         "TokenNotRecognised", "GeneralError", "CryptokiNotInitialized", "FunctionFailed")


def _pkcs11() -> Any:
    try:
        import pkcs11
    except ImportError:  # pragma: no cover - a dependency of the package
        raise HsmError("python-pkcs11 is not installed: run `make install`") from None
    return pkcs11


# --- Where the module, token and PIN come from ---


@dataclass(frozen=True)
class HsmOptions:
    """The HSM key options of a command: a key label, and the module, token and PIN sources
    (each falling back to its ``SOMSTACK_PKCS11_*`` variable, read when used, after ``.env``)."""

    key: str | None = None
    module: str | None = None
    token: str | None = None
    pin_file: Path | None = None
    prompt: Callable[[str], str] | None = field(default=None, compare=False, repr=False)

    def module_path(self) -> str:
        module = (self.module or os.environ.get(MODULE_VARIABLE, "")).strip()
        if not module:
            raise HsmError(f"no PKCS#11 module: set {MODULE_VARIABLE} in .env (SoftHSM2: /usr/lib/softhsm/libsofthsm2.so) or pass --pkcs11-module")
        return module

    def token_label(self) -> str:
        token = (self.token or os.environ.get(TOKEN_VARIABLE, "")).strip()
        if not token:
            raise HsmError(f"no PKCS#11 token: set {TOKEN_VARIABLE} in .env (the token's label) or pass --pkcs11-token")
        return token

    def pin(self) -> str:
        """The user PIN: --pin-file, else the file named by SOMSTACK_PKCS11_PIN_FILE, else a
        prompt (never an argument: it would show in the process list and the shell history)."""
        source = self.pin_file or (Path(os.environ[PIN_FILE_VARIABLE]) if os.environ.get(PIN_FILE_VARIABLE, "").strip() else None)
        if source is not None:
            try:
                pin = Path(source).read_text().rstrip("\r\n")
            except OSError as exc:
                raise HsmError(f"cannot read the PIN file {source}: {exc.strerror or type(exc).__name__}") from None
            if not pin:
                raise HsmError(f"the PIN file {source} is empty")
            return pin
        if self.prompt is None:
            raise HsmError(f"no PIN for token '{self.token_label()}': pass --pin-file or set {PIN_FILE_VARIABLE} (no terminal to prompt on)")
        return self.prompt(f"PIN of token '{self.token_label()}'")


# --- The token: one logged-in session per (module, token) and process ---


class _Token:
    def __init__(self, module: str, label: str, session: Any, pin_digest: bytes):
        self.module = module
        self.label = label
        self.session = session
        self.pin_digest = pin_digest
        self.lock = threading.RLock()  # one operation at a time on a session (PKCS#11 rule)
        self.lost = False  # the token stopped answering: the next use logs in again

    def close(self) -> None:
        try:
            self.session.close()
        except Exception:  # already gone with the token
            pass


_TOKENS: dict[tuple[str, str], _Token] = {}
_TOKENS_LOCK = threading.Lock()


def _digest(pin: str) -> bytes:
    return hashlib.sha256(pin.encode()).digest()


def _load(module: str) -> Any:
    pkcs11 = _pkcs11()
    if not Path(module).is_file():
        raise HsmError(f"PKCS#11 module not found: {module} (check {MODULE_VARIABLE}; SoftHSM2's is /usr/lib/softhsm/libsofthsm2.so)")
    try:
        return pkcs11.lib(module)
    except pkcs11.PKCS11Error as exc:
        reason = str(exc).split(": ")[-1] or type(exc).__name__
        raise HsmError(f"PKCS#11 module {module} cannot be loaded ({reason})") from None


def open_token(options: HsmOptions) -> _Token:
    """The logged-in session on the options' token, opened (and the PIN asked) once per process;
    a different PIN logs in again, so that a wrong one is always the token's to judge."""
    module, label = options.module_path(), options.token_label()
    with _TOKENS_LOCK:
        known = _TOKENS.get((module, label))
        pin = options.pin()
        if known is not None and hmac.compare_digest(known.pin_digest, _digest(pin)):
            return known
        if known is not None:
            known.close()
            del _TOKENS[(module, label)]
        token = _TOKENS[(module, label)] = _Token(module, label, _login(module, label, pin), _digest(pin))
        return token


def _login(module: str, label: str, pin: str) -> Any:
    pkcs11 = _pkcs11()
    lib = _load(module)
    try:
        token = lib.get_token(token_label=label)
    except pkcs11.NoSuchToken:
        present = sorted({t.label for t in lib.get_tokens() if t.label.strip()})
        raise HsmError(f"token '{label}' not found in {module} (tokens there: {', '.join(present) or 'none'}; check {TOKEN_VARIABLE})") from None
    except pkcs11.PKCS11Error as exc:
        raise HsmError(f"cannot list the tokens of {module} ({type(exc).__name__})") from None
    try:
        return token.open(rw=True, user_pin=pin)
    except pkcs11.PinIncorrect:
        raise HsmError(f"wrong PIN for token '{label}' (not tried again: the token counts failed logins{_pin_state(token)})") from None
    except pkcs11.PinLocked:
        raise HsmError(f"the user PIN of token '{label}' is locked after too many wrong PINs: its security officer must unblock it") from None
    except (pkcs11.PinLenRange, pkcs11.PinInvalid):
        raise HsmError(f"the PIN given for token '{label}' is not a valid PIN for it (length or characters)") from None
    except pkcs11.UserAlreadyLoggedIn:  # logged in by other code of this process: the login holds
        return token.open(rw=True)
    except pkcs11.PKCS11Error as exc:
        raise HsmError(f"cannot log in to token '{label}' ({type(exc).__name__})") from None


def _pin_state(token: Any) -> str:
    """What the token says of its PIN counter (flags), for the wrong-PIN message."""
    try:
        flags = token.flags
        names = {"USER_PIN_FINAL_TRY": "; one try left before it locks", "USER_PIN_COUNT_LOW": "; few tries left"}
        said = [text for name, text in names.items() if getattr(_pkcs11().TokenFlag, name, 0) & flags]
        return said[0] if said else ""
    except Exception:
        return ""


def forget_tokens() -> None:
    """Logs out of every token of this process (tests; a long-running server at its end)."""
    with _TOKENS_LOCK:
        for token in _TOKENS.values():
            token.close()
        _TOKENS.clear()


def _lost(token: _Token, exc: BaseException) -> HsmConnectionLost:
    token.lost = True
    with _TOKENS_LOCK:
        if _TOKENS.get((token.module, token.label)) is token:
            del _TOKENS[(token.module, token.label)]
    token.close()
    return HsmConnectionLost(
        f"the connection to the HSM (token '{token.label}') was lost while signing ({type(exc).__name__}); "
        "what was sent before is on chain: run the command again once the HSM answers (a deploy or a payroll resumes where it stopped)"
    )


def _is_lost(exc: BaseException) -> bool:
    return type(exc).__name__ in _LOST or "not initialized" in str(exc).lower()


# --- Keys ---


@dataclass(frozen=True)
class KeyInfo:
    """A private key of the token as `somstack keys list` shows it."""

    label: str
    address: str | None
    problem: str | None  # why it cannot be used, or None


def _ec_point(der: bytes) -> bytes:
    """The 65-byte uncompressed point of a CKA_EC_POINT: a DER OCTET STRING around 04||X||Y
    (some modules give the raw point)."""
    raw = bytes(der)
    point = raw[-65:]
    if len(point) != 65 or point[0] != 4:
        raise HsmError("the token's public key is not an uncompressed EC point")
    return point


def _address(point: bytes) -> str:
    return to_checksum_address(keccak(point[1:])[-20:])


def _check(private: Any, label: str) -> str | None:
    """Why the private key ``label`` may not sign for SomStack, or None."""
    Attribute, KeyType = _pkcs11().Attribute, _pkcs11().KeyType
    if private[Attribute.KEY_TYPE] != KeyType.EC:
        return f"key '{label}' is not an EC key"
    if bytes(private[Attribute.EC_PARAMS]) != SECP256K1_PARAMS:
        return f"key '{label}' is on another curve than secp256k1"
    if private[Attribute.EXTRACTABLE] or not private[Attribute.SENSITIVE]:
        return f"key '{label}' is extractable or not sensitive: it could leave the token (generate one with `somstack keys generate --hsm`)"
    return None


def _public_point(session: Any, private: Any, label: str, token_label: str) -> bytes:
    """The public point of ``private``: its public key object of the same label, else of the
    same CKA_ID (as vendor tools pair them)."""
    pkcs11 = _pkcs11()
    Attribute, PUBLIC = pkcs11.Attribute, pkcs11.ObjectClass.PUBLIC_KEY
    publics = list(session.get_objects({Attribute.CLASS: PUBLIC, Attribute.LABEL: label}))
    key_id = bytes(private[Attribute.ID] or b"")
    if len(publics) != 1 and key_id:
        publics = list(session.get_objects({Attribute.CLASS: PUBLIC, Attribute.ID: key_id}))
    if len(publics) != 1:
        raise HsmError(f"key '{label}' has {'no' if not publics else len(publics)} public key object(s) of its label or id "
                       f"in token '{token_label}': its address cannot be known")
    return _ec_point(publics[0][Attribute.EC_POINT])


def _find(token: _Token, label: str) -> tuple[Any, bytes]:
    """The private key ``label`` and its public point; refuses a key that is not an HSM key."""
    pkcs11 = _pkcs11()
    session = token.session
    try:
        with token.lock:
            privates = list(session.get_objects({pkcs11.Attribute.CLASS: pkcs11.ObjectClass.PRIVATE_KEY, pkcs11.Attribute.LABEL: label}))
            if len(privates) != 1:
                raise HsmError(f"no key labelled '{label}' in token '{token.label}' (`somstack keys list` shows its keys)" if not privates
                               else f"{len(privates)} keys are labelled '{label}' in token '{token.label}': relabel them")
            problem = _check(privates[0], label)
            if problem:
                raise HsmError(problem + ": refused")
            return privates[0], _public_point(session, privates[0], label, token.label)
    except pkcs11.PKCS11Error as exc:
        if _is_lost(exc):
            raise _lost(token, exc) from None
        raise HsmError(f"cannot read key '{label}' of token '{token.label}' ({type(exc).__name__})") from None


def generate_key(options: HsmOptions, label: str) -> str:
    """Generates a secp256k1 key pair labelled ``label`` inside the token (private half
    sensitive and not extractable); returns its address. Refuses a label already used."""
    pkcs11 = _pkcs11()
    Attribute = pkcs11.Attribute
    if not label.strip():
        raise HsmError("a key needs a label")
    token = open_token(options)
    with token.lock:
        try:
            taken = list(token.session.get_objects({Attribute.LABEL: label}))
            if taken:
                raise HsmError(f"token '{token.label}' already holds an object labelled '{label}': choose another label")
            params = token.session.create_domain_parameters(
                pkcs11.KeyType.EC, {Attribute.EC_PARAMS: pkcs11.util.ec.encode_named_curve_parameters(SECP256K1_OID)}, local=True
            )
            key_id = os.urandom(16)
            public, _private = params.generate_keypair(
                store=True, label=label, id=key_id,
                public_template={Attribute.TOKEN: True, Attribute.VERIFY: True},
                private_template={Attribute.TOKEN: True, Attribute.PRIVATE: True, Attribute.SIGN: True,
                                  Attribute.EXTRACTABLE: False, Attribute.SENSITIVE: True},
            )
            point = _ec_point(public[Attribute.EC_POINT])
        except pkcs11.PKCS11Error as exc:
            if _is_lost(exc):
                raise _lost(token, exc) from None
            raise HsmError(f"token '{token.label}' could not generate a secp256k1 key ({type(exc).__name__})") from None
    account = HsmAccount(token, label)  # reads it back: the checks of any later use
    if account.address != _address(point):
        raise HsmError(f"token '{token.label}' gives key '{label}' another public key than it generated")
    return account.address


def list_keys(options: HsmOptions) -> list[KeyInfo]:
    """Every private key of the token: its address, or why it is refused."""
    pkcs11 = _pkcs11()
    Attribute = pkcs11.Attribute
    token = open_token(options)
    infos = []
    with token.lock:
        try:
            privates = list(token.session.get_objects({Attribute.CLASS: pkcs11.ObjectClass.PRIVATE_KEY}))
            for private in privates:
                label = private[Attribute.LABEL]
                problem = _check(private, label)
                address = None
                if problem is None:
                    try:
                        address = _address(_public_point(token.session, private, label, token.label))
                    except HsmError as exc:
                        problem = str(exc)
                infos.append(KeyInfo(label, address, problem))
        except pkcs11.PKCS11Error as exc:
            if _is_lost(exc):
                raise _lost(token, exc) from None
            raise HsmError(f"cannot list the keys of token '{token.label}' ({type(exc).__name__})") from None
    return sorted(infos, key=lambda i: i.label)


# --- Signing ---


_Q_TABLES: dict[tuple[int, int], ec.Table] = {}


def _q_table(point: tuple[int, int]) -> ec.Table:
    """The window table of a key's public point (about 0.15 s to build), once per process."""
    if point not in _Q_TABLES:
        _Q_TABLES[point] = ec.table(point)
    return _Q_TABLES[point]


class _TokenKey:
    """Stands where eth-account expects an eth-keys ``PrivateKey``: ``sign_msg_hash`` asks the
    token, then makes ``s`` low and finds ``v``."""

    def __init__(self, account: "HsmAccount"):
        self._account = account

    def sign_msg_hash(self, message_hash: bytes) -> EthSignature:
        return self._account._sign_digest(bytes(message_hash))


class HsmAccount(BaseAccount):
    """An eth-account account whose private key stays in a PKCS#11 token.

    Signing the same transaction twice gives the same bytes (the last 256 signatures are kept):
    a sender computes a transaction's hash before sending it (to find out later whether a try
    arrived), as with eth-account's deterministic signatures.
    """

    def __init__(self, token: _Token, label: str, options: HsmOptions | None = None):
        self._token = token
        self._options = options  # to log in again after the token was lost (a long-running relayer)
        self.label = label
        self._private, point = _find(token, label)
        self._address = _address(point)
        self._q_table: ec.Table | None = None
        self._point = (int.from_bytes(point[1:33], "big"), int.from_bytes(point[33:], "big"))
        if not ec.on_curve(self._point):
            raise HsmError(f"key '{label}': the token's public point is not on secp256k1")
        self._key_obj = _TokenKey(self)
        self._signed: OrderedDict[bytes, SignedTransaction] = OrderedDict()
        self._memo_lock = threading.Lock()  # the relayer signs from a worker thread
        self.signatures = 0  # asked of the token (bench, tests)

    @classmethod
    def open(cls, options: HsmOptions) -> "HsmAccount":
        if not options.key:
            raise HsmError("no HSM key label (--hsm-key LABEL)")
        return cls(open_token(options), options.key, options)

    @property
    def address(self) -> Any:
        return self._address

    def __repr__(self) -> str:
        return f"HsmAccount({self.label!r}, {self._address}, token {self._token.label!r})"

    def _reconnect(self) -> None:
        """After the token was lost: log in again and find the same key (same public point)."""
        if self._options is None:
            raise HsmConnectionLost(f"the connection to the HSM (token '{self._token.label}') was lost: run the command again")
        token = open_token(self._options)
        private, point = _find(token, self.label)
        if (int.from_bytes(point[1:33], "big"), int.from_bytes(point[33:], "big")) != self._point:
            raise HsmError(f"key '{self.label}' of token '{token.label}' is another key than before the token was lost: refused")
        self._token, self._private = token, private

    def _sign_digest(self, digest: bytes) -> EthSignature:
        pkcs11 = _pkcs11()
        if self._q_table is None:
            self._q_table = _q_table(self._point)
        if self._token.lost:
            self._reconnect()
        token = self._token
        with token.lock:
            try:
                raw = self._private.sign(digest, mechanism=pkcs11.Mechanism.ECDSA)
            except pkcs11.PKCS11Error as exc:
                if _is_lost(exc):
                    raise _lost(token, exc) from None
                raise HsmError(f"token '{token.label}' refused to sign with key '{self.label}' ({type(exc).__name__})") from None
        self.signatures += 1
        if len(raw) != 64:
            raise HsmError(f"token '{token.label}' returned a {len(raw)}-byte ECDSA signature (expected r||s, 64 bytes)")
        r, s = int.from_bytes(raw[:32], "big"), ec.low_s(int.from_bytes(raw[32:], "big"))
        try:
            v = ec.recovery_id(digest, r, s, self._q_table)
        except ValueError as exc:
            raise HsmError(f"token '{token.label}' returned a signature that does not verify for key '{self.label}' ({exc})") from None
        return EthSignature(vrs=(v, r, s))

    def unsafe_sign_hash(self, message_hash: Any) -> SignedMessage:
        digest = HexBytes(message_hash)
        if len(digest) != 32:
            raise ValueError("The message hash must be exactly 32-bytes")
        v, r, s = self._sign_digest(bytes(digest)).vrs
        v += 27
        return SignedMessage(message_hash=digest, r=r, s=s, v=v,
                             signature=HexBytes(r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes([v])))

    def sign_message(self, signable_message: SignableMessage) -> SignedMessage:
        """EIP-191 (and EIP-712, from ``encode_typed_data``) messages, as eth-account signs them."""
        return self.unsafe_sign_hash(_hash_eip191_message(signable_message))

    def sign_transaction(self, transaction_dict: Any) -> SignedTransaction:
        """A legacy (EIP-155: the chain id in ``v``) or typed (EIP-2930, EIP-1559) transaction,
        serialized by eth-account."""
        tx = dict(transaction_dict)
        sender = tx.pop("from", None)
        if sender is not None and to_checksum_address(sender) != self._address:
            raise TypeError(f"from field must match key's {self._address}, but it was {sender}")
        unsigned = bytes(serializable_unsigned_transaction_from_dict(tx).hash())
        with self._memo_lock:
            known = self._signed.get(unsigned)
            if known is not None:
                self._signed.move_to_end(unsigned)
                return known
        v, r, s, encoded = sign_transaction_dict(self._key_obj, tx)  # type: ignore[arg-type]
        signed = SignedTransaction(raw_transaction=HexBytes(encoded), hash=HexBytes(keccak(encoded)), r=r, s=s, v=v)
        with self._memo_lock:
            signed = self._signed.setdefault(unsigned, signed)  # a concurrent signature of it wins: one hash
            while len(self._signed) > 256:
                self._signed.popitem(last=False)
        return signed


def account_of(options: HsmOptions) -> HsmAccount:
    """The account of ``options.key`` (opens and logs in to the token once per process)."""
    return HsmAccount.open(options)
