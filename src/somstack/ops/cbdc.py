"""The digital som from the operator's side: the tier table, wallet registration, and payrolls
paid from a CSV file in once-only batches.

A payroll has an id the operator names (``--payroll 2026-12-teachers``). Its file
(``address,amount`` per row, amounts in som with up to 2 decimals, the tyiyn) is validated
whole before anything is sent: malformed addresses, amounts that are not plain numbers
(``150,50`` is refused, not read as 15,050, unless an explicit amount format is chosen),
amounts over the per-row ceiling, duplicate addresses, and every wallet the chain would refuse
(unregistered, blocked, over its holding cap without an overflow wallet), each reported with its
row number. Batch ids derive from the payroll id and each batch's rows; the batches paid under
the id are read back from the chain (events and transactions), so a rerun pays, per recipient,
only who was not paid under that id, and a file that disagrees with what was paid is refused.
The chain is the journal; nothing local can disagree with it.

Units: token units (tyiyn, decimals 2) inside; som in what users type and read.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_utils import keccak, to_checksum_address
from web3 import Web3
from web3.contract import Contract
from web3.logs import DISCARD

from somstack.core.chain import Sender, batched, multicall_code, read_calls
from somstack.core.config import UNLIMITED, DigitalCurrencyParams
from somstack.core.errors import (
    InputError,
    RefusedError,
    SomstackError,
    TransactionFailed,
)
from somstack.core.format import parse_address as ops_parse_address
from somstack.core.format import parse_bytes32 as ops_parse_bytes32
from somstack.core.format import table, units
from somstack.core.session import Session, deployed_address, session_manifest
from somstack.ops.common import Sent, read_text_file, require_role, send_call
from somstack.system.routes import Route, route_of

logger = logging.getLogger(__name__)


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
BATCH_ID_DOMAIN = b"somstack.disburse.v2"
DEFAULT_BATCH_SIZE = 200  # 200 payments use ~1.9 M gas: well under BSC's 16.7 M per transaction


# --- Errors ---


class CbdcInputError(InputError):
    """A tier, an address, a hash or an amount given to a digital som command is malformed."""


class WalletRefusedError(RefusedError):
    """The digital som would refuse this registration (already registered, identity taken, ...)."""


@dataclass(frozen=True)
class RowProblem:
    row: int  # 1-based line number in the file
    text: str

    def __str__(self) -> str:
        return f"row {self.row}: {self.text}" if self.row else f"not in the file: {self.text}"


def listed_again(seen: dict[str, int], address: str, row: int, why: str = "") -> RowProblem | None:
    """The problem of ``address`` on ``row`` of a file where an earlier row listed it (``seen``:
    address -> the row that first did), with ``why`` after it; None, the row recorded, otherwise."""
    if address in seen:
        return RowProblem(row, f"{address} is listed already on row {seen[address]}{why}")
    seen[address] = row
    return None


class PayrollRejectedError(SomstackError):
    """Rows of a payroll file are invalid or would be refused: nothing was sent."""

    def __init__(self, problems: Sequence[RowProblem], rows: int):
        self.problems = list(problems)
        super().__init__(f"{len(problems)} of {rows} rows refused (listed above); nothing was sent")


# --- Parsing ---


_PLAIN = re.compile(r"^[0-9]+(\.[0-9]+)?$")
_NEGATIVE = re.compile(r"^-[0-9]+(\.[0-9]+)?$")
_CURRENCY = re.compile(r"^(?:som|сом|kgs|с|\u20c0)\s*|\s*(?:som|сом|kgs|с|\u20c0)$", re.IGNORECASE)
_GROUPED = {  # one thousands separator used throughout, groups of 3, then the decimal mark
    "decimal-comma": re.compile(r"^[0-9]{1,3}(?:([. \u00a0\u202f'])[0-9]{3}(?:\1[0-9]{3})*)?(?:,[0-9]+)?$|^[0-9]+(?:,[0-9]+)?$"),
    "decimal-point": re.compile(r"^[0-9]{1,3}(?:([, \u00a0\u202f'])[0-9]{3}(?:\1[0-9]{3})*)?(?:\.[0-9]+)?$|^[0-9]+(?:\.[0-9]+)?$"),
}


def _canonical_som(text: str, what: str, amount_format: str) -> str:
    """``text`` as a plain decimal (``1234.5``): in the ``plain`` format only digits and one
    decimal point pass, anything with a comma, a space, a currency sign is ambiguous and
    refused; ``decimal-comma`` (``1.234,5``) and ``decimal-point`` (``1,234.5``) take one
    thousands separator and a currency sign (som, сом, KGS, с)."""
    raw = text.strip()
    if amount_format == "plain":
        if _PLAIN.match(raw) or _NEGATIVE.match(raw):
            return raw
        if re.search(r"[0-9]", raw) and (
            re.search(r"[,\s\u00a0\u202f'_]", raw) or raw.count(".") > 1 or _CURRENCY.search(raw) or re.search(r"[$€₽¤]", raw)
        ):
            raise CbdcInputError(
                f"{what}: '{text}' is ambiguous (a decimal comma, a thousands separator, a space or a currency sign): "
                "write it as 1234.56, or choose --amount-format decimal-comma (1.234,56) or decimal-point (1,234.56)"
            )
        raise CbdcInputError(f"{what}: '{text}' is not an amount of som")
    bare = _CURRENCY.sub("", raw).strip()
    if _NEGATIVE.match(bare.replace(",", ".")):
        return bare.replace(",", ".")
    match = _GROUPED[amount_format].match(bare)
    if not match:
        raise CbdcInputError(f"{what}: '{text}' is not an amount of som in the {amount_format} format")
    separator = match.group(1) or ""
    cleaned = bare.replace(separator, "") if separator else bare
    return cleaned.replace(",", ".") if amount_format == "decimal-comma" else cleaned


def parse_som(text: str, decimals: int, what: str, amount_format: str = "plain") -> int:
    """``text`` som (``1500``, ``1500.5``; see :func:`_canonical_som` for the formats) in token
    units; positive, at most ``decimals`` decimals, at most what the token can hold."""
    cleaned = _canonical_som(str(text), what, amount_format)
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
    deploy_block: int = 0  # where the token's history starts (payrolls are looked up from it)
    multicall_code: str | None = None  # Multicall3's runtime code, placed by a state override where the chain has none

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
            deploy_block=int(manifest.contracts.get("DigitalCurrency", {}).get("block") or 0),
            multicall_code=multicall_code(artifacts),
        )

    @property
    def decimals(self) -> int:
        return int(self.token.functions.decimals().call())

    def require_role(self, caller: str, function: str, route: Route | None = None) -> None:
        require_role(self.manager, self.token, "DigitalCurrency", caller, function, route)

    def send(self, sender: Sender, data: str, what: str) -> Sent:
        return send_call(sender, self.token, "digital som", data, what)


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
    cbdc: Cbdc, sender: Sender, wallet: str, tier: int, kyc_hash: str, identity: str
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
    cbdc.require_role(sender.signer.address, "registerWallet", route_of(sender))
    data = cbdc.token.encode_abi("registerWallet", [address, tier, person, kyc])
    return cbdc.send(sender, data, f"registerWallet({address}, tier {tier})")


# --- Payrolls ---
#
# A payroll has an identity the operator names (``--payroll 2026-12-teachers``). Each batch id
# is the payroll's tag (16 bytes of keccak(domain, payroll id)) followed by 16 bytes of
# keccak(domain, payroll id, the batch's rows): the same rows under a new payroll id (next
# month) are new batches, and the batches paid under one payroll id can be found on chain from
# the BatchDisbursed events of the treasury, whose batch ids start with the tag. What each paid
# batch paid is read back from its transaction, so a rerun knows, per recipient, who was paid
# what under this payroll, whatever the file's order or cut: a recipient paid is never paid
# again, and a file that disagrees with what was paid (another amount, a paid row missing) is
# refused, naming the rows and the transactions.

AMOUNT_FORMATS = ("plain", "decimal-comma", "decimal-point")
SHOWN = 20  # refusals printed in full; the rest are counted
LOG_CHUNK = 5_000  # blocks per eth_getLogs query (public BSC RPCs allow about this many)
PAYROLL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,79}$")
BATCH_DISBURSED = "0x" + keccak(text="BatchDisbursed(bytes32,address,uint256,uint256,uint256[],uint8[])").hex()
TRANSFER = "0x" + keccak(text="Transfer(address,address,uint256)").hex()
DISBURSE_SELECTOR = keccak(text="disburse(bytes32,address[],uint256[],bool)")[:4]
EXECUTE_SELECTOR = keccak(text="execute(address,bytes)")[:4]


class PayrollConflictError(SomstackError):
    """The payroll id was paid before with other content: nothing was sent."""

    def __init__(self, payroll_id: str, problems: Sequence[RowProblem], paid: Sequence["PaidBatch"]):
        self.problems, self.paid = list(problems), list(paid)
        super().__init__(
            f"payroll '{payroll_id}' was paid before with other content: {len(problems):,} row(s) differ from what "
            f"{len(paid):,} paid batch(es) paid (listed above, with their transactions); nothing was sent. "
            "A new period takes a new --payroll id; a paid row is corrected by a separate payment"
        )


class PayrollCeilingError(SomstackError):
    """The payroll adds up to more than the ceiling of brownie-config.yaml: nothing was sent."""


def parse_payroll_id(text: str) -> str:
    if not PAYROLL_ID.match(text or ""):
        raise CbdcInputError(f"--payroll: '{text}' is not a payroll id (letters, digits and . _ : / -, up to 80, e.g. 2026-12-teachers)")
    return text


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

    @property
    def total(self) -> int:
        return sum(p.amount for p in self.payments)


@dataclass(frozen=True)
class PaidBatch:
    """A batch paid under the payroll id, as the chain has it."""

    batch_id: bytes
    tx: str
    block: int
    paid: tuple[tuple[str, int], ...]  # (recipient, amount [token units]) paid; skipped rows left out

    @property
    def total(self) -> int:
        return sum(amount for _address, amount in self.paid)


def payroll_tag(payroll_id: str) -> bytes:
    return keccak(BATCH_ID_DOMAIN + b"/payroll/" + payroll_id.encode())[:16]


def batch_id(payroll_id: str, payments: Sequence[Payment]) -> bytes:
    """The tag of the payroll, then 16 bytes of the hash of the payroll id and the batch's rows."""
    body = b"".join(bytes.fromhex(p.address[2:]) + p.amount.to_bytes(32, "big") for p in payments)
    return payroll_tag(payroll_id) + keccak(BATCH_ID_DOMAIN + b"/batch/" + payroll_id.encode() + b"\x00" + body)[:16]


def _csv_rows(path: Path, columns: Sequence[str], problems: list[RowProblem]) -> Iterable[tuple[int, list[str]]]:
    """The numbered rows of a CSV file of ``columns`` (UTF-8, a BOM allowed; blank rows and a
    first row naming the first column skipped); a row with another number of cells is a problem."""
    text = read_text_file(path, CbdcInputError)
    for number, cells in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not cells or all(not c.strip() for c in cells):
            continue
        if number == 1 and cells[0].strip().lower() == columns[0]:
            continue
        if len(cells) != len(columns):
            problems.append(RowProblem(number, f"expected {len(columns)} columns ({','.join(columns)}), found {len(cells)}"))
            continue
        yield number, cells


def read_payroll(path: Path, decimals: int, amount_format: str = "plain", max_row: int | None = None) -> tuple[list[Payment], list[RowProblem]]:
    """The rows of a payroll CSV (``address,amount``; a first row ``address,amount`` is a
    header), and the problems of form: bad address, bad or ambiguous amount, an amount over the
    per-row ceiling, duplicate address."""
    payments: list[Payment] = []
    problems: list[RowProblem] = []
    seen: dict[str, int] = {}
    for number, cells in _csv_rows(path, ("address", "amount"), problems):
        try:
            address = parse_address(cells[0], "address")
            amount = parse_som(cells[1], decimals, "amount", amount_format)
        except CbdcInputError as exc:
            problems.append(RowProblem(number, str(exc)))
            continue
        if max_row is not None and amount > max_row:
            problems.append(RowProblem(number, f"{address}: {som_text(amount, decimals)} is over the ceiling of "
                                               f"{som_text(max_row, decimals)} a row (digital_currency.payroll.max_row)"))
            continue
        if again := listed_again(seen, address, number, ": one payment per wallet per file"):
            problems.append(again)
            continue
        payments.append(Payment(number, address, amount))
    if not payments and not problems:
        raise CbdcInputError(f"{path} has no payment rows")
    return payments, problems


def batches_of(payroll_id: str, payments: Sequence[Payment], batch_size: int) -> list[Batch]:
    """``payments`` in batches of ``batch_size``, in the order of their addresses (the file's
    order does not matter), each id from the payroll id and the batch's rows."""
    if batch_size < 1:
        raise CbdcInputError("the batch size must be at least 1")
    ordered = sorted(payments, key=lambda p: p.address.lower())
    out = []
    for index, start in enumerate(range(0, len(ordered), batch_size)):
        part = tuple(ordered[start : start + batch_size])
        out.append(Batch(index, batch_id(payroll_id, part), part))
    return out


def are_paid(cbdc: Cbdc, batch_ids: Sequence[bytes]) -> list[bool]:
    """``isBatchPaid`` of each id, asked in JSON-RPC batches."""
    selector = bytes(Web3.keccak(text="isBatchPaid(bytes32)")[:4])
    token = cbdc.token.address
    answers = batched(cbdc.w3, batch_ids, lambda value: cbdc.w3.eth.call({"to": token, "data": Web3.to_hex(selector + value)}))
    return [int.from_bytes(bytes(a)[-32:], "big") != 0 for a in answers]


def _hexstr(value: Any) -> str:
    text = value.hex() if isinstance(value, (bytes, bytearray)) else str(value)
    return text if text.startswith("0x") else "0x" + text


def _rows_sent(tx: Any, token: str, manager: str, wanted: bytes) -> list[tuple[str, int]] | None:
    """The (recipient, amount) rows of the disburse call of batch ``wanted`` in ``tx``: a direct
    call, or one through AccessManager.execute; None for another kind of transaction."""
    data = bytes(tx["input"])
    to = (tx.get("to") or "").lower()
    if to == manager.lower() and data[:4] == EXECUTE_SELECTOR:
        target, data = abi_decode(["address", "bytes"], data[4:])
        to = target.lower()
    if to != token.lower() or data[:4] != DISBURSE_SELECTOR:
        return None
    batch, recipients, amounts, _skip = abi_decode(["bytes32", "address[]", "uint256[]", "bool"], data[4:])
    if bytes(batch) != wanted:
        return None
    return [(to_checksum_address(r), int(a)) for r, a in zip(recipients, amounts)]


def paid_under(cbdc: Cbdc, treasury: str, payroll_id: str, chunk: int = LOG_CHUNK) -> list[PaidBatch]:
    """The batches the treasury paid under ``payroll_id``, from its BatchDisbursed events since
    the token's deployment; what each paid from its transaction (skipped rows left out), or
    from the Transfer events of its receipt when it was sent another way (a Safe)."""
    w3, token = cbdc.w3, cbdc.token.address
    tag = payroll_tag(payroll_id)
    latest = w3.eth.block_number
    topics = [BATCH_DISBURSED, None, "0x" + "00" * 12 + treasury[2:].lower()]
    logs: list[Any] = []
    for start in range(cbdc.deploy_block, latest + 1, chunk):
        logs += w3.eth.get_logs({"address": token, "fromBlock": start, "toBlock": min(latest, start + chunk - 1), "topics": topics})  # type: ignore[typeddict-item]
    out = []
    for log in logs:
        bid = bytes(log["topics"][1])
        if bid[:16] != tag:
            continue
        tx_hash = _hexstr(log["transactionHash"])
        _paid, _total, skipped, _reasons = abi_decode(["uint256", "uint256", "uint256[]", "uint8[]"], bytes(log["data"]))
        rows = _rows_sent(w3.eth.get_transaction(tx_hash), token, cbdc.manager.address, bid)  # type: ignore[arg-type]
        if rows is not None:
            left_out = set(int(i) for i in skipped)
            paid = tuple(row for i, row in enumerate(rows) if i not in left_out)
        else:
            paid = tuple(_transfers_before(w3.eth.get_transaction_receipt(tx_hash), token, treasury, int(log["logIndex"])))  # type: ignore[arg-type]
        out.append(PaidBatch(bid, tx_hash, int(log["blockNumber"]), paid))
    return out


def _transfers_before(receipt: Any, token: str, treasury: str, index: int) -> list[tuple[str, int]]:
    """The token's Transfers from the treasury in ``receipt`` between the previous
    BatchDisbursed of the token and the one at log ``index``."""
    rows: list[tuple[str, int]] = []
    source = "0x" + "00" * 12 + treasury[2:].lower()
    for log in receipt["logs"]:
        if log["address"].lower() != token.lower() or int(log["logIndex"]) >= index:
            continue
        topic0 = _hexstr(log["topics"][0])
        if topic0 == BATCH_DISBURSED:
            rows = []
        elif topic0 == TRANSFER and _hexstr(log["topics"][1]) == source:
            rows.append((to_checksum_address("0x" + bytes(log["topics"][2])[-20:].hex()), int.from_bytes(bytes(log["data"]), "big")))
    return rows


def check_payroll(cbdc: Cbdc, treasury: str, payments: Sequence[Payment]) -> list[RowProblem]:
    """What the chain would refuse, row by row: the token's own pre-check
    (``detectTransferRestriction(treasury, wallet, amount)``), asked in JSON-RPC batches."""
    problems = []
    selector = bytes(Web3.keccak(text="detectTransferRestriction(address,address,uint256)")[:4])
    token = cbdc.token.address
    calls = [(token, selector + abi_encode(["address", "address", "uint256"], [treasury, p.address, p.amount])) for p in payments]
    answers = read_calls(cbdc.w3, calls, cbdc.multicall_code)
    codes = [int.from_bytes(bytes(a)[-32:], "big") for a in answers]
    for p, code in zip(payments, codes):
        if code:
            problems.append(RowProblem(p.row, f"{p.address}: {RESTRICTIONS.get(code, f'refused (code {code})')}"))
    return problems


@dataclass
class PayrollPlan:
    """What ``disburse`` will do: every row of the file, the batches to pay now, and the
    batches paid under this payroll id before."""

    payroll_id: str
    source: str
    payments: list[Payment]
    batches: list[Batch]  # to pay now
    paid: list[PaidBatch]  # paid under this payroll id before (on chain)
    batch_size: int
    treasury: str
    chain_id: int

    @property
    def rows(self) -> int:
        return len(self.payments)

    def lines(self, decimals: int) -> list[str]:
        total = sum(p.amount for p in self.payments)
        largest = max(self.payments, key=lambda p: p.amount)
        due = sum(b.total for b in self.batches)
        out = [
            f"payroll {self.payroll_id} ({self.source}) on chain {self.chain_id}, from the treasury {self.treasury}",
            f"  rows {self.rows:,}, recipients {len({p.address for p in self.payments}):,}, total {som_text(total, decimals)}, "
            f"largest {som_text(largest.amount, decimals)} (row {largest.row})",
            f"  already paid under this payroll: {len(self.paid):,} batch(es), {sum(len(b.paid) for b in self.paid):,} payments, "
            f"{som_text(sum(b.total for b in self.paid), decimals)}",
        ]
        for b in self.paid[:SHOWN]:
            out.append(f"    batch {_hexstr(b.batch_id)[:18]}... tx {b.tx} (block {b.block:,}, {len(b.paid):,} payments, {som_text(b.total, decimals)})")
        if len(self.paid) > SHOWN:
            out.append(f"    ... and {len(self.paid) - SHOWN:,} more paid batch(es)")
        out.append(f"  to pay now: {len(self.batches):,} batch(es) of at most {self.batch_size:,}, "
                   f"{sum(len(b.payments) for b in self.batches):,} payments, {som_text(due, decimals)}")
        return out


def plan_payroll(
    cbdc: Cbdc, treasury: str, path: Path, payroll_id: str, batch_size: int = DEFAULT_BATCH_SIZE, check: bool = True,
    amount_format: str = "plain", route: Route | None = None,
) -> PayrollPlan:
    """Reads and validates a payroll file (form, ceilings, what was paid under ``payroll_id``,
    then what the chain would refuse) and cuts what is left to pay into batches. Raises
    :class:`PayrollRejectedError` listing the bad rows, :class:`PayrollCeilingError`, or
    :class:`PayrollConflictError` when the file disagrees with what was paid under the id."""
    payroll_id = parse_payroll_id(payroll_id)
    if amount_format not in AMOUNT_FORMATS:
        raise CbdcInputError(f"amount format '{amount_format}' is not one of {', '.join(AMOUNT_FORMATS)}")
    cbdc.require_role(treasury, "disburse", route)
    decimals = cbdc.decimals
    payments, problems = read_payroll(path, decimals, amount_format, cbdc.params.payroll_max_row)
    paid = paid_under(cbdc, treasury, payroll_id)
    paid_to: dict[str, tuple[int, str]] = {}
    for b in paid:
        for address, amount in b.paid:
            before = paid_to.get(address, (0, b.tx))[0]
            paid_to[address] = (before + amount, b.tx)
    conflicts = []
    for p in payments:
        if p.address in paid_to and paid_to[p.address][0] != p.amount:
            amount, tx = paid_to[p.address]
            conflicts.append(RowProblem(p.row, f"{p.address}: {som_text(p.amount, decimals)} in the file, but "
                                               f"{som_text(amount, decimals)} was paid under this payroll (tx {tx})"))
    if not problems:  # a row refused for its form may be the paid row: "missing" would mislead
        in_file = {p.address for p in payments}
        for address, (amount, tx) in paid_to.items():
            if address not in in_file:
                conflicts.append(RowProblem(0, f"{address}: paid {som_text(amount, decimals)} under this payroll (tx {tx})"))
    if conflicts:
        raise PayrollConflictError(payroll_id, conflicts, paid)
    remaining = [p for p in payments if p.address not in paid_to]
    if check and remaining:
        problems += check_payroll(cbdc, treasury, remaining)
    if problems:
        rows = len(payments) + len({p.row for p in problems} - {p.row for p in payments})
        raise PayrollRejectedError(sorted(problems, key=lambda p: p.row), rows)
    total = sum(p.amount for p in payments)
    ceiling = cbdc.params.payroll_max_total
    if ceiling is not None and total > ceiling:
        raise PayrollCeilingError(f"the payroll's {len(payments):,} rows add up to {som_text(total, decimals)}, over the ceiling of "
                                  f"{som_text(ceiling, decimals)} a payroll (digital_currency.payroll.max_total); nothing was sent")
    batches = batches_of(payroll_id, remaining, batch_size) if remaining else []
    return PayrollPlan(payroll_id, path.name, payments, batches, paid, batch_size, treasury, int(cbdc.w3.eth.chain_id))


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
        out += [f"  {p}" for p in self.skipped[:SHOWN]]
        if len(self.skipped) > SHOWN:
            out.append(f"  ... and {len(self.skipped) - SHOWN:,} more skipped")
        return out


def disburse(
    cbdc: Cbdc,
    sender: Sender,
    plan: PayrollPlan,
    skip_ineligible: bool = False,
    progress: Callable[[int], None] | None = None,
) -> Reconciliation:
    """Pays each batch of the plan not yet paid, in order; a batch found paid (by a transaction
    of an earlier run that was mined after all) is not paid again."""
    functions = cbdc.token.functions
    treasury = sender.signer.address
    cbdc.require_role(treasury, "disburse", route_of(sender))
    batches = plan.batches
    result = Reconciliation(rows=plan.rows, batches=len(batches) + len(plan.paid))
    result.batches_paid_before = len(plan.paid)
    result.previously_paid_total = sum(b.total for b in plan.paid)
    if progress:
        progress(sum(len(b.paid) for b in plan.paid))
    if not batches:
        return result
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
        logger.info(f"paying {len(pending)} batch(es) from the treasury {treasury} on chain {cbdc.w3.eth.chain_id}")
    event = cbdc.token.events.BatchDisbursed()
    for b in pending:
        data = cbdc.token.encode_abi(
            "disburse", [b.batch_id, [p.address for p in b.payments], [p.amount for p in b.payments], skip_ineligible]
        )
        what = f"payroll {plan.payroll_id}: disburse batch {b.index + 1}/{len(batches)} ({len(b.payments)} payments)"
        try:
            receipt = sender.transact({"to": cbdc.token.address, "data": data}, what)
        except TransactionFailed as exc:
            # Paid meanwhile: an earlier run's transaction, mined before (or in the block of)
            # this one, whose revert replays as unknown one block back.
            if (exc.error is not None and exc.error.name == "DigitalCurrencyBatchAlreadyPaid") or functions.isBatchPaid(b.batch_id).call():
                logger.info(f"  batch {b.index + 1} was paid meanwhile (an earlier transaction was mined): not paid again")
                result.batches_paid_before += 1
                result.previously_paid_total += b.total
                if progress:
                    progress(len(b.payments))
                continue
            raise
        (paid_event,) = event.process_receipt(receipt, errors=DISCARD)  # the Transfer logs are not this event
        args = paid_event["args"]
        for index, code in zip(args["skipped"], args["reasons"]):
            p = b.payments[index]
            result.skipped.append(RowProblem(p.row, f"{p.address}: skipped, {RESTRICTIONS.get(code, f'code {code}')}"))
        result.batches_sent += 1
        result.paid_rows += args["paid"]
        result.total_paid += args["total"]
        result.gas_used += receipt["gasUsed"]
        result.transactions.append(_hexstr(receipt["transactionHash"]))
        if progress:
            progress(len(b.payments))
    return result


def prepare_payroll(
    cbdc: Cbdc, treasury: str, path: Path, payroll_id: str, batch_size: int = DEFAULT_BATCH_SIZE, check: bool = True,
    amount_format: str = "plain",
) -> PayrollPlan:
    """:func:`plan_payroll` (the name the demo and scripts use)."""
    return plan_payroll(cbdc, treasury, path, payroll_id, batch_size, check, amount_format)


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
) -> list[Sent]:
    """Registers many wallets in one tier (role KYC_OFFICER), ``chunk`` per transaction
    (``registerWallets``); wallets registered already are left out, so a rerun resumes."""
    if not len(wallets) == len(identities) == len(kyc_records):
        raise CbdcInputError("wallets, identities and KYC records must be as many")
    cbdc.require_role(sender.signer.address, "registerWallets", route_of(sender))
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
        sent.append(cbdc.send(sender, data, f"registerWallets({len(part)} wallets, tier {tier})"))
    return sent


# --- Registration in bulk: `cbdc register-many wallets.csv` ---


REGISTER_CHUNK = 150  # wallets per registerWallets (~72,000 gas each: ~11 M gas, under BSC's 16.7 M a transaction)


@dataclass(frozen=True)
class WalletRow:
    row: int
    address: str
    tier: int
    kyc: bytes
    identity: bytes


class WalletsRejectedError(SomstackError):
    """Rows of a wallets file are invalid or would be refused: nothing was sent."""

    def __init__(self, problems: Sequence[RowProblem], rows: int):
        self.problems = list(problems)
        super().__init__(f"{len(problems)} of {rows} rows refused (listed above); nothing was sent")


def read_wallets(path: Path) -> tuple[list[WalletRow], list[RowProblem]]:
    """The rows of a wallets CSV (``address,tier,kyc_hash,identity_hash``; a first row starting
    ``address`` is a header) and their problems of form."""
    rows: list[WalletRow] = []
    problems: list[RowProblem] = []
    seen: dict[str, int] = {}
    for number, cells in _csv_rows(path, ("address", "tier", "kyc_hash", "identity_hash"), problems):
        try:
            address = parse_address(cells[0], "address")
            tier = cells[1].strip()
            # ASCII digits only: "²".isdigit() is true and int("²") raises
            if not (tier.isascii() and tier.isdigit()) or not 1 <= int(tier) <= 127:
                raise CbdcInputError(f"tier: '{cells[1]}' is not a tier id (1 to 127)")
            kyc = parse_bytes32(cells[2].strip(), "kyc_hash")
            identity = parse_bytes32(cells[3].strip(), "identity_hash")
        except CbdcInputError as exc:
            problems.append(RowProblem(number, str(exc)))
            continue
        if again := listed_again(seen, address, number):
            problems.append(again)
            continue
        rows.append(WalletRow(number, address, int(cells[1]), kyc, identity))
    if not rows and not problems:
        raise CbdcInputError(f"{path} has no wallet rows")
    return rows, problems


def _read_many(cbdc: Cbdc, signature: str, arg_types: list[str], args: Sequence[Sequence[Any]], out_types: list[str]) -> list[Any]:
    """A view of the token called with each of ``args``: through Multicall3, else in JSON-RPC batches."""
    selector = keccak(text=signature)[:4]
    token = cbdc.token.address
    calls = [(token, selector + abi_encode(arg_types, list(a))) for a in args]
    answers = read_calls(cbdc.w3, calls, cbdc.multicall_code)
    return [abi_decode(out_types, a) for a in answers]


@dataclass
class RegistrationPlan:
    source: str
    rows: list[WalletRow]
    todo: list[WalletRow]  # to register, in the file's order
    done: list[WalletRow]  # registered already as the file says (an earlier run)
    chunk: int

    def batches(self) -> list[tuple[int, list[WalletRow]]]:
        """(tier, rows) per registerWallets transaction: one tier each, ``chunk`` rows at most."""
        out = []
        for tier in sorted({r.tier for r in self.todo}):
            rows = [r for r in self.todo if r.tier == tier]
            out += [(tier, rows[i : i + self.chunk]) for i in range(0, len(rows), self.chunk)]
        return out

    def lines(self) -> list[str]:
        tiers = sorted({r.tier for r in self.rows})
        per_tier = ", ".join(f"tier {t}: {sum(1 for r in self.todo if r.tier == t):,}" for t in tiers)
        return [
            f"wallets {self.source}: rows {len(self.rows):,}; registered already (as the file says) {len(self.done):,}",
            f"  to register now: {len(self.todo):,} ({per_tier}) in {len(self.batches()):,} transaction(s) of at most {self.chunk:,}",
        ]


def plan_registrations(cbdc: Cbdc, officer: str, path: Path, chunk: int = REGISTER_CHUNK,
                       route: Route | None = None) -> RegistrationPlan:
    """Reads and validates a wallets file whole: form, tiers enabled, one capped wallet per
    identity (in the file and on chain), wallets registered otherwise; rows registered already
    as the file says are done (a rerun resumes). Raises :class:`WalletsRejectedError`."""
    cbdc.require_role(officer, "registerWallets", route)
    rows, problems = read_wallets(path)
    tiers = {t: cbdc.token.functions.tier(t).call() for t in sorted({r.tier for r in rows})}
    capped = {t: spec[0] != UNLIMITED for t, spec in tiers.items()}
    enabled = [t.id for t in read_tiers(cbdc) if t.enabled]
    records = _read_many(cbdc, "walletOf(address)", ["address"], [[r.address] for r in rows], ["uint8", "bytes32", "address"])
    todo, done, claimed = [], [], {}
    candidates = []
    for r, (tier, identity, _overflow) in zip(rows, records):
        if not tiers[r.tier][3]:
            problems.append(RowProblem(r.row, f"tier {r.tier} is not an enabled tier (enabled: {', '.join(map(str, enabled)) or 'none'})"))
        elif tier:
            if tier == r.tier and bytes(identity) == r.identity:
                done.append(r)
            else:
                problems.append(RowProblem(r.row, f"{r.address} is registered already, in tier {tier}" +
                                           ("" if bytes(identity) == r.identity else " with another identity")))
        elif capped[r.tier] and r.identity in claimed:
            problems.append(RowProblem(r.row, f"identity 0x{r.identity.hex()} has a capped wallet already on row {claimed[r.identity]}"))
        else:
            if capped[r.tier]:
                claimed[r.identity] = r.row
                candidates.append(r)
            todo.append(r)
    holders = _read_many(cbdc, "cappedWalletOf(bytes32)", ["bytes32"], [[r.identity] for r in candidates], ["address"])
    for r, (holder,) in zip(candidates, holders):
        if int(holder, 16):
            problems.append(RowProblem(r.row, f"identity 0x{r.identity.hex()} already holds the capped wallet {to_checksum_address(holder)}"))
    if problems:
        bad = {p.row for p in problems}
        raise WalletsRejectedError(sorted(problems, key=lambda p: p.row), len(rows) + len(bad - {r.row for r in rows}))
    return RegistrationPlan(path.name, rows, todo, done, chunk)


def register_planned(cbdc: Cbdc, sender: Sender, plan: RegistrationPlan,
                     progress: Callable[[int], None] | None = None) -> list[Sent]:
    """Sends the plan's registerWallets transactions, one tier and ``chunk`` wallets each."""
    cbdc.require_role(sender.signer.address, "registerWallets", route_of(sender))
    sent = []
    batches = plan.batches()
    for n, (tier, part) in enumerate(batches, start=1):
        data = cbdc.token.encode_abi("registerWallets", [[r.address for r in part], tier, [r.identity for r in part], [r.kyc for r in part]])
        sent.append(cbdc.send(sender, data, f"registerWallets {n}/{len(batches)} ({len(part)} wallets, tier {tier})"))
        if progress:
            progress(len(part))
    return sent
