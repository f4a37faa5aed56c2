"""The deploy plan: complete, idempotent, and resumable without paying twice."""

from __future__ import annotations

import json

import pytest
from faults import FlakySender, Interrupt

from somstack.core.artifacts import Artifacts
from somstack.core.chain import NodeSigner, RetryPolicy, Sender, rpc_web3
from somstack.core.config import Network, load_settings
from somstack.system.deploy import DeployContext, deploy_system, resolve_holders
from somstack.system.roles import DELAYED_ROLES, FUNCTION_ROLES, ROLES


def _plan_transactions():
    """The transactions of the local plan, counted from the settings it reads."""
    params = load_settings().deployment("local")
    assets = params.reserve["assets"].values()
    mocks = sum(isinstance(a["feed"], dict) for a in assets) + sum(isinstance(a["token"], dict) for a in assets)
    contracts = 4 + mocks + 2 + 3 + 2  # manager, the tokens' ComplianceLogic, KGST impl + proxy, mocks, vault impl + proxy, CBDC library + impl + proxy, queue impl + proxy
    tiers = len(params.digital_currency.tiers)
    labels = len(ROLES) - 1
    function_groups = sum(len(table) for table in FUNCTION_ROLES.values())
    connect = 2  # KGST -> vault, BURNER -> the redemption queue
    grants = sum(len(holders) for holders in params.dev_holders.values())
    delays = len(DELAYED_ROLES) + len(FUNCTION_ROLES)  # grant delays, admin delay per contract
    return contracts + tiers + labels + function_groups + connect + grants + delays


PLAN_TRANSACTIONS = _plan_transactions()
CONTRACTS = {"AccessManager", "ComplianceLogic", "StablecoinImplementation", "Stablecoin", "ReserveVaultImplementation", "ReserveVault",
             "Feed:BNB", "Feed:BTCB", "Feed:BSC-USD", "Token:BTCB", "Token:BSC-USD",
             "DigitalCurrencyLogic", "DigitalCurrencyImplementation", "DigitalCurrency",
             "RedemptionQueueImplementation", "RedemptionQueue"}


def make_ctx(settings, node, deployments_dir, sender=None):
    network = Network("local", node.url, node.url, node.chain_id, dev=True)
    w3 = rpc_web3(node.url, RetryPolicy(), node.url)
    sender = sender or Sender(w3, NodeSigner(w3.eth.accounts[0]), Artifacts(settings.root).decoder)
    holders = resolve_holders(settings, network, w3)
    return DeployContext(settings, network, w3, sender, settings.deployment("local"), holders, deployments_dir=deployments_dir)


@pytest.fixture
def node(node_factory):
    return node_factory()


def nonce_of_deployer(node):
    w3 = rpc_web3(node.url, RetryPolicy(), node.url)
    return w3.eth.get_transaction_count(w3.eth.accounts[0])


def test_deploy_records_every_contract_with_code(settings, node, deployments_dir):
    result = deploy_system(make_ctx(settings, node, deployments_dir))
    w3 = rpc_web3(node.url, RetryPolicy(), node.url)
    data = json.loads((deployments_dir / "31337.json").read_text())
    assert data["complete"] is True
    assert set(data["contracts"]) == CONTRACTS
    for record in data["contracts"].values():
        assert w3.eth.get_code(record["address"]) != b""
        assert record["txHash"].startswith("0x") and record["block"] > 0
    assert data["compiler"] == {"solc": "0.8.37", "evmVersion": "prague", "optimizer": settings.compiler.optimizer}
    assert result.sent == PLAN_TRANSACTIONS == nonce_of_deployer(node)


def test_deploy_rerun_on_complete_manifest_sends_nothing(settings, node, deployments_dir):
    deploy_system(make_ctx(settings, node, deployments_dir))
    before = (deployments_dir / "31337.json").read_bytes()
    again = deploy_system(make_ctx(settings, node, deployments_dir))
    assert again.already_complete and again.sent == 0
    assert (deployments_dir / "31337.json").read_bytes() == before
    assert nonce_of_deployer(node) == PLAN_TRANSACTIONS


@pytest.mark.parametrize("after_send", [False, True], ids=["before-send", "after-send"])
@pytest.mark.parametrize("fail_at", [2, 3, 9, 12, PLAN_TRANSACTIONS])
def test_deploy_interrupted_resumes_without_paying_twice(settings, node, deployments_dir, fail_at, after_send):
    w3 = rpc_web3(node.url, RetryPolicy(), node.url)
    decoder = Artifacts(settings.root).decoder
    flaky = FlakySender(w3, NodeSigner(w3.eth.accounts[0]), decoder, fail_at=fail_at, after_send=after_send)
    with pytest.raises(Interrupt):
        deploy_system(make_ctx(settings, node, deployments_dir, flaky))
    partial = json.loads((deployments_dir / "31337.json").read_text())  # still valid JSON
    assert partial["complete"] is False
    resumed = deploy_system(make_ctx(settings, node, deployments_dir))
    assert resumed.manifest.complete
    sent_before = fail_at if after_send else fail_at - 1
    assert resumed.sent == PLAN_TRANSACTIONS - sent_before
    assert nonce_of_deployer(node) == PLAN_TRANSACTIONS  # every transaction of the plan exactly once


def test_deploy_on_restarted_dev_chain_starts_afresh(settings, node_factory, deployments_dir):
    first = node_factory()
    deploy_system(make_ctx(settings, first, deployments_dir))
    first.stop()
    second = node_factory()
    result = deploy_system(make_ctx(settings, second, deployments_dir))
    assert not result.already_complete and result.sent == PLAN_TRANSACTIONS
