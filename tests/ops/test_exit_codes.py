"""Exit codes (docs/errors.md): each class of failure exits with its own code, decided by the
class in somstack.core.errors and mapped in one place, `cli.main`; and `somstack --version`."""

from __future__ import annotations

import re

import click
import pytest
from clihelp import assert_one_line_error, run

from somstack import __version__
from somstack.cli import cli
from somstack.core.chain import free_port
from somstack.core.errors import (
    ChainMismatchError,
    InputError,
    MissingRoleError,
    RefusedError,
    RpcUnavailableError,
    SomstackError,
    TransactionFailed,
)
from somstack.ops.common import MissingRoleError as OpsMissingRoleError
from somstack.ops.reserve import RateRejectedError, ReserveInputError
from somstack.ops.tokens import OperationRefused


@pytest.fixture
def raising():
    """A throwaway `somstack raise` command that raises the error it is given."""
    errors = {}

    @cli.command("raise")
    @click.argument("name")
    def raise_(name):
        raise errors[name]

    yield errors
    cli.commands.pop("raise")


@pytest.mark.parametrize("error, code", [
    (SomstackError("x"), 1),
    (ReserveInputError("x"), 3),
    (InputError("x"), 3),
    (OpsMissingRoleError("x"), 4),
    (TransactionFailed("x"), 5),
    (OperationRefused("x"), 5),
    (RateRejectedError("x"), 5),
    (RpcUnavailableError("x"), 6),
    (ChainMismatchError("x"), 6),
])
def test_each_class_of_failure_exits_with_its_code(capsys, raising, error, code):
    raising["e"] = error
    got, out, err = run(capsys, "raise", "e")
    assert got == code and out == ""
    assert err.strip() == f"Error: ({type(error).__name__}) x"


def test_exit_codes_are_distinct_per_class():
    codes = [SomstackError.exit_code, InputError.exit_code, MissingRoleError.exit_code, RefusedError.exit_code,
             RpcUnavailableError.exit_code]
    assert len(set(codes)) == 5 and not {0, 2, 130} & set(codes)
    assert OpsMissingRoleError is MissingRoleError


def test_bad_input_exits_3_before_any_chain_is_asked(capsys):
    code, _out, err = run(capsys, "reserve", "stress", "--asset", "BNB", "--drop", "150", "--rpc", f"http://127.0.0.1:{free_port()}")
    assert code == 3
    assert_one_line_error(code, err, "(ReserveInputError) drop must be between 0 and 100")


def test_chain_unavailable_exits_6(capsys):
    port = free_port()
    code, _out, err = run(capsys, "status", "--rpc", f"http://127.0.0.1:{port}")
    assert code == 6
    assert_one_line_error(code, err, "(RpcUnavailableError)", f"http://127.0.0.1:{port}")


def test_usage_error_still_exits_2(capsys):
    code, _out, err = run(capsys, "reserve", "stress")
    assert code == 2 and "Missing option '--asset'" in err


def test_version_prints_the_package_version_and_the_commit_in_a_checkout(capsys):
    code, out, _err = run(capsys, "--version")
    assert code == 0
    assert re.fullmatch(rf"somstack {re.escape(__version__)}( \(commit [0-9a-f]{{7,40}}\))?\n", out), out
