"""Fixtures of the digital som tests: the token in operation, and helpers that register and
fund wallets the way the KYC officer and the treasury do."""

import pytest

from cbdclib import BASIC_TIER, identity_of, kyc_record


@pytest.fixture
def som(cbdc_ready):
    """The digital som with the issuer, treasury and a bank registered and 1e9 som issued."""
    return cbdc_ready


@pytest.fixture
def register(som, kyc_officer):
    """register(wallet, tier, name): the KYC officer registers `wallet` for identity_of(name)."""

    def _register(wallet, tier=BASIC_TIER, name="alice"):
        return som.registerWallet(wallet, tier, identity_of(name), kyc_record(name), {"from": kyc_officer})

    return _register


@pytest.fixture
def fund(som, treasury):
    """fund(wallet, amount): the treasury pays `amount` [token units] to `wallet`."""

    def _fund(wallet, amount):
        return som.transfer(wallet, amount, {"from": treasury})

    return _fund
