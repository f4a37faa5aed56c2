"""`somstack governance propose|schedule|execute COMMAND...`: an operator command run under a
governance route (somstack.system.routes): a Safe proposal, or an AccessManager delayed operation.

The route is put on the click context (:class:`~somstack.cli.common.State`) and the operator
command runs as a child of the governance command's context; its :class:`~somstack.cli.common.Target`
hands the route to ``sender_for``. The commands it may run are those marked
:func:`~somstack.cli.common.operator` (and the groups holding them)."""

from __future__ import annotations

import time
from pathlib import Path

import click

from somstack.cli.common import State, is_operator
from somstack.core.errors import SomstackError
from somstack.system.routes import Route, write_batch


@click.group()
def governance() -> None:
    """Run any operator command as a Safe proposal, or as an AccessManager delayed operation."""


_NESTED = {"ignore_unknown_options": True, "allow_interspersed_args": False, "help_option_names": ["-h", "--help"]}


def operator_commands(root: click.Group) -> dict[str, click.Command]:
    """The root group's commands a governance route may run: each marked operator command, and
    each group that holds one."""
    return {name: command for name, command in root.commands.items() if is_operator(command)}


def run_operator(ctx: click.Context, command: tuple[str, ...], route: Route) -> None:
    """Runs the operator ``command`` (its name and arguments) under ``route``, as a child of ``ctx``."""
    if not command:
        raise click.UsageError("name the operator command to run, e.g. `minter set 0x... --allowance 1000`")
    root: click.Group = ctx.find_root().command  # type: ignore[assignment]
    state = ctx.ensure_object(State)
    if root.commands.get(command[0]) is governance or state.route is not None:
        raise click.UsageError("a governance command cannot run another governance command")
    wrappable = operator_commands(root)
    name, args = command[0], list(command[1:])
    if name not in wrappable:
        raise click.UsageError(f"`{name}` is not an operator command (those are: {', '.join(sorted(wrappable))})")
    wrapped = wrappable[name]
    state.route = route
    try:
        with wrapped.make_context(name, args, parent=ctx) as sub:
            wrapped.invoke(sub)
    finally:
        state.route = None


def write_proposal(route: Route, out: Path | None, name: str, append: bool) -> None:
    """Writes the calls a ``propose`` route collected as a Safe Transaction Builder batch."""
    if not route.calls or route.chain_id is None:
        raise SomstackError("the command needs no transaction (the chain is already as asked): nothing to propose")
    path = out or Path("proposals") / f"{route.chain_id}-{time.strftime('%Y%m%dT%H%M%S')}.json"
    batch = write_batch(path, route.chain_id, route, name, append=append)
    click.echo(f"wrote {path}: {len(route.calls)} transaction(s) added, {len(batch['transactions'])} in the batch, "
               f"for the Safe {route.safe} on chain {route.chain_id}; import it in Safe{{Wallet}} > Transaction Builder")


@governance.command("propose", context_settings=_NESTED)
@click.option("--safe", envvar="SOMSTACK_GOVERNANCE", required=True, help="The Safe that will send the batch (default: SOMSTACK_GOVERNANCE).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="The batch file (default: proposals/<chain>-<time>.json).")
@click.option("--append", is_flag=True, help="Add the transactions to the batch in --out.")
@click.option("--name", default="SomStack", show_default=True, help="The batch's name in the Safe app.")
@click.option("--via", type=click.Choice(["auto", "direct", "schedule", "execute"]), default="auto", show_default=True,
              help="How each call reaches its target: auto schedules through the AccessManager when the Safe's role has a delay, and executes once due.")
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def governance_propose(ctx: click.Context, safe: str, out: Path | None, append: bool, name: str, via: str, command: tuple[str, ...]) -> None:
    """Write the transactions of COMMAND (any operator command, with its options) as a Safe
    Transaction Builder batch for the Safe to sign; each is simulated from the Safe first and
    nothing is sent. Example: `somstack governance propose --safe 0x... minter set 0x... --allowance 1000000`."""
    from somstack.core.format import parse_address

    route = Route("propose", safe=parse_address(safe, "--safe"), via=via)
    run_operator(ctx, command, route)
    write_proposal(route, out, name, append)


@governance.command("schedule", context_settings=_NESTED)
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def governance_schedule(ctx: click.Context, command: tuple[str, ...]) -> None:
    """Send each call of COMMAND as AccessManager.schedule, for a role with an execution delay;
    prints when each becomes executable. Example: `somstack governance schedule reserve withdraw --asset BNB --amount 10 --to 0x...`."""
    run_operator(ctx, command, Route("schedule"))


@governance.command("execute", context_settings=_NESTED)
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def governance_execute(ctx: click.Context, command: tuple[str, ...]) -> None:
    """Send each call of COMMAND as AccessManager.execute, once its schedule is due (the same
    command, with the same arguments, as was scheduled)."""
    run_operator(ctx, command, Route("execute"))


COMMANDS = (governance,)
