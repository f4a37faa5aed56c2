// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

import {ICompliantToken} from "../interfaces/ICompliantToken.sol";

/**
 * @title ComplianceLogic
 * @notice The cold paths of {CompliantToken}, shared by KGST and the digital som: the blocklist
 * flag and maker-checker seizure.
 * @dev Deployed once as a linked library and run by DELEGATECALL in the calling token's storage,
 * which it reaches only through the storage references the token passes: its balance slots and
 * its {SeizureBook}. Both tokens pack a balance slot as [blocked: bit 255 | token-specific bits |
 * balance: bits 0-127]; this library reads and writes only bit 255 and the balance bits. The
 * token's `restricted` wrappers do the access control (a library called directly runs in its own
 * empty storage and changes nothing of a token's).
 */
library ComplianceLogic {
    using SafeERC20 for IERC20;

    /// @dev Top bit of a balance slot: the account is on the blocklist.
    uint256 internal constant BLOCKED = 1 << 255;
    /// @dev The balance bits of a balance slot.
    uint256 internal constant BALANCE_MASK = type(uint128).max;
    /// @dev Where AccessManagedUpgradeable (OpenZeppelin 5) keeps the token's authority: its
    /// ERC-7201 namespace "openzeppelin.storage.AccessManaged", whose first field is the address.
    bytes32 private constant _ACCESS_MANAGED_STORAGE = 0xf3177357ab46d8af007ab3fdb9af81da189e1068fefdc0073dca88a2cab40a00;

    /**
     * @dev A token's seizure orders. Unblocking an account adds one to its `unblocks`; an order
     * records the count of its account when proposed (`epochs`) and is pending only while the
     * two are equal. So unblocking cancels every pending order of the account at once, at no
     * cost per order, and an order can never run after its account was unblocked, even if the
     * account is blocked again later for another reason.
     */
    struct SeizureBook {
        mapping(uint256 seizureId => ICompliantToken.Seizure) orders;
        mapping(uint256 seizureId => uint256 count) epochs; // the account's `unblocks` when proposed
        mapping(address account => uint256 count) unblocks;
    }

    // --- Blocklist ---

    /// @dev Sets the blocklist flag of `account`; unblocking cancels its pending seizures.
    function setBlocked(
        mapping(address => uint256) storage balances,
        SeizureBook storage book,
        address account,
        bool blocked,
        bytes32 reason
    ) external {
        if (account == address(0)) revert ICompliantToken.ZeroAddress();
        uint256 packed = balances[account];
        if ((packed & BLOCKED != 0) == blocked) revert ICompliantToken.BlockStatusUnchanged(account, blocked);
        if (blocked) {
            balances[account] = packed | BLOCKED;
            emit ICompliantToken.AccountBlocked(account, reason);
        } else {
            balances[account] = packed & ~BLOCKED;
            // Every seizure order still pending on the account is void from now on (Cancelled).
            unchecked {
                // One more per unblock: 2^256 unblocks of one account cannot be sent.
                ++book.unblocks[account];
            }
            emit ICompliantToken.AccountUnblocked(account);
        }
    }

    // --- Seizure ---

    /// @dev Records order `seizureId` (the token numbers it) proposed by `proposer`; the token
    /// checks what it alone knows about `recovery` (see {CompliantToken-_checkRecovery}).
    function proposeSeizure(
        mapping(address => uint256) storage balances,
        SeizureBook storage book,
        uint256 seizureId,
        address account,
        address recovery,
        uint256 amount,
        bytes32 caseRef,
        bytes32 evidenceHash
    ) external {
        address proposer = officer();
        if (recovery == address(0)) revert ICompliantToken.ZeroAddress();
        if (amount == 0) revert ICompliantToken.ZeroAmount();
        if (caseRef == bytes32(0)) revert ICompliantToken.ZeroReference();
        if (balances[account] & BLOCKED == 0) revert ICompliantToken.AccountNotBlocked(account);
        if (balances[recovery] & BLOCKED != 0) revert ICompliantToken.BlockedAddress(recovery);
        book.epochs[seizureId] = book.unblocks[account];
        book.orders[seizureId] = ICompliantToken.Seizure({
            account: account,
            recovery: recovery,
            amount: amount,
            caseRef: caseRef,
            evidenceHash: evidenceHash,
            proposer: proposer,
            status: ICompliantToken.SeizureStatus.Proposed
        });
        emit ICompliantToken.SeizureProposed(seizureId, account, recovery, amount, caseRef, evidenceHash, proposer);
    }

    /**
     * @dev Carries out order `seizureId`, approved by `approver`: moves the amount from the
     * blocked account to the recovery address keeping both slots' other bits, with no pause or
     * blocklist check (the only move of a blocked balance, on purpose). Returns the recovery
     * address, for the token's own check of it.
     */
    function executeSeizure(
        mapping(address => uint256) storage balances,
        SeizureBook storage book,
        uint256 seizureId
    ) external returns (address recovery) {
        ICompliantToken.Seizure storage order = pending(book, seizureId);
        // Maker-checker: the officer who proposed a seizure cannot also approve it, even if it
        // holds both roles, by any route: both are officers' own addresses (see {officer}).
        address approver = officer();
        if (approver == order.proposer) revert ICompliantToken.SeizureSelfApproval(seizureId, approver);
        address account = order.account;
        recovery = order.recovery;
        // `account` is still blocked: it was when the order was proposed, and has not been
        // unblocked since (that would have cancelled the order, see {pending}).
        if (balances[recovery] & BLOCKED != 0) revert ICompliantToken.BlockedAddress(recovery);
        order.status = ICompliantToken.SeizureStatus.Executed;
        uint256 amount = order.amount;
        uint256 fromPacked = balances[account];
        uint256 balance = fromPacked & BALANCE_MASK;
        if (balance < amount) revert IERC20Errors.ERC20InsufficientBalance(account, balance, amount);
        unchecked {
            // balance >= amount: stays in the balance bits and keeps the flags. The recovery
            // balance + amount <= totalSupply < 2^128: no carry out of the balance bits.
            balances[account] = fromPacked - amount;
            balances[recovery] += amount;
        }
        emit IERC20.Transfer(account, recovery, amount);
        emit ICompliantToken.SeizureExecuted(seizureId, account, recovery, amount, order.caseRef, approver);
    }

    /// @dev Rejects order `seizureId`.
    function rejectSeizure(SeizureBook storage book, uint256 seizureId) external {
        pending(book, seizureId).status = ICompliantToken.SeizureStatus.Rejected;
        emit ICompliantToken.SeizureRejected(seizureId, msg.sender);
    }

    /**
     * @dev The officer proposing or executing a seizure: the account that called the token (a
     * DELEGATECALL keeps `msg.sender`), never the token's AccessManager. A call relayed by the
     * manager (`execute`, at once or as a scheduled operation) shows the manager as the sender,
     * whoever is behind it, so the maker-checker rule could not tell two officers from one:
     * such a call is refused, and the recorded proposer and approver are always officers.
     */
    function officer() private view returns (address caller) {
        caller = msg.sender;
        address authority;
        bytes32 slot = _ACCESS_MANAGED_STORAGE;
        assembly ("memory-safe") {
            authority := and(sload(slot), 0xffffffffffffffffffffffffffffffffffffffff)
        }
        if (caller == authority) revert ICompliantToken.SeizureRelayed(authority);
    }

    /// @dev A Proposed order whose account was not unblocked since it was proposed.
    function pending(SeizureBook storage book, uint256 seizureId) private view returns (ICompliantToken.Seizure storage order) {
        order = book.orders[seizureId];
        if (order.status != ICompliantToken.SeizureStatus.Proposed || book.epochs[seizureId] != book.unblocks[order.account]) {
            revert ICompliantToken.SeizureNotPending(seizureId);
        }
    }

    // --- Rescue ---

    /**
     * @dev Sends `amount` of `token` held by the calling token to `to`. Run by DELEGATECALL, the
     * call to `token` comes from the calling token itself: for the token's own units that is a
     * plain `transfer` from its own address, under every check a transfer has (pause, blocklist,
     * and on the digital som registration, limits and caps).
     */
    function rescue(address token, address to, uint256 amount) external {
        if (to == address(0)) revert ICompliantToken.ZeroAddress();
        IERC20(token).safeTransfer(to, amount);
        emit ICompliantToken.TokensRescued(token, to, amount);
    }
}
