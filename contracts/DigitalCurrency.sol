// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC20Upgradeable} from "@openzeppelin/contracts-upgradeable/token/ERC20/ERC20Upgradeable.sol";

import {ICompliantToken} from "./interfaces/ICompliantToken.sol";
import {IDigitalCurrency} from "./interfaces/IDigitalCurrency.sol";
import {DigitalCurrencyLogic} from "./libraries/DigitalCurrencyLogic.sol";
import {ComplianceLogic} from "./token/ComplianceLogic.sol";
import {CompliantToken} from "./token/CompliantToken.sol";
import {SignedTransfers} from "./token/SignedTransfers.sol";

/**
 * @title DigitalCurrency (the digital som)
 * @notice The central bank's digital currency for government payments: a permissioned ERC-20
 * with EIP-2612 permit and EIP-3009 authorizations, held only by KYC-registered wallets whose
 * tier sets a holding cap, a per-transfer limit and a daily outflow limit; issued by the central
 * bank and paid out by the treasury in once-only batches; with the pause, sanctions blocklist
 * and maker-checker seizure of KGST, from the compliance core both tokens share
 * ({CompliantToken}, its cold paths in the linked {ComplianceLogic}).
 *
 * @dev Design choices, each measured against its alternative:
 *
 * - The wallet registry lives inside the token, not in a contract of its own. Every balance
 *   slot packs [blocked: bit 255 | tier: bits 248-254 | balance: bits 0-127], so one storage read
 *   of the recipient gives its balance, its blocklist flag and its tier. A separate registry
 *   would cost each transfer a cold CALL (2,600 gas) and a cold SLOAD (2,100) per party, about
 *   9,400 gas for sender and recipient: a third of the 28,000-gas budget of a payout. The price
 *   is that registry changes need a token upgrade, which governance controls anyway.
 * - Sanctions: each token keeps its own blocklist in its balance slots, and one operator command
 *   (`somstack compliance block`) applies a sanction to every SomStack token, one transaction
 *   per token, and reports each. A shared on-chain list would put a cold external call and
 *   SLOAD on both parties of every transfer of both tokens (about 9,400 gas, +22% on a KGST
 *   transfer), where the packed flag costs nothing; the command gives the same reach.
 * - Daily limits use UTC calendar days of the chain's time: day = block.timestamp / 1 days. A
 *   wallet's outflow bucket resets at 00:00 UTC, not 24 hours after its first payment.
 * - Tier 0 is "unregistered": it can neither hold nor send. A limit of type(uint128).max
 *   (`UNLIMITED`) does not bind; a tier with an UNLIMITED holding cap is uncapped.
 * - An incoming payment above the recipient's holding cap reverts, unless the recipient linked
 *   an overflow wallet (its bank's, in an uncapped tier; a KYC officer makes the link, on the
 *   holder's request and with the bank's agreement): then the excess goes there in the same
 *   transfer (the digital euro's "waterfall"), with its own {IERC20-Transfer} and an
 *   {Overflowed} event.
 * - A seizure's recovery wallet must be in an uncapped tier, when proposed and when executed.
 *
 * Invariants: totalSupply <= 2^128 - 1, so no balance carries into the tier bits; a wallet is
 * credited only up to its tier's holding cap (lowering a cap does not take existing funds); a
 * capped tier holds at most one wallet per identity (a tier that ever held a wallet cannot
 * switch between capped and uncapped); a batch id pays at most once.
 *
 * Not checked here: who holds which role (the AccessManager); the truth of a KYC file (its hash
 * is recorded, the file stays with the KYC officer); fiat backing (the central bank's liability).
 */
contract DigitalCurrency is CompliantToken, IDigitalCurrency {
    // --- Constants ---

    /// @notice A tier limit that does not bind.
    uint128 public constant UNLIMITED = DigitalCurrencyLogic.UNLIMITED;
    /// @notice The highest tier id (7 bits in the balance slot).
    uint8 public constant MAX_TIER = DigitalCurrencyLogic.MAX_TIER;

    // --- Storage (layout in DigitalCurrencyLogic) ---

    function _s() private pure returns (DigitalCurrencyLogic.Layout storage) {
        return DigitalCurrencyLogic.store();
    }

    // --- Init ---

    /// @custom:oz-upgrades-unsafe-allow constructor state-variable-immutable
    /// @param eip712Name the token name its proxy is initialized with (the EIP-712 domain name,
    /// fixed in this implementation's code; see {SignedTransfers})
    constructor(string memory eip712Name) SignedTransfers(eip712Name) {
        _disableInitializers();
    }

    /**
     * @notice Initializes the proxy: token metadata and the AccessManager that governs it.
     * @param name_ token name, also the EIP-712 domain name (version "1"); must be the name the
     * implementation was constructed with
     * @param symbol_ token symbol
     * @param decimals_ token decimals (2: one unit is one tyiyn)
     * @param authority the AccessManager
     */
    function initialize(
        string calldata name_,
        string calldata symbol_,
        uint8 decimals_,
        address authority
    ) external initializer {
        if (authority == address(0)) revert ZeroAddress();
        _checkDomainName(name_);
        __ERC20_init(name_, symbol_);
        __ERC20Permit_init(name_);
        __ERC3009_init();
        __AccessManaged_init(authority);
        _s().decimals = decimals_;
    }

    // --- ERC-20 views ---

    /// @inheritdoc ERC20Upgradeable
    function decimals() public view override returns (uint8) {
        return _s().decimals;
    }

    /// @inheritdoc ERC20Upgradeable
    function totalSupply() public view override returns (uint256) {
        return _s().totalSupply;
    }

    // --- Tiers and the wallet registry ---

    /// @inheritdoc IDigitalCurrency
    function setTier(uint8 tierId, Tier calldata config) external restricted {
        DigitalCurrencyLogic.setTier(tierId, config);
    }

    /// @inheritdoc IDigitalCurrency
    function tier(uint8 tierId) external view returns (Tier memory) {
        DigitalCurrencyLogic.TierRecord storage t = _s().tiers[tierId];
        return Tier(t.holdingCap, t.transferLimit, t.dailyLimit, t.enabled);
    }


    /// @inheritdoc IDigitalCurrency
    function registerWallet(address wallet, uint8 tierId, bytes32 identity, bytes32 kycRecord) external restricted {
        DigitalCurrencyLogic.registerWallet(wallet, tierId, identity, kycRecord);
    }

    /// @inheritdoc IDigitalCurrency
    function registerWallets(
        address[] calldata wallets,
        uint8 tierId,
        bytes32[] calldata identities,
        bytes32[] calldata kycRecords
    ) external restricted {
        DigitalCurrencyLogic.registerWallets(wallets, tierId, identities, kycRecords);
    }

    /// @inheritdoc IDigitalCurrency
    function changeTier(address wallet, uint8 newTier, bytes32 kycRecord) external restricted {
        DigitalCurrencyLogic.changeTier(wallet, newTier, kycRecord);
    }

    /// @inheritdoc IDigitalCurrency
    function deregisterWallet(address wallet, bytes32 kycRecord) external restricted {
        DigitalCurrencyLogic.deregisterWallet(wallet, kycRecord);
    }

    /// @inheritdoc IDigitalCurrency
    function setWaterfall(address wallet, address overflow) external restricted {
        DigitalCurrencyLogic.setOverflowAccount(wallet, overflow);
    }


    /// @inheritdoc IDigitalCurrency
    function walletOf(address wallet) external view returns (uint8 tierId, bytes32 identity, address overflow) {
        DigitalCurrencyLogic.Layout storage $ = _s();
        DigitalCurrencyLogic.Wallet storage record = $.wallets[wallet];
        return (DigitalCurrencyLogic.tierOf($.balances[wallet]), record.identity, record.overflow);
    }

    /// @inheritdoc IDigitalCurrency
    function cappedWalletOf(bytes32 identity) external view returns (address) {
        return _s().cappedWallets[identity];
    }

    /// @inheritdoc IDigitalCurrency
    function outflowToday(address wallet) external view returns (uint256) {
        return DigitalCurrencyLogic.outflowToday(_s(), wallet);
    }

    // --- Issuance and payouts ---

    /// @inheritdoc IDigitalCurrency
    function mint(address to, uint256 amount, bytes32 ref) external restricted {
        if (amount == 0) revert ZeroAmount();
        if (ref == bytes32(0)) revert ZeroReference();
        _mint(to, amount);
        emit Issued(_msgSender(), to, amount, ref);
    }

    /// @inheritdoc IDigitalCurrency
    function burn(uint256 amount, bytes32 ref) external restricted {
        if (amount == 0) revert ZeroAmount();
        if (ref == bytes32(0)) revert ZeroReference();
        address issuer = _msgSender();
        _burn(issuer, amount);
        emit Retired(issuer, amount, ref);
    }

    /// @inheritdoc IDigitalCurrency
    function disburse(
        bytes32 batchId,
        address[] calldata recipients,
        uint256[] calldata amounts,
        bool skipIneligible
    ) external restricted returns (uint256 paid, uint256 total) {
        return DigitalCurrencyLogic.disburse(batchId, recipients, amounts, skipIneligible, _msgSender());
    }

    /// @inheritdoc IDigitalCurrency
    function isBatchPaid(bytes32 batchId) external view returns (bool) {
        return _s().paidBatches[batchId];
    }

    // --- Seizure ---

    /// @inheritdoc ICompliantToken
    function seizureCount() external view returns (uint256) {
        return _s().seizureCount;
    }

    // --- Pre-check (ERC-1404) ---

    /// @inheritdoc ICompliantToken
    function detectTransferRestriction(
        address from,
        address to,
        uint256 amount
    ) public view override(CompliantToken, ICompliantToken) returns (uint8) {
        return DigitalCurrencyLogic.detectTransferRestriction(from, to, amount);
    }

    /// @inheritdoc ICompliantToken
    function messageForTransferRestriction(uint8 code) external pure returns (string memory) {
        return DigitalCurrencyLogic.message(code);
    }

    // --- Internal: the one override point of token movements ---

    /**
     * @dev Every issuance, retirement and transfer passes here: the pause switch of the
     * operation, then the sender's side (blocklist, registration, balance, per-transfer and daily
     * limits), then the recipient's (blocklist, registration, holding cap or waterfall).
     */
    function _update(address from, address to, uint256 value) internal override {
        DigitalCurrencyLogic.Layout storage $ = _s();
        uint8 flag = from == address(0) ? PAUSE_MINT : (to == address(0) ? PAUSE_REDEEM : PAUSE_TRANSFERS);
        if ($.pausedFlags & flag != 0) revert OperationPaused(flag);
        if (from == address(0)) {
            uint256 supply = $.totalSupply + value;
            // Invariant: totalSupply <= _BALANCE_MASK, so no balance carries into the tier bits.
            if (supply > _BALANCE_MASK) revert SupplyCapExceeded($.totalSupply, value);
            $.totalSupply = supply;
        } else {
            DigitalCurrencyLogic.debit($, from, value, value);
        }
        if (to == address(0)) {
            unchecked {
                // value <= balance of `from` <= totalSupply.
                $.totalSupply -= value;
            }
            emit Transfer(from, address(0), value);
        } else {
            DigitalCurrencyLogic.credit($, from, to, value, true);
        }
    }

    // --- Hooks of {CompliantToken} ---

    function _balances() internal view override returns (mapping(address => uint256) storage) {
        return _s().balances;
    }

    function _pausedFlags() internal view override returns (uint8) {
        return _s().pausedFlags;
    }

    function _setPausedFlags(uint8 flags) internal override {
        _s().pausedFlags = flags;
    }

    function _seizureBook() internal view override returns (ComplianceLogic.SeizureBook storage) {
        return _s().seizures;
    }

    function _nextSeizureId() internal override returns (uint256) {
        return ++_s().seizureCount;
    }

    /// @dev A recovery wallet is registered in an uncapped tier (so no cap binds the seized amount).
    function _checkRecovery(address recovery) internal view override {
        DigitalCurrencyLogic.Layout storage $ = _s();
        uint256 packed = $.balances[recovery];
        if (!DigitalCurrencyLogic.uncapped($, packed)) {
            revert DigitalCurrencyNotUncapped(recovery, DigitalCurrencyLogic.tierOf(packed));
        }
    }
}
