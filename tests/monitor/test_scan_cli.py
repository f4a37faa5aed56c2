"""`somstack monitor scan`: the transfers file refused row by row, the blocklist, --rules and
--rate, the alerts file (one JSON object a line, the same on a rerun)."""

from __future__ import annotations

import json

import pytest

from monitorlib import HOUR, REF, T0, History, addr
from clihelp import assert_one_line_error as one_line_error
from clihelp import run
from somstack.monitor.transfers import HEADER, SHOWN

A, B, L = addr(0xA), addr(0xB), "0x" + "99" * 20
GOOD = f"1,{T0},0x{'1' * 64},0,KGST,{A},{B},12.5,"


def _file(tmp_path, *rows, header=",".join(HEADER)):
    path = tmp_path / "t.csv"
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


@pytest.mark.parametrize("row, why", [
    (GOOD.replace(",KGST,", ",USDT,"), "token must be KGST or DSOM"),
    (GOOD.replace("12.5", "1e3"), "amount must be whole tokens"),
    (GOOD.replace("12.5", "-4"), "amount must be whole tokens"),
    (GOOD.replace("12.5", "1,000"), "expected 9 cells"),
    (GOOD.replace(",KGST,", ",DSOM,").replace("12.5", "1.234"), "amount 1.234 has more decimals than DSOM's 2"),
    (GOOD.replace(A, A[:-1]), "from must be an address"),
    (GOOD.replace(f",{T0},", ",yesterday,"), "timestamp must be unix seconds"),
    (GOOD + "REF123", "reference must be empty or 0x and 64 hex digits"),
    ('"' + GOOD + '"', "quotes are not accepted"),
    ("", "empty line"),
])
def test_scan_refuses_a_bad_row_with_its_number(tmp_path, capsys, row, why):
    path = _file(tmp_path, GOOD, row)
    code, _out, err = run(capsys, "monitor", "scan", "--transfers", str(path), "--out", str(tmp_path / "a.jsonl"))
    one_line_error(code, err, "1 of 2 rows refused", "nothing was scanned")
    assert f"t.csv: row 3: {why}" in err
    assert not (tmp_path / "a.jsonl").exists()


def test_scan_refuses_a_duplicate_event(tmp_path, capsys):
    path = _file(tmp_path, GOOD, GOOD)
    code, _out, err = run(capsys, "monitor", "scan", "--transfers", str(path), "--out", str(tmp_path / "a.jsonl"))
    one_line_error(code, err, "1 of 2 rows refused")
    assert "row 3: the event" in err and "already on row 2" in err


def test_scan_shows_the_first_twenty_refusals_and_counts_the_rest(tmp_path, capsys):
    bad = GOOD.replace(",KGST,", ",XXX,")
    path = _file(tmp_path, *([bad] * 25), GOOD)
    code, _out, err = run(capsys, "monitor", "scan", "--transfers", str(path), "--out", str(tmp_path / "a.jsonl"))
    one_line_error(code, err, "25 of 26 rows refused", "5 more not shown")
    assert sum(1 for line in err.splitlines() if ": row " in line) == SHOWN
    assert "row 21:" in err and "row 22:" not in err


def test_scan_refuses_a_wrong_header(tmp_path, capsys):
    path = _file(tmp_path, GOOD, header="block,timestamp,tx_hash,log_index,token,from,to,amount,reference")
    code, _out, err = run(capsys, "monitor", "scan", "--transfers", str(path), "--out", str(tmp_path / "a.jsonl"))
    one_line_error(code, err, "the header must be block_number,timestamp")


def test_scan_refuses_a_bad_blocklist(tmp_path, capsys):
    path = _file(tmp_path, GOOD)
    blocklist = tmp_path / "list.csv"
    blocklist.write_text("address,reason\n0x1234,OFAC\n")
    code, _out, err = run(capsys, "monitor", "scan", "--transfers", str(path), "--blocklist", str(blocklist), "--out", str(tmp_path / "a.jsonl"))
    one_line_error(code, err, "rows refused")
    assert "list.csv: row 2" in err


def test_scan_refuses_an_unknown_rule_parameter(tmp_path, capsys):
    path = _file(tmp_path, GOOD)
    rules = tmp_path / "rules.yaml"
    rules.write_text("structuring: {min_cuont: 2}\n")
    code, _out, err = run(capsys, "monitor", "scan", "--transfers", str(path), "--rules", str(rules), "--out", str(tmp_path / "a.jsonl"))
    one_line_error(code, err, "unknown parameter 'structuring.min_cuont'")


def test_scan_refuses_a_bad_rate(tmp_path, capsys):
    code, _out, err = run(capsys, "monitor", "scan", "--transfers", str(_file(tmp_path, GOOD)), "--rate", "-3", "--out", str(tmp_path / "a.jsonl"))
    one_line_error(code, err, "--rate must be a positive number")


def test_scan_writes_alerts_jsonl_the_same_on_a_rerun(tmp_path, capsys):
    h = History()
    h.add(T0, L, A, 10, reference=REF)
    h.add(T0 + HOUR, A, B, 100_000)  # 1,000 USD at 100 som/USD, no reference
    transfers = h.write(tmp_path / "t.csv")
    blocklist = tmp_path / "list.csv"
    blocklist.write_text(f"address,reason,source\n{L},OFAC-SDN-1,OFAC\n")
    rules = tmp_path / "rules.yaml"
    rules.write_text("sanctions_indirect: {enabled: false}\n")
    args = ["monitor", "scan", "--transfers", str(transfers), "--blocklist", str(blocklist), "--rules", str(rules), "--rate", "100"]
    code, out, _err = run(capsys, *args, "--out", str(tmp_path / "a.jsonl"))
    assert code == 0 and "2 alert(s)" in out
    records = [json.loads(line) for line in (tmp_path / "a.jsonl").read_text().splitlines()]
    assert sorted(r["rule"] for r in records) == ["large_no_reference", "sanctions_direct"]
    for record in records:
        assert list(record)[:10] == ["id", "rule", "severity", "score", "addresses", "tx_hashes", "first_seen", "last_seen",
                                     "amount_usd", "explanation"]
    assert next(r for r in records if r["rule"] == "large_no_reference")["amount_usd"] == 1000.0
    assert run(capsys, *args, "--out", str(tmp_path / "b.jsonl"))[0] == 0
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()
    # at the configured official rate (87.45 som/USD) 100,000 som is more than 1,000 USD
    code, _out, _err = run(capsys, *args[:-2], "--out", str(tmp_path / "c.jsonl"))
    assert "1143.51" in (tmp_path / "c.jsonl").read_text()


def test_check_accepts_crlf_and_a_bom_and_counts_rows(tmp_path):
    from somstack.monitor.transfers import check, check_rows

    rows = [GOOD, GOOD.replace("0x" + "1" * 64, "0x" + "2" * 64).replace(",KGST,", ",DSOM,").replace("12.5", "0.07")]
    for name, text in (("lf.csv", "\n".join([",".join(HEADER), *rows]) + "\n"),
                       ("crlf.csv", "\r\n".join([",".join(HEADER), *rows]) + "\r\n"),
                       ("bom.csv", "\ufeff" + "\n".join([",".join(HEADER), *rows]))):
        path = tmp_path / name
        path.write_text(text, newline="")
        assert check(path).rows == check_rows(path).rows == 2, name
