// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/**
 * @title MockReserveToken
 * @notice Test only: stands in for a reserve token (BTCB, BSC-USD, or a 6- or 8-decimals token)
 * that anyone may mint. Name, symbol and decimals are plain storage with a setter, so the code
 * also works when placed with anvil_setCode.
 */
contract MockReserveToken is ERC20 {
    string private _tokenName;
    string private _tokenSymbol;
    uint8 private _tokenDecimals;

    constructor(string memory name_, string memory symbol_, uint8 decimals_) ERC20(name_, symbol_) {
        _tokenName = name_;
        _tokenSymbol = symbol_;
        _tokenDecimals = decimals_;
    }

    function name() public view override returns (string memory) {
        return _tokenName;
    }

    function symbol() public view override returns (string memory) {
        return _tokenSymbol;
    }

    function decimals() public view override returns (uint8) {
        return _tokenDecimals;
    }

    /// @notice Sets name, symbol and decimals; unrestricted, for tests (e.g. after anvil_setCode).
    function setMetadata(string calldata name_, string calldata symbol_, uint8 decimals_) external {
        _tokenName = name_;
        _tokenSymbol = symbol_;
        _tokenDecimals = decimals_;
    }

    /// @notice Mints `amount` to `to`; unrestricted, for tests.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}
