"""The rules' parameters: defaults in brownie-config.yaml (``somstack: monitor:``), overridden by
a rules file (``--rules FILE``, YAML of the same shape as ``somstack.monitor.rules``).

Amounts are compared in som: a limit given in USD (``min_usd``, ``threshold_usd``) is converted
at the official rate (``rate_kgs_per_usd``, or ``--rate``); one given in som (``min_som``,
``threshold_som``) is taken as is. KGST is pegged 1:1 to the som, so both tokens count the same.
Unknown rules or parameters are refused, never ignored: a typo must not switch a rule off.

``exempt`` (a list of addresses) drops a typology rule's alerts whose subject is one of them: the
wallets whose normal business is the pattern (a treasury's payroll is a fan-out, a bank's hub a
fan-in). The sanctions rules take no exemptions.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Mapping

import yaml

from somstack.core.config import SAFE_LOADER
from somstack.core.errors import ConfigError, InputError

RULES = ("sanctions_direct", "sanctions_indirect", "large_no_reference", "structuring", "velocity",
         "pass_through", "fan_in", "fan_out", "round_trip")

# The built-in defaults: what the issue specifies. brownie-config.yaml repeats them (so an
# operator sees them) and may change them; a rules file changes them for one scan.
DEFAULTS: dict[str, Any] = {
    "rate_kgs_per_usd": "87.45",
    "confirmations": 12,
    "rules": {
        "threshold_usd": 1000,  # FATF Recommendation 16: the travel rule's threshold
        "sanctions_direct": {"enabled": True, "severity": "critical"},
        "sanctions_indirect": {"enabled": True, "severity": "high", "hops": 3, "min_share": 0.10},
        "large_no_reference": {"enabled": True, "severity": "medium"},
        "structuring": {"enabled": True, "severity": "high", "min_count": 3, "window_s": 86400,
                        "band_low": 0.80, "band_high": 1.00},
        "velocity": {"enabled": True, "severity": "medium", "multiple": 10, "lookback_days": 30,
                     "min_active_days": 5},
        "pass_through": {"enabled": True, "severity": "high", "share": 0.90, "window_s": 3600},
        "fan_in": {"enabled": True, "severity": "medium", "min_counterparties": 10, "window_s": 86400},
        "fan_out": {"enabled": True, "severity": "medium", "min_counterparties": 10, "window_s": 86400},
        "round_trip": {"enabled": True, "severity": "high", "max_hops": 4, "min_return": 0.80, "window_s": 259200},
    },
}
_COMMON = {"enabled", "severity", "min_usd", "min_som", "exempt"}
_SANCTIONS = ("sanctions_direct", "sanctions_indirect")  # no exemptions: a listed counterparty is never normal
_SEVERITIES = ("low", "medium", "high", "critical")


@dataclass(frozen=True)
class RuleSet:
    """Parameters of every rule, with every amount in som."""

    rate: Decimal  # [KGS per USD]
    rules: dict[str, dict[str, Any]]

    def enabled(self, rule: str) -> bool:
        return bool(self.rules[rule]["enabled"])

    def param(self, rule: str, name: str) -> Any:
        return self.rules[rule][name]

    def min_som(self, rule: str) -> float:
        """The rule's amount threshold [som]."""
        return float(self.rules[rule]["min_som"])

    def usd(self, som: float) -> float:
        return float(som) / float(self.rate)

    def describe(self) -> dict[str, Any]:
        return {"rate_kgs_per_usd": str(self.rate), "rules": self.rules}


def parse_rate(text: Any, what: str = "--rate") -> Decimal:
    try:
        rate = Decimal(str(text).strip())
    except InvalidOperation:
        raise InputError(f"{what} must be a number of som per USD (e.g. 87.45), not {text!r}") from None
    if not rate.is_finite() or rate <= 0:
        raise InputError(f"{what} must be a positive number of som per USD, not {text!r}")
    return rate


def _merge(base: dict[str, Any], override: Mapping[str, Any], where: str) -> None:
    for key, value in override.items():
        if key == "threshold_usd" or key == "threshold_som":
            base[key] = value
            continue
        if key not in RULES:
            raise ConfigError(f"{where}: unknown rule '{key}' (rules: {', '.join(RULES)})")
        if not isinstance(value, Mapping):
            raise ConfigError(f"{where}: rule '{key}' must be a mapping of parameters")
        allowed = set(DEFAULTS["rules"][key]) | _COMMON
        for name, setting in value.items():
            if name not in allowed:
                raise ConfigError(f"{where}: unknown parameter '{key}.{name}' (known: {', '.join(sorted(allowed))})")
            base[key][name] = setting
            if name == "min_usd":
                base[key].pop("min_som", None)
            if name == "min_som":
                base[key].pop("min_usd", None)


def _number(value: Any, what: str, positive: bool = True) -> Decimal:
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise ConfigError(f"{what} must be a number, not {value!r}") from None
    if not number.is_finite() or number < 0 or (positive and number == 0):
        raise ConfigError(f"{what} must be a {'positive' if positive else 'non-negative'} number, not {value!r}")
    return number


def load_rules(config: Mapping[str, Any] | None, rules_file: Path | None = None, rate: Decimal | None = None) -> RuleSet:
    """The rule set: built-in defaults, then ``config`` (the ``somstack.monitor`` section), then the
    rules file; ``rate`` (``--rate``) wins over the configured official rate."""
    merged = copy.deepcopy(DEFAULTS)
    config = dict(config or {})
    unknown = set(config) - {"rate_kgs_per_usd", "confirmations", "rules", "store", "webhook"}
    if unknown:
        raise ConfigError(f"somstack.monitor: unknown setting(s) {', '.join(sorted(unknown))}")
    if "rate_kgs_per_usd" in config:
        merged["rate_kgs_per_usd"] = config["rate_kgs_per_usd"]
    _merge(merged["rules"], config.get("rules") or {}, "somstack.monitor.rules in brownie-config.yaml")
    if rules_file is not None:
        try:
            loaded = yaml.load(rules_file.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
        except OSError as exc:
            raise InputError(f"cannot read {rules_file}: {exc.strerror or exc}") from None
        except yaml.YAMLError as exc:
            raise InputError(f"{rules_file}: not YAML: {str(exc).splitlines()[0]}") from None
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, Mapping):
            raise InputError(f"{rules_file}: must be a mapping of rules (as somstack.monitor.rules)")
        if "rules" in loaded and isinstance(loaded["rules"], Mapping) and set(loaded) <= {"rules", "rate_kgs_per_usd"}:
            if "rate_kgs_per_usd" in loaded:
                merged["rate_kgs_per_usd"] = loaded["rate_kgs_per_usd"]
            loaded = loaded["rules"]
        try:
            _merge(merged["rules"], loaded, str(rules_file))
        except ConfigError as exc:
            raise InputError(str(exc)) from None
    official = rate if rate is not None else parse_rate(merged["rate_kgs_per_usd"], "somstack.monitor.rate_kgs_per_usd")
    rules = merged["rules"]
    if "threshold_som" in rules:
        threshold_som = _number(rules.pop("threshold_som"), "threshold_som")
        rules.pop("threshold_usd", None)
    else:
        threshold_som = _number(rules.pop("threshold_usd"), "threshold_usd") * official
    out: dict[str, dict[str, Any]] = {}
    for rule in RULES:
        params = dict(rules[rule])
        if "min_som" in params:
            params["min_som"] = float(_number(params["min_som"], f"{rule}.min_som", positive=False))
        elif "min_usd" in params:
            params["min_som"] = float(_number(params.pop("min_usd"), f"{rule}.min_usd", positive=False) * official)
        else:
            params["min_som"] = float(threshold_som)
        params.pop("min_usd", None)
        params["min_usd"] = float(Decimal(str(params["min_som"])) / official)
        if params.get("severity") not in _SEVERITIES:
            raise ConfigError(f"{rule}.severity must be one of {', '.join(_SEVERITIES)}, not {params.get('severity')!r}")
        exempt = params.pop("exempt", None) or []
        if exempt and rule in _SANCTIONS:
            raise ConfigError(f"{rule}.exempt: the sanctions rules take no exemptions")
        if not isinstance(exempt, list) or not all(isinstance(a, str) and re.fullmatch(r"0x[0-9a-fA-F]{40}", a) for a in exempt):
            raise ConfigError(f"{rule}.exempt must be a list of 0x addresses")
        params["exempt"] = sorted({a.lower() for a in exempt})
        for name, value in list(params.items()):
            if name in ("enabled", "severity", "min_som", "min_usd", "exempt"):
                continue
            number = _number(value, f"{rule}.{name}")
            params[name] = int(number) if name in ("hops", "min_count", "window_s", "lookback_days", "min_active_days",
                                                    "min_counterparties", "max_hops") else float(number)
        out[rule] = params
    if not 1 <= out["sanctions_indirect"]["hops"] <= 6:
        raise ConfigError("sanctions_indirect.hops must be 1 to 6")
    if not 2 <= out["round_trip"]["max_hops"] <= 4:
        raise ConfigError("round_trip.max_hops must be 2 to 4")
    return RuleSet(rate=official, rules=out)
