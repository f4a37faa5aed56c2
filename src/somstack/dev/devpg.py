"""A throwaway PostgreSQL server for development (the relayer's tests and bench): initdb in a
temp folder and pg_ctl on a given port, as the `postgres` user when run as root (the server
refuses root). Not for production: trust authentication."""

from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


def pg_bin(name: str) -> str:
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None)
    if found is None:
        raise RuntimeError(f"PostgreSQL's {name} is not installed (make install installs Debian's postgresql)")
    return found


@contextmanager
def postgres_server(port: int, durable: bool = False) -> Iterator[str]:
    """Yields the base URL postgresql://relay@127.0.0.1:<port> of a fresh server in a temp folder
    of its own (under the system temp folder, which the postgres user can reach); stopped and
    removed on exit. Without ``durable`` (tests), commits do not wait for the disk (fsync=off);
    a bench keeps PostgreSQL's defaults, to compare with SQLite's synchronous=FULL."""
    as_root = os.geteuid() == 0
    run_as = ["runuser", "-u", "postgres", "--"] if as_root else []
    folder = Path(tempfile.mkdtemp(prefix="somstack-pg-"))
    if as_root:
        shutil.chown(folder, "postgres")
    data = folder / "data"
    try:
        subprocess.run([*run_as, pg_bin("initdb"), "-D", str(data), "-A", "trust", "-U", "relay", "--no-sync"],
                       check=True, capture_output=True)
        start = [*run_as, pg_bin("pg_ctl"), "-D", str(data), "-l", str(folder / "log"), "-w", "-o",
                 f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c max_connections=50"
                 + ("" if durable else " -c fsync=off")]
        done = subprocess.run([*start, "start"], capture_output=True)
        if done.returncode:
            log = (folder / "log").read_text() if (folder / "log").exists() else ""
            raise RuntimeError(f"PostgreSQL did not start on port {port}: {log[-500:]}")
        yield f"postgresql://relay@127.0.0.1:{port}"
    finally:
        stopped = subprocess.run([*run_as, pg_bin("pg_ctl"), "-D", str(data), "-m", "immediate", "stop"], capture_output=True)
        pid_file = data / "postmaster.pid"
        if stopped.returncode and pid_file.exists():  # the postmaster started here, by its id
            os.kill(int(pid_file.read_text().split()[0]), signal.SIGQUIT)
        shutil.rmtree(folder, ignore_errors=True)


def fresh_database(base: str) -> str:
    """A new empty database on the server at ``base``; its URL."""
    import psycopg

    name = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(base + "/postgres", autocommit=True) as db:
        db.execute(f"CREATE DATABASE {name}")  # type: ignore[arg-type]
    return f"{base}/{name}"
