// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";

/**
 * @title SignatureAuth
 * @notice The signature rule of every SomStack token's permit and EIP-3009 authorizations.
 * @dev A signature is accepted when it is an ECDSA signature by `signer` (low-s only, as OZ's
 * ECDSA enforces), given as (v, r, s) or packed in `signature`, or else a valid ERC-1271
 * signature when `signer` has code (a treasury multisig). ECDSA is tried first, so an EOA signer
 * pays no EXTCODESIZE. The caller reverts with its own error when this returns false.
 */
library SignatureAuth {
    function isValid(
        address signer,
        bytes32 digest,
        uint8 v,
        bytes32 r,
        bytes32 s,
        bytes memory signature
    ) internal view returns (bool) {
        bool packed = signature.length != 0;
        (address recovered, ECDSA.RecoverError err, ) = packed
            ? ECDSA.tryRecover(digest, signature)
            : ECDSA.tryRecover(digest, v, r, s);
        if (err == ECDSA.RecoverError.NoError && recovered == signer) return true;
        if (signer.code.length == 0) return false;
        if (!packed) signature = abi.encodePacked(r, s, v);
        return SignatureChecker.isValidERC1271SignatureNow(signer, digest, signature);
    }
}
