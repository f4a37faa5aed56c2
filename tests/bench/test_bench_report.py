"""The report builder of `make bench` (somstack.dev.bench) and the committed report it wrote: the
parts that do not need a benchmark run, so that the bench code cannot rot unnoticed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from somstack.dev.bench import (
    TARGETS,
    Results,
    Row,
    Timing,
    build_report,
    results_from_json,
    target_outcomes,
)

RESULTS = "benchmarks/results/gas.json"
TARGET = TARGETS[0]


@pytest.fixture
def tiny():
    results = Results(meta={"generated": "2026-01-01 00:00:00Z", "cores": 2})
    results.rows = [
        Row(TARGET.section, TARGET.operation, TARGET.limit + 500, oz=30_000, solady=40_000, note="n"),
        Row("Other", "no reference", 1_000),
    ]
    results.speed["make test"] = Timing([30.0, 10.0, 20.0], note="3 runs")
    return results


def test_row_ratio_is_ours_over_reference():
    row = Row("S", "op", 45_000, oz=30_000, solady=None)
    assert (row.ratio_oz, row.ratio_solady) == (1.5, None)


def test_target_missed_reports_the_excess(tiny):
    outcome = next(t for t in target_outcomes(tiny) if t["key"] == TARGET.key)
    assert (outcome["met"], outcome["margin"]) == (False, -500)


def test_target_without_its_row_is_not_met(tiny):
    outcomes = {t["key"]: t for t in target_outcomes(tiny)}
    assert all(not outcomes[t.key]["met"] and outcomes[t.key]["ours"] is None for t in TARGETS[1:])


def test_markdown_shows_miss_ratio_and_median(tiny):
    markdown, _data = build_report(tiny)
    assert f"**missed** by 500" in markdown
    assert f"| {TARGET.operation} | {TARGET.limit + 500:,} | 30,000 | 40,000 | {(TARGET.limit + 500) / 30_000:.2f} |" in markdown
    assert "| make test | 20.00 s | 3 |" in markdown


def test_json_twin_carries_rows_targets_and_speed(tiny):
    _markdown, data = build_report(tiny)
    assert data["rows"][0]["ratio_oz"] == round((TARGET.limit + 500) / 30_000, 2)
    assert [t["key"] for t in data["targets"]] == [t.key for t in TARGETS]
    assert data["speed"]["make test"] == {"median_s": 20.0, "runs": 3, "samples_s": [30.0, 10.0, 20.0], "note": "3 runs"}


def test_committed_report_has_every_target_measured(settings):
    data = json.loads((settings.root / RESULTS).read_text())
    assert data["schema"] == 1
    assert {t["key"]: t["ours"] is not None for t in data["targets"]} == {t.key: True for t in TARGETS}


def test_committed_report_states_run_counts(settings):
    data = json.loads((settings.root / RESULTS).read_text())
    assert all(isinstance(s["runs"], int) for s in data["speed"].values())
    assert data["meta"]["cores"] >= 1


def test_the_committed_report_is_rebuilt_the_same_from_its_json():
    """`bench --only make-test` rewrites gas.md from gas.json with one row changed: the JSON holds
    everything the report is built from."""
    root = Path(__file__).resolve().parents[2]
    data = json.loads((root / RESULTS).read_text())
    markdown, again = build_report(results_from_json(data))
    assert again == data
    assert markdown == (root / RESULTS).with_suffix(".md").read_text()
