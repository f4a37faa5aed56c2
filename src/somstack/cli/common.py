"""What every command group of the CLI shares: the key and HSM options, --json, the mainnet
confirmation and the session on a deployed network."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import click

from somstack.core.errors import SomstackError
from somstack.core.session import KeyOptions, open_session


class State:
    verbose = False


def _info(message: str) -> None:
    click.echo(message, err=True)


def json_option(func: Any) -> Any:
    """``--json``: a reading command prints the dataclass its text is formatted from, as JSON
    (somstack.core.jsonout), instead of the text."""
    return click.option("--json", "as_json", is_flag=True, help="Print the data as JSON (the fields the text is built from) instead of the text.")(func)


def _echo_json(data: Any) -> None:
    from somstack.core.jsonout import dumps

    click.echo(dumps(data))


def key_options(func: Any) -> Any:
    func = click.option("--key-env", metavar="VAR", help="Environment variable holding the signing key (default DEPLOYER_PRIVATE_KEY; not needed on local).")(func)
    func = click.option("--keystore", type=click.Path(dir_okay=False, path_type=Path), help="Encrypted JSON keystore of the signing key.")(func)
    func = click.option("--password-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="File holding the keystore password (else a prompt).")(func)
    return hsm_options(func, key="--hsm-key")


def _remember(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    if value is not None:
        ctx.meta[f"somstack.core.hsm.{param.name}"] = value
    return value


def hsm_options(func: Any, key: str | None = None) -> Any:
    """The PKCS#11 options (module, token, PIN file; with ``key``, the key label option). They
    are not parameters of the command: :func:`_hsm` reads them from the click context."""
    hidden = {"expose_value": False, "callback": _remember}
    func = click.option("--pin-file", "pin_file", type=click.Path(dir_okay=False, path_type=Path), **hidden,
                        help="HSM: file holding the token's user PIN (else SOMSTACK_PKCS11_PIN_FILE, else a prompt).")(func)
    func = click.option("--pkcs11-token", "token", metavar="LABEL", **hidden, help="HSM: the token's label (else SOMSTACK_PKCS11_TOKEN).")(func)
    func = click.option("--pkcs11-module", "module", metavar="PATH", **hidden, help="HSM: the PKCS#11 library (else SOMSTACK_PKCS11_MODULE).")(func)
    if key:
        func = click.option(key, "hsm_key", metavar="LABEL", **hidden, help="Sign with this key of the HSM token (it never leaves the token).")(func)
    return func


def _hsm(label: str | None = None) -> Any:
    """The HSM options given to the running command (None when no key label is named)."""
    from somstack.core.hsm import HsmOptions

    meta = click.get_current_context().meta
    label = label or meta.get("somstack.core.hsm.hsm_key")
    return HsmOptions(key=label, module=meta.get("somstack.core.hsm.module"), token=meta.get("somstack.core.hsm.token"),
                      pin_file=meta.get("somstack.core.hsm.pin_file"),
                      prompt=lambda text: click.prompt(text, hide_input=True, err=True))


def _keys(key_env: str | None, keystore: Path | None, password_file: Path | None) -> KeyOptions:
    hsm = _hsm()
    if hsm.key is not None:
        if key_env is not None or keystore is not None:
            raise click.UsageError("--hsm-key is a key source of its own: do not combine it with --key-env or --keystore")
        return KeyOptions(hsm=hsm)
    password = None
    if keystore is not None:
        if password_file is not None:
            password = password_file.read_text().rstrip("\n")
        elif not sys.stdin.isatty():
            raise SomstackError(f"{keystore} needs its password and there is no terminal to ask it on: pass --password-file FILE")
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


@contextmanager
def _deployed_session(network_name: str, rpc: str | None, keys: KeyOptions | None, yes_mainnet: bool) -> Iterator[Any]:
    """A session on a deployed network (no chain is started for it); it reads only when ``keys``
    is None, and asks the mainnet confirmation before a sending command."""
    from somstack.system import routes

    route = routes.current()
    proposing = route is not None and route.mode == "propose"  # the Safe sends, later: no key now
    read_only = keys is None or proposing
    with open_session(network_name, keys or KeyOptions(), rpc=rpc, start_node=False, read_only=read_only) as session:
        if not read_only:
            _confirm_mainnet(session.network, yes_mainnet)
        yield session
