// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/**
 * @title ISignedTransfers
 * @notice The signature variants every SomStack token adds to EIP-2612 and EIP-3009: the same
 * calls with the signature as bytes, so that ERC-1271 contract wallets (a treasury multisig)
 * can sign approvals and transfers; and the race-free allowance changes `increaseAllowance` and
 * `decreaseAllowance` (the approve front-running race of ERC-20, as Circle's FiatToken offers them).
 */
interface ISignedTransfers {
    /// @dev The EIP-712 domain name given to `initialize` (or held by the proxy, on an upgrade)
    /// differs from the one this implementation was built for (`eip712NameHash`).
    error SignedTransfersDomainNameMismatch(bytes32 expected, bytes32 actual);

    /// @dev `decreaseAllowance` asked to take more than the allowance `spender` has.
    error SignedTransfersAllowanceUnderflow(address spender, uint256 allowance, uint256 decrease);

    /// @notice keccak256 of the EIP-712 domain name this implementation signs under, fixed in its
    /// code at construction (the token name; the domain version is "1").
    function eip712NameHash() external view returns (bytes32);

    /// @notice EIP-2612 permit with a signature as bytes, for ERC-1271 contract wallets.
    function permit(address owner, address spender, uint256 value, uint256 deadline, bytes calldata signature) external;

    /// @notice EIP-3009 transferWithAuthorization with a signature as bytes (ERC-1271 wallets).
    function transferWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        bytes calldata signature
    ) external;

    /// @notice EIP-3009 receiveWithAuthorization with a signature as bytes (ERC-1271 wallets).
    function receiveWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        bytes calldata signature
    ) external;

    /// @notice EIP-3009 cancelAuthorization with a signature as bytes (ERC-1271 wallets).
    function cancelAuthorization(address authorizer, bytes32 nonce, bytes calldata signature) external;

    /**
     * @notice Raises the caller's allowance to `spender` by `addedValue`, relative to what it is
     * when the call runs, so a spend mined before it is not granted twice (the ERC-20 approve race).
     * Requirements: the same as `approve` (transfers unpaused, neither party blocked); the new
     * allowance fits in a uint256.
     * Emits an {Approval} event with the new allowance.
     */
    function increaseAllowance(address spender, uint256 addedValue) external returns (bool);

    /**
     * @notice Lowers the caller's allowance to `spender` by `decrease`. Lowering it to zero is
     * allowed for a blocked spender too, as `approve(spender, 0)` is.
     * Requirements: the allowance is at least `decrease` ({SignedTransfersAllowanceUnderflow});
     * the same as `approve` otherwise.
     * Emits an {Approval} event with the new allowance.
     */
    function decreaseAllowance(address spender, uint256 decrease) external returns (bool);
}
