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


def test_the_direct_eip712_digest_is_the_typed_data_one_and_recovers_the_signer():
    from eth_account import Account

    from somstack.core.signatures import Domain
    from somstack.relay import api, checks
    from somstack.relay.client import authorization

    domain = Domain("KGST", "1", 31337, "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0")
    account = Account.create()
    for kind in ("transfer", "receive"):
        body = authorization(account, domain, domain.verifying_contract, "0xAb8483F64d9C6d1EcF9b849Ae677dD3315835cb2",
                             10**18 + 7, 3600, kind=kind)
        auth = checks.parse(api.parse_request(body).model_dump(by_alias=True, exclude_none=True), domain.verifying_contract)
        assert checks.digest(domain, auth) == checks.typed_digest(domain, auth)
        assert checks.recover(domain, auth) == account.address
        other = Domain("KGST", "2", 31337, domain.verifying_contract)
        assert checks.recover(other, auth) != account.address
        for bad in (auth.signature[:64] + bytes([5]), bytes(32) + auth.signature[32:], b"\xff" * 65):
            assert checks.recover(domain, type(auth)(**{**auth.__dict__, "signature": bad})) != account.address
