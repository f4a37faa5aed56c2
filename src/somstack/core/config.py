"""Settings: the project root, brownie-config.yaml (compiler, networks, deployment) and .env.

brownie-config.yaml is the one place for compiler and network settings; this module reads the
same file brownie reads, so the CLI, the tests and ``brownie run`` agree.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import yaml
from dotenv import load_dotenv
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveFloat,
    ValidationError,
)

from somstack.core.errors import ConfigError

# libyaml's safe loader where PyYAML was built with it (the wheels are): the pure-Python one
# took 50 ms to read brownie-config.yaml, at every command
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

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


# --- somstack.deployment of brownie-config.yaml, validated by pydantic models: a bad field is
# named by its path in one line (see _config_error); then turned into the frozen dataclasses above.


def _whole_som(value: Any) -> int | None:
    """A limit or a ceiling in whole som: a non-negative integer, or ``unlimited`` (None)."""
    if isinstance(value, str) and value.strip().lower() == "unlimited":
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError(f"must be a whole number of som or 'unlimited', not {value!r}")
    try:
        amount = int(value)
    except ValueError:
        raise ValueError(f"must be a whole number of som or 'unlimited', not {value!r}") from None
    if amount < 0:
        raise ValueError(f"must not be negative, not {value!r}")
    return amount


WholeSom = Annotated[Any, AfterValidator(_whole_som)]
Ceiling = Annotated[Any, AfterValidator(lambda value: None if value is None else _whole_som(value))]  # empty: none
_OrEmpty = BeforeValidator(lambda value: {} if value is None else value)  # `key:` with nothing under it


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, coerce_numbers_to_str=True)


class _StablecoinModel(_Model):
    name: str
    symbol: str
    decimals: NonNegativeInt = 18


class _TierModel(_Model):
    name: str | None = None
    holding_cap: WholeSom
    transfer_limit: WholeSom
    daily_limit: WholeSom


class _PayrollModel(_Model):
    max_row: Ceiling = None
    max_total: Ceiling = None


class _DigitalCurrencyModel(_Model):
    name: str
    symbol: str
    decimals: NonNegativeInt = 2
    tiers: Annotated[dict[Annotated[int, Field(ge=1, le=127)], _TierModel], _OrEmpty] = {}
    payroll: Annotated[_PayrollModel, _OrEmpty] = _PayrollModel()


class _DeploymentModel(_Model):
    stablecoin: _StablecoinModel
    digital_currency: _DigitalCurrencyModel
    upgrade_delay: NonNegativeInt
    withdrawal_delay: NonNegativeInt
    governance_delay: NonNegativeInt = 0
    reserve: Annotated[dict[str, Any], _OrEmpty] = {}
    redemption: Annotated[dict[str, Any], _OrEmpty] = {}
    dev_holders: Annotated[dict[str, list[int]], _OrEmpty] = {}


class _NetworkModel(_Model):
    rpc: str = ""
    chain_id: int
    dev: bool = False
    mainnet: bool = False
    explorer: str | None = None
    bsc_canonical: bool = False
    fork: str | None = None


class _RpcPolicyModel(_Model):
    attempts: PositiveFloat = 4.0
    timeout: PositiveFloat = 10.0
    backoff: NonNegativeFloat = 0.5


def _config_error(exc: ValidationError, where: str, also: str = "") -> ConfigError:
    """The first bad field of ``exc`` in one line, by its path (then ``also``, e.g. the
    environment variable that may have set it), and how many more there are."""
    errors = exc.errors()
    first = errors[0]
    path = ".".join(str(part) for part in (where, *first["loc"]) if part != "[key]")
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] != "missing" and "input" in first and not message.endswith(repr(first["input"])):
        message += f", not {first['input']!r}"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return ConfigError(f"{CONFIG_FILE}: {path}{also}: {message}{more}")


def _units(whole: int | None, decimals: int, what: str) -> int:
    """Whole som in token units; None (unlimited) as UNLIMITED."""
    if whole is None:
        return UNLIMITED
    amount = whole * 10**decimals
    if amount >= UNLIMITED:
        raise ConfigError(f"{CONFIG_FILE}: {what} is out of range: {whole!r}")
    return amount


def _digital_currency(model: _DigitalCurrencyModel, where: str) -> DigitalCurrencyParams:
    decimals = model.decimals
    tiers = [
        TierParams(
            id=tier_id,
            name=spec.name if spec.name is not None else f"tier {tier_id}",
            **{key: _units(getattr(spec, key), decimals, f"{where}.tiers.{tier_id}.{key}")
               for key in ("holding_cap", "transfer_limit", "daily_limit")},
        )
        for tier_id, spec in sorted(model.tiers.items())
    ]
    ceilings = {key: None if getattr(model.payroll, key) is None
                else _units(getattr(model.payroll, key), decimals, f"{where}.payroll.{key}") for key in ("max_row", "max_total")}
    return DigitalCurrencyParams(model.name, model.symbol, decimals, tuple(tiers),
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
        try:
            entry = _NetworkModel.model_validate({k: v for k, v in (networks[name] or {}).items() if v is not None})
        except ValidationError as exc:
            raise _config_error(exc, f"somstack.core.networks.{name}") from None
        return Network(
            name=name,
            rpc=_resolve_env(entry.rpc),
            rpc_source=entry.rpc,
            chain_id=entry.chain_id,
            dev=entry.dev,
            mainnet=entry.mainnet,
            explorer=entry.explorer,
            bsc_canonical=entry.bsc_canonical,
            fork=_resolve_env(entry.fork) if entry.fork else None,
            fork_source=entry.fork or None,
        )

    @property
    def rpc_policy(self) -> dict[str, float]:
        """``somstack.rpc`` (attempts, timeout [s], backoff [s]), each overridable for one shell
        by ``SOMSTACK_RPC_ATTEMPTS``, ``SOMSTACK_RPC_TIMEOUT``, ``SOMSTACK_RPC_BACKOFF``."""
        section = dict(self._somstack.get("rpc") or {})
        for key in _RpcPolicyModel.model_fields:
            section[key] = os.environ.get(f"SOMSTACK_RPC_{key.upper()}", "").strip() or section.get(key)
        try:
            policy = _RpcPolicyModel.model_validate({k: v for k, v in section.items() if v not in (None, "")})
        except ValidationError as exc:
            key = str(exc.errors()[0]["loc"][0])
            raise _config_error(exc, "somstack.rpc", f" (or SOMSTACK_RPC_{key.upper()})") from None
        return policy.model_dump()

    def deployment(self, network: str) -> DeploymentParams:
        section = dict(self._somstack.get("deployment", {}))
        overrides = (section.pop("overrides", None) or {}).get(network, {}) or {}
        merged = {**section, **overrides}
        try:
            model = _DeploymentModel.model_validate(merged)
        except ValidationError as exc:
            raise _config_error(exc, "somstack.deployment") from None
        token = model.stablecoin
        return DeploymentParams(
            stablecoin=StablecoinParams(name=token.name, symbol=token.symbol, decimals=token.decimals),
            digital_currency=_digital_currency(model.digital_currency, "somstack.deployment.digital_currency"),
            upgrade_delay=model.upgrade_delay,
            withdrawal_delay=model.withdrawal_delay,
            governance_delay=model.governance_delay,
            reserve=dict(model.reserve),
            redemption=dict(model.redemption),
            dev_holders={role: list(indexes) for role, indexes in model.dev_holders.items()},
        )


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
        raw = yaml.load(path.read_text(), Loader=SAFE_LOADER) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read {path.name}: {exc}") from None
    return Settings(root=root, raw=raw)
