// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/**
 * @title Roles
 * @notice The AccessManager role ids of SomStack. One role, one power.
 * @dev Contracts do not read these constants: the deploy plan (`somstack.roles`) wires every
 * restricted selector to its role in the AccessManager and labels the roles there. This library
 * is the Solidity statement of the same table, and `tests/governance/test_roles.py` fails if the
 * two ever disagree. Role 0 is AccessManager's ADMIN_ROLE; `type(uint64).max` is PUBLIC_ROLE.
 */
library Roles {
    /// @dev AccessManager's admin: grants and revokes roles, sets function roles and delays.
    uint64 internal constant ADMIN = 0;
    /// @dev Mints KGST against a fiat deposit, within the allowance the minter admin gave it.
    uint64 internal constant MINTER = 1;
    /// @dev Sets, raises, lowers and removes minter allowances.
    uint64 internal constant MINTER_ADMIN = 2;
    /// @dev Burns KGST it holds when it is redeemed for fiat som (redemption desk).
    uint64 internal constant BURNER = 3;
    /// @dev Pauses transfers, minting or redemption (guardians hold this role alone).
    uint64 internal constant PAUSER = 4;
    /// @dev Lifts a pause.
    uint64 internal constant UNPAUSER = 5;
    /// @dev Blocks and unblocks addresses; proposes seizures of blocked balances (maker).
    uint64 internal constant COMPLIANCE = 6;
    /// @dev Approves and executes, or rejects, a proposed seizure (checker).
    uint64 internal constant SEIZE_APPROVER = 7;
    /// @dev Returns tokens sent to a SomStack contract by mistake.
    uint64 internal constant RESCUER = 8;
    /// @dev Upgrades a SomStack proxy, behind an execution delay.
    uint64 internal constant UPGRADER = 9;
    /// @dev Registers reserve assets and sets reserve policy (haircuts, caps, minimum coverage).
    uint64 internal constant RESERVE_ADMIN = 10;
    /// @dev Publishes the official KGS-per-USD rate.
    uint64 internal constant RATE_SETTER = 11;
    /// @dev Posts attestations of fiat som held in bank accounts.
    uint64 internal constant ATTESTOR = 12;
    /// @dev Withdraws reserve assets, behind an execution delay and within daily caps.
    uint64 internal constant RESERVE_MANAGER = 13;
    /// @dev The central bank's issuer: mints and retires the digital som.
    uint64 internal constant ISSUER = 14;
    /// @dev The government treasury: pays digital som out in once-only batches.
    uint64 internal constant TREASURY = 15;
    /// @dev Registers digital som wallets, changes their tiers, de-registers them, links overflow wallets.
    uint64 internal constant KYC_OFFICER = 16;
    /// @dev Pays queued KGST redemptions (their escrow is burned) or rejects them (refunded).
    uint64 internal constant REDEEMER = 17;
}
