// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {ERC3009} from "@openzeppelin/contracts/token/ERC20/extensions/draft-ERC3009.sol";

/**
 * @title RefOZAuthorization
 * @notice Benchmark reference only: OpenZeppelin 5's ERC20 + ERC20Permit + ERC3009 (EIP-3009
 * with random nonces), no proxy, no checks, with an open `mint`. The bench reads only its
 * EIP-3009 rows; the other rows compare with {RefOZPermit}.
 */
contract RefOZAuthorization is ERC20, ERC20Permit, ERC3009 {
    constructor() ERC20("Reference OZ Authorization", "ROZA") ERC20Permit("Reference OZ Authorization") {}

    /// @notice Mints `amount` to `to`; anyone may call (a benchmark fixture).
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}
