"""JSON-RPC batches: the replies are taken in the order of the calls (web3 7 returns them so);
an error reply without an id stays where it is (re-sorting by id moved it first)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from somstack.core.errors import RpcUnavailableError
from somstack.relay.checks import batch_replies
from somstack.relay.submitter import Submitter


def fake_w3(replies_of):
    return SimpleNamespace(provider=SimpleNamespace(make_batch_request=replies_of))


def in_order_with_an_anonymous_error(calls):
    replies = [{"jsonrpc": "2.0", "id": n + 1, "result": hex(n)} for n in range(len(calls))]
    replies[1] = {"jsonrpc": "2.0", "error": {"code": -32000, "message": "boom"}}  # the node gave it no id
    return replies


CALLS = [("eth_call", [{"n": n}, "latest"]) for n in range(4)]


def test_replies_keep_the_order_of_the_calls():
    replies = batch_replies(fake_w3(in_order_with_an_anonymous_error), CALLS)
    assert [r.get("result") for r in replies] == ["0x0", None, "0x2", "0x3"]
    assert "error" in replies[1]


def test_submitter_batches_keep_the_order_of_the_calls():
    submitter = SimpleNamespace(w3=fake_w3(in_order_with_an_anonymous_error))
    replies = Submitter._batch(submitter, CALLS)
    assert [r.get("result") for r in replies] == ["0x0", None, "0x2", "0x3"]


def test_a_batch_answered_with_too_few_replies_is_rpc_unavailable():
    with pytest.raises(RpcUnavailableError, match="answered a batch"):
        batch_replies(fake_w3(lambda calls: in_order_with_an_anonymous_error(calls)[:-1]), CALLS)
