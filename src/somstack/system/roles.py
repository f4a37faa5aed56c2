"""The permission model: role ids (mirroring contracts/governance/Roles.sol), their labels, and
which role may call each restricted function. The deploy plan wires exactly this table into the
AccessManager; the README's role table and the tests read it too."""

from __future__ import annotations

from dataclasses import dataclass

ADMIN_ROLE = 0
PUBLIC_ROLE = 2**64 - 1


@dataclass(frozen=True)
class Role:
    id: int
    name: str
    power: str


ROLES: dict[str, Role] = {
    r.name: r
    for r in (
        Role(0, "ADMIN", "grants and revokes roles, sets function roles and delays (AccessManager)"),
        Role(1, "MINTER", "mints KGST against a fiat deposit reference, within its allowance"),
        Role(2, "MINTER_ADMIN", "sets, raises, lowers and removes minter allowances"),
        Role(3, "BURNER", "burns KGST it holds on redemption, with the payout reference"),
        Role(4, "PAUSER", "pauses transfers, minting or redemption (a guardian holds only this)"),
        Role(5, "UNPAUSER", "lifts a pause"),
        Role(6, "COMPLIANCE", "blocks and unblocks addresses; proposes seizures (maker)"),
        Role(7, "SEIZE_APPROVER", "executes or rejects a proposed seizure (checker)"),
        Role(8, "RESCUER", "returns tokens sent to a SomStack contract by mistake"),
        Role(9, "UPGRADER", "upgrades a proxy, after the execution delay"),
        Role(10, "RESERVE_ADMIN", "registers reserve assets and sets reserve policy (haircuts, caps, coverage)"),
        Role(11, "RATE_SETTER", "publishes the official KGS/USD rate"),
        Role(12, "ATTESTOR", "posts attestations of fiat som held in banks"),
        Role(13, "RESERVE_MANAGER", "withdraws reserve assets, after the execution delay, within daily caps"),
        Role(14, "ISSUER", "mints and retires the digital som (the central bank)"),
        Role(15, "TREASURY", "pays digital som out in once-only batches (the government treasury)"),
        Role(16, "KYC_OFFICER", "registers digital som wallets in tiers, changes tiers, de-registers, links overflow wallets"),
        Role(17, "REDEEMER", "pays (burns the escrow) or rejects (refunds) queued KGST redemptions"),
    )
}

# What both tokens restrict alike: the compliance core they share (contracts/token/) and their
# proxies. Last in each token's table, in this order (the deploy sends the table in order).
_TOKEN_CORE: dict[str, tuple[str, ...]] = {
    "PAUSER": ("pause",),
    "UNPAUSER": ("unpause",),
    "COMPLIANCE": ("blockAccount", "unblockAccount", "proposeSeizure"),
    "SEIZE_APPROVER": ("executeSeizure", "rejectSeizure"),
    "RESCUER": ("rescueERC20",),
    "UPGRADER": ("upgradeToAndCall",),
}

# contract artifact name -> role name -> restricted function names (every overload of a name)
FUNCTION_ROLES: dict[str, dict[str, tuple[str, ...]]] = {
    "Stablecoin": {
        "MINTER": ("mint",),
        "MINTER_ADMIN": ("configureMinter", "increaseMinterAllowance", "decreaseMinterAllowance", "removeMinter"),
        "BURNER": ("burn",),
        **_TOKEN_CORE,
    },
    "ReserveVault": {
        "RESERVE_ADMIN": ("registerAsset", "updateAsset", "unregisterAsset", "setRateBounds", "setAttestationMaxAge", "setMinCoverage"),
        "RATE_SETTER": ("setRate",),
        "ATTESTOR": ("attest",),
        "RESERVE_MANAGER": ("withdraw",),
        "UPGRADER": ("upgradeToAndCall",),
    },
    "DigitalCurrency": {
        "ISSUER": ("mint", "burn"),
        "TREASURY": ("disburse",),
        "KYC_OFFICER": ("registerWallet", "registerWallets", "changeTier", "deregisterWallet", "setWaterfall"),
        **_TOKEN_CORE,
    },
    "RedemptionQueue": {
        "REDEEMER": ("pay", "reject"),
        "PAUSER": ("pause",),
        "UNPAUSER": ("unpause",),
        "COMPLIANCE": ("proposeEscrowSeizure",),
        "SEIZE_APPROVER": ("executeEscrowSeizure", "rejectEscrowSeizure"),
        "UPGRADER": ("upgradeToAndCall",),
    },
}

# Restricted functions left to ADMIN (AccessManager's default for an unmapped selector).
ADMIN_FUNCTIONS: dict[str, tuple[str, ...]] = {
    "Stablecoin": ("setReserveVault",),
    "DigitalCurrency": ("setTier",),
    "RedemptionQueue": ("setMinAmount", "setServiceLevel"),
}

# Roles whose holders act only after an execution delay: role -> deployment setting [s].
DELAYED_ROLES = {"UPGRADER": "upgrade_delay", "RESERVE_MANAGER": "withdrawal_delay"}


def role_id(name: str) -> int:
    try:
        return ROLES[name].id
    except KeyError:
        raise KeyError(f"unknown role {name!r} (known: {', '.join(ROLES)})") from None


def role_name(role: int) -> str:
    for r in ROLES.values():
        if r.id == role:
            return r.name
    return "PUBLIC" if role == PUBLIC_ROLE else f"#{role}"


def role_of(contract: str, function: str) -> str | None:
    """The role that may call ``contract.function``, or None if it is not restricted."""
    for role, functions in FUNCTION_ROLES.get(contract, {}).items():
        if function in functions:
            return role
    return None
