"""The project's named networks, registered with brownie (``somstack networks sync``, run by
``make install``), so that ``brownie run scripts/deploy.py --network bsc-test`` reaches the
project's RPC and ``--network bsc-local`` runs the project's local BSC.

brownie keeps its networks in ``~/.brownie/network-config.yaml`` (what ``brownie networks
add/modify`` edit). Every network of brownie-config.yaml ``somstack.core.networks`` except `local`
(brownie's own `development` network plays it) becomes an entry there, built from that section
and ``somstack.anvil``, so the two cannot drift:

- a dev network (`bsc-local`, `bsc-fork`) becomes a development network: ``cmd: anvil`` on the
  loopback at the port of its ``rpc``, with its chain id, the hardfork, accounts and gas limit
  of ``somstack.anvil``, and for a forking network ``fork: $VAR`` (brownie expands it when it
  launches anvil, after loading .env through brownie-config's ``dotenv:``);
- a live network (`bsc-test`, `bsc-main`) becomes a live network in brownie's "Binance Smart
  Chain" group with ``host: $VAR`` as written in ``rpc`` (brownie expands it at connect time,
  after loading .env) and its ``chainid``; brownie ships entries with these ids pointing at
  public endpoints, which are replaced.

brownie copies brownie-config.yaml ``networks.development.cmd_settings`` over every development
network, so that section names neither a port nor a chain id (see the comment there).

Idempotent: entries already as they should be are left alone, and the file is rewritten (atomically)
only when something changed. Other networks in the file are kept as they are.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import yaml

from somstack.core.config import SAFE_LOADER, Network, Settings
from somstack.core.errors import ConfigError
from somstack.core.session import resolve_network

LIVE_GROUP = "Binance Smart Chain"  # the group of brownie's own bsc-test / bsc-main entries
SKIPPED = ("local",)  # brownie's `development` network is the `local` chain


@dataclass(frozen=True)
class Change:
    network: str
    kind: str  # "development" or "live"
    action: str  # "added", "updated" or "unchanged"

    def __str__(self) -> str:
        return f"{self.network:<10s} {self.kind:<11s} {self.action}"


def brownie_config_path() -> Path:
    """brownie's network file (``~/.brownie/network-config.yaml``; brownie creates it, with
    its defaults, the first time it is imported)."""
    from brownie._config import _get_data_folder

    return _get_data_folder() / "network-config.yaml"


def _port(network: Network) -> int:
    parsed = urlparse(network.rpc or "")
    if parsed.hostname not in ("127.0.0.1", "localhost") or not parsed.port:
        raise ConfigError(f"network '{network.name}' is a dev network: its rpc must be http://127.0.0.1:<port>, not {network.rpc!r}")
    return parsed.port


def development_entry(settings: Settings, network: Network) -> dict[str, Any]:
    """The brownie development network that runs ``network``'s chain."""
    anvil = settings.anvil
    cmd_settings: dict[str, Any] = {
        "port": _port(network),
        "chain_id": network.chain_id,
        "evm_version": str(anvil.get("hardfork", "prague")),
        "accounts": int(anvil.get("accounts", 30)),
        "gas_limit": int(anvil.get("gas_limit", 30_000_000)),
    }
    if network.fork_source:
        cmd_settings["fork"] = network.fork_source
    what = f"anvil forking {network.fork_source}" if network.fork_source else "anvil"
    return {
        "id": network.name,
        "name": f"SomStack {network.name} ({what}, chain {network.chain_id})",
        "cmd": "anvil",
        "host": "http://127.0.0.1",
        "timeout": 120 if network.fork_source else 30,
        "cmd_settings": cmd_settings,
    }


def live_fields(network: Network) -> dict[str, Any]:
    """The fields of brownie's live network entry that SomStack decides (brownie's explorer and
    multicall entries are kept)."""
    return {"chainid": network.chain_id, "host": network.rpc_source}


def desired(settings: Settings) -> dict[str, tuple[str, dict[str, Any]]]:
    """name -> ("development", entry) or ("live", fields), for every network to register. The
    RPC of a dev network may be moved for one shell with SOMSTACK_RPC_<NETWORK> (its port)."""
    out: dict[str, tuple[str, dict[str, Any]]] = {}
    for name in settings.network_names():
        if name in SKIPPED:
            continue
        network = settings.network(name)
        if network.dev:
            out[name] = ("development", development_entry(settings, resolve_network(settings, name)))
        else:
            if not network.rpc_source:
                raise ConfigError(f"network '{name}' has no rpc in brownie-config.yaml somstack.core.networks")
            out[name] = ("live", live_fields(network))
    return out


def sync(settings: Settings, path: Path | None = None) -> list[Change]:
    """Registers every network of :func:`desired` in brownie's network file (``path``, default
    ``~/.brownie/network-config.yaml``); returns what was added, updated or already right."""
    path = path or brownie_config_path()
    try:
        data = yaml.load(path.read_text(), Loader=SAFE_LOADER) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read brownie's {path.name}: {exc}") from None
    data.setdefault("development", [])
    data.setdefault("live", [])
    changes = []
    for name, (kind, wanted) in desired(settings).items():
        dev_ids = {e.get("id") for e in data["development"]}
        live_ids = {n.get("id") for g in data["live"] for n in g.get("networks", [])}
        if name in (live_ids if kind == "development" else dev_ids):
            raise ConfigError(
                f"brownie already has a {'live' if kind == 'development' else 'development'} network '{name}': "
                f"remove it (brownie networks delete {name}) and sync again"
            )
        action = _put_development(data, wanted) if kind == "development" else _put_live(data, name, wanted)
        changes.append(Change(name, kind, action))
    if any(c.action != "unchanged" for c in changes):
        _write_atomically(path, data)
    return changes


def _put_development(data: dict[str, Any], wanted: dict[str, Any]) -> str:
    entries = data["development"]
    for index, entry in enumerate(entries):
        if entry.get("id") == wanted["id"]:
            if entry == wanted:
                return "unchanged"
            entries[index] = wanted
            return "updated"
    entries.append(wanted)
    return "added"


def _put_live(data: dict[str, Any], name: str, fields: dict[str, Any]) -> str:
    for group in data["live"]:
        for entry in group.get("networks", []):
            if entry.get("id") == name:
                if all(entry.get(k) == v for k, v in fields.items()):
                    return "unchanged"
                entry.update(fields)  # keeps brownie's own keys (name, multicall2)
                return "updated"
    group = next((g for g in data["live"] if g.get("name") == LIVE_GROUP), None)
    if group is None:
        group = {"name": LIVE_GROUP, "networks": []}
        data["live"].append(group)
    group.setdefault("networks", []).append({"id": name, "name": f"SomStack {name}", **fields})
    return "added"


def _write_atomically(path: Path, data: dict[str, Any]) -> None:
    """brownie reads the file while others may write it: replace it whole, never half-written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as handle:
            yaml.safe_dump(data, handle, default_flow_style=False, sort_keys=True)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def describe(settings: Settings) -> list[str]:
    """One line per named network: how brownie and somstack reach it."""
    lines = []
    for name in settings.network_names():
        network = settings.network(name)
        if name in SKIPPED:
            lines.append(f"{name:<10s} chain {network.chain_id:<6d} brownie: development (anvil, port of `local`)")
            continue
        if network.dev:
            fork = f", forking {network.fork_source}" if network.fork_source else ""
            lines.append(f"{name:<10s} chain {network.chain_id:<6d} brownie: --network {name} (anvil at {network.rpc}{fork})")
        else:
            state = "set" if network.rpc else "NOT SET in .env"
            lines.append(f"{name:<10s} chain {network.chain_id:<6d} brownie: --network {name} (host {network.rpc_source}: {state})")
    return lines
