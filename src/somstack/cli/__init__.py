"""The `somstack` command line: deploy, status, the reserve (status, stress, deposit, attest,
set-rate), the digital som (tiers, register, disburse), sanctions across tokens, and demo.

User errors print one line on stderr and exit 1; usage errors exit 2; a traceback only with -v.
"""

from __future__ import annotations

import sys
import traceback
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import click

from somstack.cli.common import (
    State,
    _confirm_mainnet,
    _deployed_session,
    _echo_json,
    _hsm,
    _info,
    _keys,
    _remember,
    hsm_options,
    json_option,
    key_options,
)
from somstack.core import journal, logs
from somstack.core.artifacts import compile_project
from somstack.core.errors import SomstackError
from somstack.core.manifest import deployed_manifest
from somstack.core.session import KeyOptions, open_session
from somstack.system.deploy import DeployContext, deploy_system, resolve_holders


def version_line() -> str:
    """``somstack <package version>``, and ``(commit <hash>)`` when run from a git checkout."""
    import subprocess
    from importlib.metadata import PackageNotFoundError, version

    from somstack import __version__

    try:
        line = f"somstack {version('somstack')}"
    except PackageNotFoundError:
        line = f"somstack {__version__}"
    root = Path(__file__).resolve().parents[2]
    if (root / ".git").exists():
        try:
            commit = subprocess.run(["git", "-C", str(root), "rev-parse", "--short=12", "HEAD"], capture_output=True,
                                    text=True, timeout=5).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            commit = ""
        if commit:
            line += f" (commit {commit})"
    return line


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(version_line())
        ctx.exit()


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Show tracebacks on errors, and the debug lines of the log.")
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=_print_version,
              help="Show the package version (and the git commit in a checkout) and exit.")
@click.pass_context
def cli(ctx: click.Context, verbose: bool) -> None:
    """SomStack: KGST stablecoin, digital som and national reserve on BNB Chain."""
    ctx.obj = State()
    ctx.obj.verbose = verbose


# --- HSM keys (somstack.core.hsm): options every sending command shares, read back by _keys ---


@cli.command()
@click.option("--network", "network_name", default="local", show_default=True, envvar="SOMSTACK_NETWORK", help="Named network from brownie-config.yaml.")
@click.option("--yes-mainnet", is_flag=True, help="Confirm sending transactions on a mainnet network.")
@click.option("--dry-run", is_flag=True, help="Print each transaction of the plan with its gas and cost and the deployer's balance; send nothing.")
@click.option("--rpc", metavar="URL", help="RPC URL instead of the network's.")
@click.option("--ephemeral", is_flag=True, help="Dev networks: when nobody serves the RPC, deploy to a chain started for this command, gone when it ends (a rehearsal).")
@key_options
def deploy(network_name: str, yes_mainnet: bool, dry_run: bool, rpc: str | None, ephemeral: bool, key_env: str | None,
           keystore: Path | None, password_file: Path | None) -> None:
    """Deploy the whole system (or resume an interrupted deployment)."""
    from somstack.core.errors import RpcUnavailableError
    from somstack.system.dryrun import dry_run as rehearse

    keys = _keys(key_env, keystore, password_file)
    try:
        with open_session(network_name, keys, rpc=rpc, start_node=ephemeral and not dry_run) as session:
            compile_project(session.settings.root)
            if dry_run or session.network.mainnet:
                for line in rehearse(session, session.sender.signer.address).lines():
                    click.echo(line)
                if dry_run:
                    return
            _confirm_mainnet(session.network, yes_mainnet)
            holders = resolve_holders(session.settings, session.network, session.w3)
            ctx = DeployContext(
                session.settings, session.network, session.w3, session.sender, session.settings.deployment(network_name), holders
            )
            result = deploy_system(ctx)
            for name, record in sorted(result.manifest.contracts.items()):
                click.echo(f"{name:26s} {record['address']}")
    except RpcUnavailableError as exc:
        if dry_run or not str(exc).startswith("no chain answers at"):
            raise
        raise RpcUnavailableError(f"{exc}; deploy does not deploy to a chain that would stop when it ends "
                                  "(--ephemeral does, for a throwaway rehearsal)") from None


@cli.command()
@click.option("--network", "network_name", default="local", show_default=True, envvar="SOMSTACK_NETWORK", help="Named network from brownie-config.yaml.")
@click.option("--rpc", metavar="URL", help="RPC URL instead of the network's.")
@click.option("--yes-mainnet", is_flag=True, help="Confirm sending transactions on a mainnet network.")
@click.option("--yes", is_flag=True, help="Send without asking (needed without a terminal).")
@click.option("--dry-run", is_flag=True, help="Print what would be granted and renounced; send nothing.")
@key_options
def handover(network_name: str, rpc: str | None, yes_mainnet: bool, yes: bool, dry_run: bool, key_env: str | None,
             keystore: Path | None, password_file: Path | None) -> None:
    """After a deployment: grant the SOMSTACK_ROLE_* holders of .env their roles, ADMIN to
    SOMSTACK_GOVERNANCE (with governance_delay), then the deployer renounces its roles, ADMIN
    last; what the chain holds already is skipped (run it again after editing .env)."""
    from somstack.system.deploy import handover as hand_over
    from somstack.system.deploy import handover_steps, load_manifest

    keys = _keys(key_env, keystore, password_file)
    with open_session(network_name, keys, rpc=rpc, start_node=False, read_only=dry_run) as session:
        holders = resolve_holders(session.settings, session.network, session.w3)
        ctx = DeployContext(session.settings, session.network, session.w3, session.sender, session.settings.deployment(network_name),
                            holders)
        steps = handover_steps(ctx, load_manifest(ctx))
        for step in steps:
            click.echo(f"  {step.what}")
        if not steps:
            click.echo("nothing to hand over: the chain holds every role .env names")
            return
        if dry_run:
            click.echo("dry run: nothing was sent")
            return
        _confirm_mainnet(session.network, yes_mainnet)
        _go_ahead(yes, f"send these {len(steps)} change(s)")
        _manifest, done = hand_over(ctx)
    click.echo(f"handover: {len(done)} change(s) sent")


@cli.command()
@click.option("--bsc", is_flag=True, help="bsc-local: chain id 56 with the canonical BSC contracts at their mainnet addresses.")
@click.option("--fork", is_flag=True, help="bsc-fork: a fork of BSC from BSC_FORK_RPC_URL (.env), chain id 56.")
@click.option("--port", type=click.IntRange(1, 65535), help="Port (default: that of the `local`, `bsc-local` or `bsc-fork` network).")
def node(bsc: bool, fork: bool, port: int | None) -> None:
    """Run a persistent local chain in the foreground until Ctrl-C; commands on `local` (or
    `bsc-local`, `bsc-fork`) attach to it."""
    from urllib.parse import urlparse

    from somstack.core.bsclocal import run_node
    from somstack.core.config import load_settings

    if bsc and fork:
        raise click.UsageError("--bsc and --fork are two different chains: choose one")
    from somstack.core.session import resolve_network

    settings = load_settings()
    network = resolve_network(settings, "bsc-fork" if fork else "bsc-local" if bsc else "local")  # SOMSTACK_RPC_<NETWORK> too
    if not fork:
        compile_project(settings.root)
    run_node(settings, bsc, port or urlparse(network.rpc or "").port or 8545, fork=network if fork else None)


@cli.command()
@click.option("--network", "network_name", default="local", show_default=True, envvar="SOMSTACK_NETWORK", help="Named network from brownie-config.yaml.")
@click.option("--rpc", metavar="URL", help="RPC URL instead of the network's.")
@json_option
def status(network_name: str, rpc: str | None, as_json: bool) -> None:
    """One screen: chain and block, every deployed contract (code checked), token supplies and
    pause switches, reserve coverage, and the age of every price (no key needed)."""
    from somstack.ops.status import format_screen, read_screen

    with open_session(network_name, KeyOptions(), rpc=rpc, start_node=False, read_only=True) as session:
        screen = read_screen(session)
        if as_json:
            return _echo_json(screen)
        for line in format_screen(screen):
            click.echo(line)


@cli.group()
def networks() -> None:
    """The named networks of brownie-config.yaml, as somstack and brownie see them."""


@networks.command("list")
def networks_list() -> None:
    """Each named network: chain id, and how brownie reaches it."""
    from somstack.core.config import load_settings
    from somstack.core.networks import describe

    for line in describe(load_settings()):
        click.echo(line)


@networks.command("sync")
def networks_sync() -> None:
    """Register bsc-local, bsc-fork, bsc-test and bsc-main with brownie (~/.brownie/
    network-config.yaml) from brownie-config.yaml; idempotent (`make install` runs it)."""
    from somstack.core.config import load_settings
    from somstack.core.networks import brownie_config_path, sync

    path = brownie_config_path()
    for change in sync(load_settings(), path):
        click.echo(f"{change}")
    click.echo(f"brownie networks: {path}")


@cli.group()
def layouts() -> None:
    """Storage layouts of the upgradeable contracts against the last release's record
    (security/storage-layouts/): only appending is allowed."""


@layouts.command("check")
def layouts_check() -> None:
    """Compare each upgradeable contract's storage layout (from solc) with the recorded release."""
    from somstack.core.config import load_settings
    from somstack.core.errors import StorageLayoutError
    from somstack.system.layouts import check

    results = check(load_settings().root)
    for name, problems in results.items():
        click.echo(f"{name}: {'appended only' if not problems else f'{len(problems)} change(s) other than appending'}")
        for problem in problems:
            click.echo(f"  {problem}")
    broken = [name for name, problems in results.items() if problems]
    if broken:
        raise StorageLayoutError(f"storage layout changed other than by appending: {', '.join(broken)}")


@layouts.command("record")
def layouts_record() -> None:
    """Record the current storage layouts as those of a new release (after `check` passed, or
    with a reviewed migration)."""
    from somstack.core.config import load_settings
    from somstack.system.layouts import record

    root = load_settings().root
    for path in record(root):
        click.echo(f"recorded {path.relative_to(root)}")


@cli.command("verify-input")
@click.option("--network", "network_name", default="local", show_default=True, envvar="SOMSTACK_NETWORK")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("build/verify"), show_default=True)
@click.option("--rpc", metavar="URL", help="Check first that every contract of the manifest has code on the chain at this RPC.")
def verify_input(network_name: str, out_dir: Path, rpc: str | None) -> None:
    """Write the standard JSON inputs for source verification of a deployment (BscScan, Sourcify)."""
    from somstack.core.config import load_settings
    from somstack.core.errors import ManifestError
    from somstack.system.verify import compiler_version, write_inputs

    settings = load_settings()
    network = settings.network(network_name)
    manifest = deployed_manifest(settings.deployments_dir, network.chain_id, network)
    if rpc:
        with open_session(network_name, KeyOptions(), rpc=rpc, start_node=False, read_only=True) as session:
            missing = [name for name, record in sorted(manifest.contracts.items())
                       if not session.w3.eth.get_code(record["address"])]
        if missing:
            raise ManifestError(f"{manifest.path.name}: {', '.join(missing)} {'has' if len(missing) == 1 else 'have'} no code at {rpc}: "
                                "not this deployment's chain")
    compile_project(settings.root)
    for name, record in sorted(manifest.contracts.items()):
        artifact = record["artifact"]
        (path,) = write_inputs(settings, [artifact], out_dir)
        click.echo(f"{name:26s} {record['address']}  {artifact} {compiler_version(settings, artifact)}  {path}")
        click.echo(f"{'':26s} constructor args {record.get('constructorArgs') or '0x'}")
        for library, address in (record.get("libraries") or {}).items():
            click.echo(f"{'':26s} linked library {library} at {address} (give it to the explorer with the input)")


@cli.command()
@click.option("--network", "network_name", default="local", show_default=True, envvar="SOMSTACK_NETWORK", help="Named network from brownie-config.yaml.")
@click.option("--rpc", metavar="URL", help="RPC URL instead of the network's.")
@json_option
def roles(network_name: str, rpc: str | None, as_json: bool) -> None:
    """The role matrix read from the chain: members and their delays, grant delays, guarded
    functions; flags every role the deployer still holds (no key needed)."""
    from somstack.system.governance import format_matrix, matrix_of_session

    with open_session(network_name, KeyOptions(), rpc=rpc, start_node=False, read_only=True) as session:
        matrix = matrix_of_session(session)
        if as_json:
            return _echo_json(matrix)
        for line in format_matrix(matrix):
            click.echo(line)


@cli.command()
@click.option("--network", "network_name", default="local", show_default=True, envvar="SOMSTACK_NETWORK", help="Named network from brownie-config.yaml.")
@click.option("--rpc", metavar="URL", help="RPC URL instead of the network's.")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=Path("build/report"), show_default=True, help="Folder of the site.")
@click.option("--days", type=click.IntRange(1, 3650), default=30, show_default=True, help="Days of supply and coverage history.")
@click.option("--block", "at_block", type=click.IntRange(min=0), help="Build the report at this past block (default: the latest).")
@click.option("--explorer", metavar="URL", help="Block explorer for links (default: BscScan of the chain).")
@click.option("--chunk", type=click.IntRange(min=1), default=5_000, show_default=True, help="Blocks per eth_getLogs query.")
def report(network_name: str, rpc: str | None, out_dir: Path, days: int, at_block: int | None, explorer: str | None, chunk: int) -> None:
    """Write the public transparency page (index.html, style.css, SVG charts, report.json):
    supplies, the reserve and its coverage, compliance actions, governance; no key needed."""
    from somstack.report import Options, write_report

    with open_session(network_name, KeyOptions(), rpc=rpc, start_node=False, read_only=True) as session:
        built = write_report(session, out_dir, Options(days=days, block=at_block, explorer=explorer, chunk=chunk))
    click.echo(f"transparency report of {network_name} at block {built['block']:,}: {out_dir / 'index.html'}")


# --- The reserve: thin wrappers over somstack.ops.reserve ---


@cli.group()
def reserve() -> None:
    """The national reserve: status, stress tests, deposits, attestations, the som rate."""


def reserve_network_options(func: Any) -> Any:
    func = click.option(
        "--rpc",
        metavar="URL",
        help="RPC URL instead of the network's (else SOMSTACK_RPC_<NETWORK>, e.g. SOMSTACK_RPC_LOCAL, else brownie-config.yaml).",
    )(func)
    func = click.option("--network", "network_name", default="local", show_default=True, envvar="SOMSTACK_NETWORK", help="Named network from brownie-config.yaml.")(func)
    return func


def sending_options(func: Any) -> Any:
    func = key_options(func)
    func = click.option("--yes-mainnet", is_flag=True, help="Confirm sending transactions on a mainnet network.")(func)
    func = click.option(
        "--from-index",
        type=click.IntRange(min=0),
        help="Dev networks: the node account that signs (default: the first holder of the needed role in dev_holders).",
    )(func)
    return reserve_network_options(func)


@contextmanager
def _with_system(loader: str, network_name: str, rpc: str | None, keys: KeyOptions | None = None,
                 yes_mainnet: bool = False) -> Iterator[tuple[Any, Any]]:
    """The session and the deployed part of the system ``loader`` opens: "reserve" or "cbdc"."""
    from somstack.ops.cbdc import Cbdc
    from somstack.ops.reserve import Reserve

    with _deployed_session(network_name, rpc, keys, yes_mainnet) as session:
        yield session, {"reserve": Reserve, "cbdc": Cbdc}[loader].of_session(session)


@reserve.command("status")
@reserve_network_options
@json_option
def reserve_status(network_name: str, rpc: str | None, as_json: bool) -> None:
    """Assets, prices, attested fiat, the som rate, reserve value and coverage (no key needed)."""
    from somstack.ops.reserve import format_status, read_status

    with _with_system("reserve", network_name, rpc) as (session, vault):
        status_ = read_status(vault)
        if as_json:
            return _echo_json(status_)
        for line in format_status(status_, session.network.name):
            click.echo(line)


@reserve.command("stress")
@reserve_network_options
@click.option("--asset", required=True, help="Symbol (BNB, BTCB, BSC-USD, ...) or address of the shocked asset.")
@click.option("--drop", default="50", show_default=True, help="Price drop in percent.")
@json_option
def reserve_stress(network_name: str, rpc: str | None, asset: str, drop: str, as_json: bool) -> None:
    """Coverage now and after the asset's price falls by --drop percent (and every asset at that drop)."""
    from somstack.ops.reserve import format_stress, parse_percent_bps, stress

    drop_bps = parse_percent_bps(drop)
    with _with_system("reserve", network_name, rpc) as (_session, vault):
        report = stress(vault, asset, drop_bps)
        if as_json:
            return _echo_json(report)
        for line in format_stress(report):
            click.echo(line)


@reserve.command("deposit")
@sending_options
@click.option("--asset", required=True, help="Symbol or address of a registered asset (BNB is native).")
@click.option("--amount", required=True, help="Whole tokens, e.g. 1.5 (decimals from the vault's asset record).")
def reserve_deposit(network_name: str, rpc: str | None, from_index: int | None, yes_mainnet: bool, key_env: str | None,
                    keystore: Path | None, password_file: Path | None, asset: str, amount: str) -> None:
    """Deposit into the reserve: BNB with depositNative, a BEP-20 with approve and deposit."""
    from somstack.ops.common import sender_for
    from somstack.ops.reserve import deposit

    keys = _keys(key_env, keystore, password_file)
    with _with_system("reserve", network_name, rpc, keys, yes_mainnet) as (session, vault):
        click.echo(str(deposit(vault, sender_for(session, None, from_index, keys), asset, amount)))


@reserve.command("attest")
@sending_options
@click.option("--amount", required=True, help="Fiat som held in banks, in som (e.g. 50000000).")
@click.option("--as-of", "as_of", required=True, help="Unix time [s] of the bank statement, or 'now' (the chain's time).")
@click.option("--report-hash", required=True, help="0x-prefixed 32-byte hash of the published report.")
@click.option("--uri", required=True, help="Where the report is published (ipfs://..., https://...).")
def reserve_attest(network_name: str, rpc: str | None, from_index: int | None, yes_mainnet: bool, key_env: str | None,
                   keystore: Path | None, password_file: Path | None, amount: str, as_of: str, report_hash: str, uri: str) -> None:
    """Post an attestation of fiat som held in banks (role ATTESTOR)."""
    from somstack.ops.common import sender_for
    from somstack.ops.reserve import attest

    keys = _keys(key_env, keystore, password_file)
    with _with_system("reserve", network_name, rpc, keys, yes_mainnet) as (session, vault):
        click.echo(str(attest(vault, sender_for(session, "ATTESTOR", from_index, keys), amount, as_of, report_hash, uri)))


@reserve.command("set-rate")
@sending_options
@click.option("--rate", required=True, help="KGS per USD, e.g. 87.45 (up to 18 decimals).")
def reserve_set_rate(network_name: str, rpc: str | None, from_index: int | None, yes_mainnet: bool, key_env: str | None,
                     keystore: Path | None, password_file: Path | None, rate: str) -> None:
    """Publish the official KGS/USD rate (role RATE_SETTER), within the vault's change bound."""
    from somstack.ops.common import sender_for
    from somstack.ops.reserve import set_rate

    keys = _keys(key_env, keystore, password_file)
    with _with_system("reserve", network_name, rpc, keys, yes_mainnet) as (session, vault):
        click.echo(str(set_rate(vault, sender_for(session, "RATE_SETTER", from_index, keys), rate)))


# --- The digital som: thin wrappers over somstack.ops.cbdc ---


@cli.group()
def cbdc() -> None:
    """The digital som: wallet tiers, registration, payroll disbursement."""


@cbdc.command("tiers")
@reserve_network_options
@json_option
def cbdc_tiers(network_name: str, rpc: str | None, as_json: bool) -> None:
    """The wallet tiers on chain: holding cap, per-transfer and daily limits (no key needed)."""
    from somstack.ops.cbdc import format_tiers, read_tiers

    with _with_system("cbdc", network_name, rpc) as (_session, token):
        tiers = read_tiers(token)
        if as_json:
            return _echo_json(tiers)
        for line in format_tiers(tiers, token.decimals):
            click.echo(line)


@cbdc.command("register")
@sending_options
@click.argument("address")
@click.option("--tier", type=int, required=True, help="Tier id (see `somstack cbdc tiers`).")
@click.option("--kyc-hash", required=True, help="0x-prefixed bytes32 hash of the off-chain KYC file (never personal data).")
@click.option("--identity", required=True, help="0x-prefixed bytes32 salted hash of the holder's national ID (one capped wallet per identity).")
def cbdc_register(network_name: str, rpc: str | None, from_index: int | None, yes_mainnet: bool, key_env: str | None,
                  keystore: Path | None, password_file: Path | None, address: str, tier: int, kyc_hash: str, identity: str) -> None:
    """Register a wallet in a tier (role KYC_OFFICER)."""
    from somstack.ops.cbdc import register
    from somstack.ops.common import sender_for

    keys = _keys(key_env, keystore, password_file)
    with _with_system("cbdc", network_name, rpc, keys, yes_mainnet) as (session, token):
        click.echo(str(register(token, sender_for(session, "KYC_OFFICER", from_index, keys), address, tier, kyc_hash, identity)))


@cbdc.command("register-many")
@sending_options
@click.argument("wallets", metavar="WALLETS.csv", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--batch-size", type=click.IntRange(1, 200), default=150, show_default=True, help="Wallets per registerWallets transaction.")
@click.option("--yes", is_flag=True, help="Register without asking (needed without a terminal).")
@click.option("--dry-run", is_flag=True, help="Print the plan and send nothing.")
def cbdc_register_many(network_name: str, rpc: str | None, from_index: int | None, yes_mainnet: bool, key_env: str | None,
                       keystore: Path | None, password_file: Path | None, wallets: Path, batch_size: int, yes: bool,
                       dry_run: bool) -> None:
    """Register the wallets of a CSV (address,tier,kyc_hash,identity_hash) in bulk (role
    KYC_OFFICER): validated whole first, then registerWallets per tier in batches; a rerun
    registers only what is missing."""
    from somstack.ops.cbdc import (
        WalletsRejectedError,
        plan_registrations,
        register_planned,
    )
    from somstack.ops.common import sender_for

    keys = _keys(key_env, keystore, password_file)
    with _with_system("cbdc", network_name, rpc, keys, yes_mainnet or dry_run) as (session, token):
        sender = sender_for(session, "KYC_OFFICER", from_index, keys)
        try:
            plan = plan_registrations(token, sender.signer.address, wallets, batch_size)
        except WalletsRejectedError as exc:
            _first_refusals(wallets.name, exc.problems)
            raise
        for line in plan.lines():
            click.echo(line)
        if dry_run:
            click.echo("dry run: nothing was sent")
            return
        if plan.todo:
            _go_ahead(yes, f"register {len(plan.todo):,} wallets in {len(plan.batches()):,} transaction(s)")
            with click.progressbar(length=len(plan.todo), label="registering", file=sys.stderr) as bar, logs.silenced():
                sent = register_planned(token, sender, plan, progress=bar.update)
        else:
            sent = []
    gas = sum(x.receipt["gasUsed"] for x in sent if x.receipt)
    click.echo(f"registered {len(plan.todo):,} wallets in {len(sent):,} transaction(s), gas {gas:,}"
               + (f" ({gas // len(plan.todo):,} a wallet)" if plan.todo else "") + f"; {len(plan.done):,} registered before")


def _first_refusals(source: str, problems: list[Any], shown: int = 20) -> None:
    """The first ``shown`` refusals on stderr, then how many more (never 200,000 lines)."""
    for problem in problems[:shown]:
        click.echo(f"{source}: {problem}", err=True)
    if len(problems) > shown:
        click.echo(f"{source}: ... and {len(problems) - shown:,} more refused row(s) not listed", err=True)


def _go_ahead(yes: bool, what: str) -> None:
    """Asks on a terminal; without one, --yes is needed (a batch command never sends unasked)."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise SomstackError(f"not confirmed: pass --yes to {what} (or --dry-run to print the plan only); nothing was sent")
    try:
        confirmed = click.confirm(f"{what}?", default=False, err=True)
    except click.exceptions.Abort:
        confirmed = False
    if not confirmed:
        raise SomstackError("not confirmed; nothing was sent")


@cbdc.command("disburse")
@sending_options
@click.argument("payroll", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--payroll", "payroll_id", required=True, metavar="ID",
              help="The payroll's name, e.g. 2026-12-teachers: batch ids derive from it and each batch's rows; a rerun under "
                   "the same id pays only who was not paid under it, and refuses a file that differs from what was paid.")
@click.option("--batch-size", type=click.IntRange(1, 1000), default=200, show_default=True, help="Payments per transaction.")
@click.option("--amount-format", type=click.Choice(["plain", "decimal-comma", "decimal-point"]), default="plain", show_default=True,
              help="plain: 1234.56 only (a comma, space or currency sign is refused as ambiguous); decimal-comma: 1.234,56 or "
                   "1 234,56; decimal-point: 1,234.56.")
@click.option("--skip-ineligible", is_flag=True, help="Skip (and report) a wallet that turned ineligible after the check, instead of reverting its batch.")
@click.option("--yes", is_flag=True, help="Pay without asking (needed without a terminal).")
@click.option("--dry-run", is_flag=True, help="Print the plan (rows, total, largest, batches to pay and paid) and send nothing.")
def cbdc_disburse(network_name: str, rpc: str | None, from_index: int | None, yes_mainnet: bool, key_env: str | None,
                  keystore: Path | None, password_file: Path | None, payroll: Path, payroll_id: str, batch_size: int,
                  amount_format: str, skip_ineligible: bool, yes: bool, dry_run: bool) -> None:
    """Pay a payroll CSV (address,amount in som) from the treasury (role TREASURY), in once-only
    batches: the plan is printed and confirmed first; a rerun under the same --payroll id pays
    only the recipients not yet paid under it."""
    from somstack.ops.cbdc import (
        PayrollConflictError,
        PayrollRejectedError,
        disburse,
        plan_payroll,
    )
    from somstack.ops.common import sender_for

    keys = _keys(key_env, keystore, password_file)
    with _with_system("cbdc", network_name, rpc, keys, yes_mainnet or dry_run) as (session, token):
        sender = sender_for(session, "TREASURY", from_index, keys)
        try:
            plan = plan_payroll(token, sender.signer.address, payroll, payroll_id, batch_size, amount_format=amount_format)
        except PayrollRejectedError as exc:
            _first_refusals(payroll.name, exc.problems)
            raise
        except PayrollConflictError as exc:
            _first_refusals(payroll.name, exc.problems)
            for b in exc.paid[:20]:
                click.echo(f"{payroll.name}: paid under '{payroll_id}': tx {b.tx} (block {b.block:,}, {len(b.paid):,} payments)", err=True)
            if len(exc.paid) > 20:
                click.echo(f"{payroll.name}: ... and {len(exc.paid) - 20:,} more paid batch(es)", err=True)
            raise
        for line in plan.lines(token.decimals):
            click.echo(line)
        if dry_run:
            click.echo("dry run: nothing was sent")
            return
        if plan.batches:
            _go_ahead(yes, f"pay {sum(len(b.payments) for b in plan.batches):,} payments in {len(plan.batches):,} batch(es)")
        with click.progressbar(length=plan.rows, label="disbursing", file=sys.stderr) as bar, logs.silenced():
            result = disburse(token, sender, plan, skip_ineligible, progress=bar.update)
        for line in result.lines(token.decimals):
            click.echo(line)


# --- KGST's redemption queue: somstack.ops.redemption ---


@cli.group()
def redeem() -> None:
    """KGST's on-chain redemption queue: requests, the desk's payments and rejections, the bank's
    payout files."""


@contextmanager
def _queue_session(network_name: str, rpc: str | None, keys: KeyOptions | None, yes_mainnet: bool,
                   role: str | None, from_index: int | None) -> Iterator[tuple[Any, Any]]:
    from somstack.ops.common import sender_for
    from somstack.ops.redemption import Queue

    with _deployed_session(network_name, rpc, keys, yes_mainnet) as session:
        yield Queue.of_session(session), (sender_for(session, role, from_index, keys) if keys is not None else None)


@redeem.command("request")
@sending_options
@click.argument("amount")
@click.option("--payout", required=True, help="The payout record: a 0x bytes32 salted hash of the bank details (never the details), or a reference text (hashed).")
def redeem_request(network_name: str, rpc: str | None, from_index: int | None, yes_mainnet: bool, key_env: str | None,
                   keystore: Path | None, password_file: Path | None, amount: str, payout: str) -> None:
    """Redeem AMOUNT KGST of the signer's balance (approves the queue if needed, then requests)."""
    from somstack.ops.redemption import request

    with _queue_session(network_name, rpc, _keys(key_env, keystore, password_file), yes_mainnet, None, from_index) as (queue, sender):
        for sent in request(queue, sender, amount, payout):
            click.echo(str(sent))


@redeem.command("list")
@reserve_network_options
@click.option("--status", type=click.Choice(["pending", "paid", "rejected", "cancelled", "seized"]), help="Only requests in this state.")
@json_option
def redeem_list(network_name: str, rpc: str | None, status: str | None, as_json: bool) -> None:
    """The queue's requests: holder, amount, status, deadline."""
    from somstack.ops.redemption import list_lines, read_requests

    with _queue_session(network_name, rpc, None, False, None, None) as (queue, _sender):
        requests = read_requests(queue, status)
        if as_json:
            return _echo_json(requests)
        for line in list_lines(queue, status, requests):
            click.echo(line)


@redeem.command("pay")
@sending_options
@click.argument("request_id", type=click.IntRange(min=1))
@click.option("--bank-ref", required=True, help="The bank's payout reference: a 0x bytes32, or its reference text (hashed).")
def redeem_pay(network_name: str, rpc: str | None, from_index: int | None, yes_mainnet: bool, key_env: str | None,
               keystore: Path | None, password_file: Path | None, request_id: int, bank_ref: str) -> None:
    """Mark REQUEST_ID paid in fiat (role REDEEMER): its escrow is burned."""
    from somstack.ops.redemption import pay

    with _queue_session(network_name, rpc, _keys(key_env, keystore, password_file), yes_mainnet, "REDEEMER", from_index) as (queue, sender):
        click.echo(str(pay(queue, sender, request_id, bank_ref)))


@redeem.command("reject")
@sending_options
@click.argument("request_id", type=click.IntRange(min=1))
@click.option("--reason", type=int, required=True, help="1 bank details invalid, 2 KYC/AML check failed, 3 bank account closed, 4 duplicate request, 9 other.")
def redeem_reject(network_name: str, rpc: str | None, from_index: int | None, yes_mainnet: bool, key_env: str | None,
                  keystore: Path | None, password_file: Path | None, request_id: int, reason: int) -> None:
    """Refuse REQUEST_ID with a reason code (role REDEEMER): its escrow goes back to the holder."""
    from somstack.ops.redemption import reject

    with _queue_session(network_name, rpc, _keys(key_env, keystore, password_file), yes_mainnet, "REDEEMER", from_index) as (queue, sender):
        click.echo(str(reject(queue, sender, request_id, reason)))


@redeem.command("cancel")
@sending_options
@click.argument("request_id", type=click.IntRange(min=1))
def redeem_cancel(network_name: str, rpc: str | None, from_index: int | None, yes_mainnet: bool, key_env: str | None,
                  keystore: Path | None, password_file: Path | None, request_id: int) -> None:
    """Cancel the signer's own REQUEST_ID once past its deadline unpaid (a breach): the escrow comes back."""
    from somstack.ops.redemption import cancel

    with _queue_session(network_name, rpc, _keys(key_env, keystore, password_file), yes_mainnet, None, from_index) as (queue, sender):
        click.echo(str(cancel(queue, sender, request_id)))


@redeem.command("export")
@reserve_network_options
@click.option("--status", default="pending", show_default=True, help="Requests in this state.")
@click.option("--out", "out_file", type=click.Path(dir_okay=False, path_type=Path), required=True, help="CSV to write (request_id,holder,amount,payout_ref,requested_at,deadline).")
def redeem_export(network_name: str, rpc: str | None, status: str, out_file: Path) -> None:
    """Write the requests of --status as CSV for the bank's payout run."""
    from somstack.ops.redemption import export

    with _queue_session(network_name, rpc, None, False, None, None) as (queue, _sender):
        count = export(queue, status, out_file)
    click.echo(f"{out_file}: {count:,} {status} request(s)")


@redeem.command("settle")
@sending_options
@click.argument("confirmations", metavar="PAYOUTS-DONE.csv", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--batch-size", type=click.IntRange(1, 200), default=100, show_default=True, help="Payments per transaction.")
@click.option("--dry-run", is_flag=True, help="Check the file and print the plan; send nothing.")
@click.option("--yes", is_flag=True, help="Send without asking (needed when not on a terminal).")
def redeem_settle(network_name: str, rpc: str | None, from_index: int | None, yes_mainnet: bool, key_env: str | None,
                  keystore: Path | None, password_file: Path | None, confirmations: Path, batch_size: int, dry_run: bool,
                  yes: bool) -> None:
    """Mark paid the requests the bank confirmed (CSV: request_id,bank_ref[,amount]; role REDEEMER),
    in batches. The whole file is checked first: any bad row is refused with its line number and
    nothing is sent. A rerun pays nothing twice (requests already paid under the same reference
    are skipped)."""
    from somstack.ops.redemption import plan_settlement, settle

    keys = _keys(key_env, keystore, password_file)
    with _queue_session(network_name, rpc, keys, yes_mainnet or dry_run, "REDEEMER", from_index) as (queue, sender):
        plan = plan_settlement(queue, confirmations)
        for line in plan.lines(queue):
            click.echo(line)
        if dry_run or not plan.to_pay:
            click.echo("nothing sent" + (" (dry run)" if dry_run else ""))
            return
        if not yes:
            if not sys.stdin.isatty():
                raise SomstackError("not on a terminal: pass --yes to send (or --dry-run to check only); nothing was sent")
            if not click.confirm(f"pay {len(plan.to_pay):,} request(s)?", default=False):
                raise SomstackError("not confirmed; nothing was sent")
        for sent in settle(queue, sender, plan, batch_size):
            click.echo(str(sent))


# --- Sanctions across every token: somstack.ops.compliance ---


@cli.group()
def compliance() -> None:
    """Sanctions applied to every SomStack token at once (KGST and the digital som)."""


def _sanction(network_name: str, rpc: str | None, from_index: int | None, yes_mainnet: bool, keys: KeyOptions,
              address: str, block: bool, reason: str) -> None:
    from somstack.ops.common import sender_for
    from somstack.ops.compliance import apply_sanction

    with _deployed_session(network_name, rpc, keys, yes_mainnet) as session:
        outcomes = apply_sanction(session, sender_for(session, "COMPLIANCE", from_index, keys), address, block, reason)
    for outcome in outcomes:
        click.echo(str(outcome))
    failed = [o for o in outcomes if not o.ok]
    if failed:
        raise SomstackError(f"{len(failed)} of {len(outcomes)} token(s) not updated (see above); run the command again once fixed")


@compliance.command("block")
@sending_options
@click.argument("address")
@click.option("--reason", required=True, help="The sanctions record: a 0x bytes32 hash, or a reference text (hashed).")
def compliance_block(network_name: str, rpc: str | None, from_index: int | None, yes_mainnet: bool, key_env: str | None,
                     keystore: Path | None, password_file: Path | None, address: str, reason: str) -> None:
    """Block an address on every token (role COMPLIANCE), reporting each."""
    _sanction(network_name, rpc, from_index, yes_mainnet, _keys(key_env, keystore, password_file), address, True, reason)


@compliance.command("unblock")
@sending_options
@click.argument("address")
def compliance_unblock(network_name: str, rpc: str | None, from_index: int | None, yes_mainnet: bool, key_env: str | None,
                       keystore: Path | None, password_file: Path | None, address: str) -> None:
    """Unblock an address on every token (role COMPLIANCE), reporting each."""
    _sanction(network_name, rpc, from_index, yes_mainnet, _keys(key_env, keystore, password_file), address, False, "")


@compliance.command("import")
@sending_options
@click.argument("sanctions_list", metavar="LIST.csv", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--sync", is_flag=True, help="Also unblock every address blocked on a token but absent from the list.")
@click.option("--batch-size", type=click.IntRange(1, 250), default=100, show_default=True,
              help="Accounts per transaction (one AccessManager multicall; 250 stays under BSC's gas cap per transaction).")
@click.option("--dry-run", is_flag=True, help="Print what each token would get, address by address; send nothing.")
@click.option("--yes", is_flag=True, help="Apply without asking (needed without a terminal).")
def compliance_import(network_name: str, rpc: str | None, from_index: int | None, yes_mainnet: bool, key_env: str | None,
                      keystore: Path | None, password_file: Path | None, sanctions_list: Path, sync: bool, batch_size: int,
                      dry_run: bool, yes: bool) -> None:
    """Apply a sanctions list (CSV: address,reason[,source]; reason a 0x bytes32 or a reference
    text, hashed) to every token (role COMPLIANCE): validated whole first, then blocked in
    batches; prints per token what was added, already present and, with --sync, removed. A rerun
    sends only what is missing."""
    from somstack.ops.common import sender_for
    from somstack.ops.sanctions import (
        Blocklists,
        SanctionsListRejectedError,
        apply_plan,
        format_plan,
        plan_import,
        read_list,
    )

    try:
        listings = read_list(sanctions_list)
    except SanctionsListRejectedError as exc:
        _first_refusals(sanctions_list.name, exc.problems)
        raise
    keys = _keys(key_env, keystore, password_file)
    # A dry run sends nothing: no mainnet confirmation for it.
    with _deployed_session(network_name, rpc, keys, yes_mainnet or dry_run) as session:
        lists = Blocklists.of_session(session)
        sender = sender_for(session, "COMPLIANCE", from_index, keys)
        if not dry_run:
            from somstack.core.session import session_manifest
            from somstack.ops.reasons import remember

            remember(session_manifest(session).path, {x.reason: x.reason_text for x in listings})
        lists.require_roles(sender.signer.address, sync)
        plans = plan_import(lists, listings, sync)
        work = sum(p.work for p in plans)
        _info(f"{sanctions_list.name}: {len(listings):,} addresses valid; {work:,} change(s) on {len(plans)} token(s)")
        if dry_run:
            for line in format_plan(plans, sync, batch_size):
                click.echo(line)
            return
        if work:
            from somstack.system import routes

            # Under a governance route the command is explicit already (and a proposal sends nothing).
            _go_ahead(yes or routes.current() is not None, f"apply {work:,} change(s) to {len(plans)} token(s)")
        if not work:
            results = apply_plan(lists, sender, plans, sync, batch_size)
        else:
            with click.progressbar(length=work, label="applying", file=sys.stderr) as bar, logs.silenced():
                results = apply_plan(lists, sender, plans, sync, batch_size, progress=bar.update)
    for result in results:
        click.echo(str(result))
    failed = [r for r in results if not r.ok]
    if failed:
        raise SomstackError(f"{len(failed)} of {len(results)} token(s) not fully updated (see above); run the command again once fixed")


# --- Token operations: somstack.ops.tokens (each checks the caller's role first) ---


def token_option(default: str = "kgst", everything: bool = False) -> Any:
    choices = ["kgst", "som", "all"] if everything else ["kgst", "som"]
    return click.option("--token", "which", type=click.Choice(choices), default=default, show_default=True,
                        help="kgst: the stablecoin; som: the digital som" + ("; all: every token" if everything else "") + ".")


@contextmanager
def _token_session(network_name: str, rpc: str | None, keys: KeyOptions, yes_mainnet: bool, which: str, role: str,
                   from_index: int | None) -> Iterator[tuple[Any, Any]]:
    """The session, the token(s) of ``which`` and the sender for ``role``."""
    from somstack.ops.common import sender_for
    from somstack.ops.tokens import Token, tokens_of

    with _deployed_session(network_name, rpc, keys, yes_mainnet) as session:
        tokens = tokens_of(session, which) if which == "all" else Token.of_session(session, which)
        yield tokens, sender_for(session, role, from_index, keys)


_ISSUER_OF = {"kgst": "MINTER", "som": "ISSUER"}
_BURNER_OF = {"kgst": "BURNER", "som": "ISSUER"}


@cli.command("mint", context_settings={"ignore_unknown_options": True})
@sending_options
@token_option()
@click.argument("to")
@click.argument("amount")
@click.option("--ref", required=True, help="The fiat deposit (KGST) or issuance record: a 0x bytes32, or its reference text (hashed).")
def op_mint(network_name: str, rpc: str | None, from_index: int | None, yes_mainnet: bool, key_env: str | None,
            keystore: Path | None, password_file: Path | None, which: str, to: str, amount: str, ref: str) -> None:
    """Mint AMOUNT (whole tokens) to TO (KGST: role MINTER, within its allowance and the reserve's coverage; digital som: ISSUER)."""
    from somstack.ops.tokens import mint

    with _token_session(network_name, rpc, _keys(key_env, keystore, password_file), yes_mainnet, which, _ISSUER_OF[which], from_index) as (token, sender):
        click.echo(str(mint(token, sender, to, amount, ref)))


@cli.command("burn", context_settings={"ignore_unknown_options": True})
@sending_options
@token_option()
@click.argument("amount")
@click.option("--ref", required=True, help="The redemption payout record: a 0x bytes32, or its reference text (hashed).")
def op_burn(network_name: str, rpc: str | None, from_index: int | None, yes_mainnet: bool, key_env: str | None,
            keystore: Path | None, password_file: Path | None, which: str, amount: str, ref: str) -> None:
    """Burn AMOUNT of the signer's own balance (KGST: role BURNER; digital som: ISSUER)."""
    from somstack.ops.tokens import burn

    with _token_session(network_name, rpc, _keys(key_env, keystore, password_file), yes_mainnet, which, _BURNER_OF[which], from_index) as (token, sender):
        click.echo(str(burn(token, sender, amount, ref)))


def _pause(pause: bool, network_name: str, rpc: str | None, from_index: int | None, yes_mainnet: bool, keys: KeyOptions,
           which: str, what: tuple[str, ...]) -> None:
    from somstack.ops.tokens import parse_pause_flags, set_paused

    flags = parse_pause_flags(what or ("all",))
    with _token_session(network_name, rpc, keys, yes_mainnet, "all" if which == "all" else which,
                        "PAUSER" if pause else "UNPAUSER", from_index) as (tokens, sender):
        for line in set_paused(tokens if isinstance(tokens, list) else [tokens], sender, flags, pause):
            click.echo(line)


@cli.command("pause")
@sending_options
@token_option("all", everything=True)
@click.option("--what", multiple=True, help="transfers, mint, redeem or all (default all); repeat or comma-separate.")
def op_pause(network_name: str, rpc: str | None, from_index: int | None, yes_mainnet: bool, key_env: str | None,
             keystore: Path | None, password_file: Path | None, which: str, what: tuple[str, ...]) -> None:
    """Pause transfers, minting and/or redemption (role PAUSER)."""
    _pause(True, network_name, rpc, from_index, yes_mainnet, _keys(key_env, keystore, password_file), which, what)


@cli.command("unpause")
@sending_options
@token_option("all", everything=True)
@click.option("--what", multiple=True, help="transfers, mint, redeem or all (default all); repeat or comma-separate.")
def op_unpause(network_name: str, rpc: str | None, from_index: int | None, yes_mainnet: bool, key_env: str | None,
               keystore: Path | None, password_file: Path | None, which: str, what: tuple[str, ...]) -> None:
    """Lift a pause (role UNPAUSER)."""
    _pause(False, network_name, rpc, from_index, yes_mainnet, _keys(key_env, keystore, password_file), which, what)


@cli.command("block")
@sending_options
@click.argument("address")
@click.option("--reason", required=True, help="The sanctions record: a 0x bytes32 hash, or a reference text (hashed).")
def op_block(network_name: str, rpc: str | None, from_index: int | None, yes_mainnet: bool, key_env: str | None,
             keystore: Path | None, password_file: Path | None, address: str, reason: str) -> None:
    """Block an address on every token (role COMPLIANCE); the same as `compliance block`."""
    _sanction(network_name, rpc, from_index, yes_mainnet, _keys(key_env, keystore, password_file), address, True, reason)


@cli.command("unblock")
@sending_options
@click.argument("address")
def op_unblock(network_name: str, rpc: str | None, from_index: int | None, yes_mainnet: bool, key_env: str | None,
               keystore: Path | None, password_file: Path | None, address: str) -> None:
    """Unblock an address on every token (role COMPLIANCE); the same as `compliance unblock`."""
    _sanction(network_name, rpc, from_index, yes_mainnet, _keys(key_env, keystore, password_file), address, False, "")


@cli.group()
def minter() -> None:
    """KGST minter allowances (role MINTER_ADMIN)."""


@minter.command("set")
@sending_options
@click.argument("address")
@click.option("--allowance", required=True, help="Whole KGST the minter may still mint; 0 removes the minter.")
def minter_set(network_name: str, rpc: str | None, from_index: int | None, yes_mainnet: bool, key_env: str | None,
               keystore: Path | None, password_file: Path | None, address: str, allowance: str) -> None:
    """Set the allowance of minter ADDRESS."""
    from somstack.ops.tokens import set_minter

    with _token_session(network_name, rpc, _keys(key_env, keystore, password_file), yes_mainnet, "kgst", "MINTER_ADMIN", from_index) as (token, sender):
        click.echo(str(set_minter(token, sender, address, allowance)))


@cli.group()
def seize() -> None:
    """Seizure of a blocked balance, maker-checker: COMPLIANCE proposes, SEIZE_APPROVER executes or rejects."""


@seize.command("propose")
@sending_options
@token_option()
@click.argument("account")
@click.option("--to", "recovery", required=True, help="The recovery wallet that receives the seized tokens.")
@click.option("--amount", required=True, help="Whole tokens to seize.")
@click.option("--case", required=True, help="The court or case reference: a 0x bytes32, or its text (hashed).")
@click.option("--evidence", help="The evidence bundle's hash (0x bytes32) or reference text (hashed).")
def seize_propose(network_name: str, rpc: str | None, from_index: int | None, yes_mainnet: bool, key_env: str | None,
                  keystore: Path | None, password_file: Path | None, which: str, account: str, recovery: str, amount: str,
                  case: str, evidence: str | None) -> None:
    """Propose seizing AMOUNT of the blocked ACCOUNT (role COMPLIANCE)."""
    from somstack.ops.tokens import propose_seizure

    with _token_session(network_name, rpc, _keys(key_env, keystore, password_file), yes_mainnet, which, "COMPLIANCE", from_index) as (token, sender):
        sent, seizure_id = propose_seizure(token, sender, account, recovery, amount, case, evidence)
    click.echo(str(sent))
    if seizure_id is not None:
        click.echo(f"seizure id {seizure_id}: another officer with SEIZE_APPROVER runs `somstack seize execute {seizure_id}`")


def _decide(approve: bool, network_name: str, rpc: str | None, from_index: int | None, yes_mainnet: bool, keys: KeyOptions,
            which: str, seizure_id: int) -> None:
    from somstack.ops.tokens import decide_seizure

    with _token_session(network_name, rpc, keys, yes_mainnet, which, "SEIZE_APPROVER", from_index) as (token, sender):
        click.echo(str(decide_seizure(token, sender, seizure_id, approve)))


@seize.command("execute")
@sending_options
@token_option()
@click.argument("seizure_id", type=click.IntRange(min=1))
def seize_execute(network_name: str, rpc: str | None, from_index: int | None, yes_mainnet: bool, key_env: str | None,
                  keystore: Path | None, password_file: Path | None, which: str, seizure_id: int) -> None:
    """Execute a proposed seizure (role SEIZE_APPROVER; not its proposer)."""
    _decide(True, network_name, rpc, from_index, yes_mainnet, _keys(key_env, keystore, password_file), which, seizure_id)


@seize.command("reject")
@sending_options
@token_option()
@click.argument("seizure_id", type=click.IntRange(min=1))
def seize_reject(network_name: str, rpc: str | None, from_index: int | None, yes_mainnet: bool, key_env: str | None,
                 keystore: Path | None, password_file: Path | None, which: str, seizure_id: int) -> None:
    """Reject a proposed seizure (role SEIZE_APPROVER)."""
    _decide(False, network_name, rpc, from_index, yes_mainnet, _keys(key_env, keystore, password_file), which, seizure_id)


@seize.command("show")
@reserve_network_options
@token_option()
@click.argument("seizure_id", type=click.IntRange(min=1))
@json_option
def seize_show(network_name: str, rpc: str | None, which: str, seizure_id: int, as_json: bool) -> None:
    """Show a seizure: account, recovery, amount, case, proposer and status."""
    from somstack.ops.tokens import Token, format_seizure, read_seizure

    with _deployed_session(network_name, rpc, None, False) as session:
        token = Token.of_session(session, which)
        seizure = read_seizure(token, seizure_id)
        if as_json:
            return _echo_json(seizure)
        for line in format_seizure(seizure, token):
            click.echo(line)


@cli.command("rescue", context_settings={"ignore_unknown_options": True})
@sending_options
@token_option()
@click.argument("asset")
@click.argument("amount")
@click.option("--to", required=True, help="Who gets the tokens back.")
def op_rescue(network_name: str, rpc: str | None, from_index: int | None, yes_mainnet: bool, key_env: str | None,
              keystore: Path | None, password_file: Path | None, which: str, asset: str, amount: str, to: str) -> None:
    """Return AMOUNT of the BEP-20 ASSET sent to the token contract by mistake (role RESCUER)."""
    from somstack.ops.tokens import rescue

    with _token_session(network_name, rpc, _keys(key_env, keystore, password_file), yes_mainnet, which, "RESCUER", from_index) as (token, sender):
        click.echo(str(rescue(token, sender, asset, to, amount)))


@reserve.command("withdraw")
@sending_options
@click.option("--asset", required=True, help="Symbol or address of a registered asset (BNB is native).")
@click.option("--amount", required=True, help="Whole tokens.")
@click.option("--to", required=True, help="Where the withdrawn reserve goes.")
def reserve_withdraw(network_name: str, rpc: str | None, from_index: int | None, yes_mainnet: bool, key_env: str | None,
                     keystore: Path | None, password_file: Path | None, asset: str, amount: str, to: str) -> None:
    """Withdraw from the reserve (role RESERVE_MANAGER, behind its delay: run it under
    `somstack governance schedule`, then `governance execute` once due)."""
    from somstack.ops.common import sender_for
    from somstack.ops.reserve import withdraw

    keys = _keys(key_env, keystore, password_file)
    with _with_system("reserve", network_name, rpc, keys, yes_mainnet) as (session, reserve_):
        click.echo(str(withdraw(reserve_, sender_for(session, "RESERVE_MANAGER", from_index, keys), asset, amount, to)))


# --- Governance: Safe proposals and AccessManager delayed operations (somstack.system.routes) ---


@cli.group()
def governance() -> None:
    """Run any operator command as a Safe proposal, or as an AccessManager delayed operation."""


# The commands a governance route may wrap: each sends its calls through ops.sender_for.
_OPERATOR_COMMANDS = {"mint", "burn", "pause", "unpause", "block", "unblock", "minter", "seize", "rescue", "reserve", "cbdc",
                      "compliance"}
_NESTED = {"ignore_unknown_options": True, "allow_interspersed_args": False, "help_option_names": ["-h", "--help"]}


def _run_nested(ctx: click.Context, command: tuple[str, ...]) -> None:
    if not command:
        raise click.UsageError("name the operator command to run, e.g. `minter set 0x... --allowance 1000`")
    if command[0] == "governance":
        raise click.UsageError("a governance command cannot run another governance command")
    if command[0] not in _OPERATOR_COMMANDS:
        raise click.UsageError(f"`{command[0]}` is not an operator command (those are: {', '.join(sorted(_OPERATOR_COMMANDS))})")
    if tuple(command[:2]) == ("cbdc", "disburse") and ctx.info_name == "propose":
        raise click.UsageError("a payroll cannot be proposed to a Safe: `cbdc disburse` reads what was paid and sends batch by batch; "
                               "run it with the treasury's key, or propose a transfer")
    cli.main(args=list(command), prog_name="somstack", standalone_mode=False, obj=ctx.obj)


@governance.command("propose", context_settings=_NESTED)
@click.option("--safe", envvar="SOMSTACK_GOVERNANCE", required=True, help="The Safe that will send the batch (default: SOMSTACK_GOVERNANCE).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="The batch file (default: proposals/<chain>-<time>.json).")
@click.option("--append", is_flag=True, help="Add the transactions to the batch in --out.")
@click.option("--name", default="SomStack", show_default=True, help="The batch's name in the Safe app.")
@click.option("--via", type=click.Choice(["auto", "direct", "schedule", "execute"]), default="auto", show_default=True,
              help="How each call reaches its target: auto schedules through the AccessManager when the Safe's role has a delay, and executes once due.")
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def governance_propose(ctx: click.Context, safe: str, out: Path | None, append: bool, name: str, via: str, command: tuple[str, ...]) -> None:
    """Write the transactions of COMMAND (any operator command, with its options) as a Safe
    Transaction Builder batch for the Safe to sign; each is simulated from the Safe first and
    nothing is sent. Example: `somstack governance propose --safe 0x... minter set 0x... --allowance 1000000`."""
    import time

    from somstack.core.format import parse_address
    from somstack.system.routes import Route, routed, write_batch

    route = Route("propose", safe=parse_address(safe, "--safe"), via=via)
    with routed(route):
        _run_nested(ctx, command)
    if not route.calls or route.chain_id is None:
        raise SomstackError("the command needs no transaction (the chain is already as asked): nothing to propose")
    path = out or Path("proposals") / f"{route.chain_id}-{time.strftime('%Y%m%dT%H%M%S')}.json"
    batch = write_batch(path, route.chain_id, route, name, append=append)
    click.echo(f"wrote {path}: {len(route.calls)} transaction(s) added, {len(batch['transactions'])} in the batch, "
               f"for the Safe {route.safe} on chain {route.chain_id}; import it in Safe{{Wallet}} > Transaction Builder")


@governance.command("schedule", context_settings=_NESTED)
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def governance_schedule(ctx: click.Context, command: tuple[str, ...]) -> None:
    """Send each call of COMMAND as AccessManager.schedule, for a role with an execution delay;
    prints when each becomes executable. Example: `somstack governance schedule reserve withdraw --asset BNB --amount 10 --to 0x...`."""
    from somstack.system.routes import Route, routed

    with routed(Route("schedule")):
        _run_nested(ctx, command)


@governance.command("execute", context_settings=_NESTED)
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def governance_execute(ctx: click.Context, command: tuple[str, ...]) -> None:
    """Send each call of COMMAND as AccessManager.execute, once its schedule is due (the same
    command, with the same arguments, as was scheduled)."""
    from somstack.system.routes import Route, routed

    with routed(Route("execute")):
        _run_nested(ctx, command)


# --- Keys in an HSM (PKCS#11): somstack.core.hsm ---


@cli.group()
def keys() -> None:
    """Signing keys that never leave a PKCS#11 token (HSM): generate, list, show an address.
    Module, token and PIN from --pkcs11-module/--pkcs11-token/--pin-file or SOMSTACK_PKCS11_*."""


@keys.command("generate")
@click.option("--hsm", "label", required=True, metavar="LABEL", help="Label of the new key in the token.")
@hsm_options
def keys_generate(label: str) -> None:
    """Generate a secp256k1 key inside the token (sensitive, not extractable); print its address."""
    from somstack.core.config import load_settings
    from somstack.core.hsm import generate_key

    load_settings()  # .env: SOMSTACK_PKCS11_*
    click.echo(generate_key(_hsm(label), label))


@keys.command("list")
@hsm_options
def keys_list() -> None:
    """Every private key of the token with its address (or why it may not sign)."""
    from somstack.core.config import load_settings
    from somstack.core.hsm import list_keys

    load_settings()
    found = list_keys(_hsm())
    for info in found:
        click.echo(f"{info.label:24s} {info.address}" if info.problem is None else f"{info.label:24s} refused: {info.problem}")
    if not found:
        _info("the token holds no private key: `somstack keys generate --hsm LABEL` makes one")


@keys.command("address")
@click.option("--hsm", "label", required=True, metavar="LABEL", help="Label of the key in the token.")
@hsm_options
def keys_address(label: str) -> None:
    """The address of the token's key LABEL (refused if it is extractable or not secp256k1)."""
    from somstack.core.config import load_settings
    from somstack.core.hsm import account_of

    load_settings()
    click.echo(account_of(_hsm(label)).address)


# --- The remittance relayer: somstack.relay ---


@cli.group()
def relay() -> None:
    """The remittance relayer: relays signed EIP-3009 transfers and pays their gas, so that
    senders need no BNB."""


@relay.command("serve")
@sending_options
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8645, show_default=True, help="Port to listen on (0: any free port).")
@click.option("--db", metavar="FILE|URL", envvar="SOMSTACK_RELAY_DB", help="SQLite file of the relayer (default build/relay/<chain id>.sqlite), or a postgresql:// URL shared by several instances (each with its own key); env SOMSTACK_RELAY_DB keeps a password off the command line.")
@click.option("--fee", metavar="AMOUNT", help="Fee in whole tokens, taken as a second authorization to the relayer (default: sponsored).")
@click.option("--min-balance", default="0.01", show_default=True, metavar="BNB", help="Refuse new transfers (503) below this relayer balance.")
@click.option("--sender-rate", type=click.FloatRange(min=0.001), default=1.0, show_default=True, help="Requests per second per sender (token bucket).")
@click.option("--sender-burst", type=click.FloatRange(min=1), default=20.0, show_default=True, help="Burst per sender.")
@click.option("--global-rate", type=click.FloatRange(min=0.001), default=200.0, show_default=True, help="Requests per second in all.")
@click.option("--global-burst", type=click.FloatRange(min=1), default=1000.0, show_default=True, help="Burst in all.")
@click.option("--max-body", type=click.IntRange(min=256), default=16 * 1024, show_default=True, help="Largest request body [bytes] (413 above).")
@click.option("--min-validity", type=click.IntRange(min=0), default=30, show_default=True, help="Seconds an authorization must stay valid to be accepted.")
@click.option("--replace-after", type=click.FloatRange(min=0.1), default=60.0, show_default=True, help="Seconds before an unmined transaction is replaced with a higher fee.")
@click.option("--client-rate", type=click.FloatRange(min=0.001), default=50.0, show_default=True, help="Requests per second per client (IP address, or API key), spent before anything else.")
@click.option("--client-burst", type=click.FloatRange(min=1), default=200.0, show_default=True, help="Burst per client.")
@click.option("--max-connections", type=click.IntRange(min=1), default=64, show_default=True, help="Connections one IP address may hold at once.")
@click.option("--header-timeout", type=click.FloatRange(min=0.1), default=10.0, show_default=True, help="Seconds for a request's headers to arrive (slow clients are cut).")
@click.option("--body-timeout", type=click.FloatRange(min=0.1), default=10.0, show_default=True, help="Seconds for a request's body to arrive (408).")
@click.option("--api-keys-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="API keys you issue, one a line: a client sending one in X-API-Key gets a budget of its own.")
@click.option("--lease", type=click.FloatRange(min=1), default=10.0, show_default=True, help="PostgreSQL store: seconds after which a silent instance's pending transfers are taken over.")
def relay_serve(network_name: str, rpc: str | None, from_index: int | None, yes_mainnet: bool, key_env: str | None,
                keystore: Path | None, password_file: Path | None, host: str, port: int, db: str | None, fee: str | None,
                min_balance: str, sender_rate: float, sender_burst: float, global_rate: float, global_burst: float,
                max_body: int, min_validity: int, replace_after: float, client_rate: float, client_burst: float,
                max_connections: int, header_timeout: float, body_timeout: float, api_keys_file: Path | None,
                lease: float) -> None:
    """Serve the relayer's HTTP API (POST /v1/transfers, GET /v1/transfers/{id}, /healthz,
    /metrics, /openapi.json) until Ctrl-C; the relayer key signs (key options, as every sending
    command; on a dev chain without them, a node account)."""
    from somstack.relay.run import abuse_limits, serve, when_chain_answers

    keys = _keys(key_env, keystore, password_file)
    limits = abuse_limits(client_rate, client_burst, max_connections, header_timeout, body_timeout, api_keys_file, lease)
    with when_chain_answers(lambda: _deployed_session(network_name, rpc, keys, yes_mainnet)) as session:
        serve(session, keys, from_index, host, port, db, fee, min_balance, sender_rate, sender_burst, global_rate,
              global_burst, max_body, min_validity, replace_after, limits=limits)


@relay.command("send")
@click.option("--from-key", "from_key", metavar="VAR", help="Environment variable holding the sender's key (never printed); or --hsm-key.")
@click.option("--to", "to", help="Recipient address (not with --redeem).")
@click.option("--amount", required=True, help="Amount in whole tokens (e.g. 12.5).")
@click.option("--redeem", is_flag=True, help="A KGST redemption request to the redemption queue instead of a transfer (needs --payout).")
@click.option("--payout", help="--redeem: the payout record, a 0x bytes32 salted hash of the bank details, or a reference text (hashed).")
@token_option()
@click.option("--url", default="http://127.0.0.1:8645", show_default=True, envvar="SOMSTACK_RELAY_URL", help="The relayer's base URL.")
@click.option("--validity", type=click.IntRange(min=60), default=3600, show_default=True, help="Seconds the authorization stays valid.")
@click.option("--no-wait", is_flag=True, help="Print the id once accepted; do not wait for the transaction.")
@hsm_options
@click.option("--hsm-key", "hsm_key", metavar="LABEL", expose_value=False, callback=_remember, help="Sign with this key of the HSM token instead of --from-key.")
def relay_send(from_key: str | None, to: str | None, amount: str, redeem: bool, payout: str | None, which: str, url: str,
               validity: int, no_wait: bool) -> None:
    """Sign an EIP-3009 transfer (or, with --redeem, a KGST redemption request) locally (or in the
    HSM) and post it to the relayer (the sender needs no BNB)."""
    from somstack.core.accounts import key_from_env
    from somstack.relay.client import RelayClient, RelayRefused, send, send_redemption

    if redeem and (to is not None or payout is None or which != "kgst"):
        raise click.UsageError("--redeem takes --payout and --amount (KGST), not --to")
    if not redeem and (to is None or payout is not None):
        raise click.UsageError("a transfer takes --to (and no --payout); a redemption --redeem --payout")
    hsm = _hsm()
    if (hsm.key is None) == (from_key is None):
        raise click.UsageError("name the sender's key: --from-key VAR or --hsm-key LABEL (one of them)")
    if hsm.key is not None:
        from somstack.core.config import load_settings
        from somstack.core.hsm import account_of

        load_settings()  # .env: SOMSTACK_PKCS11_*
        account: Any = account_of(hsm)
    else:
        account = key_from_env(from_key)  # type: ignore[arg-type]
    if redeem:
        from somstack.core.format import reference

        ref = reference(payout or "", "--payout", "payout record (a salted hash of the bank details)")
        answer = send_redemption(RelayClient(url), account, amount, ref, validity, wait=not no_wait)
    else:
        answer = send(RelayClient(url), account, which, to, amount, validity, wait=not no_wait)  # type: ignore[arg-type]
    click.echo(f"{'redemption' if redeem else 'transfer'} {answer['id']}: {answer['status']}" + (f" (tx {answer['txHash']})" if answer.get("txHash") else ""))
    if answer["status"] == "failed":
        raise RelayRefused(f"transfer {answer['id']} failed: {answer.get('reason')}")


def _interrupted(args: list[str]) -> int:
    """Ctrl-C: what this run sent, mined and left pending, and the command that resumes (exit 130)."""
    import shlex

    resume = ["somstack", *args]
    for line in journal.interrupt_lines(" ".join(shlex.quote(a) for a in resume)):
        click.echo(line, err=True)
    return 130


# --- Transaction monitoring: somstack.monitor (its own click group) ---

from somstack.cli.monitor import monitor as _monitor

cli.add_command(_monitor)


def _show_envvars(command: click.Command) -> None:
    """Every option an environment variable feeds (``envvar=``, SOMSTACK_*) names it in its
    ``--help`` line (``show_envvar``); set once here for every command, those added later too."""
    for param in command.params:
        if isinstance(param, click.Option) and param.envvar:
            param.show_envvar = True
    for sub in getattr(command, "commands", {}).values():
        _show_envvars(sub)


_show_envvars(cli)


def main(argv: list[str] | None = None, group: click.Group | None = None, prog_name: str = "somstack") -> int:
    """Entry point: runs the group (the operator CLI unless another is given), turning every error
    into one line and an exit code."""
    args = sys.argv[1:] if argv is None else argv
    verbose = "-v" in args or "--verbose" in args
    journal.reset()
    try:
        with logs.to_stderr(verbose):  # the library's progress lines, one message a line on stderr
            (group or cli).main(args=argv, prog_name=prog_name, standalone_mode=False)
    except click.exceptions.Abort as exc:
        # click turns Ctrl-C (KeyboardInterrupt) into Abort before we see it
        if isinstance(exc.__cause__ or exc.__context__, KeyboardInterrupt):
            return _interrupted(args)
        click.echo("Aborted.", err=True)
        return 1
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except SomstackError as exc:
        if verbose:
            traceback.print_exc()
        click.echo(f"Error: ({type(exc).__name__}) {exc}", err=True)
        return exc.exit_code  # decided by the class (errors.py, docs/errors.md)
    except KeyboardInterrupt:
        return _interrupted(args)
    except Exception as exc:  # a bug, not bad input: still one line unless -v
        if verbose:
            traceback.print_exc()
        click.echo(f"Error: (unexpected {type(exc).__name__}) {exc} (run with -v for the traceback)", err=True)
        return 1
    return 0

