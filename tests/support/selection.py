"""Markers that select parts of the suite (Makefile: test-fast, test-long).

- `stateful`: set here on every hypothesis stateful test (those that use brownie's
  `state_machine`); `make test-fast` leaves them out, `make test-long` runs them with --long.
- `slow` (pytest.ini): a test whose full size is for `make test-long` (the relay load test).
"""

from __future__ import annotations

import pytest


def pytest_configure(config):
    config.addinivalue_line("markers", "stateful: a hypothesis stateful test (brownie's state_machine); set by tests/support/selection.py")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "state_machine" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.stateful)
