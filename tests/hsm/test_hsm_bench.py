"""The HSM part of `make bench` (somstack.dev.hsmbench), its pieces on the test session's token:
the signing loop counts real signatures, and the report has a figure in every cell."""

from __future__ import annotations

import re
import time

from somstack.dev import hsmbench


def test_the_signing_loop_counts_signatures_of_both_kinds(softhsm, hsm_key):
    hsm_key("bench")
    for what in ("raw", "transaction", "plain"):
        count, elapsed = hsmbench._sign_for(what, "bench", 0.2, time.time())
        assert count > 0 and 0.2 <= elapsed < 5


def test_the_report_gives_every_figure(tmp_path):
    sigs = {"raw": {1: 2100.4, 2: 3900.0}, "transaction": {1: 610.0, 2: 1000.2}, "plain": {1: 66.0, 2: 120.0}}
    relay = {"a plain key (--key-env)": {"accepted_per_s": 70.2, "confirmed_per_s": 66.0, "seconds": 15.2},
             "an HSM key (--hsm-key, SoftHSM2)": {"accepted_per_s": 69.0, "confirmed_per_s": 65.4, "seconds": 15.3}}
    meta = {"generated": "2026-12-06 21:00 UTC", "commit": "abc1234", "machine": "2 cores", "softhsm": "2.6.1", "pkcs11": "0.10.1"}
    text = hsmbench.write_hsm_report(tmp_path / "hsm.md", sigs, relay, meta).read_text()
    assert "| 2,100 | 3,900 |" in text and "| 610 | 1,000 |" in text and "| 66 | 120 |" in text
    assert re.search(r"\| an HSM key \(--hsm-key, SoftHSM2\) \| 69 \| 65 \| 15\.3 s \|", text)
    assert "1,000 authorizations from 100 senders" in text and "commit abc1234" in text
