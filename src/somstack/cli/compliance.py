"""`somstack compliance ...`: sanctions applied to every token at once (somstack.ops.compliance,
somstack.ops.sanctions); :func:`sanction` serves `block`, `unblock` and `monitor case propose-block`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from somstack.cli.common import (
    Target,
    _first_refusals,
    _go_ahead,
    _info,
    operator,
    sender_options,
)
from somstack.core import logs
from somstack.core.errors import SomstackError


@click.group()
def compliance() -> None:
    """Sanctions applied to every SomStack token at once (KGST and the digital som)."""


def sanction(target: Target, address: str, block: bool, reason: str) -> None:
    """Blocks (or unblocks) ``address`` on every token by the target's route (role COMPLIANCE),
    printing each token's outcome; raises when a token was not updated."""
    from somstack.ops.compliance import apply_sanction

    with target.session() as session:
        outcomes = apply_sanction(session, target.sender(session, "COMPLIANCE"), address, block, reason)
    for outcome in outcomes:
        click.echo(str(outcome))
    failed = [o for o in outcomes if not o.ok]
    if failed:
        raise SomstackError(f"{len(failed)} of {len(outcomes)} token(s) not updated (see above); run the command again once fixed")


@operator
@compliance.command("block")
@sender_options
@click.argument("address")
@click.option("--reason", required=True, help="The sanctions record: a 0x bytes32 hash, or a reference text (hashed).")
def compliance_block(target: Target, address: str, reason: str) -> None:
    """Block an address on every token (role COMPLIANCE), reporting each."""
    sanction(target, address, True, reason)


@operator
@compliance.command("unblock")
@sender_options
@click.argument("address")
def compliance_unblock(target: Target, address: str) -> None:
    """Unblock an address on every token (role COMPLIANCE), reporting each."""
    sanction(target, address, False, "")


@operator
@compliance.command("import")
@sender_options
@click.argument("sanctions_list", metavar="LIST.csv", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--sync", is_flag=True, help="Also unblock every address blocked on a token but absent from the list.")
@click.option("--batch-size", type=click.IntRange(1, 250), default=100, show_default=True,
              help="Accounts per transaction (one AccessManager multicall; 250 stays under BSC's gas cap per transaction).")
@click.option("--dry-run", is_flag=True, help="Print what each token would get, address by address; send nothing.")
@click.option("--yes", is_flag=True, help="Apply without asking (needed without a terminal).")
def compliance_import(target: Target, sanctions_list: Path, sync: bool, batch_size: int, dry_run: bool, yes: bool) -> None:
    """Apply a sanctions list (CSV: address,reason[,source]; reason a 0x bytes32 or a reference
    text, hashed) to every token (role COMPLIANCE): validated whole first, then blocked in
    batches; prints per token what was added, already present and, with --sync, removed. A rerun
    sends only what is missing."""
    from somstack.ops.sanctions import Blocklists, plan_import

    listings = _listings(sanctions_list)
    # A dry run sends nothing: no mainnet confirmation for it.
    with target.session(confirm=not dry_run) as session:
        lists = Blocklists.of_session(session)
        sender = target.sender(session, "COMPLIANCE")
        if not dry_run:
            from somstack.core.session import session_manifest
            from somstack.ops.reasons import remember

            remember(session_manifest(session).path, {x.reason: x.reason_text for x in listings})
        lists.require_roles(sender.signer.address, sync, target.route)
        plans = plan_import(lists, listings, sync)
        work = sum(p.work for p in plans)
        _info(f"{sanctions_list.name}: {len(listings):,} addresses valid; {work:,} change(s) on {len(plans)} token(s)")
        if dry_run:
            from somstack.ops.sanctions import format_plan

            for line in format_plan(plans, sync, batch_size):
                click.echo(line)
            return
        if work:
            # Under a governance route the command is explicit already (and a proposal sends nothing).
            _go_ahead(yes or target.route is not None, f"apply {work:,} change(s) to {len(plans)} token(s)")
        results = _apply(lists, sender, plans, sync, batch_size, work)
    for result in results:
        click.echo(str(result))
    failed = [r for r in results if not r.ok]
    if failed:
        raise SomstackError(f"{len(failed)} of {len(results)} token(s) not fully updated (see above); run the command again once fixed")


def _listings(path: Path) -> list[Any]:
    """The sanctions list, validated whole; its first refused rows on stderr when it is not."""
    from somstack.ops.sanctions import SanctionsListRejectedError, read_list

    try:
        return read_list(path)
    except SanctionsListRejectedError as exc:
        _first_refusals(path.name, exc.problems)
        raise


def _apply(lists: Any, sender: Any, plans: list[Any], sync: bool, batch_size: int, work: int) -> list[Any]:
    """Sends the plans (a progress bar on stderr when there is work)."""
    from somstack.ops.sanctions import apply_plan

    if not work:
        return apply_plan(lists, sender, plans, sync, batch_size)
    with click.progressbar(length=work, label="applying", file=sys.stderr) as bar, logs.silenced():
        return apply_plan(lists, sender, plans, sync, batch_size, progress=bar.update)


COMMANDS = (compliance,)
