"""The relayer's Python client (`somstack relay send`): it asks the relayer for the token's
EIP-712 domain (``GET /v1/config``), signs an EIP-3009 TransferWithAuthorization locally with
eth-account (:mod:`somstack.core.signatures`), posts it, and follows it until it is mined. The key
never leaves the process and is never printed.

Trusting the relayer for the domain is safe: a signature only moves the token whose domain it
names, and the client prints the token address it signs for.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import requests
from eth_account.signers.local import LocalAccount

from somstack.core.errors import InputError, RpcUnavailableError, SomstackError
from somstack.core.format import parse_address, parse_units
from somstack.core.signatures import Domain, random_nonce, sign_authorization

logger = logging.getLogger(__name__)


class RelayRefused(SomstackError):
    """The relayer refused the authorization (its reason is in the message)."""


@dataclass
class RelayClient:
    url: str
    timeout: float = 10.0

    def _ask(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        try:
            reply = requests.request(method, self.url.rstrip("/") + path, timeout=self.timeout, **kwargs)
        except requests.exceptions.RequestException as exc:
            raise RpcUnavailableError(f"the relayer at {self.url} does not answer ({type(exc).__name__})") from None
        try:
            return reply.status_code, reply.json()
        except ValueError:
            raise RpcUnavailableError(f"the relayer at {self.url} answered HTTP {reply.status_code} without JSON") from None

    def config(self) -> dict[str, Any]:
        status, body = self._ask("GET", "/v1/config")
        if status != 200:
            raise RpcUnavailableError(f"the relayer at {self.url} answered HTTP {status} to /v1/config")
        return body

    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        status, answer = self._ask("POST", "/v1/transfers", json=body)
        if status >= 400:
            raise RelayRefused(f"the relayer refused the transfer ({answer.get('error')}): {answer.get('message')}")
        return answer

    def status(self, transfer_id: str) -> dict[str, Any]:
        status, answer = self._ask("GET", f"/v1/transfers/{transfer_id}")
        if status != 200:
            raise RelayRefused(f"the relayer does not know transfer {transfer_id} ({answer.get('error')})")
        return answer

    def wait(self, transfer_id: str, timeout: float = 120.0, pause: float = 0.5) -> dict[str, Any]:
        """The transfer's record once confirmed or failed (or as it is after ``timeout``)."""
        deadline = time.monotonic() + timeout
        while True:
            answer = self.status(transfer_id)
            if answer["status"] in ("confirmed", "failed") or time.monotonic() > deadline:
                return answer
            time.sleep(pause)


def authorization(account: LocalAccount, domain: Domain, token: str, to: str, value: int, validity: int,
                  kind: str = "transfer", now: float | None = None) -> dict[str, Any]:
    """The request body of a freshly signed authorization from ``account``, valid from a
    minute ago (clock skew) for ``validity`` seconds."""
    now = int(time.time() if now is None else now)
    nonce = random_nonce()
    after, before = now - 60, now + validity
    sig = sign_authorization(domain, account, account.address, to, value, after, before, nonce, receive=kind == "receive")
    return {"token": token, "kind": kind, "from": account.address, "to": to, "value": str(value), "validAfter": str(after),
            "validBefore": str(before), "nonce": "0x" + nonce.hex(), "signature": "0x" + sig.packed.hex()}


def send(client: RelayClient, account: LocalAccount, which: str, to: str, amount: str, validity: int = 3600,
         wait: bool = True) -> dict[str, Any]:
    """Signs a transfer of ``amount`` (whole tokens) of token ``which`` (kgst, som) to ``to``
    and posts it (with a fee authorization when the relayer asks one); the last record."""
    config = client.config()
    tokens = config["tokens"]
    if which not in tokens:
        raise InputError(f"the relayer does not relay '{which}': it relays {', '.join(sorted(tokens)) or 'nothing'}")
    info = tokens[which]
    d = info["domain"]
    domain = Domain(d["name"], d["version"], int(d["chainId"]), d["verifyingContract"])
    to = parse_address(to, "--to")
    value = parse_units(amount, int(info["decimals"]), "--amount")
    if value <= 0:
        raise InputError("--amount must be more than zero")
    now = config.get("chainTime")  # the chain's clock, which the token checks the window against
    body = authorization(account, domain, info["address"], to, value, validity, now=now)
    fee = int(info["fee"])
    if fee:
        fee_body = authorization(account, domain, info["address"], config["relayer"], fee, validity, kind="receive", now=now)
        body["fee"] = {k: fee_body[k] for k in ("value", "validAfter", "validBefore", "nonce", "signature")}
        logger.info(f"the relayer takes a fee of {fee} token units (a second authorization to {config['relayer']})")
    logger.info(f"signed a transfer of {amount} {which} ({info['address']}, chain {config['chainId']}) from {account.address} to {to}")
    answer = client.post(body)
    logger.info(f"relayer: transfer {answer['id']} {answer['status']}")
    return client.wait(answer["id"]) if wait else answer


def send_redemption(client: RelayClient, account: LocalAccount, amount: str, payout: bytes, validity: int = 3600,
                    wait: bool = True) -> dict[str, Any]:
    """Signs a KGST redemption request of ``amount`` (whole KGST) to the payout reference
    ``payout`` (a salted hash of the bank details) and posts it to ``/v1/redemptions``: a
    ReceiveWithAuthorization to the redemption queue whose nonce is the payout reference, so the
    relayer cannot change it. Returns the last record."""
    config = client.config()
    queue = config.get("redemptionQueue")
    info = config["tokens"].get("kgst")
    if not queue or info is None:
        raise InputError("this relayer relays no redemptions (its deployment has no redemption queue or no KGST)")
    d = info["domain"]
    domain = Domain(d["name"], d["version"], int(d["chainId"]), d["verifyingContract"])
    value = parse_units(amount, int(info["decimals"]), "--amount")
    if value <= 0:
        raise InputError("--amount must be more than zero")
    now = int(config.get("chainTime") or time.time())
    after, before = now - 60, now + validity
    sig = sign_authorization(domain, account, account.address, queue, value, after, before, payout, receive=True)
    body = {"token": info["address"], "kind": "redeem", "from": account.address, "to": queue, "value": str(value),
            "validAfter": str(after), "validBefore": str(before), "nonce": "0x" + payout.hex(), "signature": "0x" + sig.packed.hex()}
    logger.info(f"signed a redemption of {amount} KGST from {account.address} to the queue {queue} (payout 0x{payout.hex()}, chain {config['chainId']})")
    status, answer = client._ask("POST", "/v1/redemptions", json=body)
    if status >= 400:
        raise RelayRefused(f"the relayer refused the redemption ({answer.get('error')}): {answer.get('message')}")
    logger.info(f"relayer: redemption {answer['id']} {answer['status']}")
    return client.wait(answer["id"]) if wait else answer
