"""`somstack relay serve`: a relayer on a session's deployment, served until SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal
from pathlib import Path
from typing import Callable

from ..ops import parse_units, sender_for, session_manifest
from ..session import KeyOptions, Session
from .server import Relay, RelayConfig, default_db, tokens_of
from .store import Store


def relay_of_session(session: Session, keys: KeyOptions, from_index: int | None, db: Path | None,
                     config: RelayConfig, fee: str | None = None) -> Relay:
    """The relayer of the session's deployment; the relayer key is the sending key of the key
    options (:func:`somstack.ops.sender_for`, as every sending command)."""
    sender = sender_for(session, None, from_index, keys)
    tokens = tokens_of(session.w3, session_manifest(session), session.artifacts)
    if fee:
        config = RelayConfig(**{**config.__dict__, "fee": {t.contract.address: parse_units(fee, t.decimals, "--fee") for t in tokens}})
    store = Store(db or default_db(session.settings.root, session.w3.eth.chain_id))
    relay = Relay(sender, tokens, store, session.sender.decoder, config)
    manifest = session_manifest(session)
    if "RedemptionQueue" in manifest.contracts:
        relay.queue = session.w3.to_checksum_address(manifest.address("RedemptionQueue"))
    return relay


def serve(session: Session, keys: KeyOptions, from_index: int | None, host: str, port: int, db: Path | None,
          fee: str | None, min_balance: str, sender_rate: float, sender_burst: float, global_rate: float,
          global_burst: float, max_body: int, min_validity: int, replace_after: float, log: Callable[[str], None]) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s relay %(levelname)s %(message)s")
    config = RelayConfig(max_body=max_body, sender_rate=sender_rate, sender_burst=sender_burst, global_rate=global_rate,
                         global_burst=global_burst, min_balance=parse_units(min_balance, 18, "--min-balance"),
                         margin=min_validity, replace_after=replace_after)
    relay = relay_of_session(session, keys, from_index, db, config, fee)
    log(f"relayer {relay.relayer} on {session.network.name} (chain {relay.chain_id}), store {relay.store.path}, "
        f"tokens: {', '.join(f'{t.key} {a}' for a, t in relay.tokens.items())}")

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await relay.serve(host, port, lambda bound: log(f"listening on http://{host}:{bound}"), stop)

    try:
        asyncio.run(main())
    finally:
        relay.store.close()
    log("relayer stopped; pending transfers resume at the next start")
