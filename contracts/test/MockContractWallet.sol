// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/**
 * @title MockContractWallet
 * @notice Test-only ERC-1271 contract wallet: a signature is valid iff it is the ECDSA signature
 * of its `owner` EOA over the hash. The owner can make the wallet call any contract.
 */
contract MockContractWallet {
    bytes4 private constant _MAGIC_VALUE = 0x1626ba7e;

    address public immutable owner;

    error MockContractWalletNotOwner(address caller);

    constructor(address owner_) {
        owner = owner_;
    }

    /// @notice ERC-1271: the magic value iff `signature` of `hash` recovers to `owner`.
    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        (address recovered, ECDSA.RecoverError err, ) = ECDSA.tryRecover(hash, signature);
        if (err == ECDSA.RecoverError.NoError && recovered == owner) return _MAGIC_VALUE;
        return 0xffffffff;
    }

    /// @notice Calls `target` with `data` from the wallet; bubbles up a revert.
    function execute(address target, bytes calldata data) external returns (bytes memory) {
        if (msg.sender != owner) revert MockContractWalletNotOwner(msg.sender);
        (bool ok, bytes memory result) = target.call(data);
        if (!ok) {
            assembly {
                revert(add(result, 32), mload(result))
            }
        }
        return result;
    }
}
