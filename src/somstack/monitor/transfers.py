"""The transfers file: what `monitor export` writes and `monitor scan` reads.

CSV with the header ``block_number,timestamp,tx_hash,log_index,token,from,to,amount,reference``:
timestamp in unix seconds; token KGST or DSOM; from and to 0x addresses (a mint has from = the
zero address, a burn to = the zero address); amount in whole tokens as a decimal string, with at
most the token's decimals (KGST 18, DSOM 2); reference empty or the travel-rule reference (0x and
64 hex digits). Cells hold no commas or quotes, so no quoting is needed or accepted.

The reader is strict: every bad row is refused with its line number (the header is line 1), the
first 20 are shown with the count of the rest, and nothing is scanned. A (tx_hash, log_index)
pair seen twice is refused too: the same event counted twice would double its amount.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from somstack.core.errors import InputError

HEADER = ("block_number", "timestamp", "tx_hash", "log_index", "token", "from", "to", "amount", "reference")
TOKENS = {"KGST": 18, "DSOM": 2}
ZERO = "0x" + "0" * 40
SHOWN = 20  # refusals printed; the rest are counted

_ROW = re.compile(
    r"(\d{1,19}),(\d{1,19}),(0x[0-9a-fA-F]{64}),(\d{1,9}),(KGST|DSOM),(0x[0-9a-fA-F]{40}),(0x[0-9a-fA-F]{40}),"
    r"(\d{1,30})(?:\.(\d{1,18}))?,((?:0x[0-9a-fA-F]{64})?)"
)
_CELL = {
    "block_number": (re.compile(r"\d{1,19}"), "a block number (digits)"),
    "timestamp": (re.compile(r"\d{1,19}"), "unix seconds (digits)"),
    "tx_hash": (re.compile(r"0x[0-9a-fA-F]{64}"), "0x and 64 hex digits"),
    "log_index": (re.compile(r"\d{1,9}"), "a log index (digits)"),
    "token": (re.compile(r"KGST|DSOM"), "KGST or DSOM"),
    "from": (re.compile(r"0x[0-9a-fA-F]{40}"), "an address (0x and 40 hex digits)"),
    "to": (re.compile(r"0x[0-9a-fA-F]{40}"), "an address (0x and 40 hex digits)"),
    "amount": (re.compile(r"\d{1,30}(\.\d{1,18})?"), "whole tokens as a decimal string (12.5; no sign, no exponent, no separators)"),
    "reference": (re.compile(r"(0x[0-9a-fA-F]{64})?"), "empty or 0x and 64 hex digits"),
}


@dataclass(frozen=True)
class RowProblem:
    row: int  # line number; the header is line 1
    text: str

    def __str__(self) -> str:
        return f"row {self.row}: {self.text}"


class TransfersRejectedError(InputError):
    """Rows of a transfers file are invalid: nothing was scanned. ``problems`` holds the first
    :data:`SHOWN`; ``count`` all of them."""

    def __init__(self, path: Path, problems: Sequence[RowProblem], count: int, rows: int):
        self.path = path
        self.problems = list(problems)
        self.count = count
        more = f", {count - len(problems):,} more not shown" if count > len(problems) else ""
        super().__init__(f"{path.name}: {count:,} of {rows:,} rows refused ({len(problems)} listed above{more}); nothing was scanned")


@dataclass(frozen=True)
class TransfersFile:
    path: Path
    rows: int


def _diagnose(line: str) -> str:
    cells = line.split(",")
    if '"' in line:
        return "quotes are not accepted (no cell needs them)"
    if len(cells) != len(HEADER):
        return f"expected {len(HEADER)} cells ({','.join(HEADER)}), found {len(cells)}"
    for name, cell in zip(HEADER, cells):
        pattern, wanted = _CELL[name]
        if not pattern.fullmatch(cell):
            shown = cell if len(cell) <= 70 else cell[:67] + "..."
            return f"{name} must be {wanted}, not {shown!r}"
    return "malformed row"


_HEX64 = "0x[0-9a-fA-F]{64}"
_ADDR = "0x[0-9a-fA-F]{40}"
# The same rules as _ROW, per column, for DuckDB (RE2, run in parallel over the file).
_VALID = (
    "regexp_full_match(block_number, '\\d{1,19}') AND regexp_full_match(\"timestamp\", '\\d{1,19}') "
    f"AND regexp_full_match(tx_hash, '{_HEX64}') AND regexp_full_match(log_index, '\\d{{1,9}}') "
    f"AND regexp_full_match(\"from\", '{_ADDR}') AND regexp_full_match(\"to\", '{_ADDR}') "
    f"AND (reference IS NULL OR regexp_full_match(reference, '{_HEX64}')) "
    "AND CASE token WHEN 'KGST' THEN regexp_full_match(amount, '\\d{1,30}(\\.\\d{1,18})?') "
    "WHEN 'DSOM' THEN regexp_full_match(amount, '\\d{1,30}(\\.\\d{1,2})?') ELSE false END"
)


def check(path: Path) -> TransfersFile:
    """Validates the whole file (raises :class:`TransfersRejectedError`, or :class:`InputError`
    for an unreadable file or a wrong header); returns its row count.

    Fast path: DuckDB reads the file as text columns and checks every cell with the same
    patterns, and counts duplicate events, in parallel; Python only counts the lines (so that no
    row can be skipped unseen). Only when anything is wrong, or DuckDB cannot read a row, does
    :func:`check_rows` go row by row to name each bad row and its line."""
    try:
        with path.open("rb") as raw:
            head = raw.readline()
            lines, last = 0, b"\n"
            while True:
                block = raw.read(8 << 20)
                if not block:
                    break
                lines += block.count(b"\n")
                last = block[-1:]
            if last != b"\n":
                lines += 1
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None
    header = head.decode("utf-8-sig", errors="replace").strip()
    if not header:
        raise InputError(f"{path.name} is empty: expected the header {','.join(HEADER)}")
    if tuple(c.strip() for c in header.split(",")) != HEADER:
        raise InputError(f"{path.name}: the header must be {','.join(HEADER)}, not {header[:120]!r}")
    if lines == 0:
        return TransfersFile(path, 0)
    try:
        rows, bad, duplicates = _fast(path)
    except Exception:  # DuckDB could not read a row (a wrong number of cells, bad UTF-8...): go row by row
        return check_rows(path)
    if rows == lines and not bad and not duplicates:
        return TransfersFile(path, rows)
    return check_rows(path)


def _fast(path: Path) -> tuple[int, int, int]:
    import duckdb

    literal = str(path).replace("'", "''")
    source = (f"read_csv('{literal}', header=true, auto_detect=false, delim=',', quote='', escape='', all_varchar=true, "
              "columns={" + ",".join(f"'{c}':'VARCHAR'" for c in HEADER) + "})")
    con = duckdb.connect()
    try:
        con.execute("SET enable_progress_bar = false")
        rows, bad, distinct = con.execute(
            f"SELECT count(*), count(*) FILTER (WHERE NOT coalesce({_VALID}, false)), count(DISTINCT (lower(tx_hash), log_index)) "
            f"FROM {source}").fetchone()
        return int(rows), int(bad), int(rows) - int(distinct)
    finally:
        con.close()


def check_rows(path: Path) -> TransfersFile:
    """The row-by-row check: names every bad row (the first :data:`SHOWN`) and counts them."""
    try:
        handle = path.open("r", encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None
    problems: list[RowProblem] = []
    count = 0
    rows = 0
    seen: dict[tuple[str, str], int] = {}
    match = _ROW.fullmatch
    # streamed line by line: a million rows are never all in memory at once
    with handle:
        try:
            header = handle.readline()
            if not header.strip():
                raise InputError(f"{path.name} is empty: expected the header {','.join(HEADER)}")
            if tuple(c.strip() for c in header.strip().split(",")) != HEADER:
                raise InputError(f"{path.name}: the header must be {','.join(HEADER)}, not {header.strip()[:120]!r}")
            for number, line in enumerate(handle, start=2):
                rows += 1
                line = line.rstrip("\n")
                if line.endswith("\r"):
                    line = line[:-1]
                m = match(line)
                if m is None:
                    count += 1
                    if len(problems) < SHOWN:
                        problems.append(RowProblem(number, "empty line" if not line.strip() else _diagnose(line)))
                    continue
                frac = m.group(9)
                if frac is not None and len(frac) > TOKENS[m.group(5)]:
                    count += 1
                    if len(problems) < SHOWN:
                        problems.append(RowProblem(number, f"amount {m.group(8)}.{frac} has more decimals than {m.group(5)}'s {TOKENS[m.group(5)]}"))
                    continue
                key = (m.group(3).lower(), m.group(4))
                first = seen.setdefault(key, number)
                if first != number:
                    count += 1
                    if len(problems) < SHOWN:
                        problems.append(RowProblem(number, f"the event {m.group(3)} #{m.group(4)} is already on row {first}"))
        except UnicodeDecodeError:
            raise InputError(f"{path.name} is not a UTF-8 text file") from None
    if count:
        raise TransfersRejectedError(path, problems, count, rows)
    return TransfersFile(path, rows)


def duckdb_source(path: Path) -> str:
    """The DuckDB table function reading a checked file, every column typed."""
    literal = str(path).replace("'", "''")
    return (
        f"read_csv('{literal}', header=true, auto_detect=false, delim=',', quote='', escape='', "
        "columns={'block_number':'UBIGINT','timestamp':'BIGINT','tx_hash':'VARCHAR','log_index':'UINTEGER',"
        "'token':'VARCHAR','from':'VARCHAR','to':'VARCHAR','amount':'VARCHAR','reference':'VARCHAR'})"
    )


def format_amount(raw: int, decimals: int) -> str:
    """An amount in base units as whole tokens, exactly ("12.5", "3", "0.01")."""
    whole, frac = divmod(int(raw), 10**decimals)
    if not frac:
        return str(whole)
    return f"{whole}.{str(frac).rjust(decimals, '0').rstrip('0')}"


def write(path: Path, rows: Iterable[Sequence[object]]) -> int:
    """Writes rows (in :data:`HEADER` order) to ``path`` through a temporary file; returns the count."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    count = 0
    with tmp.open("w", encoding="utf-8", newline="") as out:
        out.write(",".join(HEADER) + "\n")
        for row in rows:
            out.write(",".join("" if cell is None else str(cell) for cell in row) + "\n")
            count += 1
    tmp.replace(path)
    return count
