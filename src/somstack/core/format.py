"""Plain-text formatting and parsing that every layer shares: amounts in units, UTC times,
tables, addresses, references."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation, localcontext
from typing import Sequence, TypeVar

from eth_utils import is_address, is_checksum_address, keccak, to_checksum_address

from somstack.core.errors import InputError

T = TypeVar("T")


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
