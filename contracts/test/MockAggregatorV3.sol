// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AggregatorV3Interface} from "../interfaces/AggregatorV3Interface.sol";

/**
 * @title MockAggregatorV3
 * @notice Test only: stands in for a Chainlink price feed (AggregatorV3Interface). Anyone may
 * set its answer, decimals, description and round data (to make it stale, negative, incomplete
 * or stuck) or make latestRoundData revert. All state is plain storage with setters, so the code
 * also works when placed with anvil_setCode.
 */
contract MockAggregatorV3 is AggregatorV3Interface {
    uint8 private _decimals;
    string private _description;
    bool public reverting;

    uint80 private _roundId;
    int256 private _answer;
    uint256 private _startedAt;
    uint256 private _updatedAt;
    uint80 private _answeredInRound;

    constructor(uint8 decimals_, string memory description_, int256 initialAnswer) {
        _decimals = decimals_;
        _description = description_;
        _roundId = 1;
        _answer = initialAnswer;
        _startedAt = block.timestamp;
        _updatedAt = block.timestamp;
        _answeredInRound = 1;
    }

    /// @inheritdoc AggregatorV3Interface
    function decimals() external view override returns (uint8) {
        return _decimals;
    }

    /// @inheritdoc AggregatorV3Interface
    function description() external view override returns (string memory) {
        return _description;
    }

    /// @inheritdoc AggregatorV3Interface
    function version() external pure override returns (uint256) {
        return 4;
    }

    /// @inheritdoc AggregatorV3Interface
    /// @dev Only the stored round exists; it is returned for any requested id (with that id).
    function getRoundData(uint80 roundId_)
        external
        view
        override
        returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)
    {
        require(!reverting, "MockAggregatorV3: reverting");
        return (roundId_, _answer, _startedAt, _updatedAt, _answeredInRound);
    }

    /// @inheritdoc AggregatorV3Interface
    function latestRoundData()
        external
        view
        override
        returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)
    {
        require(!reverting, "MockAggregatorV3: reverting");
        return (_roundId, _answer, _startedAt, _updatedAt, _answeredInRound);
    }

    /// @notice Sets the feed's decimals; unrestricted, for tests.
    function setDecimals(uint8 decimals_) external {
        _decimals = decimals_;
    }

    /// @notice Sets the feed's description; unrestricted, for tests.
    function setDescription(string calldata description_) external {
        _description = description_;
    }

    /// @notice Starts a new, complete round with `answer` at the current block time.
    function updateAnswer(int256 answer) external {
        _roundId += 1;
        _answer = answer;
        _startedAt = block.timestamp;
        _updatedAt = block.timestamp;
        _answeredInRound = _roundId;
    }

    /// @notice Sets the latest round to anything (stale, negative, incomplete, stuck); for tests.
    function setRoundData(
        uint80 roundId,
        int256 answer,
        uint256 startedAt,
        uint256 updatedAt,
        uint80 answeredInRound
    ) external {
        _roundId = roundId;
        _answer = answer;
        _startedAt = startedAt;
        _updatedAt = updatedAt;
        _answeredInRound = answeredInRound;
    }

    /// @notice When true, latestRoundData and getRoundData revert; for tests.
    function setReverting(bool reverting_) external {
        reverting = reverting_;
    }
}
