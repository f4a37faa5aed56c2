// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessManagedUpgradeable} from "@openzeppelin/contracts-upgradeable/access/manager/AccessManagedUpgradeable.sol";
import {UUPSUpgradeable} from "@openzeppelin/contracts-upgradeable/proxy/utils/UUPSUpgradeable.sol";
import {Initializable} from "@openzeppelin/contracts-upgradeable/proxy/utils/Initializable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

import {IRedemptionQueue} from "./interfaces/IRedemptionQueue.sol";
import {ISignedTransfers} from "./interfaces/ISignedTransfers.sol";
import {IStablecoin} from "./interfaces/IStablecoin.sol";

/**
 * @title RedemptionQueue
 * @notice KGST's public redemption queue with a service-level deadline: requests (direct or
 * relayed with an EIP-3009 signature), payment and rejection in batches by the REDEEMER, a
 * holder's cancellation after a missed deadline (a breach, counted for good), a pause of new
 * requests, and maker-checker seizure of an escrow frozen by the blocklist.
 *
 * @dev The escrow is this contract's own KGST balance, so KGST's `totalSupply` still counts a
 * pending redemption until it is paid: supply = holders' balances + escrow, by construction.
 * Invariants kept here:
 * - `pendingAmount` is the sum of the amounts of Pending requests, and never more than the
 *   queue's KGST balance (KGST sent to the queue by mistake is not escrow);
 * - a request leaves Pending exactly once: paid (escrow burned, through KGST's `burn`, which needs
 *   the queue to hold KGST's BURNER role), rejected or cancelled (escrow back to the holder) or
 *   seized (escrow to the recovery address);
 * - the escrow of a blocked holder moves only by seizure; payment, rejection and cancellation
 *   refuse it (KGST would refuse the refund anyway; paying fiat to a sanctioned person is worse).
 * KGST's own rules apply to every token movement: a request needs KGST transfers unpaused and
 * neither party blocked; a payment needs KGST redemption (PAUSE_REDEEM) unpaused; a refund needs
 * KGST transfers unpaused. The queue's own pause stops new requests only: the desk and the
 * holders can still settle what is queued.
 *
 * Not checked here: who holds which role (the AccessManager); the fiat side (the payout and bank
 * references are hashes of records kept off chain).
 */
contract RedemptionQueue is Initializable, AccessManagedUpgradeable, UUPSUpgradeable, IRedemptionQueue {
    using SafeERC20 for IERC20;

    // --- Constants ---

    /// @dev The longest service level governance may set [s].
    uint256 private constant _MAX_SERVICE_LEVEL = 90 days;

    // --- Storage ---

    /// @custom:storage-location erc7201:somstack.storage.RedemptionQueue
    struct QueueStorage {
        address token; // KGST
        bool paused; // new requests stopped
        uint32 serviceLevel; // [s] deadline of a new request = now + serviceLevel
        uint128 pendingAmount; // [token units] escrow of Pending requests
        uint64 requestCount;
        uint64 pendingCount;
        uint128 minAmount; // [token units]
        uint64 breachCount;
        uint64 seizureCount;
        mapping(uint256 requestId => Request) requests;
        mapping(uint256 seizureId => EscrowSeizure) seizures;
    }

    // keccak256(abi.encode(uint256(keccak256("somstack.storage.RedemptionQueue")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant _STORAGE_LOCATION = 0x72646964f4e3fb53ab4316aedb0d1a3ce9bf4ada308b644420153ab3460c2500;

    function _s() private pure returns (QueueStorage storage $) {
        assembly {
            $.slot := _STORAGE_LOCATION
        }
    }

    // --- Init ---

    /// @custom:oz-upgrades-unsafe-allow constructor
    constructor() {
        _disableInitializers();
    }

    /**
     * @notice Initializes the proxy.
     * @param token_ KGST (its proxy)
     * @param authority the AccessManager
     * @param minAmount_ the minimum redemption [token units]
     * @param serviceLevel_ the service level of new requests [s]
     */
    function initialize(address token_, address authority, uint256 minAmount_, uint256 serviceLevel_) external initializer {
        if (token_ == address(0) || authority == address(0)) revert RedemptionQueueZeroAddress();
        __AccessManaged_init(authority);
        _s().token = token_;
        _setMinAmount(minAmount_);
        _setServiceLevel(serviceLevel_);
    }

    // --- Requests ---

    /// @inheritdoc IRedemptionQueue
    function requestRedemption(uint256 amount, bytes32 payoutRef) external returns (uint256 requestId) {
        address holder = _msgSender();
        address kgst = _checkRequest(holder, amount, payoutRef);
        // Recorded first, then the escrow pulled (KGST's transferFrom: the allowance, KGST's pause
        // and blocklist); a refused pull reverts the record with it.
        requestId = _queue(holder, amount, payoutRef);
        IERC20(kgst).safeTransferFrom(holder, address(this), amount);
    }

    /// @inheritdoc IRedemptionQueue
    function requestRedemptionWithAuthorization(
        address holder,
        uint256 amount,
        bytes32 payoutRef,
        uint256 validAfter,
        uint256 validBefore,
        bytes calldata signature
    ) external returns (uint256 requestId) {
        address kgst = _checkRequest(holder, amount, payoutRef);
        // A blocked relayer may not carry a request (KGST's rule for EIP-3009 relayers).
        address submitter = _msgSender();
        if (submitter != holder && IStablecoin(kgst).isBlocked(submitter)) revert RedemptionQueueAccountBlocked(submitter);
        requestId = _queue(holder, amount, payoutRef);
        // The nonce is the payout reference: a relayer that changes it breaks the signature, and
        // one reference serves one request only.
        ISignedTransfers(kgst).receiveWithAuthorization(holder, address(this), amount, validAfter, validBefore, payoutRef, signature);
    }

    /// @inheritdoc IRedemptionQueue
    function cancel(uint256 requestId) external {
        QueueStorage storage $ = _s();
        Request storage r = _pending($, requestId);
        address holder = r.holder;
        if (_msgSender() != holder) revert RedemptionQueueNotHolder(requestId, _msgSender());
        uint256 deadline = r.deadline;
        if (block.timestamp <= deadline) revert RedemptionQueueDeadlineNotPassed(requestId, deadline);
        IStablecoin kgst = IStablecoin($.token);
        if (kgst.isBlocked(holder)) revert RedemptionQueueHolderFrozen(requestId, holder);
        r.status = RequestStatus.Cancelled;
        uint256 amount = r.amount;
        _release($, amount, 1);
        unchecked {
            // Fewer breaches than requests, which fit in a uint64.
            ++$.breachCount;
        }
        emit RedemptionCancelled(requestId, holder, amount, uint64(deadline));
        IERC20(address(kgst)).safeTransfer(holder, amount);
    }

    // --- The redemption desk ---

    /// @inheritdoc IRedemptionQueue
    function pay(uint256[] calldata requestIds, bytes32[] calldata bankRefs) external restricted {
        uint256 n = requestIds.length;
        if (n == 0 || bankRefs.length != n) revert RedemptionQueueBadBatch(n, bankRefs.length);
        QueueStorage storage $ = _s();
        IStablecoin kgst = IStablecoin($.token);
        uint256 total = 0; // [token units] the batch's escrow, burned at the end
        for (uint256 i; i < n; ++i) {
            bytes32 bankRef = bankRefs[i];
            if (bankRef == bytes32(0)) revert RedemptionQueueZeroReference();
            uint256 id = requestIds[i];
            Request storage r = _settleable($, kgst, id);
            uint256 amount = r.amount;
            r.status = RequestStatus.Paid;
            total += amount;
            emit RedemptionPaid(id, r.holder, amount, bankRef, block.timestamp > r.deadline);
        }
        _release($, total, n);
        // One burn for the batch: its reference is the payment's bank reference, or the hash of
        // the batch's bank references (each one is in its RedemptionPaid event).
        kgst.burn(total, n == 1 ? bankRefs[0] : keccak256(abi.encodePacked(bankRefs)));
    }

    /// @inheritdoc IRedemptionQueue
    function reject(uint256[] calldata requestIds, uint8[] calldata reasons) external restricted {
        uint256 n = requestIds.length;
        if (n == 0 || reasons.length != n) revert RedemptionQueueBadBatch(n, reasons.length);
        QueueStorage storage $ = _s();
        IStablecoin kgst = IStablecoin($.token);
        for (uint256 i; i < n; ++i) {
            uint8 reason = reasons[i];
            if (reason == 0) revert RedemptionQueueZeroReference();
            uint256 id = requestIds[i];
            Request storage r = _settleable($, kgst, id);
            (address holder, uint256 amount) = (r.holder, r.amount);
            r.status = RequestStatus.Rejected;
            _release($, amount, 1);
            emit RedemptionRejected(id, holder, amount, reason);
            IERC20(address(kgst)).safeTransfer(holder, amount);
        }
    }

    // --- Compliance ---

    /// @inheritdoc IRedemptionQueue
    function proposeEscrowSeizure(uint256 requestId, address recovery, bytes32 caseRef, bytes32 evidenceHash)
        external
        restricted
        returns (uint256 seizureId)
    {
        if (recovery == address(0)) revert RedemptionQueueZeroAddress();
        if (caseRef == bytes32(0)) revert RedemptionQueueZeroReference();
        address proposer = _officer();
        QueueStorage storage $ = _s();
        _checkSeizable($, requestId, recovery);
        unchecked {
            // A uint64 of proposals cannot be reached.
            seizureId = ++$.seizureCount;
        }
        $.seizures[seizureId] = EscrowSeizure({
            requestId: requestId,
            recovery: recovery,
            caseRef: caseRef,
            evidenceHash: evidenceHash,
            proposer: proposer,
            status: SeizureStatus.Proposed
        });
        emit EscrowSeizureProposed(seizureId, requestId, recovery, caseRef, evidenceHash, proposer);
    }

    /// @inheritdoc IRedemptionQueue
    function executeEscrowSeizure(uint256 seizureId) external restricted {
        QueueStorage storage $ = _s();
        EscrowSeizure storage order = _pendingSeizure($, seizureId);
        address approver = _officer();
        // Maker-checker: the officer who proposed cannot also approve, even holding both roles.
        if (approver == order.proposer) revert RedemptionQueueSeizureSelfApproval(seizureId, approver);
        uint256 requestId = order.requestId;
        address recovery = order.recovery;
        Request storage r = _checkSeizable($, requestId, recovery);
        order.status = SeizureStatus.Executed;
        r.status = RequestStatus.Seized;
        uint256 amount = r.amount;
        _release($, amount, 1);
        emit EscrowSeizureExecuted(seizureId, requestId, r.holder, recovery, amount, order.caseRef, approver);
        // The queue and the recovery address are not blocked: an ordinary KGST transfer.
        IERC20($.token).safeTransfer(recovery, amount);
    }

    /// @inheritdoc IRedemptionQueue
    function rejectEscrowSeizure(uint256 seizureId) external restricted {
        _pendingSeizure(_s(), seizureId).status = SeizureStatus.Rejected;
        emit EscrowSeizureRejected(seizureId, _msgSender());
    }

    // --- Governance and pause ---

    /// @inheritdoc IRedemptionQueue
    function pause() external restricted {
        _setPaused(true);
    }

    /// @inheritdoc IRedemptionQueue
    function unpause() external restricted {
        _setPaused(false);
    }

    /// @inheritdoc IRedemptionQueue
    function setMinAmount(uint256 minAmount_) external restricted {
        _setMinAmount(minAmount_);
    }

    /// @inheritdoc IRedemptionQueue
    function setServiceLevel(uint256 serviceLevel_) external restricted {
        _setServiceLevel(serviceLevel_);
    }

    // --- Views ---

    /// @inheritdoc IRedemptionQueue
    function token() external view returns (address) {
        return _s().token;
    }

    /// @inheritdoc IRedemptionQueue
    function request(uint256 requestId) external view returns (Request memory) {
        return _s().requests[requestId];
    }

    /// @inheritdoc IRedemptionQueue
    function requestCount() external view returns (uint256) {
        return _s().requestCount;
    }

    /// @inheritdoc IRedemptionQueue
    function pendingCount() external view returns (uint256) {
        return _s().pendingCount;
    }

    /// @inheritdoc IRedemptionQueue
    function pendingAmount() external view returns (uint256) {
        return _s().pendingAmount;
    }

    /// @inheritdoc IRedemptionQueue
    function breachCount() external view returns (uint256) {
        return _s().breachCount;
    }

    /// @inheritdoc IRedemptionQueue
    function minAmount() external view returns (uint256) {
        return _s().minAmount;
    }

    /// @inheritdoc IRedemptionQueue
    function serviceLevel() external view returns (uint256) {
        return _s().serviceLevel;
    }

    /// @inheritdoc IRedemptionQueue
    function paused() external view returns (bool) {
        return _s().paused;
    }

    /// @inheritdoc IRedemptionQueue
    function escrowSeizure(uint256 seizureId) external view returns (EscrowSeizure memory) {
        return _s().seizures[seizureId];
    }

    /// @inheritdoc IRedemptionQueue
    function escrowSeizureCount() external view returns (uint256) {
        return _s().seizureCount;
    }

    // --- Internal ---

    /// @dev The checks of a new request before its escrow moves; returns KGST's address.
    function _checkRequest(address holder, uint256 amount, bytes32 payoutRef) private view returns (address kgst) {
        QueueStorage storage $ = _s();
        if ($.paused) revert RedemptionQueuePaused();
        if (payoutRef == bytes32(0)) revert RedemptionQueueZeroReference();
        uint256 minimum = $.minAmount;
        if (amount < minimum || amount == 0) revert RedemptionQueueAmountTooSmall(amount, minimum);
        kgst = $.token;
        if (IStablecoin(kgst).isBlocked(holder)) revert RedemptionQueueAccountBlocked(holder);
    }

    /// @dev Records a request whose `amount` has just arrived in escrow.
    function _queue(address holder, uint256 amount, bytes32 payoutRef) private returns (uint256 requestId) {
        QueueStorage storage $ = _s();
        uint256 deadline = block.timestamp + $.serviceLevel;
        // amount <= KGST's supply bound (2^128 - 1), and so is the escrow's sum: the casts and the
        // counters below cannot overflow (a uint64 of requests cannot be made).
        unchecked {
            requestId = ++$.requestCount;
            ++$.pendingCount;
            $.pendingAmount += uint128(amount);
        }
        $.requests[requestId] = Request({
            holder: holder,
            requestedAt: uint40(block.timestamp),
            deadline: uint40(deadline),
            status: RequestStatus.Pending,
            amount: uint128(amount)
        });
        emit RedemptionRequested(requestId, holder, amount, payoutRef, uint64(deadline), _msgSender());
    }

    /// @dev Takes `count` requests totalling `amount` out of the pending escrow.
    function _release(QueueStorage storage $, uint256 amount, uint256 count) private {
        unchecked {
            // Each released request was Pending, so its amount and count are in the totals.
            $.pendingAmount -= uint128(amount);
            $.pendingCount -= uint64(count);
        }
    }

    function _pending(QueueStorage storage $, uint256 requestId) private view returns (Request storage r) {
        r = $.requests[requestId];
        if (r.status != RequestStatus.Pending) revert RedemptionQueueNotPending(requestId, r.status);
    }

    /// @dev A request the desk may pay or reject: pending, its holder not blocked.
    function _settleable(QueueStorage storage $, IStablecoin kgst, uint256 requestId) private view returns (Request storage r) {
        r = _pending($, requestId);
        address holder = r.holder;
        if (kgst.isBlocked(holder)) revert RedemptionQueueHolderFrozen(requestId, holder);
    }

    /// @dev A request whose escrow may be seized to `recovery`: pending, holder blocked, recovery not.
    function _checkSeizable(QueueStorage storage $, uint256 requestId, address recovery) private view returns (Request storage r) {
        r = _pending($, requestId);
        IStablecoin kgst = IStablecoin($.token);
        if (!kgst.isBlocked(r.holder)) revert RedemptionQueueHolderNotBlocked(requestId, r.holder);
        if (kgst.isBlocked(recovery)) revert RedemptionQueueAccountBlocked(recovery);
    }

    function _pendingSeizure(QueueStorage storage $, uint256 seizureId) private view returns (EscrowSeizure storage order) {
        order = $.seizures[seizureId];
        if (order.status != SeizureStatus.Proposed) revert RedemptionQueueSeizureNotPending(seizureId);
    }

    /// @dev The seizure officer calling: its own address, never the AccessManager relaying a
    /// scheduled call (that would hide who proposed or approved).
    function _officer() private view returns (address officer) {
        officer = _msgSender();
        if (officer == authority()) revert RedemptionQueueOfficerUnknown(officer);
    }

    function _setPaused(bool value) private {
        QueueStorage storage $ = _s();
        if ($.paused == value) revert RedemptionQueuePauseUnchanged(value);
        $.paused = value;
        emit PauseUpdated(_msgSender(), value);
    }

    function _setMinAmount(uint256 minAmount_) private {
        QueueStorage storage $ = _s();
        // A minimum above KGST's supply bound could never be met; the cast would truncate it.
        if (minAmount_ > type(uint128).max) revert RedemptionQueueAmountTooSmall(type(uint128).max, minAmount_);
        emit MinAmountUpdated($.minAmount, minAmount_);
        $.minAmount = uint128(minAmount_);
    }

    function _setServiceLevel(uint256 serviceLevel_) private {
        if (serviceLevel_ == 0 || serviceLevel_ > _MAX_SERVICE_LEVEL) revert RedemptionQueueInvalidServiceLevel(serviceLevel_);
        QueueStorage storage $ = _s();
        emit ServiceLevelUpdated($.serviceLevel, serviceLevel_);
        $.serviceLevel = uint32(serviceLevel_);
    }

    /// @dev Only the UPGRADER role, through the AccessManager and its execution delay.
    function _authorizeUpgrade(address) internal override restricted {}
}
