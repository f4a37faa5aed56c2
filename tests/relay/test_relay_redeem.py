"""The relayer carries KGST redemption requests: POST /v1/redemptions (kind "redeem") takes the
holder's ReceiveWithAuthorization to the redemption queue whose nonce is the payout reference,
and submits RedemptionQueue.requestRedemptionWithAuthorization; `relay send --redeem` signs and
posts one. The holder needs no BNB."""

from __future__ import annotations

import json

import pytest
import requests
from eth_utils import keccak
from relaylib import UNIT, wait_status

from somstack.cli import main
from somstack.core.signatures import sign_authorization
from somstack.relay.client import RelayClient, send_redemption


@pytest.fixture
def queue(relay_chain):
    return relay_chain.artifacts.get("RedemptionQueue").contract(relay_chain.w3, relay_chain.manifest.address("RedemptionQueue"))


@pytest.fixture
def desk(relay, queue):
    """The relayer, told the deployment's queue (as `relay serve` does from the manifest)."""
    url, relayer = relay
    relayer.queue = queue.address
    return url, relayer


def redemption_body(chain, account, queue, value, payout, **overrides):
    now = chain.w3.eth.get_block("latest")["timestamp"]
    after, before = now - 60, now + 3600
    sig = sign_authorization(chain.domain, account, account.address, queue.address, value, after, before, payout, receive=True)
    body = {"token": chain.kgst.address, "kind": "redeem", "from": account.address, "to": queue.address, "value": str(value),
            "validAfter": str(after), "validBefore": str(before), "nonce": "0x" + payout.hex(), "signature": "0x" + sig.packed.hex()}
    body.update(overrides)
    return body


def post_redemption(url, body):
    return requests.post(url + "/v1/redemptions", json=body, timeout=30)


def test_redemption_is_relayed_for_a_holder_without_bnb(relay_chain, desk, queue, sender_account):
    url, relayer = desk
    payout = keccak(text="salted-bank-details-relay-1")
    done = send_redemption(RelayClient(url), sender_account, "150", payout)
    assert done["status"] == "confirmed", done
    receipt = relay_chain.w3.eth.get_transaction_receipt(done["txHash"])
    event = queue.events.RedemptionRequested().process_receipt(receipt)[0]["args"]
    assert (event["holder"], event["amount"], bytes(event["payoutRef"]), event["submitter"]) == (
        sender_account.address, 150 * UNIT, payout, relayer.relayer)
    assert relay_chain.kgst.functions.balanceOf(sender_account.address).call() == 850 * UNIT
    assert relay_chain.w3.eth.get_balance(sender_account.address) == 0


def test_redemption_with_another_payout_reference_is_bad_signature(relay_chain, desk, queue, sender_account):
    url, _ = desk
    body = redemption_body(relay_chain, sender_account, queue, 150 * UNIT, keccak(text="mine"))
    body["nonce"] = "0x" + keccak(text="the relayer's own bank").hex()
    reply = post_redemption(url, body)
    assert (reply.status_code, reply.json()["error"]) == (400, "bad_signature")


def test_redemption_to_another_address_is_malformed(relay_chain, desk, queue, sender_account):
    url, relayer = desk
    body = redemption_body(relay_chain, sender_account, queue, 150 * UNIT, keccak(text="p"), to=relayer.relayer)
    reply = post_redemption(url, body)
    assert (reply.status_code, reply.json()["error"]) == (400, "malformed") and "redemption queue" in reply.json()["message"]


def test_redemption_below_the_minimum_is_rejected(relay_chain, desk, queue, sender_account):
    url, _ = desk
    reply = post_redemption(url, redemption_body(relay_chain, sender_account, queue, 50 * UNIT, keccak(text="small")))
    assert (reply.status_code, reply.json()["error"]) == (422, "rejected")
    assert "RedemptionQueueAmountTooSmall" in reply.json()["message"]


def test_redemptions_route_takes_no_other_kind(relay_chain, desk, queue, sender_account):
    url, _ = desk
    reply = post_redemption(url, redemption_body(relay_chain, sender_account, queue, 150 * UNIT, keccak(text="k"), kind="transfer"))
    assert (reply.status_code, reply.json()["error"]) == (400, "malformed")


def test_relayer_without_a_queue_refuses_redemptions(relay_chain, relay, queue, sender_account):
    url, _ = relay  # not told a queue
    reply = post_redemption(url, redemption_body(relay_chain, sender_account, queue, 150 * UNIT, keccak(text="q")))
    assert (reply.status_code, reply.json()["error"]) == (400, "malformed")


def test_config_and_openapi_name_redemptions(desk, queue):
    url, _ = desk
    assert requests.get(url + "/v1/config", timeout=10).json()["redemptionQueue"] == queue.address
    doc = requests.get(url + "/openapi.json", timeout=10).json()
    assert "/v1/redemptions" in doc["paths"] and '"redeem"' in json.dumps(doc["components"])


def test_relay_send_redeem_cli(relay_chain, desk, queue, sender_account, capsys, monkeypatch):
    url, _ = desk
    monkeypatch.setenv("REDEEM_TEST_KEY", "0x" + bytes(sender_account.key).hex())
    code = main(["relay", "send", "--redeem", "--payout", "salted-bank-details-cli", "--amount", "120", "--from-key", "REDEEM_TEST_KEY",
                 "--url", url])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.startswith("redemption 0x") and ": confirmed (tx 0x" in out
    assert queue.functions.pendingAmount().call() >= 120 * UNIT and "salted-bank-details-cli" not in out + err


def test_relay_send_redeem_with_to_is_usage_error(desk, capsys):
    url, _ = desk
    code = main(["relay", "send", "--redeem", "--payout", "x", "--to", "0x" + "11" * 20, "--amount", "1", "--from-key", "K", "--url", url])
    assert code == 2
