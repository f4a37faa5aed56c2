"""The monitor's store: one SQLite file under build/monitor/ (nothing to start), holding the
events read from the chain and the cursor, the alerts, the webhook outbox, and the analysts'
cases with their append-only audit trail.

SQLite rather than DuckDB for the store because several processes use it at once (`monitor run`
follows the chain while an analyst opens cases): SQLite's WAL mode lets readers and one writer
share the file, DuckDB's file lock does not. The rules still run in DuckDB, over the transfers
exported from here (the same file format as `monitor export`).

Addresses and hashes only: no names, no identity documents, no personal data (docs/privacy.md).

The audit trail is append-only: this module has no statement that updates or deletes an audit
row, and each row carries the SHA-256 of the previous row and of its own content, so a row
changed or removed afterwards breaks the chain (:meth:`Store.verify_audit`).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Sequence

from somstack.core.errors import InputError, SomstackError

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS blocks (number INTEGER PRIMARY KEY, hash TEXT NOT NULL, ts INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS events (
    block_number INTEGER NOT NULL, block_hash TEXT NOT NULL, ts INTEGER NOT NULL, tx_hash TEXT NOT NULL,
    log_index INTEGER NOT NULL, token TEXT NOT NULL, name TEXT NOT NULL,
    src TEXT, dst TEXT, account TEXT, amount TEXT, ref TEXT,
    PRIMARY KEY (block_number, log_index));
CREATE INDEX IF NOT EXISTS events_tx ON events (tx_hash);
CREATE TABLE IF NOT EXISTS alerts (
    id TEXT PRIMARY KEY, rule TEXT NOT NULL, severity TEXT NOT NULL, status TEXT NOT NULL,
    record TEXT NOT NULL, raised_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, case_id TEXT);
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, alert_id TEXT NOT NULL, kind TEXT NOT NULL, payload TEXT NOT NULL,
    created_at INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_try REAL NOT NULL DEFAULT 0,
    delivered_at INTEGER, last_error TEXT);
CREATE TABLE IF NOT EXISTS cases (
    id TEXT PRIMARY KEY, status TEXT NOT NULL, opened_by TEXT NOT NULL, opened_at INTEGER NOT NULL, closed_at INTEGER);
CREATE TABLE IF NOT EXISTS case_alerts (case_id TEXT NOT NULL, alert_id TEXT NOT NULL, PRIMARY KEY (case_id, alert_id));
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, case_id TEXT NOT NULL, at INTEGER NOT NULL, who TEXT NOT NULL,
    action TEXT NOT NULL, detail TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
"""

ZERO_HASH = "0" * 64


class StoreError(SomstackError):
    """The monitor's store is unreadable, or an operation on it is refused."""


def default_path(root: Path, chain_id: int | str) -> Path:
    return root / "build" / "monitor" / f"{chain_id}.sqlite"


class Store:
    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = sqlite3.connect(str(path), timeout=30, isolation_level=None, check_same_thread=False)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.executescript(SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot open the monitor store {path}: {exc}") from None

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """One transaction: all of it is written, or none (a kill in between loses nothing)."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # --- meta and cursor ---

    def get(self, key: str, default: str | None = None) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set(self, key: str, value: Any, db: sqlite3.Connection | None = None) -> None:
        (db or self.db).execute("INSERT INTO meta VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, str(value)))

    def cursor(self) -> int | None:
        value = self.get("cursor")
        return None if value is None else int(value)

    def block_hash(self, number: int) -> str | None:
        row = self.db.execute("SELECT hash FROM blocks WHERE number = ?", (number,)).fetchone()
        return row[0] if row else None

    def known_blocks_desc(self, below: int) -> list[tuple[int, str]]:
        return self.db.execute("SELECT number, hash FROM blocks WHERE number <= ? ORDER BY number DESC", (below,)).fetchall()

    def commit_range(self, events: Sequence[tuple[Any, ...]], blocks: Sequence[tuple[int, str, int]], cursor: int) -> None:
        """Stores the events of a block range, the hashes of its blocks and the new cursor, in
        one transaction."""
        with self.tx() as db:
            db.executemany("INSERT OR REPLACE INTO blocks VALUES (?, ?, ?)", blocks)
            db.executemany("INSERT OR REPLACE INTO events VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", events)
            self.set("cursor", cursor, db)

    def retract_after(self, block: int) -> list[tuple[Any, ...]]:
        """Drops every event and block after ``block`` (a reorganisation); returns the dropped events."""
        with self.tx() as db:
            dropped = db.execute("SELECT * FROM events WHERE block_number > ?", (block,)).fetchall()
            db.execute("DELETE FROM events WHERE block_number > ?", (block,))
            db.execute("DELETE FROM blocks WHERE number > ?", (block,))
            self.set("cursor", block, db)
            self.set("reorgs", int(self.get("reorgs", "0") or 0) + 1, db)
        return dropped

    def event_count(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM events").fetchone()[0])

    def transfers(self) -> list[tuple[Any, ...]]:
        """The Transfer events as rows of the transfers file, each with the travel-rule reference
        of the TransferReference event that follows it in its transaction (same from, to and
        amount: KGST emits it right after the Transfer)."""
        return self.db.execute("""
            SELECT t.block_number, t.ts, t.tx_hash, t.log_index, t.token, t.src, t.dst, t.amount,
                   coalesce((SELECT r.ref FROM events r WHERE r.tx_hash = t.tx_hash AND r.name = 'TransferReference'
                              AND r.src = t.src AND r.dst = t.dst AND r.amount = t.amount AND r.log_index > t.log_index
                             ORDER BY r.log_index LIMIT 1), '')
            FROM events t WHERE t.name = 'Transfer' ORDER BY t.block_number, t.log_index""").fetchall()

    def blocked_on_chain(self) -> list[str]:
        """Addresses whose last blocklist event on some token is AccountBlocked."""
        rows = self.db.execute("""
            SELECT account FROM (
              SELECT account, token, name, row_number() OVER (PARTITION BY account, token ORDER BY block_number DESC, log_index DESC) AS n
              FROM events WHERE name IN ('AccountBlocked', 'AccountUnblocked'))
            WHERE n = 1 AND name = 'AccountBlocked'""").fetchall()
        return sorted({r[0] for r in rows})

    # --- alerts and outbox ---

    def alerts(self, status: str | None = None) -> list[dict[str, Any]]:
        query = "SELECT id, status, record, case_id, raised_at, updated_at FROM alerts"
        rows = self.db.execute(query + (" WHERE status = ?" if status else "") + " ORDER BY raised_at, id", (status,) if status else ()).fetchall()
        return [{"id": r[0], "status": r[1], "record": json.loads(r[2]), "case_id": r[3], "raised_at": r[4], "updated_at": r[5]} for r in rows]

    def alert(self, alert_id: str) -> dict[str, Any]:
        found = [a for a in self.alerts() if a["id"] == alert_id]
        if not found:
            raise InputError(f"no alert {alert_id} in {self.path.name}")
        return found[0]

    def reconcile(self, produced: Sequence[dict[str, Any]], now: int | None = None) -> tuple[list[str], list[str], list[str]]:
        """Makes the stored alerts those that the rules produce now: new ids are raised (and
        queued for the webhook), changed ones updated, and live ones no longer produced (their
        events were dropped by a reorganisation) retracted (and queued). Returns (new, updated,
        retracted) ids."""
        now = now or int(time.time())
        current = {r[0]: (r[1], r[2]) for r in self.db.execute("SELECT id, status, record FROM alerts")}
        new, updated, retracted = [], [], []
        with self.tx() as db:
            seen = set()
            for record in produced:
                seen.add(record["id"])
                text = json.dumps(record, sort_keys=True)
                if record["id"] not in current:
                    db.execute("INSERT INTO alerts VALUES (?,?,?,?,?,?,?,NULL)", (record["id"], record["rule"], record["severity"], "open", text, now, now))
                    db.execute("INSERT INTO outbox (alert_id, kind, payload, created_at) VALUES (?, 'alert', ?, ?)", (record["id"], text, now))
                    new.append(record["id"])
                    continue
                status, old = current[record["id"]]
                if status == "retracted":  # the events came back (the reorg was undone): raised again
                    db.execute("UPDATE alerts SET status = 'open', record = ?, updated_at = ? WHERE id = ?", (text, now, record["id"]))
                    db.execute("INSERT INTO outbox (alert_id, kind, payload, created_at) VALUES (?, 'alert', ?, ?)", (record["id"], text, now))
                    new.append(record["id"])
                elif old != text:
                    db.execute("UPDATE alerts SET record = ?, updated_at = ? WHERE id = ?", (text, now, record["id"]))
                    updated.append(record["id"])
            for alert_id, (status, text) in current.items():
                if alert_id not in seen and status != "retracted":
                    db.execute("UPDATE alerts SET status = 'retracted', updated_at = ? WHERE id = ?", (now, alert_id))
                    payload = json.dumps({"id": alert_id, "retracted": True,
                                          "reason": "the rules no longer produce it: its events were dropped by a chain reorganisation, "
                                                    "or a listed address it rested on was unblocked"})
                    db.execute("INSERT INTO outbox (alert_id, kind, payload, created_at) VALUES (?, 'retraction', ?, ?)", (alert_id, payload, now))
                    retracted.append(alert_id)
        return new, updated, retracted

    def outbox_due(self, now: float) -> list[tuple[int, str, str, str, int]]:
        return self.db.execute("SELECT seq, alert_id, kind, payload, attempts FROM outbox WHERE delivered_at IS NULL AND next_try <= ? ORDER BY seq",
                               (now,)).fetchall()

    def outbox_pending(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM outbox WHERE delivered_at IS NULL").fetchone()[0])

    def outbox_result(self, seq: int, ok: bool, error: str | None, next_try: float) -> None:
        if ok:
            self.db.execute("UPDATE outbox SET delivered_at = ?, attempts = attempts + 1, last_error = NULL WHERE seq = ?", (int(time.time()), seq))
        else:
            self.db.execute("UPDATE outbox SET attempts = attempts + 1, next_try = ?, last_error = ? WHERE seq = ?", (next_try, error, seq))

    # --- cases and their audit trail ---

    def append_audit(self, db: sqlite3.Connection, case_id: str, who: str, action: str, detail: dict[str, Any], at: int | None = None) -> dict[str, Any]:
        at = at or int(time.time())
        prev = db.execute("SELECT hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
        prev_hash = prev[0] if prev else ZERO_HASH
        body = json.dumps({"case": case_id, "at": at, "who": who, "action": action, "detail": detail, "prev": prev_hash}, sort_keys=True)
        digest = hashlib.sha256(body.encode()).hexdigest()
        db.execute("INSERT INTO audit (case_id, at, who, action, detail, prev_hash, hash) VALUES (?,?,?,?,?,?,?)",
                   (case_id, at, who, action, json.dumps(detail, sort_keys=True), prev_hash, digest))
        return {"case": case_id, "at": at, "who": who, "action": action, "detail": detail, "hash": digest}

    def audit(self, case_id: str | None = None) -> list[dict[str, Any]]:
        rows = self.db.execute("SELECT seq, case_id, at, who, action, detail, prev_hash, hash FROM audit"
                               + (" WHERE case_id = ?" if case_id else "") + " ORDER BY seq", (case_id,) if case_id else ()).fetchall()
        return [{"seq": r[0], "case": r[1], "at": r[2], "who": r[3], "action": r[4], "detail": json.loads(r[5]), "prev_hash": r[6], "hash": r[7]}
                for r in rows]

    def verify_audit(self) -> bool:
        prev = ZERO_HASH
        for row in self.audit():
            body = json.dumps({"case": row["case"], "at": row["at"], "who": row["who"], "action": row["action"], "detail": row["detail"],
                               "prev": prev}, sort_keys=True)
            if row["prev_hash"] != prev or hashlib.sha256(body.encode()).hexdigest() != row["hash"]:
                return False
            prev = row["hash"]
        return True
