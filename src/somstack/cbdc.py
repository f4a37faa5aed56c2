"""The digital som from the operator's side: the tier table, wallet registration, and payrolls
paid from a CSV file in once-only batches.

A payroll file (``address,amount`` per row, amounts in som with up to 2 decimals, the tyiyn)
is validated whole before anything is sent: malformed addresses and amounts, duplicate
addresses, and every wallet the chain would refuse (unregistered, blocked, over its holding cap
without an overflow wallet), each reported with its row number. It is then cut into batches
whose ids derive from the file's content, the batch size and the batch's index, so a rerun of
the same file meets the same ids: the contract pays a batch id once (``isBatchPaid``), and a
rerun after an interruption pays only the batches not yet paid. A rerun cut into batches of
another size is refused (the first batch of every cut is looked up on chain). The chain is the
journal; nothing local can disagree with it.

Units: token units (tyiyn, decimals 2) inside; som in what users type and read.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from eth_abi import encode as abi_encode
from eth_utils import keccak, to_checksum_address
from web3 import Web3
from web3.contract import Contract
from web3.logs import DISCARD

from .chain import Sender
from .config import UNLIMITED, DigitalCurrencyParams
from .errors import InputError, SomstackError, TransactionFailed
from .ops import Sent, batched, deployed_address, require_role, send_call, session_manifest, table, units
from .ops import parse_address as ops_parse_address
from .ops import parse_bytes32 as ops_parse_bytes32
from .session import Session

Log = Callable[[str], None]

# TransferRestrictions codes, as the payroll check words them.
RESTRICTIONS = {
    1: "transfers are paused",
    2: "the treasury is blocked",
    3: "the wallet is blocked",
    4: "the treasury's balance is too low for this row",
    6: "the zero address",
    9: "the treasury has no wallet tier",
    10: "the wallet is not registered (tier 0)",
    11: "the payment would take the wallet over its holding cap, and it has no overflow wallet",
    12: "the amount is over the treasury's per-transfer limit",
    13: "the amount is over the treasury's daily limit",
}
BATCH_ID_DOMAIN = b"somstack.disburse.v1"
DEFAULT_BATCH_SIZE = 200  # 200 payments use ~1.9 M gas: well under BSC's 16.7 M per transaction


# --- Errors ---


class CbdcInputError(InputError):
    """A tier, an address, a hash or an amount given to a digital som command is malformed."""


class PayrollCutError(SomstackError):
    """The payroll was first paid cut into batches of another size."""


class WalletRefusedError(SomstackError):
    """The digital som would refuse this registration (already registered, identity taken, ...)."""


@dataclass(frozen=True)
class RowProblem:
    row: int  # 1-based line number in the file
    text: str

    def __str__(self) -> str:
        return f"row {self.row}: {self.text}"


class PayrollRejectedError(SomstackError):
    """Rows of a payroll file are invalid or would be refused: nothing was sent."""

    def __init__(self, problems: Sequence[RowProblem], rows: int):
        self.problems = list(problems)
        super().__init__(f"{len(problems)} of {rows} rows refused (listed above); nothing was sent")


# --- Parsing ---


def parse_som(text: str, decimals: int, what: str) -> int:
    """``text`` som (``1500``, ``1500.5``, ``1,500.25``) in token units; positive, at most
    ``decimals`` decimals."""
    cleaned = str(text).strip().replace("_", "").replace(",", "")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise CbdcInputError(f"{what}: '{text}' is not an amount of som") from None
    if not value.is_finite() or value <= 0:
        raise CbdcInputError(f"{what}: '{text}' must be a positive amount of som")
    scaled = value.scaleb(decimals)
    if scaled != scaled.to_integral_value():
        raise CbdcInputError(f"{what}: {text} has more than {decimals} decimals (the tyiyn is the smallest unit)")
    amount = int(scaled)
    if amount > UNLIMITED:
        raise CbdcInputError(f"{what}: {text} som is more than the digital som can hold")
    return amount


def parse_address(text: str, what: str) -> str:
    return ops_parse_address(text, what, CbdcInputError)


def parse_bytes32(text: str, what: str) -> bytes:
    return ops_parse_bytes32(text, what, CbdcInputError)


def som_text(amount: int, decimals: int = 2) -> str:
    return f"{units(amount, decimals, decimals)} som"


def limit_text(amount: int, decimals: int) -> str:
    return "unlimited" if amount == UNLIMITED else units(amount, decimals, 0 if amount % 10**decimals == 0 else decimals)


# --- The token as the operator sees it ---


@dataclass
class Cbdc:
    """Handles on the deployed digital som and the AccessManager of one chain."""

    w3: Web3
    token: Contract
    manager: Contract
    params: DigitalCurrencyParams

    @classmethod
    def of_session(cls, session: Session) -> "Cbdc":
        manifest = session_manifest(session)
        address = deployed_address(session.w3, manifest, "DigitalCurrency")
        artifacts = session.artifacts
        return cls(
            w3=session.w3,
            token=artifacts.get("DigitalCurrency").contract(session.w3, address),  # type: ignore[arg-type]
            manager=artifacts.get("SomAccessManager").contract(session.w3, manifest.address("AccessManager")),  # type: ignore[arg-type]
            params=session.settings.deployment(session.network.name).digital_currency,
        )

    @property
    def decimals(self) -> int:
        return int(self.token.functions.decimals().call())

    def require_role(self, caller: str, function: str) -> None:
        require_role(self.manager, self.token, "DigitalCurrency", caller, function)

    def send(self, sender: Sender, data: str, what: str, log: Log) -> Sent:
        return send_call(sender, self.token, "digital som", data, what, log)


# --- Tiers ---


@dataclass(frozen=True)
class TierRow:
    id: int
    name: str
    holding_cap: int
    transfer_limit: int
    daily_limit: int
    enabled: bool
    matches_config: bool


def read_tiers(cbdc: Cbdc) -> list[TierRow]:
    """The tiers named in the settings, and any other tier id up to the highest one used, as
    the chain has them."""
    configured = {t.id: t for t in cbdc.params.tiers}
    rows = []
    for tier_id in range(1, max(configured, default=0) + 1):
        cap, per_transfer, daily, enabled = cbdc.token.functions.tier(tier_id).call()
        spec = configured.get(tier_id)
        if spec is None and not enabled and cap == 0:
            continue
        rows.append(
            TierRow(
                id=tier_id,
                name=spec.name if spec else "(not in brownie-config.yaml)",
                holding_cap=cap,
                transfer_limit=per_transfer,
                daily_limit=daily,
                enabled=enabled,
                matches_config=spec is not None and spec.as_tuple() == (cap, per_transfer, daily, enabled),
            )
        )
    return rows


def format_tiers(rows: Sequence[TierRow], decimals: int) -> list[str]:
    body = [
        [
            str(r.id),
            r.name,
            limit_text(r.holding_cap, decimals),
            limit_text(r.transfer_limit, decimals),
            limit_text(r.daily_limit, decimals),
            "yes" if r.enabled else "no",
            "" if r.matches_config else "differs from brownie-config.yaml",
        ]
        for r in rows
    ]
    headers = ["tier", "name", "holding cap [som]", "per transfer [som]", "daily [som]", "enabled", "note"]
    lines = table(headers, body, [True, False, True, True, True, False, False])
    lines.append("daily limits count a wallet's outflow per UTC day of the chain's time; uncapped tiers are exempt from one-wallet-per-identity")
    return lines


# --- Registration ---


def register(
    cbdc: Cbdc, sender: Sender, wallet: str, tier: int, kyc_hash: str, identity: str, log: Log = print
) -> Sent:
    """Registers ``wallet`` in ``tier`` (role KYC_OFFICER), checked first for what the token
    would refuse."""
    address = parse_address(wallet, "wallet")
    kyc = parse_bytes32(kyc_hash, "--kyc-hash")
    person = parse_bytes32(identity, "--identity")
    functions = cbdc.token.functions
    cap, _per_transfer, _daily, enabled = functions.tier(tier).call() if 1 <= tier <= 127 else (0, 0, 0, False)
    if not enabled:
        known = ", ".join(str(t.id) for t in read_tiers(cbdc) if t.enabled) or "none"
        raise WalletRefusedError(f"tier {tier} is not an enabled tier (enabled: {known})")
    current, _identity, _overflow = functions.walletOf(address).call()
    if current:
        raise WalletRefusedError(f"{address} is registered already, in tier {current}: use changeTier to move it")
    if cap != UNLIMITED:
        holder = functions.cappedWalletOf(person).call()
        if int(holder, 16):
            raise WalletRefusedError(f"identity {identity} already holds the capped wallet {holder}: one person, one capped wallet")
    cbdc.require_role(sender.signer.address, "registerWallet")
    data = cbdc.token.encode_abi("registerWallet", [address, tier, person, kyc])
    return cbdc.send(sender, data, f"registerWallet({address}, tier {tier})", log)


# --- Payrolls ---


@dataclass(frozen=True)
class Payment:
    row: int
    address: str
    amount: int  # [token units]


@dataclass(frozen=True)
class Batch:
    index: int
    batch_id: bytes
    payments: tuple[Payment, ...]
    size: int  # the batch size the payroll was cut with (part of the id)
    digest: bytes  # sha256 of the payroll's normalized rows

    @property
    def total(self) -> int:
        return sum(p.amount for p in self.payments)


def read_payroll(path: Path, decimals: int) -> tuple[list[Payment], list[RowProblem]]:
    """The rows of a payroll CSV (``address,amount``; a first row ``address,amount`` is a
    header), and the problems of form: bad address, bad amount, duplicate address."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise CbdcInputError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise CbdcInputError(f"{path} is not a UTF-8 text file") from None
    payments: list[Payment] = []
    problems: list[RowProblem] = []
    seen: dict[str, int] = {}
    for number, cells in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not cells or all(not c.strip() for c in cells):
            continue
        if number == 1 and cells[0].strip().lower() == "address":
            continue
        if len(cells) != 2:
            problems.append(RowProblem(number, f"expected 2 columns (address,amount), found {len(cells)}"))
            continue
        try:
            address = parse_address(cells[0], "address")
            amount = parse_som(cells[1], decimals, "amount")
        except CbdcInputError as exc:
            problems.append(RowProblem(number, str(exc)))
            continue
        if address in seen:
            problems.append(RowProblem(number, f"{address} is listed already on row {seen[address]}: one payment per wallet per file"))
            continue
        seen[address] = number
        payments.append(Payment(number, address, amount))
    if not payments and not problems:
        raise CbdcInputError(f"{path} has no payment rows")
    return payments, problems


def batches_of(payments: Sequence[Payment], batch_size: int) -> list[Batch]:
    """The payroll in batches of ``batch_size``, each id = keccak(domain, file digest, batch
    size, index): the same rows in the same order, cut the same way, give the same ids, so a
    rerun finds what was paid. A payroll is rerun with the batch size it was first paid with:
    :func:`disburse` finds that size on chain (:func:`paid_cut`) and refuses another."""
    if batch_size < 1:
        raise CbdcInputError("the batch size must be at least 1")
    digest = hashlib.sha256("\n".join(f"{p.address.lower()},{p.amount}" for p in payments).encode()).digest()
    out = []
    for index, start in enumerate(range(0, len(payments), batch_size)):
        out.append(Batch(index, batch_id(digest, batch_size, index), tuple(payments[start : start + batch_size]), batch_size, digest))
    return out


MAX_BATCH_SIZE = 1_000  # the largest cut `paid_cut` looks for (the CLI allows 1 to 1,000)


def batch_id(digest: bytes, batch_size: int, index: int) -> bytes:
    return keccak(BATCH_ID_DOMAIN + digest + batch_size.to_bytes(32, "big") + index.to_bytes(32, "big"))


def are_paid(cbdc: Cbdc, batch_ids: Sequence[bytes]) -> list[bool]:
    """``isBatchPaid`` of each id, asked in JSON-RPC batches."""
    selector = bytes(Web3.keccak(text="isBatchPaid(bytes32)")[:4])
    token = cbdc.token.address
    answers = batched(cbdc.w3, batch_ids, lambda value: cbdc.w3.eth.call({"to": token, "data": Web3.to_hex(selector + value)}))
    return [int.from_bytes(bytes(a)[-32:], "big") != 0 for a in answers]


def paid_cut(cbdc: Cbdc, digest: bytes) -> int | None:
    """The batch size this payroll was paid with before, if any: batches are paid in order, so a
    cut that paid anything paid its first batch, whose id names the cut."""
    sizes = range(1, MAX_BATCH_SIZE + 1)
    paid = are_paid(cbdc, [batch_id(digest, size, 0) for size in sizes])
    return next((size for size, is_paid in zip(sizes, paid) if is_paid), None)


def check_payroll(cbdc: Cbdc, treasury: str, payments: Sequence[Payment]) -> list[RowProblem]:
    """What the chain would refuse, row by row: the token's own pre-check
    (``detectTransferRestriction(treasury, wallet, amount)``), asked in JSON-RPC batches."""
    problems = []
    selector = bytes(Web3.keccak(text="detectTransferRestriction(address,address,uint256)")[:4])
    token = cbdc.token.address

    def precheck(p: Payment) -> Any:
        data = selector + abi_encode(["address", "address", "uint256"], [treasury, p.address, p.amount])
        return cbdc.w3.eth.call({"to": token, "data": Web3.to_hex(data)})

    answers = batched(cbdc.w3, payments, precheck)
    codes = [int.from_bytes(bytes(a)[-32:], "big") for a in answers]
    for p, code in zip(payments, codes):
        if code:
            problems.append(RowProblem(p.row, f"{p.address}: {RESTRICTIONS.get(code, f'refused (code {code})')}"))
    return problems


@dataclass
class Reconciliation:
    rows: int
    batches: int
    batches_sent: int = 0  # by this run
    batches_paid_before: int = 0  # found paid on chain (an earlier run)
    paid_rows: int = 0  # rows paid by this run
    skipped: list[RowProblem] = field(default_factory=list)
    total_paid: int = 0  # by this run [token units]
    previously_paid_total: int = 0  # [token units], of the batches paid before
    gas_used: int = 0
    transactions: list[str] = field(default_factory=list)

    def lines(self, decimals: int) -> list[str]:
        out = [
            f"rows {self.rows:,} in {self.batches:,} batch(es): {self.batches_sent:,} paid now, "
            f"{self.batches_paid_before:,} paid before (not paid again)",
            f"paid now {self.paid_rows:,} rows, {som_text(self.total_paid, decimals)} (gas {self.gas_used:,}); "
            f"paid before {som_text(self.previously_paid_total, decimals)}",
            f"skipped {len(self.skipped):,} rows",
        ]
        out += [f"  {p}" for p in self.skipped]
        return out


def disburse(
    cbdc: Cbdc,
    sender: Sender,
    batches: Sequence[Batch],
    rows: int,
    skip_ineligible: bool = False,
    log: Log = print,
    progress: Callable[[int], None] | None = None,
) -> Reconciliation:
    """Pays each batch not yet paid, in order; a batch found paid (by an earlier run, or by a
    transaction of this one that was mined after all) is not paid again."""
    functions = cbdc.token.functions
    treasury = sender.signer.address
    cbdc.require_role(treasury, "disburse")
    result = Reconciliation(rows=rows, batches=len(batches))
    if not batches:
        return result
    cut = paid_cut(cbdc, batches[0].digest)
    if cut is not None and cut != batches[0].size:
        raise PayrollCutError(
            f"this payroll was first paid in batches of {cut}; rerun it with --batch-size {cut} "
            "(another cut would pay the rows of its paid batches again); nothing was sent"
        )
    paid = are_paid(cbdc, [b.batch_id for b in batches])
    pending = [b for b, is_paid in zip(batches, paid) if not is_paid]
    for b, is_paid in zip(batches, paid):
        if is_paid:
            result.batches_paid_before += 1
            result.previously_paid_total += b.total
            if progress:
                progress(len(b.payments))
    need = sum(b.total for b in pending)
    held = functions.balanceOf(treasury).call()
    if need > held:
        raise WalletRefusedError(f"the treasury {treasury} holds {som_text(held)}, the unpaid batches need {som_text(need)}; nothing was sent")
    if pending:
        log(f"paying {len(pending)} batch(es) from the treasury {treasury} on chain {cbdc.w3.eth.chain_id}")
    event = cbdc.token.events.BatchDisbursed()
    for b in pending:
        data = cbdc.token.encode_abi(
            "disburse", [b.batch_id, [p.address for p in b.payments], [p.amount for p in b.payments], skip_ineligible]
        )
        what = f"disburse batch {b.index + 1}/{len(batches)} ({len(b.payments)} payments)"
        try:
            receipt = sender.transact({"to": cbdc.token.address, "data": data}, what)
        except TransactionFailed as exc:
            # Paid meanwhile: an earlier run's transaction, mined before (or in the block of)
            # this one, whose revert replays as unknown one block back.
            if (exc.error is not None and exc.error.name == "DigitalCurrencyBatchAlreadyPaid") or functions.isBatchPaid(b.batch_id).call():
                log(f"  batch {b.index + 1} was paid meanwhile (an earlier transaction was mined): not paid again")
                result.batches_paid_before += 1
                result.previously_paid_total += b.total
                if progress:
                    progress(len(b.payments))
                continue
            raise
        (paid,) = event.process_receipt(receipt, errors=DISCARD)  # the Transfer logs are not this event
        args = paid["args"]
        for index, code in zip(args["skipped"], args["reasons"]):
            p = b.payments[index]
            result.skipped.append(RowProblem(p.row, f"{p.address}: skipped, {RESTRICTIONS.get(code, f'code {code}')}"))
        result.batches_sent += 1
        result.paid_rows += args["paid"]
        result.total_paid += args["total"]
        result.gas_used += receipt["gasUsed"]
        tx = receipt["transactionHash"].hex()
        result.transactions.append(tx if tx.startswith("0x") else "0x" + tx)
        if progress:
            progress(len(b.payments))
    return result


def prepare_payroll(
    cbdc: Cbdc, treasury: str, path: Path, batch_size: int = DEFAULT_BATCH_SIZE, check: bool = True
) -> tuple[list[Batch], int]:
    """Reads, validates (form, then chain) and batches a payroll file. Raises
    :class:`PayrollRejectedError` listing every bad row; the batches and row count otherwise."""
    cbdc.require_role(treasury, "disburse")
    decimals = cbdc.decimals
    payments, problems = read_payroll(path, decimals)
    batches = batches_of(payments, batch_size) if payments else []
    if check and payments:
        # Batches already paid (a rerun) are not checked again: their wallets may be full now.
        paid = are_paid(cbdc, [b.batch_id for b in batches])
        unpaid = [p for b, is_paid in zip(batches, paid) if not is_paid for p in b.payments]
        problems += check_payroll(cbdc, treasury, unpaid)
    if problems:
        rows = len(payments) + len({p.row for p in problems} - {p.row for p in payments})
        raise PayrollRejectedError(sorted(problems, key=lambda p: p.row), rows)
    return batches, len(payments)


def write_payroll(path: Path, rows: Iterable[tuple[str, str]]) -> None:
    """Writes ``address,amount`` rows with a header (for the demo and tests)."""
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["address", "amount"])
        writer.writerows(rows)


def register_many(
    cbdc: Cbdc,
    sender: Sender,
    wallets: Sequence[str],
    tier: int,
    identities: Sequence[bytes],
    kyc_records: Sequence[bytes],
    chunk: int = 200,
    log: Log = print,
) -> list[Sent]:
    """Registers many wallets in one tier (role KYC_OFFICER), ``chunk`` per transaction
    (``registerWallets``); wallets registered already are left out, so a rerun resumes."""
    if not len(wallets) == len(identities) == len(kyc_records):
        raise CbdcInputError("wallets, identities and KYC records must be as many")
    cbdc.require_role(sender.signer.address, "registerWallets")
    functions = cbdc.token.functions
    records = batched(cbdc.w3, wallets, lambda wallet: functions.walletOf(to_checksum_address(wallet)))
    todo = [i for i, record in enumerate(records) if record[0] == 0]
    sent = []
    for start in range(0, len(todo), chunk):
        part = todo[start : start + chunk]
        data = cbdc.token.encode_abi(
            "registerWallets",
            [[to_checksum_address(wallets[i]) for i in part], tier, [identities[i] for i in part], [kyc_records[i] for i in part]],
        )
        sent.append(cbdc.send(sender, data, f"registerWallets({len(part)} wallets, tier {tier})", log))
    return sent
