"""`somstack status`: one screen read from the chain with no key (network, block, contracts with
their code checked, supplies, pause switches, coverage, and the age of every price)."""

from __future__ import annotations

import re

import pytest
from clihelp import assert_one_line_error, run
from eth_account import Account
from eth_utils import keccak
from web3 import Web3

from somstack.core.bsclocal import ADDRESSES, start_bsc_local
from somstack.core.chain import LocalNode, NodeSigner, Sender
from somstack.core.config import Network
from somstack.ops.reserve import coverage_text
from somstack.system.deploy import DeployContext, deploy_system, resolve_holders

UNIT = 10**18
RATE = 8745 * 10**16  # 87.45 KGS per USD [wad]
DAY = 86_400


@pytest.fixture(scope="module")
def system(settings, artifacts, tmp_path_factory):
    """A local chain with the system deployed by the plan; its manifest in a folder of its own."""
    node = LocalNode(settings, 31337).start()
    w3 = Web3(Web3.HTTPProvider(node.url))
    network = Network("local", node.url, "test", 31337, dev=True)
    folder = tmp_path_factory.mktemp("status-deployments")
    holders = resolve_holders(settings, network, w3)
    ctx = DeployContext(settings, network, w3, Sender(w3, NodeSigner(w3.eth.accounts[0]), artifacts.decoder),
                        settings.deployment("local"), holders, deployments_dir=folder)
    manifest = deploy_system(ctx).manifest
    yield node, w3, folder, manifest, holders
    node.stop()


@pytest.fixture
def chain(system, monkeypatch):
    """The deployed chain, reverted after each test; `somstack` pointed at it and its manifest."""
    node, w3, folder, manifest, holders = system
    monkeypatch.setenv("SOMSTACK_RPC_LOCAL", node.url)
    monkeypatch.setenv("SOMSTACK_DEPLOYMENTS_DIR", str(folder))
    monkeypatch.delenv("DEPLOYER_PRIVATE_KEY", raising=False)
    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]
    yield w3, manifest, holders
    w3.provider.make_request("evm_revert", [snapshot])


def _contract(w3, artifacts, manifest, name, artifact=None):
    return artifacts.get(artifact or name).contract(w3, manifest.address(name))


def _send(w3, call, sender):
    receipt = w3.eth.wait_for_transaction_receipt(call.transact({"from": sender}))
    assert receipt["status"] == 1


def _operate(w3, artifacts, manifest, holders):
    """Rate published, a bank attestation, 1,000 KGST minted: the reserve values and covers."""
    vault = _contract(w3, artifacts, manifest, "ReserveVault")
    kgst = _contract(w3, artifacts, manifest, "Stablecoin")
    now = w3.eth.get_block("latest")["timestamp"]
    _send(w3, vault.functions.setRate(RATE), holders["RATE_SETTER"][0])
    _send(w3, vault.functions.attest(10**9 * UNIT, now - 1, keccak(text="statement"), "ipfs://statement"), holders["ATTESTOR"][0])
    _send(w3, kgst.functions.configureMinter(holders["MINTER"][0], 10**6 * UNIT), holders["MINTER_ADMIN"][0])
    _send(w3, kgst.functions.mint(w3.eth.accounts[12], 1_000 * UNIT, keccak(text="deposit-1")), holders["MINTER"][0])
    return vault, kgst


def _line(out, start):
    lines = [line for line in out.splitlines() if line.startswith(start)]
    assert len(lines) == 1, (start, out)
    return lines[0]


def test_status_of_a_network_never_deployed_is_one_clear_line(capsys, node_factory, deployments_dir, monkeypatch):
    node = node_factory()
    monkeypatch.setenv("SOMSTACK_RPC_LOCAL", node.url)
    code, out, err = run(capsys, "status", "--network", "local")
    assert code == 0, err
    assert out.splitlines()[1:] == ["nothing deployed on local: no 31337.json (deploy with `somstack deploy --network local`)"]
    assert "chain 31337, block 0" in out.splitlines()[0]


def test_status_on_a_dev_network_nobody_serves_says_how_to_start_it(capsys, monkeypatch):
    from somstack.core.chain import free_port

    port = free_port()
    monkeypatch.setenv("SOMSTACK_RPC_LOCAL", f"http://127.0.0.1:{port}")
    code, _out, err = run(capsys, "status", "--network", "local")
    assert_one_line_error(code, err, "RpcUnavailableError", f"start it with `somstack node --port {port}`")


def test_status_lists_every_contract_of_the_manifest_with_its_code(capsys, chain):
    w3, manifest, _holders = chain
    code, out, err = run(capsys, "status", "--network", "local")
    assert code == 0, err
    header = out.splitlines()[0]
    assert re.match(rf"SomStack on local: chain 31337, block {w3.eth.block_number:,} at \d{{4}}-\d\d-\d\d ", header)
    assert "deployment 31337.json: complete" in out
    for name, record in manifest.contracts.items():
        assert re.search(rf"^{re.escape(name)}\s+{record['address']}\s+code$", out, re.M), name
    assert "NO CODE" not in out and "note:" not in out


def test_status_marks_a_contract_whose_code_is_missing(capsys, chain):
    w3, manifest, _holders = chain
    gone = manifest.address("ReserveVaultImplementation")
    w3.provider.make_request("anvil_setCode", [gone, "0x"])
    code, out, err = run(capsys, "status", "--network", "local")
    assert code == 0, err
    assert re.search(rf"^ReserveVaultImplementation\s+{gone}\s+NO CODE$", out, re.M)
    assert out.count("NO CODE") == 1
    assert "note: ReserveVault: could not be read" in out  # its proxy answers nothing now
    assert re.search(r"^KGST\s+\S+\s+0\.00\s+no$", out, re.M)  # the rest of the screen is there


def test_status_on_a_restarted_dev_chain_says_the_manifest_is_of_another_chain(capsys, chain, node_factory, monkeypatch):
    monkeypatch.setenv("SOMSTACK_RPC_LOCAL", node_factory().url)
    code, out, _err = run(capsys, "status", "--network", "local")
    assert code == 0
    assert "note: none of the" in out and "a dev chain that was restarted (deploy again)" in out
    assert "token" not in out and "reserve" not in out


def test_status_shows_supplies_coverage_and_fresh_prices(capsys, chain, artifacts):
    w3, manifest, holders = chain
    vault, kgst = _operate(w3, artifacts, manifest, holders)
    code, out, err = run(capsys, "status", "--network", "local")
    assert code == 0, err
    assert re.search(rf"^KGST\s+{kgst.address}\s+1,000\.00\s+no$", out, re.M)
    assert re.search(rf"^DSOM\s+{manifest.address('DigitalCurrency')}\s+0\.00\s+no$", out, re.M)
    assert f"coverage {coverage_text(vault.functions.coverageRatio().call())} (minimum 100.00%)" in _line(out, "reserve")
    for symbol in ("BNB", "BTCB", "BSC-USD"):
        assert _line(out, f"{symbol} feed").endswith("86,400 s  ok")
    assert _line(out, "som rate (KGS/USD)").endswith("172,800 s  ok")
    assert _line(out, "bank attestation").endswith("3,024,000 s  ok")


def test_status_decodes_the_pause_switches_of_each_token(capsys, chain, artifacts):
    w3, manifest, holders = chain
    kgst = _contract(w3, artifacts, manifest, "Stablecoin")
    dsom = _contract(w3, artifacts, manifest, "DigitalCurrency")
    pauser = holders["PAUSER"][0]
    _send(w3, kgst.functions.pause(kgst.functions.PAUSE_MINT().call() | kgst.functions.PAUSE_REDEEM().call()), pauser)
    _send(w3, dsom.functions.pause(dsom.functions.PAUSE_TRANSFERS().call()), pauser)
    code, out, _err = run(capsys, "status", "--network", "local")
    assert code == 0
    assert _line(out, "KGST").endswith("  mint, redeem")
    assert _line(out, "DSOM").endswith("  transfers")


def test_status_flags_prices_older_than_their_heartbeat_or_max_age(capsys, chain, artifacts):
    w3, manifest, holders = chain
    _operate(w3, artifacts, manifest, holders)
    w3.provider.make_request("evm_increaseTime", [DAY + 60])
    w3.provider.make_request("evm_mine", [])
    code, out, _err = run(capsys, "status", "--network", "local")
    assert code == 0
    for symbol in ("BNB", "BTCB", "BSC-USD"):
        assert "STALE: older than its 86,400 s heartbeat" in _line(out, f"{symbol} feed")
    assert _line(out, "som rate (KGS/USD)").endswith("  ok")  # a day old, two allowed
    w3.provider.make_request("evm_increaseTime", [DAY])
    w3.provider.make_request("evm_mine", [])
    _code, out, _err = run(capsys, "status", "--network", "local")
    assert "STALE: older than its 172,800 s maximum" in _line(out, "som rate (KGS/USD)")
    assert "valuation refused" in _line(out, "reserve")


def test_status_before_the_rate_is_published_says_so(capsys, chain):
    code, out, _err = run(capsys, "status", "--network", "local")
    assert code == 0
    assert _line(out, "som rate (KGS/USD)").endswith("NOT PUBLISHED")
    assert _line(out, "bank attestation").endswith("NONE POSTED")
    assert "valuation refused: no som rate published yet (ReserveVaultRateNotSet)" in _line(out, "reserve")


def test_status_needs_no_key_on_a_live_network(capsys, node_factory, deployments_dir, monkeypatch):
    node = node_factory(chain_id=97)
    monkeypatch.setenv("BSC_TESTNET_RPC_URL", node.url)
    monkeypatch.delenv("DEPLOYER_PRIVATE_KEY", raising=False)
    code, out, err = run(capsys, "status", "--network", "bsc-test")
    assert code == 0, err
    assert "(RPC $BSC_TESTNET_RPC_URL)" in out and node.url not in out  # the variable's name, never the URL
    assert "nothing deployed on bsc-test" in out


def test_status_on_bsc_local_reads_the_feed_at_its_mainnet_address(capsys, settings, deployments_dir, monkeypatch):
    node = start_bsc_local(settings)
    try:
        monkeypatch.setenv("SOMSTACK_RPC_BSC_LOCAL", node.url)
        assert run(capsys, "deploy", "--network", "bsc-local")[0] == 0
        code, out, err = run(capsys, "status", "--network", "bsc-local")
        assert code == 0, err
        assert out.startswith("SomStack on bsc-local: chain 56, block ")
        assert _line(out, "BNB feed").endswith("86,400 s  ok")
        w3 = Web3(Web3.HTTPProvider(node.url))
        assert w3.eth.get_code(ADDRESSES["BNB/USD"])  # what the vault prices BNB with
        assert Account.create().address not in out
    finally:
        node.stop()
