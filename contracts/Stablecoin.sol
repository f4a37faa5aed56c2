// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC20Upgradeable} from "@openzeppelin/contracts-upgradeable/token/ERC20/ERC20Upgradeable.sol";

import {IReserveVault} from "./interfaces/IReserveVault.sol";
import {IStablecoin} from "./interfaces/IStablecoin.sol";
import {ICompliantToken} from "./interfaces/ICompliantToken.sol";
import {TransferRestrictions} from "./libraries/TransferRestrictions.sol";
import {ComplianceLogic} from "./token/ComplianceLogic.sol";
import {CompliantToken} from "./token/CompliantToken.sol";
import {SignedTransfers} from "./token/SignedTransfers.sol";

/**
 * @title Stablecoin (KGST)
 * @notice The som-pegged national stablecoin: an ERC-20 with EIP-2612 permit and EIP-3009
 * authorizations, minted only by allowance-capped minters against fiat deposit references,
 * with a granular pause, a sanctions blocklist and maker-checker seizure, governed by an
 * OpenZeppelin AccessManager and upgradeable through UUPS behind an execution delay.
 *
 * @dev Built on {CompliantToken}, the compliance core it shares with the digital som (pause,
 * blocklist, maker-checker seizure, spender guard, approvals, pre-check, rescue), itself on
 * OpenZeppelin Contracts Upgradeable 5.x: ERC20, ERC20Permit, ERC3009 (random 32-byte nonces, as
 * USDC and x402 clients sign them), AccessManaged and UUPS. What is KGST's own is written here:
 *
 * - Balances live in this contract's ERC-7201 namespace, not in ERC20Upgradeable's: each
 *   balance slot packs [blocked: bit 255 | EIP-2612 nonce: bits 128-191 | balance: bits 0-127].
 *   The blocklist flag in the top bit (`_BLOCKED`), as USDC does, makes the sender and recipient
 *   checks of a transfer cost no extra storage read; the permit nonce next to the balance makes a
 *   permit read and write the owner's one slot, which its blocklist check reads anyway, instead of
 *   a separate nonce slot (NoncesUpgradeable's stays empty). `totalSupply`, `nonces` (and, in the core, `balanceOf`),
 *   `_useNonce` and `_update` are overridden accordingly; ERC20Upgradeable's own balance and
 *   supply slots stay empty. Invariant: `totalSupply <= _BALANCE_MASK` (2^128 - 1), so no balance
 *   can carry into the nonce bits.
 * - All token-moving checks (pause switches, blocklist) sit in the one override point
 *   `_update`. Seizure ({ComplianceLogic}) moves a blocked balance with the checks off: it is
 *   the only path that does, and it needs two different officers.
 * - Permit and EIP-3009 accept ERC-1271 signatures from contract wallets (a treasury multisig).
 *   ECDSA is tried first, so an EOA pays no EXTCODESIZE; high-s signatures are refused.
 * - Every mint asks the ReserveVault (`checkMint`) whether the reserve covers the supply after
 *   it; without a vault, minting fails closed. Transfers and burns never ask it.
 * - A blocked minter mints nothing: its blocklist flag is mirrored in the top bit of its
 *   allowance word, which `mint` reads anyway, so the check costs no storage read.
 *
 * Not checked here: who holds which role (the AccessManager), the valuation of the reserve (the
 * vault), the fiat side of deposits and redemptions (the references record it).
 */
contract Stablecoin is CompliantToken, IStablecoin {
    // --- Constants ---

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
        mapping(address minter => uint256 allowance) minterAllowances; // [blocked 255 | allowance 0-254]
        mapping(bytes32 depositRef => bool used) usedDepositRefs;
        ComplianceLogic.SeizureBook seizures; // its first member, the orders, where `seizures` was
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

    /// @inheritdoc IStablecoin
    function transferWithReference(address to, uint256 amount, bytes32 ref) external returns (bool) {
        if (ref == bytes32(0)) revert ZeroReference();
        address from = _msgSender();
        _transfer(from, to, amount);
        emit TransferReference(from, to, amount, ref);
        return true;
    }

    // --- Minting and redemption ---

    /// @inheritdoc IStablecoin
    function mint(address to, uint256 amount, bytes32 depositRef) external restricted {
        if (amount == 0) revert ZeroAmount();
        if (depositRef == bytes32(0)) revert ZeroReference();
        StablecoinStorage storage $ = _s();
        address minter = _msgSender();
        uint256 allowance = $.minterAllowances[minter];
        // A blocked minter mints nothing: its allowance word carries its blocklist flag.
        if (allowance & _BLOCKED != 0) revert BlockedAddress(minter);
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
        if (amount == 0) revert ZeroAmount();
        if (redemptionRef == bytes32(0)) revert ZeroReference();
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
        _setMinterAllowance(minter, (_s().minterAllowances[minter] & ~_BLOCKED) + amount);
    }

    /// @inheritdoc IStablecoin
    function decreaseMinterAllowance(address minter, uint256 amount) external restricted {
        uint256 current = _s().minterAllowances[minter] & ~_BLOCKED;
        _setMinterAllowance(minter, amount >= current ? 0 : current - amount);
    }

    /// @inheritdoc IStablecoin
    function removeMinter(address minter) external restricted {
        _setMinterAllowance(minter, 0);
    }

    /// @inheritdoc IStablecoin
    function minterAllowance(address minter) external view returns (uint256) {
        return _s().minterAllowances[minter] & ~_BLOCKED;
    }

    /// @inheritdoc IStablecoin
    function setReserveVault(address vault) external restricted {
        if (vault == address(0)) revert ZeroAddress();
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

    /// @inheritdoc ICompliantToken
    function messageForTransferRestriction(uint8 code) external pure returns (string memory) {
        return TransferRestrictions.message(code);
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
        if (paused & flag != 0) revert OperationPaused(flag);
        StablecoinStorage storage $ = _s();
        if (from == address(0)) {
            uint256 supply = $.totalSupply + value;
            // Invariant: totalSupply <= _BALANCE_MASK, so no balance can reach the flag bit.
            if (supply > _BALANCE_MASK) revert SupplyCapExceeded($.totalSupply, value);
            $.totalSupply = supply;
        } else {
            uint256 fromPacked = $.balances[from];
            if (fromPacked & _BLOCKED != 0) revert BlockedAddress(from);
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
            if (toPacked & _BLOCKED != 0) revert BlockedAddress(to);
            unchecked {
                // balance + value <= totalSupply <= _BALANCE_MASK: no carry into the flag bit.
                $.balances[to] = toPacked + value;
            }
        }
        emit Transfer(from, to, value);
    }

    function _setMinterAllowance(address minter, uint256 allowance) private {
        if (minter == address(0)) revert ZeroAddress();
        if (allowance & _BLOCKED != 0) revert StablecoinMinterAllowanceTooLarge(allowance);
        StablecoinStorage storage $ = _s();
        uint256 previous = $.minterAllowances[minter] & ~_BLOCKED;
        // The minter's blocklist flag rides in the top bit of its allowance word (see {mint}).
        $.minterAllowances[minter] = allowance | ($.balances[minter] & _BLOCKED);
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

    /// @dev Mirrors the blocklist flag of a minter in its allowance word (a non-minter has none;
    /// {_setMinterAllowance} copies the flag when it gets one).
    function _afterBlockChange(address account, bool blocked) internal override {
        StablecoinStorage storage $ = _s();
        uint256 allowance = $.minterAllowances[account];
        if (allowance != 0) $.minterAllowances[account] = blocked ? allowance | _BLOCKED : allowance & ~_BLOCKED;
    }
}
