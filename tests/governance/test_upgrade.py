"""UUPS upgrades: only the UPGRADER, only through the AccessManager's schedule and its delay, and
the proxy keeps every balance, allowance, blocklist entry and minter allowance."""

import pytest
from brownie import ComplianceLogic, Contract, MockERC20, Stablecoin, StablecoinV2Mock, chain, web3
from eth_utils import keccak

UNIT = 10**18
MAX_UINT = 2**256 - 1
DELAY = 60  # brownie-config.yaml: deployment.overrides.local.upgrade_delay [s]
# ERC-1967 implementation slot: keccak256("eip1967.proxy.implementation") - 1
IMPLEMENTATION_SLOT = int.from_bytes(keccak(text="eip1967.proxy.implementation"), "big") - 1


@pytest.fixture
def v2(admin, funded):
    """The new implementation, deployed but not yet behind the proxy (linked to a ComplianceLogic
    that brownie deployed, as it links only the libraries it knows)."""
    ComplianceLogic.deploy({"from": admin})
    return StablecoinV2Mock.deploy(funded.name(), {"from": admin})


@pytest.fixture
def calldata(funded, v2):
    return funded.upgradeToAndCall.encode_input(v2, b"")


@pytest.fixture
def scheduled(manager, funded, calldata, upgrader):
    """The upgrade to v2 is scheduled by the upgrader, as soon as its delay allows."""
    manager.schedule(funded, calldata, 0, {"from": upgrader})
    return calldata


def _wait_delay():
    chain.sleep(DELAY + 1)
    chain.mine()


def _implementation(proxy):
    word = web3.eth.get_storage_at(proxy.address, IMPLEMENTATION_SLOT)
    return web3.to_checksum_address(bytes(word)[-20:])


@pytest.fixture
def lived_in(funded, alice, bob, carol, mallory, compliance, minter, minter_admin):
    """State worth keeping: allowances (one unlimited), a blocked holder, a spent minter allowance."""
    funded.approve(bob, 25 * UNIT, {"from": alice})
    funded.approve(carol, MAX_UINT, {"from": bob})
    funded.transfer(mallory, 40 * UNIT, {"from": alice})
    funded.blockAccount(mallory, keccak(text="sanctions"), {"from": compliance})
    funded.configureMinter(minter, 777 * UNIT, {"from": minter_admin})
    return funded


def _snapshot(token, alice, bob, carol, mallory, minter):
    return {
        "balances": [token.balanceOf(a) for a in (alice, bob, carol, mallory)],
        "allowances": [token.allowance(alice, bob), token.allowance(bob, carol)],
        "blocked": [token.isBlocked(a) for a in (alice, bob, carol, mallory)],
        "minterAllowance": token.minterAllowance(minter),
        "totalSupply": token.totalSupply(),
        "depositRefUsed": token.isDepositReferenceUsed(keccak(text="genesis-deposit-0")),
        "metadata": (token.name(), token.symbol(), token.decimals()),
    }


def test_upgrade_direct_call_by_upgrader_reverts(funded, manager, v2, calldata, upgrader, reverts):
    operation = manager.hashOperation(upgrader, funded, calldata)
    with reverts("AccessManagerNotScheduled", operationId=bytes(operation)):
        funded.upgradeToAndCall(v2, b"", {"from": upgrader})


def test_upgrade_direct_call_by_stranger_reverts(funded, v2, stranger, reverts):
    with reverts("AccessManagedUnauthorized", caller=stranger.address):
        funded.upgradeToAndCall(v2, b"", {"from": stranger})


def test_upgrade_schedule_emits_operation_scheduled(manager, funded, calldata, upgrader):
    tx = manager.schedule(funded, calldata, 0, {"from": upgrader})
    event = tx.events["OperationScheduled"]
    assert (event["caller"], event["target"], event["schedule"]) == (upgrader, funded, tx.timestamp + DELAY)


def test_upgrade_schedule_by_stranger_reverts(manager, funded, calldata, stranger, reverts):
    selector = bytes.fromhex(calldata[2:10])
    with reverts("AccessManagerUnauthorizedCall", caller=stranger.address, target=funded.address, selector=selector):
        manager.schedule(funded, calldata, 0, {"from": stranger})


def test_upgrade_schedule_before_delay_reverts(manager, funded, calldata, upgrader, reverts):
    with reverts("AccessManagerUnauthorizedCall", caller=upgrader.address):
        manager.schedule(funded, calldata, chain[-1].timestamp + DELAY // 2, {"from": upgrader})


def test_upgrade_execute_before_delay_reverts(manager, funded, scheduled, upgrader, reverts):
    operation = manager.hashOperation(upgrader, funded, scheduled)
    with reverts("AccessManagerNotReady", operationId=bytes(operation)):
        manager.execute(funded, scheduled, {"from": upgrader})


def test_upgrade_execute_before_delay_keeps_implementation(manager, funded, scheduled, upgrader, reverts):
    before = _implementation(funded)
    with reverts("AccessManagerNotReady"):
        manager.execute(funded, scheduled, {"from": upgrader})
    assert _implementation(funded) == before


def test_upgrade_execute_after_delay_switches_implementation(manager, funded, scheduled, upgrader, v2):
    _wait_delay()
    manager.execute(funded, scheduled, {"from": upgrader})
    assert _implementation(funded) == v2.address


def test_upgrade_execute_emits_upgraded(manager, funded, scheduled, upgrader, v2):
    _wait_delay()
    tx = manager.execute(funded, scheduled, {"from": upgrader})
    assert tx.events["Upgraded"]["implementation"] == v2


def test_upgraded_proxy_reports_version_two(manager, funded, scheduled, upgrader):
    _wait_delay()
    manager.execute(funded, scheduled, {"from": upgrader})
    upgraded = Contract.from_abi("StablecoinV2Mock", funded.address, StablecoinV2Mock.abi)
    assert upgraded.version() == "2"


def test_upgrade_keeps_state(manager, lived_in, calldata, upgrader, alice, bob, carol, mallory, minter):
    before = _snapshot(lived_in, alice, bob, carol, mallory, minter)
    manager.schedule(lived_in, calldata, 0, {"from": upgrader})
    _wait_delay()
    manager.execute(lived_in, calldata, {"from": upgrader})
    assert _snapshot(lived_in, alice, bob, carol, mallory, minter) == before


def test_upgraded_token_still_enforces_blocklist(manager, lived_in, calldata, upgrader, mallory, alice, reverts):
    manager.schedule(lived_in, calldata, 0, {"from": upgrader})
    _wait_delay()
    manager.execute(lived_in, calldata, {"from": upgrader})
    with reverts("BlockedAddress", account=mallory.address):
        lived_in.transfer(alice, 1 * UNIT, {"from": mallory})


def test_upgraded_token_minter_allowance_usable(manager, lived_in, calldata, upgrader, minter, carol):
    manager.schedule(lived_in, calldata, 0, {"from": upgrader})
    _wait_delay()
    manager.execute(lived_in, calldata, {"from": upgrader})
    lived_in.mint(carol, 777 * UNIT, keccak(text="post-upgrade-deposit"), {"from": minter})
    assert (lived_in.balanceOf(carol), lived_in.minterAllowance(minter)) == (777 * UNIT, 0)


def test_upgrade_execute_twice_reverts(manager, funded, scheduled, upgrader, reverts):
    _wait_delay()
    manager.execute(funded, scheduled, {"from": upgrader})
    operation = manager.hashOperation(upgrader, funded, scheduled)
    with reverts("AccessManagerNotScheduled", operationId=bytes(operation)):
        manager.execute(funded, scheduled, {"from": upgrader})


def test_upgrade_execute_by_stranger_reverts(manager, funded, scheduled, stranger, reverts):
    _wait_delay()
    with reverts("AccessManagerUnauthorizedCall", caller=stranger.address, target=funded.address):
        manager.execute(funded, scheduled, {"from": stranger})


def test_upgrade_to_non_uups_implementation_reverts(manager, funded, admin, upgrader, reverts):
    not_uups = MockERC20.deploy("Not UUPS", "NOPE", {"from": admin})
    data = funded.upgradeToAndCall.encode_input(not_uups, b"")
    manager.schedule(funded, data, 0, {"from": upgrader})
    _wait_delay()
    with reverts("ERC1967InvalidImplementation", implementation=not_uups.address):
        manager.execute(funded, data, {"from": upgrader})


def test_implementation_cannot_be_initialized(v2, manager, stranger, reverts):
    with reverts("InvalidInitialization"):
        v2.initialize("Hijack", "HJK", 18, manager, {"from": stranger})


MIN_SETBACK = 5 * 24 * 3600  # AccessManager.minSetback(): a raised delay applies after it


def test_admin_granting_itself_upgrader_waits_the_grant_delay(manager, kgst, admin, reverts):
    from brownie import chain

    assert manager.minSetback() == MIN_SETBACK
    chain.sleep(MIN_SETBACK + 1)
    chain.mine()
    assert manager.getRoleGrantDelay(9) == 60
    manager.grantRole(9, admin, 0, {"from": admin})
    assert manager.hasRole(9, admin)[0] is False  # a member only once the grant delay has passed
    with reverts("AccessManagedUnauthorized", caller=admin.address):
        kgst.upgradeToAndCall(kgst.address, b"", {"from": admin})


def test_admin_cannot_move_upgrade_to_its_own_role_without_the_delay(manager, kgst, admin, reverts):
    from brownie import chain

    chain.sleep(MIN_SETBACK + 1)
    chain.mine()
    assert manager.getTargetAdminDelay(kgst) == 60
    selector = kgst.upgradeToAndCall.signature
    with reverts("AccessManagerNotScheduled"):
        manager.setTargetFunctionRole(kgst, [selector], 0, {"from": admin})


# --- The EIP-712 domain name fixed in the implementation (SignedTransfers) ---


def test_upgrade_to_another_domain_name_reverts(manager, funded, upgrader, admin, reverts):
    ComplianceLogic.deploy({"from": admin})
    other = StablecoinV2Mock.deploy("Another Token Name", {"from": admin})
    data = funded.upgradeToAndCall.encode_input(other, b"")
    manager.schedule(funded, data, 0, {"from": upgrader})
    _wait_delay()
    with reverts("SignedTransfersDomainNameMismatch", expected=keccak(text=funded.name()), actual=keccak(text="Another Token Name")):
        manager.execute(funded, data, {"from": upgrader})


def test_initialize_with_another_domain_name_reverts(artifacts, manager, admin):
    ComplianceLogic.deploy({"from": admin})
    implementation = Stablecoin.deploy("KGST Som Stablecoin", {"from": admin})
    init = implementation.initialize.encode_input("Another Token Name", "KGST", 18, manager)
    proxy = artifacts.get("SomProxy").contract(web3)
    with pytest.raises(ValueError) as failure:  # brownie's web3 raises the node's error as is
        web3.eth.estimate_gas({"from": admin.address, "data": proxy.constructor(implementation.address, init).data_in_transaction})
    assert artifacts.decoder.decode(failure.value.args[0]["data"]).name == "SignedTransfersDomainNameMismatch"
