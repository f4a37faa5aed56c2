// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/**
 * @title ICompliantToken
 * @notice What both SomStack tokens, KGST and the digital som, share beyond ERC-20, EIP-2612 and
 * EIP-3009: the pause switches, the sanctions blocklist, maker-checker seizure, the ERC-1404
 * pre-check and rescue. Its errors carry no token's name, so a wallet or an explorer decodes the
 * refusals of both tokens with this one ABI.
 * @dev Every privileged function is `restricted` by the AccessManager; the role that may call it
 * is named in its NatSpec and in docs/roles.md. {IStablecoin} and {IDigitalCurrency} add what is
 * each token's own.
 */
interface ICompliantToken {
    // --- Types ---

    /**
     * @dev Lifecycle of a seizure: proposed by a compliance officer (the maker), then executed or
     * rejected by another officer (the checker). An order still pending when its account is
     * unblocked reads Cancelled: it can never run, even if the account is blocked again later.
     */
    enum SeizureStatus {
        None,
        Proposed,
        Executed,
        Rejected,
        Cancelled
    }

    /// @dev A court-ordered move of a blocked balance to a recovery address.
    struct Seizure {
        address account; // the blocked address whose balance is seized
        address recovery; // where the seized tokens go (on the digital som: an uncapped wallet)
        uint256 amount; // [token units]
        bytes32 caseRef; // court or case reference
        bytes32 evidenceHash; // hash of the evidence bundle kept off chain
        address proposer; // the compliance officer who proposed it (the maker)
        SeizureStatus status;
    }

    // --- Errors ---

    /// @dev `account` is on the blocklist and may not take part in the action.
    error BlockedAddress(address account);
    /// @dev The operation is stopped by the pause switch `flag`.
    error OperationPaused(uint8 flag);
    /// @dev `flags` contains bits that are not a pause switch, or no bit at all.
    error InvalidPauseFlags(uint8 flags);
    /// @dev The zero address is not a valid argument here.
    error ZeroAddress();
    /// @dev The amount must be positive.
    error ZeroAmount();
    /// @dev A reference (deposit, redemption, issuance, batch, case, KYC record, identity) must not be zero.
    error ZeroReference();
    /// @dev Minting `amount` would take the total supply above the 128-bit bound of the packed balances.
    error SupplyCapExceeded(uint256 totalSupply, uint256 amount);
    /// @dev The blocklist already has `account` in the requested state.
    error BlockStatusUnchanged(address account, bool blocked);
    /// @dev The seizure does not exist, or is not pending (executed, rejected, or cancelled by an unblock).
    error SeizureNotPending(uint256 seizureId);
    /// @dev The maker of a seizure may not also be its checker.
    error SeizureSelfApproval(uint256 seizureId, address officer);
    /// @dev The account of a seizure must be blocked when it is proposed (and stays so until executed).
    error AccountNotBlocked(address account);
    /// @dev A seizure was proposed or executed through the AccessManager `authority` (its `execute`,
    /// at once or as a scheduled operation): the token would see the manager, not the officer
    /// behind it, and could not tell maker and checker apart. Officers call the token directly.
    error SeizureRelayed(address authority);
    /// @dev The signature does not belong to `signer` (ECDSA or ERC-1271).
    error InvalidSignature(address signer);

    // --- Events ---

    /// @dev The pause switches changed from `previousFlags` to `newFlags`, by `account`.
    event PauseFlagsUpdated(address indexed account, uint8 previousFlags, uint8 newFlags);
    /// @dev `account` was put on the blocklist; `reason` is the hash of the sanctions record.
    event AccountBlocked(address indexed account, bytes32 reason);
    /// @dev `account` was taken off the blocklist; its pending seizures are cancelled with it.
    event AccountUnblocked(address indexed account);
    /// @dev A seizure was proposed by the compliance officer `proposer`.
    event SeizureProposed(
        uint256 indexed seizureId,
        address indexed account,
        address recovery,
        uint256 amount,
        bytes32 indexed caseRef,
        bytes32 evidenceHash,
        address proposer
    );
    /// @dev A seizure was approved and carried out by `approver`.
    event SeizureExecuted(
        uint256 indexed seizureId,
        address indexed account,
        address recovery,
        uint256 amount,
        bytes32 indexed caseRef,
        address approver
    );
    /// @dev A proposed seizure was rejected by `approver`.
    event SeizureRejected(uint256 indexed seizureId, address indexed approver);
    /// @dev `amount` of `token` held by this contract was returned to `to`.
    event TokensRescued(address indexed token, address indexed to, uint256 amount);

    // --- Pause ---

    /// @notice Turns on the pause switches in `flags` (PAUSE_TRANSFERS, PAUSE_MINT, PAUSE_REDEEM). Role: PAUSER.
    /// @dev Pausing transfers also stops approvals, permits, authorizations and (digital som)
    /// payouts. Emits {PauseFlagsUpdated}.
    function pause(uint8 flags) external;

    /// @notice Turns off the pause switches in `flags`. Role: UNPAUSER.
    /// @dev Emits {PauseFlagsUpdated}.
    function unpause(uint8 flags) external;

    /// @notice The pause switches that are on, as a bit set.
    function pausedFlags() external view returns (uint8);

    // --- Blocklist and seizure ---

    /**
     * @notice Puts `account` on the sanctions blocklist. Role: COMPLIANCE.
     * @dev A blocked address cannot send, receive, approve, be approved (an existing allowance
     * to it may still be revoked to zero), spend an allowance, sign a permit or a transfer
     * authorization, or relay one; on KGST, a blocked minter cannot mint. It may cancel an unused
     * authorization (that moves nothing). Its balance moves only by seizure.
     * `somstack compliance block` applies one sanction to both tokens. Emits {AccountBlocked}.
     */
    function blockAccount(address account, bytes32 reason) external;

    /// @notice Takes `account` off the blocklist. Role: COMPLIANCE.
    /// @dev Every seizure of `account` still pending is cancelled: it reads Cancelled and can
    /// never run, even if the account is blocked again. Emits {AccountUnblocked}.
    function unblockAccount(address account) external;

    /// @notice Whether `account` is on the blocklist.
    function isBlocked(address account) external view returns (bool);

    /**
     * @notice Proposes moving `amount` of the blocked `account`'s balance to `recovery`, under
     * the court case `caseRef` with evidence `evidenceHash`. Role: COMPLIANCE (the maker).
     * @dev Requirements: the caller is the officer itself, not the AccessManager relaying it;
     * `account` is blocked; `recovery` is non-zero and not blocked (on the digital som, in an
     * uncapped tier); `amount` and `caseRef` are non-zero. Emits {SeizureProposed}.
     * @return seizureId the id under which the checker finds the proposal.
     */
    function proposeSeizure(
        address account,
        address recovery,
        uint256 amount,
        bytes32 caseRef,
        bytes32 evidenceHash
    ) external returns (uint256 seizureId);

    /**
     * @notice Approves and carries out a proposed seizure. Role: SEIZE_APPROVER (the checker).
     * @dev Requirements: the seizure is pending (its account was not unblocked since it was
     * proposed, so it is still blocked); the caller is the officer itself, not the AccessManager
     * relaying it, and is not the proposer, even if it holds both roles; the recovery address is
     * not blocked (digital som: still uncapped). Works while transfers are paused and is counted
     * against no limit: a court order is not a transfer. Emits {SeizureExecuted} and {IERC20-Transfer}.
     */
    function executeSeizure(uint256 seizureId) external;

    /// @notice Rejects a proposed seizure. Role: SEIZE_APPROVER.
    /// @dev Emits {SeizureRejected}.
    function rejectSeizure(uint256 seizureId) external;

    /// @notice The seizure `seizureId` (status Cancelled if its account was unblocked while it was pending).
    function seizure(uint256 seizureId) external view returns (Seizure memory);

    /// @notice How many seizures have been proposed; ids run from 1 to this number.
    function seizureCount() external view returns (uint256);

    // --- The pre-check (ERC-1404) ---

    /**
     * @notice ERC-1404: why `transfer(to, amount)` from `from` would fail now, or 0 if it would
     * succeed. Codes are those of `TransferRestrictions` (the digital som adds its tier codes 9 to 13).
     */
    function detectTransferRestriction(address from, address to, uint256 amount) external view returns (uint8);

    /// @notice The same pre-check for `transferFrom` sent by `spender`, allowance included.
    function detectTransferFromRestriction(
        address spender,
        address from,
        address to,
        uint256 amount
    ) external view returns (uint8);

    /// @notice ERC-1404: the text of a reason code.
    function messageForTransferRestriction(uint8 code) external pure returns (string memory);

    // --- Rescue ---

    /// @notice Sends `amount` of `token` held by this contract to `to`. Role: RESCUER.
    /// @dev Tokens of the contract's own kind move under the usual checks (pause, blocklist).
    /// Emits {TokensRescued}.
    function rescueERC20(address token, address to, uint256 amount) external;
}
