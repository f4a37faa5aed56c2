// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ICompliantToken} from "./ICompliantToken.sol";

/**
 * @title IDigitalCurrency
 * @notice The issuer-facing surface of the digital som, the central bank's CBDC for government
 * payments: KYC wallet tiers with holding caps, per-transfer and daily limits, one capped wallet
 * per identity, the overflow "waterfall", issuance by the central bank, once-only batch payouts,
 * and (from {ICompliantToken}) the same pause, blocklist, seizure, pre-check and rescue as KGST;
 * its pre-check adds the tier codes 9 to 13.
 * @dev The ERC-20, EIP-2612 and EIP-3009 functions are declared by their own interfaces, their
 * bytes-signature variants by ISignedTransfers. Every
 * privileged function is `restricted` by the AccessManager; its role is named in its NatSpec.
 */
interface IDigitalCurrency is ICompliantToken {
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

    // --- Errors ---

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
    /// @dev `tier` has held wallets: it cannot change between capped and uncapped (the
    /// one-capped-wallet-per-identity rule would not hold for the wallets it holds or held).
    error DigitalCurrencyTierInUse(uint8 tier);

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

    // --- Tiers and the wallet registry ---

    /**
     * @notice Sets tier `tier` (1 to 127). Role: ADMIN (governance: the AccessManager's admin,
     * whose own execution delay, or the timelock holding it, is what delays this call).
     * @dev A limit of type(uint128).max does not bind. Lowering a cap does not touch existing
     * balances: a wallet above its new cap can spend but receives nothing until it is under it.
     * Requirements: the per-transfer limit is not above the daily limit; a tier that has ever
     * held a wallet (registered in it or moved into it) keeps its kind for good: it cannot turn
     * from uncapped to capped (its wallets hold no identity claim, so one identity could end with
     * several capped wallets) nor from capped to uncapped (its claims would outlive the cap);
     * configure another tier id instead (1 to 127). Emits {TierConfigured}.
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
     * @notice Links `wallet`'s overflow wallet (its waterfall): the part of an incoming payment
     * above its holding cap goes there in the same transfer, instead of the payment reverting.
     * Zero unlinks. Role: KYC_OFFICER.
     * @dev The overflow wallet is the holder's bank (or KGST desk) wallet, registered in an
     * uncapped tier, which credits the holder off chain, as the digital euro's waterfall does.
     * The link moves the holder's money into another's wallet, so neither side sets it alone:
     * the KYC officer makes it on the holder's request and with the bank's agreement (both on
     * file), and no wallet becomes another's overflow without that. Requirements: `wallet` is
     * registered and not blocked; `overflow` is another wallet, registered in an uncapped tier
     * and not blocked. Emits {OverflowAccountUpdated}.
     */
    function setWaterfall(address wallet, address overflow) external;

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
}
