"""The SQL of the relayer's two stores, written once.

The SQLite store (:mod:`somstack.relay.store`) and the PostgreSQL one
(:mod:`somstack.relay.pgstore`) keep the same ``transfers`` table and ask it the same
questions; what differs is the placeholder, sqlite3's ``?`` (qmark) and psycopg's ``%s``, and
some column types. The table is listed here once with both types of each column; the
statements are written once in qmark style: :data:`SQLITE` is them as they are,
:data:`POSTGRES` the same with ``%s``. What only PostgreSQL asks (owners, heartbeats, advisory
locks, batched updates) stays in pgstore.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

# The transfers table: each column with its type in SQLite and in PostgreSQL (None: not there).
# PostgreSQL's rows also name their owner (the instance that submits them) and the instance
# that signed their last transaction (sent_by).
_TABLE = (
    ("seq", "INTEGER PRIMARY KEY AUTOINCREMENT", "BIGSERIAL PRIMARY KEY"),
    ("id", "TEXT NOT NULL UNIQUE", "TEXT NOT NULL UNIQUE"),
    ("token", "TEXT NOT NULL", "TEXT NOT NULL"),
    ("kind", "TEXT NOT NULL", "TEXT NOT NULL"),
    ("sender", "TEXT NOT NULL", "TEXT NOT NULL"),
    ("recipient", "TEXT NOT NULL", "TEXT NOT NULL"),
    ("value", "TEXT NOT NULL", "TEXT NOT NULL"),  # uint256 as text: it fits neither INTEGER nor BIGINT
    ("valid_after", "TEXT NOT NULL", "TEXT NOT NULL"),
    ("valid_before", "TEXT NOT NULL", "TEXT NOT NULL"),
    ("nonce", "TEXT NOT NULL", "TEXT NOT NULL"),
    ("signature", "TEXT NOT NULL", "TEXT NOT NULL"),
    ("gas", "INTEGER NOT NULL", "BIGINT NOT NULL"),
    ("fee_for", "TEXT", "TEXT"),
    ("status", "TEXT NOT NULL", "TEXT NOT NULL"),
    ("reason", "TEXT", "TEXT"),
    ("tx_hash", "TEXT", "TEXT"),
    ("tx_hashes", "TEXT NOT NULL DEFAULT '[]'", "TEXT NOT NULL DEFAULT '[]'"),
    ("tx_nonce", "INTEGER", "BIGINT"),
    ("gas_price", "INTEGER", "NUMERIC(78, 0)"),
    ("accepted_at", "REAL NOT NULL", "DOUBLE PRECISION NOT NULL"),
    ("submitted_at", "REAL", "DOUBLE PRECISION"),
    ("finished_at", "REAL", "DOUBLE PRECISION"),
    ("owner", None, "TEXT"),
    ("sent_by", None, "TEXT"),
)
SQLITE_COLUMNS = tuple(name for name, sqlite, _pg in _TABLE if sqlite)
POSTGRES_COLUMNS = tuple(name for name, _sqlite, pg in _TABLE if pg)


def _schema(backend: int, status_index: str) -> str:
    """CREATE statements of the table (with the types of ``backend``: 1 SQLite, 2 PostgreSQL) and its indexes."""
    columns = ",\n".join(f"    {column[0]} {column[backend]}" for column in _TABLE if column[backend])
    return (f"\nCREATE TABLE IF NOT EXISTS transfers (\n{columns}\n);\n"
            f"CREATE INDEX IF NOT EXISTS transfers_status ON transfers ({status_index});\n"
            "CREATE INDEX IF NOT EXISTS transfers_sender ON transfers (token, sender, status);\n")


SQLITE_SCHEMA = _schema(1, "status, seq")
POSTGRES_SCHEMA = _schema(2, "status, owner, seq") + (
    "CREATE TABLE IF NOT EXISTS relay_instances (owner TEXT PRIMARY KEY, seen_at DOUBLE PRECISION NOT NULL);\n")

INSERT_COLUMNS = ("id", "token", "kind", "sender", "recipient", "value", "valid_after", "valid_before", "nonce",
                  "signature", "gas", "fee_for", "status", "accepted_at")


@dataclass(frozen=True)
class Queries:
    get: str
    outflow: str  # the sender's pending value, and what was confirmed at or after a time
    insert: str
    counts: str
    requeue: str
    finish_many: str
    finish: str
    all: str

    def with_placeholder(self, placeholder: str) -> Queries:
        """The same statements with ``placeholder`` in place of ``?`` (none holds a literal ``?``)."""
        return Queries(**{name: sql.replace("?", placeholder) for name, sql in asdict(self).items()})


SQLITE = Queries(
    get="SELECT * FROM transfers WHERE id = ?",
    outflow="SELECT value FROM transfers WHERE token = ? AND sender = ? AND (status IN (?, ?)"
            " OR (status = ? AND finished_at >= ?))",
    insert=f"INSERT INTO transfers ({', '.join(INSERT_COLUMNS)}) VALUES ({','.join('?' * len(INSERT_COLUMNS))})",
    counts="SELECT status, COUNT(*) AS n FROM transfers GROUP BY status",
    requeue="UPDATE transfers SET status = ?, tx_nonce = NULL WHERE id = ?",
    finish_many="UPDATE transfers SET status = ?, tx_hash = COALESCE(?, tx_hash), finished_at = ? WHERE id = ?",
    finish="UPDATE transfers SET status = ?, tx_hash = COALESCE(?, tx_hash), reason = ?, finished_at = ? WHERE id = ?",
    all="SELECT * FROM transfers ORDER BY seq",
)
POSTGRES = SQLITE.with_placeholder("%s")
