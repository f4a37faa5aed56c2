"""What every operator command shares: who sends for a role, the AccessManager pre-check of a
call, the record of a mined transaction, and plain-text tables, amounts and times."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal, localcontext
from typing import Any, Sequence

from eth_utils import to_checksum_address
from web3.contract import Contract

from .chain import NodeSigner, Sender
from .deploy import selectors
from .errors import ConfigError, SomstackError
from .roles import role_name, role_of
from .session import KeyOptions, Session


class MissingRoleError(SomstackError):
    """The signer lacks the AccessManager role that the function needs."""


def units(amount: int, decimals: int, places: int | None = None) -> str:
    """``amount`` of ``decimals`` in whole units, grouped: ``1,234.5``; ``places`` fixes the decimals."""
    with localcontext() as ctx:
        ctx.prec = 100
        value = Decimal(amount).scaleb(-decimals)
        if places is not None:
            return f"{value.quantize(Decimal(1).scaleb(-places)):,f}"
        return f"{value.normalize():,f}" if value else "0"


def utc(ts: int) -> str:
    try:
        return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")
    except (OverflowError, OSError, ValueError):  # beyond the calendar: show the number
        return f"unix {ts}"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[bool]) -> list[str]:
    """Rows under headers, columns as wide as their widest cell; numbers right-aligned."""
    widths = [max(len(str(c)) for c in column) for column in zip(headers, *rows)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.rjust(w) if r else c.ljust(w) for c, w, r in zip(cells, widths, right)).rstrip()

    return [line(headers), *(line(r) for r in rows)]


def sender_for(session: Session, role: str | None, from_index: int | None = None, keys: KeyOptions = KeyOptions()) -> Sender:
    """Who sends for ``role``: on a dev network without key options, the node's account at
    ``from_index``, by default the first dev holder of ``role`` (brownie-config.yaml
    ``somstack.deployment.dev_holders``; account 0 for a public function); else the session's
    signer (the key options of ``deploy``)."""
    keyed = keys.key_env is not None or keys.keystore is not None
    if not session.network.dev or keyed:
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


def require_role(manager: Contract, target: Contract, contract: str, caller: str, function: str) -> None:
    """Raises :class:`MissingRoleError`, naming the role, unless ``caller`` may call
    ``contract.function`` (at ``target``) now (AccessManager ``canCall``)."""
    selector = selectors(target.abi, (function,))[0]
    functions, address = manager.functions, target.address
    immediate, delay = functions.canCall(caller, address, selector).call()
    if immediate:
        return
    if functions.isTargetClosed(address).call():
        raise MissingRoleError(f"the {contract} is closed in the AccessManager: nobody may call {function}")
    role = role_name(functions.getTargetFunctionRole(address, selector).call())
    planned = role_of(contract, function)
    if planned and planned != role:
        role = f"{role} (somstack.roles plans {planned})"
    if delay:
        raise MissingRoleError(
            f"{caller} holds {role} with an execution delay of {delay:,} s: schedule {contract}.{function} "
            "through the AccessManager, then execute it"
        )
    raise MissingRoleError(f"{caller} lacks the {role} role needed for {contract}.{function}")


@dataclass(frozen=True)
class Sent:
    """A mined transaction of a reserve command: what it did, and its receipt."""

    what: str
    receipt: Any

    def __str__(self) -> str:
        tx = self.receipt["transactionHash"].hex()
        tx = tx if tx.startswith("0x") else "0x" + tx
        return f"{self.what}: mined in block {self.receipt['blockNumber']} (gas {self.receipt['gasUsed']:,}, tx {tx})"
