"""`somstack reserve ...`: the national reserve, thin wrappers over somstack.ops.reserve."""

from __future__ import annotations

import click

from somstack.cli.common import (
    Target,
    _echo_json,
    json_option,
    network_options,
    operator,
    sender_options,
)


@click.group()
def reserve() -> None:
    """The national reserve: status, stress tests, deposits, attestations, the som rate."""


@reserve.command("status")
@network_options
@json_option
def reserve_status(target: Target, as_json: bool) -> None:
    """Assets, prices, attested fiat, the som rate, reserve value and coverage (no key needed)."""
    from somstack.ops.reserve import Reserve, format_status, read_status

    with target.session() as session:
        status_ = read_status(Reserve.of_session(session))
        if as_json:
            return _echo_json(status_)
        for line in format_status(status_, session.network.name):
            click.echo(line)


@reserve.command("stress")
@network_options
@click.option("--asset", required=True, help="Symbol (BNB, BTCB, BSC-USD, ...) or address of the shocked asset.")
@click.option("--drop", default="50", show_default=True, help="Price drop in percent.")
@json_option
def reserve_stress(target: Target, asset: str, drop: str, as_json: bool) -> None:
    """Coverage now and after the asset's price falls by --drop percent (and every asset at that drop)."""
    from somstack.ops.reserve import Reserve, format_stress, parse_percent_bps, stress

    drop_bps = parse_percent_bps(drop)
    with target.session() as session:
        report = stress(Reserve.of_session(session), asset, drop_bps)
        if as_json:
            return _echo_json(report)
        for line in format_stress(report):
            click.echo(line)


@operator
@reserve.command("deposit")
@sender_options
@click.option("--asset", required=True, help="Symbol or address of a registered asset (BNB is native).")
@click.option("--amount", required=True, help="Whole tokens, e.g. 1.5 (decimals from the vault's asset record).")
def reserve_deposit(target: Target, asset: str, amount: str) -> None:
    """Deposit into the reserve: BNB with depositNative, a BEP-20 with approve and deposit."""
    from somstack.ops.reserve import Reserve, deposit

    with target.session() as session:
        click.echo(str(deposit(Reserve.of_session(session), target.sender(session, None), asset, amount)))


@operator
@reserve.command("attest")
@sender_options
@click.option("--amount", required=True, help="Fiat som held in banks, in som (e.g. 50000000).")
@click.option("--as-of", "as_of", required=True, help="Unix time [s] of the bank statement, or 'now' (the chain's time).")
@click.option("--report-hash", required=True, help="0x-prefixed 32-byte hash of the published report.")
@click.option("--uri", required=True, help="Where the report is published (ipfs://..., https://...).")
def reserve_attest(target: Target, amount: str, as_of: str, report_hash: str, uri: str) -> None:
    """Post an attestation of fiat som held in banks (role ATTESTOR)."""
    from somstack.ops.reserve import Reserve, attest

    with target.session() as session:
        vault, sender = Reserve.of_session(session), target.sender(session, "ATTESTOR")
        click.echo(str(attest(vault, sender, amount, as_of, report_hash, uri)))


@operator
@reserve.command("set-rate")
@sender_options
@click.option("--rate", required=True, help="KGS per USD, e.g. 87.45 (up to 18 decimals).")
def reserve_set_rate(target: Target, rate: str) -> None:
    """Publish the official KGS/USD rate (role RATE_SETTER), within the vault's change bound."""
    from somstack.ops.reserve import Reserve, set_rate

    with target.session() as session:
        click.echo(str(set_rate(Reserve.of_session(session), target.sender(session, "RATE_SETTER"), rate)))


@operator
@reserve.command("withdraw")
@sender_options
@click.option("--asset", required=True, help="Symbol or address of a registered asset (BNB is native).")
@click.option("--amount", required=True, help="Whole tokens.")
@click.option("--to", required=True, help="Where the withdrawn reserve goes.")
def reserve_withdraw(target: Target, asset: str, amount: str, to: str) -> None:
    """Withdraw from the reserve (role RESERVE_MANAGER, behind its delay: run it under
    `somstack governance schedule`, then `governance execute` once due)."""
    from somstack.ops.reserve import Reserve, withdraw

    with target.session() as session:
        vault, sender = Reserve.of_session(session), target.sender(session, "RESERVE_MANAGER")
        click.echo(str(withdraw(vault, sender, asset, amount, to)))


COMMANDS = (reserve,)
