// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/**
 * @title MockERC20
 * @notice Test only: a plain ERC-20 that anyone may mint, to send to SomStack contracts by
 * mistake and rescue.
 */
contract MockERC20 is ERC20 {
    constructor(string memory name_, string memory symbol_) ERC20(name_, symbol_) {}

    /// @notice Mints `amount` to `to`; unrestricted, for tests.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}
