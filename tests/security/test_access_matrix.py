"""The access-control matrix: MATRIX below is the written statement of SomStack's permission model,
for every state-changing external function (every nonpayable or payable ABI entry, each overload)
of KGST, the digital som, the reserve vault and the redemption queue, and for the AccessManager's admin functions.

Every function is called (eth_call: nothing is mined) from every role holder of the deployment
and from a stranger, and the outcome must be the table's:
- allowed: no access-control error (it may still revert for a business reason: a zero amount,
  an unknown asset; an allowed caller must never meet an access-control error);
- after delay: the caller holds the role but its execution delay applies
  (AccessManagerNotScheduled: it must schedule and wait);
- refused: an access-control error (AccessManagedUnauthorized, AccessManagerUnauthorized*,
  InvalidInitialization).

Why the table lives here and `somstack.system.roles` keeps FUNCTION_ROLES/ADMIN_FUNCTIONS: roles.py is
what the deploy plan wires into the AccessManager; checking the chain only against it would
accept any mistake made there. This table is written independently, covers what roles.py does
not (public functions, the AccessManager's own functions, delays, who may call nothing) and
`test_roles_py_agrees_with_matrix` fails when the two differ. The role tables of docs/roles.md are
rendered from it: `python tests/security/test_access_matrix.py` rewrites them, and
`test_roles_page_is_current` fails when they are stale.

The AccessManager's answer depends on its arguments; each of its functions is called with one
representative set (ARGS): role MINTER for role functions, KGST as the target, KGST's upgrade as
the scheduled call. tests/governance/test_roles.py checks the wiring on chain function by function
and that each role's holder can really act (events); test_upgrade.py the schedule and delay."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from brownie import chain, web3
from eth_abi import encode
from eth_utils import function_abi_to_4byte_selector

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))  # for the docs/roles.md rewrite run as a script

from somstack.system.roles import ADMIN_FUNCTIONS, DELAYED_ROLES, FUNCTION_ROLES, ROLES

PUBLIC = "anyone"
AFTER_DELAY = " after delay"
AUTHORITY = "the AccessManager only"  # AccessManaged.setAuthority: msg.sender must be the current authority
NOBODY = "nobody (initialized at deployment)"
TARGET = "the managed contract only"  # AccessManager.consumeScheduledOp: the target of the operation
NO_HOLDER = (AUTHORITY, NOBODY, TARGET)  # no account may call these

# contract -> function -> who may call it: "anyone", role names joined by " or ", a role
# followed by " after delay" (it must schedule through the AccessManager and wait), or nobody.
MATRIX: dict[str, dict[str, str]] = {
    "Stablecoin": {
        "transfer": PUBLIC, "transferFrom": PUBLIC, "transferWithReference": PUBLIC, "approve": PUBLIC,
        "increaseAllowance": PUBLIC, "decreaseAllowance": PUBLIC, "permit": PUBLIC,
        "transferWithAuthorization": PUBLIC, "receiveWithAuthorization": PUBLIC, "cancelAuthorization": PUBLIC,
        "mint": "MINTER",
        "burn": "BURNER",
        "configureMinter": "MINTER_ADMIN", "increaseMinterAllowance": "MINTER_ADMIN",
        "decreaseMinterAllowance": "MINTER_ADMIN", "removeMinter": "MINTER_ADMIN",
        "pause": "PAUSER",
        "unpause": "UNPAUSER",
        "blockAccount": "COMPLIANCE", "unblockAccount": "COMPLIANCE", "proposeSeizure": "COMPLIANCE",
        "executeSeizure": "SEIZE_APPROVER", "rejectSeizure": "SEIZE_APPROVER",
        "rescueERC20": "RESCUER",
        "upgradeToAndCall": "UPGRADER after delay",
        "setReserveVault": "ADMIN",
        "setAuthority": AUTHORITY,
        "initialize": NOBODY,
    },
    "DigitalCurrency": {
        "transfer": PUBLIC, "transferFrom": PUBLIC, "approve": PUBLIC, "increaseAllowance": PUBLIC,
        "decreaseAllowance": PUBLIC, "permit": PUBLIC, "transferWithAuthorization": PUBLIC,
        "receiveWithAuthorization": PUBLIC, "cancelAuthorization": PUBLIC,
        "mint": "ISSUER", "burn": "ISSUER",
        "disburse": "TREASURY",
        "registerWallet": "KYC_OFFICER", "registerWallets": "KYC_OFFICER", "changeTier": "KYC_OFFICER",
        "deregisterWallet": "KYC_OFFICER", "setWaterfall": "KYC_OFFICER",
        "pause": "PAUSER",
        "unpause": "UNPAUSER",
        "blockAccount": "COMPLIANCE", "unblockAccount": "COMPLIANCE", "proposeSeizure": "COMPLIANCE",
        "executeSeizure": "SEIZE_APPROVER", "rejectSeizure": "SEIZE_APPROVER",
        "rescueERC20": "RESCUER",
        "upgradeToAndCall": "UPGRADER after delay",
        "setTier": "ADMIN",
        "setAuthority": AUTHORITY,
        "initialize": NOBODY,
    },
    "ReserveVault": {
        "deposit": PUBLIC, "depositNative": PUBLIC,
        "registerAsset": "RESERVE_ADMIN", "updateAsset": "RESERVE_ADMIN", "unregisterAsset": "RESERVE_ADMIN",
        "setRateBounds": "RESERVE_ADMIN", "setAttestationMaxAge": "RESERVE_ADMIN", "setMinCoverage": "RESERVE_ADMIN",
        "setRate": "RATE_SETTER",
        "attest": "ATTESTOR",
        "withdraw": "RESERVE_MANAGER after delay",
        "upgradeToAndCall": "UPGRADER after delay",
        "setAuthority": AUTHORITY,
        "initialize": NOBODY,
    },
    "RedemptionQueue": {
        "requestRedemption": PUBLIC, "requestRedemptionWithAuthorization": PUBLIC,
        "cancel": PUBLIC,  # the request's holder only, after its deadline (a business rule)
        "pay": "REDEEMER", "reject": "REDEEMER",
        "pause": "PAUSER",
        "unpause": "UNPAUSER",
        "proposeEscrowSeizure": "COMPLIANCE",
        "executeEscrowSeizure": "SEIZE_APPROVER", "rejectEscrowSeizure": "SEIZE_APPROVER",
        "upgradeToAndCall": "UPGRADER after delay",
        "setMinAmount": "ADMIN", "setServiceLevel": "ADMIN",
        "setAuthority": AUTHORITY,
        "initialize": NOBODY,
    },
    "SomAccessManager": {
        "grantRole": "ADMIN", "revokeRole": "ADMIN",  # the role's admin: ADMIN for every role
        "renounceRole": PUBLIC,  # one's own roles only
        "labelRole": "ADMIN", "setRoleAdmin": "ADMIN", "setRoleGuardian": "ADMIN", "setGrantDelay": "ADMIN",
        # a new admin delay itself binds only after the minimum setback (5 days), so it is immediate
        "setTargetAdminDelay": "ADMIN",
        # settings of a SomStack contract wait for that contract's admin delay
        "setTargetFunctionRole": "ADMIN after delay", "setTargetClosed": "ADMIN after delay",
        "updateAuthority": "ADMIN after delay",
        "schedule": "UPGRADER",  # whoever may call the scheduled function (here KGST's upgrade)
        "execute": "UPGRADER after delay",
        "cancel": "UPGRADER or ADMIN",  # the scheduler, or the admin (guardian) of the function's role
        "consumeScheduledOp": TARGET,
        "multicall": PUBLIC,  # each call inside is checked as if made alone
    },
}
CONTRACT_TITLES = {"Stablecoin": "KGST", "DigitalCurrency": "digital som", "ReserveVault": "reserve vault",
                   "RedemptionQueue": "redemption queue", "SomAccessManager": "AccessManager"}

ACCESS_ERRORS = {
    "AccessManagedUnauthorized", "AccessManagerUnauthorizedAccount", "AccessManagerUnauthorizedCall",
    "AccessManagerUnauthorizedCancel", "AccessManagerUnauthorizedConsume", "InvalidInitialization",
}
NOT_SCHEDULED = "AccessManagerNotScheduled"
MINTER = ROLES["MINTER"].id
SETBACK = 5 * 24 * 3600  # AccessManager.minSetback(): a delay set at deployment binds after it [s]


def parse(who: str) -> tuple[set[str] | None, bool]:
    """(the roles that may call, or None for anyone; whether their execution delay applies)."""
    if who == PUBLIC:
        return None, False
    delayed = who.endswith(AFTER_DELAY)
    names = who.removesuffix(AFTER_DELAY).split(" or ")
    return {n for n in names if n in ROLES}, delayed


# --- The table against somstack.system.roles and the ABIs ---


def test_matrix_names_only_known_roles():
    unknown = [f"{c}.{f}: {who}" for c, functions in MATRIX.items() for f, who in functions.items()
               if who not in (PUBLIC, *NO_HOLDER) and not set(who.removesuffix(AFTER_DELAY).split(" or ")) <= set(ROLES)]
    assert unknown == []


@pytest.mark.parametrize("contract", list(MATRIX))
def test_matrix_lists_every_state_changing_function(artifacts, contract):
    abi = artifacts.get(contract).abi
    state_changing = {e["name"] for e in abi if e.get("type") == "function" and e["stateMutability"] in ("nonpayable", "payable")}
    assert set(MATRIX[contract]) == state_changing


def test_roles_py_agrees_with_matrix():
    """FUNCTION_ROLES and ADMIN_FUNCTIONS (what the deploy plan wires) state the same as MATRIX."""
    from_roles_py = {(c, f): role + (AFTER_DELAY if role in DELAYED_ROLES else "") for c, table in FUNCTION_ROLES.items()
                     for role, functions in table.items() for f in functions}
    from_roles_py.update({(c, f): "ADMIN" for c, functions in ADMIN_FUNCTIONS.items() for f in functions})
    from_matrix = {(c, f): who for c, functions in MATRIX.items() if c != "SomAccessManager"
                   for f, who in functions.items() if parse(who)[0]}
    assert from_matrix == from_roles_py


# --- Calling every function from every holder ---


def _abi_type(item):
    if item["type"].startswith("tuple"):
        return "(" + ",".join(_abi_type(c) for c in item["components"]) + ")" + item["type"][len("tuple"):]
    return item["type"]


def _value(item, address):
    """A well-formed argument of `item`'s type (access control is checked before any argument)."""
    kind = item["type"]
    if kind.endswith("]"):
        inner = {**item, "type": kind[: kind.rindex("[")]}
        size = kind[kind.rindex("[") + 1 : -1]
        return [_value(inner, address)] * (int(size) if size else 1)
    if kind == "tuple":
        return tuple(_value(c, address) for c in item["components"])
    if kind == "address":
        return address
    if kind.startswith(("uint", "int")):
        return 1
    if kind == "bool":
        return False
    if kind == "string":
        return "x"
    if kind == "bytes":
        return b""
    return b"\x01" * int(kind[5:])  # bytesN


def _calldata(entry, args):
    return function_abi_to_4byte_selector(entry) + encode([_abi_type(i) for i in entry["inputs"]], args)


def _revert_data(exc):
    """The raw revert data of a failed eth_call (web3's ContractCustomError has .data; brownie's
    middleware passes the node's error dict)."""
    payload = exc.args[0] if exc.args and isinstance(exc.args[0], dict) else {}
    data = getattr(exc, "data", None) or payload.get("data")
    return data if isinstance(data, str) else None


def _outcome(decoder, caller, target, data):
    """"allowed", "after delay" or "refused: <error>" for one call."""
    try:
        web3.eth.call({"from": caller, "to": target, "data": "0x" + data.hex()})
        return "allowed"
    except Exception as exc:  # the node's revert, in whichever form web3 raises it
        raw = _revert_data(exc)
        if not raw or raw == "0x":
            return "empty revert"  # no reason given: see _agrees
        error = decoder.decode(raw)
        name = error.name if error else None
        if name == NOT_SCHEDULED:
            return "after delay"
        if name in ACCESS_ERRORS:
            return f"refused: {name}"
        return "allowed"


def _expected(who, held):
    roles, delayed = parse(who)
    if roles is None:
        return "allowed"
    if roles & held:
        return "after delay" if delayed else "allowed"
    return "refused"


def _agrees(got, expected, who):
    """An empty revert is a business failure for an allowed caller (access control always names
    its error), and a refusal only where the check itself asks the caller's code: the
    AccessManager asking an EOA whether it is consuming an operation (consumeScheduledOp)."""
    if got == "empty revert":
        return expected == "allowed" or (expected == "refused" and who == TARGET)
    return got.split(":")[0] == expected


@pytest.fixture(scope="module")
def callers(deployment, admin, stranger):
    """address -> the roles it holds (brownie-config.yaml dev_holders; the deployer is ADMIN)."""
    held = {admin.address: {"ADMIN"}, stranger.address: set()}
    for role, addresses in deployment.holders.items():
        for address in addresses:
            held.setdefault(address, set()).add(role)
    return held


@pytest.fixture(scope="module")
def targets(kgst, cbdc, vault, queue, manager):
    return {"Stablecoin": kgst, "DigitalCurrency": cbdc, "ReserveVault": vault, "RedemptionQueue": queue, "SomAccessManager": manager}


def _manager_args(name, kgst, alice, upgrade):
    """Representative arguments of the AccessManager's functions (see the module docstring)."""
    return {
        "grantRole": (MINTER, alice, 0), "revokeRole": (MINTER, alice), "renounceRole": None,
        "labelRole": (MINTER, "MINTER"), "setRoleAdmin": (MINTER, 0), "setRoleGuardian": (MINTER, 0),
        "setGrantDelay": (MINTER, 0),
        "setTargetFunctionRole": (kgst, [bytes.fromhex("40c10f19")], MINTER), "setTargetAdminDelay": (kgst, 0),
        "setTargetClosed": (kgst, False), "updateAuthority": (kgst, alice),
        "schedule": (kgst, upgrade, 0), "execute": (kgst, upgrade),
        "consumeScheduledOp": (alice, upgrade), "multicall": ([],),
    }[name]


@pytest.fixture
def settled():
    """The chain after the AccessManager's minimum setback: the admin and grant delays the deploy
    plan set are in force (before it, see test_target_admin_delay_binds_only_after_setback)."""
    chain.sleep(SETBACK + 1)
    chain.mine()


def _cases():
    return [(c, f) for c, functions in MATRIX.items() for f in functions]


@pytest.mark.parametrize("contract, function", _cases(), ids=[f"{c}.{f}" for c, f in _cases()])
def test_access_matrix(settled, artifacts, targets, callers, upgrader, alice, contract, function):
    target = targets[contract]
    kgst = targets["Stablecoin"]
    upgrade = bytes.fromhex(kgst.upgradeToAndCall.encode_input(alice, b"")[2:])
    if contract == "SomAccessManager" and function == "cancel":  # an operation to cancel: the upgrader schedules KGST's upgrade
        targets["SomAccessManager"].schedule(kgst, upgrade, 0, {"from": upgrader})
    entries = [e for e in target.abi if e.get("type") == "function" and e["name"] == function]
    mismatches = []
    for entry in entries:
        for caller, held in callers.items():
            if contract == "SomAccessManager" and function in ("renounceRole", "cancel"):
                args = (MINTER, caller) if function == "renounceRole" else (upgrader.address, kgst.address, upgrade)
            elif contract == "SomAccessManager":
                args = _manager_args(function, kgst.address, alice.address, upgrade)
            else:
                args = tuple(_value(i, alice.address) for i in entry["inputs"])
            got = _outcome(artifacts.decoder, caller, target.address, _calldata(entry, args))
            if not _agrees(got, _expected(MATRIX[contract][function], held), MATRIX[contract][function]):
                mismatches.append(f"{function}({','.join(_abi_type(i) for i in entry['inputs'])}) by {sorted(held) or 'stranger'}: "
                                  f"expected {_expected(MATRIX[contract][function], held)}, got {got}")
    assert not mismatches, "\n".join(mismatches)


def test_target_admin_delay_binds_only_after_setback(artifacts, manager, kgst, admin, alice):
    """The window the matrix does not cover: for the AccessManager's minimum setback (5 days)
    after deployment, the admin changes a SomStack contract's settings at once; afterwards only
    after the contract's admin delay (security/README.md)."""
    args = _manager_args("setTargetFunctionRole", kgst.address, alice.address, b"")
    entry = next(e for e in manager.abi if e.get("name") == "setTargetFunctionRole")
    call = _calldata(entry, args)
    before = _outcome(artifacts.decoder, admin.address, manager.address, call)
    chain.sleep(SETBACK + 1)
    chain.mine()
    assert (before, _outcome(artifacts.decoder, admin.address, manager.address, call)) == ("allowed", "after delay")


# --- docs/roles.md's tables, rendered from MATRIX and somstack.system.roles ---

ROLES_PAGE = ROOT / "docs" / "roles.md"
BEGIN = "<!-- roles-matrix: generated from tests/security/test_access_matrix.py (MATRIX) and src/somstack/system/roles.py; run `python tests/security/test_access_matrix.py` to rewrite -->"
END = "<!-- /roles-matrix -->"


def _row_order(who):
    if who == PUBLIC:
        return (-1, 0, who)
    roles, delayed = parse(who)
    if not roles:
        return (10**6, 0, who)
    return (min(ROLES[r].id for r in roles), int(delayed), who)


def _duration(seconds):
    return f"{seconds // 86400} day{'s' if seconds >= 2 * 86400 else ''}" if seconds % 86400 == 0 else f"{seconds} s"


def _delay_text(setting):
    """`upgrade_delay`: 2 days (60 s on `local`), from brownie-config.yaml."""
    from somstack.core.config import load_settings

    deployment = load_settings().raw["somstack"]["deployment"]
    local = deployment.get("overrides", {}).get("local", {}).get(setting)
    return f"{_duration(deployment[setting])} (`{setting}`; {_duration(local)} on `local`)" if local else f"{_duration(deployment[setting])} (`{setting}`)"


def render() -> str:
    """The generated part of docs/roles.md."""
    lines = [BEGIN, "", "| id | role | power | execution delay |", "|---:|---|---|---|"]
    for name, role in ROLES.items():
        delay = _delay_text(DELAYED_ROLES[name]) if name in DELAYED_ROLES else ""
        lines.append(f"| {role.id} | {name} | {role.power} | {delay} |")
    lines += ["", "Who may call each state-changing function (\"after delay\": the holder schedules the call in the",
              "AccessManager and executes it once its delay has passed):", ""]
    lines.append("| who | " + " | ".join(CONTRACT_TITLES[c] for c in MATRIX) + " |")
    lines.append("|---" * (len(MATRIX) + 1) + "|")
    for who in sorted({w for functions in MATRIX.values() for w in functions.values()}, key=_row_order):
        cells = [", ".join(f"`{f}`" for f, w in MATRIX[c].items() if w == who) for c in MATRIX]
        lines.append(f"| {who} | " + " | ".join(cells) + " |")
    lines += ["", "The AccessManager's column holds for the calls the test makes: `schedule`, `execute` and `cancel`",
              "of KGST's upgrade (anyone may schedule or execute a call it may make itself), the role functions on",
              "MINTER (each role's admin is ADMIN), the target functions on KGST.", "", END]
    return "\n".join(lines)


def _generated_section(text):
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        return None
    return text[start : end + len(END)]


def test_roles_page_is_current():
    text = ROLES_PAGE.read_text()
    assert _generated_section(text) == render(), "docs/roles.md's role matrix is stale: run `python tests/security/test_access_matrix.py`"


def rewrite_roles_page() -> None:
    text = ROLES_PAGE.read_text()
    section = _generated_section(text)
    if section is None:
        raise SystemExit(f"docs/roles.md has no {BEGIN!r} ... {END!r} block")
    ROLES_PAGE.write_text(text.replace(section, render()))


if __name__ == "__main__":
    rewrite_roles_page()
