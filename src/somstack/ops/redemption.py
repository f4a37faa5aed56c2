"""KGST's redemption queue (contracts/RedemptionQueue.sol) for operators: request, list, pay,
reject, cancel, export the pending payouts for the bank and settle the bank's confirmations.

The queue itself makes every request once-only: a request id leaves Pending exactly once, on
chain. So ``settle`` needs no batch name of its own: it reads each row's request on chain, skips
those already paid under the same bank reference (a rerun pays nothing twice), refuses the whole
file when any row is bad (each named by its line number; nothing is sent), prints its plan and
asks before sending.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from web3 import Web3
from web3.contract import Contract

from somstack.core.chain import Sender, batched
from somstack.core.errors import InputError, SomstackError
from somstack.core.format import parse_bytes32, parse_units, reference, units, utc
from somstack.core.session import Session, deployed_address, session_manifest
from somstack.ops.common import Sent, require_role, send_call
from somstack.system.routes import route_of

logger = logging.getLogger(__name__)


STATUS = ("none", "pending", "paid", "rejected", "cancelled", "seized")
PENDING, PAID = 1, 2
# Reason codes of a rejection (the contract takes any non-zero uint8; these are the desk's).
REASONS = {1: "bank details invalid", 2: "KYC/AML check failed", 3: "bank account closed", 4: "duplicate request", 9: "other"}
EXPORT_COLUMNS = ("request_id", "holder", "amount", "payout_ref", "requested_at", "deadline")
SETTLE_COLUMNS = ("request_id", "bank_ref")
MAX_SHOWN = 20  # refusals printed before "... and N more"


class RedemptionError(SomstackError):
    """The chain would refuse the redemption operation; the message says why."""


class SettleFileError(InputError):
    """Rows of a settlement file are wrong; nothing was sent."""

    def __init__(self, path: Path, problems: list[str]):
        self.problems = problems
        shown = problems[:MAX_SHOWN]
        more = f"; ... and {len(problems) - MAX_SHOWN} more" if len(problems) > MAX_SHOWN else ""
        super().__init__(f"{path.name}: {len(problems)} bad row(s), nothing sent: " + "; ".join(shown) + more)


@dataclass(frozen=True)
class Request:
    id: int
    holder: str
    amount: int
    requested_at: int
    deadline: int
    status: int
    payout_ref: bytes = b""
    bank_ref: bytes = b""  # of a paid request
    late: bool = False

    @property
    def status_name(self) -> str:
        return STATUS[self.status] if self.status < len(STATUS) else f"#{self.status}"


@dataclass
class Queue:
    """The deployed queue, KGST and the AccessManager."""

    w3: Web3
    contract: Contract
    token: Contract
    manager: Contract
    start_block: int
    decimals: int

    @classmethod
    def of_session(cls, session: Session) -> "Queue":
        manifest = session_manifest(session)
        if "RedemptionQueue" not in manifest.contracts:
            raise RedemptionError("this deployment has no redemption queue (RedemptionQueue): deploy again to add it")
        artifacts = session.artifacts
        contract = artifacts.get("RedemptionQueue").contract(session.w3, deployed_address(session.w3, manifest, "RedemptionQueue"))
        token = artifacts.get("Stablecoin").contract(session.w3, manifest.address("Stablecoin"))
        manager = artifacts.get("SomAccessManager").contract(session.w3, manifest.address("AccessManager"))
        start = int(manifest.contracts["RedemptionQueue"].get("block") or 0)
        return cls(session.w3, contract, token, manager, start, int(token.functions.decimals().call()))  # type: ignore[arg-type]

    def show(self, value: int) -> str:
        return f"{units(value, self.decimals)} KGST"

    def call(self, sender: Sender, function: str, args: list[Any], what: str) -> Sent:
        require_role(self.manager, self.contract, "RedemptionQueue", sender.signer.address, function, route_of(sender))
        return send_call(sender, self.contract, "RedemptionQueue", self.contract.encode_abi(function, args), what)

    # --- reading ---

    def requests(self, ids: Sequence[int] | None = None, with_refs: bool = True) -> list[Request]:
        """The requests ``ids`` (default: all), their payout and bank references from the events."""
        count = int(self.contract.functions.requestCount().call())
        wanted = [i for i in (ids if ids is not None else range(1, count + 1)) if 1 <= i <= count]
        fn = self.contract.functions
        raw = batched(self.w3, wanted, lambda i: fn.request(i)) if wanted else []
        payout: dict[int, bytes] = {}
        paid: dict[int, tuple[bytes, bool]] = {}
        if with_refs and wanted:
            for e in self._events("RedemptionRequested"):
                payout[int(e["args"]["requestId"])] = bytes(e["args"]["payoutRef"])
            for e in self._events("RedemptionPaid"):
                paid[int(e["args"]["requestId"])] = (bytes(e["args"]["bankRef"]), bool(e["args"]["late"]))
        out = []
        for i, r in zip(wanted, raw):
            holder, requested_at, deadline, status, amount = r
            bank, late = paid.get(i, (b"", False))
            out.append(Request(i, holder, int(amount), int(requested_at), int(deadline), int(status), payout.get(i, b""), bank, late))
        return out

    def _events(self, name: str) -> list[Any]:
        latest = self.w3.eth.block_number
        found: list[Any] = []
        event = self.contract.events[name]
        start = self.start_block
        while start <= latest:
            end = min(start + 4_999, latest)
            found += event.get_logs(from_block=start, to_block=end)
            start = end + 1
        return found

    def summary(self) -> dict[str, int]:
        fn = self.contract.functions
        return {
            "pending": int(fn.pendingCount().call()),
            "pendingAmount": int(fn.pendingAmount().call()),
            "requests": int(fn.requestCount().call()),
            "breaches": int(fn.breachCount().call()),
            "serviceLevel": int(fn.serviceLevel().call()),
            "paused": int(bool(fn.paused().call())),
        }


# --- Commands ---


_GROUPED = re.compile(r"^\d{1,3}(,\d{3})+(\.\d+)?$")


def parse_amount(text: str, decimals: int, what: str = "amount (KGST)") -> int:
    """Whole KGST; a comma only as a thousands separator (``1,500.5``): ``1,50`` is refused,
    never read as 150 or 1.50."""
    if "," in text and not _GROUPED.match(text.strip()):
        raise InputError(f"{what}: '{text}' is ambiguous (a comma only separates thousands: 1,500.5)")
    return parse_units(text, decimals, what)


def request(queue: Queue, sender: Sender, amount: str, payout: str) -> list[Sent]:
    """The holder (the sender) approves the queue and requests ``amount`` to ``payout``."""
    value = parse_amount(amount, queue.decimals)
    ref = reference(payout, "--payout", "payout record (a salted hash of the bank details)")
    holder = sender.signer.address
    fn = queue.contract.functions
    if fn.paused().call():
        raise RedemptionError("new redemption requests are paused")
    minimum = int(fn.minAmount().call())
    if value < max(minimum, 1):
        raise RedemptionError(f"the smallest redemption is {queue.show(minimum)}, not {queue.show(value)}")
    if queue.token.functions.isBlocked(holder).call():
        raise RedemptionError(f"{holder} is blocked on KGST: it cannot redeem")
    held = int(queue.token.functions.balanceOf(holder).call())
    if held < value:
        raise RedemptionError(f"{holder} holds {queue.show(held)}, cannot redeem {queue.show(value)}")
    sent = []
    if int(queue.token.functions.allowance(holder, queue.contract.address).call()) < value:
        sent.append(send_call(sender, queue.token, "KGST", queue.token.encode_abi("approve", [queue.contract.address, value]),
                              f"approve the redemption queue for {queue.show(value)}"))
    sent.append(send_call(sender, queue.contract, "RedemptionQueue", queue.contract.encode_abi("requestRedemption", [value, ref]),
                          f"request redemption of {queue.show(value)} to payout 0x{ref.hex()}"))
    return sent


def _one(queue: Queue, request_id: int) -> Request:
    found = queue.requests([request_id], with_refs=False)
    if not found:
        raise RedemptionError(f"there is no request {request_id} (the queue has {queue.contract.functions.requestCount().call()})")
    return found[0]


def _settleable(queue: Queue, r: Request) -> str | None:
    """Why the desk cannot pay or reject ``r`` now, or None."""
    if r.status != PENDING:
        return f"request {r.id} is {r.status_name}, not pending"
    if queue.token.functions.isBlocked(r.holder).call():
        return f"request {r.id}: its holder {r.holder} is blocked, the escrow is frozen (seizure only)"
    return None


def pay(queue: Queue, sender: Sender, request_id: int, bank_ref: str) -> Sent:
    r = _one(queue, request_id)
    problem = _settleable(queue, r)
    if problem:
        raise RedemptionError(problem)
    ref = reference(bank_ref, "--bank-ref", "bank payout record")
    return queue.call(sender, "pay", [[request_id], [ref]], f"pay request {request_id} ({queue.show(r.amount)} to {r.holder})")


def reject(queue: Queue, sender: Sender, request_id: int, reason: int) -> Sent:
    if reason not in REASONS:
        raise InputError(f"--reason must be one of {', '.join(f'{k} ({v})' for k, v in REASONS.items())}, got {reason}")
    r = _one(queue, request_id)
    problem = _settleable(queue, r)
    if problem:
        raise RedemptionError(problem)
    return queue.call(sender, "reject", [[request_id], [reason]],
                      f"reject request {request_id} ({REASONS[reason]}): {queue.show(r.amount)} back to {r.holder}")


def cancel(queue: Queue, sender: Sender, request_id: int) -> Sent:
    r = _one(queue, request_id)
    holder = sender.signer.address
    if r.status != PENDING:
        raise RedemptionError(f"request {request_id} is {r.status_name}, not pending")
    if r.holder.lower() != holder.lower():
        raise RedemptionError(f"request {request_id} belongs to {r.holder}; only its holder may cancel it, not {holder}")
    now = int(queue.w3.eth.get_block("latest")["timestamp"])
    if now < r.deadline:
        raise RedemptionError(f"request {request_id} is due by {utc(r.deadline)}: it may be cancelled only after its deadline")
    return send_call(sender, queue.contract, "RedemptionQueue", queue.contract.encode_abi("cancel", [request_id]),
                     f"cancel overdue request {request_id} ({queue.show(r.amount)} back; a breach)")


def read_requests(queue: Queue, status: str | None) -> list[Request]:
    """The queue's requests (of ``status`` when named): what `redeem list` shows, and its --json."""
    return [r for r in queue.requests(with_refs=False) if not status or r.status_name == status]


def list_lines(queue: Queue, status: str | None, requests: list[Request] | None = None) -> list[str]:
    from somstack.core.format import table

    now = int(queue.w3.eth.get_block("latest")["timestamp"])
    rows = []
    for r in read_requests(queue, status) if requests is None else requests:
        overdue = " (overdue)" if r.status == PENDING and now > r.deadline else ""
        rows.append([str(r.id), r.holder, units(r.amount, queue.decimals), r.status_name + overdue, utc(r.requested_at), utc(r.deadline)])
    if not rows:
        return [f"no {status or ''} requests".replace("  ", " ")]
    return table(("id", "holder", "KGST", "status", "requested", "deadline"), rows, (True, False, True, False, False, False))


def export(queue: Queue, status: str, out: Path) -> int:
    """Writes the requests of ``status`` as CSV for the bank's payout run; returns the row count."""
    if status not in STATUS[1:]:
        raise InputError(f"--status must be one of {', '.join(STATUS[1:])}, got '{status}'")
    rows = [r for r in queue.requests() if r.status_name == status]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    for r in rows:
        writer.writerow([r.id, r.holder, units(r.amount, queue.decimals).replace(",", ""), "0x" + r.payout_ref.hex(), r.requested_at, r.deadline])
    from somstack.core.manifest import write_text_atomically

    write_text_atomically(out, buffer.getvalue())
    return len(rows)


@dataclass
class SettlePlan:
    to_pay: list[tuple[int, bytes, Request]] = field(default_factory=list)
    already: list[int] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(r.amount for _, _, r in self.to_pay)

    def lines(self, queue: Queue) -> list[str]:
        largest = max((r.amount for _, _, r in self.to_pay), default=0)
        return [
            f"to pay: {len(self.to_pay):,} request(s), {queue.show(self.total)} in total, largest {queue.show(largest)}",
            f"already paid (skipped): {len(self.already):,}",
        ]


def plan_settlement(queue: Queue, path: Path) -> SettlePlan:
    """Reads and checks the bank's confirmation file (``request_id,bank_ref``; an ``amount``
    column, if present, must match the request). Raises :class:`SettleFileError` listing every bad
    row by its line number; a request already paid under the same bank reference is skipped."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise InputError(f"{path}: cannot read it ({exc.strerror})") from None
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in SETTLE_COLUMNS if c not in header]
    if missing:
        raise InputError(f"{path.name}: the header must name {', '.join(SETTLE_COLUMNS)} (missing {', '.join(missing)})")
    problems: list[str] = []
    parsed: list[tuple[int, int, bytes, int | None]] = []  # (line, id, bank ref, amount)
    seen: dict[int, int] = {}
    for line, row in enumerate(reader, start=2):
        row = {(k or "").strip(): (v or "").strip() for k, v in row.items()}
        raw_id, raw_ref = row.get("request_id", ""), row.get("bank_ref", "")
        if not (raw_id.isascii() and raw_id.isdigit()) or int(raw_id) == 0:  # "²".isdigit(), then int() raises
            problems.append(f"line {line}: request_id '{raw_id}' is not a request number")
            continue
        try:
            ref = parse_bytes32(raw_ref, "bank_ref")
        except InputError:
            problems.append(f"line {line}: bank_ref '{raw_ref}' is not a non-zero 0x bytes32")
            continue
        amount = None
        if row.get("amount"):
            try:
                if "," in row["amount"]:
                    raise InputError("a comma in a CSV amount")
                amount = parse_units(row["amount"], queue.decimals, "amount")
            except InputError:
                problems.append(f"line {line}: amount '{row['amount']}' is not a number (write 15050.5, never 15,050.5)")
                continue
        rid = int(raw_id)
        if rid in seen:
            problems.append(f"line {line}: request {rid} already on line {seen[rid]}")
            continue
        seen[rid] = line
        parsed.append((line, rid, ref, amount))
    if not parsed and not problems:
        raise InputError(f"{path.name}: no rows")
    known = {r.id: r for r in queue.requests([p[1] for p in parsed])}
    plan = SettlePlan()
    for line, rid, ref, amount in parsed:
        r = known.get(rid)
        if r is None:
            problems.append(f"line {line}: there is no request {rid}")
            continue
        if amount is not None and amount != r.amount:
            problems.append(f"line {line}: request {rid} is for {units(r.amount, queue.decimals)} KGST, the file says {units(amount, queue.decimals)}")
            continue
        if r.status == PAID:
            if r.bank_ref == ref:
                plan.already.append(rid)
            else:
                problems.append(f"line {line}: request {rid} was paid earlier under bank reference 0x{r.bank_ref.hex()}, not this one")
            continue
        problem = _settleable(queue, r)
        if problem:
            problems.append(f"line {line}: {problem}")
            continue
        plan.to_pay.append((rid, ref, r))
    if problems:
        raise SettleFileError(path, problems)
    return plan


def settle(queue: Queue, sender: Sender, plan: SettlePlan, batch_size: int) -> list[Sent]:
    """Pays the plan's requests in batches of ``batch_size`` (each batch all or nothing)."""
    require_role(queue.manager, queue.contract, "RedemptionQueue", sender.signer.address, "pay", route_of(sender))
    sent = []
    rows = plan.to_pay
    for start in range(0, len(rows), batch_size):
        chunk = rows[start : start + batch_size]
        ids, refs = [rid for rid, _, _ in chunk], [ref for _, ref, _ in chunk]
        amount = sum(r.amount for _, _, r in chunk)
        sent.append(queue.call(sender, "pay", [ids, refs], f"pay requests {ids[0]}..{ids[-1]} ({len(ids)}, {queue.show(amount)})"))
    return sent


def status_line(queue: Queue) -> str:
    """One line for ``somstack status``: pending count and amount, oldest age, breaches."""
    s = queue.summary()
    pending = [r for r in queue.requests(with_refs=False) if r.status == PENDING] if s["pending"] else []
    now = int(queue.w3.eth.get_block("latest")["timestamp"])
    oldest = f", oldest {(now - min(r.requested_at for r in pending)) / 3600:.1f} h" if pending else ""
    overdue = sum(1 for r in pending if now > r.deadline)
    paused = ", requests PAUSED" if s["paused"] else ""
    return (f"redemption queue: {s['pending']:,} pending ({units(s['pendingAmount'], queue.decimals)} KGST){oldest}, "
            f"{overdue} overdue, {s['breaches']:,} breach(es) of the {s['serviceLevel'] / 3600:g} h service level{paused}")
