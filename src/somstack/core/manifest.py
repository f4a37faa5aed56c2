"""The deployment manifest ``deployments/<chain-id>.json``: what was deployed where, by which
transactions, with which compiler settings and commit. Written atomically after every step."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from somstack.core.errors import ManifestError

SCHEMA = 1


def git_commit(root: Path) -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        return None
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root, capture_output=True, text=True)
    return out.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")


class Manifest:
    """One chain's deployment record. ``save`` replaces the file atomically."""

    def __init__(self, path: Path, data: dict[str, Any]):
        self.path = path
        self.data = data

    @classmethod
    def load(cls, path: Path, chain_id: int) -> "Manifest":
        if not path.exists():
            return cls(path, {"schema": SCHEMA, "chainId": chain_id, "contracts": {}, "steps": {}, "complete": False})
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise ManifestError(f"{path.name} is unreadable ({exc}); fix or move it away") from None
        if data.get("chainId") != chain_id:
            raise ManifestError(f"{path.name} records chain {data.get('chainId')}, not {chain_id}")
        data.setdefault("contracts", {})
        data.setdefault("steps", {})
        return cls(path, data)

    @property
    def exists(self) -> bool:
        return self.path.exists()

    def __json__(self) -> dict[str, Any]:
        """Its form in ``--json`` output (somstack.core.jsonout): the file and what it records."""
        return {"file": self.path.name, "exists": self.exists, "complete": bool(self.data.get("complete")),
                "contracts": {name: record.get("address") for name, record in self.data.get("contracts", {}).items()}}

    @property
    def complete(self) -> bool:
        return bool(self.data.get("complete"))

    @property
    def contracts(self) -> dict[str, dict[str, Any]]:
        return self.data["contracts"]

    @property
    def steps(self) -> dict[str, dict[str, Any]]:
        return self.data["steps"]

    def address(self, name: str) -> str:
        try:
            return self.contracts[name]["address"]
        except KeyError:
            raise ManifestError(f"{self.path.name} has no address for {name}: deploy first") from None

    def save(self) -> None:
        self.data["updatedAt"] = int(time.time())
        write_json_atomically(self.path, self.data)


def manifest_path(folder: Path, chain_id: int, network: Any) -> Path:
    """``<folder>/<chain-id>.json``. A development network other than `local` (bsc-local,
    bsc-fork) borrows a live chain's id (56), so its record is ``<chain-id>-<network>.json``: a
    rehearsal never writes, and a live deployment never reads, the other's record."""
    if getattr(network, "dev", False) and getattr(network, "name", "local") != "local":
        return folder / f"{chain_id}-{network.name}.json"
    return folder / f"{chain_id}.json"


def deployed_manifest(folder: Path, chain_id: int, network: Any) -> "Manifest":
    """The manifest of a ``network`` (a config.Network) that must have been deployed to."""
    manifest = Manifest.load(manifest_path(folder, chain_id, network), chain_id)
    if not manifest.exists:
        raise ManifestError(f"nothing deployed on {network.name}: no {manifest.path.name}")
    return manifest


def write_text_atomically(path: Path, text: str, mode: int | None = None) -> None:
    """Writes ``text`` (UTF-8) to ``path`` through a temporary file in the same folder, flushed
    and synced to disk, and a rename: a reader (or a crash) sees the old file or the new one,
    never half of one. ``mode`` sets the file's permissions (the temporary file's 0600 if None)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json_atomically(path: Path, data: Any) -> None:
    """Writes ``data`` as JSON to ``path`` atomically (see :func:`write_text_atomically`)."""
    write_text_atomically(path, json.dumps(data, indent=2, sort_keys=True) + "\n")


def genesis_hash(w3: Any) -> str:
    """The hash of block 0: what tells one chain from another with the same id (a restarted dev
    chain, another anvil, a fork) even when code sits at the same deterministic addresses."""
    value = w3.eth.get_block(0)["hash"]
    text = value.hex() if isinstance(value, (bytes, bytearray)) else str(value)
    return text if text.startswith("0x") else "0x" + text


def check_genesis(manifest: "Manifest", w3: Any) -> None:
    """Raises ManifestError when ``manifest`` records another chain's genesis than ``w3``'s."""
    from somstack.core.errors import ManifestError

    recorded = manifest.data.get("genesis")
    if recorded and recorded.lower() != genesis_hash(w3).lower():
        raise ManifestError(
            f"{manifest.path.name} belongs to the chain whose block 0 is {recorded[:18]}..., not to this one "
            f"({genesis_hash(w3)[:18]}...), even if code sits at the same addresses: move the file away (or set "
            "SOMSTACK_DEPLOYMENTS_DIR) to deploy to this chain"
        )
