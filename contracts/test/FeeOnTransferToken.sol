// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/**
 * @title FeeOnTransferToken
 * @notice Test only: stands in for a fee-on-transfer ERC-20. Every transfer between two non-zero
 * addresses burns `value * feeBps / 10000`, so the recipient gets less than `value`. Mints and
 * burns are not charged. The fee is plain storage with a setter (works after anvil_setCode).
 */
contract FeeOnTransferToken is ERC20 {
    uint256 public feeBps;

    constructor(uint256 feeBps_) ERC20("Fee On Transfer Token", "FOT") {
        require(feeBps_ <= 10_000, "FeeOnTransferToken: fee > 100%");
        feeBps = feeBps_;
    }

    /// @notice Sets the fee in basis points; unrestricted, for tests.
    function setFeeBps(uint256 feeBps_) external {
        require(feeBps_ <= 10_000, "FeeOnTransferToken: fee > 100%");
        feeBps = feeBps_;
    }

    /// @notice Mints `amount` to `to`; unrestricted, for tests.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function _update(address from, address to, uint256 value) internal override {
        if (from != address(0) && to != address(0)) {
            uint256 fee = (value * feeBps) / 10_000;
            if (fee > 0) {
                super._update(from, address(0), fee);
            }
            super._update(from, to, value - fee);
        } else {
            super._update(from, to, value);
        }
    }
}
