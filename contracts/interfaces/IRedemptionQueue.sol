// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/**
 * @title IRedemptionQueue
 * @notice The public redemption queue of KGST: a holder asks for fiat som by moving KGST into the
 * queue's escrow with a hash of its bank details; the redemption desk (REDEEMER) pays it (the
 * escrow is burned with the bank's payout reference) or rejects it (the escrow goes back), in
 * batches. Each request carries the deadline of the service level in force when it was made; a
 * request past its deadline and unpaid may be cancelled by its holder, and that counts as a breach
 * for good. A pending request of a holder blocked later stays frozen in escrow and moves only by a
 * maker-checker seizure (COMPLIANCE proposes, SEIZE_APPROVER executes, never the same officer).
 * @dev Every privileged function is `restricted` by the AccessManager; the role of each one is
 * given in its NatSpec and in docs/roles.md.
 */
interface IRedemptionQueue {
    // --- Types ---

    /// @dev Lifecycle of a request: Pending, then exactly one of the four ends.
    enum RequestStatus {
        None,
        Pending,
        Paid,
        Rejected,
        Cancelled,
        Seized
    }

    /// @dev A request as stored (two slots); its payout reference is in {RedemptionRequested}.
    struct Request {
        address holder; // who redeems; refunds go back here
        uint40 requestedAt; // [unix s]
        uint40 deadline; // [unix s] requestedAt + the service level in force then
        RequestStatus status;
        uint128 amount; // [token units] held in escrow while Pending
    }

    /// @dev Lifecycle of a seizure of an escrow.
    enum SeizureStatus {
        None,
        Proposed,
        Executed,
        Rejected
    }

    /// @dev A proposed move of a frozen escrow to a recovery address under a court case.
    struct EscrowSeizure {
        uint256 requestId;
        address recovery; // where the seized escrow goes
        bytes32 caseRef; // court or case reference
        bytes32 evidenceHash; // hash of the evidence bundle kept off chain
        address proposer; // the compliance officer (maker)
        SeizureStatus status;
    }

    // --- Errors ---

    /// @dev New requests are paused.
    error RedemptionQueuePaused();
    /// @dev The pause switch is already in the requested state.
    error RedemptionQueuePauseUnchanged(bool paused);
    /// @dev `account` is on KGST's blocklist and may not take part in the action.
    error RedemptionQueueAccountBlocked(address account);
    /// @dev The amount is below the minimum redemption.
    error RedemptionQueueAmountTooSmall(uint256 amount, uint256 minimum);
    /// @dev A reference (payout, bank, case) or reason code must not be zero.
    error RedemptionQueueZeroReference();
    /// @dev The zero address is not a valid argument here.
    error RedemptionQueueZeroAddress();
    /// @dev The request is not pending (unknown, or already paid, rejected, cancelled or seized).
    error RedemptionQueueNotPending(uint256 requestId, RequestStatus status);
    /// @dev Only the holder of a request may cancel it.
    error RedemptionQueueNotHolder(uint256 requestId, address caller);
    /// @dev The request may be cancelled only after its deadline.
    error RedemptionQueueDeadlineNotPassed(uint256 requestId, uint256 deadline);
    /// @dev The holder of the request is blocked: its escrow is frozen (seizure only).
    error RedemptionQueueHolderFrozen(uint256 requestId, address holder);
    /// @dev A seizure needs the request's holder blocked, when proposed and when executed.
    error RedemptionQueueHolderNotBlocked(uint256 requestId, address holder);
    /// @dev The arrays of a batch differ in length, or the batch is empty.
    error RedemptionQueueBadBatch(uint256 ids, uint256 values);
    /// @dev The seizure does not exist or is not in the Proposed state.
    error RedemptionQueueSeizureNotPending(uint256 seizureId);
    /// @dev The maker of a seizure may not also be its checker.
    error RedemptionQueueSeizureSelfApproval(uint256 seizureId, address officer);
    /// @dev A seizure officer must act from its own address: a call relayed by the AccessManager
    /// (a scheduled operation) hides who made it, so maker-checker could not be enforced.
    error RedemptionQueueOfficerUnknown(address caller);
    /// @dev The service level must be between 1 second and 90 days.
    error RedemptionQueueInvalidServiceLevel(uint256 serviceLevel);

    // --- Events ---

    /// @dev `holder` asked to redeem `amount` to the bank account whose details hash to
    /// `payoutRef`; the request must be paid by `deadline`. `submitter` sent the transaction (the
    /// holder, or a relayer carrying its signature).
    event RedemptionRequested(
        uint256 indexed requestId,
        address indexed holder,
        uint256 amount,
        bytes32 payoutRef,
        uint64 deadline,
        address submitter
    );
    /// @dev The request was paid in fiat under the bank's `bankRef`; its escrow was burned. `late`:
    /// paid after its deadline.
    event RedemptionPaid(uint256 indexed requestId, address indexed holder, uint256 amount, bytes32 indexed bankRef, bool late);
    /// @dev The request was refused with `reason`; its escrow went back to `holder`.
    event RedemptionRejected(uint256 indexed requestId, address indexed holder, uint256 amount, uint8 reason);
    /// @dev The holder cancelled its request after `deadline`: a breach of the service level,
    /// counted for good. The escrow went back to `holder`.
    event RedemptionCancelled(uint256 indexed requestId, address indexed holder, uint256 amount, uint64 deadline);
    /// @dev A seizure of the frozen escrow of `requestId` was proposed by a compliance officer.
    event EscrowSeizureProposed(
        uint256 indexed seizureId,
        uint256 indexed requestId,
        address recovery,
        bytes32 indexed caseRef,
        bytes32 evidenceHash,
        address proposer
    );
    /// @dev The seizure was approved by `approver` and the escrow moved to `recovery`.
    event EscrowSeizureExecuted(
        uint256 indexed seizureId,
        uint256 indexed requestId,
        address holder,
        address recovery,
        uint256 amount,
        bytes32 indexed caseRef,
        address approver
    );
    /// @dev A proposed seizure was rejected by `approver`.
    event EscrowSeizureRejected(uint256 indexed seizureId, address indexed approver);
    /// @dev New requests were paused (true) or resumed (false) by `account`.
    event PauseUpdated(address indexed account, bool paused);
    /// @dev The minimum redemption changed [token units].
    event MinAmountUpdated(uint256 previousMinAmount, uint256 newMinAmount);
    /// @dev The service level of new requests changed [s].
    event ServiceLevelUpdated(uint256 previousServiceLevel, uint256 newServiceLevel);

    // --- Requests ---

    /**
     * @notice Moves `amount` of the caller's KGST into escrow and queues a redemption to the
     * bank account whose details hash to `payoutRef` (never the details). Anyone.
     * @dev Requirements: requests are not paused; the caller is not blocked; `amount` is at least
     * the minimum; `payoutRef` is non-zero; the caller has approved the queue for `amount`
     * (KGST's `transferFrom`: KGST's transfer pause and blocklist apply).
     * Emits {RedemptionRequested} and KGST's {IERC20-Transfer}.
     * @return requestId the id of the request (from 1)
     */
    function requestRedemption(uint256 amount, bytes32 payoutRef) external returns (uint256 requestId);

    /**
     * @notice The same request, signed by `holder` and submitted by anyone (a relayer): `holder`
     * signs KGST's EIP-3009 `ReceiveWithAuthorization` to this queue for `amount` with the nonce
     * `payoutRef`, so the signature binds the payout reference too and no relayer can redirect
     * the payout. A payout reference is a salted hash of the bank details, new for each request
     * (an unsalted hash of an account number could be reversed by trying every number).
     * @dev Requirements: as {requestRedemption}, for `holder`; the submitter is not blocked; the
     * authorization is valid (KGST checks signature, time window and nonce).
     * Emits {RedemptionRequested} and KGST's {IERC20-Transfer} and {AuthorizationUsed}.
     */
    function requestRedemptionWithAuthorization(
        address holder,
        uint256 amount,
        bytes32 payoutRef,
        uint256 validAfter,
        uint256 validBefore,
        bytes calldata signature
    ) external returns (uint256 requestId);

    /**
     * @notice Cancels a request past its deadline and unpaid; the escrow goes back to its holder
     * and the breach is counted for good. Its holder only.
     * @dev Works while requests are paused. Requirements: pending; past the deadline; the holder
     * is not blocked (a frozen escrow moves only by seizure); KGST transfers are not paused.
     * Emits {RedemptionCancelled}.
     */
    function cancel(uint256 requestId) external;

    // --- The redemption desk ---

    /**
     * @notice Marks requests paid in fiat under the bank's references; their escrow is burned in
     * one KGST burn (the queue holds KGST's BURNER role). Role: REDEEMER.
     * @dev Requirements: same-length, non-empty arrays; every request pending, its holder not
     * blocked, its bank reference non-zero (all or nothing); KGST redemption not paused. The KGST
     * burn's reference is the bank reference of a single payment, or the hash of the batch's
     * bank references. Emits {RedemptionPaid} per request and KGST's {Redeemed}.
     */
    function pay(uint256[] calldata requestIds, bytes32[] calldata bankRefs) external;

    /**
     * @notice Refuses requests with a reason code each; their escrow goes back. Role: REDEEMER.
     * @dev Requirements: same-length, non-empty arrays; every request pending, its holder not
     * blocked, its reason non-zero (all or nothing); KGST transfers not paused.
     * Emits {RedemptionRejected} per request.
     */
    function reject(uint256[] calldata requestIds, uint8[] calldata reasons) external;

    // --- Compliance ---

    /**
     * @notice Proposes moving the frozen escrow of `requestId` to `recovery` under the court case
     * `caseRef`. Role: COMPLIANCE (the maker).
     * @dev Requirements: the request is pending and its holder blocked on KGST; `recovery` is
     * non-zero and not blocked; `caseRef` is non-zero; the caller is not the AccessManager.
     * Emits {EscrowSeizureProposed}.
     */
    function proposeEscrowSeizure(uint256 requestId, address recovery, bytes32 caseRef, bytes32 evidenceHash)
        external
        returns (uint256 seizureId);

    /**
     * @notice Approves and carries out a proposed seizure of an escrow. Role: SEIZE_APPROVER.
     * @dev Requirements: pending seizure; the caller is not its proposer, nor the AccessManager;
     * the request is still pending, its holder still blocked, the recovery address not blocked.
     * Emits {EscrowSeizureExecuted}.
     */
    function executeEscrowSeizure(uint256 seizureId) external;

    /// @notice Rejects a proposed seizure. Role: SEIZE_APPROVER.
    /// @dev Emits {EscrowSeizureRejected}.
    function rejectEscrowSeizure(uint256 seizureId) external;

    // --- Governance and pause ---

    /// @notice Stops new requests. Role: PAUSER. @dev Emits {PauseUpdated}.
    function pause() external;

    /// @notice Resumes new requests. Role: UNPAUSER. @dev Emits {PauseUpdated}.
    function unpause() external;

    /// @notice Sets the minimum redemption [token units]. Role: ADMIN (governance).
    /// @dev Emits {MinAmountUpdated}.
    function setMinAmount(uint256 minAmount) external;

    /// @notice Sets the service level [s] of requests made from now on. Role: ADMIN (governance).
    /// @dev Requests already queued keep their deadline. Emits {ServiceLevelUpdated}.
    function setServiceLevel(uint256 serviceLevel) external;

    // --- Views ---

    /// @notice KGST, the token redeemed.
    function token() external view returns (address);

    /// @notice The request `requestId` (status None if unknown).
    function request(uint256 requestId) external view returns (Request memory);

    /// @notice How many requests were made; ids run from 1 to this number.
    function requestCount() external view returns (uint256);

    /// @notice How many requests are pending.
    function pendingCount() external view returns (uint256);

    /// @notice The KGST held in escrow for pending requests [token units].
    function pendingAmount() external view returns (uint256);

    /// @notice How many requests were cancelled after their deadline (breaches, for good).
    function breachCount() external view returns (uint256);

    /// @notice The minimum redemption [token units].
    function minAmount() external view returns (uint256);

    /// @notice The service level of new requests [s].
    function serviceLevel() external view returns (uint256);

    /// @notice Whether new requests are paused.
    function paused() external view returns (bool);

    /// @notice The seizure `seizureId`.
    function escrowSeizure(uint256 seizureId) external view returns (EscrowSeizure memory);

    /// @notice How many escrow seizures were proposed; ids run from 1 to this number.
    function escrowSeizureCount() external view returns (uint256);
}
