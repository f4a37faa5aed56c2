"""`somstack monitor ...`: the click group of the transaction monitor (registered by cli.py).

Helpers of the main CLI (sessions, key options) are imported when a command runs, so that
cli.py can import this module at its end without a cycle.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from ..errors import SomstackError


def _info(message: str) -> None:
    click.echo(message, err=True)


def _settings_raw() -> dict[str, Any]:
    from ..config import load_settings

    return load_settings().raw


def _rules(rules_file: Path | None, rate: str | None) -> Any:
    from .scan import default_rules

    return default_rules(_settings_raw(), rules_file, rate)


@click.group()
def monitor() -> None:
    """Transaction monitoring for AML and sanctions: rules over a history or the live chain,
    alerts, an analyst's cases, reports for the financial intelligence unit (docs/monitor.md)."""


@monitor.command("scan")
@click.option("--transfers", "transfers", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Transfers CSV (block_number,timestamp,tx_hash,log_index,token,from,to,amount,reference).")
@click.option("--blocklist", type=click.Path(dir_okay=False, path_type=Path), help="Blocked or listed addresses (address,reason[,source]).")
@click.option("--rules", "rules_file", type=click.Path(dir_okay=False, path_type=Path), help="YAML overriding somstack.monitor.rules.")
@click.option("--rate", metavar="KGS_PER_USD", help="Som per USD (default: the configured official rate).")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="Alerts, one JSON object a line.")
def monitor_scan(transfers: Path, blocklist: Path | None, rules_file: Path | None, rate: str | None, out: Path) -> None:
    """Run every rule over a transfers file and write the alerts (same data, same alerts)."""
    from ..sanctions import SanctionsListRejectedError
    from .scan import read_blocklist, scan
    from .transfers import TransfersRejectedError

    rules = _rules(rules_file, rate)
    listed: list[str] = []
    if blocklist is not None:
        try:
            listed = read_blocklist(blocklist)
        except SanctionsListRejectedError as exc:
            for problem in exc.problems[:20]:
                _info(f"{blocklist.name}: {problem}")
            raise
    try:
        result = scan(transfers, rules, listed, out)
    except TransfersRejectedError as exc:
        for problem in exc.problems:
            _info(f"{transfers.name}: {problem}")
        raise
    counts = ", ".join(f"{rule} {n}" for rule, n in sorted(result.counts().items())) or "none"
    click.echo(f"{transfers.name}: {result.rows:,} transfers, {len(listed):,} listed addresses, rate {rules.rate} som/USD: "
               f"{len(result.alerts):,} alert(s) ({counts}) in {result.seconds:.1f} s -> {out}")


@monitor.command("synth")
@click.option("--seed", type=int, default=1, show_default=True, help="Seed of the generator (same seed, same files).")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path), help="Folder for transfers.csv, blocklist.csv, labels.json.")
@click.option("--transfers", "size", type=click.IntRange(1000), default=100_000, show_default=True, help="Background transfers (about).")
def monitor_synth(seed: int, out_dir: Path, size: int) -> None:
    """Write a labelled synthetic history: background activity plus planted instances of every
    typology (transfers.csv, blocklist.csv, labels.json)."""
    from .synth import generate

    made = generate(out_dir, seed=seed, background=size)
    click.echo(f"{out_dir}: {made.rows:,} transfers ({made.background:,} background), {len(made.labels)} planted instances, "
               f"{made.listed} listed addresses")


@monitor.command("quality")
@click.option("--dir", "data_dir", required=True, type=click.Path(file_okay=False, exists=True, path_type=Path), help="A folder written by `monitor synth`.")
@click.option("--rules", "rules_file", type=click.Path(dir_okay=False, path_type=Path), help="YAML overriding somstack.monitor.rules.")
def monitor_quality(data_dir: Path, rules_file: Path | None) -> None:
    """Scan a synthetic history and print recall and precision per rule against its labels."""
    from .synth import evaluate, format_quality

    quality = evaluate(data_dir, _rules(rules_file, None))
    for line in format_quality(quality):
        click.echo(line)


def register(cli: click.Group) -> None:
    cli.add_command(monitor)


def _json(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True)


_ = (sys, SomstackError, _json)
