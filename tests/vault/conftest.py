"""Fixtures of the ReserveVault tests: the local mock reserve tokens, and helpers to deposit,
attest, withdraw through the AccessManager, move time, deploy extra assets or a fresh vault, and
decode the custom error of a reverted view.

Every helper here acts inside the autouse chain snapshot of tests/conftest.py (they are function
scoped), so nothing they change outlives the test.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from brownie import Contract, MockAggregatorV3, MockReserveToken, ReserveVault, SomProxy, chain, web3
from eth_utils import keccak

from vaultlib import ATTESTATION_MAX_AGE, RATE_MAX_AGE, RATE_MAX_CHANGE_BPS, USD, Position, fresh_ref, latest_time


@pytest.fixture(scope="session", autouse=True)
def operating_reserve(funded, reserve_ready):
    """Every vault test starts from the same state: the rate published, the session's huge bank
    attestation posted (see `reserve_ready`), KGST supply 2,000 (alice and bob, see `funded`)."""
    return reserve_ready


@pytest.fixture
def deposit(vault, tokens, carol):
    """deposit(symbol, amount, sender=carol): mints the mock token to the sender, approves and
    deposits it (BNB: `depositNative`). Returns the deposit transaction."""

    def _deposit(symbol, amount, sender=carol):
        if symbol == "BNB":
            return vault.depositNative({"from": sender, "value": amount})
        token = tokens[symbol]
        token.mint(sender, amount, {"from": sender})
        token.approve(vault, amount, {"from": sender})
        return vault.deposit(token, amount, {"from": sender})

    return _deposit


@pytest.fixture
def attest(vault, attestor):
    """attest(amount): posts an attestation of `amount` [wad som] dated at the latest block, which
    replaces the session's huge one (so that coverage binds). Returns the transaction."""

    def _attest(amount, report=keccak(text="bank-statement-test"), uri="ipfs://attestation-test"):
        previous = vault.attestation()[1]
        if latest_time() <= previous:
            chain.sleep(previous - latest_time() + 1)
            chain.mine()
        return vault.attest(amount, latest_time(), report, uri, {"from": attestor})

    return _attest


@pytest.fixture
def withdraw(vault, manager, reserve_manager):
    """withdraw(asset, to, amount): the RESERVE_MANAGER schedules the call in the AccessManager,
    waits out its 60 s execution delay, then executes it. Returns the execute transaction."""

    def _withdraw(asset, to, amount):
        data = vault.withdraw.encode_input(asset, to, amount)
        manager.schedule(vault, data, 0, {"from": reserve_manager})
        chain.sleep(61)
        chain.mine()
        return manager.execute(vault, data, {"from": reserve_manager})

    return _withdraw


@pytest.fixture
def mint(kgst, minter, carol):
    """mint(amount, to=carol): the minter mints against a fresh deposit reference."""

    def _mint(amount, to=carol):
        return kgst.mint(to, amount, fresh_ref(), {"from": minter})

    return _mint


@pytest.fixture
def refresh(vault, feeds, rate_setter, stranger):
    """After a long sleep: every feed answers again (same price, new round) and the rate is
    published again (same value)."""

    def _refresh():
        for feed in feeds.values():
            feed.updateAnswer(feed.latestRoundData()[1], {"from": stranger})
        vault.setRate(vault.rate()[0], {"from": rate_setter})

    return _refresh


@pytest.fixture
def new_asset(vault, reserve_admin, stranger):
    """new_asset(token_decimals=18, feed_decimals=8, answer=1 USD, haircut=0, share=10_000,
    cap=..., register=True): a fresh MockReserveToken and MockAggregatorV3, registered by the
    RESERVE_ADMIN unless `register` is false."""

    def _new_asset(
        token_decimals=18, feed_decimals=8, answer=USD, haircut=0, share=10_000, cap=None, register=True, token=None
    ):
        if token is None:
            token = MockReserveToken.deploy("Test Reserve Token", "TRT", token_decimals, {"from": stranger})
        feed = MockAggregatorV3.deploy(feed_decimals, "TRT / USD", answer, {"from": stranger})
        cap = 10**6 * 10**token_decimals if cap is None else cap
        config = (feed.address, 86_400, haircut, share, cap)
        tx = vault.registerAsset(token, config, {"from": reserve_admin}) if register else None
        return SimpleNamespace(token=token, feed=feed, config=config, tx=tx)

    return _new_asset


@pytest.fixture
def fresh_vault(manager, kgst, stranger):
    """fresh_vault(assets=(), configs=(), min_coverage=10_000, ...): a new ReserveVault behind a
    SomProxy, authority the session's AccessManager, no rate and no attestation yet. Its
    restricted functions have no function roles, so only the ADMIN (the `admin` account) may
    call them."""

    def _fresh_vault(
        assets=(),
        configs=(),
        min_coverage=10_000,
        rate_max_age=RATE_MAX_AGE,
        rate_max_change=RATE_MAX_CHANGE_BPS,
        attestation_max_age=ATTESTATION_MAX_AGE,
        authority=None,
        stablecoin=None,
    ):
        implementation = ReserveVault.deploy({"from": stranger})
        init = implementation.initialize.encode_input(
            manager if authority is None else authority,
            kgst if stablecoin is None else stablecoin,
            min_coverage,
            rate_max_age,
            rate_max_change,
            attestation_max_age,
            list(assets),
            list(configs),
        )
        proxy = SomProxy.deploy(implementation, init, {"from": stranger})
        return Contract.from_abi("ReserveVault", proxy.address, ReserveVault.abi)

    return _fresh_vault


@pytest.fixture
def call_error(artifacts):
    """call_error(contract.fn, *args): the decoded custom error (name, args) with which a view
    reverts; fails the test if it does not revert."""
    decoder = artifacts.decoder

    def _call_error(fn, *args):
        call = {"to": fn._address, "data": fn.encode_input(*args)}
        try:
            web3.eth.call(call)
        except Exception as exc:  # web3's ContractCustomError has .data; brownie's middleware a dict
            payload = exc.args[0] if exc.args and isinstance(exc.args[0], dict) else {}
            data = getattr(exc, "data", None) or payload.get("data")
            error = decoder.decode(data)
            assert error is not None, f"{fn._name}: undecodable revert {exc!r}"
            return error
        raise AssertionError(f"{fn._name}{args} did not revert")

    return _call_error


@pytest.fixture
def positions(vault):
    """positions(): the vault's registered assets as model Positions (balances, feed answers,
    decimals, policy read from the chain), in `assets()` order."""

    def _positions():
        out = []
        for address in vault.assets():
            config, token_decimals, feed_decimals, _registered, balance, _w, _d = vault.asset(address)
            answer = vault.price(address)[0]
            out.append(Position(balance, answer, token_decimals, feed_decimals, config[2], config[3]))
        return out

    return _positions

