"""Harness of the test suite itself (not of what it tests): timing, ordering and caches that
make `make test` fast on 2 cores. Registered by tests/conftest.py."""
