"""Verification inputs reproduce the deployed bytecode exactly, from the same settings."""

from __future__ import annotations

import json

import pytest
import solcx

from somstack.verify import standard_json_input

CONTRACTS = [
    ("Stablecoin", "contracts/Stablecoin.sol"),
    ("SomAccessManager", "contracts/governance/SomAccessManager.sol"),
    ("SomProxy", "contracts/proxy/SomProxy.sol"),
]


@pytest.mark.parametrize("name,unit", CONTRACTS)
def test_verify_input_compiles_to_the_artifact_bytecode(settings, name, unit, monkeypatch):
    monkeypatch.chdir(settings.root)
    out = solcx.compile_standard(standard_json_input(settings, name), solc_version=settings.compiler.version, allow_paths=".")
    compiled = out["contracts"][unit][name]["evm"]["deployedBytecode"]["object"]
    artifact = json.loads((settings.root / "build" / "contracts" / f"{name}.json").read_text())
    assert compiled == artifact["deployedBytecode"]


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
