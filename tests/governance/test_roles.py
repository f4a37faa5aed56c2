"""The permission model: Roles.sol, somstack.system.roles and the AccessManager on chain agree, and
every restricted function refuses every account that does not hold its role."""

import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from brownie import MockERC20, web3
from eth_utils import function_abi_to_4byte_selector, keccak

from somstack.system.roles import ADMIN_FUNCTIONS, FUNCTION_ROLES, ROLES, role_id

UNIT = 10**18
ROOT = Path(__file__).resolve().parents[2]
REF = keccak(text="roles-test-reference")

# Which roles each role-named account holds after the deploy plan (brownie-config.yaml dev_holders).
HOLDINGS = {
    "admin": {"ADMIN"},
    "minter": {"MINTER"},
    "minter_admin": {"MINTER_ADMIN"},
    "burner": {"BURNER"},
    "pauser": {"PAUSER", "UNPAUSER"},
    "guardian": {"PAUSER"},
    "compliance": {"COMPLIANCE"},
    "seize_approver": {"SEIZE_APPROVER"},
    "rescuer": {"RESCUER"},
    "upgrader": {"UPGRADER"},
    "reserve_admin": {"RESERVE_ADMIN"},
    "rate_setter": {"RATE_SETTER"},
    "attestor": {"ATTESTOR"},
    "reserve_manager": {"RESERVE_MANAGER"},
    "issuer": {"ISSUER"},
    "treasury": {"TREASURY"},
    "kyc_officer": {"KYC_OFFICER"},
    "redeemer": {"REDEEMER"},
    "stranger": set(),
}
# brownie-config.yaml: deployment.overrides.local.upgrade_delay / withdrawal_delay
DELAYS = {"UPGRADER": 60, "RESERVE_MANAGER": 60}

RESTRICTED_ALL = [
    (contract, function, role)
    for contract, table in FUNCTION_ROLES.items()
    for role, functions in table.items()
    for function in functions
]
ADMIN_ONLY = [(contract, function, "ADMIN") for contract, functions in ADMIN_FUNCTIONS.items() for function in functions]
RESTRICTED = [(function, role) for contract, function, role in RESTRICTED_ALL if contract == "Stablecoin"]
# contract -> its source files: the tokens' shared functions are written once in CompliantToken.
SOURCES = {
    "Stablecoin": ("contracts/Stablecoin.sol", "contracts/token/CompliantToken.sol"),
    "ReserveVault": ("contracts/ReserveVault.sol",),
    "DigitalCurrency": ("contracts/DigitalCurrency.sol", "contracts/token/CompliantToken.sol"),
    "RedemptionQueue": ("contracts/RedemptionQueue.sol",),
}


def _roles_sol():
    text = (ROOT / "contracts" / "governance" / "Roles.sol").read_text()
    return {name: int(value) for name, value in re.findall(r"uint64\s+internal\s+constant\s+(\w+)\s*=\s*(\d+)\s*;", text)}


def _restricted_in_source(contract):
    """Names of the functions declared `restricted` in the contract's source (`_authorizeUpgrade`
    guards `upgradeToAndCall`)."""
    text = "\n".join((ROOT / source).read_text() for source in SOURCES[contract])
    names = {name for name, modifiers in re.findall(r"function\s+(\w+)\s*\([^)]*\)([^{;]*)\{", text) if re.search(r"\brestricted\b", modifiers)}
    return {"upgradeToAndCall" if name == "_authorizeUpgrade" else name for name in names}


VAULT_ARGS = {
    "registerAsset": lambda a: (a, (a, 3600, 0, 10_000, 0)),
    "updateAsset": lambda a: (a, (a, 3600, 0, 10_000, 0)),
    "unregisterAsset": lambda a: (a,),
    "setRateBounds": lambda a: (3600, 100),
    "setAttestationMaxAge": lambda a: (3600,),
    "setMinCoverage": lambda a: (10_000,),
    "setRate": lambda a: (87 * UNIT,),
    "attest": lambda a: (1, 1, REF, "uri"),
    "withdraw": lambda a: (a, a, 1),
    "upgradeToAndCall": lambda a: (a, b""),
}


CBDC_ARGS = {
    "setTier": lambda a: (1, (1, 1, 1, True)),
    "registerWallet": lambda a: (a, 1, REF, REF),
    "registerWallets": lambda a: ([a], 1, [REF], [REF]),
    "changeTier": lambda a: (a, 2, REF),
    "deregisterWallet": lambda a: (a, REF),
    "setWaterfall": lambda a: (a, "0x" + "00" * 20),
    "mint": lambda a: (a, 100, REF),
    "burn": lambda a: (100, REF),
    "disburse": lambda a: (REF, [a], [100], False),
}


QUEUE_ARGS = {
    "pay": lambda a: ([1], [REF]),
    "reject": lambda a: ([1], [1]),
    "pause": lambda a: (),
    "unpause": lambda a: (),
    "proposeEscrowSeizure": lambda a: (1, a, REF, REF),
    "executeEscrowSeizure": lambda a: (1,),
    "rejectEscrowSeizure": lambda a: (1,),
    "setMinAmount": lambda a: (1,),
    "setServiceLevel": lambda a: (60,),
    "upgradeToAndCall": lambda a: (a, b""),
}


def _args(function, kgst, alice, mallory, contract="Stablecoin"):
    """Valid-looking arguments for each restricted function."""
    if contract == "RedemptionQueue":
        return QUEUE_ARGS[function](alice.address)
    if contract == "ReserveVault":
        return VAULT_ARGS[function](alice.address)
    if contract == "DigitalCurrency" and function in CBDC_ARGS:
        return CBDC_ARGS[function](alice.address)
    if function == "setReserveVault":
        return (alice,)
    return {
        "mint": (alice, 1 * UNIT, REF),
        "burn": (1 * UNIT, REF),
        "configureMinter": (alice, 1 * UNIT),
        "increaseMinterAllowance": (alice, 1 * UNIT),
        "decreaseMinterAllowance": (alice, 1 * UNIT),
        "removeMinter": (alice,),
        "pause": (1,),
        "unpause": (1,),
        "blockAccount": (mallory, REF),
        "unblockAccount": (mallory,),
        "proposeSeizure": (mallory, alice, 1 * UNIT, REF, REF),
        "executeSeizure": (1,),
        "rejectSeizure": (1,),
        "rescueERC20": (kgst, alice, 0),
        "upgradeToAndCall": (alice, b""),  # refused before the new implementation is looked at
    }[function]


# --- (a) Roles.sol and somstack.system.roles ---


def test_roles_sol_ids_match_python_table():
    assert _roles_sol() == {name: role.id for name, role in ROLES.items()}


def test_roles_sol_ids_are_unique():
    ids = list(_roles_sol().values())
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("contract", list(SOURCES))
def test_restricted_functions_in_source_match_table(contract):
    expected = {f for c, f, _ in RESTRICTED_ALL + ADMIN_ONLY if c == contract}
    assert _restricted_in_source(contract) == expected


# --- (b) the AccessManager's function roles ---


def _selectors(abi, name):
    return [function_abi_to_4byte_selector(i) for i in abi if i.get("type") == "function" and i["name"] == name]


@pytest.mark.parametrize("contract, function, role", RESTRICTED_ALL + ADMIN_ONLY, ids=[f"{c}.{f}" for c, f, _ in RESTRICTED_ALL + ADMIN_ONLY])
def test_function_role_on_chain_matches_table(kgst, vault, cbdc, queue, manager, contract, function, role):
    target = {"Stablecoin": kgst, "ReserveVault": vault, "DigitalCurrency": cbdc, "RedemptionQueue": queue}[contract]
    selectors = _selectors(target.abi, function)
    assert selectors and all(manager.getTargetFunctionRole(target, s) == role_id(role) for s in selectors)


def test_role_labels_on_chain_match_table(manager):
    labels = {e.args.roleId: e.args.label for e in manager.events.get_sequence(from_block=0, event_type="RoleLabel")}
    assert labels == {role.id: name for name, role in ROLES.items() if role.id != 0}


# --- Role holders as the deploy plan granted them ---


@pytest.mark.parametrize("account", list(HOLDINGS))
def test_account_holds_exactly_its_roles(manager, request, account):
    holder = request.getfixturevalue(account)
    held = {name for name, role in ROLES.items() if manager.hasRole(role.id, holder)[0]}
    assert held == HOLDINGS[account]


@pytest.mark.parametrize(
    "account, role",
    [(a, r) for a, roles in HOLDINGS.items() for r in sorted(roles)],
    ids=[f"{a}-{r}" for a, roles in HOLDINGS.items() for r in sorted(roles)],
)
def test_role_execution_delay(manager, request, account, role):
    holder = request.getfixturevalue(account)
    assert tuple(manager.hasRole(role_id(role), holder)) == (True, DELAYS.get(role, 0))


def test_upgrader_has_local_execution_delay(manager, upgrader):
    assert tuple(manager.hasRole(9, upgrader)) == (True, 60)


# --- (c) every restricted function refuses every account without its role ---


def _outsiders(role):
    """The role-named accounts (the stranger included) that do not hold `role`."""
    return [account for account, held in HOLDINGS.items() if role not in held]


def _refusal(target, function, args, caller, decoder):
    """What the contract answers ``caller`` calling ``function``: the decoded custom error of the
    revert, or None if it would succeed. An eth_call runs the code a transaction would run, from
    that sender, on the latest state; the access check is the first thing it meets."""
    data = getattr(target, function).encode_input(*args)
    try:
        web3.eth.call({"from": caller.address, "to": target.address, "data": data})
    except Exception as exc:  # web3's ContractCustomError has .data; brownie's middleware a dict
        payload = exc.args[0] if exc.args and isinstance(exc.args[0], dict) else {}
        revert = getattr(exc, "data", None) or payload.get("data")
        return decoder.decode(revert) if revert else exc
    return None


@pytest.mark.parametrize("contract, function, role", RESTRICTED_ALL + ADMIN_ONLY, ids=[f"{c}.{f}" for c, f, _ in RESTRICTED_ALL + ADMIN_ONLY])
def test_restricted_function_without_role_reverts(kgst, vault, cbdc, queue, request, alice, mallory, artifacts, contract, function, role):
    """Each outsider's call must revert with AccessManagedUnauthorized(caller). The calls are
    eth_calls from the outsider (the code a transaction runs, without mining it: about 15
    requests and a revert trace fewer each, as tests/security/test_access_matrix.py calls);
    test_restricted_function_with_role_succeeds sends the holders' real transactions."""
    target = {"Stablecoin": kgst, "ReserveVault": vault, "DigitalCurrency": cbdc, "RedemptionQueue": queue}[contract]
    args = _args(function, kgst, alice, mallory, contract)
    failures = []
    for account in _outsiders(role):
        caller = request.getfixturevalue(account)
        error = _refusal(target, function, args, caller, artifacts.decoder)
        name = getattr(error, "name", None)
        if name != "AccessManagedUnauthorized" or str(error.args["caller"]).lower() != caller.address.lower():
            failures.append(f"{function} by {account}: expected AccessManagedUnauthorized({caller.address}), got {error!r}")
    assert not failures, "\n".join(failures)


def _setup_and_event(function, kgst, parties):
    """Brings the token into a state where `function` succeeds for its role; returns the event
    its success emits."""
    p = parties
    if function == "mint":
        kgst.configureMinter(p.minter, 1 * UNIT, {"from": p.minter_admin})
        return "Minted"
    if function == "burn":
        kgst.transfer(p.burner, 1 * UNIT, {"from": p.alice})
        return "Redeemed"
    if function in ("configureMinter", "increaseMinterAllowance", "decreaseMinterAllowance", "removeMinter"):
        return "MinterAllowanceUpdated"
    if function in ("pause", "unpause"):
        if function == "unpause":
            kgst.pause(1, {"from": p.pauser})
        return "PauseFlagsUpdated"
    if function == "blockAccount":
        return "AccountBlocked"
    kgst.transfer(p.mallory, 1 * UNIT, {"from": p.alice})
    kgst.blockAccount(p.mallory, REF, {"from": p.compliance})
    if function == "unblockAccount":
        return "AccountUnblocked"
    kgst.proposeSeizure(p.mallory, p.alice, 1 * UNIT, REF, REF, {"from": p.compliance})
    return {"proposeSeizure": "SeizureProposed", "executeSeizure": "SeizureExecuted", "rejectSeizure": "SeizureRejected"}[function]


@pytest.fixture
def parties(alice, mallory, minter, minter_admin, burner, pauser, compliance):
    return SimpleNamespace(alice=alice, mallory=mallory, minter=minter, minter_admin=minter_admin, burner=burner, pauser=pauser, compliance=compliance)


# upgradeToAndCall is delayed: its holder's success is in test_upgrade.py.
IMMEDIATE = [(f, r) for f, r in RESTRICTED if r not in DELAYS and f != "rescueERC20"]
ROLE_ACCOUNT = {"MINTER": "minter", "MINTER_ADMIN": "minter_admin", "BURNER": "burner", "PAUSER": "pauser",
                "UNPAUSER": "pauser", "COMPLIANCE": "compliance", "SEIZE_APPROVER": "seize_approver", "RESCUER": "rescuer"}


@pytest.mark.parametrize("function, role", IMMEDIATE, ids=[f for f, _ in IMMEDIATE])
def test_restricted_function_with_role_succeeds(funded, request, parties, alice, mallory, function, role):
    event = _setup_and_event(function, funded, parties)
    caller = request.getfixturevalue(ROLE_ACCOUNT[role])
    tx = getattr(funded, function)(*_args(function, funded, alice, mallory), {"from": caller})
    assert event in tx.events


def test_rescue_with_role_succeeds(kgst, admin, alice, rescuer):
    stray = MockERC20.deploy("Stray Token", "STRAY", {"from": admin})
    stray.mint(kgst, 5 * UNIT, {"from": admin})
    kgst.rescueERC20(stray, alice, 5 * UNIT, {"from": rescuer})
    assert stray.balanceOf(alice) == 5 * UNIT
