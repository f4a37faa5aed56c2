"""The national reserve from the operator's side: reading the ReserveVault (status, stress) and
sending deposits, attestations and rate updates.

Every sending function checks first what the vault and the AccessManager would refuse (an
unknown asset, a rate jump beyond the bound, an attestation out of order, a missing role) and
says so in one line before anything is paid for; what the chain still refuses arrives as the
:class:`~somstack.core.errors.TransactionFailed` of :class:`~somstack.core.chain.Sender`, with its decoded
custom error. `somstack reserve ...` and the demo print through the same functions.

Units follow IReserveVault: token amounts in token units, feed answers in the feed's decimals,
som values and the rate as [wad], ratios in [bps]. User input is parsed with Decimal, never float.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from eth_utils import is_address, to_checksum_address
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import ContractCustomError, ContractLogicError

from somstack.core.artifacts import Artifacts
from somstack.core.chain import Sender
from somstack.core.errors import (
    DecodedError,
    ErrorDecoder,
    InputError,
    InsufficientFundsError,
    RefusedError,
    SomstackError,
)
from somstack.core.format import parse_address, parse_bytes32, table, units, utc
from somstack.core.format import parse_units as ops_parse_units
from somstack.core.manifest import Manifest
from somstack.core.session import Session, deployed_address, session_manifest
from somstack.ops.common import Sent, send_call
from somstack.ops.common import require_role as ops_require_role
from somstack.system.deploy import NATIVE
from somstack.system.routes import Route, route_of

logger = logging.getLogger(__name__)


BPS = 10_000
WAD = 10**18
UINT256_MAX = 2**256 - 1

# IReserveVault.PriceError, in declaration order.
PRICE_ERRORS = ("ok", "feed reverted", "non-positive answer", "incomplete round", "stale", "timestamp in the future")


# --- Errors ---


class ReserveInputError(InputError):
    """An amount, a rate, a date or a hash given to a reserve command is malformed."""


class UnknownAssetError(SomstackError):
    """The asset is not one the vault has registered."""


class RateRejectedError(RefusedError):
    """The vault would refuse this rate (non-positive, or a jump beyond its bound)."""


class WithdrawalRejectedError(RefusedError):
    """The vault would refuse this withdrawal (more than it holds, over the daily cap)."""


class AttestationRejectedError(RefusedError):
    """The vault would refuse this attestation, or could not value it (out of order, stale)."""


# --- Parsing and formatting ---


def parse_units(text: str | int | Decimal, decimals: int, what: str) -> int:
    """``text`` in whole units as an integer of ``decimals`` (see :func:`ops.parse_units`)."""
    return ops_parse_units(text, decimals, what, ReserveInputError)


def parse_percent_bps(text: str | int | Decimal, what: str = "drop") -> int:
    """A percentage (``"50"``, ``"12.5"``) in basis points, between 0 and 100%."""
    bps = parse_units(text, 2, f"{what} (percent, at most 2 decimals)")
    if not 0 <= bps <= BPS:
        raise ReserveInputError(f"{what} must be between 0 and 100 (percent), got {text}")
    return bps


def parse_hash(text: str) -> bytes:
    return parse_bytes32(text, "report hash", ReserveInputError)


def som(amount: int) -> str:
    return f"{units(amount, 18, 2)} som"


def percent(bps: int, places: int = 2) -> str:
    return f"{units(bps, 2, places)}%"


def coverage_text(bps: int | None, short: bool = False) -> str:
    if bps is None:
        return "-"
    if bps == UINT256_MAX:
        return "n/a" if short else "n/a (no KGST in circulation)"
    return percent(bps)


# --- The vault as the operator sees it ---


@dataclass
class Reserve:
    """Handles on the deployed vault, KGST and the AccessManager of one chain."""

    w3: Web3
    vault: Contract
    token: Contract
    manager: Contract
    symbols: dict[str, str]  # symbol -> asset address, as the manifest records them
    artifacts: Artifacts
    decoder: ErrorDecoder

    @classmethod
    def load(cls, w3: Web3, artifacts: Artifacts, manifest: Manifest, decoder: ErrorDecoder | None = None) -> "Reserve":
        vault_address = deployed_address(w3, manifest, "ReserveVault")
        recorded = manifest.contracts["ReserveVault"].get("assets") or {}
        return cls(
            w3=w3,
            vault=artifacts.get("ReserveVault").contract(w3, vault_address),  # type: ignore[arg-type]
            token=artifacts.get("Stablecoin").contract(w3, manifest.address("Stablecoin")),  # type: ignore[arg-type]
            manager=artifacts.get("SomAccessManager").contract(w3, manifest.address("AccessManager")),  # type: ignore[arg-type]
            symbols={symbol: to_checksum_address(address) for symbol, address in recorded.items()},
            artifacts=artifacts,
            decoder=decoder or artifacts.decoder,
        )

    @classmethod
    def of_session(cls, session: Session) -> "Reserve":
        """The reserve recorded in ``deployments/<chain-id>.json`` of the session's chain."""
        manifest = session_manifest(session)
        return cls.load(session.w3, session.artifacts, manifest, session.sender.decoder)

    # --- assets ---

    def registered(self, at: int | str = "latest") -> list[str]:
        """The vault's registered assets at block ``at`` (the latest by default)."""
        return [to_checksum_address(a) for a in self.vault.functions.assets().call(block_identifier=at)]

    def names(self, at: int | str = "latest") -> dict[str, str]:
        """Asset address -> symbol for every asset registered at block ``at`` (the manifest's
        symbol, else the token's)."""
        by_address = {address: symbol for symbol, address in self.symbols.items()}
        names = {}
        for address in self.registered(at):
            names[address] = by_address.get(address) or self._token_symbol(address)
        return names

    def _token_symbol(self, address: str) -> str:
        if address == NATIVE:
            return "BNB"
        try:
            return str(self.erc20(address).functions.symbol().call())
        except Exception:  # a token without symbol(): name it by its address
            return address[:10] + "…"

    def erc20(self, address: str) -> Contract:
        return self.artifacts.get("IERC20Metadata").contract(self.w3, address)  # type: ignore[return-value]

    def asset_record(self, address: str) -> dict[str, Any]:
        """The vault's record of a registered asset, by field name (``tokenDecimals``,
        ``balance``, ``withdrawnToday``, ``day``, ``config`` with ``dailyCap`` ...)."""
        outputs = next(i for i in self.vault.abi if i.get("type") == "function" and i["name"] == "asset")["outputs"][0]
        return _named(outputs, self.vault.functions.asset(address).call())

    def resolve(self, name: str, at: int | str = "latest") -> tuple[str, str]:
        """(symbol, address) of an asset registered at block ``at``, named by symbol (any case) or address."""
        names = self.names(at)
        known = ", ".join(names.values()) or "none"
        if is_address(name):
            address = to_checksum_address(name)
            if address in names:
                return names[address], address
            raise UnknownAssetError(f"{address} is not a registered reserve asset (known: {known})")
        for address, symbol in names.items():
            if symbol.lower() == name.lower():
                return symbol, address
        recorded = {s.lower(): a for s, a in self.symbols.items()}
        if name.lower() in recorded:
            raise UnknownAssetError(f"{name} ({recorded[name.lower()]}) is no longer registered in the vault (known: {known})")
        raise UnknownAssetError(f"unknown reserve asset '{name}' (known: {known})")

    # --- calls ---

    def try_call(self, call: Any, block: int | str = "latest") -> tuple[Any, str | None]:
        """(result, None), or (None, why) when the view reverts: fail-closed views refuse to value."""
        try:
            return call.call(block_identifier=block), None
        except (ContractCustomError, ContractLogicError) as exc:
            return None, self.explain(self.decoder.decode(_revert_data(exc)), str(exc))

    def explain(self, error: DecodedError | None, fallback: str = "reverted") -> str:
        """A revert of the vault's valuation in words, with the custom error's name."""
        if error is None:
            return fallback
        args = error.args
        if error.name == "ReserveVaultRateNotSet":
            return f"no som rate published yet ({error.name})"
        if error.name == "ReserveVaultRateStale":
            return f"som rate stale: updated {utc(args['updatedAt'])}, max age {args['maxAge']:,} s ({error.name})"
        if error.name == "ReserveVaultAttestationStale":
            return f"attestation stale: as of {utc(args['asOf'])}, max age {args['maxAge']:,} s ({error.name})"
        return str(error)


def _revert_data(exc: Exception) -> Any:
    data = getattr(exc, "data", None)
    if isinstance(data, dict):
        data = data.get("data")
    return data


# --- Status ---


@dataclass(frozen=True)
class AssetRow:
    symbol: str
    address: str
    balance: int  # [token units]
    token_decimals: int
    price: int  # [feed decimals]
    feed_decimals: int
    updated_at: int  # [unix s]
    price_error: int  # IReserveVault.PriceError
    heartbeat: int  # [s]
    haircut_bps: int
    max_share_bps: int
    weighted: int | None  # after haircut [wad som]; None when the valuation is refused
    counted: int | None  # after the share cap [wad som]


@dataclass(frozen=True)
class Status:
    vault: str
    block: int
    now: int  # chain time [unix s]
    rows: list[AssetRow]
    attested: int  # [wad som]
    attested_as_of: int
    report_hash: bytes
    attestation_max_age: int
    rate: int  # KGS per USD [wad]
    rate_updated_at: int
    rate_max_age: int
    rate_max_change_bps: int
    total: int | None  # reserve value [wad som]; None when refused
    refusal: str | None
    supply: int  # KGST [token units]
    supply_decimals: int
    coverage: int | None  # [bps]
    min_coverage: int  # [bps]


def read_status(reserve: Reserve, at_block: int | str = "latest") -> Status:
    """Everything `reserve status` shows, read at one block (the latest, or ``at_block``)."""
    w3, v = reserve.w3, reserve.vault.functions
    block = w3.eth.get_block(at_block)
    at = block["number"]
    names = reserve.names(at)
    valuation, refusal = reserve.try_call(v.valuation(), at)
    valued = {}
    if valuation is not None:
        for item in valuation[0]:
            valued[to_checksum_address(item[0])] = item
    rows = []
    for address, symbol in names.items():
        record = v.asset(address).call(block_identifier=at)
        config = record[0]
        price, _why = reserve.try_call(v.price(address), at)  # a feed without code reverts even price()
        answer, updated_at, error = price if price is not None else (0, 0, 1)
        item = valued.get(address)
        rows.append(
            AssetRow(
                symbol=symbol,
                address=address,
                balance=record[4],
                token_decimals=record[1],
                price=answer,
                feed_decimals=record[2],
                updated_at=updated_at,
                price_error=error,
                heartbeat=config[1],
                haircut_bps=config[2],
                max_share_bps=config[3],
                weighted=item[6] if item else None,
                counted=item[7] if item else None,
            )
        )
    rate, rate_updated_at, rate_max_age, rate_max_change = v.rate().call(block_identifier=at)
    attested, as_of, report_hash, attestation_max_age = v.attestation().call(block_identifier=at)
    coverage, _ = reserve.try_call(v.coverageRatio(), at) if valuation is not None else (None, None)
    return Status(
        vault=reserve.vault.address,
        block=at,
        now=block["timestamp"],
        rows=rows,
        attested=attested,
        attested_as_of=as_of,
        report_hash=report_hash,
        attestation_max_age=attestation_max_age,
        rate=rate,
        rate_updated_at=rate_updated_at,
        rate_max_age=rate_max_age,
        rate_max_change_bps=rate_max_change,
        total=valuation[2] if valuation is not None else None,
        refusal=refusal,
        supply=reserve.token.functions.totalSupply().call(block_identifier=at),
        supply_decimals=reserve.token.functions.decimals().call(block_identifier=at),
        coverage=coverage,
        min_coverage=v.minCoverage().call(block_identifier=at),
    )


def _price_cells(row: AssetRow, now: int) -> tuple[str, str, str]:
    """(price, age, note) cells: the note says why a price is unusable."""
    price = units(row.price, row.feed_decimals, row.feed_decimals) if row.price else "-"
    age = f"{now - row.updated_at:,}" if 0 < row.updated_at <= now else "-"
    if row.price_error == 0:
        return price, age, ""
    why = PRICE_ERRORS[row.price_error] if row.price_error < len(PRICE_ERRORS) else f"error {row.price_error}"
    if row.price_error == 4:
        why = f"stale: older than the {row.heartbeat:,} s heartbeat"
    unused = " (none held: not priced)" if row.balance == 0 else ": counted as zero"
    return price, age, f"price unusable, {why}{unused}"


def _age(now: int, at: int, max_age: int) -> tuple[int, str]:
    """Seconds since ``at``, and the STALE mark once past ``max_age``."""
    age = now - at
    return age, "  STALE" if age > max_age else ""


def format_status(status: Status, network: str = "") -> list[str]:
    """The status table and totals, as lines."""
    where = f" on {network}" if network else ""
    lines = [f"ReserveVault {status.vault}{where}, block {status.block}, chain time {utc(status.now)}", ""]
    rows = []
    for row in status.rows:
        price, age, note = _price_cells(row, status.now)
        share = "-"
        if row.counted is not None and status.total:
            share = percent(row.counted * BPS // status.total)
        rows.append(
            [
                row.symbol,
                units(row.balance, row.token_decimals, 4),
                price,
                age,
                percent(row.haircut_bps),
                units(row.weighted, 18, 2) if row.weighted is not None else "-",
                units(row.counted, 18, 2) if row.counted is not None else "-",
                share,
                note,
            ]
        )
    if status.attested_as_of and status.total:
        rows.append(["fiat (attested)", units(status.attested, 18, 2), "", "", "", units(status.attested, 18, 2),
                     units(status.attested, 18, 2), percent(status.attested * BPS // status.total), ""])
    headers = ["asset", "balance", "price USD", "price age s", "haircut", "value som", "counted som", "share", ""]
    lines += table(headers, rows, [False, True, True, True, True, True, True, True, False])
    lines.append("")
    if status.attested_as_of:
        age, stale = _age(status.now, status.attested_as_of, status.attestation_max_age)
        lines.append(
            f"attested off-chain  {som(status.attested)} as of {utc(status.attested_as_of)} "
            f"(age {age:,} s, max {status.attestation_max_age:,} s){stale}, report 0x{status.report_hash.hex()}"
        )
    else:
        lines.append("attested off-chain  none posted (no fiat reserve counts)")
    if status.rate:
        age, stale = _age(status.now, status.rate_updated_at, status.rate_max_age)
        lines.append(
            f"som rate            {units(status.rate, 18)} KGS/USD, updated {utc(status.rate_updated_at)} "
            f"(age {age:,} s, max {status.rate_max_age:,} s; max change {percent(status.rate_max_change_bps)} per day){stale}"
        )
    else:
        lines.append("som rate            not published")
    if status.total is not None:
        lines.append(f"reserve value       {som(status.total)}")
    else:
        lines.append(f"reserve value       valuation refused: {status.refusal}")
    lines.append(f"KGST supply         {units(status.supply, status.supply_decimals, 2)} KGST")
    if status.total is not None:
        floor = "" if status.coverage is None or status.coverage >= status.min_coverage else "  BELOW MINIMUM"
        lines.append(f"coverage            {coverage_text(status.coverage)} (minimum {percent(status.min_coverage)}){floor}")
    else:
        lines.append(f"coverage            valuation refused: {status.refusal}")
    return lines


# --- Stress ---


@dataclass(frozen=True)
class StressReport:
    symbol: str
    drop_bps: int
    now: int | None  # coverage [bps]
    shocked: int | None
    every: dict[str, int | None]  # symbol -> coverage with that asset shocked
    refusal: str | None
    min_coverage: int


def stress(reserve: Reserve, asset: str, drop_bps: int, at_block: int | None = None) -> StressReport:
    """Coverage now (or at ``at_block``) and with ``asset``'s price cut by ``drop_bps``, and the
    same for every asset."""
    if not 0 <= drop_bps <= BPS:
        raise ReserveInputError(f"drop must be between 0 and 100%, got {percent(drop_bps)}")
    v = reserve.vault.functions
    at = reserve.w3.eth.block_number if at_block is None else at_block
    symbol, _address = reserve.resolve(asset, at)
    now, refusal = reserve.try_call(v.coverageRatio(), at)
    every: dict[str, int | None] = {}
    for other, name in reserve.names(at).items():
        every[name], why = reserve.try_call(v.stressedCoverage(other, drop_bps), at)
        refusal = refusal or why
    return StressReport(symbol, drop_bps, now, every[symbol], every, refusal, v.minCoverage().call(block_identifier=at))


def format_stress(report: StressReport) -> list[str]:
    drop = percent(report.drop_bps).replace(".00%", "%")
    if report.now is None:
        return [f"coverage            valuation refused: {report.refusal}"]

    def flag(bps: int | None) -> str:
        return "  BELOW MINIMUM" if bps is not None and bps < report.min_coverage else ""

    shock = f"coverage if {report.symbol} falls {drop}"
    lines = [
        f"{'coverage now':<{len(shock)}s}  {coverage_text(report.now)} (minimum {percent(report.min_coverage)})",
        f"{shock}  {coverage_text(report.shocked)}{flag(report.shocked)}",
        "",
        f"every asset at -{drop}:",
    ]
    rows = []
    for symbol, bps in report.every.items():
        if bps is None or bps == UINT256_MAX or report.now == UINT256_MAX:
            change = "-"
        else:
            sign = "-" if bps < report.now else "+" if bps > report.now else ""
            change = f"{sign}{units(abs(report.now - bps), 2, 2)} pts"
        rows.append([symbol, coverage_text(bps, short=True), change, flag(bps).strip()])
    lines += ["  " + line for line in table(["asset", "coverage after", "change", ""], rows, [False, True, True, False])]
    return lines


def _named(param: dict[str, Any], value: Any) -> Any:
    """A struct value decoded as a tuple, as a dict by its ABI component names (nested too)."""
    if param["type"] == "tuple":
        return {c["name"]: _named(c, v) for c, v in zip(param["components"], value)}
    return value


# --- Sending ---


def require_role(reserve: Reserve, caller: str, function: str, route: Route | None = None) -> None:
    """Raises :class:`~somstack.core.errors.MissingRoleError` unless ``caller`` may call
    ``ReserveVault.function`` now (or, under a ``route`` through the AccessManager, once due)."""
    ops_require_role(reserve.manager, reserve.vault, "ReserveVault", caller, function, route)


def _send(reserve: Reserve, sender: Sender, data: str, what: str, value: int = 0) -> Sent:
    """Logs the call with the chain id and the signer, sends it, and waits for it to be mined."""
    return send_call(sender, reserve.vault, "ReserveVault", data, what, value)


def set_rate(reserve: Reserve, sender: Sender, rate: str | Decimal) -> Sent:
    """Publishes ``rate`` KGS per USD, after checking it against the vault's change bound (per
    rate window: within a window the rate stays within the bound of the rate the window opened
    with; an update after the window closed opens a new one at the current rate)."""
    wad = parse_units(rate, 18, "rate (KGS per USD)")
    if wad <= 0:
        raise RateRejectedError(f"the rate must be positive, got {rate}")
    previous, updated_at, max_age, max_change_bps = reserve.vault.functions.rate().call()
    if previous:
        now = reserve.w3.eth.get_block("latest")["timestamp"]
        reference, _opened_at, closes_at = reserve.vault.functions.rateWindow().call()
        if now >= closes_at:  # no window open: this update opens one at the current rate
            reference, closes_at = previous, now + (closes_at - _opened_at)
        change = abs(wad - reference)
        # The vault's own test (ReserveVault.setRate): change x 10,000 > reference x maxChangeBps.
        if change * BPS > reference * max_change_bps:
            stale = f"; the current rate is stale ({now - updated_at:,} s old) but the bound holds all the same" if now - updated_at > max_age else ""
            raise RateRejectedError(
                f"{units(wad, 18)} KGS/USD moves {percent(change * BPS // reference)} from "
                f"{units(reference, 18)}, the rate this window opened with, beyond the {percent(max_change_bps)} "
                f"allowed per window (it closes {utc(closes_at)}){stale}: publish it in steps over several "
                "windows, or have RESERVE_ADMIN change the bounds"
            )
    require_role(reserve, sender.signer.address, "setRate", route_of(sender))
    return _send(reserve, sender, reserve.vault.encode_abi("setRate", [wad]), f"setRate({units(wad, 18)} KGS/USD)")


def attest(
    reserve: Reserve, sender: Sender, amount: str | Decimal, as_of: str | int, report_hash: str, uri: str
) -> Sent:
    """Posts an attestation of ``amount`` som in banks as of ``as_of`` (unix s, or ``now``: the
    chain's latest block time), checked for order and age first."""
    wad = parse_units(amount, 18, "amount (som)")
    if wad < 0:
        raise ReserveInputError(f"the attested amount cannot be negative, got {amount}")
    digest = parse_hash(report_hash)
    now = reserve.w3.eth.get_block("latest")["timestamp"]
    if isinstance(as_of, int):
        when = as_of
    elif as_of.strip().lower() == "now":
        when = now
    else:
        try:
            when = int(as_of.strip())
        except ValueError:
            raise ReserveInputError(f"as-of must be a unix time in seconds or 'now', got '{as_of}'") from None
    _amount, previous, _hash, max_age = reserve.vault.functions.attestation().call()
    if when > now:
        raise AttestationRejectedError(f"as-of {utc(when)} is after the chain's time {utc(now)}")
    if when <= previous:
        raise AttestationRejectedError(f"as-of {utc(when)} is not after the last attestation's {utc(previous)}")
    if now - when > max_age:
        raise AttestationRejectedError(
            f"as-of {utc(when)} is {now - when:,} s old, beyond the attestation max age of {max_age:,} s: the vault could not value it"
        )
    require_role(reserve, sender.signer.address, "attest", route_of(sender))
    data = reserve.vault.encode_abi("attest", [wad, when, digest, uri])
    return _send(reserve, sender, data, f"attest({som(wad)} as of {utc(when)})")


def withdraw(reserve: Reserve, sender: Sender, asset: str, amount: str | Decimal, to: str) -> Sent:
    """RESERVE_MANAGER withdraws ``amount`` of ``asset`` to ``to``: a role with an execution delay,
    so the command runs under `somstack governance schedule`, then `... execute` once due. The
    vault refuses a withdrawal beyond the asset's balance or daily cap, or one that would leave
    KGST under-covered."""
    symbol, address = reserve.resolve(asset)
    recipient = parse_address(to, "--to", ReserveInputError)
    record = reserve.asset_record(address)
    decimals = record["tokenDecimals"]
    value = parse_units(amount, decimals, f"amount ({symbol})")
    if value <= 0:
        raise ReserveInputError(f"the withdrawal must be positive, got {amount}")
    if value > record["balance"]:
        raise WithdrawalRejectedError(f"the vault holds {units(record['balance'], decimals)} {symbol}, not {units(value, decimals)}")
    today = int(reserve.w3.eth.get_block("latest")["timestamp"]) // 86_400
    taken = record["withdrawnToday"] if record["day"] == today else 0
    cap = record["config"]["dailyCap"]
    if taken + value > cap:
        raise WithdrawalRejectedError(
            f"{symbol}'s daily withdrawal cap is {units(cap, decimals)}, {units(taken, decimals)} taken today: "
            f"{units(value, decimals)} more is over it (checked again when it executes)"
        )
    require_role(reserve, sender.signer.address, "withdraw", route_of(sender))
    data = reserve.vault.encode_abi("withdraw", [address, recipient, value])
    return _send(reserve, sender, data, f"withdraw {units(value, decimals)} {symbol} to {recipient}")


def deposit(reserve: Reserve, sender: Sender, asset: str, amount: str | Decimal) -> Sent:
    """Deposits ``amount`` whole tokens of ``asset``: BNB through depositNative, a BEP-20 by
    approve (when the allowance is short) and deposit."""
    symbol, address = reserve.resolve(asset)
    decimals = reserve.asset_record(address)["tokenDecimals"]
    value = parse_units(amount, decimals, f"amount ({symbol})")
    if value <= 0:
        raise ReserveInputError(f"the deposit must be positive, got {amount}")
    what = f"deposit {units(value, decimals)} {symbol}"
    who = sender.signer.address
    if address == NATIVE:
        held = reserve.w3.eth.get_balance(who)
        if held < value:
            raise InsufficientFundsError(f"{who} holds {units(held, 18)} BNB, the deposit needs {units(value, 18)} BNB and gas")
        return _send(reserve, sender, reserve.vault.encode_abi("depositNative", []), what, value=value)
    token = reserve.erc20(address)
    held = token.functions.balanceOf(who).call()
    if held < value:
        raise InsufficientFundsError(f"{who} holds {units(held, decimals)} {symbol}, the deposit needs {units(value, decimals)}")
    if token.functions.allowance(who, reserve.vault.address).call() < value:
        logger.info(f"sending approve({units(value, decimals)} {symbol}) of the vault on chain {reserve.w3.eth.chain_id} from {who}")
        sender.transact({"to": address, "data": token.encode_abi("approve", [reserve.vault.address, value])}, f"approve {symbol}")
    return _send(reserve, sender, reserve.vault.encode_abi("deposit", [address, value]), what)
