"""Operator safety without a chain (issue 16): amounts never guessed, what an interrupt says,
and a demo that never writes the operator's manifest."""

from __future__ import annotations

import os

import pytest

from somstack.core import journal
from somstack.dev.demo import Demo
from somstack.ops.cbdc import CbdcInputError, parse_som


@pytest.mark.parametrize("text", ["150,50", "1.234,5", "1,234.50", "1 234", "1\u00a0234", "150 som", "150 сом", "KGS 150", "$150",
                                  "1.234.5", "1_000"])
def test_plain_amounts_refuse_separators_and_currency_signs_as_ambiguous(text):
    with pytest.raises(CbdcInputError, match="is ambiguous"):
        parse_som(text, 2, "amount")


@pytest.mark.parametrize("fmt, text, units", [
    ("plain", "150.50", 15_050), ("plain", "150", 15_000),
    ("decimal-comma", "150,50", 15_050), ("decimal-comma", "1.234,5", 123_450), ("decimal-comma", "1 234 567,89 сом", 123_456_789),
    ("decimal-point", "1,234.5", 123_450), ("decimal-point", "1,234,567", 123_456_700), ("decimal-point", "KGS 12.5", 1_250),
])
def test_an_explicit_format_reads_what_was_written(fmt, text, units):
    assert parse_som(text, 2, "amount", fmt) == units


@pytest.mark.parametrize("fmt, text", [("decimal-comma", "1.234.5"), ("decimal-comma", "1.23,5"), ("decimal-point", "1,23,4"),
                                       ("decimal-point", "1.234,5"), ("decimal-comma", "1 234.567,5")])
def test_an_explicit_format_refuses_what_does_not_fit_it(fmt, text):
    with pytest.raises(CbdcInputError, match=f"in the {fmt} format"):
        parse_som(text, 2, "amount", fmt)


def test_interrupt_lines_list_mined_and_pending_then_the_resume_command():
    j = journal.Journal()
    j.sent("batch 1", "0x01")
    j.seen("0x01", 7, True)
    j.sent("batch 2", "0x02")
    lines = journal.interrupt_lines("somstack cbdc disburse p.csv --payroll X", j)
    assert lines[0] == "Interrupted: this run sent 2 transaction(s): 1 mined, 0 reverted, 1 pending (sent, not yet seen mined)"
    assert "  mined: batch 1: 0x01 (block 7)" in lines and "  pending: batch 2: 0x02" in lines
    assert lines[-1] == "resume with: somstack cbdc disburse p.csv --payroll X"


def test_interrupt_lines_list_20_of_each_then_a_count():
    j = journal.Journal()
    for i in range(50):
        j.sent(f"tx {i}", f"0x{i:02x}")
        j.seen(f"0x{i:02x}", i, True)
    lines = journal.interrupt_lines("again", j)
    assert len([line for line in lines if line.startswith("  mined: ")]) == 20 and "  ... and 30 more mined" in lines


def test_the_demo_writes_its_manifest_in_its_own_folder_and_restores_the_environment(monkeypatch, settings):
    monkeypatch.setenv("SOMSTACK_DEPLOYMENTS_DIR", "/somewhere/else")
    seen = []
    monkeypatch.setattr(Demo, "_run", lambda self: seen.append(os.environ["SOMSTACK_DEPLOYMENTS_DIR"]) or {})
    Demo(lambda _m: None).run()
    assert seen == [str(settings.root / "build" / "demo" / "deployments")]
    assert os.environ["SOMSTACK_DEPLOYMENTS_DIR"] == "/somewhere/else"


@pytest.mark.parametrize("tier", ["²", "١", "１"])
def test_register_many_file_with_a_unicode_digit_tier_is_a_refused_row_not_a_crash(tmp_path, tier):
    """`"²".isdigit()` is true and `int("²")` raises (the relayer's finding 1, on the wallets file)."""
    from somstack.ops.cbdc import read_wallets

    good = f"0x{'11' * 20},1,0x{'aa' * 32},0x{'bb' * 32}"
    bad = f"0x{'22' * 20},{tier},0x{'cc' * 32},0x{'dd' * 32}"
    path = tmp_path / "wallets.csv"
    path.write_text(f"address,tier,kyc_hash,identity_hash\n{good}\n{bad}\n")
    rows, problems = read_wallets(path)
    assert [r.row for r in rows] == [2]
    assert [(p.row, p.text) for p in problems] == [(3, f"tier: '{tier}' is not a tier id (1 to 127)")]
