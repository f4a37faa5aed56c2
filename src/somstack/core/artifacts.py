"""Compiled artifacts: brownie compiles (with brownie-config.yaml's settings) into build/;
everything here reads those artifacts, so there is one compiler path."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from web3 import Web3
from web3.contract import Contract

from somstack.core.errors import ArtifactError, ErrorDecoder


@dataclass(frozen=True)
class Artifact:
    name: str
    abi: list[dict[str, Any]]
    bytecode: str
    deployed_bytecode: str
    sources: tuple[str, ...] = ()  # every source file of the compilation unit

    def linked(self, libraries: dict[str, str]) -> "Artifact":
        """This artifact with the addresses of its linked libraries put into its bytecode."""
        bytecode, deployed = self.bytecode, self.deployed_bytecode
        for name, address in libraries.items():
            value = Web3.to_checksum_address(address)[2:].lower()
            # brownie's placeholder (`__Name___...`), and solc's (`__$<keccak of path:Name>$__`)
            placeholders = [f"__{name}".ljust(40, "_")[:40]]
            for path in self.sources:
                if path.endswith(f"/{name}.sol"):
                    placeholders.append(f"__${Web3.keccak(text=f'{path}:{name}').hex().removeprefix('0x')[:34]}$__")
            for placeholder in placeholders:
                bytecode, deployed = bytecode.replace(placeholder, value), deployed.replace(placeholder, value)
        return Artifact(self.name, self.abi, bytecode, deployed, self.sources)

    @property
    def unlinked(self) -> list[str]:
        """The libraries whose addresses the bytecode still waits for."""
        return sorted({m.rstrip("_") for m in re.findall(r"__([A-Za-z0-9_$]{1,38})", self.bytecode)})

    def contract(self, w3: Web3, address: str | None = None) -> Contract | type[Contract]:
        if address is None:
            if self.unlinked:
                raise ArtifactError(f"{self.name} needs the addresses of its libraries: {', '.join(self.unlinked)}")
            return w3.eth.contract(abi=self.abi, bytecode=self.bytecode)
        return w3.eth.contract(address=Web3.to_checksum_address(address), abi=self.abi)


class Artifacts:
    """The build/contracts folder of the project."""

    def __init__(self, root: Path):
        self.folder = root / "build" / "contracts"

    def get(self, name: str) -> Artifact:
        path = self.folder / f"{name}.json"
        try:
            return _read(path, "artifact", lambda data: _artifact(name, data, self.folder))
        except FileNotFoundError:
            raise ArtifactError(f"no artifact for {name}: compile first (brownie compile)") from None
        except (OSError, ValueError, KeyError) as exc:
            raise ArtifactError(f"artifact {path.name} is unreadable: {exc}") from None

    @cached_property
    def decoder(self) -> ErrorDecoder:
        abis = []
        for path in sorted(self.folder.glob("*.json")):
            try:
                abis.append(_read(path, "abi", lambda data: data.get("abi", [])))
            except (OSError, ValueError):
                continue
        return ErrorDecoder(abis)


def _artifact(name: str, data: dict[str, Any], folder: Path) -> Artifact:
    sources = set((data.get("allSourcePaths") or {}).values())
    # brownie's allSourcePaths can miss a library reached only through a base contract (the
    # digital som's ComplianceLogic, through CompliantToken): each library the bytecode waits
    # for adds its own source, so that solc's placeholder of it is known to `linked`.
    for placeholder in re.findall(r"__([A-Za-z][A-Za-z0-9_]{0,37})", data.get("bytecode", "")):
        library = placeholder.rstrip("_")  # brownie's placeholder: `__Name` padded with `_` to 40
        try:
            source = json.loads((folder / f"{library}.json").read_text()).get("sourcePath")
        except (OSError, ValueError):
            continue
        if source:
            sources.add(source)
    return Artifact(name, data["abi"], data.get("bytecode", ""), data.get("deployedBytecode", ""), tuple(sorted(sources)))


# What was taken from each artifact file, per (path, what), for as long as the file is unchanged
# (same size and modification time): a build/contracts file is megabytes of JSON (AST, source
# maps) and a process that opens many sessions (the relayer, the benchmark, the tests) parsed
# them all again for each. Only the small parts kept (ABI, bytecode) are held, never the AST.
_READ: dict[tuple[str, str], tuple[tuple[int, int], Any]] = {}


def _read(path: Path, kind: str, take: Any) -> Any:
    """``take(parsed JSON of path)``, remembered under (path, kind) until the file changes."""
    stat = path.stat()
    stamp, key = (stat.st_mtime_ns, stat.st_size), (str(path), kind)
    cached = _READ.get(key)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    value = take(json.loads(path.read_text()))
    _READ[key] = (stamp, value)
    return value


def compile_project(root: Path) -> None:
    """Compiles what changed, through brownie, with the settings of brownie-config.yaml."""
    from brownie import project  # imported late: brownie is slow to import

    if project.get_loaded_projects():
        return  # inside brownie (tests, `brownie run`): it has compiled already
    loaded = project.load(root, raise_if_loaded=False)
    loaded.close(raises=False)


def compile_sources(root: Path, folder: Path, remappings: list[str] = ()) -> dict[str, Artifact]:  # type: ignore[assignment]
    """Compiles the ``.sol`` files of ``folder`` (outside ``contracts/``, e.g. the benchmark's
    reference wrappers) with brownie's compiler and the settings of brownie-config.yaml (the same
    solc, EVM version, optimizer and remappings as the project), plus ``remappings``. Nothing is
    written to build/; the artifacts of every contract compiled are returned by name."""
    import contextlib

    from brownie.project import compiler  # imported late: brownie is slow to import

    sources = {str(path.relative_to(root)): path.read_text() for path in sorted(folder.glob("*.sol"))}
    if not sources:
        raise ArtifactError(f"no Solidity sources in {folder}")
    options = compiler_options(remappings)
    with contextlib.chdir(root):  # the solc shim resolves imports against the working directory
        built = compiler.compile_and_format(sources, solc_version=options["version"], evm_version=options["evm_version"],
                                            optimizer=options["optimizer"], remappings=options["remappings"], allow_paths=str(root))
    return {
        name: Artifact(name, data["abi"], data.get("bytecode", ""), data.get("deployedBytecode", ""),
                       tuple(sorted(set((data.get("allSourcePaths") or {}).values()))))
        for name, data in built.items()
    }


def compiler_options(remappings: list[str] | tuple[str, ...] = ()) -> dict[str, Any]:
    """The project's compiler settings (brownie-config.yaml): solc version, EVM version, optimizer
    and remappings (plus ``remappings``)."""
    from somstack.core.config import load_settings

    settings = load_settings()
    solc = settings.raw.get("compiler", {}).get("solc", {})
    return {
        "version": settings.compiler.version,
        "evm_version": settings.compiler.evm_version,
        "optimizer": dict(settings.compiler.optimizer),
        "remappings": [*solc.get("remappings", []), *remappings],
    }


def compile_standard(root: Path, sources: dict[str, str], output_selection: dict[str, Any]) -> dict[str, Any]:
    """solc's standard-JSON output for ``sources`` ({source unit name: text}; their imports are
    read from disk under ``root``), compiled by brownie's compiler with the project's settings and
    asked for ``output_selection``: for what brownie's artifacts do not keep (``storageLayout``)."""
    import contextlib

    from brownie.project import compiler  # imported late: brownie is slow to import

    options = compiler_options()
    compiler.solidity.set_solc_version(options["version"])
    standard = compiler.generate_input_json(sources, evm_version=options["evm_version"], optimizer=options["optimizer"],
                                            remappings=options["remappings"])
    standard["settings"]["outputSelection"] = output_selection
    with contextlib.chdir(root):  # the solc shim resolves imports against the working directory
        try:
            output = compiler.compile_from_input_json(standard, allow_paths=str(root))
        except Exception as exc:  # brownie's CompilerError carries solc's messages
            raise ArtifactError(f"solc refused the sources: {str(exc).strip().splitlines()[-1] if str(exc).strip() else exc!r}") from None
    failures = [e.get("formattedMessage") or e.get("message", "") for e in output.get("errors", []) if e.get("severity") == "error"]
    if failures:
        raise ArtifactError(f"solc refused the sources: {failures[0].strip().splitlines()[0]}")
    return output
