"""`somstack relay ...`: the remittance relayer (somstack.relay): serve it, or send through it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from somstack.cli.common import (
    Target,
    _hsm,
    _remember,
    hsm_options,
    into,
    sender_options,
    token_option,
)


@click.group()
def relay() -> None:
    """The remittance relayer: relays signed EIP-3009 transfers and pays their gas, so that
    senders need no BNB."""


@dataclass(frozen=True)
class Listen:
    """Where the relayer listens and keeps its transfers."""

    host: str
    port: int
    db: str | None


@dataclass(frozen=True)
class Fees:
    """What a transfer costs its sender, and the relayer balance below which it stops taking them."""

    fee: str | None
    min_balance: str


@dataclass(frozen=True)
class Budgets:
    """Per-sender and global rates, the request size, and the timing of authorizations and
    replacements (somstack.relay.server.RelayConfig)."""

    sender_rate: float
    sender_burst: float
    global_rate: float
    global_burst: float
    max_body: int
    min_validity: int
    replace_after: float


@dataclass(frozen=True)
class ClientLimits:
    """Per-client budgets, connections and timeouts, API keys, and the PostgreSQL lease
    (somstack.relay.run.abuse_limits)."""

    client_rate: float
    client_burst: float
    max_connections: int
    header_timeout: float
    body_timeout: float
    api_keys_file: Path | None
    lease: float


@relay.command("serve")
@sender_options
@into(Listen, "listen")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8645, show_default=True, help="Port to listen on (0: any free port).")
@click.option("--db", metavar="FILE|URL", envvar="SOMSTACK_RELAY_DB", help="SQLite file of the relayer (default build/relay/<chain id>.sqlite), or a postgresql:// URL shared by several instances (each with its own key); env SOMSTACK_RELAY_DB keeps a password off the command line.")
@into(Fees, "fees")
@click.option("--fee", metavar="AMOUNT", help="Fee in whole tokens, taken as a second authorization to the relayer (default: sponsored).")
@click.option("--min-balance", default="0.01", show_default=True, metavar="BNB", help="Refuse new transfers (503) below this relayer balance.")
@into(Budgets, "budgets")
@click.option("--sender-rate", type=click.FloatRange(min=0.001), default=1.0, show_default=True, help="Requests per second per sender (token bucket).")
@click.option("--sender-burst", type=click.FloatRange(min=1), default=20.0, show_default=True, help="Burst per sender.")
@click.option("--global-rate", type=click.FloatRange(min=0.001), default=200.0, show_default=True, help="Requests per second in all.")
@click.option("--global-burst", type=click.FloatRange(min=1), default=1000.0, show_default=True, help="Burst in all.")
@click.option("--max-body", type=click.IntRange(min=256), default=16 * 1024, show_default=True, help="Largest request body [bytes] (413 above).")
@click.option("--min-validity", type=click.IntRange(min=0), default=30, show_default=True, help="Seconds an authorization must stay valid to be accepted.")
@click.option("--replace-after", type=click.FloatRange(min=0.1), default=60.0, show_default=True, help="Seconds before an unmined transaction is replaced with a higher fee.")
@into(ClientLimits, "clients")
@click.option("--client-rate", type=click.FloatRange(min=0.001), default=50.0, show_default=True, help="Requests per second per client (IP address, or API key), spent before anything else.")
@click.option("--client-burst", type=click.FloatRange(min=1), default=200.0, show_default=True, help="Burst per client.")
@click.option("--max-connections", type=click.IntRange(min=1), default=64, show_default=True, help="Connections one IP address may hold at once.")
@click.option("--header-timeout", type=click.FloatRange(min=0.1), default=10.0, show_default=True, help="Seconds for a request's headers to arrive (slow clients are cut).")
@click.option("--body-timeout", type=click.FloatRange(min=0.1), default=10.0, show_default=True, help="Seconds for a request's body to arrive (408).")
@click.option("--api-keys-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="API keys you issue, one a line: a client sending one in X-API-Key gets a budget of its own.")
@click.option("--lease", type=click.FloatRange(min=1), default=10.0, show_default=True, help="PostgreSQL store: seconds after which a silent instance's pending transfers are taken over.")
def relay_serve(target: Target, listen: Listen, fees: Fees, budgets: Budgets, clients: ClientLimits) -> None:
    """Serve the relayer's HTTP API (POST /v1/transfers, GET /v1/transfers/{id}, /healthz,
    /metrics, /openapi.json) until Ctrl-C; the relayer key signs (key options, as every sending
    command; on a dev chain without them, a node account)."""
    from somstack.relay.run import abuse_limits, serve, when_chain_answers

    limits = abuse_limits(clients.client_rate, clients.client_burst, clients.max_connections, clients.header_timeout,
                          clients.body_timeout, clients.api_keys_file, clients.lease)
    with when_chain_answers(target.session) as session:
        serve(session, target.keys, target.from_index, listen.host, listen.port, listen.db, fees.fee, fees.min_balance,  # type: ignore[arg-type]
              budgets.sender_rate, budgets.sender_burst, budgets.global_rate, budgets.global_burst, budgets.max_body,
              budgets.min_validity, budgets.replace_after, limits=limits)


@relay.command("send")
@click.option("--from-key", "from_key", metavar="VAR", help="Environment variable holding the sender's key (never printed); or --hsm-key.")
@click.option("--to", "to", help="Recipient address (not with --redeem).")
@click.option("--amount", required=True, help="Amount in whole tokens (e.g. 12.5).")
@click.option("--redeem", is_flag=True, help="A KGST redemption request to the redemption queue instead of a transfer (needs --payout).")
@click.option("--payout", help="--redeem: the payout record, a 0x bytes32 salted hash of the bank details, or a reference text (hashed).")
@token_option()
@click.option("--url", default="http://127.0.0.1:8645", show_default=True, envvar="SOMSTACK_RELAY_URL", help="The relayer's base URL.")
@click.option("--validity", type=click.IntRange(min=60), default=3600, show_default=True, help="Seconds the authorization stays valid.")
@click.option("--no-wait", is_flag=True, help="Print the id once accepted; do not wait for the transaction.")
@hsm_options
@click.option("--hsm-key", "hsm_key", metavar="LABEL", expose_value=False, callback=_remember, help="Sign with this key of the HSM token instead of --from-key.")
def relay_send(from_key: str | None, to: str | None, amount: str, redeem: bool, payout: str | None, which: str, url: str,
               validity: int, no_wait: bool) -> None:
    """Sign an EIP-3009 transfer (or, with --redeem, a KGST redemption request) locally (or in the
    HSM) and post it to the relayer (the sender needs no BNB)."""
    from somstack.core.accounts import key_from_env
    from somstack.relay.client import RelayClient, RelayRefused, send, send_redemption

    if redeem and (to is not None or payout is None or which != "kgst"):
        raise click.UsageError("--redeem takes --payout and --amount (KGST), not --to")
    if not redeem and (to is None or payout is not None):
        raise click.UsageError("a transfer takes --to (and no --payout); a redemption --redeem --payout")
    hsm = _hsm()
    if (hsm.key is None) == (from_key is None):
        raise click.UsageError("name the sender's key: --from-key VAR or --hsm-key LABEL (one of them)")
    if hsm.key is not None:
        from somstack.core.config import load_settings
        from somstack.core.hsm import account_of

        load_settings()  # .env: SOMSTACK_PKCS11_*
        account: Any = account_of(hsm)
    else:
        account = key_from_env(from_key)  # type: ignore[arg-type]
    if redeem:
        from somstack.core.format import reference

        ref = reference(payout or "", "--payout", "payout record (a salted hash of the bank details)")
        answer = send_redemption(RelayClient(url), account, amount, ref, validity, wait=not no_wait)
    else:
        answer = send(RelayClient(url), account, which, to, amount, validity, wait=not no_wait)  # type: ignore[arg-type]
    click.echo(f"{'redemption' if redeem else 'transfer'} {answer['id']}: {answer['status']}" + (f" (tx {answer['txHash']})" if answer.get("txHash") else ""))
    if answer["status"] == "failed":
        raise RelayRefused(f"transfer {answer['id']} failed: {answer.get('reason')}")



COMMANDS = (relay,)
