"""The relayer's API against a real server on the loopback and anvil: a transfer relayed for a
sender with no BNB, idempotence, every refusal reason with a request crafted to meet it, the
fee policy, ERC-1271 wallets, and the health, metrics and OpenAPI pages."""

from __future__ import annotations

import threading
import time

import pytest
import requests
from eth_account import Account
from prometheus_client.parser import text_string_to_metric_families
from relaylib import (
    COMPLIANCE,
    PAUSER,
    UNIT,
    body_of,
    open_config,
    post,
    served,
    wait_status,
)
from web3 import Web3

from somstack.core.signatures import Domain, random_nonce, sign_authorization
from somstack.relay.client import authorization


def fresh():
    return Account.create().address


# --- Relaying ---


def test_transfer_is_relayed_for_a_sender_without_bnb(relay_chain, relay, sender_account):
    url, relayer = relay
    to = fresh()
    reply = post(url, body_of(relay_chain, sender_account, to, 250 * UNIT))
    assert reply.status_code == 202, reply.text
    assert reply.json()["status"] == "accepted"
    done = wait_status(url, reply.json()["id"])
    assert done["status"] == "confirmed", done
    receipt = relay_chain.w3.eth.get_transaction_receipt(done["txHash"])
    assert receipt["from"] == relayer.relayer and receipt["status"] == 1
    assert relay_chain.kgst.functions.balanceOf(to).call() == 250 * UNIT
    assert relay_chain.kgst.functions.balanceOf(sender_account.address).call() == 750 * UNIT
    assert relay_chain.w3.eth.get_balance(sender_account.address) == 0


def test_same_authorization_posted_twice_and_concurrently_is_one_transaction(relay_chain, relay, sender_account):
    url, relayer = relay
    to = fresh()
    body = body_of(relay_chain, sender_account, to, 10 * UNIT)
    replies = []
    threads = [threading.Thread(target=lambda: replies.append(post(url, body))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all("id" in r.json() for r in replies), [r.text for r in replies]
    ids = {r.json()["id"] for r in replies}
    assert len(ids) == 1
    assert sorted(r.status_code for r in replies) == [200, 200, 200, 202]
    transfer_id = ids.pop()
    assert wait_status(url, transfer_id)["status"] == "confirmed"
    again = post(url, body)  # after confirmation: the same record, not nonce_used
    assert again.status_code == 200 and again.json()["id"] == transfer_id and again.json()["status"] == "confirmed"
    assert relay_chain.kgst.functions.balanceOf(to).call() == 10 * UNIT
    assert relay_chain.w3.eth.get_transaction_count(relayer.relayer) == 1


def test_unknown_id_is_404(relay):
    url, _ = relay
    reply = requests.get(f"{url}/v1/transfers/0x{'ab' * 32}", timeout=10)
    assert reply.status_code == 404 and reply.json()["error"] == "not_found"


# --- Refusals, one crafted request each ---


def refused(reply, status, reason):
    assert reply.status_code == status, reply.text
    assert reply.json()["error"] == reason, reply.text
    return reply.json()["message"]


def test_signature_of_another_key_is_bad_signature(relay_chain, relay, sender_account):
    url, _ = relay
    body = body_of(relay_chain, Account.create(), fresh(), UNIT, **{"from": sender_account.address})
    refused(post(url, body), 400, "bad_signature")


def test_authorization_signed_for_another_chain_is_bad_signature(relay_chain, relay, sender_account):
    url, _ = relay
    d = relay_chain.domain
    other = Domain(d.name, d.version, 56, d.verifying_contract)
    body = authorization(sender_account, other, relay_chain.kgst.address, fresh(), UNIT, 3600)
    refused(post(url, body), 400, "bad_signature")


def test_authorization_signed_for_another_token_is_bad_signature(relay_chain, relay, sender_account):
    url, _ = relay
    d = relay_chain.domain
    other = Domain(d.name, d.version, d.chain_id, relay_chain.manifest.address("DigitalCurrency"))
    body = authorization(sender_account, other, relay_chain.kgst.address, fresh(), UNIT, 3600)
    refused(post(url, body), 400, "bad_signature")


def test_high_s_twin_of_a_valid_signature_is_bad_signature(relay_chain, relay, sender_account):
    """The malleable twin (s -> n - s, v flipped) recovers to the same key; OZ's ECDSA refuses
    it, and so does the relayer, before any chain call."""
    url, _ = relay
    body = body_of(relay_chain, sender_account, fresh(), UNIT)
    sig = bytes.fromhex(body["signature"][2:])
    n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
    s = n - int.from_bytes(sig[32:64], "big")
    twin = sig[:32] + s.to_bytes(32, "big") + bytes([55 - sig[64]])
    refused(post(url, {**body, "signature": "0x" + twin.hex()}), 400, "bad_signature")


def test_authorization_expiring_within_the_margin_is_expired(relay_chain, relay, sender_account):
    url, _ = relay
    now = int(time.time())
    nonce = random_nonce()
    to = fresh()
    sig = sign_authorization(relay_chain.domain, sender_account.key, sender_account.address, to, UNIT, now - 60, now + 5, nonce)
    body = {"token": relay_chain.kgst.address, "from": sender_account.address, "to": to, "value": str(UNIT),
            "validAfter": now - 60, "validBefore": now + 5, "nonce": "0x" + nonce.hex(), "signature": "0x" + sig.packed.hex()}
    refused(post(url, body), 422, "expired")


def test_authorization_valid_only_later_is_not_yet_valid(relay_chain, relay, sender_account):
    url, _ = relay
    now = int(time.time())
    nonce = random_nonce()
    to = fresh()
    sig = sign_authorization(relay_chain.domain, sender_account.key, sender_account.address, to, UNIT, now + 600, now + 3600, nonce)
    body = {"token": relay_chain.kgst.address, "from": sender_account.address, "to": to, "value": UNIT,
            "validAfter": now + 600, "validBefore": now + 3600, "nonce": "0x" + nonce.hex(), "signature": "0x" + sig.packed.hex()}
    refused(post(url, body), 422, "not_yet_valid")


def test_authorization_used_outside_the_relayer_is_nonce_used(relay_chain, relay, sender_account):
    url, _ = relay
    body = body_of(relay_chain, sender_account, fresh(), UNIT)
    f = relay_chain.kgst.functions.transferWithAuthorization(
        body["from"], body["to"], int(body["value"]), int(body["validAfter"]), int(body["validBefore"]),
        bytes.fromhex(body["nonce"][2:]), bytes.fromhex(body["signature"][2:]))
    relay_chain.send(0, f)  # somebody else relays it first
    refused(post(url, body), 409, "nonce_used")


def test_transfer_to_a_blocked_recipient_is_blocked(relay_chain, relay, sender_account):
    url, _ = relay
    to = fresh()
    relay_chain.send(COMPLIANCE, relay_chain.kgst.functions.blockAccount(to, Web3.keccak(text="sanctions list")))
    message = refused(post(url, body_of(relay_chain, sender_account, to, UNIT)), 422, "blocked")
    assert "blocked" in message.lower()


def test_transfer_while_transfers_are_paused_is_paused(relay_chain, relay, sender_account):
    url, _ = relay
    k = relay_chain.kgst.functions
    relay_chain.send(PAUSER, k.pause(1))
    try:
        refused(post(url, body_of(relay_chain, sender_account, fresh(), UNIT)), 422, "paused")
    finally:
        relay_chain.send(PAUSER, k.unpause(1))


def test_transfer_above_the_balance_is_insufficient_balance(relay_chain, relay, sender_account):
    url, _ = relay
    refused(post(url, body_of(relay_chain, sender_account, fresh(), 1_001 * UNIT)), 422, "insufficient_balance")


def test_pending_transfers_count_against_the_balance(relay_chain, relayer_key, tmp_path, sender_account):
    """Two authorizations of 600 each from 1,000: the second is refused while the first is
    pending (the relayer never takes on more than the sender holds)."""
    # a relayer whose chain is mined only on demand, so the first stays pending
    w3 = relay_chain.w3
    with served(relay_chain, relayer_key, tmp_path / "r.sqlite") as (url, _):
        w3.provider.make_request("evm_setAutomine", [False])
        try:
            first = post(url, body_of(relay_chain, sender_account, fresh(), 600 * UNIT))
            assert first.status_code == 202
            refused(post(url, body_of(relay_chain, sender_account, fresh(), 600 * UNIT)), 422, "insufficient_balance")
        finally:
            w3.provider.make_request("evm_setAutomine", [True])
            w3.provider.make_request("evm_mine", [])
        assert wait_status(url, first.json()["id"])["status"] == "confirmed"


def test_token_the_relayer_does_not_serve_is_unknown_token(relay_chain, relay, sender_account):
    url, _ = relay
    refused(post(url, body_of(relay_chain, sender_account, fresh(), UNIT, token=fresh())), 404, "unknown_token")


def test_request_naming_another_chain_is_wrong_chain(relay_chain, relay, sender_account):
    url, _ = relay
    refused(post(url, body_of(relay_chain, sender_account, fresh(), UNIT, chainId=56)), 400, "wrong_chain")


def test_body_over_the_limit_is_too_large(relay_chain, relayer_key, tmp_path, sender_account):
    with served(relay_chain, relayer_key, tmp_path / "r.sqlite", open_config(max_body=1024)) as (url, _):
        body = body_of(relay_chain, sender_account, fresh(), UNIT, padding="x" * 2000)
        refused(post(url, body), 413, "too_large")


def test_sender_over_its_rate_is_rate_limited(relay_chain, relayer_key, tmp_path, sender_account):
    with served(relay_chain, relayer_key, tmp_path / "r.sqlite", open_config(sender_rate=0.01, sender_burst=2)) as (url, _):
        replies = [post(url, body_of(relay_chain, sender_account, fresh(), UNIT)) for _ in range(3)]
        assert [r.status_code for r in replies[:2]] == [202, 202]
        refused(replies[2], 429, "rate_limited")
        other = Account.create()
        relay_chain.fund(other.address, UNIT)
        assert post(url, body_of(relay_chain, other, fresh(), UNIT)).status_code == 202  # others still served


def test_everybody_over_the_global_rate_is_rate_limited(relay_chain, relayer_key, tmp_path, sender_account):
    with served(relay_chain, relayer_key, tmp_path / "r.sqlite", open_config(global_rate=0.01, global_burst=1)) as (url, _):
        assert post(url, body_of(relay_chain, sender_account, fresh(), UNIT)).status_code == 202
        refused(post(url, body_of(relay_chain, sender_account, fresh(), UNIT)), 429, "rate_limited")


def test_relayer_without_bnb_refuses_with_relayer_low_balance(relay_chain, tmp_path, sender_account, caplog):
    poor = Account.create()
    with served(relay_chain, poor, tmp_path / "r.sqlite") as (url, _):
        refused(post(url, body_of(relay_chain, sender_account, fresh(), UNIT)), 503, "relayer_low_balance")
    assert any("runs low" in r.getMessage() for r in caplog.records)


def test_receive_authorization_to_someone_else_is_not_relayer_recipient(relay_chain, relay, sender_account):
    url, _ = relay
    body = authorization(sender_account, relay_chain.domain, relay_chain.kgst.address, fresh(), UNIT, 3600, kind="receive")
    refused(post(url, body), 400, "not_relayer_recipient")


def test_receive_authorization_to_the_relayer_is_relayed(relay_chain, relay, sender_account):
    url, relayer = relay
    body = authorization(sender_account, relay_chain.domain, relay_chain.kgst.address, relayer.relayer, 3 * UNIT, 3600, kind="receive")
    reply = post(url, body)
    assert reply.status_code == 202, reply.text
    assert wait_status(url, reply.json()["id"])["status"] == "confirmed"
    assert relay_chain.kgst.functions.balanceOf(relayer.relayer).call() == 3 * UNIT


# --- Fee policy ---


def test_relayer_with_a_fee_refuses_a_transfer_without_one(relay_chain, relayer_key, tmp_path, sender_account):
    fee = {relay_chain.kgst.address: 2 * UNIT}
    with served(relay_chain, relayer_key, tmp_path / "r.sqlite", open_config(fee=fee)) as (url, _):
        refused(post(url, body_of(relay_chain, sender_account, fresh(), UNIT)), 402, "fee_required")


def test_relayer_with_a_fee_takes_it_as_a_second_authorization(relay_chain, relayer_key, tmp_path, sender_account):
    fee = {relay_chain.kgst.address: 2 * UNIT}
    to = fresh()
    with served(relay_chain, relayer_key, tmp_path / "r.sqlite", open_config(fee=fee)) as (url, relayer):
        body = body_of(relay_chain, sender_account, to, 100 * UNIT)
        fee_body = authorization(sender_account, relay_chain.domain, relay_chain.kgst.address, relayer.relayer, 2 * UNIT, 3600,
                                 kind="receive")
        body["fee"] = {k: fee_body[k] for k in ("value", "validAfter", "validBefore", "nonce", "signature")}
        reply = post(url, body)
        assert reply.status_code == 202, reply.text
        assert wait_status(url, reply.json()["id"])["status"] == "confirmed"
        assert wait_status(url, reply.json()["feeId"])["status"] == "confirmed"
    assert relay_chain.kgst.functions.balanceOf(to).call() == 100 * UNIT
    assert relay_chain.kgst.functions.balanceOf(relayer_key.address).call() == 2 * UNIT
    assert relay_chain.kgst.functions.balanceOf(sender_account.address).call() == 898 * UNIT


# --- ERC-1271 contract wallets ---


@pytest.fixture
def wallet(relay_chain):
    """A MockContractWallet owned by a fresh key, holding 50 KGST."""
    owner = Account.create()
    artifact = relay_chain.artifacts.get("MockContractWallet")
    w3 = relay_chain.w3
    factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    tx = factory.constructor(owner.address).transact({"from": relay_chain.accounts[0]})
    address = w3.eth.wait_for_transaction_receipt(tx)["contractAddress"]
    relay_chain.fund(address, 50 * UNIT)
    return owner, address


def _wallet_body(chain, owner, wallet_address, to, value):
    now = int(time.time())
    nonce = random_nonce()
    sig = sign_authorization(chain.domain, owner.key, wallet_address, to, value, now - 60, now + 3600, nonce)
    return {"token": chain.kgst.address, "from": wallet_address, "to": to, "value": str(value), "validAfter": now - 60,
            "validBefore": now + 3600, "nonce": "0x" + nonce.hex(), "signature": "0x" + sig.packed.hex()}


def test_contract_wallet_signature_is_checked_on_chain_and_relayed(relay_chain, relay, wallet):
    url, _ = relay
    owner, address = wallet
    to = fresh()
    reply = post(url, _wallet_body(relay_chain, owner, address, to, 5 * UNIT))
    assert reply.status_code == 202, reply.text
    assert wait_status(url, reply.json()["id"])["status"] == "confirmed"
    assert relay_chain.kgst.functions.balanceOf(to).call() == 5 * UNIT


def test_contract_wallet_refuses_a_stranger_signature(relay_chain, relay, wallet):
    url, _ = relay
    _, address = wallet
    refused(post(url, _wallet_body(relay_chain, Account.create(), address, fresh(), UNIT)), 400, "bad_signature")


# --- Pages ---


def test_healthz_metrics_and_openapi(relay_chain, relay, sender_account):
    url, _ = relay
    post(url, body_of(relay_chain, sender_account, fresh(), 1_001 * UNIT))  # one refusal
    ok = post(url, body_of(relay_chain, sender_account, fresh(), UNIT))
    assert wait_status(url, ok.json()["id"])["status"] == "confirmed"
    health = requests.get(url + "/healthz", timeout=10)
    assert health.status_code == 200 and health.json()["status"] == "ok"
    metrics = requests.get(url + "/metrics", timeout=10)
    assert metrics.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in text_string_to_metric_families(metrics.text) for s in family.samples}
    assert samples[("relay_accepted_total", ())] == 1
    assert samples[("relay_refused_total", (("reason", "insufficient_balance"),))] == 1
    assert samples[("relay_confirmed_total", ())] == 1 and samples[("relay_submitted_total", ())] == 1
    assert samples[("relay_confirmation_seconds_count", ())] == 1
    assert samples[("relay_accept_seconds_count", (("status", "202"),))] == 1
    assert samples[("process_cpu_seconds_total", ())] > 0  # process metrics
    doc = requests.get(url + "/openapi.json", timeout=10).json()
    assert doc["openapi"].startswith("3.1")
    assert {"/v1/transfers", "/v1/transfers/{id}", "/healthz", "/readyz", "/metrics", "/openapi.json"} <= set(doc["paths"])
    reasons = set(doc["components"]["schemas"]["Error"]["properties"]["error"]["enum"])
    from somstack.relay.checks import REASONS

    assert set(REASONS) <= reasons


# --- The client: somstack relay send ---


def test_relay_send_signs_posts_and_waits_without_printing_the_key(relay_chain, relay, sender_account, capsys, monkeypatch):
    from clihelp import run

    url, _ = relay
    to = fresh()
    monkeypatch.setenv("ALICE_KEY", sender_account.key.hex())
    code, out, err = run(capsys, "relay", "send", "--from-key", "ALICE_KEY", "--to", to, "--amount", "12.5", "--url", url)
    assert code == 0, err
    assert "confirmed" in out and "tx 0x" in out
    assert relay_chain.kgst.functions.balanceOf(to).call() == 125 * UNIT // 10
    assert sender_account.key.hex()[2:] not in out + err and sender_account.key.hex() not in out + err


def test_relay_send_refused_is_one_error_line(relay_chain, relay, sender_account, capsys, monkeypatch):
    from clihelp import assert_one_line_error, run

    url, _ = relay
    monkeypatch.setenv("ALICE_KEY", sender_account.key.hex())
    code, _, err = run(capsys, "relay", "send", "--from-key", "ALICE_KEY", "--to", fresh(), "--amount", "5000", "--url", url)
    assert_one_line_error(code, err, "insufficient_balance")


def test_relay_send_to_a_silent_relayer_is_one_error_line(sender_account, capsys, monkeypatch):
    from clihelp import assert_one_line_error, run

    from somstack.core.chain import free_port

    monkeypatch.setenv("ALICE_KEY", sender_account.key.hex())
    code, _, err = run(capsys, "relay", "send", "--from-key", "ALICE_KEY", "--to", fresh(), "--amount", "1",
                       "--url", f"http://127.0.0.1:{free_port()}")
    assert_one_line_error(code, err, "does not answer")


# --- The digital som: KYC registration and tier limits ---


@pytest.fixture(scope="module")
def som_wallets(relay_chain):
    """Two tier-1 wallets (transfer limit 10,000 som), the first holding 20,000 som."""
    from somstack.cli import main

    som = relay_chain.artifacts.get("DigitalCurrency").contract(relay_chain.w3, relay_chain.manifest.address("DigitalCurrency"))
    payer, payee = Account.create(), Account.create()
    with relay_chain.cli_env():
        for i, account in enumerate((payer, payee)):
            assert main(["cbdc", "register", account.address, "--tier", "1", "--kyc-hash", "0x" + f"{i + 1:064x}",
                         "--identity", "0x" + f"{i + 0xabc:064x}"]) == 0
        assert main(["mint", payer.address, "20000", "--token", "som", "--ref", "relay-som"]) == 0
    return som, Domain.of(som), payer, payee


def _som_body(som, domain, payer, to, whole):
    unit = 10 ** som.functions.decimals().call()
    return authorization(payer, domain, som.address, to, whole * unit, 3600)


def test_som_transfer_over_the_tier_limit_is_tier_limit(relay, som_wallets):
    url, _ = relay
    som, domain, payer, payee = som_wallets
    message = refused(post(url, _som_body(som, domain, payer, payee.address, 10_001)), 422, "tier_limit")
    assert "limit" in message.lower()


def test_som_transfer_to_an_unregistered_wallet_is_not_registered(relay, som_wallets):
    url, _ = relay
    som, domain, payer, _ = som_wallets
    refused(post(url, _som_body(som, domain, payer, fresh(), 1)), 422, "not_registered")


def test_som_transfer_within_the_tier_is_relayed(relay, som_wallets):
    url, _ = relay
    som, domain, payer, payee = som_wallets
    before = som.functions.balanceOf(payee.address).call()
    reply = post(url, _som_body(som, domain, payer, payee.address, 100))
    assert reply.status_code == 202, reply.text
    assert wait_status(url, reply.json()["id"])["status"] == "confirmed"
    assert som.functions.balanceOf(payee.address).call() - before == 100 * 10 ** som.functions.decimals().call()


def test_a_revert_no_other_reason_names_is_rejected_with_the_decoded_error(relay_chain):
    """The catch-all of the simulation: a revert the pre-checks did not foresee is `rejected`,
    its message naming the decoded custom error (here the allowance error of the token)."""
    from eth_abi import encode
    from eth_utils import keccak

    from somstack.relay.checks import Authorization, refusal_of_revert

    auth = Authorization(relay_chain.kgst.address, "transfer", fresh(), fresh(), 1, 0, 2**40, b"\x01" * 32, b"\x00" * 65)
    data = keccak(text="SignedTransfersAllowanceUnderflow(address,uint256,uint256)")[:4] + encode(
        ["address", "uint256", "uint256"], [auth.sender, 1, 2])
    refusal = refusal_of_revert(relay_chain.decoder, "0x" + data.hex(), auth)
    assert refusal.reason == "rejected" and refusal.status == 422
    assert "SignedTransfersAllowanceUnderflow" in str(refusal)
    assert refusal_of_revert(relay_chain.decoder, "0xdeadbeef", auth).reason == "rejected"


def test_transfer_that_reverts_after_acceptance_is_failed_with_the_decoded_error(relay_chain, relay, sender_account):
    """Accepted, then the sender is blocked before the transaction is mined: the transfer is
    `failed`, its reason naming the token's custom error, and nothing moved."""
    url, _ = relay
    w3, k = relay_chain.w3, relay_chain.kgst.functions
    to = fresh()
    w3.provider.make_request("evm_setAutomine", [False])
    try:
        transfer_id = post(url, body_of(relay_chain, sender_account, to, UNIT)).json()["id"]
        assert wait_status(url, transfer_id, ("submitted",))["status"] == "submitted"
        tx = k.blockAccount(sender_account.address, Web3.keccak(text="court order")).transact(
            {"from": relay_chain.accounts[COMPLIANCE], "gasPrice": w3.eth.gas_price * 10 + 10**9})  # mined first
        pending = w3.provider.make_request("txpool_content", [])["result"]["pending"]
        assert any(pending.values())
    finally:
        w3.provider.make_request("evm_setAutomine", [True])
        w3.provider.make_request("evm_mine", [])
    assert w3.eth.get_transaction_receipt(tx)["status"] == 1
    done = wait_status(url, transfer_id)
    assert done["status"] == "failed" and "BlockedAddress" in done["reason"], done
    assert k.balanceOf(to).call() == 0


def test_node_account_relays_on_a_dev_chain_without_a_key(relay_chain, tmp_path, sender_account):
    """`relay serve` on a dev chain without key options: the node's account signs (sent one by
    one, hashes recorded after each send)."""
    to = fresh()
    with served(relay_chain, None, tmp_path / "node.sqlite") as (url, relayer):
        assert relayer.relayer == relay_chain.accounts[0]
        ids = [post(url, body_of(relay_chain, sender_account, to, UNIT)).json()["id"] for _ in range(3)]
        assert {wait_status(url, i)["status"] for i in ids} == {"confirmed"}
    assert relay_chain.kgst.functions.balanceOf(to).call() == 3 * UNIT


def test_fee_authorization_reused_while_pending_is_nonce_used(relay_chain, relayer_key, tmp_path, sender_account):
    """A second transfer that brings the fee authorization of a pending one is refused (409
    nonce_used), not a 500 from the store's unique id."""
    fee = {relay_chain.kgst.address: 2 * UNIT}
    with served(relay_chain, relayer_key, tmp_path / "r.sqlite", open_config(fee=fee)) as (url, relayer):
        fee_body = authorization(sender_account, relay_chain.domain, relay_chain.kgst.address, relayer.relayer, 2 * UNIT, 3600,
                                 kind="receive")
        fee_part = {k: fee_body[k] for k in ("value", "validAfter", "validBefore", "nonce", "signature")}
        send_round = relayer.submitter.round
        relayer.submitter.round = lambda: False  # the first stays accepted: the chain does not know its fee yet
        try:
            first = post(url, {**body_of(relay_chain, sender_account, fresh(), UNIT), "fee": fee_part})
            assert first.status_code == 202, first.text
            refused(post(url, {**body_of(relay_chain, sender_account, fresh(), UNIT), "fee": fee_part}), 409, "nonce_used")
        finally:
            relayer.submitter.round = send_round
        assert wait_status(url, first.json()["id"])["status"] == "confirmed"
        assert len(list(relayer.store.all())) == 2


def test_client_pays_the_fee_the_relayer_asks(relay_chain, relayer_key, tmp_path, sender_account):
    from somstack.relay.client import RelayClient, send

    fee = {relay_chain.kgst.address: UNIT // 2}
    to = fresh()
    with served(relay_chain, relayer_key, tmp_path / "r.sqlite", open_config(fee=fee)) as (url, _):
        answer = send(RelayClient(url), sender_account, "kgst", to, "10")
    assert answer["status"] == "confirmed"
    assert relay_chain.kgst.functions.balanceOf(to).call() == 10 * UNIT
    assert relay_chain.kgst.functions.balanceOf(relayer_key.address).call() == UNIT // 2


def test_bad_signatures_in_a_sender_name_do_not_spend_its_rate(relay_chain, relayer_key, tmp_path, sender_account):
    with served(relay_chain, relayer_key, tmp_path / "r.sqlite", open_config(sender_rate=0.01, sender_burst=1)) as (url, _):
        forged = body_of(relay_chain, Account.create(), fresh(), UNIT, **{"from": sender_account.address})
        for _ in range(3):
            refused(post(url, forged), 400, "bad_signature")
        assert post(url, body_of(relay_chain, sender_account, fresh(), UNIT)).status_code == 202
