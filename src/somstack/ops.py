"""What every operator command shares: who sends for a role, the AccessManager pre-check of a
call, the record of a mined transaction, and plain-text tables, amounts and times."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation, localcontext
from typing import Any, Callable, Sequence, TypeVar

T = TypeVar("T")

from eth_utils import is_address, is_checksum_address, keccak, to_checksum_address
from web3 import Web3
from web3.contract import Contract

from . import routes
from .chain import NodeSigner, Sender
from .deploy import selectors
from .errors import ConfigError, InputError, ManifestError, MissingRoleError, SomstackError  # noqa: F401 (MissingRoleError: ops.MissingRoleError)
from .manifest import Manifest, check_genesis, deployed_manifest
from .roles import role_name, role_of
from .session import KeyOptions, Session


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
    signer (the key options of ``deploy``). Under a governance route (:mod:`somstack.routes`)
    the sender proposes to the Safe, or schedules or executes through the AccessManager."""
    route = routes.current()
    if route is not None and route.mode == "propose":
        assert route.safe is not None
        route.chain_id = session.w3.eth.chain_id
        return routes.ProposalSender(session.w3, routes.SafeSigner(route.safe), session.sender.decoder,
                                     manager=_manager(session), route=route)
    sender = _plain_sender(session, role, from_index, keys)
    if route is not None:
        return routes.ManagerSender(sender.w3, sender.signer, sender.decoder, manager=_manager(session), mode=route.mode)
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


def require_role(manager: Contract, target: Contract, contract: str, caller: str, function: str) -> None:
    """Raises :class:`MissingRoleError`, naming the role, unless ``caller`` may call
    ``contract.function`` (at ``target``) now (AccessManager ``canCall``)."""
    selector = selectors(target.abi, (function,))[0]
    functions, address = manager.functions, target.address
    immediate, delay = functions.canCall(caller, address, selector).call()
    route = routes.current()
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
        role = f"{role} (somstack.roles plans {planned})"
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


def send_call(sender: Sender, target: Contract, label: str, data: str, what: str, log: Callable[[str], None],
              value: int = 0) -> Sent:
    """Logs the call with the chain id and the signer, sends it (by the sender's route), and
    waits for it to be mined."""
    verb = "proposing" if isinstance(sender, routes.ProposalSender) else "sending"
    if isinstance(sender, routes.ManagerSender):
        verb = f"{sender.mode[:-1]}ing"  # scheduling, executing
    log(f"{verb} {what}: {label} contract {target.address}, chain {sender.w3.eth.chain_id}, from {sender.signer.address}")
    return Sent(what, sender.transact({"to": target.address, "data": data, "value": value or None}, what))


def tx_label(receipt: Any) -> str | None:
    """The hash of a mined transaction, or None for a proposed one."""
    if receipt.get("proposed"):
        return None
    return Web3.to_hex(receipt["transactionHash"])


# --- Input ---


def parse_units(text: str | int | Decimal, decimals: int, what: str, error: type[InputError] = InputError) -> int:
    """``text`` in whole units (``"1.5"``, ``"1_000"``) as an integer of ``decimals``. A comma is
    refused, never guessed: ``150,50`` is a decimal comma in Kyrgyz and Russian use and a thousands
    separator in English (it was read as 15,050); so are spaces and non-ASCII digits."""
    raw = str(text).strip()
    if "," in raw or not raw.isascii() or any(c.isspace() for c in raw):
        raise error(f"{what}: '{text}' is ambiguous (a comma, a space or a non-ASCII character): write it as 1234.56")
    cleaned = raw.replace("_", "")
    with localcontext() as ctx:
        ctx.prec = 100
        try:
            value = Decimal(cleaned)
        except InvalidOperation:
            raise error(f"{what}: '{text}' is not a number") from None
        if not value.is_finite():
            raise error(f"{what}: '{text}' is not a number")
        if value < 0:
            raise error(f"{what}: '{text}' is negative: an amount is zero or more")
        scaled = value.scaleb(decimals)
        if scaled != scaled.to_integral_value():
            raise error(f"{what}: {text} has more than {decimals} decimals")
        if scaled >= 2**256:  # a uint256 on chain: refused here, not as an ABI encoding error
            raise error(f"{what}: {text} is too large for the contract (a uint256 of {decimals} decimals)")
        return int(scaled)


def reference(text: str, what: str, record: str = "record") -> bytes:
    """A reference to an off-chain ``record`` (a sanctions record, a deposit, a court case): a
    0x bytes32 as given, or the keccak hash of the reference text."""
    value = text.strip()
    if not value:
        raise InputError(f"{what} must name the {record} (a 0x bytes32 hash, or its reference text to hash)")
    if value.startswith(("0x", "0X")) and len(value) == 66:
        try:
            return bytes.fromhex(value[2:])
        except ValueError:
            pass
    return keccak(text=value)


def parse_address(text: str, what: str, error: type[InputError] = InputError) -> str:
    """A non-zero address; mixed case must be a valid EIP-55 checksum."""
    value = str(text).strip()
    if not is_address(value):
        raise error(f"{what}: '{text}' is not an address")
    if value != value.lower() and value[2:] != value[2:].upper() and not is_checksum_address(value):
        raise error(f"{what}: '{text}' has a wrong checksum (mixed case that does not match)")
    if int(value, 16) == 0:
        raise error(f"{what}: the zero address is not allowed here")
    return to_checksum_address(value)


def parse_bytes32(text: str, what: str, error: type[InputError] = InputError) -> bytes:
    """A non-zero 32-byte hash written as 0x and 64 hex digits."""
    body = text[2:] if text.startswith(("0x", "0X")) else ""
    try:
        value = bytes.fromhex(body)
    except ValueError:
        value = b""
    if len(value) != 32 or not any(value):
        raise error(f"{what} must be 0x and 64 hex digits, not zero (a bytes32 hash), got '{text}'")
    return value


# --- The deployment and the chain ---


def session_manifest(session: Session) -> Manifest:
    """The manifest of the session's network, which must have been deployed to."""
    manifest = deployed_manifest(session.settings.deployments_dir, session.w3.eth.chain_id, session.network)
    check_genesis(manifest, session.w3)
    return manifest


def deployed_address(w3: Web3, manifest: Manifest, name: str) -> str:
    """The recorded address of ``name``, checked to hold code on this chain."""
    address = manifest.address(name)
    if not w3.eth.get_code(Web3.to_checksum_address(address)):
        raise ManifestError(
            f"{manifest.path.name} puts the {name} at {address}, but this chain has no code there "
            "(the manifest describes another chain, or a dev chain that was restarted: deploy again)"
        )
    return address


def batched(w3: Web3, items: Sequence[T], request: Callable[[T], Any], chunk: int = 500) -> list[Any]:
    """``request(item)`` for every item, sent as JSON-RPC batches of ``chunk`` (one round trip
    each instead of one per item); the answers in order."""
    answers: list[Any] = []
    for start in range(0, len(items), chunk):
        with w3.batch_requests() as batch:
            for item in items[start : start + chunk]:
                batch.add(request(item))
            answers += list(batch.execute())
    return answers
