"""Hostile input: every malformed, oversized, mistyped or out-of-range request gets a 4xx with a
machine-readable reason, never a 5xx, and the relayer keeps serving (a good transfer posted
after all of them is relayed)."""

from __future__ import annotations

import socket
from urllib.parse import urlparse

import pytest
import requests
from eth_account import Account

from relaylib import UNIT, body_of, post, wait_status

BIG = 2**256


def _send_raw(url, data, headers):
    return requests.post(url + "/v1/transfers", data=data, headers=headers, timeout=30)


RAW = {
    "not json": b"{token: nope",
    "empty": b"",
    "not utf-8": b"\xff\xfe\x00{",
    "a list": b"[1, 2, 3]",
    "a string": b'"hello"',
    "null": b"null",
    "deeply nested": b"[" * 100_00 + b"]" * 100_00,  # over the 16 KiB limit
    "a huge integer literal": b'{"value": ' + b"9" * 4000 + b"}",
}


@pytest.fixture(scope="module")
def hostile(relay_chain, tmp_path_factory):
    """One relayer for the module (the hostile requests change nothing), and a sender."""
    from relaylib import served

    key = Account.create()
    relay_chain.w3.provider.make_request("anvil_setBalance", [key.address, hex(100 * UNIT)])
    account = Account.create()
    relay_chain.fund(account.address, 100 * UNIT)
    with served(relay_chain, key, tmp_path_factory.mktemp("hostile") / "h.sqlite") as (url, relay):
        yield url, account


@pytest.mark.parametrize("name", sorted(RAW))
def test_raw_body_is_refused_as_malformed_or_too_large(hostile, name):
    url, _ = hostile
    reply = _send_raw(url, RAW[name], {"Content-Type": "application/json"})
    assert 400 <= reply.status_code < 500, reply.text
    assert reply.json()["error"] == ("too_large" if len(RAW[name]) > 16 * 1024 else "malformed"), reply.text


def _mutations(chain, account):
    """Each mutation of a good request, and the reason it must be refused with."""
    good = body_of(chain, account, Account.create().address, UNIT)
    sig = bytes.fromhex(good["signature"][2:])
    return {
        "value as float": ({**good, "value": 1.5}, "malformed"),
        "value as bool": ({**good, "value": True}, "malformed"),
        "value negative": ({**good, "value": -1}, "malformed"),
        "value zero": ({**good, "value": "0"}, "malformed"),
        "value 2**256": ({**good, "value": str(BIG)}, "malformed"),
        "value hex string": ({**good, "value": "0x10"}, "malformed"),
        "validBefore 2**256": ({**good, "validBefore": BIG}, "malformed"),
        "validAfter as list": ({**good, "validAfter": [1]}, "malformed"),
        "nonce short": ({**good, "nonce": "0x1234"}, "malformed"),
        "nonce zero": ({**good, "nonce": "0x" + "00" * 32}, "malformed"),
        "nonce as int": ({**good, "nonce": 5}, "malformed"),
        "token missing": ({k: v for k, v in good.items() if k != "token"}, "malformed"),
        "token not an address": ({**good, "token": "kgst"}, "malformed"),
        "from bad checksum": ({**good, "from": good["from"][:2] + good["from"][2:].swapcase()}, "malformed"),
        "to zero": ({**good, "to": "0x" + "00" * 20}, "malformed"),
        "to as object": ({**good, "to": {"a": 1}}, "malformed"),
        "kind unknown": ({**good, "kind": "steal"}, "malformed"),
        "signature short": ({**good, "signature": good["signature"][:-2]}, "malformed"),
        "signature not hex": ({**good, "signature": "0x" + "zz" * 65}, "malformed"),
        "signature huge": ({**good, "signature": "0x" + "11" * 5000}, "malformed"),
        "signature v = 5": ({**good, "signature": "0x" + (sig[:64] + bytes([5])).hex()}, "bad_signature"),
        "signature r = 0": ({**good, "signature": "0x" + (bytes(32) + sig[32:]).hex()}, "bad_signature"),
        "chainId as list": ({**good, "chainId": [56]}, "malformed"),
        "chainId as string": ({**good, "chainId": "31337"}, "malformed"),
        "fee where none is taken": ({**good, "fee": "lots"}, "malformed"),
    }


def test_every_mutated_request_gets_a_4xx_reason_and_no_5xx(relay_chain, hostile):
    url, account = hostile
    for name, (body, reason) in _mutations(relay_chain, account).items():
        reply = post(url, body)
        assert 400 <= reply.status_code < 500, (name, reply.status_code, reply.text)
        assert reply.json()["error"] == reason, (name, reply.text)


def test_body_without_content_length_over_the_limit_is_too_large(hostile):
    """A chunked upload (no Content-Length) is cut at the limit too."""
    url, _ = hostile

    def chunks():
        for _ in range(64):
            yield b"x" * 1024

    reply = requests.post(url + "/v1/transfers", data=chunks(), headers={"Content-Type": "application/json"}, timeout=30)
    assert reply.status_code == 413 and reply.json()["error"] == "too_large"


def test_garbage_on_the_socket_does_not_stop_the_server(hostile):
    url, _ = hostile
    parsed = urlparse(url)
    with socket.create_connection((parsed.hostname, parsed.port), timeout=5) as sock:
        sock.sendall(b"\x00\x01GARBAGE / HTTP/9.9\r\n\r\n")
        sock.recv(1024)
    assert requests.get(url + "/healthz", timeout=10).status_code == 200


def test_wrong_method_and_unknown_path_are_4xx(hostile):
    url, _ = hostile
    assert requests.get(url + "/v1/transfers", timeout=10).status_code == 405
    assert requests.get(url + "/nothing-here", timeout=10).status_code == 404
    assert requests.get(url + "/v1/transfers/not-an-id", timeout=10).status_code == 404


def test_relayer_still_relays_after_the_hostile_requests(relay_chain, hostile):
    url, account = hostile
    to = Account.create().address
    reply = post(url, body_of(relay_chain, account, to, 2 * UNIT))
    assert reply.status_code == 202, reply.text
    assert wait_status(url, reply.json()["id"])["status"] == "confirmed"
    assert relay_chain.kgst.functions.balanceOf(to).call() == 2 * UNIT
