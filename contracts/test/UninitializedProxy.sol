// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Proxy} from "@openzeppelin/contracts/proxy/Proxy.sol";
import {ERC1967Utils} from "@openzeppelin/contracts/proxy/ERC1967/ERC1967Utils.sol";

/**
 * @title UninitializedProxy (tests only)
 * @notice An ERC-1967 proxy that points at an implementation without calling its initializer.
 * SomProxy initializes in its constructor, where brownie's coverage cannot see; behind this
 * proxy a test calls `initialize` as a transaction of its own, so the initializers' checks are
 * measured. Never deployed by the plan: production proxies are never left uninitialized.
 */
contract UninitializedProxy is Proxy {
    constructor(address implementation) {
        ERC1967Utils.upgradeToAndCall(implementation, "");
    }

    function _implementation() internal view override returns (address) {
        return ERC1967Utils.getImplementation();
    }

    receive() external payable {
        _fallback();
    }
}
