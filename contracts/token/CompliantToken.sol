// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC20Upgradeable} from "@openzeppelin/contracts-upgradeable/token/ERC20/ERC20Upgradeable.sol";
import {AccessManagedUpgradeable} from "@openzeppelin/contracts-upgradeable/access/manager/AccessManagedUpgradeable.sol";
import {UUPSUpgradeable} from "@openzeppelin/contracts-upgradeable/proxy/utils/UUPSUpgradeable.sol";
import {Initializable} from "@openzeppelin/contracts-upgradeable/proxy/utils/Initializable.sol";

import {ICompliantToken} from "../interfaces/ICompliantToken.sol";
import {TransferRestrictions} from "../libraries/TransferRestrictions.sol";
import {ComplianceLogic} from "./ComplianceLogic.sol";
import {SignedTransfers} from "./SignedTransfers.sol";

/**
 * @title CompliantToken
 * @notice The compliance core of both SomStack tokens (KGST and the digital som), written once:
 * the pause switches, the sanctions blocklist flag, maker-checker seizure, the spender guard of
 * `transferFrom`, the approval checks, the ERC-1404 `transferFrom` pre-check and rescue; on top
 * of ERC-20 with EIP-2612 and EIP-3009 ({SignedTransfers}), an AccessManager and UUPS.
 *
 * @dev Each token keeps its own ERC-7201 storage and its own hot path (`_update`); the core
 * reaches that storage through a few internal hooks: {_balances} (the token's balance slots,
 * each packed as [blocked: bit 255 | token bits | balance: bits 0-127]), {_pausedFlags} and
 * {_setPausedFlags} (its pause byte), {_seizureBook} and {_nextSeizureId} (its seizure orders),
 * and {_checkRecovery} / {_afterBlockChange} for what only the token knows. The cold paths
 * (blocklist changes, seizures, rescue) run in the linked {ComplianceLogic}, deployed once for
 * both tokens, which keeps each token under the 24,576-byte code limit (KGST with room for an
 * upgrade).
 *
 * Seizure routes: the maker and the checker are compared as accounts, so both must call the
 * token themselves. A call relayed by the AccessManager (`execute`, at once or as a scheduled
 * operation) shows the manager as the sender, whoever is behind it: proposing or executing a
 * seizure that way is refused (`SeizureRelayed`, {ComplianceLogic}), so one officer holding both
 * roles cannot approve its own order by any route. The recorded proposer and approver are thus
 * always the officers' own addresses. (A rejection may come through the manager: it removes
 * risk.) Unblocking an account cancels its pending orders ({ComplianceLogic-SeizureBook}).
 */
abstract contract CompliantToken is
    Initializable,
    SignedTransfers,
    AccessManagedUpgradeable,
    UUPSUpgradeable,
    ICompliantToken
{
    // --- Constants ---

    /// @notice Pause switch: transfers, approvals, permits, EIP-3009 authorizations (and payouts).
    uint8 public constant PAUSE_TRANSFERS = 1;
    /// @notice Pause switch: minting (issuance).
    uint8 public constant PAUSE_MINT = 2;
    /// @notice Pause switch: redemption burns (retirement).
    uint8 public constant PAUSE_REDEEM = 4;
    uint8 internal constant _ALL_PAUSE_FLAGS = PAUSE_TRANSFERS | PAUSE_MINT | PAUSE_REDEEM;

    /// @dev Top bit of a balance slot: the account is on the blocklist.
    uint256 internal constant _BLOCKED = ComplianceLogic.BLOCKED;
    /// @dev The balance bits of a balance slot; also the bound of the total supply [token units].
    uint256 internal constant _BALANCE_MASK = ComplianceLogic.BALANCE_MASK;

    // --- Hooks into the token's storage ---

    /// @dev The token's balance slots.
    function _balances() internal view virtual returns (mapping(address => uint256) storage);

    /// @dev The token's pause switches.
    function _pausedFlags() internal view virtual returns (uint8);

    /// @dev Stores the token's pause switches.
    function _setPausedFlags(uint8 flags) internal virtual;

    /// @dev The token's seizure orders.
    function _seizureBook() internal view virtual returns (ComplianceLogic.SeizureBook storage);

    /// @dev Counts one more seizure and returns its id (from 1).
    function _nextSeizureId() internal virtual returns (uint256);

    /// @dev The token's own requirements on a seizure's recovery address (checked when the order
    /// is proposed and when it runs), beyond "non-zero and not blocked".
    function _checkRecovery(address recovery) internal view virtual {}

    /// @dev Called after `account`'s blocklist flag changed.
    function _afterBlockChange(address account, bool blocked) internal virtual {}

    // --- ERC-20 ---

    /// @inheritdoc ERC20Upgradeable
    function balanceOf(address account) public view override returns (uint256) {
        return _balances()[account] & _BALANCE_MASK;
    }

    /// @inheritdoc ERC20Upgradeable
    /// @dev A blocked spender is refused here, whatever its allowance (OpenZeppelin 5's
    /// `_spendAllowance` skips an unlimited allowance). The owner and recipient are checked in
    /// the token's `_update`.
    function transferFrom(address from, address to, uint256 value) public override returns (bool) {
        address spender = _msgSender();
        if (spender != from) _requireNotBlocked(spender);
        return super.transferFrom(from, to, value);
    }

    // --- Pause ---

    /// @inheritdoc ICompliantToken
    function pause(uint8 flags) external restricted {
        _switch(flags, true);
    }

    /// @inheritdoc ICompliantToken
    function unpause(uint8 flags) external restricted {
        _switch(flags, false);
    }

    /// @inheritdoc ICompliantToken
    function pausedFlags() external view returns (uint8) {
        return _pausedFlags();
    }

    // --- Blocklist and seizure ---

    /// @inheritdoc ICompliantToken
    function blockAccount(address account, bytes32 reason) external restricted {
        _setBlocked(account, true, reason);
    }

    /// @inheritdoc ICompliantToken
    function unblockAccount(address account) external restricted {
        _setBlocked(account, false, 0);
    }

    /// @inheritdoc ICompliantToken
    function isBlocked(address account) public view returns (bool) {
        return _balances()[account] & _BLOCKED != 0;
    }

    /// @inheritdoc ICompliantToken
    function proposeSeizure(
        address account,
        address recovery,
        uint256 amount,
        bytes32 caseRef,
        bytes32 evidenceHash
    ) external restricted returns (uint256 seizureId) {
        seizureId = _nextSeizureId();
        ComplianceLogic.proposeSeizure(_balances(), _seizureBook(), seizureId, account, recovery, amount, caseRef, evidenceHash);
        _checkRecovery(recovery);
    }

    /// @inheritdoc ICompliantToken
    function executeSeizure(uint256 seizureId) external restricted {
        _checkRecovery(ComplianceLogic.executeSeizure(_balances(), _seizureBook(), seizureId));
    }

    /// @inheritdoc ICompliantToken
    function rejectSeizure(uint256 seizureId) external restricted {
        ComplianceLogic.rejectSeizure(_seizureBook(), seizureId);
    }

    /// @inheritdoc ICompliantToken
    function seizure(uint256 seizureId) external view returns (Seizure memory order) {
        ComplianceLogic.SeizureBook storage book = _seizureBook();
        order = book.orders[seizureId];
        // Still Proposed when its account was unblocked since: void.
        if (order.status == SeizureStatus.Proposed && book.epochs[seizureId] != book.unblocks[order.account]) {
            order.status = SeizureStatus.Cancelled;
        }
    }

    // --- Pre-check (ERC-1404) ---

    /// @inheritdoc ICompliantToken
    function detectTransferRestriction(address from, address to, uint256 amount) public view virtual returns (uint8);

    /// @inheritdoc ICompliantToken
    function detectTransferFromRestriction(
        address spender,
        address from,
        address to,
        uint256 amount
    ) external view returns (uint8) {
        if (spender != from && isBlocked(spender)) return TransferRestrictions.SPENDER_BLOCKED;
        uint8 code = detectTransferRestriction(from, to, amount);
        if (code != TransferRestrictions.SUCCESS) return code;
        // OpenZeppelin's transferFrom spends an allowance even when the owner is the spender.
        if (allowance(from, spender) < amount) return TransferRestrictions.INSUFFICIENT_ALLOWANCE;
        return TransferRestrictions.SUCCESS;
    }

    // --- Rescue ---

    /// @inheritdoc ICompliantToken
    function rescueERC20(address token, address to, uint256 amount) external restricted {
        ComplianceLogic.rescue(token, to, amount);
    }

    // --- Internal ---

    /**
     * @dev Approvals made by `approve` and `permit` (emitEvent = true) need transfers unpaused and
     * neither party blocked, except that an allowance to a blocked spender may always be revoked
     * (set to zero): that removes risk and never adds any. The allowance decrease of a spend
     * (emitEvent = false) is left alone: `transferFrom` and `_update` have checked the parties.
     */
    function _approve(address owner, address spender, uint256 value, bool emitEvent) internal override {
        if (emitEvent) {
            if (_pausedFlags() & PAUSE_TRANSFERS != 0) revert OperationPaused(PAUSE_TRANSFERS);
            mapping(address => uint256) storage balances = _balances();
            if (balances[owner] & _BLOCKED != 0) revert BlockedAddress(owner);
            if (value != 0 && balances[spender] & _BLOCKED != 0) revert BlockedAddress(spender);
        }
        super._approve(owner, spender, value, emitEvent);
    }

    /// @dev Only the UPGRADER role, through the AccessManager and its execution delay; the new
    /// implementation must sign under the same EIP-712 domain name.
    function _authorizeUpgrade(address newImplementation) internal override restricted {
        _checkUpgradeDomain(newImplementation);
    }

    /// @dev The blocklist hook of {SignedTransfers}, also used by `transferFrom`.
    function _requireNotBlocked(address account) internal view override {
        if (isBlocked(account)) revert BlockedAddress(account);
    }

    /// @dev The signature hook of {SignedTransfers}.
    function _revertInvalidSignature(address signer) internal pure override {
        revert InvalidSignature(signer);
    }

    function _setBlocked(address account, bool blocked, bytes32 reason) private {
        ComplianceLogic.setBlocked(_balances(), _seizureBook(), account, blocked, reason);
        _afterBlockChange(account, blocked);
    }

    /// @dev Turns the pause switches in `flags` on or off.
    function _switch(uint8 flags, bool on) private {
        if (flags == 0 || flags & ~_ALL_PAUSE_FLAGS != 0) revert InvalidPauseFlags(flags);
        uint8 previous = _pausedFlags();
        uint8 next = on ? previous | flags : previous & ~flags;
        _setPausedFlags(next);
        emit PauseFlagsUpdated(_msgSender(), previous, next);
    }
}
