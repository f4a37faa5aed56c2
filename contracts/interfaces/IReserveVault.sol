// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/**
 * @title IReserveVault
 * @notice The national reserve behind KGST: native BNB and registered BEP-20 assets valued on
 * chain through Chainlink-style feeds with haircuts and concentration caps, the official som rate,
 * and attested fiat som held in banks. KGST asks it before every mint.
 * @dev Units: token amounts in each token's units; feed answers in the feed's decimals (USD per
 * token); the som rate and every value in som as [wad] (18 decimals); ratios in basis points.
 */
interface IReserveVault {
    // --- Types ---

    /// @dev Why a feed's answer was refused.
    enum PriceError {
        None,
        FeedReverted,
        NonPositive,
        IncompleteRound,
        Stale,
        FutureTimestamp
    }

    /// @dev The policy of one reserve asset, set by RESERVE_ADMIN.
    struct AssetConfig {
        address feed; // AggregatorV3Interface, USD per token
        uint32 heartbeat; // maximum age of a price [s], the feed's own heartbeat
        uint16 haircutBps; // risk weight taken off the value [bps]
        uint16 maxShareBps; // most of the reserve this asset may make up: its counted value is at most
        // maxShare / (1 - maxShare) x what everything else is worth (10,000: no cap) [bps]
        uint256 dailyCap; // withdrawable per calendar day of chain time (UTC) [token units]
    }

    /// @dev A registered asset: its policy and what the vault holds of it.
    struct Asset {
        AssetConfig config;
        uint8 tokenDecimals;
        uint8 feedDecimals;
        bool registered;
        uint256 balance; // credited deposits less withdrawals [token units]
        uint256 withdrawnToday; // [token units]
        uint64 day; // the day `withdrawnToday` counts for (block.timestamp / 1 days)
    }

    /// @dev The reserve's figures, for status pages.
    struct AssetValuation {
        address asset;
        uint256 balance; // [token units]
        uint256 price; // feed answer, in `feedDecimals`
        uint8 feedDecimals;
        uint256 updatedAt; // [unix s]
        uint256 grossValue; // balance x price x rate, before haircut [wad som]
        uint256 weightedValue; // after haircut [wad som]
        uint256 countedValue; // after haircut and the max-share cap [wad som]
        PriceError priceError; // None, or why the price is unusable (the asset then counts zero)
    }

    // --- Errors ---

    error ReserveVaultZeroAddress();
    error ReserveVaultZeroAmount();
    error ReserveVaultAssetNotRegistered(address asset);
    error ReserveVaultAssetAlreadyRegistered(address asset);
    error ReserveVaultAssetHasBalance(address asset, uint256 balance);
    /// @dev A policy value is out of range (haircut or share above 100%, zero heartbeat, ...).
    error ReserveVaultInvalidConfig(address asset);
    error ReserveVaultRateNotSet();
    error ReserveVaultRateStale(uint256 updatedAt, uint256 maxAge);
    /// @dev The new rate moves more than `maxChangeBps` from `referenceRate`, the rate the current
    /// rate window opened with (see {setRate}).
    error ReserveVaultRateJumpTooLarge(uint256 referenceRate, uint256 newRate, uint256 maxChangeBps);
    error ReserveVaultAttestationStale(uint256 asOf, uint256 maxAge);
    /// @dev An attestation must be newer than the last one and not in the future.
    error ReserveVaultAttestationOutOfOrder(uint256 asOf, uint256 previousAsOf);
    /// @dev Reserve value against supply is below the minimum coverage.
    error ReserveVaultCoverageTooLow(uint256 reserveValue, uint256 supply, uint256 minCoverageBps);
    error ReserveVaultDailyCapExceeded(address asset, uint256 cap, uint256 withdrawnToday, uint256 amount);
    error ReserveVaultInsufficientReserve(address asset, uint256 balance, uint256 amount);
    error ReserveVaultNativeTransferFailed(address to, uint256 amount);
    error ReserveVaultMinCoverageTooLow(uint256 minCoverageBps);

    // --- Events ---

    event AssetRegistered(address indexed asset, AssetConfig config);
    event AssetConfigUpdated(address indexed asset, AssetConfig previous, AssetConfig config);
    event AssetUnregistered(address indexed asset);
    event Deposited(address indexed asset, address indexed from, uint256 amount);
    event Withdrawn(address indexed asset, address indexed to, uint256 amount);
    event RateUpdated(uint256 previousRate, uint256 newRate, address indexed setter);
    event RateBoundsUpdated(uint32 maxAge, uint16 maxChangeBps);
    event Attested(uint256 amount, uint64 indexed asOf, bytes32 indexed reportHash, string uri, address indexed attestor);
    event AttestationMaxAgeUpdated(uint32 previousMaxAge, uint32 newMaxAge);
    event MinCoverageUpdated(uint256 previousBps, uint256 newBps);

    // --- Deposits and withdrawals ---

    /// @notice Deposits `amount` of the registered BEP-20 `asset` from the caller (approve first).
    /// @dev Credits the balance actually received (fee-on-transfer tokens). Emits {Deposited}.
    function deposit(address asset, uint256 amount) external;

    /// @notice Deposits native BNB (also through a plain transfer to the vault). Emits {Deposited}.
    function depositNative() external payable;

    /**
     * @notice Sends `amount` of `asset` to `to`. Role: RESERVE_MANAGER, behind an execution delay.
     * @dev Requirements: within the asset's daily cap; coverage after the withdrawal stays at or
     * above the minimum, with every price fresh. Emits {Withdrawn}.
     */
    function withdraw(address asset, address to, uint256 amount) external;

    // --- Oracles ---

    /**
     * @notice Publishes the official KGS-per-USD rate [wad]. Role: RATE_SETTER.
     * @dev The change is bounded per time window, not per update: an update made when no window
     * is open (the first rate, or a day or more after the current window opened) opens one
     * at the rate it replaces (at itself, for the first rate); within a window every new rate
     * stays within `maxChangeBps` of the rate the window opened with. So a stolen RATE_SETTER key
     * moves the rate at most `maxChangeBps` per window however many updates it sends (and at
     * most twice that across the boundary of two windows). Emits {RateUpdated}.
     */
    function setRate(uint256 kgsPerUsd) external;

    /// @notice Posts an attestation of fiat som in bank accounts [wad] as of `asOf`. Role: ATTESTOR.
    /// @dev Emits {Attested}.
    function attest(uint256 amount, uint64 asOf, bytes32 reportHash, string calldata uri) external;

    // --- Policy (RESERVE_ADMIN) ---

    function registerAsset(address asset, AssetConfig calldata config) external;

    function updateAsset(address asset, AssetConfig calldata config) external;

    /// @dev Only an asset the vault no longer holds.
    function unregisterAsset(address asset) external;

    function setRateBounds(uint32 maxAge, uint16 maxChangeBps) external;

    function setAttestationMaxAge(uint32 maxAge) external;

    /// @dev At least 100% (10,000 bps): the vault never lets KGST be minted under-reserved.
    function setMinCoverage(uint256 minCoverageBps) external;

    // --- Views ---

    /// @notice Reverts with {ReserveVaultCoverageTooLow} (or a stale-price error) unless the reserve
    /// covers `supplyAfter` [KGST units] at the minimum coverage. KGST calls it before each mint.
    function checkMint(uint256 supplyAfter) external view;

    /// @notice The reserve value in som [wad]: counted asset values plus the attested fiat.
    /// @dev Reverts when a price, the rate or the attestation is unusable (fail closed).
    function reserveValue() external view returns (uint256);

    /// @notice Reserve value over KGST supply [bps]; `type(uint256).max` when supply is zero.
    function coverageRatio() external view returns (uint256);

    /// @notice The coverage ratio if `asset`'s price fell by `dropBps`.
    function stressedCoverage(address asset, uint256 dropBps) external view returns (uint256);

    /// @notice Every registered asset, valued as `reserveValue` counts it.
    function valuation() external view returns (AssetValuation[] memory assets, uint256 attested, uint256 total);

    /// @notice A feed's answer for `asset` and whether it is usable now.
    function price(address asset) external view returns (uint256 answer, uint256 updatedAt, PriceError error);

    function assets() external view returns (address[] memory);

    function asset(address asset) external view returns (Asset memory);

    function rate() external view returns (uint256 kgsPerUsd, uint64 updatedAt, uint32 maxAge, uint16 maxChangeBps);

    /// @notice The current rate window: the rate it opened with, when it opened and when it
    /// closes (an update at or after `closesAt` opens a new one). All zero before the first rate.
    function rateWindow() external view returns (uint256 referenceRate, uint64 openedAt, uint64 closesAt);

    function attestation()
        external
        view
        returns (uint256 amount, uint64 asOf, bytes32 reportHash, uint32 maxAge);

    function minCoverage() external view returns (uint256);

    function stablecoin() external view returns (address);
}
