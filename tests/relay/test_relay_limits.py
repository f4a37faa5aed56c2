"""The per-sender rate limits on their own, with a clock the test sets (no chain, no sleeping)."""

from __future__ import annotations

from somstack.relay.server import SenderLimits, TokenBucket


def test_a_bucket_is_full_again_once_refilled_at_now():
    bucket = TokenBucket(rate=1.0, burst=3.0)
    assert bucket.full(0.0)  # never used
    assert bucket.take(0.0) and bucket.take(0.0)
    assert not bucket.full(0.5)  # 1 + 0.5 of 3
    assert not bucket.full(1.9)
    assert bucket.full(2.0)  # refilled, though take() was not called since


def test_idle_senders_are_forgotten_and_busy_ones_kept():
    limits = SenderLimits(rate=1.0, burst=3.0, floor=4)
    for n in range(4):
        assert limits.take(f"s{n}", now=0.0)
    limits.take("s0", now=0.0)
    limits.take("s0", now=0.0)  # s0 is out of tokens: it must be remembered
    assert len(limits.buckets) == 4
    assert limits.take("s4", now=1.0)  # the pruning comes here: s1..s3 are not yet full at 1 s
    assert set(limits.buckets) == {"s0", "s1", "s2", "s3", "s4"}
    assert limits.prune_at == 8
    for n in range(5, 8):
        limits.take(f"s{n}", now=1.0)
    assert limits.take("s8", now=100.0)  # everybody has refilled by now
    assert set(limits.buckets) == {"s8"}
    assert limits.prune_at == 4  # back to the floor
    assert limits.take("s0", now=100.0)  # a forgotten sender starts with a full bucket


def test_a_sender_out_of_tokens_is_not_reset_by_the_pruning():
    limits = SenderLimits(rate=0.001, burst=2.0, floor=2)
    assert limits.take("busy", now=0.0) and limits.take("busy", now=0.0)
    assert limits.take("other", now=0.0)
    assert not limits.take("busy", now=1.0)  # the pruning at 2 entries kept it empty
