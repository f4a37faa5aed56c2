"""Constants and helpers of the digital som tests (tests/cbdc, tests/ops)."""

from eth_utils import keccak

TYIYN = 100  # token units per som (decimals 2)
UNLIMITED = 2**128 - 1  # DigitalCurrency.UNLIMITED
GOVERNMENT_TIER, BANK_TIER = 10, 11  # uncapped tiers of brownie-config.yaml
BASIC_TIER, STANDARD_TIER, FULL_TIER = 1, 2, 3  # capped tiers
TREASURY_FLOAT = 10**9 * TYIYN  # 1 billion som issued to the treasury by `cbdc_ready`
DAY = 86_400
PAUSE_TRANSFERS, PAUSE_MINT, PAUSE_REDEEM = 1, 2, 4

# TransferRestrictions codes
SUCCESS, PAUSED, SENDER_BLOCKED, RECIPIENT_BLOCKED, INSUFFICIENT_BALANCE = 0, 1, 2, 3, 4
INVALID_SENDER, INVALID_RECIPIENT, SPENDER_BLOCKED, INSUFFICIENT_ALLOWANCE = 5, 6, 7, 8
SENDER_NOT_REGISTERED, RECIPIENT_NOT_REGISTERED, HOLDING_CAP_EXCEEDED = 9, 10, 11
TRANSFER_LIMIT_EXCEEDED, DAILY_LIMIT_EXCEEDED = 12, 13


def identity_of(name):
    """The identity hash of a test person or body (a salted national-ID hash in real life)."""
    return keccak(text=f"identity:{name}")


def kyc_record(name):
    """The hash of a test KYC file."""
    return keccak(text=f"kyc-file:{name}")
