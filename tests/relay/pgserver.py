"""The test session's own PostgreSQL server (somstack.dev.devpg) on a port of this run's range:
SOMSTACK_TEST_PORT + 10 + the xdist worker number. Each test asks for a database of its own."""

from __future__ import annotations

import os
from contextlib import contextmanager

from somstack.dev.devpg import fresh_database
from somstack.dev.devpg import postgres_server as _server

__all__ = ["fresh_database", "port_of_this_run", "postgres_server"]


def port_of_this_run() -> int:
    base = int(os.environ.get("SOMSTACK_TEST_PORT", "").strip() or "8545")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return base + 10 + int(worker[2:] or 0)


@contextmanager
def postgres_server():
    with _server(port_of_this_run()) as base:
        yield base
