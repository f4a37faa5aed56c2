"""`somstack monitor synth` and the quality measure on a small history: every planted instance
found, the same seed writes the same files, the bench report renders its tables."""

from __future__ import annotations

import json

from somstack.cli import main
from somstack.core.config import load_settings
from somstack.dev.monitorbench import render
from somstack.monitor.scan import default_rules
from somstack.monitor.settings import RULES
from somstack.monitor.synth import evaluate, generate


def test_synth_plants_every_typology_and_scan_finds_them_all(tmp_path):
    made = generate(tmp_path / "a", seed=7, background=5_000, per_rule=2)
    assert {label["rule"] for label in made.labels} == set(RULES)
    quality = evaluate(tmp_path / "a", default_rules(load_settings().raw), threads=1)
    assert quality.missed == []
    assert all(s["recall"] == 1.0 for s in quality.per_rule.values())
    assert quality.false_alerts == 0
    meta = {"generated": "now", "platform": "test", "cores": 2}
    text = render([{"rows": quality.rows, "background": quality.background, "seconds": quality.seconds, "peak_bytes": 1 << 20,
                    "per_rule": quality.per_rule, "false_alerts": quality.false_alerts, "false_per_10k": quality.false_per_10k}], meta)
    assert "| round_trip | 2 | 2 | 100% |" in text


def test_synth_same_seed_same_files(tmp_path, capsys):
    for name in ("a", "b"):
        assert main(["monitor", "synth", "--seed", "3", "--transfers", "1000", "--out", str(tmp_path / name)]) == 0
    for file in ("transfers.csv", "blocklist.csv", "labels.json"):
        assert (tmp_path / "a" / file).read_bytes() == (tmp_path / "b" / file).read_bytes()
    assert json.loads((tmp_path / "a" / "labels.json").read_text())["seed"] == 3
    assert "planted instances" in capsys.readouterr().out


def test_quality_command_prints_the_table(tmp_path, capsys):
    generate(tmp_path / "d", seed=5, background=2_000, per_rule=1)
    assert main(["monitor", "quality", "--dir", str(tmp_path / "d")]) == 0
    out = capsys.readouterr().out
    assert "| sanctions_indirect | 2 | 2 | 100% |" in out and "false alert(s)" in out
