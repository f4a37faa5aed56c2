// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/**
 * @title TransferRestrictions
 * @notice The reason codes of the SomStack transfer pre-check (ERC-1404 `detectTransferRestriction`).
 * @dev Shared by every SomStack token so that wallets and relayers read one table. Code 0 means the
 * transfer would succeed now; codes only ever get added, never renumbered.
 */
library TransferRestrictions {
    uint8 internal constant SUCCESS = 0;
    uint8 internal constant PAUSED = 1;
    uint8 internal constant SENDER_BLOCKED = 2;
    uint8 internal constant RECIPIENT_BLOCKED = 3;
    uint8 internal constant INSUFFICIENT_BALANCE = 4;
    uint8 internal constant INVALID_SENDER = 5;
    uint8 internal constant INVALID_RECIPIENT = 6;
    uint8 internal constant SPENDER_BLOCKED = 7;
    uint8 internal constant INSUFFICIENT_ALLOWANCE = 8;
    // Wallet tiers of the digital som (DigitalCurrency); KGST never returns these.
    uint8 internal constant SENDER_NOT_REGISTERED = 9;
    uint8 internal constant RECIPIENT_NOT_REGISTERED = 10;
    uint8 internal constant HOLDING_CAP_EXCEEDED = 11;
    uint8 internal constant TRANSFER_LIMIT_EXCEEDED = 12;
    uint8 internal constant DAILY_LIMIT_EXCEEDED = 13;

    /// @dev The human-readable text of a code KGST returns (0-8), for ERC-1404
    /// `messageForTransferRestriction`; any other code is "UNKNOWN". The tier codes live in
    /// `walletMessage`, so that KGST's bytecode does not carry texts it never returns.
    function message(uint8 code) internal pure returns (string memory) {
        if (code == SUCCESS) return "SUCCESS";
        if (code == PAUSED) return "PAUSED: transfers are paused";
        if (code == SENDER_BLOCKED) return "SENDER_BLOCKED: the sender is on the blocklist";
        if (code == RECIPIENT_BLOCKED) return "RECIPIENT_BLOCKED: the recipient is on the blocklist";
        if (code == INSUFFICIENT_BALANCE) return "INSUFFICIENT_BALANCE: the sender's balance is too low";
        if (code == INVALID_SENDER) return "INVALID_SENDER: the sender is the zero address";
        if (code == INVALID_RECIPIENT) return "INVALID_RECIPIENT: the recipient is the zero address";
        if (code == SPENDER_BLOCKED) return "SPENDER_BLOCKED: the spender is on the blocklist";
        if (code == INSUFFICIENT_ALLOWANCE) return "INSUFFICIENT_ALLOWANCE: the spender's allowance is too low";
        return "UNKNOWN";
    }

    /// @dev The text of any code the digital som returns: KGST's, and the wallet-tier codes 9-13.
    function walletMessage(uint8 code) internal pure returns (string memory) {
        if (code == SENDER_NOT_REGISTERED) return "SENDER_NOT_REGISTERED: the sender has no wallet tier";
        if (code == RECIPIENT_NOT_REGISTERED) return "RECIPIENT_NOT_REGISTERED: the recipient has no wallet tier";
        if (code == HOLDING_CAP_EXCEEDED) return "HOLDING_CAP_EXCEEDED: the recipient would hold more than its tier allows";
        if (code == TRANSFER_LIMIT_EXCEEDED) return "TRANSFER_LIMIT_EXCEEDED: the amount is over the sender's per-transfer limit";
        if (code == DAILY_LIMIT_EXCEEDED) return "DAILY_LIMIT_EXCEEDED: the sender's outflow today would pass its daily limit";
        return message(code);
    }
}
