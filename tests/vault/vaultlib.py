"""Shared by the ReserveVault tests: constants, chain-clock helpers, and the valuation in Python
to predict the contract's figures exactly. The valuation follows the rule as the issue states it,
with the contract's integer rounding (every division rounds down):

    v_i     = balance_i x price_i x rate / 10^(tokenDecimals_i + feedDecimals_i) x (1 - haircut_i)
              (0 when the price is unusable)
    G       = sum(v_i) + attested
    c_i     = min(v_i, (G - v_i) x r_i / 10,000)     (c_i = v_i when s_i = 100%), where
              r_i = s_i x 10,000 / (10,000 - s_i)      (s / (1 - s) in bps, rounded down)
    counted = sum(c_i) + attested
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from brownie import web3
from eth_utils import keccak

BPS = 10_000


@dataclass
class Position:
    """One reserve asset as the valuation sees it."""

    balance: int  # [token units]
    answer: int  # feed answer [10^feed_decimals USD per token]
    token_decimals: int
    feed_decimals: int
    haircut_bps: int
    max_share_bps: int


@dataclass
class Figures:
    """The valuation of one asset [wad som]."""

    gross: int = 0
    weighted: int = 0
    counted: int = 0


def valuation(positions: list[Position], rate: int, attested: int) -> tuple[list[Figures], int]:
    """Per-asset figures and the reserve value [wad som] of `positions` at `rate` [wad KGS/USD]."""
    figures = []
    gross_reserve = attested
    for p in positions:
        f = Figures()
        if p.balance:
            f.gross = p.balance * p.answer * rate // 10 ** (p.token_decimals + p.feed_decimals)
            f.weighted = f.gross * (BPS - p.haircut_bps) // BPS
            gross_reserve += f.weighted
        figures.append(f)
    total = attested
    for p, f in zip(positions, figures):
        if f.weighted:
            f.counted = f.weighted
            if p.max_share_bps < BPS:
                ratio = p.max_share_bps * BPS // (BPS - p.max_share_bps)
                f.counted = min(f.weighted, (gross_reserve - f.weighted) * ratio // BPS)
            total += f.counted
    return figures, total


def reserve_value(positions: list[Position], rate: int, attested: int) -> int:
    return valuation(positions, rate, attested)[1]


def ratio(total: int, supply: int) -> int:
    """Coverage [bps], as `coverageRatio` computes it."""
    return 2**256 - 1 if supply == 0 else total * BPS // supply


# --- Constants shared by the vault tests ---

UNIT = 10**18  # one token of 18 decimals; one som [wad]
USD = 10**8  # one dollar in an 8-decimals feed
NATIVE = "0xEeeeeEeeeEeEeeEeEeEeeEEEeeeeEeeeeeeeEEeE"
ZERO_ADDRESS = "0x" + "00" * 20
RATE = 87_45 * 10**16  # KGS per USD published by the session fixture [wad]
DAY = 86_400
HEARTBEAT = DAY  # of every local mock feed
RATE_MAX_AGE = 172_800
RATE_MAX_CHANGE_BPS = 500
ATTESTATION_MAX_AGE = 3_024_000
REENTRANCY_SELECTOR = "0x3ee5aeb5"  # ReentrancyGuardReentrantCall()

# IReserveVault.PriceError
NONE, FEED_REVERTED, NON_POSITIVE, INCOMPLETE_ROUND, STALE, FUTURE_TIMESTAMP = range(6)


# --- Chain clock and references ---

_refs = itertools.count()


def latest_time() -> int:
    """The timestamp of the latest block (the chain's clock, whatever brownie's offset says)."""
    return web3.eth.get_block("latest").timestamp


def pin_next_block(timestamp: int) -> None:
    """The next block (so the next transaction) gets exactly `timestamp`."""
    web3.provider.make_request("evm_setNextBlockTimestamp", [timestamp])


def fresh_ref(text: str = "vault-test-deposit") -> bytes:
    """A deposit or redemption reference never used before in this session."""
    return keccak(text=f"{text}-{next(_refs)}")
