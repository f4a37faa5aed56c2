"""Source-verification inputs (BscScan / Sourcify "standard JSON input") built from brownie's
artifacts and the compiler settings of brownie-config.yaml, so that what is verified is exactly
what was compiled, tested and deployed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from somstack.core.config import Settings
from somstack.core.errors import ArtifactError


def standard_json_input(settings: Settings, contract: str) -> dict[str, Any]:
    """The solc standard JSON input that reproduces the artifact of ``contract``."""
    path = settings.root / "build" / "contracts" / f"{contract}.json"
    try:
        artifact = json.loads(path.read_text())
    except FileNotFoundError:
        raise ArtifactError(f"no artifact for {contract}: compile first (brownie compile)") from None
    sources: dict[str, dict[str, str]] = {}
    for unit in sorted(set(artifact["allSourcePaths"].values())):
        try:
            sources[unit] = {"content": (settings.root / unit).read_text()}
        except OSError:
            raise ArtifactError(f"source {unit} of {contract} is missing: run `make install`") from None
    solc = settings.raw.get("compiler", {}).get("solc", {})
    compiled_with = artifact["compiler"]
    if compiled_with["evm_version"] != settings.compiler.evm_version or compiled_with["optimizer"] != settings.compiler.optimizer:
        raise ArtifactError(f"the artifact of {contract} was compiled with other settings than brownie-config.yaml: recompile")
    return {
        "language": "Solidity",
        "sources": sources,
        "settings": {
            "evmVersion": settings.compiler.evm_version,
            "optimizer": dict(settings.compiler.optimizer),
            "remappings": list(solc.get("remappings", [])),
            "outputSelection": {"*": {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object", "metadata"]}},
        },
    }


def compiler_version(settings: Settings, contract: str) -> str:
    """The full compiler version of the artifact, as explorers ask for it (v0.8.37+commit...)."""
    artifact = json.loads((settings.root / "build" / "contracts" / f"{contract}.json").read_text())
    return "v" + artifact["compiler"]["version"]


def write_inputs(settings: Settings, contracts: list[str], folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name in contracts:
        out = folder / f"{name}.standard-input.json"
        out.write_text(json.dumps(standard_json_input(settings, name), indent=1, sort_keys=True) + "\n")
        written.append(out)
    return written


# --- Static analysis input ---

# What slither (crytic-compile's solc-json mode) needs from each contract; the ASTs are per source.
# slither analyses the ASTs; crytic-compile also reads each contract's bytecode and source map, so
# they are asked for, but unoptimized: the optimizer changes no AST and was half of the compile.
_ANALYSIS_OUTPUT = {
    "*": {
        "*": ["abi", "evm.bytecode.object", "evm.bytecode.sourceMap", "evm.deployedBytecode.object", "evm.deployedBytecode.sourceMap"],
        "": ["ast"],
    }
}


def production_contracts(settings: Settings) -> list[str]:
    """The contracts compiled from ``contracts/``, without the test mocks of ``contracts/test/``
    (read from brownie's artifacts, so only what the project really builds)."""
    names = []
    for path in sorted((settings.root / "build" / "contracts").glob("*.json")):
        try:
            source = json.loads(path.read_text()).get("sourcePath", "")
        except (OSError, ValueError) as exc:
            raise ArtifactError(f"artifact {path.name} is unreadable: {exc}") from None
        if source.startswith("contracts/") and not source.startswith("contracts/test/"):
            names.append(path.stem)
    if not names:
        raise ArtifactError("no artifacts of contracts/ in build/contracts: compile first (brownie compile)")
    return names


def analysis_input(settings: Settings) -> dict[str, Any]:
    """One standard JSON input of every production contract, with their ASTs, for slither and
    slither-check-erc: the sources and compiler settings of brownie's artifacts
    (:func:`standard_json_input`) but the optimizer, compiled by the project's solc (``.solcx``)."""
    merged: dict[str, Any] = {}
    for name in production_contracts(settings):
        contract_input = standard_json_input(settings, name)
        if not merged:
            merged = contract_input
        else:
            merged["sources"].update(contract_input["sources"])
    merged["settings"]["outputSelection"] = _ANALYSIS_OUTPUT
    merged["settings"]["optimizer"] = {"enabled": False}
    return merged
