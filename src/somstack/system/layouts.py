"""Storage layouts of the upgradeable contracts, read from solc, and the append-only rule.

The three proxies (Stablecoin, DigitalCurrency, ReserveVault) keep their state in ERC-7201
namespaces: structs at ``keccak256(id - 1) & ~0xff``, not state variables, so solc's
``storageLayout`` of the contracts themselves is empty. To have solc lay the structs out, a probe
contract (generated, never written to disk) declares one state variable of each
``@custom:storage-location erc7201:<id>`` struct, and its ``storageLayout`` gives every member's
slot, offset and type. Which namespaces a contract uses is read from solc's AST: those declared in
its linearized bases (OpenZeppelin's included) and in the libraries it calls (DigitalCurrencyLogic).
Bases without a namespace are listed with none, so "covered or empty" is in the record.

A release's layouts are recorded in ``security/storage-layouts/<Contract>.json``; ``check``
compares the current sources with them and accepts only appending: new members at the end of a
namespace struct (or of a struct that lives in a mapping), new namespaces. Anything else (a member
removed, reordered, renamed, retyped, moved; a namespace id changed or dropped) is a problem.
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from eth_utils import keccak

from somstack.core.errors import StorageLayoutError

UPGRADEABLE: dict[str, str] = {
    "Stablecoin": "contracts/Stablecoin.sol",
    "DigitalCurrency": "contracts/DigitalCurrency.sol",
    "ReserveVault": "contracts/ReserveVault.sol",
    "RedemptionQueue": "contracts/RedemptionQueue.sol",
}
RECORD_DIR = Path("security") / "storage-layouts"
_PROBE_PATH = "somstack-layout-probe.sol"
_PROBE = "SomStackLayoutProbe"
_NAMESPACE_TAG = re.compile(r"@custom:storage-location\s+erc7201:([^\s*]+)")
_IMPORT = re.compile(r"""^\s*import\s+(?:[^"';]*?\s+from\s+)?["']([^"']+)["']""", re.M)
_CONTAINER = re.compile(r"\b(?:contract|library|interface)\s+(\w+)")
_STRUCT = re.compile(r"\bstruct\s+(\w+)")


def erc7201_slot(namespace: str) -> int:
    """The ERC-7201 base slot of namespace ``namespace``."""
    inner = int.from_bytes(keccak(text=namespace), "big") - 1
    return int.from_bytes(keccak(inner.to_bytes(32, "big")), "big") & ~0xFF


# --- Reading the layouts from solc ---


@dataclass(frozen=True)
class _Namespace:
    id: str
    source: str
    container: str
    struct: str


def _remap(path: str, remappings: list[str]) -> str:
    best = max((r.split("=", 1) for r in remappings if path.startswith(r.split("=", 1)[0])), key=lambda r: len(r[0]), default=None)
    return best[1] + path[len(best[0]):] if best else path


def _reachable(root: Path, entries: list[str], remappings: list[str]) -> dict[str, str]:
    """Every source file ``entries`` import, directly or not: {source unit name: text}."""
    found: dict[str, str] = {}
    todo = list(entries)
    while todo:
        name = todo.pop()
        if name in found:
            continue
        try:
            found[name] = (root / name).read_text()
        except OSError as exc:
            raise StorageLayoutError(f"cannot read {name}: {exc.strerror}") from None
        for target in _IMPORT.findall(found[name]):
            relative = target.startswith(("./", "../"))
            todo.append(posixpath.normpath(posixpath.join(posixpath.dirname(name), target)) if relative else _remap(target, remappings))
    return found


def _scan(sources: dict[str, str]) -> list[_Namespace]:
    """The namespace structs of ``sources``, found in the text; solc's AST confirms the list."""
    namespaces = []
    for source, text in sorted(sources.items()):
        for tag in _NAMESPACE_TAG.finditer(text):
            struct = _STRUCT.search(text, tag.end())
            containers = list(_CONTAINER.finditer(text, 0, tag.start()))
            if struct and containers:
                namespaces.append(_Namespace(tag.group(1), source, containers[-1].group(1), struct.group(1)))
    return namespaces


def _probe(namespaces: list[_Namespace], entries: list[str]) -> str:
    """A contract with one state variable per namespace struct, each file imported under an alias
    (so that no two imports clash)."""
    files = sorted({*entries, *(n.source for n in namespaces)})
    alias = {f: f"F{i}" for i, f in enumerate(files)}
    lines = ["// SPDX-License-Identifier: MIT", "pragma solidity >=0.8.20;"]
    lines += [f'import * as {alias[f]} from "{f}";' for f in files]
    lines.append(f"contract {_PROBE} {{")
    lines += [f"    {alias[n.source]}.{n.container}.{n.struct} internal ns{i};" for i, n in enumerate(namespaces)]
    lines.append("}")
    return "\n".join(lines) + "\n"


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _normalize(types: dict[str, Any], type_id: str, out: dict[str, Any]) -> str:
    """The type ``type_id`` (solc's id, which carries AST ids) by its label, recorded in ``out``
    with its key/value/base/members named by label too."""
    entry = types[type_id]
    label = entry["label"]
    if label not in out:
        record: dict[str, Any] = {"encoding": entry["encoding"], "numberOfBytes": int(entry["numberOfBytes"])}
        out[label] = record
        for part in ("key", "value", "base"):
            if part in entry:
                record[part] = _normalize(types, entry[part], out)
        if "members" in entry:
            record["members"] = _members(types, entry["members"], out)
    return label


def _members(types: dict[str, Any], members: list[dict[str, Any]], out: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"label": m["label"], "slot": int(m["slot"]), "offset": m["offset"], "type": _normalize(types, m["type"], out)} for m in members]


def _constants(contract: dict[str, Any]) -> set[int]:
    """The values of the bytes32 constants a contract declares as literals."""
    values = set()
    for node in contract.get("nodes", []):
        value = node.get("value") or {}
        if node.get("nodeType") == "VariableDeclaration" and node.get("constant") and value.get("nodeType") == "Literal":
            text = value.get("value") or ""
            if text.startswith("0x"):
                values.add(int(text, 16))
    return values


def read_layouts(root: Path, contracts: dict[str, str] | None = None) -> dict[str, dict[str, Any]]:
    """The storage layout of each of ``contracts`` ({name: source}, default the upgradeable
    ones) as solc lays it out now: one compilation (AST and storageLayout only, no code)."""
    from somstack.core.artifacts import compiler_options

    contracts = contracts or UPGRADEABLE
    entries = sorted(set(contracts.values()))
    options = compiler_options()
    sources = _reachable(root, entries, options["remappings"])
    # Cached in build/ under a hash of everything the answer depends on (sources, compiler
    # settings, this module), so that only a change pays for the compilation again.
    key = hashlib.sha256(json.dumps([options, contracts, sorted(sources.items()), Path(__file__).read_text()]).encode()).hexdigest()
    cache = root / "build" / "storage-layouts" / f"{key[:32]}.json"
    if cache.is_file():
        return json.loads(cache.read_text())
    layouts = _compile_layouts(root, contracts, entries, sources)
    cache.parent.mkdir(parents=True, exist_ok=True)
    partial = cache.with_suffix(f".{os.getpid()}.tmp")
    partial.write_text(json.dumps(layouts))
    partial.replace(cache)
    return layouts


def _compile_layouts(root: Path, contracts: dict[str, str], entries: list[str], sources: dict[str, str]) -> dict[str, dict[str, Any]]:
    from somstack.core.artifacts import compile_standard

    namespaces = _scan(sources)
    selection: dict[str, Any] = {"*": {"": ["ast"]}, _PROBE_PATH: {_PROBE: ["storageLayout"]}}
    for name, source in contracts.items():
        selection.setdefault(source, {})[name] = ["storageLayout"]
    output = compile_standard(root, {_PROBE_PATH: _probe(namespaces, entries)}, selection)

    definitions = {n["id"]: n for unit in output["sources"].values() for n in _walk(unit["ast"]) if n.get("nodeType") == "ContractDefinition"}
    tagged = {}  # struct AST id -> namespace id, as solc read the NatSpec
    for unit in output["sources"].values():
        for node in _walk(unit["ast"]):
            if node.get("nodeType") == "StructDefinition":
                tag = _NAMESPACE_TAG.search((node.get("documentation") or {}).get("text", ""))
                if tag:
                    tagged[node["id"]] = (tag.group(1), node["canonicalName"], node["scope"])
    scanned = {(n.id, f"{n.container}.{n.struct}") for n in namespaces}
    missed = {(ns, name) for ns, name, _ in tagged.values()} - scanned
    if missed:
        raise StorageLayoutError(f"namespace structs solc sees but the probe missed: {', '.join(sorted(n for _, n in missed))}")

    probe = output["contracts"][_PROBE_PATH][_PROBE]["storageLayout"]
    by_struct = {f"{n.container}.{n.struct}": (n, variable) for n, variable in zip(namespaces, probe["storage"])}
    layouts = {}
    for name, source in contracts.items():
        contract = next(n for n in output["sources"][source]["ast"]["nodes"] if n.get("nodeType") == "ContractDefinition" and n["name"] == name)
        bases = [definitions[i] for i in contract["linearizedBaseContracts"]]
        libraries = _libraries(bases, definitions)
        types: dict[str, Any] = {}
        own = output["contracts"][source][name]["storageLayout"]
        record: dict[str, Any] = {
            "contract": name,
            "source": source,
            "stateVariables": _members(own.get("types") or {}, own["storage"], types),
            "inheritance": [],
            "libraries": [],
            "namespaces": {},
            "types": types,
        }
        for group, scope in (("inheritance", bases), ("libraries", libraries)):
            for definition in scope:
                owned = sorted(ns for ns, _, s in tagged.values() if s == definition["id"])
                record[group].append({"contract": definition["name"], "namespaces": owned})
                constants = _constants(definition)
                for ns in owned:
                    struct = next(n for i, n, s in tagged.values() if i == ns and s == definition["id"])
                    _, variable = by_struct[struct]
                    layout = probe["types"][variable["type"]]
                    slot = erc7201_slot(ns)
                    if slot not in constants:
                        raise StorageLayoutError(f"{definition['name']} declares no constant equal to the ERC-7201 slot of {ns} ({slot:#066x})")
                    record["namespaces"][ns] = {"struct": struct, "slot": f"{slot:#066x}",
                                                "members": _members(probe["types"], layout["members"], types)}
        record["types"] = dict(sorted(types.items()))
        layouts[name] = record
    return layouts


def _libraries(bases: list[dict[str, Any]], definitions: dict[int, dict[str, Any]]) -> list[dict[str, Any]]:
    """The libraries ``bases`` refer to, directly or through each other, in order of discovery."""
    found: list[dict[str, Any]] = []
    todo = list(bases)
    while todo:
        for node in _walk(todo.pop(0)):
            target = definitions.get(node.get("referencedDeclaration"))  # type: ignore[arg-type]
            if target and target.get("contractKind") == "library" and target not in found:
                found.append(target)
                todo.append(target)
    return found


# --- The append-only rule ---


def compare(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What changed from the recorded layout ``old`` to ``new`` other than by appending
    (empty when ``new`` only appends)."""
    problems: list[str] = []
    name = old.get("contract", "?")
    problems += _compare_members(f"{name} state variables", old["stateVariables"], new["stateVariables"], old["types"], new["types"])
    for ns, recorded in old["namespaces"].items():
        current = new["namespaces"].get(ns)
        if current is None:
            problems.append(f"{name}: namespace {ns} ({recorded['struct']}) is gone: its storage would be abandoned")
            continue
        problems += _compare_members(f"{name} {ns}", recorded["members"], current["members"], old["types"], new["types"])
    return problems


def _compare_members(where: str, old: list[dict[str, Any]], new: list[dict[str, Any]], old_types: dict[str, Any],
                     new_types: dict[str, Any]) -> list[str]:
    """Members ``old`` must be the start of ``new``: same names, slots, offsets and types."""
    problems = []
    for index, member in enumerate(old):
        if index >= len(new):
            problems.append(f"{where}: member {member['label']} ({member['type']}) removed")
            continue
        now = new[index]
        if now["label"] != member["label"]:
            problems.append(f"{where}: member #{index} was {member['label']}, is now {now['label']} (reordered, renamed or removed)")
        elif (now["slot"], now["offset"]) != (member["slot"], member["offset"]):
            problems.append(f"{where}: member {member['label']} moved from slot {member['slot']} offset {member['offset']} "
                            f"to slot {now['slot']} offset {now['offset']}")
        else:
            problems += _compare_types(f"{where}.{member['label']}", member["type"], now["type"], old_types, new_types, inline=True)
    return problems


def _compare_types(where: str, old: str, new: str, old_types: dict[str, Any], new_types: dict[str, Any], inline: bool) -> list[str]:
    """``new`` keeps the storage of ``old``. A struct may grow by appending only where nothing
    follows it (``inline`` False: the value of a mapping)."""
    if old != new:
        return [f"{where}: type changed from {old} to {new}"]
    before, after = old_types[old], new_types[new]
    if before["encoding"] != after["encoding"] or (inline and before["numberOfBytes"] != after["numberOfBytes"]):
        return [f"{where}: {old} changed size or encoding ({before['numberOfBytes']} -> {after['numberOfBytes']} bytes)"]
    problems = []
    if "key" in before:
        problems += _compare_types(f"{where}[key]", before["key"], after["key"], old_types, new_types, inline=True)
    if "value" in before:
        problems += _compare_types(f"{where}[value]", before["value"], after["value"], old_types, new_types, inline=False)
    if "base" in before:  # array elements are contiguous: an element may not grow
        problems += _compare_types(f"{where}[]", before["base"], after["base"], old_types, new_types, inline=True)
    if "members" in before:
        problems += _compare_members(where, before["members"], after["members"], old_types, new_types)
    return problems


# --- Records of releases ---


def record_path(root: Path, contract: str) -> Path:
    return root / RECORD_DIR / f"{contract}.json"


def dump(layout: dict[str, Any]) -> str:
    return json.dumps(layout, indent=2, sort_keys=False) + "\n"


def load_record(root: Path, contract: str) -> dict[str, Any]:
    path = record_path(root, contract)
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise StorageLayoutError(f"no recorded layout for {contract} ({RECORD_DIR / path.name}): record a release first "
                                 "(somstack layouts record)") from None
    except ValueError as exc:
        raise StorageLayoutError(f"{RECORD_DIR / path.name} is not valid JSON: {exc}") from None


def check(root: Path, layouts: dict[str, dict[str, Any]] | None = None) -> dict[str, list[str]]:
    """Problems per upgradeable contract against its recorded release (empty lists: all good)."""
    layouts = layouts or read_layouts(root)
    return {name: compare(load_record(root, name), layout) for name, layout in layouts.items()}


def record(root: Path, layouts: dict[str, dict[str, Any]] | None = None) -> list[Path]:
    """Records the current layouts as the last release's; returns the files written."""
    layouts = layouts or read_layouts(root)
    written = []
    for name, layout in layouts.items():
        path = record_path(root, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".json.tmp")
        temporary.write_text(dump(layout))
        temporary.replace(path)
        written.append(path)
    return written
