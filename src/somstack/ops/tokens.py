"""Day-to-day operations on the tokens: mint, burn, pause, minter allowances, seizure, rescue.

Each function checks first what the chain would refuse (the caller's role in the
AccessManager, a used deposit reference, a short minter allowance or balance, a seizure that
is not pending) and explains it in one line; then it sends one call through
:func:`ops.send_call`, so the same function proposes to a Safe or schedules through the
AccessManager when the command runs under a governance route (:mod:`somstack.system.routes`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Iterable

from web3 import Web3
from web3.contract import Contract

from somstack.core.artifacts import Artifacts
from somstack.core.chain import Sender
from somstack.core.errors import InputError, RefusedError
from somstack.core.format import parse_address, parse_units, reference, units
from somstack.core.session import Session, deployed_address, session_manifest
from somstack.ops.common import Sent, require_role, send_call
from somstack.system.routes import route_of

logger = logging.getLogger(__name__)


# --token value -> (manifest and artifact name, how a report names it)
TOKENS = {"kgst": ("Stablecoin", "KGST"), "som": ("DigitalCurrency", "digital som")}

# Pause flags, as both tokens define them (PAUSE_TRANSFERS, PAUSE_MINT, PAUSE_REDEEM).
PAUSE_FLAGS = {"transfers": 1, "mint": 2, "redeem": 4}

SEIZURE_STATUS = ("none", "proposed", "executed", "rejected", "cancelled")  # ICompliantToken.SeizureStatus


class OperationRefused(RefusedError):
    """The chain would refuse the operation; the message says why."""


@dataclass
class Token:
    """One deployed token and the AccessManager that guards it."""

    w3: Web3
    name: str  # Stablecoin, DigitalCurrency
    label: str  # KGST, digital som
    contract: Contract
    manager: Contract
    artifacts: Artifacts

    @classmethod
    def of_session(cls, session: Session, which: str) -> "Token":
        if which not in TOKENS:
            raise InputError(f"--token must be one of {', '.join(TOKENS)}, got '{which}'")
        name, label = TOKENS[which]
        manifest = session_manifest(session)
        if name not in manifest.contracts:
            raise OperationRefused(f"this deployment has no {label} ({name})")
        artifacts = session.artifacts
        return cls(
            w3=session.w3,
            name=name,
            label=label,
            contract=artifacts.get(name).contract(session.w3, deployed_address(session.w3, manifest, name)),  # type: ignore[arg-type]
            manager=artifacts.get("SomAccessManager").contract(session.w3, manifest.address("AccessManager")),  # type: ignore[arg-type]
            artifacts=artifacts,
        )

    @property
    def decimals(self) -> int:
        return int(self.contract.functions.decimals().call())

    def amount(self, text: str, what: str = "amount") -> int:
        value = parse_units(text, self.decimals, f"{what} ({self.label})")
        if value <= 0:
            raise InputError(f"{what} must be positive, got {text}")
        return value

    def show(self, value: int) -> str:
        return f"{units(value, self.decimals)} {self.label}"

    def call(self, sender: Sender, function: str, args: list, what: str) -> Sent:
        require_role(self.manager, self.contract, self.name, sender.signer.address, function, route_of(sender))
        return send_call(sender, self.contract, self.label, self.contract.encode_abi(function, args), what)


def tokens_of(session: Session, which: str) -> list[Token]:
    """``--token kgst|som|all``: the tokens a command acts on (``all``: every deployed one)."""
    if which != "all":
        return [Token.of_session(session, which)]
    manifest = session_manifest(session)
    return [Token.of_session(session, key) for key, (name, _) in TOKENS.items() if name in manifest.contracts]


# --- Issuance ---


def mint(token: Token, sender: Sender, to: str, amount: str, ref: str) -> Sent:
    """KGST: a MINTER mints against a fiat deposit reference, within its allowance, while the
    reserve covers the new supply. Digital som: the ISSUER mints to a registered wallet."""
    recipient = parse_address(to, "recipient")
    value = token.amount(amount)
    record = reference(ref, "--ref")
    functions = token.contract.functions
    minter = sender.signer.address
    if token.name == "Stablecoin":
        if functions.isDepositReferenceUsed(record).call():
            raise OperationRefused(f"deposit reference 0x{record.hex()} was used by an earlier mint: one deposit backs one mint")
        require_role(token.manager, token.contract, token.name, minter, "mint", route_of(sender))
        allowance = int(functions.minterAllowance(minter).call())
        if value > allowance:
            raise OperationRefused(
                f"minter {minter} may mint {token.show(allowance)} more, not {token.show(value)}: "
                "a MINTER_ADMIN raises it with `somstack minter set`"
            )
    return token.call(sender, "mint", [recipient, value, record], f"mint {token.show(value)} to {recipient}")


def burn(token: Token, sender: Sender, amount: str, ref: str) -> Sent:
    """Burns ``amount`` of the sender's own balance, with the redemption (payout) reference."""
    value = token.amount(amount)
    record = reference(ref, "--ref")
    holder = sender.signer.address
    require_role(token.manager, token.contract, token.name, holder, "burn", route_of(sender))
    held = int(token.contract.functions.balanceOf(holder).call())
    if value > held:
        raise OperationRefused(f"{holder} holds {token.show(held)}, cannot burn {token.show(value)}")
    return token.call(sender, "burn", [value, record], f"burn {token.show(value)}")


# --- Pause ---


def parse_pause_flags(names: Iterable[str]) -> int:
    """``transfers``, ``mint``, ``redeem`` or ``all`` (comma-separated or repeated) as flag bits."""
    flags = 0
    for name in (n.strip().lower() for item in names for n in item.split(",")):
        if name == "all":
            flags |= sum(PAUSE_FLAGS.values())
        elif name in PAUSE_FLAGS:
            flags |= PAUSE_FLAGS[name]
        elif name:
            raise InputError(f"--what must be transfers, mint, redeem or all, got '{name}'")
    if not flags:
        raise InputError("--what names nothing to pause")
    return flags


def describe_flags(flags: int) -> str:
    named = [name for name, bit in PAUSE_FLAGS.items() if flags & bit]
    return ", ".join(named) if named else "nothing"


def set_paused(tokens: list[Token], sender: Sender, flags: int, pause: bool) -> list[str]:
    """Pauses (or lifts) ``flags`` on each token; a token already in that state is left alone.
    Every token's role is checked before anything is sent."""
    function = "pause" if pause else "unpause"
    for token in tokens:
        require_role(token.manager, token.contract, token.name, sender.signer.address, function, route_of(sender))
    lines = []
    for token in tokens:
        before = int(token.contract.functions.pausedFlags().call())
        change = flags & ~before if pause else flags & before
        if not change:
            lines.append(f"{token.label:12s} already {'paused' if pause else 'running'} for {describe_flags(flags)}")
            continue
        sent = token.call(sender, function, [change], f"{function} {describe_flags(change)} on {token.label}")
        lines.append(f"{token.label:12s} {sent}")
    return lines


# --- Minter allowances (KGST) ---


def set_minter(token: Token, sender: Sender, minter: str, allowance: str) -> Sent:
    """MINTER_ADMIN sets a minter's allowance (0 removes it). The minter also needs the MINTER
    role, which ADMIN grants; a warning says when it lacks it."""
    if token.name != "Stablecoin":
        raise OperationRefused("minter allowances belong to KGST; the digital som's ISSUER mints without one")
    who = parse_address(minter, "minter")
    value = parse_units(allowance, token.decimals, "--allowance (KGST)")
    if value < 0:
        raise InputError(f"--allowance must not be negative, got {allowance}")
    current = int(token.contract.functions.minterAllowance(who).call())
    if current == value:
        raise OperationRefused(f"minter {who} already has an allowance of {token.show(value)}")
    function, args = ("removeMinter", [who]) if value == 0 else ("configureMinter", [who, value])
    sent = token.call(sender, function, args, f"set the minter allowance of {who} to {token.show(value)}")
    selector = bytes.fromhex(token.contract.encode_abi("mint", [who, 1, b"\x01" * 32])[2:10])
    immediate, delay = token.manager.functions.canCall(who, token.contract.address, selector).call()
    if value and not immediate and not delay:
        logger.info(f"note: {who} does not hold the MINTER role yet: ADMIN grants it before it can mint")
    return sent


# --- Seizure (maker-checker) ---


def propose_seizure(token: Token, sender: Sender, account: str, recovery: str, amount: str, case: str,
                    evidence: str | None) -> tuple[Sent, int | None]:
    """COMPLIANCE proposes to move ``amount`` of a blocked ``account`` to ``recovery``; returns
    the seizure id (None when proposed to a Safe: the id is assigned when it executes)."""
    who = parse_address(account, "account")
    to = parse_address(recovery, "--to (recovery wallet)")
    value = token.amount(amount)
    case_ref = reference(case, "--case")
    evidence_hash = reference(evidence, "--evidence") if evidence else b"\x00" * 32
    functions = token.contract.functions
    if not functions.isBlocked(who).call():
        raise OperationRefused(f"{who} is not blocked on {token.label}: block it first (`somstack block`)")
    if functions.isBlocked(to).call():
        raise OperationRefused(f"the recovery wallet {to} is blocked on {token.label}")
    held = int(functions.balanceOf(who).call())
    if value > held:
        raise OperationRefused(f"{who} holds {token.show(held)}, less than the {token.show(value)} to seize")
    sent = token.call(sender, "proposeSeizure", [who, to, value, case_ref, evidence_hash],
                      f"propose seizing {token.show(value)} of {who} to {to}")
    seizure_id = None
    for event in token.contract.events.SeizureProposed().process_receipt(sent.receipt) if not sent.proposed else []:
        seizure_id = int(event["args"]["seizureId"])
    return sent, seizure_id


def decide_seizure(token: Token, sender: Sender, seizure_id: int, approve: bool) -> Sent:
    """SEIZE_APPROVER executes (``approve``) or rejects a proposed seizure; the proposer may not
    approve its own."""
    order = token.contract.functions.seizure(seizure_id).call()
    account, recovery, amount, _case, _evidence, proposer, status = order
    if status == 0:
        raise OperationRefused(f"seizure {seizure_id} does not exist on {token.label}")
    if status != 1:
        raise OperationRefused(f"seizure {seizure_id} on {token.label} is {SEIZURE_STATUS[status] if status < len(SEIZURE_STATUS) else status}, not proposed")
    if approve and Web3.to_checksum_address(proposer) == sender.signer.address:
        raise OperationRefused(f"{sender.signer.address} proposed seizure {seizure_id}: another officer must approve it")
    function = "executeSeizure" if approve else "rejectSeizure"
    verb = "execute" if approve else "reject"
    return token.call(sender, function, [seizure_id],
                      f"{verb} seizure {seizure_id} ({token.show(amount)} of {account} to {recovery})")


@dataclass(frozen=True)
class Seizure:
    id: int
    token: str  # the token's label
    status: str  # SEIZURE_STATUS's name (or the raw number)
    account: str
    recovery: str
    amount: int  # [token units]
    case: bytes
    evidence: bytes
    proposer: str


def read_seizure(token: Token, seizure_id: int) -> Seizure:
    account, recovery, amount, case, evidence, proposer, status = token.contract.functions.seizure(seizure_id).call()
    if status == 0:
        raise OperationRefused(f"{token.label} has no seizure {seizure_id}")
    return Seizure(seizure_id, token.label, SEIZURE_STATUS[status] if status < len(SEIZURE_STATUS) else str(status), account, recovery,
                   amount, bytes(case), bytes(evidence), proposer)


def format_seizure(seizure: Seizure, token: Token) -> list[str]:
    return [
        f"seizure {seizure.id} on {seizure.token}: {seizure.status}",
        f"  account   {seizure.account}",
        f"  recovery  {seizure.recovery}",
        f"  amount    {token.show(seizure.amount)}",
        f"  case      0x{seizure.case.hex()}",
        f"  evidence  0x{seizure.evidence.hex()}",
        f"  proposer  {seizure.proposer}",
    ]


# --- Rescue ---


def rescue(token: Token, sender: Sender, asset: str, to: str, amount: str) -> Sent:
    """RESCUER returns ``amount`` of ``asset`` (a BEP-20 sent to the token contract by mistake)
    to ``to``."""
    asset_address = parse_address(asset, "asset")
    recipient = parse_address(to, "--to")
    erc20 = token.artifacts.get("IERC20Metadata").contract(token.w3, asset_address)
    if not token.w3.eth.get_code(asset_address):
        raise OperationRefused(f"no contract at {asset_address}: rescue returns BEP-20 tokens")
    try:
        decimals = int(erc20.functions.decimals().call())
        held = int(erc20.functions.balanceOf(token.contract.address).call())
    except Exception:  # not a token: say so in one line
        raise OperationRefused(f"{asset_address} does not answer as a BEP-20 token (decimals, balanceOf)") from None
    value = parse_units(amount, decimals, "amount")
    if value <= 0:
        raise InputError(f"amount must be positive, got {amount}")
    if value > held:
        raise OperationRefused(f"the {token.label} contract holds {units(held, decimals)} of {asset_address}, not {units(value, decimals)}")
    return token.call(sender, "rescueERC20", [asset_address, recipient, value],
                      f"rescue {units(value, decimals)} of {asset_address} to {recipient}")
