// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/**
 * @title IDigitalCurrency
 * @notice The issuer-facing surface of the digital som, the central bank's CBDC for government
 * payments: KYC wallet tiers with holding caps, per-transfer and daily limits, one capped wallet
 * per identity, the overflow "waterfall", issuance by the central bank, once-only batch payouts,
 * and the same pause, blocklist, seizure and pre-check as KGST.
 * @dev The ERC-20, EIP-2612 and EIP-3009 functions are declared by their own interfaces, their
 * bytes-signature variants by ISignedTransfers. Every
 * privileged function is `restricted` by the AccessManager; its role is named in its NatSpec.
 */
interface IDigitalCurrency {
    // --- Types ---

    /**
     * @dev A wallet tier, set by governance. A limit equal to `UNLIMITED` (type(uint128).max)
     * does not bind; a tier whose holding cap is UNLIMITED is "uncapped" (government, banks) and
     * exempt from the one-capped-wallet-per-identity rule.
     */
    struct Tier {
        uint128 holdingCap; // most a wallet may hold [token units]
        uint128 transferLimit; // most a wallet may send in one transfer [token units]
        uint128 dailyLimit; // most a wallet may send in one UTC day (block.timestamp / 1 days) [token units]
        bool enabled; // registrations and tier changes may name it
    }

    /// @dev Lifecycle of a seizure: proposed by a compliance officer, then executed or rejected.
    enum SeizureStatus {
        None,
        Proposed,
        Executed,
        Rejected
    }

    /// @dev A court-ordered move of a blocked balance to a recovery wallet.
    struct Seizure {
        address account; // the blocked wallet whose balance is seized
        address recovery; // where the seized tokens go (an uncapped wallet)
        uint256 amount; // [token units]
        bytes32 caseRef; // court or case reference
        bytes32 evidenceHash; // hash of the evidence bundle kept off chain
        address proposer; // the compliance officer who proposed it (the maker)
        SeizureStatus status;
    }

    // --- Errors ---

    /// @dev `account` is on the blocklist and may not take part in the action.
    error DigitalCurrencyAccountBlocked(address account);
    /// @dev The operation is stopped by the pause switch `flag`.
    error DigitalCurrencyPaused(uint8 flag);
    /// @dev `flags` contains bits that are not a pause switch, or no bit at all.
    error DigitalCurrencyInvalidPauseFlags(uint8 flags);
    /// @dev The zero address is not a valid argument here.
    error DigitalCurrencyZeroAddress();
    /// @dev The amount must be positive.
    error DigitalCurrencyZeroAmount();
    /// @dev A reference (issuance, batch, case, KYC record, identity) must not be zero.
    error DigitalCurrencyZeroReference();
    /// @dev Minting `amount` would take the supply above the 128-bit bound of the packed balances.
    error DigitalCurrencySupplyCapExceeded(uint256 totalSupply, uint256 amount);
    /// @dev `account` has no wallet tier (tier 0): it can neither hold nor send the digital som.
    error DigitalCurrencyNotRegistered(address account);
    /// @dev `account` already has a wallet tier; change it with {changeTier}.
    error DigitalCurrencyAlreadyRegistered(address account);
    /// @dev `tier` is 0, above 127, or not enabled by governance.
    error DigitalCurrencyInvalidTier(uint8 tier);
    /// @dev The wallet is already in `tier`.
    error DigitalCurrencyTierUnchanged(address account, uint8 tier);
    /// @dev `identity` already holds `wallet` in a capped tier: one person, one capped wallet.
    error DigitalCurrencyIdentityHasCappedWallet(bytes32 identity, address wallet);
    /// @dev `account` would hold `balanceAfter`, above the holding cap `cap` of its `tier`.
    error DigitalCurrencyHoldingCapExceeded(address account, uint8 tier, uint256 cap, uint256 balanceAfter);
    /// @dev `amount` is above the per-transfer limit `limit` of the sender's `tier`.
    error DigitalCurrencyTransferLimitExceeded(address account, uint8 tier, uint256 limit, uint256 amount);
    /// @dev The sender's outflow today would reach `spentAfter`, above the daily `limit` of its `tier`.
    error DigitalCurrencyDailyLimitExceeded(address account, uint8 tier, uint256 limit, uint256 spentAfter);
    /// @dev A wallet with a balance cannot be de-registered (tier 0 cannot hold).
    error DigitalCurrencyWalletNotEmpty(address account, uint256 balance);
    /// @dev An overflow or recovery wallet must be registered in an uncapped tier.
    error DigitalCurrencyNotUncapped(address account, uint8 tier);
    /// @dev A wallet cannot name itself as its overflow wallet.
    error DigitalCurrencySelfOverflow(address account);
    /// @dev The tier's limits are inconsistent (a per-transfer limit above the daily limit).
    error DigitalCurrencyInvalidTierLimits(uint8 tier);
    /// @dev The batch `batchId` was paid already: a batch pays once.
    error DigitalCurrencyBatchAlreadyPaid(bytes32 batchId);
    /// @dev A batch needs as many amounts (or identities and records) as recipients (or wallets), and one at least.
    error DigitalCurrencyInvalidBatch(uint256 recipients, uint256 amounts);
    /// @dev The blocklist already has `account` in the requested state.
    error DigitalCurrencyBlockStatusUnchanged(address account, bool blocked);
    /// @dev The seizure does not exist or is not in the Proposed state.
    error DigitalCurrencySeizureNotPending(uint256 seizureId);
    /// @dev The maker of a seizure may not also be its checker.
    error DigitalCurrencySeizureSelfApproval(uint256 seizureId, address officer);
    /// @dev The account of a seizure must be blocked, both when proposed and when executed.
    error DigitalCurrencyAccountNotBlocked(address account);
    /// @dev The signature does not belong to `signer` (ECDSA or ERC-1271).
    error DigitalCurrencyInvalidSignature(address signer);

    // --- Events ---

    /// @dev Governance set tier `tier`.
    event TierConfigured(uint8 indexed tier, uint256 holdingCap, uint256 transferLimit, uint256 dailyLimit, bool enabled);
    /// @dev A KYC officer registered `wallet` in `tier` for `identity`; `kycRecord` hashes the file.
    event WalletRegistered(address indexed wallet, uint8 indexed tier, bytes32 indexed identity, bytes32 kycRecord);
    /// @dev A KYC officer moved `wallet` from `previousTier` to `newTier`.
    event WalletTierChanged(address indexed wallet, uint8 previousTier, uint8 indexed newTier, bytes32 kycRecord);
    /// @dev A KYC officer de-registered `wallet`.
    event WalletDeregistered(address indexed wallet, bytes32 indexed identity, bytes32 kycRecord);
    /// @dev `wallet` linked `newOverflow` (zero: unlinked) as the wallet that takes its excess.
    event OverflowAccountUpdated(address indexed wallet, address indexed previousOverflow, address indexed newOverflow);
    /// @dev `amount` sent to `wallet` went on to its overflow wallet, the part above its holding cap.
    event Overflowed(address indexed wallet, address indexed overflow, uint256 amount);
    /// @dev The central bank issued `amount` to `to` under `ref`.
    event Issued(address indexed issuer, address indexed to, uint256 amount, bytes32 indexed ref);
    /// @dev The central bank withdrew `amount` of its own holding from circulation under `ref`.
    event Retired(address indexed issuer, uint256 amount, bytes32 indexed ref);
    /**
     * @dev The treasury paid batch `batchId`: `paid` recipients, `total` in all. `skipped` lists
     * the indexes (in the call's arrays) of recipients not paid, and `reasons` their
     * TransferRestrictions codes (only when the caller asked to skip instead of revert).
     */
    event BatchDisbursed(
        bytes32 indexed batchId,
        address indexed treasury,
        uint256 paid,
        uint256 total,
        uint256[] skipped,
        uint8[] reasons
    );
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
    /// @dev `amount` of `token` held by this contract was returned to `to`.
    event TokensRescued(address indexed token, address indexed to, uint256 amount);

    // --- Tiers and the wallet registry ---

    /**
     * @notice Sets tier `tier` (1 to 127). Role: ADMIN (governance: the AccessManager's admin,
     * whose own execution delay, or the timelock holding it, is what delays this call).
     * @dev A limit of type(uint128).max does not bind. Lowering a cap does not touch existing
     * balances: a wallet above its new cap can spend but receives nothing until it is under it.
     * Turning an uncapped tier capped does not claim the identities of its wallets: move them
     * with {changeTier} to apply the one-capped-wallet rule to them.
     * Requirements: the per-transfer limit is not above the daily limit. Emits {TierConfigured}.
     */
    function setTier(uint8 tierId, Tier calldata config) external;

    /// @notice The configuration of `tier`.
    function tier(uint8 tierId) external view returns (Tier memory);

    /**
     * @notice Registers `wallet` in `tier` for the person or body `identity`. Role: KYC_OFFICER.
     * @dev `identity` is a salted hash of the national ID (or the registry number of a body),
     * `kycRecord` the hash of the off-chain KYC file: never personal data. Requirements: the
     * wallet is non-zero and unregistered; the tier is enabled; `identity` is non-zero and, for
     * a capped tier, holds no other capped wallet. Emits {WalletRegistered}.
     */
    function registerWallet(address wallet, uint8 tierId, bytes32 identity, bytes32 kycRecord) external;

    /**
     * @notice Registers `wallets[i]` in `tierId` for `identities[i]` with `kycRecords[i]`, for
     * onboarding in bulk (a pension roll). Role: KYC_OFFICER.
     * @dev Each wallet as {registerWallet}; one refusal reverts the whole call. Emits a
     * {WalletRegistered} per wallet.
     */
    function registerWallets(
        address[] calldata wallets,
        uint8 tierId,
        bytes32[] calldata identities,
        bytes32[] calldata kycRecords
    ) external;

    /**
     * @notice Moves `wallet` to `newTier`. Role: KYC_OFFICER.
     * @dev Moving into a capped tier claims the identity's one capped wallet; moving out frees
     * it. Emits {WalletTierChanged}.
     */
    function changeTier(address wallet, uint8 newTier, bytes32 kycRecord) external;

    /**
     * @notice De-registers `wallet` (back to tier 0). Role: KYC_OFFICER.
     * @dev Requirements: its balance is zero (tier 0 cannot hold). Frees its identity's capped
     * wallet and unlinks its overflow wallet. Emits {WalletDeregistered}.
     */
    function deregisterWallet(address wallet, bytes32 kycRecord) external;

    /**
     * @notice Links the caller's overflow wallet: the part of an incoming payment above the
     * caller's holding cap goes there in the same transfer, instead of the payment reverting.
     * Zero unlinks. Any registered, unblocked wallet may call it for itself.
     * @dev The overflow wallet is the holder's bank (or KGST desk) wallet, registered in an
     * uncapped tier, which credits the holder off chain, as the digital euro's waterfall does.
     * Emits {OverflowAccountUpdated}.
     */
    function setOverflowAccount(address overflow) external;

    /// @notice The tier (0: unregistered), identity and overflow wallet of `wallet`.
    function walletOf(address wallet) external view returns (uint8 tierId, bytes32 identity, address overflow);

    /// @notice The capped wallet of `identity`, or zero.
    function cappedWalletOf(bytes32 identity) external view returns (address);

    /// @notice What `wallet` has sent today (UTC day of the chain's time) [token units], as counted
    /// against its tier's daily limit: a wallet in a tier without one (UNLIMITED) is not counted (0).
    function outflowToday(address wallet) external view returns (uint256);

    // --- Issuance and payouts ---

    /**
     * @notice Issues `amount` to `to` under the reference `ref`. Role: ISSUER (the central bank).
     * @dev Requirements: minting not paused; `to` registered, unblocked, and within its cap (or
     * with an overflow wallet). Emits {Issued} and {IERC20-Transfer}.
     */
    function mint(address to, uint256 amount, bytes32 ref) external;

    /**
     * @notice Withdraws `amount` of the caller's own holding from circulation. Role: ISSUER.
     * @dev Requirements: redemption not paused; the caller is registered, unblocked, holds
     * `amount` and is within its tier's limits. Emits {Retired} and {IERC20-Transfer}.
     */
    function burn(uint256 amount, bytes32 ref) external;

    /**
     * @notice Pays `amounts[i]` to `recipients[i]` from the caller's balance, once per `batchId`.
     * Role: TREASURY.
     * @dev A paid batch id is refused forever, so a retried or duplicated batch never pays
     * twice. Each payment follows the transfer rules (recipient registered and unblocked, its
     * holding cap, the waterfall); the caller's limits apply to each amount (per transfer) and
     * to the batch total (daily). A recipient who cannot be paid makes the whole batch revert,
     * or, with `skipIneligible`, is skipped and listed in the event with its reason code. A
     * batch that reverts leaves its id unused; a batch that goes through spends its id, even when
     * every recipient was skipped (pay the skipped rows under a new id once they are fixed).
     * Emits {BatchDisbursed} and an {IERC20-Transfer} per payment.
     * @return paid the number of recipients paid
     * @return total the sum paid [token units]
     */
    function disburse(
        bytes32 batchId,
        address[] calldata recipients,
        uint256[] calldata amounts,
        bool skipIneligible
    ) external returns (uint256 paid, uint256 total);

    /// @notice Whether the batch `batchId` was paid.
    function isBatchPaid(bytes32 batchId) external view returns (bool);

    // --- Pause ---

    /// @notice Turns on the pause switches in `flags` (PAUSE_TRANSFERS, PAUSE_MINT, PAUSE_REDEEM). Role: PAUSER.
    /// @dev Pausing transfers also stops payouts, approvals, permits and authorizations. Emits {PauseFlagsUpdated}.
    function pause(uint8 flags) external;

    /// @notice Turns off the pause switches in `flags`. Role: UNPAUSER.
    /// @dev Emits {PauseFlagsUpdated}.
    function unpause(uint8 flags) external;

    /// @notice The pause switches that are on, as a bit set.
    function pausedFlags() external view returns (uint8);

    // --- Blocklist and seizure (as on KGST) ---

    /**
     * @notice Puts `account` on the sanctions blocklist. Role: COMPLIANCE.
     * @dev Same effects as on KGST: a blocked address cannot send, receive, approve, be approved,
     * spend an allowance, sign or relay a permit or authorization; its balance moves only by
     * seizure. `somstack compliance block` applies one sanction to both tokens. Emits {AccountBlocked}.
     */
    function blockAccount(address account, bytes32 reason) external;

    /// @notice Takes `account` off the blocklist. Role: COMPLIANCE.
    /// @dev Emits {AccountUnblocked}.
    function unblockAccount(address account) external;

    /// @notice Whether `account` is on the blocklist.
    function isBlocked(address account) external view returns (bool);

    /**
     * @notice Proposes moving `amount` of the blocked `account`'s balance to `recovery`. Role:
     * COMPLIANCE (the maker).
     * @dev Requirements: `account` is blocked; `recovery` is unblocked and in an uncapped tier;
     * `amount` and `caseRef` are non-zero. Emits {SeizureProposed}.
     */
    function proposeSeizure(
        address account,
        address recovery,
        uint256 amount,
        bytes32 caseRef,
        bytes32 evidenceHash
    ) external returns (uint256 seizureId);

    /// @notice Approves and carries out a proposed seizure. Role: SEIZE_APPROVER (the checker, not the maker).
    /// @dev Works while paused; not counted against any limit. Emits {SeizureExecuted} and {IERC20-Transfer}.
    function executeSeizure(uint256 seizureId) external;

    /// @notice Rejects a proposed seizure. Role: SEIZE_APPROVER.
    /// @dev Emits {SeizureRejected}.
    function rejectSeizure(uint256 seizureId) external;

    /// @notice The seizure `seizureId`.
    function seizure(uint256 seizureId) external view returns (Seizure memory);

    /// @notice How many seizures have been proposed; ids run from 1 to this number.
    function seizureCount() external view returns (uint256);

    // --- The pre-check (ERC-1404) ---

    /**
     * @notice ERC-1404: why `transfer(to, amount)` from `from` would fail now, or 0 if it would
     * succeed, with the tier reasons (codes 9 to 13 of `TransferRestrictions`).
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
