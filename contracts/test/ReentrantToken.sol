// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/**
 * @title ReentrantToken
 * @notice Test only: stands in for a malicious ERC-20 that calls back into a contract during a
 * transfer. Once armed, the next transfer between two non-zero addresses disarms it and calls
 * `target` with `data`, recording whether that call succeeded and its revert data; the transfer
 * itself never reverts because of the inner call. All state is plain storage.
 */
contract ReentrantToken is ERC20 {
    bool public armed;
    address public target;
    bytes public callData;

    bool public lastCallSucceeded;
    bytes public lastRevertData;

    constructor() ERC20("Reentrant Token", "REENT") {}

    /// @notice Mints `amount` to `to`; unrestricted, for tests.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice Arms the token: the next transfer calls `target_` with `data`.
    function arm(address target_, bytes calldata data) external {
        armed = true;
        target = target_;
        callData = data;
    }

    /// @notice Disarms the token without making the call.
    function disarm() external {
        armed = false;
    }

    function _update(address from, address to, uint256 value) internal override {
        super._update(from, to, value);
        if (armed && from != address(0) && to != address(0)) {
            armed = false;
            (bool ok, bytes memory ret) = target.call(callData);
            lastCallSucceeded = ok;
            lastRevertData = ok ? bytes("") : ret;
        }
    }
}
