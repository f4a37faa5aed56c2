// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ReserveVault} from "../ReserveVault.sol";

/**
 * @title ReserveVaultV2Mock
 * @notice Test only: the ReserveVault with a namespace of its own appended (ERC-7201), a field and a
 * function, to prove an upgrade keeps the vault's assets, rate, attestation and policy.
 */
contract ReserveVaultV2Mock is ReserveVault {
    /// @custom:storage-location erc7201:somstack.storage.ReserveVaultV2Mock
    struct ReserveVaultV2Storage {
        uint256 auditCount;
    }

    // keccak256(abi.encode(uint256(keccak256("somstack.storage.ReserveVaultV2Mock")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant _V2_STORAGE_LOCATION = 0xea0b6535b74ae954353657ec3073c1586fd35a064a5a6f60369381ff1ce02e00;

    /// @notice The V2 field (zero until counted).
    function auditCount() external view returns (uint256) {
        return _v2().auditCount;
    }

    /// @notice Counts one audit; restricted (an unmapped selector: ADMIN).
    function recordAudit() external restricted {
        _v2().auditCount += 1;
    }

    function _v2() private pure returns (ReserveVaultV2Storage storage $) {
        assembly {
            $.slot := _V2_STORAGE_LOCATION
        }
    }
}
