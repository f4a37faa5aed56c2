// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessManagedUpgradeable} from "@openzeppelin/contracts-upgradeable/access/manager/AccessManagedUpgradeable.sol";
import {UUPSUpgradeable} from "@openzeppelin/contracts-upgradeable/proxy/utils/UUPSUpgradeable.sol";
import {Initializable} from "@openzeppelin/contracts-upgradeable/proxy/utils/Initializable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {AggregatorV3Interface} from "./interfaces/AggregatorV3Interface.sol";
import {IReserveVault} from "./interfaces/IReserveVault.sol";

/**
 * @title ReserveVault
 * @notice The national reserve behind KGST, valued on chain. It holds native BNB and registered
 * BEP-20 assets, each priced in USD by a Chainlink-style feed, converted to som at the official
 * rate, weighted by a haircut and capped by a maximum share of the reserve; plus the fiat som
 * that an attestor reports held in banks. KGST asks it before every mint (`checkMint`).
 *
 * @dev Valuation, in this order (all values [wad som]; s_i = maxShare_i):
 *   v_i     = balance_i x price_i x rate x (1 - haircut_i)            (weighted value; 0 if the
 *                                                                      price is unusable)
 *   G       = sum(v_i) + attested                                      (gross reserve)
 *   c_i     = min(v_i, s_i / (1 - s_i) x (G - v_i))                    (counted value; c_i = v_i
 *                                                                      when s_i = 100%; the ratio
 *                                                                      s / (1 - s) in bps, rounded
 *                                                                      down)
 *   total   = sum(c_i) + attested                                      (reserve value)
 * The cap of an asset is taken against what everything else is worth, never against a sum that
 * includes its own value: so a manipulated feed cannot raise its own cap, and one asset alone
 * never makes up more than its share of the reserve (c_i <= s_i x (c_i + G - v_i)). A single
 * pumped feed adds at most s_i / (1 - s_i) times the rest of the reserve (40%: two thirds).
 *
 * Failing closed without handing strangers a switch: an asset whose price is unusable (a feed
 * that reverts, answers <= 0, has an incomplete round (updatedAt 0), a timestamp in the future or
 * is older than the asset's own heartbeat) counts as zero, and the valuation says so
 * (`priceError`), instead of reverting: anyone can deposit 1 wei of a registered asset, and a
 * revert would let a dust deposit of an asset whose feed is stale halt every mint and
 * withdrawal. Minting then stops only if the rest of the reserve does not cover the supply.
 * The inputs only governance posts still fail the valuation: a rate older than its maximum age,
 * an attestation older than its maximum age. Assets with a zero balance are not priced.
 * Transfers and burns of KGST never ask the vault.
 *
 * Storage is packed for the valuation, which every mint pays for: one slot per asset holds its
 * balance, policy and decimals (its feed address in the next), and the rate, the attestation and
 * the coverage policy take one slot each. So a balance is at most 2^128 - 1 token units, the rate
 * and the attested amount at most 2^128 - 1 [wad]; a deposit, rate or attestation beyond that
 * reverts (SafeCast) instead of being stored wrong.
 *
 * Balances are the vault's own credit of deposits less withdrawals, not `balanceOf(this)`:
 * fee-on-transfer tokens are credited what actually arrived, and donations do not count.
 * Deposits, withdrawals and native receipts share one transient reentrancy guard.
 *
 * Not checked here: who may call (the AccessManager), the truth of an attestation (its report
 * hash and URI are published for the public to check).
 */
contract ReserveVault is Initializable, AccessManagedUpgradeable, UUPSUpgradeable, ReentrancyGuardTransient, IReserveVault {
    using SafeERC20 for IERC20;

    // --- Constants ---

    /// @notice The asset key of native BNB.
    address public constant NATIVE = 0xEeeeeEeeeEeEeeEeEeEeeEEEeeeeEeeeeeeeEEeE;
    uint256 private constant _BPS = 10_000;
    /// @dev The length of a rate window: the rate moves at most `maxChangeBps` within one
    /// (`rateWindow()` tells when the current one closes).
    uint256 private constant _RATE_WINDOW = 1 days;

    // --- Storage ---

    /// @dev A registered asset as stored: slot 0 holds all the valuation reads but the feed.
    struct AssetRecord {
        uint128 balance; // credited deposits less withdrawals [token units]
        uint32 heartbeat; // maximum age of a price [s]
        uint16 haircutBps; // [bps]
        uint16 maxShareBps; // [bps]
        uint8 tokenDecimals;
        uint8 feedDecimals;
        bool registered;
        address feed; // slot 1
        uint64 day; // the day `withdrawnToday` counts for (block.timestamp / 1 days)
        uint256 dailyCap; // [token units]
        uint256 withdrawnToday; // [token units]
    }

    /// @custom:storage-location erc7201:somstack.storage.ReserveVault
    struct VaultStorage {
        address stablecoin;
        uint8 stablecoinDecimals;
        uint32 minCoverageBps; // [bps]
        address[] assetList;
        mapping(address asset => AssetRecord) assets;
        uint128 rate; // KGS per USD [wad]
        uint64 rateUpdatedAt; // [unix s]
        uint32 rateMaxAge; // [s]
        uint16 rateMaxChangeBps; // [bps]
        uint128 attestedAmount; // [wad som]
        uint64 attestedAsOf; // [unix s]
        uint32 attestationMaxAge; // [s]
        bytes32 attestationReportHash;
        uint128 rateWindowOpen; // the rate the current rate window opened with [wad]
        uint64 rateWindowStart; // when it opened [unix s]
    }

    // keccak256(abi.encode(uint256(keccak256("somstack.storage.ReserveVault")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant _STORAGE_LOCATION = 0xd0fb8374e6f24cc04ea798fc93577fd9320311345f3901affb564a6668d11300;

    function _s() private pure returns (VaultStorage storage $) {
        assembly {
            $.slot := _STORAGE_LOCATION
        }
    }

    // --- Init ---

    /// @custom:oz-upgrades-unsafe-allow constructor
    constructor() {
        _disableInitializers();
    }

    /**
     * @notice Initializes the proxy with its policy and first assets, so that a deployment needs
     * no role to configure it.
     * @param authority the AccessManager
     * @param stablecoin_ KGST, whose total supply the reserve covers
     * @param minCoverageBps_ minimum coverage [bps], at least 10,000
     * @param rateMaxAge_ maximum age of the som rate [s]
     * @param rateMaxChangeBps_ maximum change of the som rate per update [bps]
     * @param attestationMaxAge_ maximum age of the latest attestation [s]
     * @param initialAssets assets to register, with `configs` their policies
     */
    function initialize(
        address authority,
        address stablecoin_,
        uint256 minCoverageBps_,
        uint32 rateMaxAge_,
        uint16 rateMaxChangeBps_,
        uint32 attestationMaxAge_,
        address[] calldata initialAssets,
        AssetConfig[] calldata configs
    ) external initializer {
        if (authority == address(0) || stablecoin_ == address(0)) revert ReserveVaultZeroAddress();
        __AccessManaged_init(authority);
        VaultStorage storage $ = _s();
        $.stablecoin = stablecoin_;
        $.stablecoinDecimals = IERC20Metadata(stablecoin_).decimals();
        _setMinCoverage(minCoverageBps_);
        _setRateBounds(rateMaxAge_, rateMaxChangeBps_);
        _setAttestationMaxAge(attestationMaxAge_);
        if (initialAssets.length != configs.length) revert ReserveVaultInvalidConfig(address(0));
        for (uint256 i = 0; i < initialAssets.length; ++i) {
            _registerAsset(initialAssets[i], configs[i]);
        }
    }

    // --- Deposits and withdrawals ---

    /// @inheritdoc IReserveVault
    function deposit(address asset_, uint256 amount) external nonReentrant {
        if (amount == 0) revert ReserveVaultZeroAmount();
        if (asset_ == NATIVE) revert ReserveVaultInvalidConfig(asset_);
        AssetRecord storage a = _registered(asset_);
        IERC20 token = IERC20(asset_);
        uint256 before = token.balanceOf(address(this));
        token.safeTransferFrom(msg.sender, address(this), amount);
        // Fee-on-transfer tokens: credit what arrived, never what was asked.
        uint256 received = token.balanceOf(address(this)) - before;
        if (received == 0) revert ReserveVaultZeroAmount();
        a.balance = SafeCast.toUint128(a.balance + received);
        emit Deposited(asset_, msg.sender, received);
    }

    /// @inheritdoc IReserveVault
    function depositNative() public payable nonReentrant {
        _creditNative();
    }

    /// @notice Native BNB sent to the vault is a deposit.
    receive() external payable nonReentrant {
        _creditNative();
    }

    /// @inheritdoc IReserveVault
    function withdraw(address asset_, address to, uint256 amount) external restricted nonReentrant {
        if (to == address(0)) revert ReserveVaultZeroAddress();
        if (amount == 0) revert ReserveVaultZeroAmount();
        AssetRecord storage a = _registered(asset_);
        uint256 balance = a.balance;
        if (amount > balance) revert ReserveVaultInsufficientReserve(asset_, balance, amount);
        uint64 today = uint64(block.timestamp / 1 days);
        uint256 withdrawn = a.day == today ? a.withdrawnToday : 0;
        if (withdrawn + amount > a.dailyCap) {
            revert ReserveVaultDailyCapExceeded(asset_, a.dailyCap, withdrawn, amount);
        }
        // Effects first: the coverage check below values the reserve without this amount.
        // amount <= balance < 2^128, checked above.
        a.balance = uint128(balance - amount);
        a.withdrawnToday = withdrawn + amount;
        a.day = today;
        _requireCoverage(_supply());
        emit Withdrawn(asset_, to, amount);
        if (asset_ == NATIVE) {
            (bool ok, ) = to.call{value: amount}("");
            if (!ok) revert ReserveVaultNativeTransferFailed(to, amount);
        } else {
            IERC20(asset_).safeTransfer(to, amount);
        }
    }

    // --- Oracles ---

    /// @inheritdoc IReserveVault
    function setRate(uint256 kgsPerUsd) external restricted {
        if (kgsPerUsd == 0) revert ReserveVaultZeroAmount();
        VaultStorage storage $ = _s();
        uint256 previous = $.rate;
        uint256 windowRate = $.rateWindowOpen;
        if (previous == 0 || block.timestamp >= uint256($.rateWindowStart) + _RATE_WINDOW) {
            // No window open: this update opens one, at the rate it replaces (the first rate
            // opens it at itself).
            windowRate = previous == 0 ? kgsPerUsd : previous;
            $.rateWindowOpen = SafeCast.toUint128(windowRate);
            $.rateWindowStart = uint64(block.timestamp);
        }
        uint256 change = kgsPerUsd > windowRate ? kgsPerUsd - windowRate : windowRate - kgsPerUsd;
        // Invariant: within a window the official rate stays within rateMaxChangeBps of the
        // rate the window opened with, however many updates are sent.
        if (change * _BPS > windowRate * $.rateMaxChangeBps) {
            revert ReserveVaultRateJumpTooLarge(windowRate, kgsPerUsd, $.rateMaxChangeBps);
        }
        $.rate = SafeCast.toUint128(kgsPerUsd);
        $.rateUpdatedAt = uint64(block.timestamp);
        emit RateUpdated(previous, kgsPerUsd, msg.sender);
    }

    /// @inheritdoc IReserveVault
    function attest(uint256 amount, uint64 asOf, bytes32 reportHash, string calldata uri) external restricted {
        VaultStorage storage $ = _s();
        if (asOf > block.timestamp || asOf <= $.attestedAsOf) revert ReserveVaultAttestationOutOfOrder(asOf, $.attestedAsOf);
        $.attestedAmount = SafeCast.toUint128(amount);
        $.attestedAsOf = asOf;
        $.attestationReportHash = reportHash;
        emit Attested(amount, asOf, reportHash, uri, msg.sender);
    }

    // --- Policy ---

    /// @inheritdoc IReserveVault
    function registerAsset(address asset_, AssetConfig calldata config) external restricted {
        _registerAsset(asset_, config);
    }

    /// @inheritdoc IReserveVault
    function updateAsset(address asset_, AssetConfig calldata config) external restricted {
        AssetRecord storage a = _registered(asset_);
        _checkConfig(asset_, config);
        AssetConfig memory previous = _configOf(a);
        _setConfig(a, config);
        emit AssetConfigUpdated(asset_, previous, config);
    }

    /// @inheritdoc IReserveVault
    function unregisterAsset(address asset_) external restricted {
        AssetRecord storage a = _registered(asset_);
        if (a.balance != 0) revert ReserveVaultAssetHasBalance(asset_, a.balance);
        VaultStorage storage $ = _s();
        delete $.assets[asset_];
        address[] storage list = $.assetList;
        for (uint256 i = 0; i < list.length; ++i) {
            if (list[i] == asset_) {
                list[i] = list[list.length - 1];
                list.pop();
                break;
            }
        }
        emit AssetUnregistered(asset_);
    }

    /// @inheritdoc IReserveVault
    function setRateBounds(uint32 maxAge, uint16 maxChangeBps) external restricted {
        _setRateBounds(maxAge, maxChangeBps);
    }

    /// @inheritdoc IReserveVault
    function setAttestationMaxAge(uint32 maxAge) external restricted {
        _setAttestationMaxAge(maxAge);
    }

    /// @inheritdoc IReserveVault
    function setMinCoverage(uint256 minCoverageBps) external restricted {
        _setMinCoverage(minCoverageBps);
    }

    // --- Views ---

    /// @inheritdoc IReserveVault
    function checkMint(uint256 supplyAfter) external view {
        _requireCoverage(_toWad(supplyAfter, _s().stablecoinDecimals));
    }

    /// @inheritdoc IReserveVault
    function reserveValue() public view returns (uint256 total) {
        (, , total) = _valuation(address(0), 0);
    }

    /// @inheritdoc IReserveVault
    function coverageRatio() external view returns (uint256) {
        return _ratio(reserveValue(), _supply());
    }

    /// @inheritdoc IReserveVault
    function stressedCoverage(address asset_, uint256 dropBps) external view returns (uint256) {
        _registered(asset_);
        if (dropBps > _BPS) revert ReserveVaultInvalidConfig(asset_);
        (, , uint256 total) = _valuation(asset_, dropBps);
        return _ratio(total, _supply());
    }

    /// @inheritdoc IReserveVault
    function valuation() external view returns (AssetValuation[] memory list, uint256 attested, uint256 total) {
        (list, attested, total) = _valuation(address(0), 0);
    }

    /// @inheritdoc IReserveVault
    function price(address asset_) public view returns (uint256 answer, uint256 updatedAt, PriceError error) {
        AssetRecord storage a = _registered(asset_);
        return _readFeed(a.feed, a.heartbeat);
    }

    /// @inheritdoc IReserveVault
    function assets() external view returns (address[] memory) {
        return _s().assetList;
    }

    /// @inheritdoc IReserveVault
    function asset(address asset_) external view returns (Asset memory) {
        AssetRecord storage a = _s().assets[asset_];
        return Asset({
            config: _configOf(a),
            tokenDecimals: a.tokenDecimals,
            feedDecimals: a.feedDecimals,
            registered: a.registered,
            balance: a.balance,
            withdrawnToday: a.withdrawnToday,
            day: a.day
        });
    }

    /// @inheritdoc IReserveVault
    function rate() external view returns (uint256 kgsPerUsd, uint64 updatedAt, uint32 maxAge, uint16 maxChangeBps) {
        VaultStorage storage $ = _s();
        return ($.rate, $.rateUpdatedAt, $.rateMaxAge, $.rateMaxChangeBps);
    }

    /// @inheritdoc IReserveVault
    function rateWindow() external view returns (uint256 referenceRate, uint64 openedAt, uint64 closesAt) {
        VaultStorage storage $ = _s();
        openedAt = $.rateWindowStart;
        if ($.rate == 0) return (0, 0, 0);
        return ($.rateWindowOpen, openedAt, uint64(openedAt + _RATE_WINDOW));
    }

    /// @inheritdoc IReserveVault
    function attestation() external view returns (uint256 amount, uint64 asOf, bytes32 reportHash, uint32 maxAge) {
        VaultStorage storage $ = _s();
        return ($.attestedAmount, $.attestedAsOf, $.attestationReportHash, $.attestationMaxAge);
    }

    /// @inheritdoc IReserveVault
    function minCoverage() external view returns (uint256) {
        return _s().minCoverageBps;
    }

    /// @inheritdoc IReserveVault
    function stablecoin() external view returns (address) {
        return _s().stablecoin;
    }

    // --- Internal ---

    /// @dev Only the UPGRADER role, through the AccessManager and its execution delay.
    function _authorizeUpgrade(address) internal override restricted {}

    function _creditNative() private {
        if (msg.value == 0) revert ReserveVaultZeroAmount();
        AssetRecord storage a = _registered(NATIVE);
        a.balance = SafeCast.toUint128(a.balance + msg.value);
        emit Deposited(NATIVE, msg.sender, msg.value);
    }

    function _registered(address asset_) private view returns (AssetRecord storage a) {
        a = _s().assets[asset_];
        if (!a.registered) revert ReserveVaultAssetNotRegistered(asset_);
    }

    function _registerAsset(address asset_, AssetConfig calldata config) private {
        if (asset_ == address(0)) revert ReserveVaultZeroAddress();
        VaultStorage storage $ = _s();
        AssetRecord storage a = $.assets[asset_];
        if (a.registered) revert ReserveVaultAssetAlreadyRegistered(asset_);
        _checkConfig(asset_, config);
        _setConfig(a, config);
        a.registered = true;
        a.tokenDecimals = asset_ == NATIVE ? 18 : IERC20Metadata(asset_).decimals();
        $.assetList.push(asset_);
        emit AssetRegistered(asset_, config);
    }

    /// @dev Stores a checked policy, and the decimals its feed reports.
    function _setConfig(AssetRecord storage a, AssetConfig calldata config) private {
        a.feed = config.feed;
        a.heartbeat = config.heartbeat;
        a.haircutBps = config.haircutBps;
        a.maxShareBps = config.maxShareBps;
        a.dailyCap = config.dailyCap;
        a.feedDecimals = AggregatorV3Interface(config.feed).decimals();
    }

    function _configOf(AssetRecord storage a) private view returns (AssetConfig memory) {
        return AssetConfig({feed: a.feed, heartbeat: a.heartbeat, haircutBps: a.haircutBps, maxShareBps: a.maxShareBps, dailyCap: a.dailyCap});
    }

    function _checkConfig(address asset_, AssetConfig calldata config) private pure {
        if (
            config.feed == address(0) ||
            config.heartbeat == 0 ||
            config.haircutBps >= _BPS ||
            config.maxShareBps == 0 ||
            config.maxShareBps > _BPS
        ) revert ReserveVaultInvalidConfig(asset_);
    }

    function _setMinCoverage(uint256 minCoverageBps) private {
        // Invariant: KGST is never minted against less than 100% of its supply.
        if (minCoverageBps < _BPS) revert ReserveVaultMinCoverageTooLow(minCoverageBps);
        VaultStorage storage $ = _s();
        emit MinCoverageUpdated($.minCoverageBps, minCoverageBps);
        $.minCoverageBps = SafeCast.toUint32(minCoverageBps);
    }

    function _setRateBounds(uint32 maxAge, uint16 maxChangeBps) private {
        if (maxAge == 0 || maxChangeBps == 0) revert ReserveVaultInvalidConfig(address(0));
        VaultStorage storage $ = _s();
        $.rateMaxAge = maxAge;
        $.rateMaxChangeBps = maxChangeBps;
        emit RateBoundsUpdated(maxAge, maxChangeBps);
    }

    function _setAttestationMaxAge(uint32 maxAge) private {
        if (maxAge == 0) revert ReserveVaultInvalidConfig(address(0));
        VaultStorage storage $ = _s();
        emit AttestationMaxAgeUpdated($.attestationMaxAge, maxAge);
        $.attestationMaxAge = maxAge;
    }

    /// @dev KGST's total supply in som [wad] (scaled if KGST does not have 18 decimals).
    function _supply() private view returns (uint256) {
        VaultStorage storage $ = _s();
        return _toWad(IERC20($.stablecoin).totalSupply(), $.stablecoinDecimals);
    }

    function _requireCoverage(uint256 supply) private view {
        if (supply == 0) return;
        VaultStorage storage $ = _s();
        (, , uint256 total) = _valuation(address(0), 0);
        // Invariant: reserve value >= supply x minimum coverage, at the moment of every mint
        // and after every withdrawal.
        if (total * _BPS < supply * $.minCoverageBps) revert ReserveVaultCoverageTooLow(total, supply, $.minCoverageBps);
    }

    function _ratio(uint256 total, uint256 supply) private pure returns (uint256) {
        return supply == 0 ? type(uint256).max : Math.mulDiv(total, _BPS, supply);
    }

    function _toWad(uint256 amount, uint8 decimals) private pure returns (uint256) {
        if (decimals == 18) return amount;
        return decimals < 18 ? amount * 10 ** (18 - decimals) : amount / 10 ** (decimals - 18);
    }

    function _rate() private view returns (uint256) {
        VaultStorage storage $ = _s();
        if ($.rate == 0) revert ReserveVaultRateNotSet();
        if (block.timestamp - $.rateUpdatedAt > $.rateMaxAge) revert ReserveVaultRateStale($.rateUpdatedAt, $.rateMaxAge);
        return $.rate;
    }

    function _attested() private view returns (uint256) {
        VaultStorage storage $ = _s();
        if ($.attestedAsOf == 0) return 0; // never attested: no off-chain reserve counts
        if (block.timestamp - $.attestedAsOf > $.attestationMaxAge) {
            revert ReserveVaultAttestationStale($.attestedAsOf, $.attestationMaxAge);
        }
        return $.attestedAmount;
    }

    /**
     * @dev Reads a feed as Chainlink tells its users to: the call must not revert, the answer must
     * be positive, the round complete (updatedAt != 0), not from the future, and no older than the
     * heartbeat (exactly at the heartbeat is still fresh).
     */
    function _readFeed(address feed, uint32 heartbeat) private view returns (uint256, uint256, PriceError) {
        try AggregatorV3Interface(feed).latestRoundData() returns (uint80, int256 answer, uint256, uint256 updatedAt, uint80) {
            if (answer <= 0) return (0, updatedAt, PriceError.NonPositive);
            if (updatedAt == 0) return (uint256(answer), 0, PriceError.IncompleteRound);
            if (updatedAt > block.timestamp) return (uint256(answer), updatedAt, PriceError.FutureTimestamp);
            if (block.timestamp - updatedAt > heartbeat) return (uint256(answer), updatedAt, PriceError.Stale);
            return (uint256(answer), updatedAt, PriceError.None);
        } catch {
            return (0, 0, PriceError.FeedReverted);
        }
    }

    /**
     * @dev The valuation of the contract's notes, with `stressAsset`'s price cut by `dropBps`
     * (none when `stressAsset` is zero). An asset whose price is unusable counts as zero and
     * carries the reason; a stale rate or attestation reverts (fail closed).
     */
    function _valuation(
        address stressAsset,
        uint256 dropBps
    ) private view returns (AssetValuation[] memory list, uint256 attested, uint256 total) {
        VaultStorage storage $ = _s();
        uint256 kgsPerUsd = _rate();
        attested = _attested();
        address[] storage keys = $.assetList;
        list = new AssetValuation[](keys.length);
        uint256 gross = attested;
        for (uint256 i = 0; i < keys.length; ++i) {
            AssetRecord storage a = $.assets[keys[i]];
            AssetValuation memory v = list[i];
            v.asset = keys[i];
            v.balance = a.balance;
            v.feedDecimals = a.feedDecimals;
            if (v.balance == 0) continue; // nothing held: no price needed
            (uint256 answer, uint256 updatedAt, PriceError err) = _readFeed(a.feed, a.heartbeat);
            v.updatedAt = updatedAt;
            if (err != PriceError.None) {
                // Unusable price: the asset counts as zero (weighted and counted values stay 0).
                v.price = answer;
                v.priceError = err;
                continue;
            }
            if (keys[i] == stressAsset) answer = Math.mulDiv(answer, _BPS - dropBps, _BPS);
            v.price = answer;
            // balance [10^tokenDecimals] x answer [10^feedDecimals USD] x rate [wad] -> [wad som]
            v.grossValue = Math.mulDiv(v.balance * answer, kgsPerUsd, 10 ** (uint256(a.tokenDecimals) + a.feedDecimals));
            v.weightedValue = Math.mulDiv(v.grossValue, _BPS - a.haircutBps, _BPS);
            gross += v.weightedValue;
        }
        total = attested;
        for (uint256 i = 0; i < list.length; ++i) {
            AssetValuation memory v = list[i];
            if (v.weightedValue == 0) continue;
            // Concentration cap against everything else: c_i <= s / (1 - s) x (G - v_i), so an
            // asset cannot raise its own cap, and makes up at most s of the counted reserve.
            uint256 share = $.assets[v.asset].maxShareBps;
            uint256 counted = v.weightedValue;
            if (share < _BPS) {
                unchecked {
                    // gross >= counted (gross sums every weighted value).
                    uint256 others = gross - counted;
                    // s / (1 - s) in [bps], rounded down (the cap never exceeds the rule);
                    // share < 10,000: no overflow, no division by zero.
                    uint256 ratio;
                    assembly ("memory-safe") {
                        ratio := div(mul(share, 10000), sub(10000, share))
                    }
                    // counted <= floor(others x ratio / 10,000) iff counted x 10,000 <= others x
                    // ratio: the cheap test first (exact while gross < 2^200, ratio < 2^27), the
                    // full-precision cap only when it may bind.
                    if (gross >= 2 ** 200 || counted * _BPS > others * ratio) {
                        uint256 cap = Math.mulDiv(others, ratio, _BPS);
                        if (cap < counted) counted = cap;
                    }
                }
            }
            v.countedValue = counted;
            total += v.countedValue;
        }
    }
}
