"""`somstack cbdc ...`: the digital som, thin wrappers over somstack.ops.cbdc."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from somstack.cli.common import (
    Target,
    _echo_json,
    _first_refusals,
    _go_ahead,
    json_option,
    network_options,
    operator,
    sender_options,
)
from somstack.core import logs


@click.group()
def cbdc() -> None:
    """The digital som: wallet tiers, registration, payroll disbursement."""


@cbdc.command("tiers")
@network_options
@json_option
def cbdc_tiers(target: Target, as_json: bool) -> None:
    """The wallet tiers on chain: holding cap, per-transfer and daily limits (no key needed)."""
    from somstack.ops.cbdc import Cbdc, format_tiers, read_tiers

    with target.session() as session:
        token = Cbdc.of_session(session)
        tiers = read_tiers(token)
        if as_json:
            return _echo_json(tiers)
        for line in format_tiers(tiers, token.decimals):
            click.echo(line)


@operator
@cbdc.command("register")
@sender_options
@click.argument("address")
@click.option("--tier", type=int, required=True, help="Tier id (see `somstack cbdc tiers`).")
@click.option("--kyc-hash", required=True, help="0x-prefixed bytes32 hash of the off-chain KYC file (never personal data).")
@click.option("--identity", required=True, help="0x-prefixed bytes32 salted hash of the holder's national ID (one capped wallet per identity).")
def cbdc_register(target: Target, address: str, tier: int, kyc_hash: str, identity: str) -> None:
    """Register a wallet in a tier (role KYC_OFFICER)."""
    from somstack.ops.cbdc import Cbdc, register

    with target.session() as session:
        token, sender = Cbdc.of_session(session), target.sender(session, "KYC_OFFICER")
        click.echo(str(register(token, sender, address, tier, kyc_hash, identity)))


@operator
@cbdc.command("register-many")
@sender_options
@click.argument("wallets", metavar="WALLETS.csv", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--batch-size", type=click.IntRange(1, 200), default=150, show_default=True, help="Wallets per registerWallets transaction.")
@click.option("--yes", is_flag=True, help="Register without asking (needed without a terminal).")
@click.option("--dry-run", is_flag=True, help="Print the plan and send nothing.")
def cbdc_register_many(target: Target, wallets: Path, batch_size: int, yes: bool, dry_run: bool) -> None:
    """Register the wallets of a CSV (address,tier,kyc_hash,identity_hash) in bulk (role
    KYC_OFFICER): validated whole first, then registerWallets per tier in batches; a rerun
    registers only what is missing."""
    from somstack.ops.cbdc import (
        Cbdc,
        WalletsRejectedError,
        plan_registrations,
        register_planned,
    )

    with target.session(confirm=not dry_run) as session:
        token, sender = Cbdc.of_session(session), target.sender(session, "KYC_OFFICER")
        try:
            plan = plan_registrations(token, sender.signer.address, wallets, batch_size, route=target.route)
        except WalletsRejectedError as exc:
            _first_refusals(wallets.name, exc.problems)
            raise
        for line in plan.lines():
            click.echo(line)
        if dry_run:
            click.echo("dry run: nothing was sent")
            return
        if plan.todo:
            _go_ahead(yes, f"register {len(plan.todo):,} wallets in {len(plan.batches()):,} transaction(s)")
            with click.progressbar(length=len(plan.todo), label="registering", file=sys.stderr) as bar, logs.silenced():
                sent = register_planned(token, sender, plan, progress=bar.update)
        else:
            sent = []
    gas = sum(x.receipt["gasUsed"] for x in sent if x.receipt)
    click.echo(f"registered {len(plan.todo):,} wallets in {len(sent):,} transaction(s), gas {gas:,}"
               + (f" ({gas // len(plan.todo):,} a wallet)" if plan.todo else "") + f"; {len(plan.done):,} registered before")


@operator(refuse_proposal="a payroll cannot be proposed to a Safe: `cbdc disburse` reads what was paid and sends batch by batch; "
                          "run it with the treasury's key, or propose a transfer")
@cbdc.command("disburse")
@sender_options
@click.argument("payroll", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--payroll", "payroll_id", required=True, metavar="ID",
              help="The payroll's name, e.g. 2026-12-teachers: batch ids derive from it and each batch's rows; a rerun under "
                   "the same id pays only who was not paid under it, and refuses a file that differs from what was paid.")
@click.option("--batch-size", type=click.IntRange(1, 1000), default=200, show_default=True, help="Payments per transaction.")
@click.option("--amount-format", type=click.Choice(["plain", "decimal-comma", "decimal-point"]), default="plain", show_default=True,
              help="plain: 1234.56 only (a comma, space or currency sign is refused as ambiguous); decimal-comma: 1.234,56 or "
                   "1 234,56; decimal-point: 1,234.56.")
@click.option("--skip-ineligible", is_flag=True, help="Skip (and report) a wallet that turned ineligible after the check, instead of reverting its batch.")
@click.option("--yes", is_flag=True, help="Pay without asking (needed without a terminal).")
@click.option("--dry-run", is_flag=True, help="Print the plan (rows, total, largest, batches to pay and paid) and send nothing.")
def cbdc_disburse(target: Target, payroll: Path, payroll_id: str, batch_size: int, amount_format: str, skip_ineligible: bool,
                  yes: bool, dry_run: bool) -> None:
    """Pay a payroll CSV (address,amount in som) from the treasury (role TREASURY), in once-only
    batches: the plan is printed and confirmed first; a rerun under the same --payroll id pays
    only the recipients not yet paid under it."""
    from somstack.ops.cbdc import Cbdc, disburse

    with target.session(confirm=not dry_run) as session:
        token, sender = Cbdc.of_session(session), target.sender(session, "TREASURY")
        plan = _payroll_plan(token, sender.signer.address, payroll, payroll_id, batch_size, amount_format, target)
        for line in plan.lines(token.decimals):
            click.echo(line)
        if dry_run:
            click.echo("dry run: nothing was sent")
            return
        if plan.batches:
            _go_ahead(yes, f"pay {sum(len(b.payments) for b in plan.batches):,} payments in {len(plan.batches):,} batch(es)")
        with click.progressbar(length=plan.rows, label="disbursing", file=sys.stderr) as bar, logs.silenced():
            result = disburse(token, sender, plan, skip_ineligible, progress=bar.update)
        for line in result.lines(token.decimals):
            click.echo(line)


def _payroll_plan(token: Any, treasury: str, payroll: Path, payroll_id: str, batch_size: int, amount_format: str,
                  target: Target) -> Any:
    """The payroll's plan; its refused rows (or the batches paid under the id that the file
    contradicts) listed first, a few of them."""
    from somstack.ops.cbdc import (
        PayrollConflictError,
        PayrollRejectedError,
        plan_payroll,
    )

    try:
        return plan_payroll(token, treasury, payroll, payroll_id, batch_size, amount_format=amount_format,
                            route=target.route)
    except PayrollRejectedError as exc:
        _first_refusals(payroll.name, exc.problems)
        raise
    except PayrollConflictError as exc:
        _first_refusals(payroll.name, exc.problems)
        for b in exc.paid[:20]:
            click.echo(f"{payroll.name}: paid under '{payroll_id}': tx {b.tx} (block {b.block:,}, {len(b.paid):,} payments)", err=True)
        if len(exc.paid) > 20:
            click.echo(f"{payroll.name}: ... and {len(exc.paid) - 20:,} more paid batch(es)", err=True)
        raise


COMMANDS = (cbdc,)
