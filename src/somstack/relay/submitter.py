"""The one task that sends for the relayer key: it alone picks nonces, so concurrent requests
never make a gap or use a nonce twice.

Each round (in a worker thread, web3 being synchronous):

1. Sends the accepted authorizations, oldest first, each with the next nonce. The transaction's
   hash (known before sending: local signing is deterministic) and nonce are written to the
   store *before* the send, so a crash between the two loses nothing: the restarted relayer
   looks the hash up.
2. Looks up the receipts of everything sent (one JSON-RPC batch): mined ones become
   ``confirmed`` (or ``failed`` with the decoded revert).
3. A transaction unmined after ``replace_after`` seconds is sent again with the same nonce and a
   higher gas price (at least +12.5 %, what nodes require of a replacement); one the node no
   longer knows (dropped, or a chain restarted without its pool) goes back to ``accepted`` and
   the nonce is read again from the chain.

Before an authorization is sent again, ``authorizationState`` is asked: a used nonce is never
paid twice. When the RPC does not answer, the round stops and is tried again after a pause:
submissions wait for the chain and resume.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

from web3 import Web3
from web3.exceptions import ContractCustomError, ContractLogicError

from somstack.core.chain import Sender, _already_known, _nonce_taken, is_transport_error
from somstack.core.errors import RpcUnavailableError, TransactionFailed
from somstack.relay.checks import (
    _AUTHORIZATION_STATE,
    Authorization,
    TokenInfo,
    batch_replies,
    call_data,
    encode,
)
from somstack.relay.store import ACCEPTED, CONFIRMED, FAILED, SUBMITTED, Store, Transfer

log = logging.getLogger("somstack.relay")

REPLACEMENT_BUMP = (9, 8)  # a replacement pays at least 9/8 of the gas price it replaces


@dataclass
class Stats:
    """What the submitter did, for /metrics."""

    submitted: int = 0
    replaced: int = 0
    confirmed: int = 0
    failed: int = 0


def _auth(t: Transfer) -> Authorization:
    return Authorization(token=t.token, kind=t.kind, sender=t.sender, recipient=t.recipient, value=t.value,
                         valid_after=t.valid_after, valid_before=t.valid_before, nonce=bytes.fromhex(t.nonce[2:]),
                         signature=bytes.fromhex(t.signature[2:]))


class Submitter:
    """Sends and confirms the store's authorizations with ``sender`` (a :class:`Sender` whose
    signer is the relayer key: its retry policy and revert decoding are reused)."""

    def __init__(self, sender: Sender, store: Store, tokens: dict[str, TokenInfo], replace_after: float = 60.0,
                 batch: int = 200, on_event: Callable[[str, Transfer], None] | None = None):
        self.sender = sender
        self.w3: Web3 = sender.w3
        self.store = store
        self.tokens = tokens
        self.replace_after = replace_after
        self.batch = batch
        self.stats = Stats()
        self.on_event = on_event
        self.nonce: int | None = None  # the next nonce to use; None: read it from the chain
        self.refusals = 0  # rounds in a row in which the node refused a send (the server backs off)
        self.chain_id: int | None = None
        self.healthy = True
        self._refused = 0  # sends the node refused, in all
        self._recheck = True  # at start: a recorded transaction the node does not know is sent again at once
        self._lock = threading.Lock()  # one round at a time

    @property
    def address(self) -> str:
        return self.sender.signer.address

    def round(self) -> bool:
        """One round; returns whether there is more to do at once. Raises RpcUnavailableError
        (or a transport error) when the chain does not answer."""
        with self._lock:
            try:
                if self.chain_id is None:
                    self.chain_id = int(self.w3.eth.chain_id)
                self._confirm_submitted()
                refused_before = self._refused
                sent = self._send_accepted()
                self.refusals = self.refusals + 1 if self._refused > refused_before else 0
            except BaseException:
                self._recheck = True  # after an outage, transactions the node lost are found at once
                self.nonce = None  # a round cut short (the HSM lost while signing) may have taken nonces it never sent
                raise
            self.healthy = True
            return sent >= self.batch

    # --- Sending ---

    def _next_nonce(self) -> int:
        if self.nonce is None:
            self.nonce = int(self.w3.eth.get_transaction_count(self.address, "pending"))  # type: ignore[arg-type]
        return self.nonce

    def _batch(self, calls: list[tuple[str, list[Any]]]) -> list[dict[str, Any]]:
        """One JSON-RPC batch; the replies in the order of the calls."""
        answers: list[dict[str, Any]] = []
        for start in range(0, len(calls), 500):
            answers += batch_replies(self.w3, calls[start:start + 500])
        return answers

    def _send_accepted(self) -> int:
        todo = self.store.pending(ACCEPTED, self.batch)
        if not todo:
            return 0
        used = self._used(todo)
        gas_price = int(self.w3.eth.gas_price)
        fresh = []
        for transfer, is_used in zip(todo, used):
            if is_used:
                self._settle_used(transfer)
            else:
                fresh.append(transfer)
        account = getattr(self.sender.signer, "account", None)
        if account is None:  # the node signs (a dev chain's account): one by one
            for transfer in fresh:
                self._send(transfer, self._next_nonce(), gas_price)
            return len(todo)
        planned = []
        for transfer in fresh:
            nonce = self._next_nonce()
            self.nonce = nonce + 1
            signed = account.sign_transaction(self._tx(transfer, nonce, gas_price))
            planned.append((transfer, nonce, Web3.to_hex(signed.hash), Web3.to_hex(signed.raw_transaction)))
        # recorded before the send (see the module), in one SQLite transaction
        self.store.mark_many([(t.id, h, n, gas_price) for t, n, h, _ in planned])
        replies = self._batch([("eth_sendRawTransaction", [raw]) for *_, raw in planned])
        for (transfer, nonce, tx_hash, _), reply in zip(planned, replies):
            error = reply.get("error")
            if error is None or _already_known(Exception(str(error))):
                self.stats.submitted += 1
                self._event("submitted", transfer)
                continue
            if _nonce_taken(Exception(str(error))) and self.sender._known(tx_hash):
                continue
            # refused: sent again next round with a nonce read again from the chain
            log.warning("the node refused the transaction of %s (nonce %d): %s", transfer.id, nonce, str(error)[:200])
            self._refused += 1
            self.store.requeue(transfer.id)
            self.nonce = None
        return len(todo)

    def _used(self, transfers: list[Transfer]) -> list[bool]:
        calls = [("eth_call", [{"to": t.token, "data": encode(_AUTHORIZATION_STATE, ["address", "bytes32"],
                                                               [t.sender, bytes.fromhex(t.nonce[2:])])}, "latest"])
                 for t in transfers]
        replies = self._batch(calls)
        if any("error" in r for r in replies):
            raise RpcUnavailableError("the RPC refused a read of authorizationState")
        return [bool(int(r["result"], 16)) for r in replies]

    def _tx(self, transfer: Transfer, nonce: int, gas_price: int) -> dict[str, Any]:
        auth = _auth(transfer)
        return {"from": self.address, "to": auth.target, "data": call_data(auth), "value": 0,
                "gas": transfer.gas * 12 // 10 + 10_000, "gasPrice": gas_price, "nonce": nonce, "chainId": self.chain_id}

    def _send(self, transfer: Transfer, nonce: int, gas_price: int) -> None:
        """One send through the signer (a node account, whose hash is known only after it)."""
        tx = self._tx(transfer, nonce, gas_price)
        try:
            tx_hash = Web3.to_hex(self.sender.signer.send(self.w3, tx))
        except Exception as exc:
            if is_transport_error(exc) or isinstance(exc, RpcUnavailableError):
                raise
            self.store.requeue(transfer.id)
            self.nonce = None
            self._refused += 1
            log.warning("the node refused the transaction of %s (nonce %d): %s", transfer.id, nonce, str(exc)[:200])
            return
        self.store.mark_submitted(transfer.id, tx_hash, nonce, gas_price)
        self.nonce = nonce + 1
        self.stats.submitted += 1
        self._event("submitted", transfer)

    # --- Confirming ---

    def _confirm_submitted(self) -> None:
        sent = self.store.pending(SUBMITTED)
        if not sent:
            return
        hashes = [h for t in sent for h in t.tx_hashes]
        receipts = dict(zip(hashes, self._receipts(hashes)))
        now = time.time()
        dropped = False
        confirmed: list[tuple[Transfer, str]] = []
        for transfer in sent:
            found = [receipts[h] for h in transfer.tx_hashes if receipts.get(h)]
            # of two mined (an adopted transfer sent from two keys), the successful one settles it
            mined = next((r for r in found if int(r["status"], 16) == 1), found[0] if found else None)
            if mined is not None and int(mined["status"], 16) == 1:
                confirmed.append((transfer, mined["transactionHash"]))
                continue
            if mined is not None:
                self._settle(transfer, mined)
                continue
            due = now - (transfer.submitted_at or now) >= self.replace_after * len(transfer.tx_hashes)
            if not due and not self._recheck:
                continue
            adopted = transfer.sent_by is not None and transfer.sent_by != self.address
            if adopted and due:
                # sent by an instance that stopped (PostgreSQL store): its key's nonce is not ours
                # to replace; sent again from ours once its used-check says it is still unused
                self.store.requeue(transfer.id)
                log.warning("transaction of %s (sent by %s, adopted) unmined: sent again from %s", transfer.id,
                            transfer.sent_by, self.address)
            elif any(self.sender._known(h) for h in transfer.tx_hashes):
                if due and not adopted:
                    self._replace(transfer)
            else:
                dropped = True
                self.store.requeue(transfer.id)
                log.warning("transaction of %s was dropped by the node: sent again after a check of its nonce", transfer.id)
        self._recheck = False
        if dropped:
            self.nonce = None
        # one commit for the round's confirmations (one each waited for the disk every time); a
        # crash before it leaves them submitted, and the next round finds the same receipts
        self.store.finish_many([(t.id, CONFIRMED, tx_hash) for t, tx_hash in confirmed])
        for transfer, _ in confirmed:
            self.stats.confirmed += 1
            self._event("confirmed", transfer)

    def _receipts(self, hashes: list[str]) -> list[dict[str, Any] | None]:
        return [r.get("result") for r in self._batch([("eth_getTransactionReceipt", [h]) for h in hashes])]

    def _settle(self, transfer: Transfer, receipt: dict[str, Any]) -> None:
        tx_hash = receipt["transactionHash"]
        if int(receipt["status"], 16) == 1:
            self.store.finish(transfer.id, CONFIRMED, tx_hash)
            self.stats.confirmed += 1
            self._event("confirmed", transfer)
            return
        self.store.finish(transfer.id, FAILED, tx_hash, self._revert_reason(transfer, tx_hash, int(receipt["blockNumber"], 16)))
        self.stats.failed += 1
        self._event("failed", transfer)

    def _revert_reason(self, transfer: Transfer, tx_hash: str, block: int) -> str:
        """Why a mined transaction reverted: replayed before its block (chain.Sender), else
        after it (a change in the same block, such as a blocklisting mined first, shows there)."""
        what = f"relayed authorization {transfer.id}"
        try:
            self.sender.wait(tx_hash, what)
        except TransactionFailed as exc:
            if exc.error is not None:
                return str(exc)
        tx = self.w3.eth.get_transaction(tx_hash)  # type: ignore[arg-type]
        try:
            self.w3.eth.call({"from": tx["from"], "to": tx["to"], "data": tx["input"], "gas": tx["gas"]}, block)
        except (ContractCustomError, ContractLogicError) as exc:
            decoded = self.sender.decoder.decode(getattr(exc, "data", None))
            if decoded:
                return f"{what} reverted: {decoded}"
        return f"{what} reverted without a known reason"

    def _settle_used(self, transfer: Transfer) -> None:
        """The nonce is used on chain before this relayer sends (again): by one of its own
        earlier transactions (then it is confirmed), or by someone else."""
        receipts = [r for r in self._receipts(transfer.tx_hashes) if r] if transfer.tx_hashes else []
        if receipts:
            self._settle(transfer, receipts[0])
            return
        self.store.finish(transfer.id, FAILED, None, "nonce_used: the authorization was used or cancelled outside this relayer")
        self.stats.failed += 1
        self._event("failed", transfer)

    def _replace(self, transfer: Transfer) -> None:
        """Same nonce, higher gas price: whichever of the two is mined settles the transfer."""
        assert transfer.tx_nonce is not None and transfer.gas_price is not None
        bumped = transfer.gas_price * REPLACEMENT_BUMP[0] // REPLACEMENT_BUMP[1] + 1
        gas_price = max(bumped, int(self.w3.eth.gas_price))
        log.warning("transaction %s unmined after %.0f s: replaced with gas price %d", transfer.tx_hash,
                    self.replace_after, gas_price)
        tx = self._tx(transfer, transfer.tx_nonce, gas_price)
        hash_of = getattr(self.sender.signer, "tx_hash", None)
        expected = hash_of(tx) if hash_of is not None else None
        if expected:
            self.store.mark_submitted(transfer.id, expected, transfer.tx_nonce, gas_price)
        try:
            tx_hash = Web3.to_hex(self.sender.signer.send(self.w3, tx))
        except Exception as exc:
            if is_transport_error(exc) or isinstance(exc, RpcUnavailableError):
                raise
            if expected and _already_known(exc):
                return
            log.warning("replacement of %s refused by the node: %s", transfer.tx_hash, str(exc)[:200])
            return  # mined meanwhile ("nonce too low"): the next round finds the receipt
        if not expected:
            self.store.mark_submitted(transfer.id, tx_hash, transfer.tx_nonce, gas_price)
        self.stats.replaced += 1

    def _event(self, what: str, transfer: Transfer) -> None:
        if self.on_event:
            self.on_event(what, transfer)
