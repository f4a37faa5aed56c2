"""`brownie run scripts/demo.py`: the `make demo` scenario (it runs a local chain of its own)."""

from somstack.dev.demo import run_demo


def main():
    return run_demo()
