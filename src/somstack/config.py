"""Settings: the project root, brownie-config.yaml (compiler, networks, deployment) and .env.

brownie-config.yaml is the one place for compiler and network settings; this module reads the
same file brownie reads, so the CLI, the tests and ``brownie run`` agree.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from dotenv import load_dotenv

from .errors import ConfigError

CONFIG_FILE = "brownie-config.yaml"
_ENV_REF = re.compile(r"^\$\{?([A-Z_][A-Z0-9_]*)\}?$")


def find_root(start: Path | None = None) -> Path:
    """The project root: the nearest folder at or above ``start`` holding brownie-config.yaml.

    ``SOMSTACK_ROOT`` overrides the search.
    """
    if os.environ.get("SOMSTACK_ROOT"):
        root = Path(os.environ["SOMSTACK_ROOT"]).resolve()
        if not (root / CONFIG_FILE).is_file():
            raise ConfigError(f"SOMSTACK_ROOT={root} has no {CONFIG_FILE}")
        return root
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / CONFIG_FILE).is_file():
            return folder
    raise ConfigError(f"no {CONFIG_FILE} here or above {here}: run somstack from the project folder")


def prepare_environment(root: Path) -> None:
    """Loads ``.env`` and puts the project's node tools and compiler shim where brownie looks.

    Variables already set in the environment win over ``.env``.
    """
    env_file = root / ".env"
    if env_file.is_file():
        load_dotenv(env_file, override=False)
    node_bin = str(root / "node_modules" / ".bin")
    if node_bin not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = node_bin + os.pathsep + os.environ.get("PATH", "")
    os.environ.setdefault("SOLCX_BINARY_PATH", str(root / ".solcx"))


@dataclass(frozen=True)
class Network:
    """A named network of the operator CLI."""

    name: str
    rpc: str | None
    rpc_source: str
    chain_id: int
    dev: bool = False
    mainnet: bool = False
    explorer: str | None = None
    bsc_canonical: bool = False  # a local chain of ours places the canonical BSC contracts
    fork: str | None = None  # a local chain of ours forks this RPC (``fork:`` in the config, $VAR resolved)
    fork_source: str | None = None  # ``fork:`` as written (a $VAR names the variable to set)


@dataclass(frozen=True)
class CompilerSettings:
    version: str
    evm_version: str
    optimizer: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"solc": self.version, "evmVersion": self.evm_version, "optimizer": dict(self.optimizer)}


@dataclass(frozen=True)
class StablecoinParams:
    name: str
    symbol: str
    decimals: int


UNLIMITED = 2**128 - 1  # DigitalCurrency.UNLIMITED: a tier limit that does not bind


@dataclass(frozen=True)
class TierParams:
    """A wallet tier of the digital som; limits in token units (UNLIMITED: none)."""

    id: int
    name: str
    holding_cap: int
    transfer_limit: int
    daily_limit: int

    @property
    def capped(self) -> bool:
        return self.holding_cap != UNLIMITED

    def as_tuple(self) -> tuple[int, int, int, bool]:
        """The on-chain ``Tier`` struct."""
        return (self.holding_cap, self.transfer_limit, self.daily_limit, True)


@dataclass(frozen=True)
class DigitalCurrencyParams:
    name: str
    symbol: str
    decimals: int
    tiers: tuple[TierParams, ...] = ()
    # Payroll ceilings [token units] (digital_currency.payroll in brownie-config.yaml): a row
    # over max_row, or a payroll over max_total, is refused before anything is sent. None: none.
    payroll_max_row: int | None = None
    payroll_max_total: int | None = None

    def tier(self, tier_id: int) -> TierParams | None:
        return next((t for t in self.tiers if t.id == tier_id), None)


def _limit(value: Any, decimals: int, what: str) -> int:
    """A tier limit from the config: whole som (a number) or ``unlimited``."""
    if isinstance(value, str) and value.strip().lower() == "unlimited":
        return UNLIMITED
    try:
        amount = int(value) * 10**decimals
    except (TypeError, ValueError):
        raise ConfigError(f"{what} must be a whole number of som or 'unlimited', not {value!r}") from None
    if not 0 <= amount < UNLIMITED:
        raise ConfigError(f"{what} is out of range: {value!r}")
    return amount


def _digital_currency(section: dict[str, Any]) -> DigitalCurrencyParams:
    decimals = int(section.get("decimals", 2))
    tiers = []
    for key, spec in (section.get("tiers") or {}).items():
        tier_id = int(key)
        if not 1 <= tier_id <= 127:
            raise ConfigError(f"digital_currency.tiers: tier ids run from 1 to 127, not {tier_id}")
        where = f"digital_currency.tiers.{tier_id}"
        tiers.append(
            TierParams(
                id=tier_id,
                name=str(spec.get("name", f"tier {tier_id}")),
                holding_cap=_limit(spec["holding_cap"], decimals, f"{where}.holding_cap"),
                transfer_limit=_limit(spec["transfer_limit"], decimals, f"{where}.transfer_limit"),
                daily_limit=_limit(spec["daily_limit"], decimals, f"{where}.daily_limit"),
            )
        )
    payroll = dict(section.get("payroll") or {})
    ceilings = {
        key: None if payroll.get(key) in (None, "unlimited") else _limit(payroll[key], decimals, f"digital_currency.payroll.{key}")
        for key in ("max_row", "max_total")
    }
    return DigitalCurrencyParams(str(section["name"]), str(section["symbol"]), decimals, tuple(sorted(tiers, key=lambda t: t.id)),
                                 payroll_max_row=ceilings["max_row"], payroll_max_total=ceilings["max_total"])


@dataclass(frozen=True)
class DeploymentParams:
    """What the deploy plan needs besides the chain: token metadata, delays, role holders."""

    stablecoin: StablecoinParams
    digital_currency: DigitalCurrencyParams
    upgrade_delay: int  # [s]
    withdrawal_delay: int  # [s]
    governance_delay: int = 0  # execution delay of the governance address as ADMIN [s]
    reserve: dict[str, Any] = field(default_factory=dict)
    redemption: dict[str, Any] = field(default_factory=dict)  # min_amount [whole KGST], service_level [s]
    dev_holders: dict[str, list[int]] = field(default_factory=dict)

    def delay_of(self, setting: str) -> int:
        return int(getattr(self, setting))


@dataclass(frozen=True)
class Settings:
    root: Path
    raw: dict[str, Any]

    @property
    def deployments_dir(self) -> Path:
        """Where manifests live: SOMSTACK_DEPLOYMENTS_DIR, else <root>/deployments."""
        override = os.environ.get("SOMSTACK_DEPLOYMENTS_DIR")
        return Path(override) if override else self.root / "deployments"

    @property
    def compiler(self) -> CompilerSettings:
        compiler = self.raw.get("compiler", {})
        solc = compiler.get("solc", {})
        return CompilerSettings(
            version=str(solc.get("version")),
            evm_version=str(compiler.get("evm_version")),
            optimizer=solc.get("optimizer", {}),
        )

    @property
    def _somstack(self) -> dict[str, Any]:
        section = self.raw.get("somstack")
        if not isinstance(section, dict):
            raise ConfigError(f"{CONFIG_FILE} has no 'somstack:' section")
        return section

    @property
    def anvil(self) -> dict[str, Any]:
        return dict(self._somstack.get("anvil", {}))

    def network_names(self) -> list[str]:
        return list(self._somstack.get("networks", {}))

    def network(self, name: str) -> Network:
        networks = self._somstack.get("networks", {})
        if name not in networks:
            known = ", ".join(networks) or "none"
            raise ConfigError(f"unknown network '{name}' (known: {known})")
        entry = networks[name] or {}
        rpc_source = str(entry.get("rpc", ""))
        rpc = _resolve_env(rpc_source)
        try:
            chain_id = int(entry["chain_id"])
        except (KeyError, TypeError, ValueError):
            raise ConfigError(f"network '{name}' needs an integer chain_id in {CONFIG_FILE}") from None
        return Network(
            name=name,
            rpc=rpc,
            rpc_source=rpc_source,
            chain_id=chain_id,
            dev=bool(entry.get("dev", False)),
            mainnet=bool(entry.get("mainnet", False)),
            explorer=entry.get("explorer"),
            bsc_canonical=bool(entry.get("bsc_canonical", False)),
            fork=_resolve_env(str(entry["fork"])) if entry.get("fork") else None,
            fork_source=str(entry["fork"]) if entry.get("fork") else None,
        )

    @property
    def rpc_policy(self) -> dict[str, float]:
        """``somstack.rpc`` (attempts, timeout [s], backoff [s]), each overridable for one shell
        by ``SOMSTACK_RPC_ATTEMPTS``, ``SOMSTACK_RPC_TIMEOUT``, ``SOMSTACK_RPC_BACKOFF``."""
        section = dict(self._somstack.get("rpc") or {})
        policy = {"attempts": 4.0, "timeout": 10.0, "backoff": 0.5}
        for key in policy:
            raw = os.environ.get(f"SOMSTACK_RPC_{key.upper()}", "").strip() or section.get(key)
            if raw in (None, ""):
                continue
            try:
                policy[key] = float(raw)
            except (TypeError, ValueError):
                raise ConfigError(f"somstack.rpc.{key} (or SOMSTACK_RPC_{key.upper()}) must be a number, not {raw!r}") from None
            if policy[key] < 0 or (key != "backoff" and policy[key] == 0):
                raise ConfigError(f"somstack.rpc.{key} (or SOMSTACK_RPC_{key.upper()}) must be positive, not {raw!r}")
        return policy

    def deployment(self, network: str) -> DeploymentParams:
        section = dict(self._somstack.get("deployment", {}))
        overrides = (section.pop("overrides", None) or {}).get(network, {}) or {}
        merged = {**section, **overrides}
        token = merged.get("stablecoin", {})
        try:
            return DeploymentParams(
                stablecoin=StablecoinParams(
                    name=str(token["name"]), symbol=str(token["symbol"]), decimals=int(token.get("decimals", 18))
                ),
                digital_currency=_digital_currency(dict(merged.get("digital_currency") or {})),
                upgrade_delay=int(merged["upgrade_delay"]),
                withdrawal_delay=int(merged["withdrawal_delay"]),
                governance_delay=int(merged.get("governance_delay", 0)),
                reserve=dict(merged.get("reserve") or {}),
                redemption=dict(merged.get("redemption") or {}),
                dev_holders={k: [int(i) for i in v] for k, v in (merged.get("dev_holders") or {}).items()},
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"somstack.deployment in {CONFIG_FILE} is incomplete: {exc}") from None


def _resolve_env(value: str) -> str | None:
    """``$VAR`` or ``${VAR}`` → the variable's value (None when unset); anything else as is."""
    match = _ENV_REF.match(value.strip())
    if match:
        return os.environ.get(match.group(1)) or None
    return value or None


def load_settings(root: Path | None = None) -> Settings:
    root = root or find_root()
    prepare_environment(root)
    path = root / CONFIG_FILE
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read {path.name}: {exc}") from None
    return Settings(root=root, raw=raw)
