// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC20PermitUpgradeable} from "@openzeppelin/contracts-upgradeable/token/ERC20/extensions/ERC20PermitUpgradeable.sol";
import {ERC3009Upgradeable} from "@openzeppelin/contracts-upgradeable/token/ERC20/extensions/draft-ERC3009Upgradeable.sol";

import {ISignedTransfers} from "../interfaces/ISignedTransfers.sol";
import {SignatureAuth} from "../libraries/SignatureAuth.sol";

/**
 * @title SignedTransfers
 * @notice EIP-2612 permit and EIP-3009 transfer, receive and cancel authorizations as every
 * SomStack token takes them: signed by an EOA (v, r, s or packed bytes, low-s only) or by an
 * ERC-1271 contract wallet, and never submitted by a blocked relayer.
 *
 * @dev The token supplies two hooks: {_requireNotBlocked} (its blocklist) and
 * {_revertInvalidSignature} (its own custom error). Pause, blocklist and limits on the parties
 * are the token's `_approve` and `_update`, which these paths reach like any other call.
 * Rules: a permit's deadline is checked first and its nonce is consumed only with a valid
 * signature; a receive authorization may be submitted by its recipient only (EIP-3009); a
 * transfer authorization's relayer, unless it is a party, must not be blocked; cancelling is
 * always allowed (it moves nothing).
 */
abstract contract SignedTransfers is ERC20PermitUpgradeable, ERC3009Upgradeable, ISignedTransfers {
    bytes32 private constant _PERMIT_TYPEHASH =
        keccak256("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)");

    // --- Hooks ---

    /// @dev Reverts with the token's error when `account` is on its blocklist.
    function _requireNotBlocked(address account) internal view virtual;

    /// @dev Reverts with the token's error for a signature that is not `signer`'s.
    function _revertInvalidSignature(address signer) internal pure virtual;

    // --- Permit (EIP-2612) ---

    /// @inheritdoc ERC20PermitUpgradeable
    /// @dev Accepts an ERC-1271 signature when `owner` is a contract wallet (r, s, v packed).
    function permit(
        address owner,
        address spender,
        uint256 value,
        uint256 deadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) public override {
        _permit(owner, spender, value, deadline, v, r, s, "");
    }

    /// @inheritdoc ISignedTransfers
    function permit(address owner, address spender, uint256 value, uint256 deadline, bytes calldata signature) external {
        _permit(owner, spender, value, deadline, 0, 0, 0, signature);
    }

    // --- EIP-3009 ---

    /// @inheritdoc ERC3009Upgradeable
    /// @dev The relayer (the caller) must not be blocked.
    function transferWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) public override {
        _authorized(TRANSFER_WITH_AUTHORIZATION_TYPEHASH, from, to, value, validAfter, validBefore, nonce, v, r, s, "");
    }

    /// @inheritdoc ISignedTransfers
    function transferWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        bytes calldata signature
    ) external {
        _authorized(TRANSFER_WITH_AUTHORIZATION_TYPEHASH, from, to, value, validAfter, validBefore, nonce, 0, 0, 0, signature);
    }

    /// @inheritdoc ERC3009Upgradeable
    function receiveWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) public override {
        _authorized(RECEIVE_WITH_AUTHORIZATION_TYPEHASH, from, to, value, validAfter, validBefore, nonce, v, r, s, "");
    }

    /// @inheritdoc ISignedTransfers
    function receiveWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        bytes calldata signature
    ) external {
        _authorized(RECEIVE_WITH_AUTHORIZATION_TYPEHASH, from, to, value, validAfter, validBefore, nonce, 0, 0, 0, signature);
    }

    /// @inheritdoc ERC3009Upgradeable
    /// @dev Allowed while paused and for blocked parties: cancelling only burns a nonce, so it
    /// removes a pending authorization and can never move funds.
    function cancelAuthorization(address authorizer, bytes32 nonce, uint8 v, bytes32 r, bytes32 s) public override {
        _cancel(authorizer, nonce, v, r, s, "");
    }

    /// @inheritdoc ISignedTransfers
    function cancelAuthorization(address authorizer, bytes32 nonce, bytes calldata signature) external {
        _cancel(authorizer, nonce, 0, 0, 0, signature);
    }

    // --- Internal ---

    function _permit(
        address owner,
        address spender,
        uint256 value,
        uint256 deadline,
        uint8 v,
        bytes32 r,
        bytes32 s,
        bytes memory signature
    ) private {
        if (block.timestamp > deadline) revert ERC2612ExpiredSignature(deadline);
        // The submitter must not be blocked either; owner and spender are checked by _approve.
        address submitter = _msgSender();
        if (submitter != owner && submitter != spender) _requireNotBlocked(submitter);
        bytes32 digest = _hashTypedDataV4(
            keccak256(abi.encode(_PERMIT_TYPEHASH, owner, spender, value, _useNonce(owner), deadline))
        );
        _requireSignature(owner, digest, v, r, s, signature);
        _approve(owner, spender, value);
    }

    function _authorized(
        bytes32 typehash,
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        uint8 v,
        bytes32 r,
        bytes32 s,
        bytes memory signature
    ) private {
        bytes32 digest = _hashTypedDataV4(keccak256(abi.encode(typehash, from, to, value, validAfter, validBefore, nonce)));
        _requireSignature(from, digest, v, r, s, signature);
        address relayer = _msgSender();
        if (typehash == RECEIVE_WITH_AUTHORIZATION_TYPEHASH) {
            // EIP-3009: a receive authorization may only be submitted by its recipient.
            if (to != relayer) revert ERC20InvalidReceiver(to);
        } else if (relayer != from && relayer != to) {
            _requireNotBlocked(relayer);
        }
        _transferWithAuthorization(from, to, value, validAfter, validBefore, nonce);
    }

    function _cancel(address authorizer, bytes32 nonce, uint8 v, bytes32 r, bytes32 s, bytes memory signature) private {
        bytes32 digest = _hashTypedDataV4(keccak256(abi.encode(CANCEL_AUTHORIZATION_TYPEHASH, authorizer, nonce)));
        _requireSignature(authorizer, digest, v, r, s, signature);
        _cancelAuthorization(authorizer, nonce);
    }

    function _requireSignature(
        address signer,
        bytes32 digest,
        uint8 v,
        bytes32 r,
        bytes32 s,
        bytes memory signature
    ) private view {
        if (!SignatureAuth.isValid(signer, digest, v, r, s, signature)) _revertInvalidSignature(signer);
    }
}
