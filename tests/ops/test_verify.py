"""Verification inputs reproduce the deployed bytecode exactly, from the same settings."""

from __future__ import annotations

import json

import pytest
import solcx

from somstack.system.verify import standard_json_input

CONTRACTS = [
    ("Stablecoin", "contracts/Stablecoin.sol"),
    ("SomAccessManager", "contracts/governance/SomAccessManager.sol"),
    ("SomProxy", "contracts/proxy/SomProxy.sol"),
    ("ComplianceLogic", "contracts/token/ComplianceLogic.sol"),
    ("DigitalCurrencyLogic", "contracts/libraries/DigitalCurrencyLogic.sol"),
    ("DigitalCurrency", "contracts/DigitalCurrency.sol"),
]


@pytest.mark.parametrize("name,unit", CONTRACTS)
def test_verify_input_compiles_to_the_artifact_bytecode(settings, name, unit, monkeypatch):
    monkeypatch.chdir(settings.root)
    out = solcx.compile_standard(standard_json_input(settings, name), solc_version=settings.compiler.version, allow_paths=".")
    compiled = out["contracts"][unit][name]["evm"]["deployedBytecode"]["object"]
    artifact = json.loads((settings.root / "build" / "contracts" / f"{name}.json").read_text())
    assert compiled == artifact["deployedBytecode"]


def test_linked_contract_on_chain_calls_the_recorded_library(deployment, artifacts):
    """The input of DigitalCurrency compiles to its artifact, placeholders included (above);
    explorers link the library address given with it, as the deploy plan did."""
    from brownie import web3

    record = deployment.manifest.contracts["DigitalCurrencyImplementation"]
    library = record["libraries"]["DigitalCurrencyLogic"]
    linked = artifacts.get("DigitalCurrency").linked(record["libraries"]).deployed_bytecode
    on_chain = web3.eth.get_code(record["address"]).hex().removeprefix("0x")
    assert "__" not in linked and len(linked.removeprefix("0x")) == len(on_chain)
    assert library[2:].lower() in on_chain


def test_verify_input_uses_brownie_config_settings(settings):
    inp = standard_json_input(settings, "Stablecoin")
    assert inp["settings"]["evmVersion"] == "prague"
    assert inp["settings"]["optimizer"] == settings.raw["compiler"]["solc"]["optimizer"]
    assert "contracts/Stablecoin.sol" in inp["sources"]


def test_manifest_records_constructor_args_of_the_proxy(deployment, kgst):
    record = deployment.manifest.contracts["Stablecoin"]
    assert record["constructorArgs"].startswith("0x")
    implementation = record["implementation"][2:].lower()
    assert implementation in record["constructorArgs"].lower()
