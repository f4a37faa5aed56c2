"""The reading commands: `somstack status`, `roles` and `report` (no key needed)."""

from __future__ import annotations

from pathlib import Path

import click

from somstack.cli.common import (
    RPC_HELP,
    Target,
    _echo_json,
    json_option,
    network_options,
)


@click.command()
@network_options(rpc_help=RPC_HELP)
@json_option
def status(target: Target, as_json: bool) -> None:
    """One screen: chain and block, every deployed contract (code checked), token supplies and
    pause switches, reserve coverage, and the age of every price (no key needed)."""
    from somstack.ops.status import format_screen, read_screen

    with target.session() as session:
        screen = read_screen(session)
        if as_json:
            return _echo_json(screen)
        for line in format_screen(screen):
            click.echo(line)


@click.command()
@network_options(rpc_help=RPC_HELP)
@json_option
def roles(target: Target, as_json: bool) -> None:
    """The role matrix read from the chain: members and their delays, grant delays, guarded
    functions; flags every role the deployer still holds (no key needed)."""
    from somstack.system.governance import format_matrix, matrix_of_session

    with target.session() as session:
        matrix = matrix_of_session(session)
        if as_json:
            return _echo_json(matrix)
        for line in format_matrix(matrix):
            click.echo(line)


@click.command()
@network_options(rpc_help=RPC_HELP)
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=Path("build/report"), show_default=True, help="Folder of the site.")
@click.option("--days", type=click.IntRange(1, 3650), default=30, show_default=True, help="Days of supply and coverage history.")
@click.option("--block", "at_block", type=click.IntRange(min=0), help="Build the report at this past block (default: the latest).")
@click.option("--explorer", metavar="URL", help="Block explorer for links (default: BscScan of the chain).")
@click.option("--chunk", type=click.IntRange(min=1), default=5_000, show_default=True, help="Blocks per eth_getLogs query.")
def report(target: Target, out_dir: Path, days: int, at_block: int | None, explorer: str | None, chunk: int) -> None:
    """Write the public transparency page (index.html, style.css, SVG charts, report.json):
    supplies, the reserve and its coverage, compliance actions, governance; no key needed."""
    from somstack.report import Options, write_report

    with target.session() as session:
        built = write_report(session, out_dir, Options(days=days, block=at_block, explorer=explorer, chunk=chunk))
    click.echo(f"transparency report of {target.network_name} at block {built['block']:,}: {out_dir / 'index.html'}")


COMMANDS = (status, roles, report)
