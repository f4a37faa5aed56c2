// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC20Upgradeable} from "@openzeppelin/contracts-upgradeable/token/ERC20/ERC20Upgradeable.sol";
import {AccessManagedUpgradeable} from "@openzeppelin/contracts-upgradeable/access/manager/AccessManagedUpgradeable.sol";
import {UUPSUpgradeable} from "@openzeppelin/contracts-upgradeable/proxy/utils/UUPSUpgradeable.sol";
import {Initializable} from "@openzeppelin/contracts-upgradeable/proxy/utils/Initializable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

import {IDigitalCurrency} from "./interfaces/IDigitalCurrency.sol";
import {DigitalCurrencyLogic} from "./libraries/DigitalCurrencyLogic.sol";
import {TransferRestrictions} from "./libraries/TransferRestrictions.sol";
import {SignedTransfers} from "./token/SignedTransfers.sol";

/**
 * @title DigitalCurrency (the digital som)
 * @notice The central bank's digital currency for government payments: a permissioned ERC-20
 * with EIP-2612 permit and EIP-3009 authorizations, held only by KYC-registered wallets whose
 * tier sets a holding cap, a per-transfer limit and a daily outflow limit; issued by the central
 * bank and paid out by the treasury in once-only batches; with the pause, sanctions blocklist
 * and maker-checker seizure of KGST.
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
 *   an overflow wallet (its bank's, in an uncapped tier): then the excess goes there in the
 *   same transfer (the digital euro's "waterfall"), with its own {IERC20-Transfer} and an
 *   {Overflowed} event.
 *
 * Invariants: totalSupply <= 2^128 - 1, so no balance carries into the tier bits; a wallet is
 * credited only up to its tier's holding cap (lowering a cap does not take existing funds); a
 * capped tier holds at most one wallet per identity; a batch id pays at most once.
 *
 * Not checked here: who holds which role (the AccessManager); the truth of a KYC file (its hash
 * is recorded, the file stays with the KYC officer); fiat backing (the central bank's liability).
 */
contract DigitalCurrency is
    Initializable,
    SignedTransfers,
    AccessManagedUpgradeable,
    UUPSUpgradeable,
    IDigitalCurrency
{
    using SafeERC20 for IERC20;

    // --- Constants ---

    /// @notice Pause switch: transfers, payouts, approvals, permits and EIP-3009 authorizations.
    uint8 public constant PAUSE_TRANSFERS = DigitalCurrencyLogic.PAUSE_TRANSFERS;
    /// @notice Pause switch: issuance.
    uint8 public constant PAUSE_MINT = DigitalCurrencyLogic.PAUSE_MINT;
    /// @notice Pause switch: retirement (burns).
    uint8 public constant PAUSE_REDEEM = DigitalCurrencyLogic.PAUSE_REDEEM;
    uint8 private constant _ALL_PAUSE_FLAGS = PAUSE_TRANSFERS | PAUSE_MINT | PAUSE_REDEEM;

    /// @notice A tier limit that does not bind.
    uint128 public constant UNLIMITED = DigitalCurrencyLogic.UNLIMITED;
    /// @notice The highest tier id (7 bits in the balance slot).
    uint8 public constant MAX_TIER = DigitalCurrencyLogic.MAX_TIER;

    uint256 private constant _BLOCKED = DigitalCurrencyLogic.BLOCKED;
    uint256 private constant _BALANCE_MASK = DigitalCurrencyLogic.BALANCE_MASK;

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
        if (authority == address(0)) revert DigitalCurrencyZeroAddress();
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

    /// @inheritdoc ERC20Upgradeable
    function balanceOf(address account) public view override returns (uint256) {
        return _s().balances[account] & _BALANCE_MASK;
    }

    /// @inheritdoc ERC20Upgradeable
    /// @dev A blocked spender is refused here, whatever its allowance.
    function transferFrom(address from, address to, uint256 value) public override returns (bool) {
        address spender = _msgSender();
        if (spender != from) _requireNotBlocked(spender);
        return super.transferFrom(from, to, value);
    }

    // --- Tiers and the wallet registry ---

    /// @inheritdoc IDigitalCurrency
    function setTier(uint8 tierId, Tier calldata config) external restricted {
        DigitalCurrencyLogic.setTier(tierId, config);
    }

    /// @inheritdoc IDigitalCurrency
    function tier(uint8 tierId) external view returns (Tier memory) {
        return _s().tiers[tierId];
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
    function setOverflowAccount(address overflow) external {
        DigitalCurrencyLogic.setOverflowAccount(_msgSender(), overflow);
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
        if (amount == 0) revert DigitalCurrencyZeroAmount();
        if (ref == bytes32(0)) revert DigitalCurrencyZeroReference();
        _mint(to, amount);
        emit Issued(_msgSender(), to, amount, ref);
    }

    /// @inheritdoc IDigitalCurrency
    function burn(uint256 amount, bytes32 ref) external restricted {
        if (amount == 0) revert DigitalCurrencyZeroAmount();
        if (ref == bytes32(0)) revert DigitalCurrencyZeroReference();
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

    // --- Pause ---

    /// @inheritdoc IDigitalCurrency
    function pause(uint8 flags) external restricted {
        _checkPauseFlags(flags);
        DigitalCurrencyLogic.Layout storage $ = _s();
        uint8 previous = $.pausedFlags;
        $.pausedFlags = previous | flags;
        emit PauseFlagsUpdated(_msgSender(), previous, previous | flags);
    }

    /// @inheritdoc IDigitalCurrency
    function unpause(uint8 flags) external restricted {
        _checkPauseFlags(flags);
        DigitalCurrencyLogic.Layout storage $ = _s();
        uint8 previous = $.pausedFlags;
        $.pausedFlags = previous & ~flags;
        emit PauseFlagsUpdated(_msgSender(), previous, previous & ~flags);
    }

    /// @inheritdoc IDigitalCurrency
    function pausedFlags() external view returns (uint8) {
        return _s().pausedFlags;
    }

    // --- Blocklist and seizure ---

    /// @inheritdoc IDigitalCurrency
    function blockAccount(address account, bytes32 reason) external restricted {
        DigitalCurrencyLogic.setBlocked(account, true, reason);
    }

    /// @inheritdoc IDigitalCurrency
    function unblockAccount(address account) external restricted {
        DigitalCurrencyLogic.setBlocked(account, false, 0);
    }

    /// @inheritdoc IDigitalCurrency
    function isBlocked(address account) public view returns (bool) {
        return _s().balances[account] & _BLOCKED != 0;
    }

    /// @inheritdoc IDigitalCurrency
    function proposeSeizure(
        address account,
        address recovery,
        uint256 amount,
        bytes32 caseRef,
        bytes32 evidenceHash
    ) external restricted returns (uint256) {
        return DigitalCurrencyLogic.proposeSeizure(account, recovery, amount, caseRef, evidenceHash, _msgSender());
    }

    /// @inheritdoc IDigitalCurrency
    function executeSeizure(uint256 seizureId) external restricted {
        DigitalCurrencyLogic.executeSeizure(seizureId, _msgSender());
    }

    /// @inheritdoc IDigitalCurrency
    function rejectSeizure(uint256 seizureId) external restricted {
        DigitalCurrencyLogic.pendingSeizure(_s(), seizureId).status = SeizureStatus.Rejected;
        emit SeizureRejected(seizureId, _msgSender());
    }

    /// @inheritdoc IDigitalCurrency
    function seizure(uint256 seizureId) external view returns (Seizure memory) {
        return _s().seizures[seizureId];
    }

    /// @inheritdoc IDigitalCurrency
    function seizureCount() external view returns (uint256) {
        return _s().seizureCount;
    }

    // --- Pre-check (ERC-1404) ---

    /// @inheritdoc IDigitalCurrency
    function detectTransferRestriction(address from, address to, uint256 amount) public view returns (uint8) {
        return DigitalCurrencyLogic.detectTransferRestriction(from, to, amount);
    }

    /// @inheritdoc IDigitalCurrency
    function detectTransferFromRestriction(
        address spender,
        address from,
        address to,
        uint256 amount
    ) external view returns (uint8) {
        if (spender != from && isBlocked(spender)) return TransferRestrictions.SPENDER_BLOCKED;
        uint8 code = detectTransferRestriction(from, to, amount);
        if (code != TransferRestrictions.SUCCESS) return code;
        if (allowance(from, spender) < amount) return TransferRestrictions.INSUFFICIENT_ALLOWANCE;
        return TransferRestrictions.SUCCESS;
    }

    /// @inheritdoc IDigitalCurrency
    function messageForTransferRestriction(uint8 code) external pure returns (string memory) {
        return DigitalCurrencyLogic.message(code);
    }

    // --- Rescue ---

    /// @inheritdoc IDigitalCurrency
    function rescueERC20(address token, address to, uint256 amount) external restricted {
        if (to == address(0)) revert DigitalCurrencyZeroAddress();
        if (token == address(this)) {
            // Digital som sent to the token itself moves under the usual checks.
            _transfer(address(this), to, amount);
        } else {
            IERC20(token).safeTransfer(to, amount);
        }
        emit TokensRescued(token, to, amount);
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
        if ($.pausedFlags & flag != 0) revert DigitalCurrencyPaused(flag);
        if (from == address(0)) {
            uint256 supply = $.totalSupply + value;
            // Invariant: totalSupply <= _BALANCE_MASK, so no balance carries into the tier bits.
            if (supply > _BALANCE_MASK) revert DigitalCurrencySupplyCapExceeded($.totalSupply, value);
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

    /// @dev Approvals (approve, permit) need transfers unpaused and neither party blocked, except
    /// that an allowance to a blocked spender may always be revoked to zero. Spends are left alone.
    function _approve(address owner, address spender, uint256 value, bool emitEvent) internal override {
        if (emitEvent) {
            DigitalCurrencyLogic.Layout storage $ = _s();
            if ($.pausedFlags & PAUSE_TRANSFERS != 0) revert DigitalCurrencyPaused(PAUSE_TRANSFERS);
            if ($.balances[owner] & _BLOCKED != 0) revert DigitalCurrencyAccountBlocked(owner);
            if (value != 0 && $.balances[spender] & _BLOCKED != 0) revert DigitalCurrencyAccountBlocked(spender);
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
        if (isBlocked(account)) revert DigitalCurrencyAccountBlocked(account);
    }

    /// @dev The signature hook of {SignedTransfers}.
    function _revertInvalidSignature(address signer) internal pure override {
        revert DigitalCurrencyInvalidSignature(signer);
    }

    function _checkPauseFlags(uint8 flags) private pure {
        if (flags == 0 || flags & ~_ALL_PAUSE_FLAGS != 0) revert DigitalCurrencyInvalidPauseFlags(flags);
    }

}
