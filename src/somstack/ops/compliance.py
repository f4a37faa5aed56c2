"""Sanctions across every SomStack token: one command blocks (or unblocks) an address on KGST
and on the digital som, one transaction per token, and reports each.

Each token keeps its blocklist in its own balance slots (a flag bit), which costs a transfer
nothing; the price is that a sanction is applied token by token. This module is that one step
for the operator: it checks each token first (already in the wanted state, or the signer lacks
COMPLIANCE there), sends what is needed, and says what happened on each, so a partial failure
is visible and a rerun completes it without sending twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from somstack.core.chain import Sender
from somstack.core.errors import SomstackError
from somstack.core.format import parse_address, reference
from somstack.core.session import Session, session_manifest
from somstack.ops.common import require_role, send_call, tx_label
from somstack.system.routes import route_of

logger = logging.getLogger(__name__)


# Manifest names of the tokens that carry a blocklist, and how the report names them.
TOKENS = {"Stablecoin": "KGST", "DigitalCurrency": "digital som"}


@dataclass(frozen=True)
class Outcome:
    token: str  # KGST, digital som
    address: str  # the token contract
    result: str  # "blocked", "already blocked", "failed: ..."
    tx: str | None = None

    @property
    def ok(self) -> bool:
        return not self.result.startswith("failed")

    def __str__(self) -> str:
        return f"{self.token:12s} {self.address}  {self.result}" + (f" (tx {self.tx})" if self.tx else "")


def reason_hash(text: str) -> bytes:
    """A sanctions record reference: a 0x bytes32 as given, or the keccak hash of the text."""
    return reference(text, "--reason", "sanctions record")


def apply_sanction(session: Session, sender: Sender, account: str, block: bool, reason: str = "") -> list[Outcome]:
    """Blocks (``block``) or unblocks ``account`` on every token of the deployment."""
    target = parse_address(account, "address")
    ref = reason_hash(reason) if block else b""
    manifest = session_manifest(session)
    if block:
        from somstack.ops.reasons import remember

        remember(manifest.path, {ref: reason})  # the text beside its on-chain hash, for the report
    artifacts = session.artifacts
    manager = artifacts.get("SomAccessManager").contract(session.w3, manifest.address("AccessManager"))
    outcomes = []
    function = "blockAccount" if block else "unblockAccount"
    verb = "blocked" if block else "unblocked"
    for name, label in TOKENS.items():
        if name not in manifest.contracts:
            continue
        token = artifacts.get(name).contract(session.w3, manifest.address(name))
        if bool(token.functions.isBlocked(target).call()) == block:
            outcomes.append(Outcome(label, token.address, f"already {verb}"))
            continue
        try:
            require_role(manager, token, name, sender.signer.address, function, route_of(sender))  # type: ignore[arg-type]
            data = token.encode_abi(function, [target, ref] if block else [target])
            receipt = send_call(sender, token, label, data, f"{function} on {label}").receipt
        except SomstackError as exc:
            outcomes.append(Outcome(label, token.address, f"failed: {exc}"))
            continue
        pending = "proposed" if receipt.get("proposed") else "scheduled" if receipt.get("route") == "schedule" else None
        done = f"{function} {pending}" if pending else verb
        outcomes.append(Outcome(label, token.address, done, tx_label(receipt)))
    return outcomes
