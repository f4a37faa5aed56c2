"""Signing keys: a private key from the environment (.env) or an encrypted JSON keystore.

Keys are never printed or logged; error messages name the variable or file, never the value.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount

from somstack.core.errors import KeyLoadError

_HEX_KEY = re.compile(r"^(0x)?[0-9a-fA-F]{64}$")
DEFAULT_KEY_VARIABLE = "DEPLOYER_PRIVATE_KEY"


def key_from_env(variable: str = DEFAULT_KEY_VARIABLE) -> LocalAccount:
    """The account whose private key is in the environment variable ``variable``."""
    value = os.environ.get(variable, "").strip()
    if not value:
        raise KeyLoadError(f"{variable} is not set (put it in .env, see .env.example)")
    if not _HEX_KEY.match(value):
        raise KeyLoadError(f"{variable} is not a private key: expected 64 hex digits, optionally after 0x")
    try:
        return Account.from_key(value)
    except Exception:  # out-of-range scalar and the like; never echo the value
        raise KeyLoadError(f"{variable} is not a valid secp256k1 private key") from None


def key_from_keystore(path: Path, password: str) -> LocalAccount:
    """The account of an encrypted JSON keystore (eth-account), unlocked with ``password``."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise KeyLoadError(f"cannot read keystore {path}: {type(exc).__name__}") from None
    try:
        return Account.from_key(Account.decrypt(data, password))
    except ValueError:
        raise KeyLoadError(f"wrong password for keystore {path}") from None
    except Exception as exc:
        raise KeyLoadError(f"keystore {path} is malformed ({type(exc).__name__})") from None
