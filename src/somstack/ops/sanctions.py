"""A sanctions list applied to every SomStack token: `somstack compliance import LIST.csv`.

The list (``address,reason[,source]``, with a header) is validated whole before anything is
sent: every bad row is reported with its row number and nothing goes out. The chain is then
read (``isBlocked`` of every listed address on every token, in JSON-RPC batches; with --sync the
tokens' blocklists too, found from their ``AccountBlocked`` events and confirmed with
``isBlocked``), and only the difference is sent. A rerun after success therefore sends nothing,
and a rerun after an interruption sends only what the mined batches did not do.

Batches: the tokens have no batch blocking function, and none is needed. OpenZeppelin's
AccessManager is a ``Multicall`` whose ``multicall`` delegatecalls itself, so ``msg.sender``
stays the operator; each inner ``execute(token, blockAccount(...))`` checks the operator's role
exactly as a direct call would (``canCall``: it must hold COMPLIANCE with no execution delay, or
``execute`` would want a scheduled operation), marks the (token, selector) as executing and
calls the token, whose ``restricted`` check then asks ``canCall(manager, token, selector)``,
which is true while that execution is marked. One transaction blocks a whole batch, and a batch
is all or nothing.

Gas, measured on anvil (prague): a blockAccount transaction of its own costs ~64,600 (KGST) and
~68,000 (digital som); in a batch of 100, ~46,000 and ~46,700 per account (-29 % and -31 %).
The saving is the 21,000 of each transaction, less what ``execute`` adds per call: it writes its
execution mark from zero and back (refunded only up to a fifth of the transaction's gas) and
reads a cold schedule slot.
"""

from __future__ import annotations

import csv
import io
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from eth_utils import keccak
from web3 import Web3
from web3.contract import Contract

from somstack.core.chain import Sender, encoder, multicall_code, read_calls
from somstack.core.errors import InputError, SomstackError, TransactionFailed
from somstack.core.format import parse_address
from somstack.core.manifest import Manifest
from somstack.core.session import Session, deployed_address, session_manifest
from somstack.ops.cbdc import RowProblem, listed_again
from somstack.ops.common import read_text_file, require_role, tx_label
from somstack.ops.compliance import TOKENS, reason_hash
from somstack.system import routes
from somstack.system.governance import _logs as logs_in_ranges

logger = logging.getLogger(__name__)

Progress = Callable[[int], None]

COLUMNS = ("address", "reason", "source")  # address and reason required
DEFAULT_BATCH_SIZE = 100  # accounts per transaction: ~4.7 M gas
# ~11.7 M gas, sent with a limit of ~14 M (the Sender's 20 % margin): under BSC's cap of
# 16,777,216 gas per transaction. 400 would need ~18.6 M.
MAX_BATCH_SIZE = 250


# --- Errors ---


class SanctionsInputError(InputError):
    """A sanctions list file is unreadable or its header is malformed."""


class SanctionsListRejectedError(InputError):
    """Rows of a sanctions list are invalid: nothing was sent."""

    def __init__(self, problems: Sequence[RowProblem], rows: int):
        self.problems = list(problems)
        super().__init__(f"{len(self.problems)} of {rows} rows refused (listed above); nothing was sent")


# --- The list ---


@dataclass(frozen=True)
class Listing:
    row: int  # line number in the file (the header is line 1)
    address: str
    reason: bytes  # the sanctions record, as blockAccount records it
    source: str = ""
    reason_text: str = field(default="", compare=False)  # as written in the list (kept off chain for the report)


def read_list(path: Path) -> list[Listing]:
    """The rows of a sanctions list; raises :class:`SanctionsListRejectedError` naming every bad
    row (malformed, zero or wrongly checksummed address, empty or zero reason, an address listed
    twice, a wrong number of cells)."""
    reader = csv.reader(io.StringIO(read_text_file(path, SanctionsInputError)))
    header: list[str] | None = None
    listings: list[Listing] = []
    problems: list[RowProblem] = []
    seen: dict[str, int] = {}
    for cells in reader:
        number = reader.line_num
        if not cells or all(not c.strip() for c in cells):
            continue
        if header is None:
            header = _header(path, number, cells)
            continue
        if len(cells) != len(header):
            problems.append(RowProblem(number, f"expected {len(header)} cells ({','.join(header)}), found {len(cells)}"))
            continue
        row = dict(zip(header, (c.strip() for c in cells)))
        try:
            address = parse_address(row["address"], "address", SanctionsInputError)
            reason = _reason(row["reason"])
        except InputError as exc:
            problems.append(RowProblem(number, str(exc)))
            continue
        if again := listed_again(seen, address, number):
            problems.append(again)
            continue
        listings.append(Listing(number, address, reason, row.get("source", ""), row["reason"]))
    if header is None:
        raise SanctionsInputError(f"{path} is empty: expected a header {','.join(COLUMNS[:2])}[,source] and rows")
    if problems:
        rows = len(listings) + len({p.row for p in problems})
        raise SanctionsListRejectedError(problems, rows)
    return listings


def _header(path: Path, number: int, cells: list[str]) -> list[str]:
    names = [c.strip().lower() for c in cells]
    unknown = [n for n in names if n not in COLUMNS]
    missing = [n for n in COLUMNS[:2] if n not in names]
    if unknown or missing or len(set(names)) != len(names):
        raise SanctionsInputError(
            f"{path.name} row {number}: the header must name the columns address,reason and optionally source, "
            f"found '{','.join(cells)}'"
        )
    return names


def _reason(text: str) -> bytes:
    if not text:
        raise SanctionsInputError("empty reason: name the sanctions record (a 0x bytes32 hash, or its reference text)")
    value = reason_hash(text)
    if not any(value):
        raise SanctionsInputError("the reason is the zero hash: name the sanctions record")
    return value


def write_list(path: Path, rows: Sequence[Sequence[str]], header: Sequence[str] = ("address", "reason")) -> Path:
    """Writes a sanctions list with its header (for the tests and the demo)."""
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


# --- The tokens ---


@dataclass(frozen=True)
class Token:
    name: str  # manifest name: Stablecoin, DigitalCurrency
    label: str  # KGST, digital som
    contract: Contract
    since: int  # deployment block: where its blocklist events start


@dataclass
class Blocklists:
    """The AccessManager and every token of a deployment that keeps a blocklist."""

    w3: Web3
    manager: Contract
    tokens: list[Token]
    multicall_code: str | None = None  # Multicall3's code, placed by a state override where the chain has none

    @classmethod
    def of_manifest(cls, w3: Web3, manifest: Manifest, artifacts: object) -> "Blocklists":
        manager = artifacts.get("SomAccessManager").contract(w3, deployed_address(w3, manifest, "AccessManager"))  # type: ignore[attr-defined]
        tokens = []
        for name, label in TOKENS.items():
            if name in manifest.contracts:
                contract = artifacts.get(name).contract(w3, deployed_address(w3, manifest, name))  # type: ignore[attr-defined]
                tokens.append(Token(name, label, contract, int(manifest.contracts[name].get("block") or 0)))
        if not tokens:
            raise SomstackError(f"{manifest.path.name} records no token with a blocklist ({', '.join(TOKENS)})")
        return cls(w3, manager, tokens, multicall_code(artifacts))

    @classmethod
    def of_session(cls, session: Session) -> "Blocklists":
        return cls.of_manifest(session.w3, session_manifest(session), session.artifacts)

    def require_roles(self, caller: str, sync: bool, route: routes.Route | None = None) -> None:
        """Raises :class:`ops.MissingRoleError` (one line) unless ``caller`` may block, and with
        ``sync`` unblock, on every token now. Under `governance propose` the caller is the Safe,
        whose batch gets the multicalls; they cannot be scheduled (each inner ``execute`` would
        need its own scheduled operation), so a schedule or execute ``route`` is refused."""
        if route is not None and route.immediate_refused:
            raise routes.RouteError(
                "compliance import blocks in AccessManager multicall batches, which cannot be scheduled; "
                "a role with an execution delay schedules each account: `somstack governance schedule compliance block ADDRESS ...`"
            )
        for token in self.tokens:
            for function in ("blockAccount", "unblockAccount") if sync else ("blockAccount",):
                require_role(self.manager, token.contract, token.name, caller, function, route)

    def are_blocked(self, token: Token, addresses: Sequence[str]) -> list[bool]:
        """``isBlocked`` of each address on ``token``, through Multicall3 (one eth_call per 500)."""
        selector = bytes(keccak(text="isBlocked(address)")[:4])
        to = token.contract.address
        calls = [(to, selector + bytes(12) + bytes.fromhex(address[2:])) for address in addresses]
        return [int.from_bytes(answer[-32:], "big") != 0 for answer in read_calls(self.w3, calls, self.multicall_code)]

    def blocked_now(self, token: Token) -> list[str]:
        """The token's blocklist: every account its ``AccountBlocked`` events name (read over
        block ranges), kept if ``isBlocked`` still says so."""
        found = logs_in_ranges(token.contract.events.AccountBlocked, token.since, self.w3.eth.block_number)
        candidates = sorted({Web3.to_checksum_address(log["args"]["account"]) for log in found})
        return [a for a, blocked in zip(candidates, self.are_blocked(token, candidates)) if blocked]


# --- The plan ---


@dataclass
class TokenPlan:
    token: Token
    add: list[Listing]  # listed, not blocked yet
    present: list[Listing]  # listed, blocked already
    remove: list[str]  # with --sync: blocked, not listed

    @property
    def work(self) -> int:
        return len(self.add) + len(self.remove)


def plan_import(lists: Blocklists, listings: Sequence[Listing], sync: bool) -> list[TokenPlan]:
    """What each token needs for the list to hold: the difference with the chain now."""
    addresses = [item.address for item in listings]
    listed = set(addresses)
    plans = []
    for token in lists.tokens:
        blocked = lists.are_blocked(token, addresses)
        plans.append(
            TokenPlan(
                token,
                add=[item for item, b in zip(listings, blocked) if not b],
                present=[item for item, b in zip(listings, blocked) if b],
                remove=[a for a in lists.blocked_now(token) if a not in listed] if sync else [],
            )
        )
    return plans


def format_plan(plans: Sequence[TokenPlan], sync: bool, batch_size: int) -> list[str]:
    """The dry run's report: per token what would be sent, and each address."""
    lines = []
    for plan in plans:
        token = plan.token
        removal = f", would remove {len(plan.remove):,}" if sync else ""
        batches = -(-len(plan.add) // batch_size) + -(-len(plan.remove) // batch_size)
        lines.append(
            f"{token.label:12s} {token.contract.address}  would add {len(plan.add):,}, already present {len(plan.present):,}"
            f"{removal} ({batches} transaction(s))"
        )
        lines += [f"  + {item.address}  row {item.row}" + (f"  {item.source}" if item.source else "") for item in plan.add]
        lines += [f"  - {address}  blocked on chain, not on the list" for address in plan.remove]
    lines.append("dry run: nothing was sent")
    return lines


# --- Applying it ---


@dataclass
class TokenResult:
    label: str
    address: str
    sync: bool
    added: int = 0
    present: int = 0
    removed: int = 0
    failed: int = 0  # addresses left as they were because a transaction failed
    error: str | None = None
    transactions: list[str] = field(default_factory=list)  # hashes; none for a proposed batch
    batches: int = 0  # sent, or proposed to the Safe
    gas_used: int = 0  # or, proposed, as simulated from the Safe
    proposed: bool = False  # the batches went into a Safe proposal: nothing was sent

    @property
    def ok(self) -> bool:
        return not self.failed

    def __str__(self) -> str:
        would = "to be " if self.proposed else ""
        removal = f", {would}removed {self.removed:,}" if self.sync else ""
        line = (f"{self.label:12s} {self.address}  {would}added {self.added:,}, already present {self.present:,}{removal}, "
                f"failed {self.failed:,}")
        if self.batches:
            line += f" ({self.batches} tx{' proposed' if self.proposed else ''}, gas {self.gas_used:,})"
        return line + (f": {self.error}" if self.error else "")


def multicall_data(lists: Blocklists, token: Token, calls: Sequence[str]) -> str:
    """One AccessManager ``multicall`` of ``execute(token, call)`` for each call (hex calldata)."""
    manager = lists.manager
    execute = encoder(manager, "execute")
    return manager.encode_abi("multicall", [[execute([token.contract.address, call]) for call in calls]])


def apply_plan(
    lists: Blocklists,
    sender: Sender,
    plans: Sequence[TokenPlan],
    sync: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Progress | None = None,
) -> list[TokenResult]:
    """Blocks what each plan adds and unblocks what it removes (``sync``), ``batch_size`` per
    transaction; a token whose transaction fails is reported failed and the next token goes on."""
    if not 1 <= batch_size <= MAX_BATCH_SIZE:
        raise SanctionsInputError(f"the batch size must be 1 to {MAX_BATCH_SIZE} (BSC's gas cap per transaction)")
    results = []
    for plan in plans:
        token = plan.token
        result = TokenResult(token.label, token.contract.address, sync, present=len(plan.present))
        results.append(result)
        steps = [(True, plan.add[i : i + batch_size]) for i in range(0, len(plan.add), batch_size)]
        steps += [(False, plan.remove[i : i + batch_size]) for i in range(0, len(plan.remove), batch_size)]
        for index, (block, part) in enumerate(steps):
            try:
                _send_batch(lists, sender, token, block, list(part), result, f"{index + 1}/{len(steps)}")
            except SomstackError as exc:
                result.failed = sum(len(p) for _b, p in steps[index:])
                result.error = str(exc)
                break
            finally:
                if progress:
                    progress(len(part))
    return results


def _send_batch(lists: Blocklists, sender: Sender, token: Token, block: bool, part: list, result: TokenResult, counter: str) -> None:
    """One batch; if it meets an address changed meanwhile (by another operator, or by an earlier
    run's transaction mined late), the batch is read again and the rest sent once more."""
    function = "blockAccount" if block else "unblockAccount"
    for attempt in (1, 2):
        addresses = [item.address if block else item for item in part]
        encode = encoder(token.contract, function)
        calls = [encode([item.address, item.reason] if block else [item]) for item in part]
        what = f"{function} batch {counter} on {token.label} ({len(part)} accounts)"
        logger.info(f"sending {what} through the AccessManager {lists.manager.address} on chain {lists.w3.eth.chain_id} from {sender.signer.address}")
        try:
            receipt = sender.transact({"to": lists.manager.address, "data": multicall_data(lists, token, calls)}, what)
        except TransactionFailed as exc:
            if attempt == 2 or exc.error is None or not exc.error.name.endswith("BlockStatusUnchanged"):
                raise
            done = [b == block for b in lists.are_blocked(token, addresses)]
            logger.info(f"  {sum(done)} account(s) of {what} changed meanwhile: sending the rest again")
            if block:
                result.present += sum(done)
            part = [item for item, d in zip(part, done) if not d]
            if not part:
                return
            continue
        tx = tx_label(receipt)
        if tx is None:
            result.proposed = True
        else:
            result.transactions.append(tx)
        result.batches += 1
        result.gas_used += receipt["gasUsed"]
        if block:
            result.added += len(part)
        else:
            result.removed += len(part)
        return


def import_list(
    lists: Blocklists, sender: Sender, listings: Sequence[Listing], sync: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE, progress: Progress | None = None,
) -> list[TokenResult]:
    """The whole import: the roles checked, the plan read from the chain, the plan applied."""
    lists.require_roles(sender.signer.address, sync)
    return apply_plan(lists, sender, plan_import(lists, listings, sync), sync, batch_size, progress)
