"""The relayer's record in PostgreSQL (`relay serve --db postgresql://...`): one database shared
by several relayer instances, each submitting from its own key (its own nonce sequence).

What changes against the SQLite store (same methods, same rows):

- every row has an ``owner``, the relayer address that submits it. A new row has none; an
  instance claims accepted rows for itself (``FOR UPDATE SKIP LOCKED``: two instances never
  claim the same row) and sees only the rows it owns;
- each instance writes a heartbeat (``relay_instances.seen_at``) at every submitter round; the
  pending rows of an instance silent for ``lease`` seconds are adopted by the next instance to
  look (its transactions' receipts are looked up; one the node no longer knows is sent again
  from the adopter's key, after ``authorizationState`` says the authorization is still unused:
  EIP-3009 nonces make a second payment impossible in any case);
- ``add`` takes a transaction-scoped advisory lock on (token, sender) and checks the sender's
  balance against what is pending in the whole database, so that two instances accepting at
  once cannot overdraw a sender; ``id`` is unique, so an authorization posted to both is
  accepted once.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg.rows import dict_row

from somstack.core.errors import SomstackError
from somstack.relay.sql import POSTGRES as SQL
from somstack.relay.sql import POSTGRES_COLUMNS as _FIELDS
from somstack.relay.sql import POSTGRES_SCHEMA as _SCHEMA
from somstack.relay.store import (
    ACCEPTED,
    PENDING,
    SUBMITTED,
    Transfer,
    TransferStore,
    record_new,
)

log = logging.getLogger("somstack.relay")


class StoreUnavailableError(SomstackError):
    """The relayer's PostgreSQL database does not answer, or refuses the connection."""


_SCHEMA_LOCK = 17_017  # pg_advisory_lock key: two instances starting at once create the tables once


def is_postgres(db: Any) -> bool:
    return str(db).startswith(("postgresql://", "postgres://"))


def redacted(url: str) -> str:
    """The URL without its password (for logs)."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(":" + parts.password + "@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def _rows(cursor: Any) -> list[Any]:
    """The rows of a statement that returns some; none for one that does not (an INSERT)."""
    return cursor.fetchall() if cursor.description else []


class PgStore(TransferStore):
    """The shared store, as seen by the instance whose relayer address is ``owner``. One
    connection per thread (the HTTP handlers ask from worker threads, so that a round trip never
    blocks the event loop; the submitter from its own), every statement committed at once
    (autocommit) or in an explicit transaction."""

    threaded = True  # the server calls it from worker threads
    sql = SQL
    columns = _FIELDS

    def __init__(self, url: str, owner: str, lease: float = 10.0):
        self.url = url
        self.path = redacted(url)
        self.owner = owner
        self.lease = lease
        self._local = threading.local()
        self._all: list[psycopg.Connection[Any]] = []
        self._guard = threading.Lock()
        db = self._conn()
        with db.transaction():
            db.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
            for statement in filter(str.strip, _SCHEMA.split(";")):
                db.execute(statement)  # type: ignore[arg-type]

    def _conn(self) -> psycopg.Connection[Any]:
        db = getattr(self._local, "db", None)
        if db is None or db.closed:
            try:
                db = psycopg.connect(self.url, autocommit=True, row_factory=dict_row, connect_timeout=10)  # type: ignore[arg-type]
            except psycopg.Error as exc:
                reason = str(exc).strip().splitlines()[-1][:200] if str(exc).strip() else type(exc).__name__
                raise StoreUnavailableError(f"the relayer's database at {self.path} refuses the connection: {reason}") from None
            self._local.db = db
            with self._guard:
                self._all.append(db)
        return db

    def close(self) -> None:
        with self._guard:
            for db in self._all:
                db.close()
            self._all.clear()

    def _query(self, sql: str, args: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        return self._conn().execute(sql, args).fetchall()  # type: ignore[arg-type]

    def _write(self, sql: str, args: tuple[Any, ...]) -> None:
        self._conn().execute(sql, args)  # type: ignore[arg-type]

    def _write_many(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        db = self._conn()
        with db.transaction(), db.cursor() as cursor:
            cursor.executemany(sql, rows)  # type: ignore[arg-type]  # pipelined: one round trip

    def add(self, *transfers: Transfer, budget: tuple[int, float] | None = None) -> tuple[Transfer, bool]:
        """As Store.add; with ``budget`` (the sender's balance, the time it was read), also
        refuses (Overdrawn) what the balance cannot cover net of what is pending in the whole
        database, under a lock on (token, sender) held to the commit."""
        first = transfers[0]
        db = self._conn()
        with db.transaction():
            db.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (first.token + first.sender,))
            known = record_new(lambda q, args: _rows(db.execute(q, args)), SQL, transfers, budget)  # type: ignore[arg-type]
            if known is not None:
                return self._transfer(known), False
            stored = db.execute(SQL.get, (first.id,)).fetchall()  # type: ignore[arg-type]
        return self._transfer(stored[0]), True  # type: ignore[arg-type]

    def heartbeat(self) -> int:
        """This instance is alive; the pending rows of instances silent for ``lease`` seconds
        become this one's. Returns how many rows were adopted."""
        now = time.time()
        db = self._conn()
        with db.transaction():
            db.execute("INSERT INTO relay_instances (owner, seen_at) VALUES (%s, %s) ON CONFLICT (owner) DO UPDATE "
                             "SET seen_at = EXCLUDED.seen_at", (self.owner, now))
            adopted = db.execute(
                "UPDATE transfers SET owner = %s WHERE status IN (%s, %s) AND owner IN (SELECT owner FROM relay_instances "
                "WHERE seen_at < %s AND owner <> %s)", (self.owner, *PENDING, now - self.lease, self.owner)).rowcount
        if adopted:
            log.warning("adopted %d pending transfer(s) of an instance silent for over %g s", adopted, self.lease)
        return adopted

    def pending(self, status: str, limit: int = 1_000_000) -> list[Transfer]:
        """This instance's transfers in ``status``, oldest first; accepted ones nobody owns are
        claimed first (up to ``limit``). Asking for the submitted ones is the heartbeat."""
        if status == SUBMITTED:
            self.heartbeat()
        if status == ACCEPTED:
            self._conn().execute(
                "UPDATE transfers SET owner = %s WHERE seq IN (SELECT seq FROM transfers WHERE status = %s AND owner IS"
                " NULL ORDER BY seq LIMIT %s FOR UPDATE SKIP LOCKED)", (self.owner, ACCEPTED, limit))
        rows = self._query("SELECT * FROM transfers WHERE status = %s AND owner = %s ORDER BY seq LIMIT %s",
                           (status, self.owner, limit))
        return [self._transfer(r) for r in rows]

    def mark_many(self, sends: list[tuple[str, str, int, int]]) -> None:
        """Records sends (id, hash, nonce, gas price) from this instance's key in one transaction."""
        now = time.time()
        db = self._conn()
        with db.transaction(), db.cursor() as cursor:
            ids = [transfer_id for transfer_id, *_ in sends]
            rows = cursor.execute("SELECT id, tx_hashes FROM transfers WHERE id = ANY(%s)", (ids,)).fetchall()
            known = {r["id"]: json.loads(r["tx_hashes"]) for r in rows}  # type: ignore[call-overload, index]
            updates = []
            for transfer_id, tx_hash, tx_nonce, gas_price in sends:
                hashes = known.get(transfer_id, [])
                if tx_hash not in hashes:
                    hashes.append(tx_hash)
                updates.append((SUBMITTED, tx_hash, json.dumps(hashes), tx_nonce, gas_price, now, self.owner, self.owner,
                                transfer_id))
            cursor.executemany(  # pipelined: one round trip for the batch
                "UPDATE transfers SET status = %s, tx_hash = %s, tx_hashes = %s, tx_nonce = %s, gas_price = %s,"
                " submitted_at = COALESCE(submitted_at, %s), owner = %s, sent_by = %s WHERE id = %s", updates)
