"""`somstack redeem ...`: KGST's redemption queue, thin wrappers over somstack.ops.redemption."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import click

from somstack.cli.common import (
    Target,
    _echo_json,
    json_option,
    network_options,
    operator,
    sender_options,
)
from somstack.core.errors import SomstackError


@click.group()
def redeem() -> None:
    """KGST's on-chain redemption queue: requests, the desk's payments and rejections, the bank's
    payout files."""


@contextmanager
def _queue(target: Target, role: str | None = None, confirm: bool = True) -> Iterator[tuple[Any, Any]]:
    """The queue of the target's deployment, and (for a sending command) the sender for ``role``."""
    from somstack.ops.redemption import Queue

    with target.session(confirm) as session:
        yield Queue.of_session(session), (target.sender(session, role) if target.keys is not None else None)


@redeem.command("request")
@sender_options
@click.argument("amount")
@click.option("--payout", required=True, help="The payout record: a 0x bytes32 salted hash of the bank details (never the details), or a reference text (hashed).")
def redeem_request(target: Target, amount: str, payout: str) -> None:
    """Redeem AMOUNT KGST of the signer's balance (approves the queue if needed, then requests)."""
    from somstack.ops.redemption import request

    with _queue(target) as (queue, sender):
        for sent in request(queue, sender, amount, payout):
            click.echo(str(sent))


@redeem.command("list")
@network_options
@click.option("--status", type=click.Choice(["pending", "paid", "rejected", "cancelled", "seized"]), help="Only requests in this state.")
@json_option
def redeem_list(target: Target, status: str | None, as_json: bool) -> None:
    """The queue's requests: holder, amount, status, deadline."""
    from somstack.ops.redemption import list_lines, read_requests

    with _queue(target) as (queue, _sender):
        requests = read_requests(queue, status)
        if as_json:
            return _echo_json(requests)
        for line in list_lines(queue, status, requests):
            click.echo(line)


@operator
@redeem.command("pay")
@sender_options
@click.argument("request_id", type=click.IntRange(min=1))
@click.option("--bank-ref", required=True, help="The bank's payout reference: a 0x bytes32, or its reference text (hashed).")
def redeem_pay(target: Target, request_id: int, bank_ref: str) -> None:
    """Mark REQUEST_ID paid in fiat (role REDEEMER): its escrow is burned."""
    from somstack.ops.redemption import pay

    with _queue(target, "REDEEMER") as (queue, sender):
        click.echo(str(pay(queue, sender, request_id, bank_ref)))


@operator
@redeem.command("reject")
@sender_options
@click.argument("request_id", type=click.IntRange(min=1))
@click.option("--reason", type=int, required=True, help="1 bank details invalid, 2 KYC/AML check failed, 3 bank account closed, 4 duplicate request, 9 other.")
def redeem_reject(target: Target, request_id: int, reason: int) -> None:
    """Refuse REQUEST_ID with a reason code (role REDEEMER): its escrow goes back to the holder."""
    from somstack.ops.redemption import reject

    with _queue(target, "REDEEMER") as (queue, sender):
        click.echo(str(reject(queue, sender, request_id, reason)))


@redeem.command("cancel")
@sender_options
@click.argument("request_id", type=click.IntRange(min=1))
def redeem_cancel(target: Target, request_id: int) -> None:
    """Cancel the signer's own REQUEST_ID once past its deadline unpaid (a breach): the escrow comes back."""
    from somstack.ops.redemption import cancel

    with _queue(target) as (queue, sender):
        click.echo(str(cancel(queue, sender, request_id)))


@redeem.command("export")
@network_options
@click.option("--status", default="pending", show_default=True, help="Requests in this state.")
@click.option("--out", "out_file", type=click.Path(dir_okay=False, path_type=Path), required=True, help="CSV to write (request_id,holder,amount,payout_ref,requested_at,deadline).")
def redeem_export(target: Target, status: str, out_file: Path) -> None:
    """Write the requests of --status as CSV for the bank's payout run."""
    from somstack.ops.redemption import export

    with _queue(target) as (queue, _sender):
        count = export(queue, status, out_file)
    click.echo(f"{out_file}: {count:,} {status} request(s)")


@operator
@redeem.command("settle")
@sender_options
@click.argument("confirmations", metavar="PAYOUTS-DONE.csv", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--batch-size", type=click.IntRange(1, 200), default=100, show_default=True, help="Payments per transaction.")
@click.option("--dry-run", is_flag=True, help="Check the file and print the plan; send nothing.")
@click.option("--yes", is_flag=True, help="Send without asking (needed when not on a terminal).")
def redeem_settle(target: Target, confirmations: Path, batch_size: int, dry_run: bool, yes: bool) -> None:
    """Mark paid the requests the bank confirmed (CSV: request_id,bank_ref[,amount]; role REDEEMER),
    in batches. The whole file is checked first: any bad row is refused with its line number and
    nothing is sent. A rerun pays nothing twice (requests already paid under the same reference
    are skipped)."""
    from somstack.ops.redemption import plan_settlement, settle

    with _queue(target, "REDEEMER", confirm=not dry_run) as (queue, sender):
        plan = plan_settlement(queue, confirmations)
        for line in plan.lines(queue):
            click.echo(line)
        if dry_run or not plan.to_pay:
            click.echo("nothing sent" + (" (dry run)" if dry_run else ""))
            return
        if not yes:
            if not sys.stdin.isatty():
                raise SomstackError("not on a terminal: pass --yes to send (or --dry-run to check only); nothing was sent")
            if not click.confirm(f"pay {len(plan.to_pay):,} request(s)?", default=False):
                raise SomstackError("not confirmed; nothing was sent")
        for sent in settle(queue, sender, plan, batch_size):
            click.echo(str(sent))


COMMANDS = (redeem,)
