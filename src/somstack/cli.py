"""The `somstack` command line: deploy, status and demo.

User errors print one line on stderr and exit 1; usage errors exit 2; a traceback only with -v.
"""

from __future__ import annotations

import sys
import traceback
from pathlib import Path
from typing import Any

import click

from .contracts import compile_project
from .deploy import DeployContext, deploy_system, resolve_holders
from .errors import SomstackError
from .manifest import Manifest
from .session import KeyOptions, open_session


class State:
    verbose = False


def _info(message: str) -> None:
    click.echo(message, err=True)


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Show tracebacks on errors.")
@click.pass_context
def cli(ctx: click.Context, verbose: bool) -> None:
    """SomStack: KGST stablecoin, digital som and national reserve on BNB Chain."""
    ctx.obj = State()
    ctx.obj.verbose = verbose


def key_options(func: Any) -> Any:
    func = click.option("--key-env", metavar="VAR", help="Environment variable holding the signing key (default DEPLOYER_PRIVATE_KEY; not needed on local).")(func)
    func = click.option("--keystore", type=click.Path(dir_okay=False, path_type=Path), help="Encrypted JSON keystore of the signing key.")(func)
    func = click.option("--password-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="File holding the keystore password (else a prompt).")(func)
    return func


def _keys(key_env: str | None, keystore: Path | None, password_file: Path | None) -> KeyOptions:
    password = None
    if keystore is not None:
        if password_file is not None:
            password = password_file.read_text().rstrip("\n")
        else:
            password = click.prompt("keystore password", hide_input=True, err=True)
    return KeyOptions(key_env=key_env, keystore=keystore, password=password)


def _confirm_mainnet(network: Any, yes_mainnet: bool) -> None:
    if not network.mainnet or yes_mainnet:
        return
    if not sys.stdin.isatty():
        raise SomstackError(f"{network.name} is mainnet: pass --yes-mainnet to send transactions")
    typed = click.prompt(f"this sends real transactions on {network.name}; type the network name to go on", err=True)
    if typed.strip() != network.name:
        raise SomstackError("not confirmed; nothing was sent")


@cli.command()
@click.option("--network", "network_name", default="local", show_default=True, envvar="SOMSTACK_NETWORK", help="Named network from brownie-config.yaml.")
@click.option("--yes-mainnet", is_flag=True, help="Confirm sending transactions on a mainnet network.")
@key_options
def deploy(network_name: str, yes_mainnet: bool, key_env: str | None, keystore: Path | None, password_file: Path | None) -> None:
    """Deploy the whole system (or resume an interrupted deployment)."""
    keys = _keys(key_env, keystore, password_file)
    with open_session(network_name, keys, log=_info) as session:
        _confirm_mainnet(session.network, yes_mainnet)
        compile_project(session.settings.root)
        holders = resolve_holders(session.settings, session.network, session.w3)
        ctx = DeployContext(
            session.settings, session.network, session.w3, session.sender, session.settings.deployment(network_name), holders, log=_info
        )
        result = deploy_system(ctx)
        for name, record in sorted(result.manifest.contracts.items()):
            click.echo(f"{name:26s} {record['address']}")


@cli.command()
@click.option("--network", "network_name", default="local", show_default=True, envvar="SOMSTACK_NETWORK")
def status(network_name: str) -> None:
    """Show the recorded deployment of a network and whether its code is on chain."""
    with open_session(network_name, log=_info) as session:
        chain_id = session.w3.eth.chain_id
        manifest = Manifest.load(session.settings.deployments_dir / f"{chain_id}.json", chain_id)
        if not manifest.exists:
            raise SomstackError(f"nothing deployed on {network_name}: no {manifest.path.name}")
        click.echo(f"network {network_name}, chain {chain_id}, complete: {manifest.complete}")
        for name, record in sorted(manifest.contracts.items()):
            present = bool(record.get("address")) and bool(session.w3.eth.get_code(record["address"]))
            click.echo(f"{name:26s} {record.get('address', '-'):42s} {'code on chain' if present else 'NO CODE'}")


@cli.command("verify-input")
@click.option("--network", "network_name", default="local", show_default=True, envvar="SOMSTACK_NETWORK")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("build/verify"), show_default=True)
def verify_input(network_name: str, out_dir: Path) -> None:
    """Write the standard JSON inputs for source verification of a deployment (BscScan, Sourcify)."""
    from .config import load_settings
    from .verify import compiler_version, write_inputs

    settings = load_settings()
    network = settings.network(network_name)
    manifest = Manifest.load(settings.deployments_dir / f"{network.chain_id}.json", network.chain_id)
    if not manifest.exists:
        raise SomstackError(f"nothing deployed on {network_name}: no {manifest.path.name}")
    compile_project(settings.root)
    for name, record in sorted(manifest.contracts.items()):
        artifact = record["artifact"]
        (path,) = write_inputs(settings, [artifact], out_dir)
        click.echo(f"{name:26s} {record['address']}  {artifact} {compiler_version(settings, artifact)}  {path}")
        click.echo(f"{'':26s} constructor args {record.get('constructorArgs') or '0x'}")


@cli.command()
def demo() -> None:
    """Start a local chain, deploy, and walk KGST through its life (what `make demo` runs)."""
    from .config import load_settings
    from .demo import run_demo

    compile_project(load_settings().root)
    run_demo(click.echo)


def main(argv: list[str] | None = None) -> int:
    """Entry point: runs the group, turning every error into one line and an exit code."""
    verbose = "-v" in (argv if argv is not None else sys.argv[1:]) or "--verbose" in (argv or sys.argv[1:])
    try:
        cli.main(args=argv, prog_name="somstack", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return 1
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except SomstackError as exc:
        if verbose:
            traceback.print_exc()
        click.echo(f"Error: ({type(exc).__name__}) {exc}", err=True)
        return 1
    except KeyboardInterrupt:
        click.echo("Interrupted: the manifest keeps every step done so far; run the command again to resume.", err=True)
        return 130
    except Exception as exc:  # a bug, not bad input: still one line unless -v
        if verbose:
            traceback.print_exc()
        click.echo(f"Error: (unexpected {type(exc).__name__}) {exc} (run with -v for the traceback)", err=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
