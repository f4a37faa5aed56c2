"""Upgrade safety: each upgradeable contract's storage layout (from solc, ERC-7201 namespaces
included) against the last release's record in security/storage-layouts/, and the append-only
rule of `somstack.system.layouts` on small fixture layouts. The live upgrade is in
test_upgrade_survival.py."""

import copy
from pathlib import Path

import pytest

from somstack.system.layouts import (
    UPGRADEABLE,
    compare,
    erc7201_slot,
    load_record,
    read_layouts,
)

ROOT = Path(__file__).resolve().parents[2]
V2_MOCKS = {"StablecoinV2Mock": "contracts/test/StablecoinV2Mock.sol", "ReserveVaultV2Mock": "contracts/test/ReserveVaultV2Mock.sol"}
V2_OF = {"StablecoinV2Mock": "Stablecoin", "ReserveVaultV2Mock": "ReserveVault"}
OZ_NAMESPACES = {  # what OpenZeppelin's upgradeable bases keep, by base
    "Initializable": ["openzeppelin.storage.Initializable"],
    "AccessManagedUpgradeable": ["openzeppelin.storage.AccessManaged"],
    "UUPSUpgradeable": [],
    "ContextUpgradeable": [],
}


@pytest.fixture(scope="module")
def current():
    """The layouts of the contracts and of the V2 mocks, from one solc run (cached in build/)."""
    return read_layouts(ROOT, {**UPGRADEABLE, **V2_MOCKS})


# --- The sources against the last release ---


@pytest.mark.parametrize("contract", list(UPGRADEABLE))
def test_layout_only_appends_to_last_release(current, contract):
    assert compare(load_record(ROOT, contract), current[contract]) == []


@pytest.mark.parametrize("contract", list(UPGRADEABLE))
def test_record_namespace_ids_and_slots_unchanged(current, contract):
    recorded = load_record(ROOT, contract)["namespaces"]
    assert {ns: n["slot"] for ns, n in current[contract]["namespaces"].items()} == {ns: n["slot"] for ns, n in recorded.items()}


@pytest.mark.parametrize("contract", list(UPGRADEABLE))
def test_recorded_slots_are_erc7201(contract):
    recorded = load_record(ROOT, contract)["namespaces"]
    assert recorded and all(int(n["slot"], 16) == erc7201_slot(ns) for ns, n in recorded.items())


@pytest.mark.parametrize("contract", list(UPGRADEABLE))
def test_layout_has_no_plain_state_variables(current, contract):
    assert current[contract]["stateVariables"] == []


@pytest.mark.parametrize("contract", list(UPGRADEABLE))
def test_openzeppelin_bases_namespaces_covered_or_empty(current, contract):
    bases = {b["contract"]: b["namespaces"] for b in current[contract]["inheritance"]}
    assert {name: bases[name] for name in OZ_NAMESPACES} == OZ_NAMESPACES
    declared = {ns for group in ("inheritance", "libraries") for b in current[contract][group] for ns in b["namespaces"]}
    assert declared == set(current[contract]["namespaces"])


def test_digital_som_namespace_found_in_its_library(current):
    libraries = {b["contract"]: b["namespaces"] for b in current["DigitalCurrency"]["libraries"]}
    assert libraries["DigitalCurrencyLogic"] == ["somstack.storage.DigitalCurrency"]


@pytest.mark.parametrize("mock", list(V2_MOCKS))
def test_v2_mock_appends_a_namespace_only(current, mock):
    release = load_record(ROOT, V2_OF[mock])
    assert compare(release, current[mock]) == []
    assert set(current[mock]["namespaces"]) - set(release["namespaces"]) == {f"somstack.storage.{mock}"}


# --- The append-only rule on fixture layouts ---


def _layout(members, types=None):
    """A one-namespace layout: members as (label, slot, offset, type)."""
    base_types = {
        "uint256": {"encoding": "inplace", "numberOfBytes": 32},
        "uint128": {"encoding": "inplace", "numberOfBytes": 16},
        "uint64": {"encoding": "inplace", "numberOfBytes": 8},
        "address": {"encoding": "inplace", "numberOfBytes": 20},
        "mapping(address => uint256)": {"encoding": "mapping", "numberOfBytes": 32, "key": "address", "value": "uint256"},
    }
    return {
        "contract": "Token",
        "stateVariables": [],
        "namespaces": {"example.storage.Token": {"struct": "Token.TokenStorage", "slot": "0x0",
                                                "members": [dict(zip(("label", "slot", "offset", "type"), m)) for m in members]}},
        "types": {**base_types, **(types or {})},
    }


RELEASE = [("balances", 0, 0, "mapping(address => uint256)"), ("totalSupply", 1, 0, "uint256"), ("owner", 2, 0, "address")]


def test_compare_accepts_identical_layout():
    assert compare(_layout(RELEASE), _layout(RELEASE)) == []


def test_compare_accepts_appended_member():
    assert compare(_layout(RELEASE), _layout([*RELEASE, ("fee", 2, 20, "uint64")])) == []


def test_compare_accepts_appended_namespace():
    grown = _layout(RELEASE)
    grown["namespaces"]["example.storage.TokenV2"] = {"struct": "TokenV2.S", "slot": "0x1", "members": [{"label": "x", "slot": 0, "offset": 0, "type": "uint256"}]}
    assert compare(_layout(RELEASE), grown) == []


def test_compare_refuses_reordered_members():
    reordered = [RELEASE[1][:1] + RELEASE[0][1:], RELEASE[0][:1] + RELEASE[1][1:], RELEASE[2]]
    problems = compare(_layout(RELEASE), _layout(reordered))
    assert len(problems) == 2 and "member #0 was balances, is now totalSupply" in problems[0]


def test_compare_refuses_changed_type():
    changed = [RELEASE[0], ("totalSupply", 1, 0, "uint128"), RELEASE[2]]
    assert compare(_layout(RELEASE), _layout(changed)) == ["Token example.storage.Token.totalSupply: type changed from uint256 to uint128"]


def test_compare_refuses_removed_last_member():
    assert compare(_layout(RELEASE), _layout(RELEASE[:2])) == ["Token example.storage.Token: member owner (address) removed"]


def test_compare_refuses_removed_middle_member():
    problems = compare(_layout(RELEASE), _layout([RELEASE[0], ("owner", 1, 0, "address")]))
    assert problems == ["Token example.storage.Token: member #1 was totalSupply, is now owner (reordered, renamed or removed)",
                        "Token example.storage.Token: member owner (address) removed"]


def test_compare_refuses_moved_member():
    moved = [RELEASE[0], RELEASE[1], ("owner", 3, 0, "address")]
    assert compare(_layout(RELEASE), _layout(moved)) == ["Token example.storage.Token: member owner moved from slot 2 offset 0 to slot 3 offset 0"]


def test_compare_refuses_dropped_namespace():
    other = _layout(RELEASE)
    other["namespaces"] = {"example.storage.Token2": other["namespaces"].pop("example.storage.Token")}
    assert compare(_layout(RELEASE), other) == ["Token: namespace example.storage.Token (Token.TokenStorage) is gone: its storage would be abandoned"]


def _record(members):
    return {"encoding": "inplace", "numberOfBytes": 32 * len(members),
            "members": [dict(zip(("label", "slot", "offset", "type"), m)) for m in members]}


def _with_struct(struct_members, inline):
    """A layout with struct Rec kept in a mapping (``inline`` False) or as a member followed by another."""
    types = {"struct Token.Rec": _record(struct_members),
             "mapping(address => struct Token.Rec)": {"encoding": "mapping", "numberOfBytes": 32, "key": "address", "value": "struct Token.Rec"}}
    if inline:
        return _layout([("rec", 0, 0, "struct Token.Rec"), ("owner", len(struct_members), 0, "address")], types)
    return _layout([("recs", 0, 0, "mapping(address => struct Token.Rec)"), ("owner", 1, 0, "address")], types)


def test_compare_accepts_struct_in_mapping_growing_at_its_end():
    old = _with_struct([("a", 0, 0, "uint256")], inline=False)
    assert compare(old, _with_struct([("a", 0, 0, "uint256"), ("b", 1, 0, "uint256")], inline=False)) == []


def test_compare_refuses_struct_in_mapping_reordered():
    old = _with_struct([("a", 0, 0, "uint256"), ("b", 1, 0, "uint256")], inline=False)
    problems = compare(old, _with_struct([("b", 0, 0, "uint256"), ("a", 1, 0, "uint256")], inline=False))
    assert problems and all("recs[value]" in p for p in problems)


def test_compare_refuses_inline_struct_growing():
    old = _with_struct([("a", 0, 0, "uint256")], inline=True)
    problems = compare(old, _with_struct([("a", 0, 0, "uint256"), ("b", 1, 0, "uint256")], inline=True))
    assert any("changed size" in p for p in problems)


def test_compare_does_not_modify_its_inputs():
    old, new = _layout(RELEASE), _layout([*RELEASE, ("fee", 3, 0, "uint256")])
    before = copy.deepcopy((old, new))
    compare(old, new)
    assert (old, new) == before
