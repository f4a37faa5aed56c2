"""The rules' parameters: brownie-config.yaml defaults, a rules file over them, USD at the rate or
som as given, and refusals of what would silently weaken a rule."""

from __future__ import annotations

from decimal import Decimal

import pytest

from somstack.core.config import load_settings
from somstack.core.errors import ConfigError, InputError
from somstack.monitor.scan import monitor_config
from somstack.monitor.settings import RULES, load_rules


def test_config_defaults_are_the_issue_s():
    rules = load_rules(monitor_config(load_settings().raw))
    assert rules.rate == Decimal("87.45")
    assert rules.min_som("large_no_reference") == pytest.approx(87_450)
    assert rules.param("sanctions_indirect", "hops") == 3 and rules.param("sanctions_indirect", "min_share") == 0.10
    assert rules.param("structuring", "min_count") == 3 and rules.param("round_trip", "max_hops") == 4
    assert all(rules.enabled(rule) for rule in RULES)


def test_rules_file_overrides_and_converts(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text("rules:\n  threshold_usd: 3000\n  velocity: {min_som: 500000, multiple: 20}\n  fan_in: {enabled: false}\n")
    rules = load_rules({}, path, Decimal(100))
    assert rules.min_som("structuring") == 300_000  # 3,000 USD at 100 som/USD
    assert rules.min_som("velocity") == 500_000 and rules.param("velocity", "multiple") == 20
    assert rules.param("velocity", "min_usd") == 5_000
    assert not rules.enabled("fan_in")


@pytest.mark.parametrize("text, message", [
    ("pass_thru: {share: 0.5}\n", "unknown rule 'pass_thru'"),
    ("velocity: {multipel: 3}\n", "unknown parameter 'velocity.multipel'"),
    ("velocity: [1, 2]\n", "must be a mapping"),
    ("- just a list\n", "must be a mapping of rules"),
    ("velocity: {multiple: -2}\n", "must be a positive number"),
    ("velocity: {severity: urgent}\n", "severity must be one of"),
    ("round_trip: {max_hops: 6}\n", "max_hops must be 2 to 4"),
    ("velocity: {multiple: [\n", "not YAML"),
])
def test_rules_file_refusals(tmp_path, text, message):
    path = tmp_path / "rules.yaml"
    path.write_text(text)
    with pytest.raises((InputError, ConfigError), match=message.replace("(", r"\(").replace("[", r"\[")):
        load_rules({}, path, Decimal(100))


def test_unknown_config_setting_refused():
    with pytest.raises(ConfigError, match="unknown setting"):
        load_rules({"rate": 80})
