"""Governance routes: how an operator command's calls reach the chain when the operator's key
does not simply send them.

- ``propose``: the calls become a Safe Transaction Builder batch (the JSON that Safe{Wallet}
  imports), each one first simulated from the Safe's address; nothing is sent.
- ``schedule``: each call is sent as ``AccessManager.schedule(target, data, 0)``, for a role that
  acts only after an execution delay.
- ``execute``: each call is sent as ``AccessManager.execute(target, data)`` once its delay has
  passed.

Every operator command runs under a route unchanged. The CLI's ``governance`` commands put the
route on the click context of the command they run; the command hands it to
:func:`ops.sender_for`, which returns a sender of that route (it carries the route:
:func:`route_of`), and :func:`ops.require_role` accepts a role with an execution delay when the
route goes through the AccessManager. A command that sends and follows many transactions
itself (a payroll, a deployment) cannot be proposed and says so.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_utils import keccak, to_checksum_address
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import ContractCustomError, ContractLogicError
from web3.logs import (
    DISCARD as _DISCARD,  # process_receipt: skip the logs of other contracts
)

from somstack.core.chain import Sender
from somstack.core.errors import InputError, SomstackError
from somstack.core.manifest import write_json_atomically

MODES = ("propose", "schedule", "execute")
VIAS = ("auto", "direct", "schedule", "execute")

# What the Safe Transaction Builder writes in its own files; the app reads version 1.0 batches.
BATCH_VERSION = "1.0"
TX_BUILDER_VERSION = "1.17.1"


class RouteError(SomstackError):
    """A command cannot take the governance route asked for (or its operation is not ready)."""


@dataclass(frozen=True)
class ProposedCall:
    """One transaction of a Safe batch: what the Safe will send, and what it is for."""

    to: str
    value: int
    data: str
    what: str
    via: str  # direct, schedule (AccessManager.schedule), execute (AccessManager.execute)
    gas: int  # simulated from the Safe

    def batch_entry(self) -> dict[str, Any]:
        return {"to": self.to, "value": str(self.value), "data": self.data, "contractMethod": None, "contractInputsValues": None}


@dataclass
class Route:
    """The route of the command being run; a ``propose`` route collects its calls."""

    mode: str
    safe: str | None = None  # propose: the Safe (or Timelock) that will send the batch
    via: str = "auto"  # propose: how each call reaches its target
    chain_id: int | None = None  # propose: the chain of the batch, set when the command connects
    calls: list[ProposedCall] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"unknown route {self.mode}")
        if self.via not in VIAS:
            raise ValueError(f"unknown via {self.via}")

    @property
    def through_manager(self) -> bool:
        """The calls reach their targets through the AccessManager (a delayed role may act)."""
        return self.mode != "propose" or self.via != "direct"

    @property
    def immediate_refused(self) -> bool:
        """A role without delay may not take this route (AccessManager.schedule would revert)."""
        return self.mode in ("schedule", "execute") or self.via in ("schedule", "execute")


def route_of(sender: Sender) -> Route | None:
    """The route ``sender`` takes (None: it sends directly with its own key)."""
    route = getattr(sender, "route", None)
    return route if isinstance(route, Route) else None


def _now(w3: Web3) -> int:
    return int(w3.eth.get_block("latest")["timestamp"])


def _when(seconds: int) -> str:
    from somstack.core.format import utc

    return utc(seconds)


def _ready(manager: Contract, caller: str, target: str, data: str, what: str, w3: Web3) -> None:
    """Raises unless the operation ``caller`` → ``target``(``data``) is scheduled and due."""
    functions = manager.functions
    operation = functions.hashOperation(caller, target, data).call()
    when = int(functions.getSchedule(operation).call())
    if when == 0:
        raise RouteError(
            f"{what} is not scheduled for {caller} (never scheduled, or it expired, was cancelled or "
            "was executed): schedule it first with `somstack governance schedule ...`"
        )
    now = _now(w3)
    wall = int(time.time())
    if now < when <= wall and _dev_node(w3):
        # A local chain's clock moves only when a block is mined: due by the wall clock, so
        # mine one now, at the wall clock's time (dev chains only).
        w3.provider.make_request("evm_mine", [wall])  # type: ignore[arg-type]
        now = _now(w3)
    if when > now:
        raise RouteError(f"{what} is scheduled for {_when(when)}, {when - now:,} s of chain time from now: execute it then"
                         + (" (a local chain's time moves with its blocks: this command mines one once the wall clock is there)"
                            if _dev_node(w3) else ""))


def _dev_node(w3: Web3) -> bool:
    """An anvil node (a dev chain whose blocks may be mined on demand)."""
    try:
        return str(w3.client_version).lower().startswith("anvil")
    except Exception:
        return False


def _scheduled(manager: Contract, receipt: Any) -> tuple[str, int] | None:
    """The operation id and due time of the OperationScheduled event in ``receipt``."""
    for event in manager.events.OperationScheduled().process_receipt(receipt, errors=_DISCARD):
        return Web3.to_hex(event["args"]["operationId"]), int(event["args"]["schedule"])
    return None


@dataclass
class ManagerSender(Sender):
    """Sends each call of a command through the AccessManager: ``schedule`` or ``execute``.

    A call to the AccessManager itself goes as it is (its own functions check their own delays).
    """

    manager: Contract | None = None
    mode: str = "schedule"
    route: Route | None = None

    def submit(self, tx: dict[str, Any], what: str) -> str:
        assert self.manager is not None
        manager, target = self.manager, tx.get("to")
        if target is None or Web3.to_checksum_address(target) == manager.address:
            return super().submit(tx, what)
        data = tx.get("data") or "0x"
        if self.mode == "schedule":
            wrapped = {"to": manager.address, "data": manager.encode_abi("schedule", [target, data, 0])}
            return super().submit(wrapped, f"schedule {what}")
        _ready(manager, self.signer.address, target, data, what, self.w3)
        wrapped = {"to": manager.address, "data": manager.encode_abi("execute", [target, data]), "value": tx.get("value")}
        return super().submit(wrapped, f"execute {what}")

    def transact(self, tx: dict[str, Any], what: str) -> Any:
        """The receipt of the schedule or execute transaction, marked with the route (and, for a
        schedule, the operation id and when it is due) so that reports say what happened."""
        receipt = dict(super().transact(tx, what))
        receipt["route"] = self.mode
        if self.mode == "schedule":
            scheduled = _scheduled(self.manager, receipt)  # type: ignore[arg-type]
            if scheduled:
                receipt["operation"], receipt["due"] = scheduled
        return receipt


@dataclass(frozen=True)
class SafeSigner:
    """The Safe a proposal is written for: it signs nothing here."""

    address: str

    def send(self, w3: Web3, tx: dict[str, Any]) -> bytes:
        raise RouteError("a proposal sends nothing")


@dataclass
class ProposalSender(Sender):
    """Turns each call of a command into a transaction of the route's Safe batch, after
    simulating it from the Safe (a call the Safe could not make is refused now, with the
    decoded error, not when the owners sign)."""

    manager: Contract | None = None
    route: Route | None = None

    def _via(self, target: str, data: str) -> str:
        assert self.route is not None and self.manager is not None
        if self.route.via != "auto":
            return self.route.via
        if Web3.to_checksum_address(target) == self.manager.address:
            return "direct"
        functions, safe = self.manager.functions, self.signer.address
        immediate, delay = functions.canCall(safe, target, bytes.fromhex(data[2:10])).call()
        if immediate or not delay:
            return "direct"
        due = int(functions.getSchedule(functions.hashOperation(safe, target, data).call()).call())
        return "execute" if due else "schedule"

    def transact(self, tx: dict[str, Any], what: str) -> Any:
        assert self.route is not None and self.manager is not None
        target = Web3.to_checksum_address(tx["to"])
        data, value = tx.get("data") or "0x", int(tx.get("value") or 0)
        via = self._via(target, data)
        if via == "schedule":
            to, payload, value = self.manager.address, self.manager.encode_abi("schedule", [target, data, 0]), 0
        elif via == "execute":
            _ready(self.manager, self.signer.address, target, data, what, self.w3)
            to, payload = self.manager.address, self.manager.encode_abi("execute", [target, data])
        else:
            to, payload = target, data
        call = {"from": self.signer.address, "to": to, "data": payload, "value": value}
        try:
            gas = int(self.w3.eth.estimate_gas(call))  # type: ignore[arg-type]
        except (ContractCustomError, ContractLogicError) as exc:
            raise self._failure(f"{what}, sent by the Safe {self.signer.address}", getattr(exc, "data", None)) from None
        label = what if via == "direct" else f"{via} {what}"
        self.route.calls.append(ProposedCall(to, value, payload, label, via, gas))
        return {"proposed": True, "index": len(self.route.calls), "via": via, "gasUsed": gas, "status": 1,
                "transactionHash": None, "blockNumber": None, "logs": []}

    def submit(self, tx: dict[str, Any], what: str) -> str:
        raise RouteError(
            f"{what}: this command sends and follows its own transactions, which a Safe batch cannot do; "
            "run it with the key that holds the role"
        )


# --- The Safe Transaction Builder file ---


def _js_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _serialize(value: Any) -> str:
    """The Transaction Builder's canonical form of a batch: keys sorted, each object written as
    its key list followed by its values (the app hashes this to check a file)."""
    if isinstance(value, list):
        return "[" + ",".join(_serialize(v) for v in value) + "]"
    if isinstance(value, dict):
        keys = sorted(value)
        return "{" + _js_json(keys) + "".join(_serialize(value[k]) + "," for k in keys) + "}"
    return _js_json(value)


def batch_checksum(batch: dict[str, Any]) -> str:
    """``meta.checksum`` of a batch: keccak-256 of its canonical form with ``meta.name`` null."""
    meta = {k: v for k, v in batch["meta"].items() if k != "checksum"}
    body = {**batch, "meta": {**meta, "name": None}}
    return "0x" + keccak(text=_serialize(body)).hex()


def write_batch(path: Path, chain_id: int, route: Route, name: str, append: bool = False) -> dict[str, Any]:
    """Writes (or, with ``append``, extends) the Safe batch at ``path`` with the route's calls,
    atomically; returns the batch."""
    assert route.safe is not None
    entries = [c.batch_entry() for c in route.calls]
    notes = [f"{i}. {c.what}" for i, c in enumerate(route.calls, 1)]
    if path.exists() and not append:
        raise InputError(f"{path} exists: pass --append to add to its batch, or another --out")
    if append and path.exists():
        try:
            batch = json.loads(path.read_text())
            old_meta, old_entries = batch["meta"], batch["transactions"]
        except (OSError, ValueError, KeyError, TypeError):
            raise InputError(f"{path} is not a Safe Transaction Builder batch") from None
        if str(batch.get("chainId")) != str(chain_id):
            raise InputError(f"{path} is a batch for chain {batch.get('chainId')}, not {chain_id}")
        if to_checksum_address(old_meta.get("createdFromSafeAddress") or "0x" + "00" * 20) != route.safe:
            raise InputError(f"{path} is a batch for the Safe {old_meta.get('createdFromSafeAddress')}, not {route.safe}")
        previous = [line for line in (old_meta.get("description") or "").splitlines() if line]
        notes = previous + [f"{len(old_entries) + i}. {c.what}" for i, c in enumerate(route.calls, 1)]
        entries = list(old_entries) + entries
        name = old_meta.get("name") or name
    batch = {
        "version": BATCH_VERSION,
        "chainId": str(chain_id),
        "createdAt": int(time.time() * 1000),
        "meta": {
            "name": name,
            "description": "\n".join(notes),
            "txBuilderVersion": TX_BUILDER_VERSION,
            "createdFromSafeAddress": route.safe,
            "createdFromOwnerAddress": "",
        },
        "transactions": entries,
    }
    batch["meta"]["checksum"] = batch_checksum(batch)
    write_json_atomically(path, batch)
    return batch
