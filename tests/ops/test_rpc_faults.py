"""Faults between somstack and the RPC: a node that is down, stalls, answers 503 or loses the
answer to a send; a concurrent operator taking the nonce; too little BNB; the wrong chain.
Real anvil nodes, stopped and restarted in the test, and a real HTTP relay in front of them
(no mock of web3): every read is retried with backoff, then fails with one clear error, and
nothing is ever sent twice."""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from clihelp import assert_one_line_error, run
from eth_account import Account
from test_deploy_idempotent import PLAN_TRANSACTIONS
from web3 import Web3

from somstack.core.chain import (
    LocalNode,
    LocalSigner,
    NodeSigner,
    NonceConflictError,
    RetryPolicy,
    Sender,
    connect,
    free_port,
    rpc_web3,
)
from somstack.core.config import Network
from somstack.core.errors import ConfirmationTimeout, RpcUnavailableError

FAST = RetryPolicy(attempts=3, timeout=2, backoff=0.01)
UNIT = 10**18


class Relay:
    """An HTTP JSON-RPC relay in front of a node, with faults: ``stall`` (read the request,
    never answer), ``fail`` (answer the next n requests with 503), ``lose`` (pass the next
    request of that method on, then drop the answer). Counts the requests it saw by method."""

    def __init__(self, upstream: str | None = None):
        self.upstream, self.stall, self.fail, self.lose = upstream, False, 0, None
        self.seen: list[str] = []
        self.release = threading.Event()
        relay = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                payload = json.loads(body)
                methods = [p["method"] for p in payload] if isinstance(payload, list) else [payload["method"]]
                relay.seen += methods
                if relay.stall:
                    relay.release.wait(30)
                    return
                if relay.fail:
                    relay.fail -= 1
                    self.send_response(503)
                    self.end_headers()
                    return
                answer = requests.post(relay.upstream, data=body, headers={"Content-Type": "application/json"}, timeout=10)
                if relay.lose in methods:
                    relay.lose = None
                    self.close_connection = True  # the node got it; its answer never comes back
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def relay_factory():
    relays = []

    def make(upstream=None):
        relays.append(Relay(upstream))
        return relays[-1]

    yield make
    for relay in relays:
        relay.close()


def _network(url, chain_id=31337, name="bsc-test"):
    return Network(name=name, rpc=url, rpc_source="$BSC_TESTNET_RPC_URL", chain_id=chain_id)


def _funded_sender(node, url, settings, bnb=10, policy=FAST):
    account = Account.create()
    Web3(Web3.HTTPProvider(node.url)).provider.make_request("anvil_setBalance", [account.address, hex(bnb * UNIT)])
    w3 = rpc_web3(url, policy, "the test RPC")
    return account, Sender(w3, LocalSigner(account), None, policy=policy)  # type: ignore[arg-type]


# --- RPC down, stalled, failing ---


def test_connect_to_a_closed_port_fails_after_every_attempt(settings):
    pauses = []
    policy = replace(FAST, sleep=pauses.append)
    with pytest.raises(RpcUnavailableError, match=r"does not answer \(eth_chainId: connection refused or reset\) after 3 attempt"):
        connect(_network(f"http://127.0.0.1:{free_port()}"), policy)
    assert pauses == [0.01, 0.02]  # backoff doubles between attempts, none after the last


def test_a_stalled_rpc_times_out_on_every_attempt_then_fails(relay_factory):
    relay = relay_factory()
    relay.stall = True
    policy = RetryPolicy(attempts=2, timeout=0.3, backoff=0.01)
    with pytest.raises(RpcUnavailableError, match=r"eth_chainId: timed out\) after 2 attempt"):
        connect(_network(relay.url), policy)
    assert relay.seen == ["eth_chainId", "eth_chainId"]


def test_reads_survive_a_gateway_failing_twice(node_factory, relay_factory):
    node = node_factory()
    relay = relay_factory(node.url)
    w3 = connect(_network(relay.url), FAST)
    relay.fail = 2
    assert w3.eth.block_number == 0
    assert relay.seen.count("eth_blockNumber") == 3


def test_a_node_restarted_during_the_backoff_is_reached(settings):
    port = free_port()
    node = LocalNode(settings, 31337, port).start()
    w3 = connect(_network(node.url), FAST)
    node.stop()
    restarted = []

    def restart(_pause):
        if not restarted:
            restarted.append(LocalNode(settings, 31337, port).start())

    w3_again = connect(_network(node.url), replace(FAST, sleep=restart))
    try:
        assert w3_again.eth.chain_id == 31337 and len(restarted) == 1
        assert w3.eth.block_number == 0  # the first connection reaches the restarted node too
    finally:
        restarted[0].stop()


def test_cli_status_on_a_silent_rpc_is_one_line_after_its_attempts(capsys, monkeypatch):
    monkeypatch.setenv("BSC_TESTNET_RPC_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("SOMSTACK_RPC_ATTEMPTS", "2")
    monkeypatch.setenv("SOMSTACK_RPC_BACKOFF", "0.01")
    code, _out, err = run(capsys, "status", "--network", "bsc-test")
    assert_one_line_error(code, err, "RpcUnavailableError", "network 'bsc-test' does not answer", "after 2 attempt(s)")


def test_cli_refuses_a_malformed_retry_setting(capsys, monkeypatch):
    monkeypatch.setenv("SOMSTACK_RPC_ATTEMPTS", "many")
    code, _out, err = run(capsys, "status", "--network", "bsc-test")
    assert_one_line_error(code, err, "ConfigError", "SOMSTACK_RPC_ATTEMPTS", "'many'")


# --- Sends: never twice ---


def test_a_send_whose_answer_is_lost_is_found_and_not_sent_again(settings, node_factory, relay_factory):
    node = node_factory()
    relay = relay_factory(node.url)
    account, sender = _funded_sender(node, relay.url, settings)
    payee = Account.create().address
    relay.lose = "eth_sendRawTransaction"
    receipt = sender.transact({"to": payee, "value": UNIT}, "pay 1 BNB")
    w3 = Web3(Web3.HTTPProvider(node.url))
    assert receipt["status"] == 1
    assert relay.seen.count("eth_sendRawTransaction") == 1  # the lost answer led to a lookup, not a resend
    assert w3.eth.get_balance(payee) == UNIT and w3.eth.get_transaction_count(account.address) == 1


def test_a_node_signed_send_whose_answer_is_lost_fails_in_one_clear_error(settings, node_factory, relay_factory):
    node = node_factory()
    relay = relay_factory(node.url)
    w3 = rpc_web3(relay.url, FAST, "the test RPC")
    sender = Sender(w3, NodeSigner(w3.eth.accounts[3]), None, policy=FAST)  # type: ignore[arg-type]
    relay.lose = "eth_sendTransaction"
    with pytest.raises(RpcUnavailableError, match="may have arrived: look at .* nonce 0 before running again"):
        sender.submit({"to": w3.eth.accounts[4], "value": 1}, "pay")
    assert relay.seen.count("eth_sendTransaction") == 1


class FrontRunnedSigner(LocalSigner):
    """The operator's key, also used by a concurrent operator who, ``times`` times, gets a
    transaction mined with the very nonce this signer is about to use."""

    def __init__(self, account, node_url, times):
        super().__init__(account)
        self.node = Web3(Web3.HTTPProvider(node_url))
        self.times = times

    def send(self, w3, tx):
        if self.times:
            self.times -= 1
            other = {"to": self.address, "value": 0, "gas": 21_000, "gasPrice": tx["gasPrice"], "nonce": tx["nonce"], "chainId": tx["chainId"]}
            self.node.eth.wait_for_transaction_receipt(self.node.eth.send_raw_transaction(self.account.sign_transaction(other).raw_transaction))
        return super().send(w3, tx)


def test_a_nonce_taken_by_a_concurrent_operator_is_refetched_and_the_send_happens_once(settings, node_factory):
    node = node_factory()
    account, _ = _funded_sender(node, node.url, settings)
    w3 = rpc_web3(node.url, FAST, "the test RPC")
    sender = Sender(w3, FrontRunnedSigner(account, node.url, times=1), None, policy=FAST)  # type: ignore[arg-type]
    payee = Account.create().address
    receipt = sender.transact({"to": payee, "value": UNIT}, "pay 1 BNB")
    assert receipt["status"] == 1
    assert w3.eth.get_transaction(receipt["transactionHash"])["nonce"] == 1  # the other operator's took 0
    assert w3.eth.get_transaction_count(account.address) == 2
    assert w3.eth.get_balance(payee) == UNIT


def test_a_nonce_taken_again_and_again_ends_in_one_clear_error_and_nothing_sent(settings, node_factory):
    node = node_factory()
    account, _ = _funded_sender(node, node.url, settings)
    w3 = rpc_web3(node.url, FAST, "the test RPC")
    sender = Sender(w3, FrontRunnedSigner(account, node.url, times=99), None, policy=FAST, nonce_retries=2)  # type: ignore[arg-type]
    payee = Account.create().address
    with pytest.raises(NonceConflictError, match="took the nonce 3 times in a row"):
        sender.transact({"to": payee, "value": UNIT}, "pay 1 BNB")
    assert w3.eth.get_transaction_count(account.address) == 3  # the other operator's three, none of ours
    assert w3.eth.get_balance(payee) == 0


# --- Too little BNB, wrong chain: through the CLI ---


def test_cli_deploy_running_out_of_bnb_midway_stops_in_one_line_and_resumes_without_paying_twice(
    capsys, node_factory, deployments_dir, monkeypatch
):
    node = node_factory(chain_id=97)
    monkeypatch.setenv("BSC_TESTNET_RPC_URL", node.url)
    account = Account.create()
    monkeypatch.setenv("DEPLOYER_PRIVATE_KEY", account.key.hex())
    w3 = Web3(Web3.HTTPProvider(node.url))
    w3.provider.make_request("anvil_setBalance", [account.address, hex(UNIT // 50)])  # 0.02 BNB: a part of the plan (about 0.05)
    code, _out, err = run(capsys, "deploy", "--network", "bsc-test")
    assert_one_line_error(code, err, "InsufficientFundsError", account.address, "BNB")
    manifest = json.loads((deployments_dir / "97.json").read_text())
    done = w3.eth.get_transaction_count(account.address)
    assert 0 < done < PLAN_TRANSACTIONS and not manifest["complete"]  # (the local plan, with its mocks, is longer)

    w3.provider.make_request("anvil_setBalance", [account.address, hex(10 * UNIT)])
    code, _out, err = run(capsys, "deploy", "--network", "bsc-test")
    assert code == 0, err
    manifest = json.loads((deployments_dir / "97.json").read_text())
    sent = {r["txHash"] for r in (*manifest["contracts"].values(), *manifest["steps"].values()) if r.get("txHash")}
    assert manifest["complete"]
    assert w3.eth.get_transaction_count(account.address) == len(sent)  # each step paid once


def test_cli_status_on_the_wrong_chain_is_one_line(capsys, node_factory, monkeypatch):
    node = node_factory(chain_id=31337)
    monkeypatch.setenv("BSC_MAINNET_RPC_URL", node.url)
    code, _out, err = run(capsys, "status", "--network", "bsc-main")
    assert_one_line_error(code, err, "ChainMismatchError", "expects chain id 56", "chain 31337")


def test_a_send_not_mined_in_time_is_one_clear_error_with_its_hash(settings, node_factory):
    """A node that stops mining (anvil's automine off): the wait ends in ConfirmationTimeout
    naming the transaction, not web3's TimeExhausted; once mined, the receipt is the one sent."""
    node = node_factory()
    account, _ = _funded_sender(node, node.url, settings)
    w3 = rpc_web3(node.url, FAST, "the test RPC")
    sender = Sender(w3, LocalSigner(account), None, policy=FAST, confirmations_timeout=0.5)  # type: ignore[arg-type]
    w3.provider.make_request("evm_setAutomine", [False])
    with pytest.raises(ConfirmationTimeout, match="pay 1 BNB: transaction 0x[0-9a-f]{64} was sent but not mined within 0.5 s") as caught:
        sender.transact({"to": Account.create().address, "value": UNIT}, "pay 1 BNB")
    w3.provider.make_request("evm_mine", [])
    assert w3.eth.get_transaction_receipt(caught.value.tx_hash)["status"] == 1
