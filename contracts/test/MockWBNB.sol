// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/**
 * @title MockWBNB
 * @notice Test only: stands in for WBNB on BSC ("Wrapped BNB", "WBNB", 18 decimals): deposit BNB
 * to mint, withdraw to burn and get BNB back. Name and symbol are constants, so the code also
 * works when placed with anvil_setCode.
 */
contract MockWBNB is ERC20 {
    event Deposit(address indexed dst, uint256 wad);
    event Withdrawal(address indexed src, uint256 wad);

    constructor() ERC20("Wrapped BNB", "WBNB") {}

    function name() public pure override returns (string memory) {
        return "Wrapped BNB";
    }

    function symbol() public pure override returns (string memory) {
        return "WBNB";
    }

    receive() external payable {
        deposit();
    }

    /// @notice Wraps the BNB sent into WBNB for the sender.
    function deposit() public payable {
        _mint(msg.sender, msg.value);
        emit Deposit(msg.sender, msg.value);
    }

    /// @notice Burns `wad` WBNB of the sender and sends it `wad` BNB.
    function withdraw(uint256 wad) external {
        _burn(msg.sender, wad);
        emit Withdrawal(msg.sender, wad);
        (bool ok,) = payable(msg.sender).call{value: wad}("");
        require(ok, "MockWBNB: BNB transfer failed");
    }
}
