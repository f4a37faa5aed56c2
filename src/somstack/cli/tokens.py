"""Token operations: `somstack mint`, `burn`, `pause`, `unpause`, `block`, `unblock`, `minter`,
`seize` and `rescue`, thin wrappers over somstack.ops.tokens (each checks the caller's role first)."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

import click

from somstack.cli.common import (
    Target,
    _echo_json,
    json_option,
    network_options,
    operator,
    sender_options,
    token_option,
)
from somstack.cli.compliance import compliance_block, compliance_unblock

_ISSUER_OF = {"kgst": "MINTER", "som": "ISSUER"}
_BURNER_OF = {"kgst": "BURNER", "som": "ISSUER"}


@contextmanager
def _tokens(target: Target, which: str, role: str) -> Iterator[tuple[Any, Any]]:
    """The token(s) of ``which`` (``all``: a list of every deployed one) and the sender for ``role``."""
    from somstack.ops.tokens import Token, tokens_of

    with target.session() as session:
        tokens = tokens_of(session, which) if which == "all" else Token.of_session(session, which)
        yield tokens, target.sender(session, role)


@operator
@click.command("mint", context_settings={"ignore_unknown_options": True})
@sender_options
@token_option()
@click.argument("to")
@click.argument("amount")
@click.option("--ref", required=True, help="The fiat deposit (KGST) or issuance record: a 0x bytes32, or its reference text (hashed).")
def op_mint(target: Target, which: str, to: str, amount: str, ref: str) -> None:
    """Mint AMOUNT (whole tokens) to TO (KGST: role MINTER, within its allowance and the reserve's coverage; digital som: ISSUER)."""
    from somstack.ops.tokens import mint

    with _tokens(target, which, _ISSUER_OF[which]) as (token, sender):
        click.echo(str(mint(token, sender, to, amount, ref)))


@operator
@click.command("burn", context_settings={"ignore_unknown_options": True})
@sender_options
@token_option()
@click.argument("amount")
@click.option("--ref", required=True, help="The redemption payout record: a 0x bytes32, or its reference text (hashed).")
def op_burn(target: Target, which: str, amount: str, ref: str) -> None:
    """Burn AMOUNT of the signer's own balance (KGST: role BURNER; digital som: ISSUER)."""
    from somstack.ops.tokens import burn

    with _tokens(target, which, _BURNER_OF[which]) as (token, sender):
        click.echo(str(burn(token, sender, amount, ref)))


def _pause(target: Target, pause: bool, which: str, what: tuple[str, ...]) -> None:
    from somstack.ops.tokens import parse_pause_flags, set_paused

    flags = parse_pause_flags(what or ("all",))
    with _tokens(target, which, "PAUSER" if pause else "UNPAUSER") as (tokens, sender):
        for line in set_paused(tokens if isinstance(tokens, list) else [tokens], sender, flags, pause):
            click.echo(line)


@operator
@click.command("pause")
@sender_options
@token_option("all", everything=True)
@click.option("--what", multiple=True, help="transfers, mint, redeem or all (default all); repeat or comma-separate.")
def op_pause(target: Target, which: str, what: tuple[str, ...]) -> None:
    """Pause transfers, minting and/or redemption (role PAUSER)."""
    _pause(target, True, which, what)


@operator
@click.command("unpause")
@sender_options
@token_option("all", everything=True)
@click.option("--what", multiple=True, help="transfers, mint, redeem or all (default all); repeat or comma-separate.")
def op_unpause(target: Target, which: str, what: tuple[str, ...]) -> None:
    """Lift a pause (role UNPAUSER)."""
    _pause(target, False, which, what)


@click.group()
def minter() -> None:
    """KGST minter allowances (role MINTER_ADMIN)."""


@operator
@minter.command("set")
@sender_options
@click.argument("address")
@click.option("--allowance", required=True, help="Whole KGST the minter may still mint; 0 removes the minter.")
def minter_set(target: Target, address: str, allowance: str) -> None:
    """Set the allowance of minter ADDRESS."""
    from somstack.ops.tokens import set_minter

    with _tokens(target, "kgst", "MINTER_ADMIN") as (token, sender):
        click.echo(str(set_minter(token, sender, address, allowance)))


@click.group()
def seize() -> None:
    """Seizure of a blocked balance, maker-checker: COMPLIANCE proposes, SEIZE_APPROVER executes or rejects."""


@operator
@seize.command("propose")
@sender_options
@token_option()
@click.argument("account")
@click.option("--to", "recovery", required=True, help="The recovery wallet that receives the seized tokens.")
@click.option("--amount", required=True, help="Whole tokens to seize.")
@click.option("--case", required=True, help="The court or case reference: a 0x bytes32, or its text (hashed).")
@click.option("--evidence", help="The evidence bundle's hash (0x bytes32) or reference text (hashed).")
def seize_propose(target: Target, which: str, account: str, recovery: str, amount: str, case: str, evidence: str | None) -> None:
    """Propose seizing AMOUNT of the blocked ACCOUNT (role COMPLIANCE)."""
    from somstack.ops.tokens import propose_seizure

    with _tokens(target, which, "COMPLIANCE") as (token, sender):
        sent, seizure_id = propose_seizure(token, sender, account, recovery, amount, case, evidence)
    click.echo(str(sent))
    if seizure_id is not None:
        click.echo(f"seizure id {seizure_id}: another officer with SEIZE_APPROVER runs `somstack seize execute {seizure_id}`")


def _decide(target: Target, approve: bool, which: str, seizure_id: int) -> None:
    from somstack.ops.tokens import decide_seizure

    with _tokens(target, which, "SEIZE_APPROVER") as (token, sender):
        click.echo(str(decide_seizure(token, sender, seizure_id, approve)))


@operator
@seize.command("execute")
@sender_options
@token_option()
@click.argument("seizure_id", type=click.IntRange(min=1))
def seize_execute(target: Target, which: str, seizure_id: int) -> None:
    """Execute a proposed seizure (role SEIZE_APPROVER; not its proposer)."""
    _decide(target, True, which, seizure_id)


@operator
@seize.command("reject")
@sender_options
@token_option()
@click.argument("seizure_id", type=click.IntRange(min=1))
def seize_reject(target: Target, which: str, seizure_id: int) -> None:
    """Reject a proposed seizure (role SEIZE_APPROVER)."""
    _decide(target, False, which, seizure_id)


@seize.command("show")
@network_options
@token_option()
@click.argument("seizure_id", type=click.IntRange(min=1))
@json_option
def seize_show(target: Target, which: str, seizure_id: int, as_json: bool) -> None:
    """Show a seizure: account, recovery, amount, case, proposer and status."""
    from somstack.ops.tokens import Token, format_seizure, read_seizure

    with target.session() as session:
        token = Token.of_session(session, which)
        seizure = read_seizure(token, seizure_id)
        if as_json:
            return _echo_json(seizure)
        for line in format_seizure(seizure, token):
            click.echo(line)


@operator
@click.command("rescue", context_settings={"ignore_unknown_options": True})
@sender_options
@token_option()
@click.argument("asset")
@click.argument("amount")
@click.option("--to", required=True, help="Who gets the tokens back.")
def op_rescue(target: Target, which: str, asset: str, amount: str, to: str) -> None:
    """Return AMOUNT of the BEP-20 ASSET sent to the token contract by mistake (role RESCUER)."""
    from somstack.ops.tokens import rescue

    with _tokens(target, which, "RESCUER") as (token, sender):
        click.echo(str(rescue(token, sender, asset, to, amount)))


# `somstack block|unblock` are `compliance block|unblock` themselves, at the top level as well
COMMANDS = (op_mint, op_burn, op_pause, op_unpause, compliance_block, compliance_unblock, minter, seize, op_rescue)
