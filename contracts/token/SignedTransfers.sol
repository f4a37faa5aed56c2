// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC20PermitUpgradeable} from "@openzeppelin/contracts-upgradeable/token/ERC20/extensions/ERC20PermitUpgradeable.sol";
import {ERC3009Upgradeable} from "@openzeppelin/contracts-upgradeable/token/ERC20/extensions/draft-ERC3009Upgradeable.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";

import {ISignedTransfers} from "../interfaces/ISignedTransfers.sol";
import {SignatureAuth} from "../libraries/SignatureAuth.sol";

/**
 * @title SignedTransfers
 * @notice EIP-2612 permit and EIP-3009 transfer, receive and cancel authorizations as every
 * SomStack token takes them: signed by an EOA (v, r, s or packed bytes, low-s only) or by an
 * ERC-1271 contract wallet, and never submitted by a blocked relayer; plus the race-free
 * allowance changes `increaseAllowance` / `decreaseAllowance` (ERC-20 conformance checks ask for
 * them; OpenZeppelin 5 dropped them from its ERC20).
 *
 * @dev The token supplies two hooks: {_requireNotBlocked} (its blocklist) and
 * {_revertInvalidSignature} (its own custom error). Pause, blocklist and limits on the parties
 * are the token's `_approve` and `_update`, which these paths reach like any other call.
 * Rules: a permit's deadline is checked first and its nonce is consumed only with a valid
 * signature; a receive authorization may be submitted by its recipient only (EIP-3009); a
 * transfer authorization's relayer, unless it is a party, must not be blocked; cancelling is
 * always allowed (it moves nothing).
 *
 * The EIP-712 domain separator is built from the implementation's code, not from storage:
 * OpenZeppelin's EIP712Upgradeable reads the name and version strings from two storage slots for
 * every digest (about 4,700 gas). Here the name's hash is an immutable set by the constructor, the
 * version is the constant "1", and the chain id and `address(this)` (the proxy) are read live, so
 * the separator stays right on a fork and behind any proxy. The name stored by
 * `__ERC20Permit_init` (what `eip712Domain()` and `DOMAIN_SEPARATOR()` report) must be the same:
 * {_checkDomainName} enforces it at initialization and {_checkUpgradeDomain} on every upgrade.
 */
abstract contract SignedTransfers is ERC20PermitUpgradeable, ERC3009Upgradeable, ISignedTransfers {
    bytes32 private constant _PERMIT_TYPEHASH =
        keccak256("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)");
    bytes32 private constant _DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    /// @dev The domain version that `__ERC20Permit_init` stores ("1").
    bytes32 private constant _VERSION_HASH = keccak256("1");

    /// @dev keccak256 of the EIP-712 domain name (the token name), fixed in the implementation.
    bytes32 private immutable _NAME_HASH;

    /// @param domainName the token name, which `initialize` must be given as well
    constructor(string memory domainName) {
        _NAME_HASH = keccak256(bytes(domainName));
    }

    /// @inheritdoc ISignedTransfers
    function eip712NameHash() external view returns (bytes32) {
        return _NAME_HASH;
    }

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

    // --- Allowance changes ---

    /// @inheritdoc ISignedTransfers
    /// @dev Through the token's `_approve`, so its pause and blocklist rules apply as to `approve`.
    function increaseAllowance(address spender, uint256 addedValue) external returns (bool) {
        _changeAllowance(spender, addedValue, true);
        return true;
    }

    /// @inheritdoc ISignedTransfers
    function decreaseAllowance(address spender, uint256 decrease) external returns (bool) {
        _changeAllowance(spender, decrease, false);
        return true;
    }

    // --- Internal ---

    /// @dev The EIP-712 digest of `structHash`, under the domain built from the code (see the
    /// contract's notes): equal to EIP712Upgradeable's, without its two storage reads.
    function _hashTypedDataV4(bytes32 structHash) internal view override returns (bytes32) {
        bytes32 separator = keccak256(abi.encode(_DOMAIN_TYPEHASH, _NAME_HASH, _VERSION_HASH, block.chainid, address(this)));
        return MessageHashUtils.toTypedDataHash(separator, structHash);
    }

    /// @dev Reverts unless `name` is the domain name this implementation was built for; called by
    /// the token's initializer with the name it stores.
    function _checkDomainName(string calldata name) internal view {
        bytes32 actual = keccak256(bytes(name));
        if (actual != _NAME_HASH) revert SignedTransfersDomainNameMismatch(_NAME_HASH, actual);
    }

    /// @dev Reverts when `newImplementation` declares another domain name than this one: after the
    /// upgrade, signatures made for the stored name would no longer verify. An implementation that
    /// does not answer `eip712NameHash` is left to the UUPS checks that follow.
    function _checkUpgradeDomain(address newImplementation) internal view {
        (bool ok, bytes memory data) = newImplementation.staticcall(abi.encodeCall(ISignedTransfers.eip712NameHash, ()));
        if (ok && data.length == 32) {
            bytes32 declared = abi.decode(data, (bytes32));
            if (declared != _NAME_HASH) revert SignedTransfersDomainNameMismatch(_NAME_HASH, declared);
        }
    }

    /// @dev One body for both allowance changes, ending in `approve` itself (the caller's
    /// allowance, the token's pause and blocklist checks): its code is shared, not inlined again,
    /// which keeps KGST under the EIP-170 code size limit.
    function _changeAllowance(address spender, uint256 delta, bool up) private {
        uint256 current = allowance(_msgSender(), spender);
        if (!up && current < delta) revert SignedTransfersAllowanceUnderflow(spender, current, delta);
        // Up: checked, an allowance past 2^256 - 1 reverts (Panic 0x11) rather than wrapping.
        // Down: current >= delta, checked above.
        approve(spender, up ? current + delta : current - delta);
    }

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
