"""Markers that select parts of the suite (Makefile: test-fast, test-long).

- `stateful`: set here on every hypothesis stateful test (those that use brownie's
  `state_machine`); `make test-fast` leaves them out, `make test-long` runs them with --long.
- `slow` (pytest.ini): a test whose full size is for `make test-long` (the relay load test).

What brownie's --coverage traces, where tracing tells the branch floor nothing (every trace is a
debug_traceTransaction of the whole transaction, parsed in Python):
- `no_call_coverage` on the upgrade-survival tests: their calls are the state read before and
  after an upgrade (some 130 views each time, each made a traced transaction and undone); their
  transactions are still traced. Was 42.7 s of CPU for 7 tests, now 7.7 s. The same on the role
  tests, whose calls read the AccessManager (OpenZeppelin's, no branch of contracts/ in it).
- `untraced` (tests/conftest.py untraced_stateful) on the role checks whose every transaction is
  refused by AccessManaged's `restricted` (OpenZeppelin's code) before the function's own code
  runs: nothing of contracts/ executes.
"""


from __future__ import annotations

import pytest

NO_CALL_COVERAGE = ("tests/security/test_upgrade_survival.py", "tests/governance/test_roles.py")
UNTRACED = ("tests/governance/test_roles.py::test_restricted_function_without_role_reverts",)


def pytest_configure(config):
    config.addinivalue_line("markers", "stateful: a hypothesis stateful test (brownie's state_machine); set by tests/support/selection.py")
    config.addinivalue_line("markers", "untraced: under --coverage, the test's transactions are not traced (tests/support/selection.py)")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "state_machine" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.stateful)
        if item.nodeid.startswith(NO_CALL_COVERAGE):
            item.add_marker(pytest.mark.no_call_coverage)
        if item.nodeid.startswith(UNTRACED):
            item.add_marker(pytest.mark.untraced)
