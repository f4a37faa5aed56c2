"""somstack.deployment of brownie-config.yaml through pydantic models (somstack.core.config): the
project's settings read as before, and a bad field named by its path in one line."""

from __future__ import annotations

import copy

import pytest

from somstack.core.config import UNLIMITED, Settings
from somstack.core.errors import ConfigError


@pytest.fixture
def edited(settings):
    """A Settings whose somstack.deployment section the test edits (the file is not touched)."""

    def edit(change):
        raw = copy.deepcopy(settings.raw)
        change(raw["somstack"]["deployment"])
        return Settings(settings.root, raw)

    return edit


def test_the_project_config_reads_into_the_deployment_params(settings):
    params = settings.deployment("local")
    assert params.stablecoin.symbol == "KGST" and params.stablecoin.decimals == 18
    assert params.upgrade_delay == 60 and settings.deployment("bsc-test").upgrade_delay == 172_800  # overrides apply
    dsom = params.digital_currency
    assert [t.id for t in dsom.tiers] == [1, 2, 3, 10, 11]
    assert dsom.tier(1).holding_cap == 50_000 * 10**dsom.decimals and dsom.tier(1).name == "basic (phone KYC)"
    assert dsom.tier(10).holding_cap == UNLIMITED and not dsom.tier(10).capped
    assert dsom.payroll_max_total == 5_000_000_000 * 10**dsom.decimals
    assert params.dev_holders["PAUSER"] == [4, 5] and "assets" in params.reserve


def test_a_tier_without_a_name_is_named_by_its_id(edited):
    settings = edited(lambda d: d["digital_currency"]["tiers"][2].pop("name"))
    assert settings.deployment("local").digital_currency.tier(2).name == "tier 2"


def test_unlimited_payroll_ceiling_is_none(edited):
    settings = edited(lambda d: d["digital_currency"]["payroll"].update(max_row="Unlimited", max_total=None))
    dsom = settings.deployment("local").digital_currency
    assert dsom.payroll_max_row is None and dsom.payroll_max_total is None


@pytest.mark.parametrize("change, message", [
    (lambda d: d["digital_currency"]["tiers"][2].__setitem__("holding_cap", "lots"),
     "somstack.deployment.digital_currency.tiers.2.holding_cap: must be a whole number of som or 'unlimited', not 'lots'"),
    (lambda d: d["digital_currency"]["tiers"].__setitem__(200, {"holding_cap": 1, "transfer_limit": 1, "daily_limit": 1}),
     "somstack.deployment.digital_currency.tiers.200: Input should be less than or equal to 127"),
    (lambda d: d.pop("upgrade_delay"), "somstack.deployment.upgrade_delay: Field required"),
    (lambda d: d.__setitem__("withdrawal_delay", "a day"), "somstack.deployment.withdrawal_delay: Input should be a valid integer"),
    (lambda d: d["stablecoin"].pop("symbol"), "somstack.deployment.stablecoin.symbol: Field required"),
    (lambda d: d["digital_currency"]["payroll"].__setitem__("max_row", -5),
     "somstack.deployment.digital_currency.payroll.max_row: must not be negative"),
    (lambda d: d["dev_holders"].__setitem__("MINTER", ["x"]), "somstack.deployment.dev_holders.MINTER.0: Input should be a valid integer"),
    (lambda d: d["digital_currency"]["tiers"][1].__setitem__("daily_limit", 10**40),
     "somstack.deployment.digital_currency.tiers.1.daily_limit is out of range"),
])
def test_a_bad_field_is_named_by_its_path_in_one_line(edited, change, message):
    with pytest.raises(ConfigError) as raised:
        edited(change).deployment("bsc-test")
    text = str(raised.value)
    assert text.startswith("brownie-config.yaml: ") and message in text and "\n" not in text


def test_a_bad_network_entry_is_named_by_its_path(settings):
    raw = copy.deepcopy(settings.raw)
    raw["somstack"]["networks"]["bsc-test"]["chain_id"] = "ninety-seven"
    with pytest.raises(ConfigError, match=r"^brownie-config.yaml: somstack.core.networks.bsc-test.chain_id: Input should be a valid integer"):
        Settings(settings.root, raw).network("bsc-test")
    assert settings.network("bsc-test").chain_id == 97 and settings.network("local").dev


@pytest.mark.parametrize("value, message", [("many", "a valid number"), ("0", "greater than 0")])
def test_a_bad_rpc_policy_names_the_setting_and_its_variable(settings, monkeypatch, value, message):
    monkeypatch.setenv("SOMSTACK_RPC_ATTEMPTS", value)
    with pytest.raises(ConfigError, match=rf"^brownie-config.yaml: somstack.rpc.attempts \(or SOMSTACK_RPC_ATTEMPTS\): .*{message}"):
        settings.rpc_policy
    monkeypatch.setenv("SOMSTACK_RPC_ATTEMPTS", "2")
    assert settings.rpc_policy["attempts"] == 2.0
