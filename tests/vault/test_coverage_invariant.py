"""Stateful (hypothesis) test of the reserve gate: no sequence of mints, burns, deposits,
withdrawals (scheduled in the AccessManager and executed after its delay), price and rate moves,
attestations, minimum-coverage changes and waits lets KGST be minted beyond the reserve.

Each example starts from the deployment with tighter daily caps (2 BNB, 3 BTCB, 100,000
BSC-USD), the session's huge bank attestation replaced by a small one (0 to 5,000 som against
2,000 KGST) and a random first deposit of each asset, so that coverage binds from the first mint.
A Python model of the vault (vaultlib.valuation, with the contract's rounding; the ages of the
feeds, the rate and the attestation; the daily caps) predicts every action before it is sent: an
action it predicts to succeed must succeed, one it predicts to fail must revert with the custom
error it names (coverage, staleness, daily cap, balance). Redemption burns are predicted to
succeed whatever the state of the oracles. Every transaction whose outcome depends on the time
(mints, withdrawals, attestations) is sent at a pinned block timestamp, so the model knows the
exact second the contract sees; the execution delay is waited out by pinning the execute 62 s
after the schedule. Amounts include the exact edges: the largest mint the reserve covers and one
wei more; the largest withdrawal that keeps coverage (bisection on the model) and one more; what
is left of today's cap and one more.

The model follows issue 15: an asset whose price is stale at the second of the valuation counts
as zero (the valuation does not revert for it; only a stale rate or attestation does), an asset's
cap is its share of what everything else is worth, and the rate moves at most 5% per one-day
window from the rate the window opened with (an update beyond it must revert).

Invariants, after every step:
1. the supply and the vault's balances equal the model's; the reserve value equals the model's
   when the rate and attestation are fresh (a stale price only zeroes its asset), and the view
   reverts when the rate or the attestation is stale;
2. after every successful mint: reserveValue x 10,000 >= totalSupply x minCoverage, on chain and
   in the model, at the mint's timestamp.

Runs derandomized (same examples every run, no example database) for CI: 12 examples of up to 20
steps, about 25 s. Deeper runs (100 x 40 took 11 min, all green):
    SOMSTACK_STATEFUL_EXAMPLES=100 SOMSTACK_STATEFUL_STEPS=40 pytest tests/vault/test_coverage_invariant.py --network dev-h2
With -s, a tally of every action's outcomes over all examples is printed at the end.
"""

from __future__ import annotations

from collections import Counter

from brownie import chain
from brownie.exceptions import VirtualMachineError
from eth_utils import keccak
from hypothesis import strategies as st
from stateful import send_patiently as _send
from stateful import stateful_settings

from vaultlib import BPS, DAY, UNIT, Position, fresh_ref, latest_time, pin_next_block, valuation

SETTINGS = stateful_settings(default_examples=12)

ASSETS = ("BNB", "BTCB", "BSC-USD")
# A deposit is 1 to 5,000 lots: up to 5 BNB, 20 BTCB, 500,000 BSC-USD.
LOT = {"BNB": 10**15, "BTCB": 4 * 10**15, "BSC-USD": 100 * UNIT}


class CoverageMachine:
    # --- Strategies (brownie maps a rule argument to the class attribute named by its default) ---

    st_asset = st.sampled_from(ASSETS)
    st_lots = st.integers(1, 5_000)
    st_small_attestation = st.integers(0, 5_000 * UNIT)
    st_attestation = st.integers(0, 2_000_000 * UNIT)
    st_init_lots = st.integers(0, 3_000)
    st_mint = st.integers(1, 20_000_000 * UNIT)
    st_edge = st.sampled_from(("headroom", "headroom+1"))
    st_burn = st.one_of(st.just("all"), st.integers(1, 5_000_000 * UNIT))
    st_withdraw = st.one_of(st.sampled_from(("all", "half")), st.integers(1, 5_000))  # lots
    st_price_factor = st.integers(2_000, 30_000)  # the new answer, in bps of the current one
    st_rate_change = st.integers(-600, 600)  # [bps]: within the window's 5% limit, or not
    st_wait = st.sampled_from((60, 3_600, 43_200, 86_401, 100_000, 180_000))
    st_refresh = st.sampled_from(("none", "feeds", "rate", "all", "all"))
    st_min_coverage = st.sampled_from((10_000, 10_000, 12_500, 15_000))

    # --- Per test ---

    def __init__(cls, vault, kgst, feeds, tokens, assets, roles, depositor):
        cls.vault, cls.kgst, cls.feeds, cls.tokens = vault, kgst, feeds, tokens
        cls.address = assets  # symbol -> asset address
        cls.roles = roles  # minter, burner, rate_setter, attestor, reserve_admin, reserve_manager, manager, poker
        cls.depositor = depositor
        cls.tally = Counter()

    # --- Per example: the model, from the chain after brownie's revert ---

    def setup(self):
        vault = self.vault
        self.order = [next(s for s, a in self.address.items() if a == address) for address in vault.assets()]
        assert sorted(self.order) == sorted(ASSETS)
        self.config, self.balance, self.answer, self.updated = {}, {}, {}, {}
        self.withdrawn, self.day = {}, {}
        for symbol in ASSETS:
            config, token_decimals, feed_decimals, _registered, balance, withdrawn, day = vault.asset(self.address[symbol])
            feed, heartbeat, haircut, share, cap = config
            self.config[symbol] = dict(
                heartbeat=heartbeat, haircut=haircut, share=share, cap=cap, td=token_decimals, fd=feed_decimals
            )
            _round, answer, _started, updated_at, _answered = self.feeds[symbol].latestRoundData()
            self.balance[symbol], self.answer[symbol], self.updated[symbol] = balance, answer, updated_at
            self.withdrawn[symbol], self.day[symbol] = withdrawn, day
        self.rate, self.rate_updated, self.rate_max_age, self.rate_max_change = vault.rate()
        self.window_rate, self.window_start, _closes = vault.rateWindow()
        self.attested, self.as_of, _report, self.attestation_max_age = vault.attestation()
        self.min_coverage = vault.minCoverage()
        self.supply = self.kgst.totalSupply()
        self.burner_balance = self.kgst.balanceOf(self.roles["burner"])
        self.minted_at = None  # timestamp of a successful mint in the current step
        self.tally["(examples)"] += 1

    def teardown_final(cls):
        lines = [f"  {k:<46} {v}" for k, v in sorted(cls.tally.items())]
        print("\nReserve gate stateful outcomes over all examples:\n" + "\n".join(lines))

    # --- The model ---

    def _positions(self, balance=None, at=None):
        """The assets as the valuation at time `at` sees them: a price older than its heartbeat
        is unusable, and its asset counts as zero."""
        balance = balance or self.balance
        at = latest_time() if at is None else at
        out = []
        for s in self.order:
            c = self.config[s]
            answer = self.answer[s] if at - self.updated[s] <= c["heartbeat"] else 0
            out.append(Position(balance[s], answer, c["td"], c["fd"], c["haircut"], c["share"]))
        return out

    def _value(self, balance=None, at=None):
        return valuation(self._positions(balance, at), self.rate, self.attested)[1]

    def _stale_error(self, at, balance=None):
        """The error the valuation reverts with at time `at`, or None (the contract's order:
        rate, then attestation). A stale price does not revert: its asset counts zero."""
        if at - self.rate_updated > self.rate_max_age:
            return "ReserveVaultRateStale"
        if self.as_of and at - self.as_of > self.attestation_max_age:
            return "ReserveVaultAttestationStale"
        return None

    def _covers(self, total, supply):
        return total * BPS >= supply * self.min_coverage

    def _headroom(self, at):
        return self._value(at=at) * BPS // self.min_coverage - self.supply

    def _coverage_edge(self, symbol, at):
        """The largest withdrawal of `symbol` after which the model still covers the supply."""
        low, high = 0, self.balance[symbol]  # low: known to cover (or 0)
        if self._covers(self._value({**self.balance, symbol: 0}, at), self.supply):
            return high
        while low < high:
            mid = (low + high + 1) // 2
            if self._covers(self._value({**self.balance, symbol: self.balance[symbol] - mid}, at), self.supply):
                low = mid
            else:
                high = mid - 1
        return low

    # --- Helpers ---

    def _pin(self):
        """Pins the next block one second after the latest; returns its timestamp."""
        at = latest_time() + 1
        pin_next_block(at)
        return at

    def _attempt(self, what, expected_error, send):
        """Sends; asserts success when `expected_error` is None, else a revert with that error."""
        try:
            tx = _send(send)
            name = None if tx.status else (tx.revert_msg or "").split(":")[0]
        except VirtualMachineError as exc:
            tx, name = None, (exc.revert_msg or "").split(":")[0]
        if name is not None:
            self.tally[f"{what}: {name}"] += 1
            assert expected_error is not None, f"{what}: the model expected success, but it reverted with {name}"
            assert name == expected_error, f"{what}: expected {expected_error}, got {name}"
            return None
        self.tally[f"{what}: ok"] += 1
        assert expected_error is None, f"{what}: the model expected {expected_error}, but it succeeded"
        return tx

    # --- Start: a small attestation, so that coverage binds, and some assets ---

    def initialize_reserve(self, amount="st_small_attestation", bnb="st_init_lots", btcb="st_init_lots", usd="st_init_lots"):
        # Tighter daily caps than the deployment's (1,000 BNB, 10 BTCB, 1,000,000 BSC-USD), so that they bind.
        for symbol, cap in (("BNB", 2 * UNIT), ("BTCB", 3 * UNIT), ("BSC-USD", 100_000 * UNIT)):
            feed, heartbeat, haircut, share, _cap = self.vault.asset(self.address[symbol])[0]
            config = (feed, heartbeat, haircut, share, cap)
            _send(lambda: self.vault.updateAsset(self.address[symbol], config, {"from": self.roles["reserve_admin"]}))
            self.config[symbol]["cap"] = cap
        self.rule_attest(amount)
        for symbol, lots in (("BNB", bnb), ("BTCB", btcb), ("BSC-USD", usd)):
            if lots:
                self.rule_deposit(symbol, lots)

    # --- Rules ---

    def rule_deposit(self, symbol="st_asset", lots="st_lots"):
        amount, vault, depositor = lots * LOT[symbol], self.vault, self.depositor
        if symbol == "BNB":
            send = lambda: vault.depositNative({"from": depositor, "value": amount})
        else:
            token = self.tokens[symbol]
            _send(lambda: token.mint(depositor, amount, {"from": depositor}))
            _send(lambda: token.approve(vault, amount, {"from": depositor}))
            send = lambda: vault.deposit(token, amount, {"from": depositor})
        if self._attempt(f"deposit {symbol}", None, send):
            self.balance[symbol] += amount

    def rule_mint(self, amount="st_mint"):
        self._mint(amount)

    def rule_mint_to_the_edge(self, edge="st_edge"):
        """The largest mint the reserve covers, or one wei more."""
        self._mint(edge)

    def _mint(self, amount):
        what = "mint" if isinstance(amount, int) else f"mint ({amount})"
        at = self._pin()
        stale = self._stale_error(at)
        if amount in ("headroom", "headroom+1"):
            headroom = max(self._headroom(at), 0) if stale is None else 1
            amount = max(headroom + (amount == "headroom+1"), 1)
        if stale:
            expected = stale
        elif not self._covers(self._value(at=at), self.supply + amount):
            expected = "ReserveVaultCoverageTooLow"
        else:
            expected = None
        minter, burner = self.roles["minter"], self.roles["burner"]
        tx = self._attempt(what, expected, lambda: self.kgst.mint(burner, amount, fresh_ref("stateful"), {"from": minter}))
        if tx:
            assert tx.timestamp == at
            self.supply += amount
            self.burner_balance += amount
            self.minted_at = at

    def rule_burn(self, amount="st_burn"):
        """Redemptions never ask the vault: they go through even while inputs are stale."""
        amount = self.burner_balance if amount == "all" else min(amount, self.burner_balance)
        if not amount:
            return
        burner = self.roles["burner"]
        if self._attempt("burn", None, lambda: self.kgst.burn(amount, keccak(text="stateful-redemption"), {"from": burner})):
            self.supply -= amount
            self.burner_balance -= amount

    def rule_withdraw(self, symbol="st_asset", amount="st_withdraw"):
        self._withdraw(symbol, amount)

    def rule_withdraw_at_the_coverage_edge(self, symbol="st_asset"):
        """One more than the largest withdrawal that keeps coverage, then exactly that. A mint
        first takes the supply to what the reserve covers without half of what may go today
        (half the balance or of the cap left), so that coverage, not balance or cap, binds."""
        at = latest_time() + 63  # as in _withdraw: scheduled at latest + 1, executed 62 s later
        if self._stale_error(at) is None:
            withdrawn = self.withdrawn[symbol] if self.day[symbol] == at // DAY else 0
            half = min(self.balance[symbol], self.config[symbol]["cap"] - withdrawn) // 2
            target = self._value({**self.balance, symbol: self.balance[symbol] - half}, at) * BPS // self.min_coverage
            if half and target > self.supply:
                self._mint(target - self.supply)
        self._withdraw(symbol, "coverage-edge+1")
        self._withdraw(symbol, "coverage-edge")

    def rule_withdraw_at_the_daily_cap(self, symbol="st_asset"):
        """One more than what is left of today's cap, then exactly that."""
        self._withdraw(symbol, "cap-left+1")
        self._withdraw(symbol, "cap-left")

    def _withdraw(self, symbol, amount):
        asset, balance, cap = self.address[symbol], self.balance[symbol], self.config[symbol]["cap"]
        manager, reserve_manager = self.roles["manager"], self.roles["reserve_manager"]
        # The execution delay: scheduled at `scheduled`, executed 62 s later at `at` (both pinned).
        scheduled = latest_time() + 1
        at = scheduled + 62
        today = at // DAY
        withdrawn = self.withdrawn[symbol] if self.day[symbol] == today else 0
        amount_kind = amount
        if amount == "all":
            amount = balance
        elif amount == "half":
            amount = balance // 2
        elif amount in ("cap-left", "cap-left+1"):
            amount = cap - withdrawn + (amount == "cap-left+1")
        elif amount in ("coverage-edge", "coverage-edge+1"):
            amount = self._coverage_edge(symbol, at) + (amount == "coverage-edge+1")
        else:
            amount *= LOT[symbol]
        after = {**self.balance, symbol: balance - amount}

        if amount == 0:
            expected = "ReserveVaultZeroAmount"
        elif amount > balance:
            expected = "ReserveVaultInsufficientReserve"
        elif withdrawn + amount > cap:
            expected = "ReserveVaultDailyCapExceeded"
        elif self.supply and self._stale_error(at, after):
            expected = self._stale_error(at, after)
        elif self.supply and not self._covers(self._value(after, at), self.supply):
            expected = "ReserveVaultCoverageTooLow"
        else:
            expected = None

        data = self.vault.withdraw.encode_input(asset, self.depositor, amount)
        pin_next_block(scheduled)
        _send(lambda: manager.schedule(self.vault, data, 0, {"from": reserve_manager}))
        pin_next_block(at)
        what = f"withdraw {symbol}" + ("" if isinstance(amount_kind, int) else f" ({amount_kind})")
        tx = self._attempt(what, expected, lambda: manager.execute(self.vault, data, {"from": reserve_manager}))
        if tx:
            assert tx.timestamp == at
            self.balance[symbol] -= amount
            self.withdrawn[symbol], self.day[symbol] = withdrawn + amount, today
        else:  # the refused operation stays scheduled: take it back
            _send(lambda: manager.cancel(reserve_manager, self.vault, data, {"from": reserve_manager}))

    def rule_move_price(self, symbol="st_asset", factor="st_price_factor"):
        answer = max(self.answer[symbol] * factor // BPS, 1)
        poker = self.roles["poker"]
        tx = self._attempt(f"price {symbol}", None, lambda: self.feeds[symbol].updateAnswer(answer, {"from": poker}))
        self.answer[symbol], self.updated[symbol] = answer, tx.timestamp

    def rule_move_rate(self, change="st_rate_change"):
        """A rate update: within the window's bound it goes through, beyond it reverts."""
        step = self.rate * abs(change) // BPS
        rate = self.rate + step if change >= 0 else self.rate - step
        at = self._pin()
        window_rate, window_start = self.window_rate, self.window_start
        if at >= window_start + DAY:  # no window open: this update opens one at the current rate
            window_rate, window_start = self.rate, at
        within = abs(rate - window_rate) * BPS <= window_rate * self.rate_max_change
        expected = None if within else "ReserveVaultRateJumpTooLarge"
        tx = self._attempt("setRate", expected, lambda: self.vault.setRate(rate, {"from": self.roles["rate_setter"]}))
        if tx:
            self.rate, self.rate_updated = rate, tx.timestamp
            self.window_rate, self.window_start = window_rate, window_start

    def rule_attest(self, amount="st_attestation"):
        at = self._pin()
        attestor = self.roles["attestor"]
        report = keccak(text=f"stateful-statement-{at}")
        send = lambda: self.vault.attest(amount, at, report, "ipfs://stateful", {"from": attestor})
        tx = self._attempt("attest", None, send)
        self.attested, self.as_of = amount, tx.timestamp

    def rule_set_min_coverage(self, bps="st_min_coverage"):
        admin = self.roles["reserve_admin"]
        self._attempt("setMinCoverage", None, lambda: self.vault.setMinCoverage(bps, {"from": admin}))
        self.min_coverage = bps

    def rule_wait(self, seconds="st_wait", refresh="st_refresh"):
        """Time passes; the oracles may answer again (same price, same rate) or not."""
        chain.sleep(seconds)
        chain.mine()
        if refresh in ("feeds", "all"):
            for symbol in ASSETS:
                self.rule_move_price(symbol, BPS)
        if refresh in ("rate", "all"):
            self.rule_move_rate(0)

    @staticmethod
    def _raises(view):
        try:
            view()
        except VirtualMachineError:
            return True
        return False

    # --- Invariants ---

    def invariant_gate_holds(self):
        vault, kgst = self.vault, self.kgst
        supply = kgst.totalSupply()
        assert supply == self.supply, "KGST supply differs from the model"
        for symbol in ASSETS:
            assert vault.asset(self.address[symbol])[4] == self.balance[symbol], f"{symbol} balance differs from the model"

        now = latest_time()
        errors = {self._stale_error(t) for t in (now, now + 5)}
        if None not in errors:  # stale whatever second the node values at: the view fails closed
            assert self._raises(vault.reserveValue), "reserve value answered with a stale rate or attestation"
        values = {self._value(at=t) for t in (now, now + 5)}
        if errors == {None} and len(values) == 1:  # the same answer whatever second the node values at
            value = vault.reserveValue()
            assert value == self._value(at=now), "reserve value differs from the model"
            assert (vault.rate()[0], vault.rateWindow()[0]) == (self.rate, self.window_rate), "rate window differs"
            self.tally["(reserve value == model)"] += 1
            if self.minted_at is not None and self._value(at=self.minted_at) == value:
                self.tally["(coverage after a mint, on chain)"] += 1
                assert self._stale_error(self.minted_at) is None
                assert value * BPS >= supply * vault.minCoverage(), "a mint left the supply beyond the reserve"
        if self.minted_at is not None:  # in the model, at the mint's own timestamp
            assert self._covers(self._value(at=self.minted_at), self.supply), "the model let a mint exceed coverage"
        self.minted_at = None
        self.tally["(invariant checks)"] += 1


def test_reserve_gate_stateful(
    state_machine,
    vault,
    kgst,
    feeds,
    tokens,
    reserve_assets,
    manager,
    minter,
    burner,
    rate_setter,
    attestor,
    reserve_admin,
    reserve_manager,
    stranger,
    carol,
):
    roles = {
        "minter": minter,
        "burner": burner,
        "rate_setter": rate_setter,
        "attestor": attestor,
        "reserve_admin": reserve_admin,
        "reserve_manager": reserve_manager,
        "manager": manager,
        "poker": stranger,  # moves the mock feeds
    }
    state_machine(CoverageMachine, vault, kgst, feeds, tokens, reserve_assets, roles, carol, settings=SETTINGS)
