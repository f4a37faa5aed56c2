"""Every rule of the monitor on both sides of its threshold (rate 100 som/USD: 1,000 USD is
100,000 som), and what all alerts share: stable ids, one alert per pattern."""

from __future__ import annotations

import pytest
from monitorlib import DAY, HOUR, REF, T0, THRESHOLD, History, addr, rules_of

from somstack.monitor.transfers import ZERO

A, B, C, D, E, L = addr(0xA), addr(0xB), addr(0xC), addr(0xD), addr(0xE), addr(0x99)


# --- sanctions_direct ---


def test_sanctions_direct_flags_both_directions_once_per_pair(tmp_path):
    h = History()
    h.add(T0, L, A, 10, reference=REF)
    h.add(T0 + 60, L, A, 20, reference=REF)
    h.add(T0 + 120, B, L, 5, reference=REF)
    alerts = rules_of(h.scan(tmp_path, listed=[L], only=["sanctions_direct"]), "sanctions_direct")
    subjects = sorted(a.addresses[0].lower() for a in alerts)
    assert subjects == [A, B]
    received = next(a for a in alerts if a.addresses[0].lower() == A)
    assert len(received.tx_hashes) == 2 and received.severity == "critical"
    assert received.addresses[1].lower() == L


def test_sanctions_direct_ignores_unlisted_and_mints(tmp_path):
    h = History()
    h.mint(T0, L, 1_000_000)  # the zero address is never a counterparty
    h.add(T0 + 1, A, B, 10)
    assert h.scan(tmp_path, listed=[L], only=["sanctions_direct"]) == []


# --- sanctions_indirect ---


def _chain(h: History, share_clean: float) -> None:
    # L pays A 10,000; A also holds clean money; A pays B; B pays C; C pays D (hop 4)
    h.mint(T0, A, share_clean)
    h.add(T0 + 10, L, A, 10_000, reference=REF)
    h.add(T0 + 20, A, B, 5_000, reference=REF)
    h.add(T0 + 30, B, C, 5_000, reference=REF)
    h.add(T0 + 40, C, D, 5_000, reference=REF)


def test_sanctions_indirect_flags_hops_two_and_three_at_ten_percent(tmp_path):
    h = History()
    _chain(h, 90_000)  # A's arrivals: 10,000 tainted of 100,000 = 10%: at the threshold
    alerts = rules_of(h.scan(tmp_path, listed=[L], only=["sanctions_indirect"]), "sanctions_indirect")
    by_subject = {a.addresses[0].lower(): a for a in alerts}
    assert set(by_subject) == {B, C}  # D is 4 hops away
    assert by_subject[B].extra["hop"] == 2 and by_subject[C].extra["hop"] == 3
    assert by_subject[B].extra["max_share"] == pytest.approx(0.10)


def test_sanctions_indirect_ignores_a_share_under_ten_percent(tmp_path):
    h = History()
    _chain(h, 91_000)  # 10,000 of 101,000 = 9.9%
    assert h.scan(tmp_path, listed=[L], only=["sanctions_indirect"]) == []


def test_sanctions_indirect_counts_only_funds_arrived_before(tmp_path):
    h = History()
    h.add(T0, A, B, 5_000, reference=REF)  # A paid B before the tainted funds arrived
    h.add(T0 + 10, L, A, 10_000, reference=REF)
    assert h.scan(tmp_path, listed=[L], only=["sanctions_indirect"]) == []


def test_sanctions_indirect_hops_setting_limits_depth(tmp_path):
    h = History()
    _chain(h, 0)
    alerts = h.scan(tmp_path, listed=[L], overrides={"sanctions_indirect": {"hops": 2}}, only=["sanctions_indirect"])
    assert [a.addresses[0].lower() for a in alerts] == [B]


# --- large_no_reference ---


@pytest.mark.parametrize("amount, reference, flagged", [
    (THRESHOLD, "", True),
    (THRESHOLD - 0.01, "", False),
    (THRESHOLD * 5, REF, False),
])
def test_large_no_reference_threshold(tmp_path, amount, reference, flagged):
    h = History()
    h.add(T0, A, B, amount, reference=reference)
    alerts = h.scan(tmp_path, only=["large_no_reference"])
    assert bool(alerts) is flagged
    if flagged:
        assert alerts[0].addresses[0].lower() == A and alerts[0].amount_usd == pytest.approx(1000.0)


def test_large_no_reference_one_alert_per_sender_day(tmp_path):
    h = History()
    for i in range(3):
        h.add(T0 + i * HOUR, A, addr(100 + i), THRESHOLD * 2)
    h.add(T0 + DAY, A, B, THRESHOLD * 2)
    h.mint(T0, B, THRESHOLD * 10)  # a mint is not a payment
    alerts = h.scan(tmp_path, only=["large_no_reference"])
    assert [len(a.tx_hashes) for a in alerts] == [3, 1]


def test_large_no_reference_som_threshold_from_rules(tmp_path):
    h = History()
    h.add(T0, A, B, 50_000)
    assert h.scan(tmp_path, overrides={"large_no_reference": {"min_som": 50_000}}, only=["large_no_reference"])
    assert not h.scan(tmp_path, overrides={"large_no_reference": {"min_som": 50_001}}, only=["large_no_reference"])


# --- structuring ---


def _structure(h: History, amounts, spacing: int, src=A, dsts=None) -> None:
    for i, amount in enumerate(amounts):
        h.add(T0 + i * spacing, src, (dsts or [B] * len(amounts))[i], amount)


@pytest.mark.parametrize("amounts, spacing, flagged", [
    ([80_000, 90_000, 99_999.99], 8 * HOUR, True),   # three in the band within 24 h
    ([80_000, 90_000], 8 * HOUR, False),              # two
    ([79_999.99, 90_000, 99_999], 8 * HOUR, False),   # one under 80 %
    ([80_000, 90_000, 100_000], 8 * HOUR, False),     # one at the threshold (reported anyway)
    ([80_000, 90_000, 99_000], 12 * HOUR + 1, False),  # spread over more than 24 h
])
def test_structuring_outgoing(tmp_path, amounts, spacing, flagged):
    h = History()
    _structure(h, amounts, spacing)
    alerts = h.scan(tmp_path, only=["structuring"])
    assert bool(alerts) is flagged
    if flagged:
        assert len(alerts) == 1 and alerts[0].extra["side"] == "out" and alerts[0].addresses[0].lower() == A


def test_structuring_incoming_from_several_senders(tmp_path):
    h = History()
    for i, src in enumerate([C, D, E]):
        h.add(T0 + i * HOUR, src, B, 95_000)
    alerts = h.scan(tmp_path, only=["structuring"])
    assert [(a.extra["side"], a.addresses[0].lower()) for a in alerts] == [("in", B)]


# --- velocity ---


def _velocity(h: History, spike: float, days: int = 10) -> None:
    for d in range(days):
        h.add(T0 + d * DAY, A, addr(200 + d), 10_000, reference=REF)
    h.add(T0 + days * DAY, A, B, spike, reference=REF)


def test_velocity_flags_a_day_over_ten_times_the_median(tmp_path):
    h = History()
    _velocity(h, 100_001)  # > 10 x 10,000 and over 100,000
    alerts = h.scan(tmp_path, only=["velocity"])
    assert len(alerts) == 1 and alerts[0].addresses[0].lower() == A


@pytest.mark.parametrize("spike, days", [(100_000, 10), (150_000, 4)])
def test_velocity_below_multiple_or_without_history(tmp_path, spike, days):
    h = History()
    _velocity(h, spike, days)  # exactly 10 x the median; or only 4 active days of history
    assert h.scan(tmp_path, only=["velocity"]) == []


def test_velocity_needs_the_amount_threshold(tmp_path):
    h = History()
    for d in range(10):
        h.add(T0 + d * DAY, A, addr(200 + d), 100, reference=REF)
    h.add(T0 + 10 * DAY, A, B, 99_999, reference=REF)  # 1,000 x the median, under 1,000 USD
    assert h.scan(tmp_path, only=["velocity"]) == []


# --- pass_through ---


@pytest.mark.parametrize("out_amount, delay, flagged", [
    (90_000, HOUR, True),
    (89_999, HOUR, False),
    (95_000, HOUR + 1, False),
])
def test_pass_through(tmp_path, out_amount, delay, flagged):
    h = History()
    h.add(T0, C, A, 100_000, reference=REF)
    h.add(T0 + delay // 2, A, D, out_amount / 2, reference=REF)
    h.add(T0 + delay, A, E, out_amount / 2, reference=REF)
    alerts = h.scan(tmp_path, only=["pass_through"])
    assert bool(alerts) is flagged
    if flagged:
        assert alerts[0].addresses[0].lower() == A and len(alerts[0].tx_hashes) == 3


def test_pass_through_ignores_arrivals_under_threshold(tmp_path):
    h = History()
    h.add(T0, C, A, 99_999, reference=REF)
    h.add(T0 + 60, A, D, 99_999, reference=REF)
    assert h.scan(tmp_path, only=["pass_through"]) == []


# --- fan_in / fan_out ---


@pytest.mark.parametrize("rule", ["fan_in", "fan_out"])
@pytest.mark.parametrize("count, each, flagged", [(10, 10_000, True), (9, 20_000, False), (10, 9_999, False)])
def test_fan(tmp_path, rule, count, each, flagged):
    h = History()
    for i in range(count):
        other = addr(300 + i)
        if rule == "fan_in":
            h.add(T0 + i * HOUR, other, A, each, reference=REF)
        else:
            h.add(T0 + i * HOUR, A, other, each, reference=REF)
    alerts = h.scan(tmp_path, only=[rule])
    assert bool(alerts) is flagged
    if flagged:
        assert len(alerts) == 1 and alerts[0].addresses[0].lower() == A and alerts[0].extra["max_counterparties"] == 10


def test_fan_out_window_is_24_hours(tmp_path):
    h = History()
    for i in range(10):
        h.add(T0 + i * 3 * HOUR, A, addr(300 + i), 20_000, reference=REF)  # 27 h from first to last
    assert h.scan(tmp_path, only=["fan_out"]) == []


# --- round_trip ---


@pytest.mark.parametrize("hops", [2, 3, 4])
def test_round_trip_cycles_up_to_four_hops(tmp_path, hops):
    h = History()
    path = [A, B, C, D][:hops]
    for i in range(hops):
        h.add(T0 + i * HOUR, path[i], path[(i + 1) % hops], 200_000 - i * 10_000, reference=REF)
    alerts = h.scan(tmp_path, only=["round_trip"])
    assert len(alerts) == 1 and alerts[0].extra["hops"] == hops and alerts[0].addresses[0].lower() == A


@pytest.mark.parametrize("first, back, delay, flagged", [
    (100_000, 80_000, 72 * HOUR, True),
    (100_000, 79_999, HOUR, False),      # less than 80 % returns
    (99_999, 99_999, HOUR, False),       # under the threshold
    (100_000, 90_000, 72 * HOUR + 1, False),  # after 72 h
])
def test_round_trip_thresholds(tmp_path, first, back, delay, flagged):
    h = History()
    h.add(T0, A, B, first, reference=REF)
    h.add(T0 + delay, B, A, back, reference=REF)
    assert bool(h.scan(tmp_path, only=["round_trip"])) is flagged


def test_round_trip_five_hops_not_flagged(tmp_path):
    h = History()
    path = [A, B, C, D, E]
    for i in range(5):
        h.add(T0 + i * HOUR, path[i], path[(i + 1) % 5], 200_000, reference=REF)
    assert h.scan(tmp_path, only=["round_trip"]) == []


# --- all rules ---


def test_zero_address_never_a_counterparty(tmp_path):
    h = History()
    for i in range(12):
        h.mint(T0 + i, addr(400 + i), 200_000)  # the zero address "fans out"
        h.add(T0 + 100 + i, addr(400 + i), ZERO, 200_000)  # burns "fan in"
    assert h.scan(tmp_path, listed=[addr(400)]) == []


def test_rerun_writes_the_same_alerts(tmp_path):
    h = History()
    _chain(h, 0)
    _structure(h, [85_000, 86_000, 87_000], HOUR, src=E)
    first = h.scan(tmp_path, listed=[L])
    second = h.scan(tmp_path, listed=[L])
    assert first and [a.to_json() for a in first] == [a.to_json() for a in second]
    assert len({a.id for a in first}) == len(first)


def test_disabled_rule_raises_nothing(tmp_path):
    h = History()
    h.add(T0, A, B, THRESHOLD)
    assert h.scan(tmp_path, overrides={"large_no_reference": {"enabled": False}}) == []


def test_exempt_subject_drops_a_typology_alert_only(tmp_path):
    h = History()
    for i in range(10):
        h.add(T0 + i * HOUR, A, addr(300 + i), 10_000, reference=REF)  # A's payroll: a fan-out
    h.add(T0, L, A, 10, reference=REF)
    assert len(h.scan(tmp_path, listed=[L], only=["fan_out", "sanctions_direct"])) == 2
    alerts = h.scan(tmp_path, listed=[L], overrides={"fan_out": {"exempt": [A]}}, only=["fan_out", "sanctions_direct"])
    assert [a.rule for a in alerts] == ["sanctions_direct"]


def test_sanctions_rules_take_no_exemption(tmp_path):
    from somstack.core.errors import ConfigError

    with pytest.raises(ConfigError, match="take no exemptions"):
        History().scan(tmp_path, overrides={"sanctions_direct": {"exempt": [A]}})
