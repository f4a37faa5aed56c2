// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/**
 * @title ISignedTransfers
 * @notice The signature variants every SomStack token adds to EIP-2612 and EIP-3009: the same
 * calls with the signature as bytes, so that ERC-1271 contract wallets (a treasury multisig)
 * can sign approvals and transfers.
 */
interface ISignedTransfers {
    /// @dev The EIP-712 domain name given to `initialize` (or held by the proxy, on an upgrade)
    /// differs from the one this implementation was built for (`eip712NameHash`).
    error SignedTransfersDomainNameMismatch(bytes32 expected, bytes32 actual);

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
}
