"""`somstack monitor ...`: the click group of the transaction monitor (cli/__init__.py adds it
to the root); `case propose-block` blocks through the compliance operation of cli.compliance."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from somstack.core.errors import SomstackError


def _info(message: str) -> None:
    click.echo(message, err=True)


def _settings_raw() -> dict[str, Any]:
    from somstack.core.config import load_settings

    return load_settings().raw


def _rules(rules_file: Path | None, rate: str | None) -> Any:
    from somstack.monitor.scan import default_rules

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
    from somstack.monitor.scan import read_blocklist, scan
    from somstack.monitor.transfers import TransfersRejectedError
    from somstack.ops.sanctions import SanctionsListRejectedError

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
    from somstack.monitor.synth import generate

    made = generate(out_dir, seed=seed, background=size)
    click.echo(f"{out_dir}: {made.rows:,} transfers ({made.background:,} background), {len(made.labels)} planted instances, "
               f"{made.listed} listed addresses")


@monitor.command("quality")
@click.option("--dir", "data_dir", required=True, type=click.Path(file_okay=False, exists=True, path_type=Path), help="A folder written by `monitor synth`.")
@click.option("--rules", "rules_file", type=click.Path(dir_okay=False, path_type=Path), help="YAML overriding somstack.monitor.rules.")
def monitor_quality(data_dir: Path, rules_file: Path | None) -> None:
    """Scan a synthetic history and print recall and precision per rule against its labels."""
    from somstack.monitor.synth import evaluate, format_quality

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
        from somstack.cli.common import reading
        from somstack.core.session import session_manifest
        from somstack.monitor.follow import Follower
        from somstack.monitor.scan import monitor_config
        from somstack.monitor.store import Store, default_path

        network_name, rpc, store_path, confirmations, chunk = self.args
        self._session_cm = reading(network_name, rpc).session()
        self.session = self._session_cm.__enter__()
        try:
            self.manifest = session_manifest(self.session)
            config = monitor_config(self.session.settings.raw)
            depth = confirmations if confirmations is not None else int(config.get("confirmations", 12))
            chain_id = self.session.w3.eth.chain_id
            self.store = Store(store_path or default_path(self.session.settings.root, chain_id))
            self.store.set("chain_id", chain_id)
            self.follower = Follower(self.session.w3, self.manifest, self.session.artifacts, self.store, depth, chunk)
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
    from somstack.monitor.follow import export_transfers

    with _Chain(network_name, rpc, store_path, confirmations, chunk) as chain:
        result = chain.follower.poll()
        rows = export_transfers(chain.store, out)
    click.echo(f"{out}: {rows:,} transfers up to block {result.cursor} (head {result.head}); {result.new_events:,} new event(s) read")


@monitor.command("run")
@chain_options
@click.option("--blocklist", type=click.Path(dir_okay=False, exists=True, path_type=Path), help="Listed addresses besides the on-chain blocklist.")
@click.option("--rules", "rules_file", type=click.Path(dir_okay=False, path_type=Path), help="YAML overriding somstack.monitor.rules.")
@click.option("--rate", metavar="KGS_PER_USD", help="Som per USD (default: the configured official rate).")
@click.option("--webhook", envvar="SOMSTACK_MONITOR_WEBHOOK",
              help="URL that receives each new alert as a JSON POST (retried until accepted); signed with "
                   "SOMSTACK_MONITOR_WEBHOOK_SECRET (HMAC-SHA256, header X-Somstack-Signature) when that is set.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address of /metrics and /healthz.")
@click.option("--port", type=click.IntRange(0, 65535), default=9464, show_default=True, help="Port of /metrics and /healthz (0: none).")
@click.option("--poll", type=click.FloatRange(min=0.05), default=1.0, show_default=True, help="Seconds between polls.")
@click.option("--once", is_flag=True, help="One round (read, evaluate, deliver), then exit.")
def monitor_run(network_name: str, rpc: str | None, store_path: Path | None, confirmations: int | None, chunk: int,
                blocklist: Path | None, rules_file: Path | None, rate: str | None, webhook: str | None, host: str, port: int,
                poll: float, once: bool) -> None:
    """Follow KGST and the digital som: read their events behind the head, run the rules as
    events arrive, raise and retract alerts, post them to --webhook; serve /metrics and /healthz."""
    from somstack.monitor.follow import Runner, serve_http
    from somstack.monitor.scan import read_blocklist

    rules = _rules(rules_file, rate)
    listed = read_blocklist(blocklist) if blocklist else []
    with _Chain(network_name, rpc, store_path, confirmations, chunk) as chain:
        import os

        secret = os.environ.get("SOMSTACK_MONITOR_WEBHOOK_SECRET") or None
        runner = Runner(chain.follower, chain.store, rules, listed, chain.store.path.parent, webhook, webhook_secret=secret)
        server = serve_http(host, port, runner.metrics, runner.health) if port and not once else None
        if server is not None:
            _info(f"monitor: /metrics and /healthz on http://{host}:{server.server_address[1]}")
        _info(f"monitor: following {len(chain.follower.tokens)} token(s) from block {chain.follower.start}, "
              f"{chain.follower.confirmations} confirmation(s) behind the head; store {chain.store.path}")
        try:
            runner.run(poll, once)
        except KeyboardInterrupt:
            _info(f"monitor: stopped at block {runner.health.cursor}; the store keeps the cursor and the outbox: "
                  "run the same command to resume")
            raise SystemExit(130) from None
        finally:
            if server is not None:
                server.shutdown()
        open_alerts = len(chain.store.alerts("open"))
    click.echo(f"read up to block {runner.health.cursor} (head {runner.health.head}); {open_alerts} open alert(s)")


# --- Alerts and cases (the store only; no chain needed except for propose-block and identify) ---


def store_options(func: Any) -> Any:
    func = click.option("--store", "store_path", type=click.Path(dir_okay=False, path_type=Path),
                        help="The monitor's SQLite store (default build/monitor/<chain id of --network>.sqlite).")(func)
    func = click.option("--network", "network_name", default="local", show_default=True, envvar="SOMSTACK_NETWORK",
                        help="Named network (its chain id names the default store).")(func)
    return func


def who_option(func: Any) -> Any:
    return click.option("--who", envvar="SOMSTACK_ANALYST", required=True,
                        help="The analyst acting (an operator id; default SOMSTACK_ANALYST); recorded in the audit trail.")(func)


def _store(network_name: str, store_path: Path | None) -> Any:
    from somstack.core.config import load_settings
    from somstack.monitor.store import Store, default_path

    if store_path is None:
        settings = load_settings()
        store_path = default_path(settings.root, settings.network(network_name).chain_id)
    if not store_path.exists():
        raise SomstackError(f"no monitor store at {store_path}: run `somstack monitor run` (or --once) first")
    return Store(store_path)


@monitor.command("alerts")
@store_options
@click.option("--status", type=click.Choice(["open", "in_case", "closed", "retracted"]), help="Only alerts in this state.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object a line (the alert, its status and case).")
def monitor_alerts(network_name: str, store_path: Path | None, status: str | None, as_json: bool) -> None:
    """List the alerts of the store."""
    store = _store(network_name, store_path)
    rows = store.alerts(status)
    for row in rows:
        record = row["record"]
        if as_json:
            click.echo(json.dumps({**record, "status": row["status"], "case": row["case_id"]}, separators=(",", ":")))
        else:
            click.echo(f"{record['id']}  {row['status']:9s} {record['rule']:18s} {record['severity']:8s} {record['amount_usd']:>14,.2f} USD  "
                       f"{record['addresses'][0]}  {record['last_seen']}")
    if not as_json:
        _info(f"{len(rows)} alert(s)" + (f" {status}" if status else ""))


@monitor.group("case")
def case() -> None:
    """Cases: alerts an analyst works, with an append-only audit trail."""


@case.command("open")
@store_options
@who_option
@click.argument("alert_ids", nargs=-1, required=True, metavar="ALERT...")
@click.option("--note", "text", default="", help="Why the case is opened.")
def case_open(network_name: str, store_path: Path | None, who: str, alert_ids: tuple[str, ...], text: str) -> None:
    """Open a case on one or more alerts."""
    from somstack.monitor.cases import open_case

    opened = open_case(_store(network_name, store_path), alert_ids, who, text)
    click.echo(f"case {opened['id']} opened by {who} with {len(opened['alerts'])} alert(s)")


@case.command("note")
@store_options
@who_option
@click.argument("case_id", metavar="CASE")
@click.argument("text")
def case_note(network_name: str, store_path: Path | None, who: str, case_id: str, text: str) -> None:
    """Add a note to an open case."""
    from somstack.monitor.cases import note

    entry = note(_store(network_name, store_path), case_id, who, text)
    click.echo(f"case {case_id}: note recorded ({entry['hash'][:16]})")


@case.command("close")
@store_options
@who_option
@click.argument("case_id", metavar="CASE")
@click.option("--outcome", type=click.Choice(["reported", "blocked", "false_positive", "no_action"]), required=True)
@click.option("--note", "text", default="", help="Why.")
def case_close(network_name: str, store_path: Path | None, who: str, case_id: str, outcome: str, text: str) -> None:
    """Close a case with its outcome."""
    from somstack.monitor.cases import close

    close(_store(network_name, store_path), case_id, who, outcome, text)
    click.echo(f"case {case_id} closed: {outcome}")


@case.command("report")
@store_options
@who_option
@click.argument("case_id", metavar="CASE")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="Report path: its .json and .html are written.")
def case_report(network_name: str, store_path: Path | None, who: str, case_id: str, out: Path) -> None:
    """Write the suspicious-transaction report of a case for the financial intelligence unit
    (JSON and a readable HTML page: the transactions, the evidence, the notes, the audit trail)."""
    from somstack.monitor.cases import write_report

    json_path, html_path = write_report(_store(network_name, store_path), case_id, out, who)
    click.echo(f"case {case_id}: wrote {json_path} and {html_path}")


@case.command("propose-block", context_settings={"ignore_unknown_options": False})
@store_options
@who_option
@click.argument("case_id", metavar="CASE")
@click.option("--address", "addresses", multiple=True, help="Address to block (default: the subject of each of the case's alerts).")
@click.option("--safe", help="Write a Safe proposal for this Safe (governance propose) instead of sending.")
@click.option("--batch", "batch", type=click.Path(dir_okay=False, path_type=Path), help="With --safe: the batch file to write.")
@click.option("--rpc", metavar="URL", help="RPC URL instead of the network's.")
@click.option("--from-index", type=click.IntRange(min=0), help="Dev networks: the node account that signs.")
@click.option("--key-env", metavar="VAR", help="Environment variable holding the signing key.")
@click.option("--yes-mainnet", is_flag=True, help="Confirm sending on a mainnet network.")
def case_propose_block(network_name: str, store_path: Path | None, who: str, case_id: str, addresses: tuple[str, ...],
                       safe: str | None, batch: Path | None, rpc: str | None, from_index: int | None, key_env: str | None,
                       yes_mainnet: bool) -> None:
    """Turn a case into the existing compliance block on every token (`compliance block ADDRESS
    --reason CASE`), sent directly by a COMPLIANCE holder, or with --safe written as a Safe
    proposal through the governance routes. Recorded in the case's audit trail."""
    from somstack.cli.common import Target, _keys
    from somstack.cli.compliance import sanction
    from somstack.cli.governance import write_proposal
    from somstack.core.format import parse_address
    from somstack.monitor.cases import record, subjects
    from somstack.system.routes import Route

    store = _store(network_name, store_path)
    targets = list(addresses) or subjects(store, case_id)
    route = Route("propose", safe=parse_address(safe, "--safe")) if safe else None
    target = Target(network_name, rpc, _keys(key_env, None, None), from_index, yes_mainnet, route)
    done: list[str] = []  # blocked, or in the batch written
    try:
        proposed = []
        for address in targets:
            sanction(target, address, True, case_id)
            (proposed if route else done).append(address)
        if route is not None:
            write_proposal(route, batch, f"SomStack case {case_id}", append=False)
            done = proposed
    finally:
        record(store, case_id, who, "propose-block", {"route": "safe" if safe else "direct", "safe": safe, "addresses": targets,
                                                       "done": done, "reason": case_id})
    click.echo(f"case {case_id}: block {'proposed to the Safe' if safe else 'sent'} for {len(done)} address(es)")


@case.command("identify")
@store_options
@who_option
@click.argument("case_id", metavar="CASE")
@click.option("--why", required=True, help="The legal ground of the request (recorded).")
@click.option("--rpc", metavar="URL", help="RPC URL instead of the network's.")
def case_identify(network_name: str, store_path: Path | None, who: str, case_id: str, why: str, rpc: str | None) -> None:
    """Ask the digital som's registry for the identity hashes of the case's wallets. Records who
    asked, when and why in the audit trail; returns only the registry's hashes, which the KYC
    officer resolves off chain."""
    from somstack.cli.common import reading
    from somstack.core.session import session_manifest
    from somstack.monitor.cases import record, subjects

    if not why.strip():
        raise SomstackError("--why: give the ground of the request")
    store = _store(network_name, store_path)
    targets = subjects(store, case_id)
    found: dict[str, Any] = {}
    with reading(network_name, rpc).session() as session:
        manifest = session_manifest(session)
        som = session.artifacts.get("DigitalCurrency").contract(session.w3, manifest.address("DigitalCurrency"))
        for address in targets:
            tier, identity, _overflow = som.functions.walletOf(address).call()
            registered = any(identity)
            found[address] = {"tier": int(tier), "identity": "0x" + bytes(identity).hex()} if registered else None
    record(store, case_id, who, "identify", {"why": why, "addresses": targets, "returned": found})
    for address, entry in found.items():
        click.echo(f"{address}  " + (f"tier {entry['tier']}  identity {entry['identity']}" if entry else "not a registered digital som wallet"))


COMMANDS = (monitor,)
