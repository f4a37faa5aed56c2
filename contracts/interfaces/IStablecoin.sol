// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/**
 * @title IStablecoin
 * @notice The issuer-facing surface of KGST, the som-pegged stablecoin: minter allowances with
 * deposit references, granular pause, sanctions blocklist, maker-checker seizure, references on
 * transfers and redemptions, and a transfer pre-check.
 * @dev The ERC-20, EIP-2612 and EIP-3009 functions are declared by their own interfaces
 * (IERC20, IERC20Permit, IERC3009), their bytes-signature variants by ISignedTransfers. Every
 * privileged function is `restricted` by the AccessManager; the role that may call each one is
 * given in its NatSpec and in the README.
 */
interface IStablecoin {
    // --- Types ---

    /// @dev Lifecycle of a seizure: proposed by a compliance officer, then executed or rejected.
    enum SeizureStatus {
        None,
        Proposed,
        Executed,
        Rejected
    }

    /// @dev A court-ordered move of a blocked balance to a recovery address.
    struct Seizure {
        address account; // the blocked address whose balance is seized
        address recovery; // where the seized tokens go
        uint256 amount; // [token units]
        bytes32 caseRef; // court or case reference
        bytes32 evidenceHash; // hash of the evidence bundle kept off chain
        address proposer; // the compliance officer who proposed it (the maker)
        SeizureStatus status;
    }

    // --- Errors ---

    /// @dev `account` is on the blocklist and may not take part in the action.
    error StablecoinAccountBlocked(address account);
    /// @dev The operation is stopped by the pause switch `flag`.
    error StablecoinPaused(uint8 flag);
    /// @dev `flags` contains bits that are not a pause switch, or no bit at all.
    error StablecoinInvalidPauseFlags(uint8 flags);
    /// @dev The minter's remaining allowance is below the amount it tried to mint.
    error StablecoinMinterAllowanceExceeded(address minter, uint256 allowance, uint256 amount);
    /// @dev The deposit reference was already minted against.
    error StablecoinDepositReferenceUsed(bytes32 depositRef);
    /// @dev A reference (deposit, redemption, case) must not be zero.
    error StablecoinZeroReference();
    /// @dev The zero address is not a valid argument here.
    error StablecoinZeroAddress();
    /// @dev The amount must be positive.
    error StablecoinZeroAmount();
    /// @dev Minting `amount` would take the total supply above the bound of the packed balances.
    error StablecoinSupplyCapExceeded(uint256 totalSupply, uint256 amount);
    /// @dev The blocklist already has `account` in the requested state.
    error StablecoinBlockStatusUnchanged(address account, bool blocked);
    /// @dev The seizure does not exist or is not in the Proposed state.
    error StablecoinSeizureNotPending(uint256 seizureId);
    /// @dev The maker of a seizure may not also be its checker.
    error StablecoinSeizureSelfApproval(uint256 seizureId, address officer);
    /// @dev The account of a seizure must be blocked, both when proposed and when executed.
    error StablecoinAccountNotBlocked(address account);
    /// @dev The signature does not belong to `signer` (ECDSA or ERC-1271).
    error StablecoinInvalidSignature(address signer);
    /// @dev No reserve vault is connected: minting fails closed.
    error StablecoinReserveVaultNotSet();

    // --- Events ---

    /// @dev `minter` minted `amount` to `to`, backed by the fiat deposit `depositRef`.
    event Minted(address indexed minter, address indexed to, uint256 amount, bytes32 indexed depositRef);
    /// @dev `burner` burned `amount` of its own balance, paid out in fiat under `redemptionRef`.
    event Redeemed(address indexed burner, uint256 amount, bytes32 indexed redemptionRef);
    /// @dev The allowance of `minter` changed from `previousAllowance` to `newAllowance`.
    event MinterAllowanceUpdated(address indexed minter, uint256 previousAllowance, uint256 newAllowance);
    /// @dev The pause switches changed from `previousFlags` to `newFlags`, by `account`.
    event PauseFlagsUpdated(address indexed account, uint8 previousFlags, uint8 newFlags);
    /// @dev `account` was put on the blocklist; `reason` is the hash of the sanctions record.
    event AccountBlocked(address indexed account, bytes32 reason);
    /// @dev `account` was taken off the blocklist.
    event AccountUnblocked(address indexed account);
    /// @dev A seizure was proposed by a compliance officer.
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
    /// @dev A transfer carried the travel-rule reference `ref` (hash of the off-chain record).
    event TransferReference(address indexed from, address indexed to, uint256 amount, bytes32 indexed ref);
    /// @dev The reserve vault that gates minting changed.
    event ReserveVaultUpdated(address indexed previousVault, address indexed newVault);
    /// @dev `amount` of `token` held by this contract was returned to `to`.
    event TokensRescued(address indexed token, address indexed to, uint256 amount);

    // --- Minting and redemption ---

    /**
     * @notice Mints `amount` to `to` against the fiat deposit `depositRef`. Role: MINTER.
     * @dev Requirements: minting is not paused; `to` is not blocked; `depositRef` is non-zero and
     * was never minted against; `amount` is positive and within the caller's minter allowance,
     * which it consumes; the reserve vault confirms the reserve covers the supply after the mint
     * (fresh prices, rate and attestation; it reverts otherwise). The blocklist applies to
     * holders, not to role holders: a compromised minter is stopped by removing its allowance
     * or revoking its role.
     * Emits {Minted} and {IERC20-Transfer}.
     */
    function mint(address to, uint256 amount, bytes32 depositRef) external;

    /**
     * @notice Burns `amount` of the caller's balance for a fiat redemption paid under
     * `redemptionRef`. Role: BURNER.
     * @dev Requirements: redemption is not paused; the caller is not blocked and holds `amount`.
     * Emits {Redeemed} and {IERC20-Transfer}.
     */
    function burn(uint256 amount, bytes32 redemptionRef) external;

    /// @notice Sets the allowance of `minter` to `allowance`. Role: MINTER_ADMIN.
    /// @dev Emits {MinterAllowanceUpdated}.
    function configureMinter(address minter, uint256 allowance) external;

    /// @notice Raises the allowance of `minter` by `amount`. Role: MINTER_ADMIN.
    /// @dev Emits {MinterAllowanceUpdated}.
    function increaseMinterAllowance(address minter, uint256 amount) external;

    /**
     * @notice Lowers the allowance of `minter` by `amount`, to zero at most. Role: MINTER_ADMIN.
     * @dev Saturates at zero instead of reverting, so a decrease cannot fail because the minter
     * minted in the meantime. Emits {MinterAllowanceUpdated}.
     */
    function decreaseMinterAllowance(address minter, uint256 amount) external;

    /// @notice Sets the allowance of `minter` to zero. Role: MINTER_ADMIN.
    /// @dev The MINTER role itself is revoked in the AccessManager. Emits {MinterAllowanceUpdated}.
    function removeMinter(address minter) external;

    /// @notice The amount `minter` may still mint.
    function minterAllowance(address minter) external view returns (uint256);

    /// @notice Connects the reserve vault that every mint asks. Role: ADMIN (governance).
    /// @dev Emits {ReserveVaultUpdated}.
    function setReserveVault(address vault) external;

    /// @notice The reserve vault that gates minting.
    function reserveVault() external view returns (address);

    /// @notice Whether `depositRef` has been minted against.
    function isDepositReferenceUsed(bytes32 depositRef) external view returns (bool);

    // --- Pause ---

    /**
     * @notice Turns on the pause switches in `flags` (PAUSE_TRANSFERS, PAUSE_MINT, PAUSE_REDEEM).
     * Role: PAUSER (a guardian holds this role only, and so can pause but not unpause).
     * @dev Pausing transfers also stops approvals, permits and EIP-3009 transfers (not the
     * cancellation of an authorization, which moves nothing).
     * Emits {PauseFlagsUpdated}.
     */
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
     * authorization, or relay one. It may cancel an unused authorization (that moves nothing).
     * Its balance moves only by seizure.
     * Emits {AccountBlocked}.
     */
    function blockAccount(address account, bytes32 reason) external;

    /// @notice Takes `account` off the blocklist. Role: COMPLIANCE.
    /// @dev Emits {AccountUnblocked}.
    function unblockAccount(address account) external;

    /// @notice Whether `account` is on the blocklist.
    function isBlocked(address account) external view returns (bool);

    /**
     * @notice Proposes moving `amount` of the blocked `account`'s balance to `recovery`, under
     * the court case `caseRef` with evidence `evidenceHash`. Role: COMPLIANCE (the maker).
     * @dev Requirements: `account` is blocked; `recovery` is non-zero and not blocked; `amount`
     * and `caseRef` are non-zero. Emits {SeizureProposed}.
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
     * @dev Requirements: the seizure is pending; the caller is not its proposer; the account is
     * still blocked and the recovery address is not. Works while transfers are paused: a court
     * order is not a transfer. Emits {SeizureExecuted} and {IERC20-Transfer}.
     */
    function executeSeizure(uint256 seizureId) external;

    /// @notice Rejects a proposed seizure. Role: SEIZE_APPROVER.
    /// @dev Emits {SeizureRejected}.
    function rejectSeizure(uint256 seizureId) external;

    /// @notice The seizure `seizureId`.
    function seizure(uint256 seizureId) external view returns (Seizure memory);

    /// @notice How many seizures have been proposed; ids run from 1 to this number.
    function seizureCount() external view returns (uint256);

    // --- Transfers with references, and the pre-check ---

    /// @notice Transfers `amount` to `to`, with the travel-rule reference `ref` in the event.
    /// @dev Same checks as {IERC20-transfer}. Emits {IERC20-Transfer} and {TransferReference}.
    function transferWithReference(address to, uint256 amount, bytes32 ref) external returns (bool);

    /**
     * @notice ERC-1404: why `transfer(to, amount)` from `from` would fail now, or 0 if it would
     * succeed. Codes are those of `TransferRestrictions`.
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
    /// @dev Emits {TokensRescued}.
    function rescueERC20(address token, address to, uint256 amount) external;
}
