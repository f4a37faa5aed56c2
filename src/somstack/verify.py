"""Source-verification inputs (BscScan / Sourcify "standard JSON input") built from brownie's
artifacts and the compiler settings of brownie-config.yaml, so that what is verified is exactly
what was compiled, tested and deployed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .config import Settings
from .errors import ArtifactError


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
