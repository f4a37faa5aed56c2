"""`bsc-local`: anvil with BSC's chain id, and the canonical BSC contracts at their mainnet
addresses (somstack.bsclocal), read and used through their real addresses only."""

from __future__ import annotations

import os
import socket
import threading

import pytest
from eth_abi import decode
from web3 import Web3

from somstack.bsclocal import (
    ADDRESSES,
    BNB_USD_ANSWER,
    BSC_CHAIN_ID,
    BSC_USD_NAME,
    BSC_USD_SYMBOL,
    CANONICAL,
    place_canonical,
    run_node,
    start_bsc_local,
)
from somstack.chain import free_port
from somstack.errors import ConfigError

UNIT = 10**18
MAINNET = {  # the addresses as scripts written for BSC mainnet spell them
    "WBNB": "0xbb4CdB9CBd36B01bD1cBaEBF2De08d9173bc095c",
    "BNB/USD": "0x0567F2323251f0Aab15c8dFb1967E4e8A7D42aeE",
    "BSC-USD": "0x55d398326f99059fF775485246999027B3197955",
    "Multicall3": "0xcA11bde05977b3631167028862bE2a173976CA11",
}


@pytest.fixture(scope="module")
def bsc_node(settings):
    node = start_bsc_local(settings)
    yield node
    node.stop()


@pytest.fixture(scope="module")
def w3(bsc_node):
    return Web3(Web3.HTTPProvider(bsc_node.url))


@pytest.fixture(autouse=True)
def bsc_snapshot(w3):
    """Each test starts from the freshly placed chain."""
    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]
    yield
    w3.provider.make_request("evm_revert", [snapshot])


@pytest.fixture(scope="module")
def at(w3, artifacts):
    """The contract called ``name`` in CANONICAL, at its mainnet address, with its artifact's ABI."""
    artifact_of = {c.name: c.artifact for c in CANONICAL}
    return lambda name: artifacts.get(artifact_of[name]).contract(w3, MAINNET[name])


def test_chain_is_bsc_with_every_canonical_contract_placed(w3, artifacts):
    assert w3.eth.chain_id == BSC_CHAIN_ID == 56
    assert ADDRESSES == MAINNET
    for entry in CANONICAL:
        code = w3.eth.get_code(MAINNET[entry.name]).hex().removeprefix("0x")
        assert code, f"no code at {entry.name}"
        assert code == artifacts.get(entry.artifact).deployed_bytecode.removeprefix("0x").lower()


def test_wbnb_wraps_and_unwraps_bnb(w3, at):
    wbnb = at("WBNB")
    assert (wbnb.functions.name().call(), wbnb.functions.symbol().call(), wbnb.functions.decimals().call()) == (
        "Wrapped BNB", "WBNB", 18)
    user = w3.eth.accounts[1]
    w3.eth.wait_for_transaction_receipt(wbnb.functions.deposit().transact({"from": user, "value": 2 * UNIT}))
    assert wbnb.functions.balanceOf(user).call() == 2 * UNIT
    assert wbnb.functions.totalSupply().call() == 2 * UNIT
    assert w3.eth.get_balance(MAINNET["WBNB"]) == 2 * UNIT

    before = w3.eth.get_balance(user)
    receipt = w3.eth.wait_for_transaction_receipt(wbnb.functions.withdraw(UNIT // 2).transact({"from": user}))
    fee = receipt["gasUsed"] * receipt["effectiveGasPrice"]
    assert w3.eth.get_balance(user) == before + UNIT // 2 - fee
    assert wbnb.functions.balanceOf(user).call() == 3 * UNIT // 2
    assert w3.eth.get_balance(MAINNET["WBNB"]) == 3 * UNIT // 2


def test_bnb_usd_feed_answers_a_fresh_round(w3, at):
    feed = at("BNB/USD")
    assert feed.functions.decimals().call() == 8
    assert feed.functions.description().call() == "BNB / USD"
    round_id, answer, started_at, updated_at, answered_in_round = feed.functions.latestRoundData().call()
    latest = w3.eth.get_block("latest")["timestamp"]
    assert answer == BNB_USD_ANSWER == 600 * 10**8
    assert (round_id, answered_in_round) == (1, 1)
    assert started_at == updated_at and latest - 60 <= updated_at <= latest
    assert feed.functions.reverting().call() is False
    # the placed storage is the mock's own: its setters work on it
    w3.eth.wait_for_transaction_receipt(feed.functions.updateAnswer(610 * 10**8).transact({"from": w3.eth.accounts[0]}))
    assert list(feed.functions.latestRoundData().call()[:2]) == [2, 610 * 10**8]


def test_bsc_usd_has_its_metadata_and_works_as_a_token(w3, at):
    token = at("BSC-USD")
    assert token.functions.name().call() == BSC_USD_NAME == "Tether USD"
    assert token.functions.symbol().call() == BSC_USD_SYMBOL == "USDT"
    assert token.functions.decimals().call() == 18
    assert token.functions.totalSupply().call() == 0
    alice, bob = w3.eth.accounts[1:3]
    w3.eth.wait_for_transaction_receipt(token.functions.mint(alice, 100 * UNIT).transact({"from": alice}))
    w3.eth.wait_for_transaction_receipt(token.functions.transfer(bob, 40 * UNIT).transact({"from": alice}))
    assert [token.functions.balanceOf(a).call() for a in (alice, bob)] == [60 * UNIT, 40 * UNIT]


def test_multicall3_batches_calls_at_its_canonical_address(w3, at):
    multicall, wbnb, feed = at("Multicall3"), at("WBNB"), at("BNB/USD")
    calls = [
        (MAINNET["WBNB"], False, wbnb.encode_abi("symbol")),
        (MAINNET["BNB/USD"], False, feed.encode_abi("latestRoundData")),
    ]
    (ok_symbol, symbol_data), (ok_round, round_data) = multicall.functions.aggregate3(calls).call()
    assert ok_symbol and ok_round
    assert decode(["string"], symbol_data) == ("WBNB",)
    assert decode(["uint80", "int256", "uint256", "uint256", "uint80"], round_data)[1] == BNB_USD_ANSWER

    # a call allowed to fail fails alone; one not allowed to fail reverts the batch
    failing = (MAINNET["WBNB"], True, wbnb.encode_abi("withdraw", [UNIT]))  # Multicall3 holds no WBNB
    assert multicall.functions.aggregate3([failing, calls[0]]).call()[0][0] is False
    with pytest.raises(Exception, match="Multicall3: call failed"):
        multicall.functions.aggregate3([(failing[0], False, failing[2])]).call()

    user = w3.eth.accounts[3]
    assert multicall.functions.getEthBalance(user).call() == w3.eth.get_balance(user)
    assert multicall.functions.getBlockNumber().call() == w3.eth.block_number
    assert multicall.functions.getChainId().call() == 56
    block_number, results = multicall.functions.aggregate([(MAINNET["WBNB"], wbnb.encode_abi("decimals"))]).call()
    assert block_number == w3.eth.block_number and decode(["uint8"], results[0]) == (18,)


def test_placing_again_restores_the_canonical_state_and_keeps_balances(w3, artifacts, at):
    wbnb, feed, token = at("WBNB"), at("BNB/USD"), at("BSC-USD")
    user = w3.eth.accounts[1]
    for tx in (
        wbnb.functions.deposit().transact({"from": user, "value": UNIT}),
        feed.functions.setReverting(True).transact({"from": user}),
        feed.functions.setDescription("tampered").transact({"from": user}),
        token.functions.setMetadata("X" * 40, "X", 6).transact({"from": user}),
        token.functions.mint(user, 5 * UNIT).transact({"from": user}),
    ):
        w3.eth.wait_for_transaction_receipt(tx)

    assert place_canonical(w3, artifacts) == MAINNET
    assert place_canonical(w3, artifacts, bnb_usd_answer=550 * 10**8) == MAINNET

    assert feed.functions.reverting().call() is False
    assert feed.functions.description().call() == "BNB / USD"
    assert list(feed.functions.latestRoundData().call()[:2]) == [1, 550 * 10**8]
    assert (token.functions.name().call(), token.functions.symbol().call(), token.functions.decimals().call()) == (
        BSC_USD_NAME, BSC_USD_SYMBOL, 18)
    assert token.functions.balanceOf(user).call() == 5 * UNIT
    assert wbnb.functions.balanceOf(user).call() == UNIT


@pytest.mark.parametrize("bsc", [True, False], ids=["bsc", "plain"])
def test_run_node_prints_the_chain_and_stops_cleanly(settings, bsc):
    port, lines, stop = free_port(), [], threading.Event()
    errors: list[BaseException] = []

    def serve():
        try:
            run_node(settings, bsc, port, lines.append, stop=stop)
        except BaseException as exc:  # noqa: BLE001 - surfaced by the assertion below
            errors.append(exc)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        for _ in range(150):
            if any("Ctrl-C" in line for line in lines) or errors:
                break
            thread.join(0.1)
        assert not errors, errors
        text = "\n".join(lines)
        w3 = Web3(Web3.HTTPProvider(f"http://127.0.0.1:{port}"))
        assert f"http://127.0.0.1:{port}" in text
        assert f"chain id  {56 if bsc else 31337}" in text and w3.eth.chain_id == (56 if bsc else 31337)
        assert f"accounts  {len(w3.eth.accounts)} unlocked" in text
        for name, address in MAINNET.items():
            assert (address in text) is bsc
            assert bool(w3.eth.get_code(address)) is bsc, name
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive() and lines[-1] == "chain stopped"
    with pytest.raises(Exception):
        Web3(Web3.HTTPProvider(f"http://127.0.0.1:{port}", request_kwargs={"timeout": 2})).eth.chain_id


FORK_RPC = os.environ.get("BSC_FORK_RPC_URL", "").strip()


@pytest.mark.fork
def test_canonical_addresses_hold_the_same_interfaces_on_bsc(artifacts):
    """The real contracts at the same addresses answer the ABIs the local mocks are used with."""
    if not FORK_RPC:
        pytest.skip("BSC_FORK_RPC_URL is not set: no RPC of BSC mainnet (or of a fork of it) to compare with")
    w3 = Web3(Web3.HTTPProvider(FORK_RPC, request_kwargs={"timeout": 30}))
    assert w3.eth.chain_id == 56
    for name, address in MAINNET.items():
        assert w3.eth.get_code(address), f"no code at {name} {address}"
    contract = {c.name: artifacts.get(c.artifact).contract(w3, MAINNET[c.name]) for c in CANONICAL}
    wbnb, feed, token, multicall = (contract[n] for n in ("WBNB", "BNB/USD", "BSC-USD", "Multicall3"))
    assert (wbnb.functions.symbol().call(), wbnb.functions.decimals().call()) == ("WBNB", 18)
    assert (feed.functions.decimals().call(), feed.functions.description().call()) == (8, "BNB / USD")
    assert feed.functions.latestRoundData().call()[1] > 0
    assert token.functions.decimals().call() == 18
    results = multicall.functions.aggregate3([
        (MAINNET["WBNB"], False, wbnb.encode_abi("decimals")),
        (MAINNET["BSC-USD"], False, token.encode_abi("decimals")),
    ]).call()
    assert [decode(["uint8"], data)[0] for _ok, data in results] == [18, 18]


def test_run_node_refuses_a_port_in_use(settings):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        with pytest.raises(ConfigError, match="is in use"):
            run_node(settings, True, busy.getsockname()[1], lambda _line: None)


def test_deploy_on_bsc_local_prices_bnb_with_the_feed_at_its_mainnet_address(capsys, bsc_node, deployments_dir, monkeypatch, artifacts):
    """The plan on bsc-local (brownie-config.yaml overrides) registers native BNB with the
    Chainlink BNB/USD aggregator at its real address: the same configuration as on BSC."""
    import json

    from clihelp import run

    monkeypatch.setenv("SOMSTACK_RPC_BSC_LOCAL", bsc_node.url)
    code, _out, err = run(capsys, "deploy", "--network", "bsc-local")
    assert code == 0, err
    manifest = json.loads((deployments_dir / "56.json").read_text())
    w3 = Web3(Web3.HTTPProvider(bsc_node.url))
    vault = artifacts.get("ReserveVault").contract(w3, manifest["contracts"]["ReserveVault"]["address"])
    native = "0xEeeeeEeeeEeEeeEeEeEeeEEEeeeeEeeeeeeeEEeE"
    assert vault.functions.asset(native).call()[0][0] == MAINNET["BNB/USD"]
    assert vault.functions.price(native).call()[0] == 600 * 10**8
