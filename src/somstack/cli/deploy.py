"""`somstack deploy`, `handover`, `node`, `verify-input`, `networks` and `layouts`: putting the
system on a chain and what surrounds it (somstack.system.deploy, verify, layouts)."""

from __future__ import annotations

from pathlib import Path

import click

from somstack.cli.common import (
    _confirm_mainnet,
    _go_ahead,
    _keys,
    key_options,
    network_option,
    reading,
    rpc_option,
    yes_mainnet_option,
)
from somstack.core.artifacts import compile_project
from somstack.core.manifest import deployed_manifest
from somstack.core.session import open_session
from somstack.system.deploy import DeployContext, deploy_system, resolve_holders


@click.command()
@network_option
@yes_mainnet_option
@click.option("--dry-run", is_flag=True, help="Print each transaction of the plan with its gas and cost and the deployer's balance; send nothing.")
@rpc_option
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


@click.command()
@network_option
@rpc_option
@yes_mainnet_option
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


@click.command()
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


@click.group()
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


@click.group()
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


@click.command("verify-input")
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
        with reading(network_name, rpc).session() as session:
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


COMMANDS = (deploy, handover, node, networks, layouts, verify_input)
