// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Stablecoin} from "../Stablecoin.sol";

/**
 * @title StablecoinV2Mock
 * @notice Test only: the Stablecoin with a `version()` view and, as a real V2 would add state, a
 * namespace of its own (appended storage, ERC-7201) with a field and a function, to prove an
 * upgrade keeps every V1 state and that the new field lands where nothing lived.
 */
contract StablecoinV2Mock is Stablecoin {
    /// @custom:storage-location erc7201:somstack.storage.StablecoinV2Mock
    struct StablecoinV2Storage {
        uint256 marker;
    }

    // keccak256(abi.encode(uint256(keccak256("somstack.storage.StablecoinV2Mock")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant _V2_STORAGE_LOCATION = 0x5155c055e595811011624501670b67c3d5ce9cf1a3f5244480268be7df7df500;

    constructor(string memory eip712Name) Stablecoin(eip712Name) {}

    /// @notice The implementation version.
    function version() external pure returns (string memory) {
        return "2";
    }

    /// @notice The V2 field (zero until set).
    function marker() external view returns (uint256) {
        return _v2().marker;
    }

    /// @notice Sets the V2 field; restricted (an unmapped selector: ADMIN).
    function setMarker(uint256 marker_) external restricted {
        _v2().marker = marker_;
    }

    function _v2() private pure returns (StablecoinV2Storage storage $) {
        assembly {
            $.slot := _V2_STORAGE_LOCATION
        }
    }
}
