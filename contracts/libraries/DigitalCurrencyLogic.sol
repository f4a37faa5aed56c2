// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";

import {ICompliantToken} from "../interfaces/ICompliantToken.sol";
import {IDigitalCurrency} from "../interfaces/IDigitalCurrency.sol";
import {ComplianceLogic} from "../token/ComplianceLogic.sol";
import {TransferRestrictions} from "./TransferRestrictions.sol";

/**
 * @title DigitalCurrencyLogic
 * @notice The storage layout of the digital som and the paths that the 24,576-byte code limit
 * (EIP-170) forces out of the token: the batch payout, the wallet registry (tiers, registration,
 * tier changes, de-registration, overflow links and consents) and the transfer pre-check. The
 * blocklist and seizures are the compliance core's ({ComplianceLogic}), shared with KGST.
 * @dev The `external` functions here are deployed once as a linked library and run by
 * DELEGATECALL in the token's storage, so the token stays under the 24,576-byte code limit
 * (EIP-170) while its hot paths (transfers, payouts) stay inline. The token's `restricted`
 * wrappers do the access control; nothing here may be reached except through them (a library
 * called directly runs in its own empty storage and changes nothing of the token's).
 *
 * Balance slot: [blocked: bit 255 | tier: bits 248-254 | balance: bits 0-127].
 */
library DigitalCurrencyLogic {
    // --- Constants ---

    uint8 internal constant PAUSE_TRANSFERS = 1;
    uint8 internal constant PAUSE_MINT = 2;
    uint8 internal constant PAUSE_REDEEM = 4;
    uint128 internal constant UNLIMITED = type(uint128).max;
    uint8 internal constant MAX_TIER = 127;
    uint256 internal constant BLOCKED = 1 << 255;
    uint256 internal constant TIER_SHIFT = 248;
    uint256 internal constant TIER_BITS = uint256(MAX_TIER) << TIER_SHIFT;
    /// @dev The balance bits of a balance slot; also the bound of the total supply [token units].
    uint256 internal constant BALANCE_MASK = type(uint128).max;

    // --- Storage ---

    /// @dev A wallet's registry record beyond its tier (which lives in its balance slot).
    struct Wallet {
        bytes32 identity; // salted hash of the holder's national ID (or a body's registry number)
        address overflow; // where the excess above the holding cap goes; zero: nowhere (revert)
    }

    /// @dev What a wallet has sent on `day` (block.timestamp / 1 days, a UTC calendar day).
    struct Outflow {
        uint64 day;
        uint192 spent; // [token units]
    }

    /// @dev A tier as stored: the public {IDigitalCurrency-Tier} and, in the slot of its daily
    /// limit and switch (read anyway by every registration), whether it was ever used.
    struct TierRecord {
        uint128 holdingCap;
        uint128 transferLimit;
        uint128 dailyLimit;
        bool enabled;
        bool used; // a wallet was registered in it or moved into it: its kind (capped or not) is fixed
    }

    /// @custom:storage-location erc7201:somstack.storage.DigitalCurrency
    struct Layout {
        mapping(address account => uint256 packed) balances; // [blocked | tier | balance]
        uint256 totalSupply; // [token units]
        uint8 decimals;
        uint8 pausedFlags; // PAUSE_* bits
        uint64 seizureCount;
        mapping(uint8 tierId => TierRecord) tiers;
        mapping(address wallet => Wallet) wallets;
        mapping(bytes32 identity => address wallet) cappedWallets;
        mapping(address wallet => Outflow) outflows;
        mapping(bytes32 batchId => bool paid) paidBatches;
        ComplianceLogic.SeizureBook seizures; // its first member, the orders, where `seizures` was
    }

    // keccak256(abi.encode(uint256(keccak256("somstack.storage.DigitalCurrency")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant _STORAGE_LOCATION = 0xa5cdbb7a6c8c7529b23c4ad1add05f60acd853d14dd1df04bf0d79e8c7cc9d00;

    function store() internal pure returns (Layout storage $) {
        assembly {
            $.slot := _STORAGE_LOCATION
        }
    }

    /// @dev The running sums of a batch payout.
    struct Payout {
        uint256 total; // paid [token units]
        uint256 largest; // the largest single payment [token units]
        uint256 skips; // recipients skipped
        uint256[] skipped; // their indexes
        uint8[] reasons; // their TransferRestrictions codes
    }

    // --- Payouts ---

    /// @dev See {IDigitalCurrency-disburse}; `treasury` is the caller, which pays.
    function disburse(
        bytes32 batchId,
        address[] calldata recipients,
        uint256[] calldata amounts,
        bool skipIneligible,
        address treasury
    ) external returns (uint256 paid, uint256 total) {
        uint256 n = recipients.length;
        if (n == 0 || n != amounts.length) revert IDigitalCurrency.DigitalCurrencyInvalidBatch(n, amounts.length);
        if (batchId == bytes32(0)) revert ICompliantToken.ZeroReference();
        Layout storage $ = store();
        if ($.pausedFlags & PAUSE_TRANSFERS != 0) revert ICompliantToken.OperationPaused(PAUSE_TRANSFERS);
        // Invariant: a batch id pays at most once (a reverted batch leaves it unused).
        if ($.paidBatches[batchId]) revert IDigitalCurrency.DigitalCurrencyBatchAlreadyPaid(batchId);
        $.paidBatches[batchId] = true;

        Payout memory out = _pay($, treasury, recipients, amounts, !skipIneligible);
        total = out.total;
        // The treasury pays once, for the whole batch; its balance is read after the credits in
        // case it paid itself. Its per-transfer limit binds each amount, its daily limit the total.
        if (total != 0) debit($, treasury, out.largest, total);
        uint256[] memory skipped = out.skipped;
        uint8[] memory reasons = out.reasons;
        uint256 skips = out.skips;
        assembly {
            // Shorten both lists to the recipients actually skipped.
            mstore(skipped, skips)
            mstore(reasons, skips)
        }
        paid = n - skips;
        emit IDigitalCurrency.BatchDisbursed(batchId, treasury, paid, total, skipped, reasons);
    }

    /// @dev Credits each recipient of a batch from `treasury` (which is debited after); see {disburse}.
    function _pay(
        Layout storage $,
        address treasury,
        address[] calldata recipients,
        uint256[] calldata amounts,
        bool strict
    ) private returns (Payout memory out) {
        uint256 n = recipients.length;
        out.skipped = new uint256[](strict ? 0 : n);
        out.reasons = new uint8[](strict ? 0 : n);
        for (uint256 i; i < n; ) {
            address to = recipients[i];
            uint256 amount = amounts[i];
            if (amount == 0) revert ICompliantToken.ZeroAmount();
            // Larger than any balance can be: the treasury could not pay it.
            if (amount > BALANCE_MASK) revert IERC20Errors.ERC20InsufficientBalance(treasury, $.balances[treasury] & BALANCE_MASK, amount);
            uint8 code;
            if (to == address(0)) {
                if (strict) revert IERC20Errors.ERC20InvalidReceiver(to);
                code = TransferRestrictions.INVALID_RECIPIENT;
            } else {
                code = credit($, treasury, to, amount, strict);
            }
            unchecked {
                // i < n <= calldata size; total <= n * 2^128 cannot overflow 256 bits.
                if (code != 0) {
                    out.skipped[out.skips] = i;
                    out.reasons[out.skips] = code;
                    ++out.skips;
                } else {
                    out.total += amount;
                    if (amount > out.largest) out.largest = amount;
                }
                ++i;
            }
        }
    }

    // --- Tiers and the wallet registry ---

    function setTier(uint8 tierId, IDigitalCurrency.Tier calldata config) external {
        if (tierId == 0 || tierId > MAX_TIER) revert IDigitalCurrency.DigitalCurrencyInvalidTier(tierId);
        if (config.transferLimit > config.dailyLimit) revert IDigitalCurrency.DigitalCurrencyInvalidTierLimits(tierId);
        TierRecord storage t = store().tiers[tierId];
        // Invariant: a capped tier holds at most one wallet per identity. A tier that ever held
        // a wallet keeps its kind: uncapped -> capped would leave its wallets without identity
        // claims (one identity, several capped wallets), capped -> uncapped would leave claims
        // behind. Checked on a flag the registrations set once, not a count they would all pay.
        if (t.used && (t.holdingCap == UNLIMITED) != (config.holdingCap == UNLIMITED)) {
            revert IDigitalCurrency.DigitalCurrencyTierInUse(tierId);
        }
        t.holdingCap = config.holdingCap;
        t.transferLimit = config.transferLimit;
        t.dailyLimit = config.dailyLimit;
        t.enabled = config.enabled;
        emit IDigitalCurrency.TierConfigured(tierId, config.holdingCap, config.transferLimit, config.dailyLimit, config.enabled);
    }

    function registerWallet(address wallet, uint8 tierId, bytes32 identity, bytes32 kycRecord) external {
        Layout storage $ = store();
        _requireEnabled($, tierId);
        _register($, wallet, tierId, _capped($, tierId), identity, kycRecord);
        _markUsed($, tierId);
    }

    function registerWallets(
        address[] calldata wallets,
        uint8 tierId,
        bytes32[] calldata identities,
        bytes32[] calldata kycRecords
    ) external {
        uint256 n = wallets.length;
        if (n == 0 || identities.length != n || kycRecords.length != n) {
            revert IDigitalCurrency.DigitalCurrencyInvalidBatch(n, identities.length);
        }
        Layout storage $ = store();
        _requireEnabled($, tierId);
        bool capped = _capped($, tierId);
        for (uint256 i; i < n; ++i) {
            _register($, wallets[i], tierId, capped, identities[i], kycRecords[i]);
        }
        _markUsed($, tierId);
    }

    function changeTier(address wallet, uint8 newTier, bytes32 kycRecord) external {
        if (kycRecord == bytes32(0)) revert ICompliantToken.ZeroReference();
        Layout storage $ = store();
        uint256 packed = $.balances[wallet];
        uint8 previous = tierOf(packed);
        if (previous == 0) revert IDigitalCurrency.DigitalCurrencyNotRegistered(wallet);
        if (previous == newTier) revert IDigitalCurrency.DigitalCurrencyTierUnchanged(wallet, newTier);
        _requireEnabled($, newTier);
        bytes32 identity = $.wallets[wallet].identity;
        bool wasCapped = $.cappedWallets[identity] == wallet;
        bool isCapped = _capped($, newTier);
        // Invariant: a capped tier holds at most one wallet per identity.
        if (isCapped && !wasCapped) _claimIdentity($, identity, wallet);
        if (wasCapped && !isCapped) delete $.cappedWallets[identity];
        _markUsed($, newTier);
        $.balances[wallet] = (packed & ~TIER_BITS) | (uint256(newTier) << TIER_SHIFT);
        emit IDigitalCurrency.WalletTierChanged(wallet, previous, newTier, kycRecord);
    }

    function deregisterWallet(address wallet, bytes32 kycRecord) external {
        if (kycRecord == bytes32(0)) revert ICompliantToken.ZeroReference();
        Layout storage $ = store();
        uint256 packed = $.balances[wallet];
        if (tierOf(packed) == 0) revert IDigitalCurrency.DigitalCurrencyNotRegistered(wallet);
        // Invariant: tier 0 holds nothing.
        uint256 balance = packed & BALANCE_MASK;
        if (balance != 0) revert IDigitalCurrency.DigitalCurrencyWalletNotEmpty(wallet, balance);
        bytes32 identity = $.wallets[wallet].identity;
        if ($.cappedWallets[identity] == wallet) delete $.cappedWallets[identity];
        delete $.wallets[wallet];
        $.balances[wallet] = packed & BLOCKED;
        emit IDigitalCurrency.WalletDeregistered(wallet, identity, kycRecord);
    }

    function setOverflowAccount(address wallet, address overflow) external {
        Layout storage $ = store();
        uint256 packed = $.balances[wallet];
        if (packed & BLOCKED != 0) revert ICompliantToken.BlockedAddress(wallet);
        if (tierOf(packed) == 0) revert IDigitalCurrency.DigitalCurrencyNotRegistered(wallet);
        if (overflow != address(0)) {
            if (overflow == wallet) revert IDigitalCurrency.DigitalCurrencySelfOverflow(wallet);
            _requireUncapped($, overflow);
        }
        address previous = $.wallets[wallet].overflow;
        $.wallets[wallet].overflow = overflow;
        emit IDigitalCurrency.OverflowAccountUpdated(wallet, previous, overflow);
    }

    // --- The pre-check (ERC-1404) ---

    /// @dev See {IDigitalCurrency-detectTransferRestriction}; the checks in the order of a transfer.
    function detectTransferRestriction(address from, address to, uint256 amount) external view returns (uint8) {
        if (from == address(0)) return TransferRestrictions.INVALID_SENDER;
        if (to == address(0)) return TransferRestrictions.INVALID_RECIPIENT;
        Layout storage $ = store();
        if ($.pausedFlags & PAUSE_TRANSFERS != 0) return TransferRestrictions.PAUSED;
        uint256 fromPacked = $.balances[from];
        uint256 toPacked = $.balances[to];
        if (fromPacked & BLOCKED != 0) return TransferRestrictions.SENDER_BLOCKED;
        if (toPacked & BLOCKED != 0) return TransferRestrictions.RECIPIENT_BLOCKED;
        uint8 fromTier = tierOf(fromPacked);
        uint8 toTier = tierOf(toPacked);
        if (fromTier == 0) return TransferRestrictions.SENDER_NOT_REGISTERED;
        if (toTier == 0) return TransferRestrictions.RECIPIENT_NOT_REGISTERED;
        uint256 fromBalance = fromPacked & BALANCE_MASK;
        if (fromBalance < amount) return TransferRestrictions.INSUFFICIENT_BALANCE;
        TierRecord storage sending = $.tiers[fromTier];
        if (amount > sending.transferLimit) return TransferRestrictions.TRANSFER_LIMIT_EXCEEDED;
        if (sending.dailyLimit != UNLIMITED && outflowToday($, from) + amount > sending.dailyLimit) {
            return TransferRestrictions.DAILY_LIMIT_EXCEEDED;
        }
        // A self-transfer leaves the balance as it is: it passes unless already above the cap.
        uint256 toBalance = from == to ? fromBalance - amount : toPacked & BALANCE_MASK;
        if (toBalance + amount > $.tiers[toTier].holdingCap) {
            address overflow = $.wallets[to].overflow;
            if (overflow == address(0)) return TransferRestrictions.HOLDING_CAP_EXCEEDED;
            uint256 overflowPacked = $.balances[overflow];
            if (overflowPacked & BLOCKED != 0) return TransferRestrictions.RECIPIENT_BLOCKED;
            if (!uncapped($, overflowPacked)) return TransferRestrictions.HOLDING_CAP_EXCEEDED;
        }
        return TransferRestrictions.SUCCESS;
    }

    /// @dev The text of a reason code (ERC-1404), kept out of the token's code size.
    function message(uint8 code) external pure returns (string memory) {
        return TransferRestrictions.walletMessage(code);
    }

    // --- Shared helpers (inlined into the token) ---

    /**
     * @dev Takes `total` from `from`, whose largest single payment in it is `largest`: the
     * sender's blocklist flag, registration, balance, per-transfer limit (on `largest`) and
     * daily outflow (on `total`).
     */
    function debit(Layout storage $, address from, uint256 largest, uint256 total) internal {
        uint256 packed = $.balances[from];
        if (packed & BLOCKED != 0) revert ICompliantToken.BlockedAddress(from);
        uint8 tierId = tierOf(packed);
        if (tierId == 0) revert IDigitalCurrency.DigitalCurrencyNotRegistered(from);
        uint256 balance = packed & BALANCE_MASK;
        if (balance < total) revert IERC20Errors.ERC20InsufficientBalance(from, balance, total);
        TierRecord storage t = $.tiers[tierId];
        uint256 limit = t.transferLimit;
        if (largest > limit) revert IDigitalCurrency.DigitalCurrencyTransferLimitExceeded(from, tierId, limit, largest);
        uint256 daily = t.dailyLimit;
        if (daily != UNLIMITED) {
            uint64 today = uint64(block.timestamp / 1 days);
            Outflow storage o = $.outflows[from];
            // total <= balance < 2^128 and spent <= daily < 2^128: the sum cannot overflow.
            uint256 spent = (o.day == today ? o.spent : 0) + total;
            if (spent > daily) revert IDigitalCurrency.DigitalCurrencyDailyLimitExceeded(from, tierId, daily, spent);
            o.day = today;
            o.spent = uint192(spent);
        }
        unchecked {
            // balance >= total: the subtraction stays in the balance bits.
            $.balances[from] = packed - total;
        }
    }

    /**
     * @dev Credits `value` (< 2^128) to `to`, sent by `from`, and emits the transfer(s). With
     * `strict`, an ineligible recipient reverts with its reason; without, nothing is written and
     * the TransferRestrictions code is returned. Returns 0 on success.
     */
    function credit(
        Layout storage $,
        address from,
        address to,
        uint256 value,
        bool strict
    ) internal returns (uint8) {
        uint256 packed = $.balances[to];
        if (packed & BLOCKED != 0) {
            if (strict) revert ICompliantToken.BlockedAddress(to);
            return TransferRestrictions.RECIPIENT_BLOCKED;
        }
        uint8 tierId = tierOf(packed);
        if (tierId == 0) {
            if (strict) revert IDigitalCurrency.DigitalCurrencyNotRegistered(to);
            return TransferRestrictions.RECIPIENT_NOT_REGISTERED;
        }
        uint256 cap = $.tiers[tierId].holdingCap;
        uint256 balance = packed & BALANCE_MASK;
        // Invariant: no wallet is credited beyond its tier's holding cap. (balance, value < 2^128.)
        if (balance + value <= cap) {
            unchecked {
                // balance + value <= cap <= 2^128 - 1: no carry into the tier bits.
                $.balances[to] = packed + value;
            }
            emit IERC20.Transfer(from, to, value);
            return 0;
        }
        address overflow = $.wallets[to].overflow;
        if (overflow == address(0)) {
            if (strict) revert IDigitalCurrency.DigitalCurrencyHoldingCapExceeded(to, tierId, cap, balance + value);
            return TransferRestrictions.HOLDING_CAP_EXCEEDED;
        }
        uint256 overflowPacked = $.balances[overflow];
        if (overflowPacked & BLOCKED != 0) {
            if (strict) revert ICompliantToken.BlockedAddress(overflow);
            return TransferRestrictions.RECIPIENT_BLOCKED;
        }
        if (!uncapped($, overflowPacked)) {
            if (strict) revert IDigitalCurrency.DigitalCurrencyNotUncapped(overflow, tierOf(overflowPacked));
            return TransferRestrictions.HOLDING_CAP_EXCEEDED;
        }
        uint256 room = cap > balance ? cap - balance : 0;
        uint256 excess = value - room;
        unchecked {
            // room <= cap - balance; the overflow wallet is uncapped and its balance plus the
            // excess is at most totalSupply < 2^128.
            if (room != 0) $.balances[to] = packed + room;
            $.balances[overflow] = overflowPacked + excess;
        }
        if (room != 0) emit IERC20.Transfer(from, to, room);
        emit IERC20.Transfer(from, overflow, excess);
        emit IDigitalCurrency.Overflowed(to, overflow, excess);
        return 0;
    }


    function tierOf(uint256 packed) internal pure returns (uint8) {
        return uint8((packed & TIER_BITS) >> TIER_SHIFT);
    }

    /// @dev Registered in a tier whose holding cap is UNLIMITED (tier 0's cap is 0: never).
    function uncapped(Layout storage $, uint256 packed) internal view returns (bool) {
        return $.tiers[tierOf(packed)].holdingCap == UNLIMITED;
    }

    function outflowToday(Layout storage $, address wallet) internal view returns (uint256) {
        Outflow storage o = $.outflows[wallet];
        return o.day == block.timestamp / 1 days ? o.spent : 0;
    }

    // --- Private ---

    function _capped(Layout storage $, uint8 tierId) private view returns (bool) {
        return $.tiers[tierId].holdingCap != UNLIMITED;
    }

    function _requireUncapped(Layout storage $, address account) private view {
        uint256 packed = $.balances[account];
        if (packed & BLOCKED != 0) revert ICompliantToken.BlockedAddress(account);
        if (!uncapped($, packed)) revert IDigitalCurrency.DigitalCurrencyNotUncapped(account, tierOf(packed));
    }

    function _requireEnabled(Layout storage $, uint8 tierId) private view {
        if (tierId == 0 || tierId > MAX_TIER || !$.tiers[tierId].enabled) {
            revert IDigitalCurrency.DigitalCurrencyInvalidTier(tierId);
        }
    }

    function _register(Layout storage $, address wallet, uint8 tierId, bool capped, bytes32 identity, bytes32 kycRecord) private {
        if (wallet == address(0)) revert ICompliantToken.ZeroAddress();
        if (identity == bytes32(0) || kycRecord == bytes32(0)) revert ICompliantToken.ZeroReference();
        uint256 packed = $.balances[wallet];
        if (tierOf(packed) != 0) revert IDigitalCurrency.DigitalCurrencyAlreadyRegistered(wallet);
        // Invariant: a capped tier holds at most one wallet per identity.
        if (capped) _claimIdentity($, identity, wallet);
        $.wallets[wallet].identity = identity;
        $.balances[wallet] = packed | (uint256(tierId) << TIER_SHIFT);
        emit IDigitalCurrency.WalletRegistered(wallet, tierId, identity, kycRecord);
    }

    /// @dev Fixes the kind of `tierId` once a wallet enters it (one write in the tier's life).
    function _markUsed(Layout storage $, uint8 tierId) private {
        TierRecord storage t = $.tiers[tierId];
        if (!t.used) t.used = true;
    }

    function _claimIdentity(Layout storage $, bytes32 identity, address wallet) private {
        address holder = $.cappedWallets[identity];
        if (holder != address(0)) revert IDigitalCurrency.DigitalCurrencyIdentityHasCappedWallet(identity, holder);
        $.cappedWallets[identity] = wallet;
    }
}
