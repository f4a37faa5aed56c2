// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC1967Proxy} from "@openzeppelin/contracts/proxy/ERC1967/ERC1967Proxy.sol";

/**
 * @title SomProxy
 * @notice The ERC-1967 proxy in front of every upgradeable SomStack contract (UUPS: the upgrade
 * logic lives in the implementation, behind the AccessManager's UPGRADER role and its delay).
 * @dev OpenZeppelin's ERC1967Proxy, unchanged; declared here so brownie builds its artifact.
 */
contract SomProxy is ERC1967Proxy {
    constructor(address implementation, bytes memory data) payable ERC1967Proxy(implementation, data) {}
}
