"""What every operator command shares: who sends for a role, the AccessManager pre-check of a
call, the record of a mined transaction, and plain-text tables, amounts and times."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from eth_utils import to_checksum_address
from web3 import Web3
from web3.contract import Contract

from somstack.core.chain import NodeSigner, Sender
from somstack.core.errors import ConfigError, MissingRoleError, SomstackError
from somstack.core.format import utc
from somstack.core.session import KeyOptions, Session, session_manifest
from somstack.system import routes
from somstack.system.deploy import selectors
from somstack.system.roles import role_name, role_of

logger = logging.getLogger(__name__)

T = TypeVar("T")


def sender_for(session: Session, role: str | None, from_index: int | None = None, keys: KeyOptions = KeyOptions(),
               route: routes.Route | None = None) -> Sender:
    """Who sends for ``role``: on a dev network without key options, the node's account at
    ``from_index``, by default the first dev holder of ``role`` (brownie-config.yaml
    ``somstack.deployment.dev_holders``; account 0 for a public function); else the session's
    signer (the key options of ``deploy``). Under a governance ``route`` (:mod:`somstack.system.routes`)
    the sender proposes to the Safe, or schedules or executes through the AccessManager, and
    carries the route (:func:`routes.route_of`)."""
    if route is not None and route.mode == "propose":
        assert route.safe is not None
        route.chain_id = session.w3.eth.chain_id
        return routes.ProposalSender(session.w3, routes.SafeSigner(route.safe), session.sender.decoder,
                                     manager=_manager(session), route=route)
    sender = _plain_sender(session, role, from_index, keys)
    if route is not None:
        return routes.ManagerSender(sender.w3, sender.signer, sender.decoder, manager=_manager(session), mode=route.mode,
                                    route=route)
    return sender


def _manager(session: Session) -> Contract:
    address = session_manifest(session).address("AccessManager")
    return session.artifacts.get("SomAccessManager").contract(session.w3, address)  # type: ignore[return-value]


def _plain_sender(session: Session, role: str | None, from_index: int | None, keys: KeyOptions) -> Sender:
    if not session.network.dev or keys.keyed:
        if from_index is not None:
            raise ConfigError("--from-index picks a dev chain's unlocked account; with a key, the key signs")
        return session.sender
    if from_index is None:
        holders = session.settings.deployment(session.network.name).dev_holders.get(role or "", [])
        from_index = holders[0] if holders else 0
    accounts = session.w3.eth.accounts
    if not 0 <= from_index < len(accounts):
        raise ConfigError(f"--from-index {from_index}: the node has accounts 0 to {len(accounts) - 1}")
    return Sender(session.w3, NodeSigner(to_checksum_address(accounts[from_index])), session.sender.decoder)


def require_role(manager: Contract, target: Contract, contract: str, caller: str, function: str,
                 route: routes.Route | None = None) -> None:
    """Raises :class:`MissingRoleError`, naming the role, unless ``caller`` may call
    ``contract.function`` (at ``target``) now (AccessManager ``canCall``), or, under a ``route``
    through the AccessManager (the sender's: :func:`routes.route_of`), once its delay has passed."""
    selector = selectors(target.abi, (function,))[0]
    functions, address = manager.functions, target.address
    immediate, delay = functions.canCall(caller, address, selector).call()
    if immediate:
        if route is not None and route.immediate_refused:
            raise routes.RouteError(
                f"{caller} may call {contract}.{function} at once (its role has no execution delay): "
                "send it directly, without scheduling"
            )
        return
    if delay and route is not None and route.through_manager:
        return
    if functions.isTargetClosed(address).call():
        raise MissingRoleError(f"the {contract} is closed in the AccessManager: nobody may call {function}")
    role = role_name(functions.getTargetFunctionRole(address, selector).call())
    planned = role_of(contract, function)
    if planned and planned != role:
        role = f"{role} (somstack.system.roles plans {planned})"
    if delay:
        raise MissingRoleError(
            f"{caller} holds {role} with an execution delay of {delay:,} s: run the command under "
            "`somstack governance schedule`, then, once due, under `somstack governance execute`"
        )
    raise MissingRoleError(f"{caller} lacks the {role} role needed for {contract}.{function}")


@dataclass(frozen=True)
class Sent:
    """A transaction of an operator command: what it did, and its receipt (or, under a
    ``propose`` route, its place in the Safe batch)."""

    what: str
    receipt: Any

    @property
    def proposed(self) -> bool:
        return bool(self.receipt.get("proposed"))

    def __str__(self) -> str:
        if self.proposed:
            via = {"schedule": ", as AccessManager.schedule", "execute": ", as AccessManager.execute"}.get(self.receipt.get("via"), "")
            return (f"{self.what}: added to the Safe batch as transaction {self.receipt['index']}{via} "
                    f"(gas {self.receipt['gasUsed']:,} when the Safe sends it)")
        tx = Web3.to_hex(self.receipt["transactionHash"])
        route = self.receipt.get("route")
        if route == "schedule":
            return (
                f"{self.what}: scheduled as operation {self.receipt.get('operation')} in block {self.receipt['blockNumber']} "
                f"(gas {self.receipt['gasUsed']:,}, tx {tx}); executable from {utc(self.receipt.get('due', 0))} for a week: "
                "then run the same command under `somstack governance execute`"
            )
        if route == "execute":
            return f"{self.what}: executed through the AccessManager in block {self.receipt['blockNumber']} (gas {self.receipt['gasUsed']:,}, tx {tx})"
        return f"{self.what}: mined in block {self.receipt['blockNumber']} (gas {self.receipt['gasUsed']:,}, tx {tx})"


def send_call(sender: Sender, target: Contract, label: str, data: str, what: str,
              value: int = 0) -> Sent:
    """Logs the call with the chain id and the signer, sends it (by the sender's route), and
    waits for it to be mined."""
    verb = "proposing" if isinstance(sender, routes.ProposalSender) else "sending"
    if isinstance(sender, routes.ManagerSender):
        verb = f"{sender.mode[:-1]}ing"  # scheduling, executing
    logger.info(f"{verb} {what}: {label} contract {target.address}, chain {sender.w3.eth.chain_id}, from {sender.signer.address}")
    return Sent(what, sender.transact({"to": target.address, "data": data, "value": value or None}, what))


def tx_label(receipt: Any) -> str | None:
    """The hash of a mined transaction, or None for a proposed one."""
    if receipt.get("proposed"):
        return None
    return Web3.to_hex(receipt["transactionHash"])


# --- Input ---


# --- The deployment and the chain ---


def read_text_file(path: Path, error: type[SomstackError]) -> str:
    """The text of a file an operator gives (UTF-8, a byte-order mark allowed); a file that
    cannot be read, or is not UTF-8, raises ``error`` in one line."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise error(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise error(f"{path} is not a UTF-8 text file") from None
