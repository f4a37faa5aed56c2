// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessManager} from "@openzeppelin/contracts/access/manager/AccessManager.sol";

/**
 * @title SomAccessManager
 * @notice The one authority of a SomStack deployment: OpenZeppelin's AccessManager, unchanged.
 * @dev Declared here only so that brownie builds an artifact for it and the deploy plan, the
 * tests and source verification all use the same compiled code. Role ids: `Roles.sol`.
 */
contract SomAccessManager is AccessManager {
    constructor(address initialAdmin) AccessManager(initialAdmin) {}
}
