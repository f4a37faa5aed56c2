"""`somstack relay serve`: a relayer on a session's deployment, served until SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from contextlib import AbstractContextManager, contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Iterator

from somstack.core import logs
from somstack.core.errors import InputError, RpcUnavailableError
from somstack.core.format import parse_units
from somstack.core.session import KeyOptions, Session, session_manifest
from somstack.ops.common import sender_for
from somstack.relay.server import Relay, RelayConfig, default_db, key_digest, tokens_of
from somstack.relay.store import Store

logger = logging.getLogger(__name__)

WAIT_PAUSE = 2.0  # [s] between tries while the chain does not answer at start


@contextmanager
def when_chain_answers(opener: Callable[[], AbstractContextManager[Session]],
                       pause: float = WAIT_PAUSE) -> Iterator[Session]:
    """The session ``opener`` opens, tried again every ``pause`` seconds while the chain does not
    answer (a relayer started before its node, or during an outage, waits for it instead of
    exiting; Ctrl-C stops the wait). Other errors (wrong chain, no deployment) stop at once."""
    waited = 0
    while True:
        manager = opener()
        try:
            session = manager.__enter__()
        except RpcUnavailableError as exc:
            if not waited:
                logger.info(f"the chain does not answer ({str(exc)[:200]}): waiting for it (Ctrl-C to stop)")
            waited += 1
            time.sleep(pause)
            continue
        break
    if waited:
        logger.info(f"the chain answers after {waited} tries: starting")
    try:
        yield session
    except BaseException as exc:
        if not manager.__exit__(type(exc), exc, exc.__traceback__):
            raise
    else:
        manager.__exit__(None, None, None)


def abuse_limits(client_rate: float, client_burst: float, max_connections: int, header_timeout: float,
                 body_timeout: float, api_keys_file: Path | None, lease: float = 10.0) -> dict[str, Any]:
    """The RelayConfig fields of the per-client limits (`relay serve` options); the API keys
    are kept as sha256 digests only."""
    keys: frozenset[str] = frozenset()
    if api_keys_file is not None:
        lines = [line.strip() for line in api_keys_file.read_text().splitlines()]
        found = [line for line in lines if line and not line.startswith("#")]
        short = [n for n, k in enumerate(found, 1) if len(k) < 16]
        if short:
            raise InputError(f"--api-keys-file: key {short[0]} is shorter than 16 characters (guessable)")
        keys = frozenset(key_digest(k) for k in found)
    return {"client_rate": client_rate, "client_burst": client_burst, "max_connections": max_connections,
            "header_timeout": header_timeout, "body_timeout": body_timeout, "api_keys": keys, "lease": lease}


def relay_of_session(session: Session, keys: KeyOptions, from_index: int | None, db: str | Path | None,
                     config: RelayConfig, fee: str | None = None) -> Relay:
    """The relayer of the session's deployment; the relayer key is the sending key of the key
    options (:func:`somstack.ops.common.sender_for`, as every sending command)."""
    sender = sender_for(session, None, from_index, keys)
    tokens = tokens_of(session.w3, session_manifest(session), session.artifacts)
    if fee:
        config = RelayConfig(**{**config.__dict__, "fee": {t.contract.address: parse_units(fee, t.decimals, "--fee") for t in tokens}})
    store = open_store(db or default_db(session.settings.root, session.w3.eth.chain_id), sender.signer.address, config.lease)
    relay = Relay(sender, tokens, store, session.sender.decoder, config)
    manifest = session_manifest(session)
    if "RedemptionQueue" in manifest.contracts:
        relay.queue = session.w3.to_checksum_address(manifest.address("RedemptionQueue"))
    return relay


def serve(session: Session, keys: KeyOptions, from_index: int | None, host: str, port: int, db: str | Path | None,
          fee: str | None, min_balance: str, sender_rate: float, sender_burst: float, global_rate: float,
          global_burst: float, max_body: int, min_validity: int, replace_after: float,
          limits: dict[str, Any] | None = None) -> None:
    logs.use_format("somstack.relay", "%(asctime)s relay %(levelname)s %(message)s")  # the service log: time and level
    config = RelayConfig(max_body=max_body, sender_rate=sender_rate, sender_burst=sender_burst, global_rate=global_rate,
                         global_burst=global_burst, min_balance=parse_units(min_balance, 18, "--min-balance"),
                         margin=min_validity, replace_after=replace_after)
    config = replace(config, **(limits or {}))
    relay = relay_of_session(session, keys, from_index, db, config, fee)
    logger.info(f"relayer {relay.relayer} on {session.network.name} (chain {relay.chain_id}), store {relay.store.path}, "
        f"tokens: {', '.join(f'{t.key} {a}' for a, t in relay.tokens.items())}")

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await relay.serve(host, port, lambda bound: logger.info(f"listening on http://{host}:{bound}"), stop)

    try:
        asyncio.run(main())
    finally:
        relay.store.close()
    logger.info("relayer stopped; pending transfers resume at the next start")


def open_store(db: Any, owner: str, lease: float = 10.0) -> Any:
    """The store ``db`` names: a ``postgresql://`` URL (shared by several instances, see
    :mod:`somstack.relay.pgstore`) or a SQLite file (one instance)."""
    from somstack.relay.pgstore import (  # psycopg only for PostgreSQL
        PgStore,
        is_postgres,
    )
    return PgStore(str(db), owner, lease) if is_postgres(db) else Store(Path(db))
