// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC20Upgradeable} from "@openzeppelin/contracts-upgradeable/token/ERC20/ERC20Upgradeable.sol";
import {AccessManagedUpgradeable} from "@openzeppelin/contracts-upgradeable/access/manager/AccessManagedUpgradeable.sol";
import {UUPSUpgradeable} from "@openzeppelin/contracts-upgradeable/proxy/utils/UUPSUpgradeable.sol";
import {Initializable} from "@openzeppelin/contracts-upgradeable/proxy/utils/Initializable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

import {IReserveVault} from "./interfaces/IReserveVault.sol";
import {IStablecoin} from "./interfaces/IStablecoin.sol";
import {TransferRestrictions} from "./libraries/TransferRestrictions.sol";
import {SignedTransfers} from "./token/SignedTransfers.sol";

/**
 * @title Stablecoin (KGST)
 * @notice The som-pegged national stablecoin: an ERC-20 with EIP-2612 permit and EIP-3009
 * authorizations, minted only by allowance-capped minters against fiat deposit references,
 * with a granular pause, a sanctions blocklist and maker-checker seizure, governed by an
 * OpenZeppelin AccessManager and upgradeable through UUPS behind an execution delay.
 *
 * @dev Built on OpenZeppelin Contracts Upgradeable 5.x: ERC20, ERC20Permit, ERC3009 (random
 * 32-byte nonces, as USDC and x402 clients sign them), AccessManaged and UUPS. What no kept
 * library does is written here:
 *
 * - Balances live in this contract's ERC-7201 namespace, not in ERC20Upgradeable's: each
 *   balance slot packs [blocked: bit 255 | EIP-2612 nonce: bits 128-191 | balance: bits 0-127].
 *   The blocklist flag in the top bit (`_BLOCKED`), as USDC does, makes the sender and recipient
 *   checks of a transfer cost no extra storage read; the permit nonce next to the balance makes a
 *   permit read and write the owner's one slot, which its blocklist check reads anyway, instead of
 *   a separate nonce slot (NoncesUpgradeable's stays empty). `balanceOf`, `totalSupply`, `nonces`,
 *   `_useNonce` and `_update` are overridden accordingly; ERC20Upgradeable's own balance and
 *   supply slots stay empty. Invariant: `totalSupply <= _BALANCE_MASK` (2^128 - 1), so no balance
 *   can carry into the nonce bits.
 * - All token-moving checks (pause switches, blocklist) sit in the one override point
 *   `_update`. Seizure moves a blocked balance through `_move` with the checks off: it is the
 *   only path that does, and it needs two different officers.
 * - OpenZeppelin 5's `_spendAllowance` skips its work for an unlimited allowance, so a blocked
 *   spender is refused in `transferFrom` itself, not through the allowance.
 * - Permit and EIP-3009 accept ERC-1271 signatures from contract wallets (a treasury multisig).
 *   ECDSA is tried first, so an EOA pays no EXTCODESIZE; high-s signatures are refused.
 *
 * - Every mint asks the ReserveVault (`checkMint`) whether the reserve covers the supply after
 *   it; without a vault, minting fails closed. Transfers and burns never ask it.
 *
 * Not checked here: who holds which role (the AccessManager), the valuation of the reserve (the
 * vault), the fiat side of deposits and redemptions (the references record it).
 */
contract Stablecoin is
    Initializable,
    SignedTransfers,
    AccessManagedUpgradeable,
    UUPSUpgradeable,
    IStablecoin
{
    using SafeERC20 for IERC20;

    // --- Constants ---

    /// @notice Pause switch: transfers, approvals, permits and EIP-3009 authorizations.
    uint8 public constant PAUSE_TRANSFERS = 1;
    /// @notice Pause switch: minting.
    uint8 public constant PAUSE_MINT = 2;
    /// @notice Pause switch: redemption burns.
    uint8 public constant PAUSE_REDEEM = 4;
    uint8 private constant _ALL_PAUSE_FLAGS = PAUSE_TRANSFERS | PAUSE_MINT | PAUSE_REDEEM;

    /// @dev Top bit of a balance slot: the account is on the blocklist.
    uint256 private constant _BLOCKED = 1 << 255;
    /// @dev The balance bits of a balance slot; also the bound of the total supply [token units].
    uint256 private constant _BALANCE_MASK = type(uint128).max;
    /// @dev Where a balance slot keeps its account's EIP-2612 nonce (a uint64).
    uint256 private constant _NONCE_SHIFT = 128;

    // --- Storage ---

    /// @custom:storage-location erc7201:somstack.storage.Stablecoin
    struct StablecoinStorage {
        mapping(address account => uint256 packed) balances; // [blocked 255 | nonce 128-191 | balance 0-127]
        uint256 totalSupply; // [token units]
        uint8 decimals;
        uint8 pausedFlags; // PAUSE_* bits
        uint64 seizureCount;
        address reserveVault; // IReserveVault asked before every mint (in the pause flags' slot)
        mapping(address minter => uint256 allowance) minterAllowances; // [token units]
        mapping(bytes32 depositRef => bool used) usedDepositRefs;
        mapping(uint256 seizureId => Seizure) seizures;
    }

    // keccak256(abi.encode(uint256(keccak256("somstack.storage.Stablecoin")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant _STORAGE_LOCATION = 0xa78a56bb9a2f2cfc7d11e7ef67dd63c58197705ab8c7de4d892540a509d3af00;

    function _s() private pure returns (StablecoinStorage storage $) {
        assembly {
            $.slot := _STORAGE_LOCATION
        }
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
     * @param decimals_ token decimals (18, as BEP-20 stablecoins on BSC use)
     * @param authority the AccessManager
     */
    function initialize(
        string calldata name_,
        string calldata symbol_,
        uint8 decimals_,
        address authority
    ) external initializer {
        if (authority == address(0)) revert StablecoinZeroAddress();
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

    // --- ERC-20 actions with spender checks ---

    /// @inheritdoc ERC20Upgradeable
    /// @dev A blocked spender is refused here, whatever its allowance (an unlimited allowance is
    /// never touched by `_spendAllowance`). The owner and recipient are checked in `_update`.
    function transferFrom(address from, address to, uint256 value) public override returns (bool) {
        address spender = _msgSender();
        if (spender != from) _requireNotBlocked(spender);
        return super.transferFrom(from, to, value);
    }

    /// @inheritdoc IStablecoin
    function transferWithReference(address to, uint256 amount, bytes32 ref) external returns (bool) {
        if (ref == bytes32(0)) revert StablecoinZeroReference();
        address from = _msgSender();
        _transfer(from, to, amount);
        emit TransferReference(from, to, amount, ref);
        return true;
    }

    // --- Minting and redemption ---

    /// @inheritdoc IStablecoin
    function mint(address to, uint256 amount, bytes32 depositRef) external restricted {
        if (amount == 0) revert StablecoinZeroAmount();
        if (depositRef == bytes32(0)) revert StablecoinZeroReference();
        StablecoinStorage storage $ = _s();
        address minter = _msgSender();
        uint256 allowance = $.minterAllowances[minter];
        if (amount > allowance) revert StablecoinMinterAllowanceExceeded(minter, allowance, amount);
        // Invariant: one fiat deposit backs at most one mint.
        if ($.usedDepositRefs[depositRef]) revert StablecoinDepositReferenceUsed(depositRef);
        $.usedDepositRefs[depositRef] = true;
        unchecked {
            // amount <= allowance, checked above.
            $.minterAllowances[minter] = allowance - amount;
        }
        // Invariant: no mint takes the supply beyond what the reserve covers (fail closed).
        address vault = $.reserveVault;
        if (vault == address(0)) revert StablecoinReserveVaultNotSet();
        IReserveVault(vault).checkMint($.totalSupply + amount);
        _mint(to, amount);
        emit Minted(minter, to, amount, depositRef);
    }

    /// @inheritdoc IStablecoin
    function burn(uint256 amount, bytes32 redemptionRef) external restricted {
        if (amount == 0) revert StablecoinZeroAmount();
        if (redemptionRef == bytes32(0)) revert StablecoinZeroReference();
        address burner = _msgSender();
        _burn(burner, amount);
        emit Redeemed(burner, amount, redemptionRef);
    }

    /// @inheritdoc IStablecoin
    function configureMinter(address minter, uint256 allowance) external restricted {
        _setMinterAllowance(minter, allowance);
    }

    /// @inheritdoc IStablecoin
    function increaseMinterAllowance(address minter, uint256 amount) external restricted {
        _setMinterAllowance(minter, _s().minterAllowances[minter] + amount);
    }

    /// @inheritdoc IStablecoin
    function decreaseMinterAllowance(address minter, uint256 amount) external restricted {
        uint256 current = _s().minterAllowances[minter];
        _setMinterAllowance(minter, amount >= current ? 0 : current - amount);
    }

    /// @inheritdoc IStablecoin
    function removeMinter(address minter) external restricted {
        _setMinterAllowance(minter, 0);
    }

    /// @inheritdoc IStablecoin
    function minterAllowance(address minter) external view returns (uint256) {
        return _s().minterAllowances[minter];
    }

    /// @inheritdoc IStablecoin
    function setReserveVault(address vault) external restricted {
        if (vault == address(0)) revert StablecoinZeroAddress();
        StablecoinStorage storage $ = _s();
        emit ReserveVaultUpdated($.reserveVault, vault);
        $.reserveVault = vault;
    }

    /// @inheritdoc IStablecoin
    function reserveVault() external view returns (address) {
        return _s().reserveVault;
    }

    /// @inheritdoc IStablecoin
    function isDepositReferenceUsed(bytes32 depositRef) external view returns (bool) {
        return _s().usedDepositRefs[depositRef];
    }

    // --- Pause ---

    /// @inheritdoc IStablecoin
    function pause(uint8 flags) external restricted {
        _checkPauseFlags(flags);
        StablecoinStorage storage $ = _s();
        uint8 previous = $.pausedFlags;
        $.pausedFlags = previous | flags;
        emit PauseFlagsUpdated(_msgSender(), previous, previous | flags);
    }

    /// @inheritdoc IStablecoin
    function unpause(uint8 flags) external restricted {
        _checkPauseFlags(flags);
        StablecoinStorage storage $ = _s();
        uint8 previous = $.pausedFlags;
        $.pausedFlags = previous & ~flags;
        emit PauseFlagsUpdated(_msgSender(), previous, previous & ~flags);
    }

    /// @inheritdoc IStablecoin
    function pausedFlags() external view returns (uint8) {
        return _s().pausedFlags;
    }

    // --- Blocklist and seizure ---

    /// @inheritdoc IStablecoin
    function blockAccount(address account, bytes32 reason) external restricted {
        if (account == address(0)) revert StablecoinZeroAddress();
        StablecoinStorage storage $ = _s();
        uint256 packed = $.balances[account];
        if (packed & _BLOCKED != 0) revert StablecoinBlockStatusUnchanged(account, true);
        $.balances[account] = packed | _BLOCKED;
        emit AccountBlocked(account, reason);
    }

    /// @inheritdoc IStablecoin
    function unblockAccount(address account) external restricted {
        StablecoinStorage storage $ = _s();
        uint256 packed = $.balances[account];
        if (packed & _BLOCKED == 0) revert StablecoinBlockStatusUnchanged(account, false);
        $.balances[account] = packed & ~_BLOCKED;
        emit AccountUnblocked(account);
    }

    /// @inheritdoc IStablecoin
    function isBlocked(address account) public view returns (bool) {
        return _s().balances[account] & _BLOCKED != 0;
    }

    /// @inheritdoc IStablecoin
    function proposeSeizure(
        address account,
        address recovery,
        uint256 amount,
        bytes32 caseRef,
        bytes32 evidenceHash
    ) external restricted returns (uint256 seizureId) {
        if (recovery == address(0)) revert StablecoinZeroAddress();
        if (amount == 0) revert StablecoinZeroAmount();
        if (caseRef == bytes32(0)) revert StablecoinZeroReference();
        if (!isBlocked(account)) revert StablecoinAccountNotBlocked(account);
        if (isBlocked(recovery)) revert StablecoinAccountBlocked(recovery);
        StablecoinStorage storage $ = _s();
        seizureId = ++$.seizureCount;
        address proposer = _msgSender();
        $.seizures[seizureId] = Seizure({
            account: account,
            recovery: recovery,
            amount: amount,
            caseRef: caseRef,
            evidenceHash: evidenceHash,
            proposer: proposer,
            status: SeizureStatus.Proposed
        });
        emit SeizureProposed(seizureId, account, recovery, amount, caseRef, evidenceHash, proposer);
    }

    /// @inheritdoc IStablecoin
    function executeSeizure(uint256 seizureId) external restricted {
        Seizure storage order = _pendingSeizure(seizureId);
        address approver = _msgSender();
        // Maker-checker: the officer who proposed a seizure cannot also approve it, even if it
        // holds both roles.
        if (approver == order.proposer) revert StablecoinSeizureSelfApproval(seizureId, approver);
        address account = order.account;
        address recovery = order.recovery;
        if (!isBlocked(account)) revert StablecoinAccountNotBlocked(account);
        if (isBlocked(recovery)) revert StablecoinAccountBlocked(recovery);
        order.status = SeizureStatus.Executed;
        // The only move of a blocked balance: checks off, on purpose (see the contract's @dev).
        _move(account, recovery, order.amount);
        emit SeizureExecuted(seizureId, account, recovery, order.amount, order.caseRef, approver);
    }

    /// @inheritdoc IStablecoin
    function rejectSeizure(uint256 seizureId) external restricted {
        _pendingSeizure(seizureId).status = SeizureStatus.Rejected;
        emit SeizureRejected(seizureId, _msgSender());
    }

    /// @inheritdoc IStablecoin
    function seizure(uint256 seizureId) external view returns (Seizure memory) {
        return _s().seizures[seizureId];
    }

    /// @inheritdoc IStablecoin
    function seizureCount() external view returns (uint256) {
        return _s().seizureCount;
    }

    // --- Pre-check (ERC-1404) ---

    /// @inheritdoc IStablecoin
    function detectTransferRestriction(address from, address to, uint256 amount) public view returns (uint8) {
        if (from == address(0)) return TransferRestrictions.INVALID_SENDER;
        if (to == address(0)) return TransferRestrictions.INVALID_RECIPIENT;
        StablecoinStorage storage $ = _s();
        if ($.pausedFlags & PAUSE_TRANSFERS != 0) return TransferRestrictions.PAUSED;
        uint256 fromPacked = $.balances[from];
        if (fromPacked & _BLOCKED != 0) return TransferRestrictions.SENDER_BLOCKED;
        if ($.balances[to] & _BLOCKED != 0) return TransferRestrictions.RECIPIENT_BLOCKED;
        if (fromPacked & _BALANCE_MASK < amount) return TransferRestrictions.INSUFFICIENT_BALANCE;
        return TransferRestrictions.SUCCESS;
    }

    /// @inheritdoc IStablecoin
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

    /// @inheritdoc IStablecoin
    function messageForTransferRestriction(uint8 code) external pure returns (string memory) {
        return TransferRestrictions.message(code);
    }

    // --- Rescue ---

    /// @inheritdoc IStablecoin
    function rescueERC20(address token, address to, uint256 amount) external restricted {
        if (to == address(0)) revert StablecoinZeroAddress();
        if (token == address(this)) {
            // KGST sent to the token itself moves under the usual checks (pause, blocklist).
            _transfer(address(this), to, amount);
        } else {
            IERC20(token).safeTransfer(to, amount);
        }
        emit TokensRescued(token, to, amount);
    }

    // --- Internal: the one override point of token movements ---

    /**
     * @dev Every mint, burn and transfer passes here. Checks, in order: the pause switch of the
     * operation (mint, redemption or transfer), then the blocklist flags of sender and recipient,
     * read from the same slots as their balances.
     */
    function _update(address from, address to, uint256 value) internal override {
        uint8 paused = _s().pausedFlags;
        uint8 flag = from == address(0) ? PAUSE_MINT : (to == address(0) ? PAUSE_REDEEM : PAUSE_TRANSFERS);
        if (paused & flag != 0) revert StablecoinPaused(flag);
        StablecoinStorage storage $ = _s();
        if (from == address(0)) {
            uint256 supply = $.totalSupply + value;
            // Invariant: totalSupply <= _BALANCE_MASK, so no balance can reach the flag bit.
            if (supply > _BALANCE_MASK) revert StablecoinSupplyCapExceeded($.totalSupply, value);
            $.totalSupply = supply;
        } else {
            uint256 fromPacked = $.balances[from];
            if (fromPacked & _BLOCKED != 0) revert StablecoinAccountBlocked(from);
            uint256 balance = fromPacked & _BALANCE_MASK;
            if (balance < value) revert ERC20InsufficientBalance(from, balance, value);
            unchecked {
                // balance >= value, checked above: the subtraction stays in the balance bits.
                $.balances[from] = fromPacked - value;
            }
        }
        if (to == address(0)) {
            unchecked {
                // value <= balance of `from` <= totalSupply.
                $.totalSupply -= value;
            }
        } else {
            uint256 toPacked = $.balances[to];
            if (toPacked & _BLOCKED != 0) revert StablecoinAccountBlocked(to);
            unchecked {
                // balance + value <= totalSupply <= _BALANCE_MASK: no carry into the flag bit.
                $.balances[to] = toPacked + value;
            }
        }
        emit Transfer(from, to, value);
    }

    /**
     * @dev Moves `value` from `from` to `to` keeping each slot's blocklist flag, with no pause or
     * blocklist check. Only {executeSeizure} calls it.
     */
    function _move(address from, address to, uint256 value) private {
        StablecoinStorage storage $ = _s();
        uint256 fromPacked = $.balances[from];
        uint256 balance = fromPacked & _BALANCE_MASK;
        if (balance < value) revert ERC20InsufficientBalance(from, balance, value);
        unchecked {
            // balance >= value: the subtraction stays in the balance bits and keeps the flag.
            $.balances[from] = fromPacked - value;
            // balance + value <= totalSupply <= _BALANCE_MASK: no carry into the flag bit.
            $.balances[to] += value;
        }
        emit Transfer(from, to, value);
    }

    /**
     * @dev Approvals made by `approve` and `permit` (emitEvent = true) need transfers unpaused and
     * neither party blocked, except that an allowance to a blocked spender may always be revoked
     * (set to zero): that removes risk and never adds any. The allowance decrease of a spend
     * (emitEvent = false) is left alone: `transferFrom` and `_update` have checked the parties.
     */
    function _approve(address owner, address spender, uint256 value, bool emitEvent) internal override {
        if (emitEvent) {
            StablecoinStorage storage $ = _s();
            if ($.pausedFlags & PAUSE_TRANSFERS != 0) revert StablecoinPaused(PAUSE_TRANSFERS);
            if ($.balances[owner] & _BLOCKED != 0) revert StablecoinAccountBlocked(owner);
            if (value != 0 && $.balances[spender] & _BLOCKED != 0) revert StablecoinAccountBlocked(spender);
        }
        super._approve(owner, spender, value, emitEvent);
    }

    /// @dev Only the UPGRADER role, through the AccessManager and its execution delay; the new
    /// implementation must sign under the same EIP-712 domain name.
    function _authorizeUpgrade(address newImplementation) internal override restricted {
        _checkUpgradeDomain(newImplementation);
    }

    function _setMinterAllowance(address minter, uint256 allowance) private {
        if (minter == address(0)) revert StablecoinZeroAddress();
        StablecoinStorage storage $ = _s();
        uint256 previous = $.minterAllowances[minter];
        $.minterAllowances[minter] = allowance;
        emit MinterAllowanceUpdated(minter, previous, allowance);
    }

    /// @notice The EIP-2612 nonce of `owner`, kept in its balance slot.
    function nonces(address owner) public view override returns (uint256) {
        return uint64(_s().balances[owner] >> _NONCE_SHIFT);
    }

    /// @dev Consumes the permit nonce kept in the owner's balance slot (see the contract's notes).
    function _useNonce(address owner) internal override returns (uint256) {
        StablecoinStorage storage $ = _s();
        uint256 packed = $.balances[owner];
        uint64 current = uint64(packed >> _NONCE_SHIFT);
        // Checked: a nonce never wraps to a used value (2^64 permits cannot be signed anyway).
        uint64 next = current + 1;
        $.balances[owner] = (packed & ~(uint256(type(uint64).max) << _NONCE_SHIFT)) | (uint256(next) << _NONCE_SHIFT);
        return current;
    }

    /// @dev The blocklist hook of {SignedTransfers}, also used by `transferFrom`.
    function _requireNotBlocked(address account) internal view override {
        if (isBlocked(account)) revert StablecoinAccountBlocked(account);
    }

    /// @dev The signature hook of {SignedTransfers}.
    function _revertInvalidSignature(address signer) internal pure override {
        revert StablecoinInvalidSignature(signer);
    }

    function _checkPauseFlags(uint8 flags) private pure {
        if (flags == 0 || flags & ~_ALL_PAUSE_FLAGS != 0) revert StablecoinInvalidPauseFlags(flags);
    }

    function _pendingSeizure(uint256 seizureId) private view returns (Seizure storage order) {
        order = _s().seizures[seizureId];
        if (order.status != SeizureStatus.Proposed) revert StablecoinSeizureNotPending(seizureId);
    }
}
