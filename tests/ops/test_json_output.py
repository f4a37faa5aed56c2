"""`--json` of the reading commands (status, roles, reserve status|stress, cbdc tiers; seize show
is in test_token_ops_cli): stdout is one JSON document of the dataclass the text is formatted
from, against the module's own deployed chain (conftest.cli_chain), each test reverted."""

from __future__ import annotations

import json

import pytest

from somstack.cli import main
from clihelp import run

UNIT = 10**18


@pytest.fixture(scope="module")
def covered(cli_chain):
    """The module's chain with a som rate (87.5) and 1,000 BNB in the reserve."""
    assert main(["reserve", "set-rate", "--rate", "87.5"]) == 0
    assert main(["reserve", "deposit", "--asset", "BNB", "--amount", "1000"]) == 0
    return cli_chain


@pytest.fixture
def chain(covered, chain_snapshot):
    return chain_snapshot


def read_json(capsys, *argv):
    code, out, err = run(capsys, *argv, "--json")
    assert code == 0, err
    return json.loads(out)  # the whole of stdout: progress goes to stderr


def test_status_json_has_the_chain_contracts_tokens_and_reserve(capsys, chain):
    data = read_json(capsys, "status")
    assert data["chain_id"] == 31337 and data["block"] == chain.w3.eth.block_number
    assert data["manifest"]["complete"] is True
    assert {c["name"]: c["address"] for c in data["contracts"]} == data["manifest"]["contracts"]
    assert all(c["has_code"] for c in data["contracts"])
    assert {t["symbol"] for t in data["tokens"]} == {"KGST", "DSOM"}
    assert data["reserve"]["rate"] == 875 * 10**17


def test_status_text_and_json_come_from_the_same_screen(capsys, chain):
    data = read_json(capsys, "status")
    _code, text, _err = run(capsys, "status")
    for token in data["tokens"]:
        assert token["address"] in text


def test_roles_json_lists_every_role_with_its_members(capsys, chain):
    data = read_json(capsys, "roles")
    assert data["manager"] == chain.manifest.address("AccessManager")
    rows = {row["name"]: row for row in data["rows"]}
    assert {"MINTER_ADMIN", "PAUSER", "COMPLIANCE"} <= set(rows)
    assert [chain.accounts[2], 0] in rows["MINTER_ADMIN"]["members"]  # dev holder 2, no execution delay
    assert any(f.startswith("Stablecoin.") for f in rows["PAUSER"]["functions"])


def test_reserve_status_json_has_every_asset_and_the_total(capsys, chain):
    data = read_json(capsys, "reserve", "status")
    rows = {row["symbol"]: row for row in data["rows"]}
    assert set(rows) == {"BNB", "BTCB", "BSC-USD"}
    assert rows["BNB"]["balance"] == 1000 * UNIT
    assert data["rate"] == 875 * 10**17 and data["total"] == sum(row["counted"] for row in rows.values())
    assert data["report_hash"].startswith("0x")


def test_reserve_stress_json_shows_the_shocked_coverage(capsys, chain):
    data = read_json(capsys, "reserve", "stress", "--asset", "BNB", "--drop", "50")
    assert data["symbol"] == "BNB" and data["drop_bps"] == 5000
    assert data["every"]["BNB"] == data["shocked"]
    assert data["refusal"] is None or data["now"] is None or data["shocked"] <= data["now"]


def test_cbdc_tiers_json_lists_the_configured_tiers(capsys, chain, settings):
    data = read_json(capsys, "cbdc", "tiers")
    assert [row["id"] for row in data][:len(settings.deployment("local").digital_currency.tiers)] == [
        t.id for t in settings.deployment("local").digital_currency.tiers]
    assert all(row["matches_config"] for row in data)
