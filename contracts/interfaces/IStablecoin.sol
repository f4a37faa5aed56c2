// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ICompliantToken} from "./ICompliantToken.sol";

/**
 * @title IStablecoin
 * @notice The issuer-facing surface of KGST, the som-pegged stablecoin: minter allowances with
 * deposit references, the reserve gate, references on transfers and redemptions. The pause,
 * blocklist, maker-checker seizure, pre-check and rescue it shares with the digital som are
 * declared by {ICompliantToken}.
 * @dev The ERC-20, EIP-2612 and EIP-3009 functions are declared by their own interfaces
 * (IERC20, IERC20Permit, IERC3009), their bytes-signature variants by ISignedTransfers. Every
 * privileged function is `restricted` by the AccessManager; the role that may call each one is
 * given in its NatSpec and in docs/roles.md.
 */
interface IStablecoin is ICompliantToken {
    // --- Errors ---

    /// @dev The minter's remaining allowance is below the amount it tried to mint.
    error StablecoinMinterAllowanceExceeded(address minter, uint256 allowance, uint256 amount);
    /// @dev The deposit reference was already minted against.
    error StablecoinDepositReferenceUsed(bytes32 depositRef);
    /// @dev A minter allowance must leave the top bit free (it carries the minter's blocklist flag).
    error StablecoinMinterAllowanceTooLarge(uint256 allowance);
    /// @dev No reserve vault is connected: minting fails closed.
    error StablecoinReserveVaultNotSet();

    // --- Events ---

    /// @dev `minter` minted `amount` to `to`, backed by the fiat deposit `depositRef`.
    event Minted(address indexed minter, address indexed to, uint256 amount, bytes32 indexed depositRef);
    /// @dev `burner` burned `amount` of its own balance, paid out in fiat under `redemptionRef`.
    event Redeemed(address indexed burner, uint256 amount, bytes32 indexed redemptionRef);
    /// @dev The allowance of `minter` changed from `previousAllowance` to `newAllowance`.
    event MinterAllowanceUpdated(address indexed minter, uint256 previousAllowance, uint256 newAllowance);
    /// @dev A transfer carried the travel-rule reference `ref` (hash of the off-chain record).
    event TransferReference(address indexed from, address indexed to, uint256 amount, bytes32 indexed ref);
    /// @dev The reserve vault that gates minting changed.
    event ReserveVaultUpdated(address indexed previousVault, address indexed newVault);

    // --- Minting and redemption ---

    /**
     * @notice Mints `amount` to `to` against the fiat deposit `depositRef`. Role: MINTER.
     * @dev Requirements: minting is not paused; `to` is not blocked; `depositRef` is non-zero and
     * was never minted against; `amount` is positive and within the caller's minter allowance,
     * which it consumes; the reserve vault confirms the reserve covers the supply after the mint
     * (fresh prices, rate and attestation; it reverts otherwise); the caller is not blocked (a
     * blocked minter mints nothing, as on USDC, whatever its allowance). A compromised minter is
     * also stopped by removing its allowance or revoking its role.
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

    // --- Transfers with references ---

    /// @notice Transfers `amount` to `to`, with the travel-rule reference `ref` in the event.
    /// @dev Same checks as {IERC20-transfer}. Emits {IERC20-Transfer} and {TransferReference}.
    function transferWithReference(address to, uint256 amount, bytes32 ref) external returns (bool);
}
