"""The relayer's durable record: one SQLite row per accepted authorization (stdlib sqlite3).

A row is written (and committed) before the HTTP answer that accepts it, and the relayer's
transaction hash and nonce are written before that transaction is sent: after a crash, every
accepted authorization is found again, and one that was sent is looked up on the chain before
anything is sent again. The id of an authorization is the keccak hash of token, sender and
EIP-3009 nonce (the primary key): the same authorization posted twice, or by two clients, is
one row.

Statuses: ``accepted`` (checked, not yet sent), ``submitted`` (sent, hashes recorded),
``confirmed`` (mined and successful), ``failed`` (with a reason).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

from eth_utils import keccak

from somstack.relay.sql import SQLITE as SQL
from somstack.relay.sql import SQLITE_COLUMNS as _COLUMNS
from somstack.relay.sql import SQLITE_SCHEMA as _SCHEMA
from somstack.relay.sql import Queries

ACCEPTED, SUBMITTED, CONFIRMED, FAILED = "accepted", "submitted", "confirmed", "failed"
PENDING = (ACCEPTED, SUBMITTED)


class Overdrawn(Exception):
    """Store.add with a budget: the sender's balance does not cover it net of what is pending."""

    def __init__(self, outflow: int):
        super().__init__(outflow)
        self.outflow = outflow


def authorization_id(token: str, sender: str, nonce: bytes) -> str:
    """The id of an authorization: keccak(token ‖ from ‖ nonce), as 0x and 64 hex digits."""
    return "0x" + keccak(bytes.fromhex(token[2:]) + bytes.fromhex(sender[2:]) + nonce).hex()


@dataclass
class Transfer:
    """One authorization as the relayer records it (addresses checksummed, nonce 0x hex)."""

    id: str
    token: str
    kind: str  # "transfer" | "receive"
    sender: str
    recipient: str
    value: int
    valid_after: int
    valid_before: int
    nonce: str
    signature: str
    gas: int
    fee_for: str | None = None
    status: str = ACCEPTED
    reason: str | None = None
    tx_hash: str | None = None
    tx_hashes: list[str] = field(default_factory=list)
    tx_nonce: int | None = None
    gas_price: int | None = None
    accepted_at: float = 0.0
    submitted_at: float | None = None
    finished_at: float | None = None
    seq: int = 0
    owner: str | None = None  # PostgreSQL only: the relayer address that submits it
    sent_by: str | None = None  # PostgreSQL only: the relayer address that signed its last transaction

    def public(self) -> dict[str, Any]:
        """The answer of `GET /v1/transfers/{id}`."""
        answer: dict[str, Any] = {
            "id": self.id,
            "status": self.status,
            "kind": self.kind,
            "token": self.token,
            "from": self.sender,
            "to": self.recipient,
            "value": str(self.value),
            "nonce": self.nonce,
            "txHash": self.tx_hash,
        }
        if self.reason:
            answer["reason"] = self.reason
        if self.fee_for:
            answer["feeFor"] = self.fee_for
        return answer


_INTEGERS_AS_TEXT = ("value", "valid_after", "valid_before")  # uint256 does not fit SQLite's INTEGER


def transfer_of(row: Mapping[str, Any] | sqlite3.Row, columns: Sequence[str] = _COLUMNS) -> Transfer:
    """The Transfer of a ``transfers`` row of either store (``columns``: those it has)."""
    data = {k: row[k] for k in columns}
    for key in _INTEGERS_AS_TEXT:
        data[key] = int(data[key])
    if data["gas_price"] is not None:  # PostgreSQL's NUMERIC comes as a Decimal
        data["gas_price"] = int(data["gas_price"])
    data["tx_hashes"] = json.loads(data["tx_hashes"])
    return Transfer(**data)


Execute = Callable[[str, tuple[Any, ...]], list[Any]]  # runs a statement in the caller's transaction, its rows


def record_new(execute: Execute, sql: Queries, transfers: Sequence[Transfer], budget: tuple[int, float] | None) -> Any | None:
    """What both stores' ``add`` does inside its transaction: the row of the first of
    ``transfers`` whose id is known (nothing written), or None once they are inserted. With
    ``budget`` (balance, time read), raises Overdrawn first when the balance does not cover
    them net of what the sender has pending (and confirmed since that time)."""
    for t in transfers:
        found = execute(sql.get, (t.id,))
        if found:
            return found[0]
    if budget is not None:
        first = transfers[0]
        rows = execute(sql.outflow, (first.token, first.sender, *PENDING, CONFIRMED, budget[1]))
        outflow = sum(int(r["value"]) for r in rows)
        if budget[0] - outflow < sum(t.value for t in transfers):
            raise Overdrawn(outflow)
    now = time.time()
    for t in transfers:
        execute(sql.insert, (t.id, t.token, t.kind, t.sender, t.recipient, str(t.value), str(t.valid_after),
                             str(t.valid_before), t.nonce, t.signature, t.gas, t.fee_for, ACCEPTED, now))
    return None


class TransferStore:
    """What both stores (:class:`Store` here, :class:`somstack.relay.pgstore.PgStore`) do alike:
    the same statements of :mod:`somstack.relay.sql` in their placeholder style (``sql``), run
    by their own ``_query`` (a read), ``_write`` (one statement) and ``_write_many`` (one
    statement for many rows, in one transaction); their rows read as Transfers (``columns``:
    those their table has)."""

    sql: Queries
    columns: Sequence[str]

    def _query(self, sql: str, args: tuple[Any, ...] = ()) -> list[Any]:
        raise NotImplementedError

    def _write(self, sql: str, args: tuple[Any, ...]) -> None:
        raise NotImplementedError

    def _write_many(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        raise NotImplementedError

    def _transfer(self, row: Any) -> Transfer:
        return transfer_of(row, self.columns)

    def get(self, transfer_id: str) -> Transfer | None:
        rows = self._query(self.sql.get, (transfer_id.lower(),))
        return self._transfer(rows[0]) if rows else None

    def pending_outflow(self, token: str, sender: str, since: float | None = None) -> int:
        """What ``sender`` has authorized through the relayer and is not yet mined [token units];
        with ``since`` (a time.time() taken before the balance was read), also what was
        confirmed at or after it: a balance read then may not show it yet (an over-count at
        worst, never an under-count)."""
        rows = self._query(
            self.sql.outflow,
            (token, sender, *PENDING, CONFIRMED, float("inf") if since is None else since),
        )
        return sum(int(r["value"]) for r in rows)

    def counts(self) -> dict[str, int]:
        return {r["status"]: r["n"] for r in self._query(self.sql.counts)}

    def mark_submitted(self, transfer_id: str, tx_hash: str, tx_nonce: int, gas_price: int) -> None:
        """Records a send (before it is made): the hash joins those of earlier tries."""
        self.mark_many([(transfer_id, tx_hash, tx_nonce, gas_price)])

    def mark_many(self, sends: list[tuple[str, str, int, int]]) -> None:
        raise NotImplementedError

    def requeue(self, transfer_id: str) -> None:
        """Back to ``accepted`` (its transaction was dropped): it is checked and sent again."""
        self._write(self.sql.requeue, (ACCEPTED, transfer_id))

    def finish_many(self, done: list[tuple[str, str, str | None]]) -> None:
        """Records (id, status, hash) for many in one committed transaction."""
        if not done:
            return
        now = time.time()
        self._write_many(self.sql.finish_many, [(status, tx_hash, now, transfer_id) for transfer_id, status, tx_hash in done])

    def finish(self, transfer_id: str, status: str, tx_hash: str | None, reason: str | None = None) -> None:
        self._write(self.sql.finish, (status, tx_hash, reason, time.time(), transfer_id))

    def all(self) -> Iterator[Transfer]:
        for row in self._query(self.sql.all):
            yield self._transfer(row)


class Store(TransferStore):
    """The SQLite file of one relayer (one chain). Thread-safe: one connection behind a lock
    (the HTTP handlers and the submitter's thread share it); every write is committed at once,
    in WAL mode with full sync."""

    # the server calls it from worker threads: a commit waits for the disk (synchronous=FULL), and
    # on the event loop that wait stopped every other request (about 55 accepted/s in all)
    threaded = True
    sql = SQL
    columns = _COLUMNS

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """The connection, locked, in a transaction committed at the end (rolled back on an error)."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def _query(self, sql: str, args: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def _write(self, sql: str, args: tuple[Any, ...]) -> None:
        with self._lock:
            self._db.execute(sql, args)

    def _write_many(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        with self._transaction() as db:
            db.executemany(sql, rows)

    def add(self, *transfers: Transfer, budget: tuple[int, float] | None = None) -> tuple[Transfer, bool]:
        """Records the transfers (the first one, and its fee authorization if any) in one
        committed transaction, unless one of their ids is known already: then nothing is written.
        Returns the stored first transfer (or, if only a later one is known, that one) and
        whether they were new. With ``budget`` (the sender's balance, the time.time() it was
        read), raises Overdrawn when the balance does not cover them net of what is pending."""
        with self._transaction() as db:
            known = record_new(lambda q, args: db.execute(q, args).fetchall(), SQL, transfers, budget)
        if known is not None:  # nothing was written
            return self._transfer(known), False
        stored = self.get(transfers[0].id)
        assert stored is not None
        return stored, True

    def pending(self, status: str, limit: int = 1_000_000) -> list[Transfer]:
        """Transfers in ``status``, oldest first."""
        return [self._transfer(r) for r in self._query("SELECT * FROM transfers WHERE status = ? ORDER BY seq LIMIT ?", (status, limit))]

    def mark_many(self, sends: list[tuple[str, str, int, int]]) -> None:
        """Records sends (id, hash, nonce, gas price) in one transaction."""
        now = time.time()
        with self._transaction() as db:
            for transfer_id, tx_hash, tx_nonce, gas_price in sends:
                row = db.execute("SELECT tx_hashes FROM transfers WHERE id = ?", (transfer_id,)).fetchone()
                hashes = json.loads(row["tx_hashes"])
                if tx_hash not in hashes:
                    hashes.append(tx_hash)
                db.execute(
                    "UPDATE transfers SET status = ?, tx_hash = ?, tx_hashes = ?, tx_nonce = ?, gas_price = ?,"
                    " submitted_at = COALESCE(submitted_at, ?) WHERE id = ?",
                    (SUBMITTED, tx_hash, json.dumps(hashes), tx_nonce, gas_price, now, transfer_id),
                )
