"""A PostgreSQL server of the test session's own (TOOLCHAIN.md §11): initdb in a temp folder and
pg_ctl on a port of this run's range (SOMSTACK_TEST_PORT + 10 + the xdist worker number), as
the `postgres` user when the tests run as root (the server refuses root). Each test asks for a
database of its own (:func:`fresh_database`)."""

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

import psycopg


def _bin(name: str) -> str:
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None)
    if found is None:
        raise RuntimeError(f"PostgreSQL's {name} is not installed (make install installs Debian's postgresql)")
    return found


def port_of_this_run() -> int:
    base = int(os.environ.get("SOMSTACK_TEST_PORT", "").strip() or "8545")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return base + 10 + int(worker[2:] or 0)


@contextmanager
def postgres_server():
    """Yields the base URL postgresql://relay@127.0.0.1:<port> of a fresh server in a temp folder
    of its own (under /tmp, which the postgres user can reach); stopped and removed on exit."""
    port = port_of_this_run()
    as_root = os.geteuid() == 0
    run_as = ["runuser", "-u", "postgres", "--"] if as_root else []
    folder = Path(tempfile.mkdtemp(prefix="somstack-pg-"))
    if as_root:
        shutil.chown(folder, "postgres")
    data = folder / "data"
    try:
        subprocess.run([*run_as, _bin("initdb"), "-D", str(data), "-A", "trust", "-U", "relay", "--no-sync"],
                       check=True, capture_output=True)
        start = [*run_as, _bin("pg_ctl"), "-D", str(data), "-l", str(folder / "log"), "-w", "-o",
                 f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50"]
        done = subprocess.run([*start, "start"], capture_output=True)
        if done.returncode:
            log = (folder / "log").read_text() if (folder / "log").exists() else ""
            raise RuntimeError(f"PostgreSQL did not start on port {port}: {log[-500:]}")
        yield f"postgresql://relay@127.0.0.1:{port}"
    finally:
        stopped = subprocess.run([*run_as, _bin("pg_ctl"), "-D", str(data), "-m", "immediate", "stop"], capture_output=True)
        pid_file = data / "postmaster.pid"
        if stopped.returncode and pid_file.exists():  # the postmaster we started, by its id
            os.kill(int(pid_file.read_text().split()[0]), signal.SIGQUIT)
        shutil.rmtree(folder, ignore_errors=True)


def fresh_database(base: str) -> str:
    name = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(base + "/postgres", autocommit=True) as db:
        db.execute(f"CREATE DATABASE {name}")  # type: ignore[arg-type]
    return f"{base}/{name}"
