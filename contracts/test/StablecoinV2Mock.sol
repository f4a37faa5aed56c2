// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Stablecoin} from "../Stablecoin.sol";

/**
 * @title StablecoinV2Mock
 * @notice Test only: the Stablecoin with a `version()` view, to prove an upgrade keeps state.
 */
contract StablecoinV2Mock is Stablecoin {
    constructor(string memory eip712Name) Stablecoin(eip712Name) {}

    /// @notice The implementation version.
    function version() external pure returns (string memory) {
        return "2";
    }
}
