// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC20} from "solady/src/tokens/ERC20.sol";

/**
 * @title RefSolady
 * @notice Benchmark reference only: Solady's ERC20 (its built-in EIP-2612 permit), no proxy, no
 * checks, with an open `mint` and `burn`. The name hash is left to Solady's default (computed
 * from `name()`), as the package ships it.
 */
contract RefSolady is ERC20 {
    function name() public pure override returns (string memory) {
        return "Reference Solady";
    }

    function symbol() public pure override returns (string memory) {
        return "RSOL";
    }

    /// @notice Mints `amount` to `to`; anyone may call (a benchmark fixture).
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice Burns `amount` of the caller's balance.
    function burn(uint256 amount) external {
        _burn(msg.sender, amount);
    }
}
