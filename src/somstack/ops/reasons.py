"""The texts behind sanction reasons: on chain a block records only the hash of its reason
(``--reason "UN list entry 42"`` becomes keccak of the text). The text the operator typed is
kept off chain, beside the manifest (``<manifest>-reasons.json``: hash -> text), so that the
report can show it next to the on-chain hash. A reason given as a 0x hash has no text."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Mapping

from web3 import Web3

from somstack.core.manifest import write_json_atomically


def reasons_path(manifest_path: Path) -> Path:
    return manifest_path.with_name(f"{manifest_path.stem}-reasons.json")


def load(manifest_path: Path) -> dict[str, str]:
    """hash (0x, lower case) -> text; empty when none was kept."""
    try:
        data = json.loads(reasons_path(manifest_path).read_text())
    except (OSError, ValueError):
        return {}
    return {str(k).lower(): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def remember(manifest_path: Path, texts: Mapping[bytes, str]) -> None:
    """Adds hash -> text for each reason given as a text (not as a 0x hash)."""
    kept = load(manifest_path)
    new = {Web3.to_hex(h).lower(): t.strip() for h, t in texts.items()
           if t and t.strip() and not (t.strip().lower().startswith("0x") and len(t.strip()) == 66)}
    if all(kept.get(k) == v for k, v in new.items()):
        return
    kept.update(new)
    write_json_atomically(reasons_path(manifest_path), kept)
