"""`bsc-local`: anvil with BSC's chain id, and the canonical BSC contracts at their mainnet
addresses (somstack.core.bsclocal), read and used through their real addresses only."""

from __future__ import annotations

import os
import re
import socket
import threading

import pytest
from eth_abi import decode
from support import logs
from web3 import Web3

from somstack.core.bsclocal import (
    ADDRESSES,
    BNB_USD_ANSWER,
    BNB_USD_DECIMALS,
    BNB_USD_DESCRIPTION,
    BSC_CHAIN_ID,
    BSC_USD_DECIMALS,
    BSC_USD_NAME,
    BSC_USD_SYMBOL,
    CANONICAL,
    place_canonical,
    run_node,
    start_bsc_local,
)
from somstack.core.chain import free_port
from somstack.core.errors import ConfigError

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
    port, stop = free_port(), threading.Event()
    errors: list[BaseException] = []

    def serve():
        try:
            run_node(settings, bsc, port, stop=stop)
        except BaseException as exc:  # noqa: BLE001 - surfaced by the assertion below
            errors.append(exc)

    with logs.logged("somstack.core.bsclocal") as lines:
        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        try:
            _banner(lines, errors, thread, 150)
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


def _banner(lines, errors, thread, tries):
    """Waits (``tries`` tenths of a second at most) until run_node has written its banner."""
    for _ in range(tries):
        if any("Ctrl-C" in line for line in lines) or errors:
            break
        thread.join(0.1)
    assert not errors, errors


# --- bsc-fork: the fork plumbing, offline (a fork of a bsc-local chain) ---


def _serve(settings, port, **kwargs):
    """run_node in a thread until it prints its banner; returns (lines, stop, thread)."""
    stop, errors = threading.Event(), []
    collecting = logs.logged("somstack.core.bsclocal")
    lines = collecting.__enter__()  # collected until run_node returns, in its thread

    def serve():
        try:
            run_node(settings, False, port, stop=stop, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - surfaced by the caller's assertion
            errors.append(exc)
        finally:
            collecting.__exit__(None, None, None)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    _banner(lines, errors, thread, 300)
    return lines, stop, thread


def test_node_fork_forks_the_rpc_in_bsc_fork_rpc_url(settings, bsc_node, w3, monkeypatch):
    monkeypatch.setenv("BSC_FORK_RPC_URL", bsc_node.url)
    port = free_port()
    lines, stop, thread = _serve(settings, port, fork=settings.network("bsc-fork"))
    try:
        fork = Web3(Web3.HTTPProvider(f"http://127.0.0.1:{port}"))
        text = "\n".join(lines)
        assert "bsc-fork chain" in text and f"forked at block {w3.eth.block_number:,} of $BSC_FORK_RPC_URL" in text
        assert bsc_node.url not in text  # an RPC URL may carry a key: only the variable is named
        assert fork.eth.chain_id == 56
        for name, address in MAINNET.items():
            assert fork.eth.get_code(address) == w3.eth.get_code(address), name
    finally:
        stop.set()
        thread.join(10)
    assert lines[-1] == "chain stopped"


def test_node_fork_without_the_variable_says_which_to_set(capsys, monkeypatch):
    from clihelp import assert_one_line_error, run

    monkeypatch.setenv("BSC_FORK_RPC_URL", "")
    code, _out, err = run(capsys, "node", "--fork", "--port", str(free_port()))
    assert_one_line_error(code, err, "ConfigError", "set BSC_FORK_RPC_URL in .env")


def test_deploy_on_bsc_fork_starts_a_fork_and_sends_nothing_to_the_forked_chain(capsys, bsc_node, w3, deployments_dir, monkeypatch):
    from clihelp import run

    monkeypatch.setenv("BSC_FORK_RPC_URL", bsc_node.url)
    monkeypatch.setenv("SOMSTACK_RPC_BSC_FORK", f"http://127.0.0.1:{free_port()}")
    block = w3.eth.block_number
    code, out, err = run(capsys, "deploy", "--network", "bsc-fork", "--ephemeral")
    assert code == 0, err
    assert "starting a local anvil for this command" in err
    assert "ReserveVault" in out and w3.eth.block_number == block


# --- bsc-fork against BSC itself: run when BSC_FORK_RPC_URL names a BSC mainnet RPC ---

FORK_RPC = os.environ.get("BSC_FORK_RPC_URL", "").strip()
needs_fork = pytest.mark.skipif(
    not FORK_RPC, reason="BSC_FORK_RPC_URL is not set (.env): no BSC mainnet RPC to fork, so the real contracts cannot be compared"
)


@pytest.fixture(scope="module")
def bsc_fork(settings):
    """anvil forking BSC mainnet (network bsc-fork) on a free port."""
    from somstack.core.bsclocal import start_node_for

    node = start_node_for(settings, settings.network("bsc-fork"), free_port())
    yield node
    node.stop()


@pytest.fixture(scope="module")
def fork_w3(bsc_fork):
    return Web3(Web3.HTTPProvider(bsc_fork.url, request_kwargs={"timeout": 60}))


@pytest.fixture(scope="module")
def on_fork(fork_w3, artifacts):
    artifact_of = {c.name: c.artifact for c in CANONICAL}
    return lambda name: artifacts.get(artifact_of[name]).contract(fork_w3, MAINNET[name])


@pytest.mark.fork
@needs_fork
def test_fork_is_bsc_mainnet_with_code_at_every_canonical_address(fork_w3):
    assert fork_w3.eth.chain_id == 56
    for name, address in MAINNET.items():
        assert fork_w3.eth.get_code(address), f"no code at {name} {address}"


@pytest.mark.fork
@needs_fork
def test_fork_wbnb_answers_as_the_local_stand_in(on_fork, at):
    real, ours = on_fork("WBNB"), at("WBNB")
    for getter in ("name", "symbol", "decimals"):
        assert getattr(real.functions, getter)().call() == getattr(ours.functions, getter)().call(), getter


@pytest.mark.fork
@needs_fork
def test_fork_bsc_usd_has_the_metadata_bsc_local_gives_it(on_fork):
    token = on_fork("BSC-USD")
    assert token.functions.name().call() == BSC_USD_NAME
    assert token.functions.symbol().call() == BSC_USD_SYMBOL
    assert token.functions.decimals().call() == BSC_USD_DECIMALS


@pytest.mark.fork
@needs_fork
def test_fork_bnb_usd_feed_has_the_local_metadata_and_a_fresh_round(settings, fork_w3, on_fork):
    feed = on_fork("BNB/USD")
    assert feed.functions.decimals().call() == BNB_USD_DECIMALS
    assert feed.functions.description().call() == BNB_USD_DESCRIPTION
    round_id, answer, _started_at, updated_at, answered_in_round = feed.functions.latestRoundData().call()
    now = fork_w3.eth.get_block("latest")["timestamp"]
    heartbeat = settings.deployment("bsc-fork").reserve["assets"]["BNB"]["heartbeat"]  # what the vault holds it to
    assert answer > 0 and answered_in_round >= round_id
    assert 0 <= now - updated_at <= heartbeat


@pytest.mark.fork
@needs_fork
def test_fork_multicall3_batches_reads_of_the_real_contracts(fork_w3, on_fork):
    multicall, wbnb, token = on_fork("Multicall3"), on_fork("WBNB"), on_fork("BSC-USD")
    assert multicall.functions.getChainId().call() == 56
    results = multicall.functions.aggregate3([
        (MAINNET["WBNB"], False, wbnb.encode_abi("decimals")),
        (MAINNET["BSC-USD"], False, token.encode_abi("decimals")),
    ]).call()
    assert [decode(["uint8"], data)[0] for _ok, data in results] == [18, BSC_USD_DECIMALS]


@pytest.mark.fork
@needs_fork
@pytest.mark.parametrize("target", ["bsc-main", "bsc-fork"])
def test_fork_dry_run_prices_the_whole_plan_and_sends_nothing(capsys, bsc_fork, fork_w3, deployments_dir, monkeypatch, target):
    """`somstack deploy --dry-run` against the fork: as bsc-main (BSC_MAINNET_RPC_URL on the
    fork, the mainnet path with a key of its own) and as bsc-fork (the BNB feed registered)."""
    from clihelp import run

    monkeypatch.setenv("BSC_MAINNET_RPC_URL", bsc_fork.url)
    monkeypatch.setenv("SOMSTACK_RPC_BSC_FORK", bsc_fork.url)
    monkeypatch.setenv("DEPLOYER_PRIVATE_KEY", "0x" + "11" * 32)
    block = fork_w3.eth.block_number
    code, out, err = run(capsys, "deploy", "--network", target, "--dry-run")
    assert code == 0, err
    assert re.search(r"^\d+ transactions, [\d,]+ gas, [\d.]+ BNB at the current gas price$", out, re.M)
    assert out.rstrip().endswith("nothing was sent") and fork_w3.eth.block_number == block


def test_run_node_refuses_a_port_in_use(settings):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        with pytest.raises(ConfigError, match="is in use"):
            run_node(settings, True, busy.getsockname()[1])


def test_deploy_on_bsc_local_prices_bnb_with_the_feed_at_its_mainnet_address(capsys, bsc_node, deployments_dir, monkeypatch, artifacts):
    """The plan on bsc-local (brownie-config.yaml overrides) registers native BNB with the
    Chainlink BNB/USD aggregator at its real address: the same configuration as on BSC."""
    import json

    from clihelp import run

    monkeypatch.setenv("SOMSTACK_RPC_BSC_LOCAL", bsc_node.url)
    code, _out, err = run(capsys, "deploy", "--network", "bsc-local")
    assert code == 0, err
    manifest = json.loads((deployments_dir / "56-bsc-local.json").read_text())
    w3 = Web3(Web3.HTTPProvider(bsc_node.url))
    vault = artifacts.get("ReserveVault").contract(w3, manifest["contracts"]["ReserveVault"]["address"])
    native = "0xEeeeeEeeeEeEeeEeEeEeeEEEeeeeEeeeeeeeEEeE"
    assert vault.functions.asset(native).call()[0][0] == MAINNET["BNB/USD"]
    assert vault.functions.price(native).call()[0] == 600 * 10**8
