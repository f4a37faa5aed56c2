"""Upgrade safety on a live proxy: KGST and the reserve vault, lived in (balances, allowances, a
blocked holder, permit and EIP-3009 nonces, minter allowances, a pending seizure, pause flags;
assets, rate, attestation), are upgraded to V2 mocks that append a namespace (contracts/test/),
through the AccessManager as governance does it: the UPGRADER schedules, waits its execution
delay, executes. Every V1 state survives, the V2 field starts at zero and writing it moves nothing.
The upgrade's permissions themselves (who may schedule, too early, twice) are in
tests/governance/test_upgrade.py; the storage layout rule in test_storage_layout.py."""

import re

import pytest
from brownie import (
    ComplianceLogic,
    Contract,
    ReserveVaultV2Mock,
    StablecoinV2Mock,
    chain,
)
from eth_utils import keccak

from somstack.core.signatures import (
    Domain,
    random_nonce,
    sign_authorization,
    sign_permit,
)
from somstack.system.roles import ROLES

UNIT = 10**18
DELAY = 60  # brownie-config.yaml: deployment.overrides.local.upgrade_delay [s]
PAUSE_MINT = 2
AUTH_VRS = "address,address,uint256,uint256,uint256,bytes32,uint8,bytes32,bytes32"
PERMIT_VRS = "address,address,uint256,uint256,uint8,bytes32,bytes32"


def _upgrade(manager, proxy, implementation, upgrader):
    """Schedule, wait the UPGRADER's delay, execute: the proxy now runs `implementation`."""
    data = proxy.upgradeToAndCall.encode_input(implementation, b"")
    manager.schedule(proxy, data, 0, {"from": upgrader})
    chain.sleep(DELAY + 1)
    chain.mine()
    manager.execute(proxy, data, {"from": upgrader})


@pytest.fixture
def lived_in(funded, manager, alice, bob, carol, mallory, relayer, minter, minter_admin, compliance, pauser):
    """KGST with some of every kind of state, and the EIP-3009 nonce alice used."""
    token = funded
    domain = Domain.of(token)
    token.approve(bob, 25 * UNIT, {"from": alice})
    deadline = chain[-1].timestamp + 3_600
    sig = sign_permit(domain, alice.private_key, alice.address, carol.address, 7 * UNIT, token.nonces(alice), deadline)
    token.permit[PERMIT_VRS](alice, carol, 7 * UNIT, deadline, sig.v, sig.r, sig.s, {"from": relayer})
    nonce = random_nonce()
    sig = sign_authorization(domain, alice.private_key, alice.address, carol.address, 3 * UNIT, 0, deadline, nonce)
    token.transferWithAuthorization[AUTH_VRS](alice, carol, 3 * UNIT, 0, deadline, nonce, sig.v, sig.r, sig.s, {"from": relayer})
    token.transfer(mallory, 40 * UNIT, {"from": bob})
    token.blockAccount(mallory, keccak(text="sanctions"), {"from": compliance})
    token.proposeSeizure(mallory, alice, 10 * UNIT, keccak(text="court-order"), keccak(text="sanctions"), {"from": compliance})
    token.configureMinter(minter, 777 * UNIT, {"from": minter_admin})
    token.pause(PAUSE_MINT, {"from": pauser})
    return token, nonce


def _kgst_state(token, manager, people, nonce):
    alice = people[0]
    return {
        "balances": [token.balanceOf(p) for p in people],
        "allowances": [token.allowance(a, b) for a in people for b in people],
        "blocked": [token.isBlocked(p) for p in people],
        "nonces": [token.nonces(p) for p in people],
        "authorizationUsed": token.authorizationState(alice, nonce),
        "minterAllowances": [token.minterAllowance(p) for p in people],
        "totalSupply": token.totalSupply(),
        "pausedFlags": token.pausedFlags(),
        "seizures": (token.seizureCount(), token.seizure(1)),
        "depositRefUsed": token.isDepositReferenceUsed(keccak(text="genesis-deposit-0")),
        "reserveVault": token.reserveVault(),
        "authority": token.authority(),
        "metadata": (token.name(), token.symbol(), token.decimals(), token.DOMAIN_SEPARATOR()),
        "roles": [[tuple(manager.hasRole(role.id, p)) for role in ROLES.values()] for p in people],
    }


@pytest.fixture
def people(alice, bob, carol, mallory, minter, pauser, compliance):
    return [alice, bob, carol, mallory, minter, pauser, compliance]


EIP170_LIMIT = 24_576  # largest runtime code a chain accepts [bytes]
UPGRADE_ROOM = 512  # what a V2 needs at least for a fix and a function or two [bytes]; StablecoinV2Mock adds ~230


@pytest.fixture
def kgst_v2(admin, funded):
    """KGST's V2 implementation, deployed in the test."""
    def deploy():
        ComplianceLogic.deploy({"from": admin})  # brownie links the libraries it deployed itself
        return StablecoinV2Mock.deploy(funded.name(), {"from": admin})

    return deploy


def test_kgst_leaves_room_for_an_upgrade(artifacts):
    # the linked library's address is a 40-character placeholder until deployment
    code = re.sub(r"__\$[0-9a-f]{34}\$__", "0" * 40, artifacts.get("Stablecoin").deployed_bytecode.removeprefix("0x"))
    runtime = bytes.fromhex(code)
    assert len(runtime) <= EIP170_LIMIT - UPGRADE_ROOM


def test_kgst_upgrade_keeps_every_state(lived_in, manager, upgrader, kgst_v2, people):
    token, nonce = lived_in
    before = _kgst_state(token, manager, people, nonce)
    _upgrade(manager, token, kgst_v2(), upgrader)
    assert _kgst_state(token, manager, people, nonce) == before


def test_kgst_v2_field_starts_at_zero(lived_in, manager, upgrader, kgst_v2):
    token, _ = lived_in
    _upgrade(manager, token, kgst_v2(), upgrader)
    assert Contract.from_abi("StablecoinV2Mock", token.address, StablecoinV2Mock.abi).marker() == 0


def test_kgst_v2_field_write_moves_no_v1_state(lived_in, manager, upgrader, kgst_v2, admin, people):
    token, nonce = lived_in
    _upgrade(manager, token, kgst_v2(), upgrader)
    before = _kgst_state(token, manager, people, nonce)
    upgraded = Contract.from_abi("StablecoinV2Mock", token.address, StablecoinV2Mock.abi)
    upgraded.setMarker(2**256 - 1, {"from": admin})  # every bit of its slot
    assert (upgraded.marker(), _kgst_state(token, manager, people, nonce)) == (2**256 - 1, before)


def test_kgst_v2_keeps_roles_and_pause_in_force(lived_in, manager, upgrader, kgst_v2, minter, pauser, stranger, carol, reverts):
    token, _ = lived_in
    _upgrade(manager, token, kgst_v2(), upgrader)
    with reverts("OperationPaused", flag=PAUSE_MINT):
        token.mint(carol, 1 * UNIT, keccak(text="post-upgrade"), {"from": minter})
    with reverts("AccessManagedUnauthorized", caller=stranger.address):
        token.unpause(PAUSE_MINT, {"from": stranger})
    token.unpause(PAUSE_MINT, {"from": pauser})
    token.mint(carol, 1 * UNIT, keccak(text="post-upgrade"), {"from": minter})
    assert token.minterAllowance(minter) == 776 * UNIT


def test_kgst_v2_field_setter_refuses_stranger(lived_in, manager, upgrader, kgst_v2, stranger, reverts):
    token, _ = lived_in
    _upgrade(manager, token, kgst_v2(), upgrader)
    upgraded = Contract.from_abi("StablecoinV2Mock", token.address, StablecoinV2Mock.abi)
    with reverts("AccessManagedUnauthorized", caller=stranger.address):
        upgraded.setMarker(1, {"from": stranger})


# --- The reserve vault ---


def _vault_state(vault, assets):
    return {
        "assets": list(vault.assets()),
        "records": [tuple(vault.asset(a)) for a in assets],
        "rate": tuple(vault.rate()),
        "attestation": tuple(vault.attestation()),
        "minCoverage": vault.minCoverage(),
        "stablecoin": vault.stablecoin(),
        "authority": vault.authority(),
        "valuation": tuple(vault.valuation()),
    }


@pytest.fixture
def lived_in_vault(reserve_ready, funded, tokens, reserve_assets, admin):
    """The vault with the rate and attestation of `reserve_ready`, and BNB and BTCB deposited."""
    vault = reserve_ready
    vault.depositNative({"from": admin, "value": 3 * UNIT})
    btcb = tokens["BTCB"]
    btcb.mint(admin, 2 * UNIT, {"from": admin})
    btcb.approve(vault, 2 * UNIT, {"from": admin})
    vault.deposit(btcb, 2 * UNIT, {"from": admin})
    return vault


def test_vault_upgrade_keeps_every_state(lived_in_vault, manager, upgrader, admin, reserve_assets):
    v2 = ReserveVaultV2Mock.deploy({"from": admin})
    assets = list(reserve_assets.values())
    before = _vault_state(lived_in_vault, assets)
    _upgrade(manager, lived_in_vault, v2, upgrader)
    upgraded = Contract.from_abi("ReserveVaultV2Mock", lived_in_vault.address, ReserveVaultV2Mock.abi)
    assert upgraded.auditCount() == 0
    upgraded.recordAudit({"from": admin})
    assert (upgraded.auditCount(), _vault_state(lived_in_vault, assets)) == (1, before)
