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


# --- Following the chain ---


def chain_options(func: Any) -> Any:
    func = click.option("--store", "store_path", type=click.Path(dir_okay=False, path_type=Path),
                        help="The monitor's SQLite store (default build/monitor/<chain id>.sqlite).")(func)
    func = click.option("--confirmations", type=click.IntRange(0), help="Blocks behind the head (default somstack.monitor.confirmations).")(func)
    func = click.option("--chunk", type=click.IntRange(1, 100_000), default=2000, show_default=True, help="Blocks per eth_getLogs.")(func)
    func = click.option("--rpc", help="RPC URL (default: the network's, or SOMSTACK_RPC_<NETWORK>).")(func)
    func = click.option("--network", "network_name", default="local", show_default=True, help="Named network (brownie-config.yaml).")(func)
    return func


class _Chain:
    """A read-only session, the manifest, the store and the follower of a deployed network."""

    def __init__(self, network_name: str, rpc: str | None, store_path: Path | None, confirmations: int | None, chunk: int):
        self.args = (network_name, rpc, store_path, confirmations, chunk)

    def __enter__(self) -> "_Chain":
        from ..cli import _deployed_session
        from ..ops import session_manifest
        from .follow import Follower
        from .scan import monitor_config
        from .store import Store, default_path

        network_name, rpc, store_path, confirmations, chunk = self.args
        self._session_cm = _deployed_session(network_name, rpc, None, False)
        self.session = self._session_cm.__enter__()
        try:
            self.manifest = session_manifest(self.session)
            config = monitor_config(self.session.settings.raw)
            depth = confirmations if confirmations is not None else int(config.get("confirmations", 12))
            chain_id = self.session.w3.eth.chain_id
            self.store = Store(store_path or default_path(self.session.settings.root, chain_id))
            self.store.set("chain_id", chain_id)
            self.follower = Follower(self.session.w3, self.manifest, self.session.artifacts, self.store, depth, chunk, log=_info)
        except BaseException:
            self._session_cm.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc: Any) -> None:
        self.store.close()
        self._session_cm.__exit__(*exc)


@monitor.command("export")
@chain_options
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The transfers CSV to write.")
def monitor_export(network_name: str, rpc: str | None, store_path: Path | None, confirmations: int | None, chunk: int, out: Path) -> None:
    """Read the chain's token events into the store (up to the confirmation depth) and write its
    transfers as a transfers CSV, for `monitor scan` or an auditor."""
    from .follow import export_transfers

    with _Chain(network_name, rpc, store_path, confirmations, chunk) as chain:
        result = chain.follower.poll()
        rows = export_transfers(chain.store, out)
    click.echo(f"{out}: {rows:,} transfers up to block {result.cursor} (head {result.head}); {result.new_events:,} new event(s) read")


@monitor.command("run")
@chain_options
@click.option("--blocklist", type=click.Path(dir_okay=False, exists=True, path_type=Path), help="Listed addresses besides the on-chain blocklist.")
@click.option("--rules", "rules_file", type=click.Path(dir_okay=False, path_type=Path), help="YAML overriding somstack.monitor.rules.")
@click.option("--rate", metavar="KGS_PER_USD", help="Som per USD (default: the configured official rate).")
@click.option("--webhook", envvar="SOMSTACK_MONITOR_WEBHOOK", help="URL that receives each new alert as a JSON POST (retried until accepted).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address of /metrics and /healthz.")
@click.option("--port", type=click.IntRange(0, 65535), default=9464, show_default=True, help="Port of /metrics and /healthz (0: none).")
@click.option("--poll", type=click.FloatRange(min=0.05), default=1.0, show_default=True, help="Seconds between polls.")
@click.option("--once", is_flag=True, help="One round (read, evaluate, deliver), then exit.")
def monitor_run(network_name: str, rpc: str | None, store_path: Path | None, confirmations: int | None, chunk: int,
                blocklist: Path | None, rules_file: Path | None, rate: str | None, webhook: str | None, host: str, port: int,
                poll: float, once: bool) -> None:
    """Follow KGST and the digital som: read their events behind the head, run the rules as
    events arrive, raise and retract alerts, post them to --webhook; serve /metrics and /healthz."""
    from .follow import Runner, serve_http
    from .scan import read_blocklist

    rules = _rules(rules_file, rate)
    listed = read_blocklist(blocklist) if blocklist else []
    with _Chain(network_name, rpc, store_path, confirmations, chunk) as chain:
        runner = Runner(chain.follower, chain.store, rules, listed, chain.store.path.parent, webhook, log=_info)
        server = serve_http(host, port, runner.metrics, runner.health) if port and not once else None
        if server is not None:
            _info(f"monitor: /metrics and /healthz on http://{host}:{server.server_address[1]}")
        _info(f"monitor: following {len(chain.follower.tokens)} token(s) from block {chain.follower.start}, "
              f"{chain.follower.confirmations} confirmation(s) behind the head; store {chain.store.path}")
        try:
            runner.run(poll, once)
        finally:
            if server is not None:
                server.shutdown()
        open_alerts = len(chain.store.alerts("open"))
    click.echo(f"read up to block {runner.health.cursor} (head {runner.health.head}); {open_alerts} open alert(s)")


def register(cli: click.Group) -> None:
    cli.add_command(monitor)


def _json(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True)


_ = (sys, SomstackError, _json)
