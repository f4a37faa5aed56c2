// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";

/**
 * @title RefOZPermit
 * @notice Benchmark reference only (never deployed outside `make bench`): OpenZeppelin 5's
 * ERC20 + ERC20Permit, no proxy, no checks, with an open `mint` and `burn` so the bench can
 * reach the same operations it measures on SomStack's tokens.
 */
contract RefOZPermit is ERC20, ERC20Permit {
    constructor() ERC20("Reference OZ Permit", "ROZP") ERC20Permit("Reference OZ Permit") {}

    /// @notice Mints `amount` to `to`; anyone may call (a benchmark fixture).
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice Burns `amount` of the caller's balance.
    function burn(uint256 amount) external {
        _burn(msg.sender, amount);
    }
}
