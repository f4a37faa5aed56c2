"""The `somstack` command line: the root group, --version, `main`, and the registration of the
command groups, one module each (deploy, reading, tokens, reserve, cbdc, redeem, compliance,
governance, keys, relay, monitor; what they share is in cli.common).

User errors print one line on stderr and exit 1; usage errors exit 2; a traceback only with -v.
"""

from __future__ import annotations

import sys
import traceback
from pathlib import Path

import click

from somstack.cli import (
    cbdc,
    compliance,
    deploy,
    governance,
    keys,
    monitor,
    reading,
    redeem,
    relay,
    reserve,
    tokens,
)
from somstack.cli.common import State, _info
from somstack.core import journal, logs
from somstack.core.errors import SomstackError

__all__ = ["cli", "main", "version_line", "_info"]


def version_line() -> str:
    """``somstack <package version>``, and ``(commit <hash>)`` when run from a git checkout."""
    import subprocess
    from importlib.metadata import PackageNotFoundError, version

    from somstack import __version__

    try:
        line = f"somstack {version('somstack')}"
    except PackageNotFoundError:
        line = f"somstack {__version__}"
    root = Path(__file__).resolve().parents[2]
    if (root / ".git").exists():
        try:
            commit = subprocess.run(["git", "-C", str(root), "rev-parse", "--short=12", "HEAD"], capture_output=True,
                                    text=True, timeout=5).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            commit = ""
        if commit:
            line += f" (commit {commit})"
    return line


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(version_line())
        ctx.exit()


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Show tracebacks on errors, and the debug lines of the log.")
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=_print_version,
              help="Show the package version (and the git commit in a checkout) and exit.")
@click.pass_context
def cli(ctx: click.Context, verbose: bool) -> None:
    """SomStack: KGST stablecoin, digital som and national reserve on BNB Chain."""
    ctx.obj = State(verbose=verbose)


for _module in (deploy, reading, tokens, reserve, cbdc, redeem, compliance, governance, keys, relay, monitor):
    for _command in _module.COMMANDS:
        cli.add_command(_command)


def _interrupted(args: list[str]) -> int:
    """Ctrl-C: what this run sent, mined and left pending, and the command that resumes (exit 130)."""
    import shlex

    resume = ["somstack", *args]
    for line in journal.interrupt_lines(" ".join(shlex.quote(a) for a in resume)):
        click.echo(line, err=True)
    return 130



def _show_envvars(command: click.Command) -> None:
    """Every option an environment variable feeds (``envvar=``, SOMSTACK_*) names it in its
    ``--help`` line (``show_envvar``); set once here for every command, those added later too."""
    for param in command.params:
        if isinstance(param, click.Option) and param.envvar:
            param.show_envvar = True
    for sub in getattr(command, "commands", {}).values():
        _show_envvars(sub)


_show_envvars(cli)


def main(argv: list[str] | None = None, group: click.Group | None = None, prog_name: str = "somstack") -> int:
    """Entry point: runs the group (the operator CLI unless another is given), turning every error
    into one line and an exit code."""
    args = sys.argv[1:] if argv is None else argv
    verbose = "-v" in args or "--verbose" in args
    journal.reset()
    try:
        with logs.to_stderr(verbose):  # the library's progress lines, one message a line on stderr
            (group or cli).main(args=argv, prog_name=prog_name, standalone_mode=False)
    except click.exceptions.Abort as exc:
        # click turns Ctrl-C (KeyboardInterrupt) into Abort before we see it
        if isinstance(exc.__cause__ or exc.__context__, KeyboardInterrupt):
            return _interrupted(args)
        click.echo("Aborted.", err=True)
        return 1
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except SomstackError as exc:
        if verbose:
            traceback.print_exc()
        click.echo(f"Error: ({type(exc).__name__}) {exc}", err=True)
        return exc.exit_code  # decided by the class (errors.py, docs/errors.md)
    except KeyboardInterrupt:
        return _interrupted(args)
    except Exception as exc:  # a bug, not bad input: still one line unless -v
        if verbose:
            traceback.print_exc()
        click.echo(f"Error: (unexpected {type(exc).__name__}) {exc} (run with -v for the traceback)", err=True)
        return 1
    return 0

