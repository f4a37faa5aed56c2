"""What every command group of the CLI shares: the click context object (with the governance
route), the options of a sending command and the :class:`Target` they make, the key and HSM
options, --json, the operator-command marker, the mainnet confirmation and the plan prompts."""

from __future__ import annotations

import dataclasses
import functools
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import click

from somstack.core.chain import Sender
from somstack.core.errors import SomstackError
from somstack.core.session import KeyOptions, Session, open_session
from somstack.system.routes import Route


@dataclass
class State:
    """``ctx.obj`` of every command: -v, and the governance route a ``governance`` command runs
    its operator command under (None: the command sends directly)."""

    verbose: bool = False
    route: Route | None = None


def _info(message: str) -> None:
    click.echo(message, err=True)


def _route() -> Route | None:
    """The governance route the running command is under (None: none); a command not marked
    :func:`operator` inside a group that holds one is refused under a route."""
    ctx = click.get_current_context()
    state = ctx.find_object(State)
    route = state.route if state is not None else None
    if route is not None and not getattr(ctx.command, "operator", False):
        group = ctx.parent.info_name if ctx.parent is not None else ""
        raise click.UsageError(f"`{group} {ctx.info_name}` is not an operator command: a governance route runs only those")
    return route


# --- Options shared by several commands ---

NETWORK_HELP = "Named network from brownie-config.yaml."
RPC_HELP = "RPC URL instead of the network's."
RPC_ENV_HELP = "RPC URL instead of the network's (else SOMSTACK_RPC_<NETWORK>, e.g. SOMSTACK_RPC_LOCAL, else brownie-config.yaml)."


def network_option(func: Any) -> Any:
    return click.option("--network", "network_name", default="local", show_default=True, envvar="SOMSTACK_NETWORK", help=NETWORK_HELP)(func)


def rpc_option(func: Any = None, *, help: str = RPC_HELP) -> Any:
    option = click.option("--rpc", metavar="URL", help=help)
    return option(func) if func is not None else option


def yes_mainnet_option(func: Any) -> Any:
    return click.option("--yes-mainnet", is_flag=True, help="Confirm sending transactions on a mainnet network.")(func)


def json_option(func: Any) -> Any:
    """``--json``: a reading command prints the dataclass its text is formatted from, as JSON
    (somstack.core.jsonout), instead of the text."""
    return click.option("--json", "as_json", is_flag=True, help="Print the data as JSON (the fields the text is built from) instead of the text.")(func)


def _echo_json(data: Any) -> None:
    from somstack.core.jsonout import dumps

    click.echo(dumps(data))


def token_option(default: str = "kgst", everything: bool = False) -> Any:
    choices = ["kgst", "som", "all"] if everything else ["kgst", "som"]
    return click.option("--token", "which", type=click.Choice(choices), default=default, show_default=True,
                        help="kgst: the stablecoin; som: the digital som" + ("; all: every token" if everything else "") + ".")


def into(cls: type, name: str) -> Callable[[Any], Any]:
    """The options below it whose names are the fields of the dataclass ``cls`` reach the command
    as one ``cls`` argument ``name`` (a command of many options takes a few objects)."""
    fields = [f.name for f in dataclasses.fields(cls)]

    def decorate(func: Any) -> Any:
        @functools.wraps(func)
        def command(*args: Any, **kwargs: Any) -> Any:
            kwargs[name] = cls(**{field: kwargs.pop(field) for field in fields})
            return func(*args, **kwargs)

        return command

    return decorate


# --- Keys: an environment variable, a keystore, or a key in an HSM (somstack.core.hsm) ---


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


# --- The target of a command: where it acts, who signs, and by which route ---


@dataclass
class Target:
    """A deployed network a command acts on (no chain is started for it), and for a sending
    command who signs (``keys``; None: the command only reads), the dev account, the mainnet
    confirmation and the governance route its calls take (``route``; None: sent directly)."""

    network_name: str
    rpc: str | None = None
    keys: KeyOptions | None = None
    from_index: int | None = None
    yes_mainnet: bool = False
    route: Route | None = None

    @property
    def proposing(self) -> bool:
        """Under `governance propose`: the Safe sends, later; no key signs now."""
        return self.route is not None and self.route.mode == "propose"

    @contextmanager
    def session(self, confirm: bool = True) -> Iterator[Session]:
        """A session on the network; it reads only when no key is given (or when proposing), and
        asks the mainnet confirmation of a sending command first (``confirm``: not for a dry run)."""
        read_only = self.keys is None or self.proposing
        with open_session(self.network_name, self.keys or KeyOptions(), rpc=self.rpc, start_node=False, read_only=read_only) as session:
            if not read_only and confirm:
                _confirm_mainnet(session.network, self.yes_mainnet)
            yield session

    def sender(self, session: Session, role: str | None) -> Sender:
        """Who sends for ``role`` on the target's route (:func:`somstack.ops.common.sender_for`)."""
        from somstack.ops.common import sender_for

        return sender_for(session, role, self.from_index, self.keys or KeyOptions(), route=self.route)


def reading(network_name: str, rpc: str | None) -> Target:
    """The target of a command that only reads."""
    return Target(network_name, rpc)


def network_options(func: Any = None, *, rpc_help: str = RPC_ENV_HELP) -> Any:
    """``--network`` and ``--rpc`` of a reading command, given to it as ``target`` (it reads only)."""

    def decorate(func: Any) -> Any:
        @functools.wraps(func)
        def command(*args: Any, network_name: str, rpc: str | None, **kwargs: Any) -> Any:
            _route()
            return func(*args, target=reading(network_name, rpc), **kwargs)

        return network_option(rpc_option(command, help=rpc_help))

    return decorate(func) if func is not None else decorate


def sender_options(func: Any) -> Any:
    """The options of a sending command (network, RPC, dev account, mainnet confirmation, key,
    keystore, HSM), given to it as one ``target`` with the governance route of the click context.
    A command marked :func:`operator` with a refusal for proposals refuses `governance propose`."""

    @functools.wraps(func)
    def command(*args: Any, network_name: str, rpc: str | None, from_index: int | None, yes_mainnet: bool,
                key_env: str | None, keystore: Path | None, password_file: Path | None, **kwargs: Any) -> Any:
        route = _route()
        refusal = getattr(click.get_current_context().command, "refuse_proposal", None)
        if route is not None and route.mode == "propose" and refusal:
            raise click.UsageError(refusal)
        keys = _keys(key_env, keystore, password_file)
        return func(*args, target=Target(network_name, rpc, keys, from_index, yes_mainnet, route), **kwargs)

    decorated = yes_mainnet_option(key_options(command))
    decorated = click.option(
        "--from-index",
        type=click.IntRange(min=0),
        help="Dev networks: the node account that signs (default: the first holder of the needed role in dev_holders).",
    )(decorated)
    return network_option(rpc_option(decorated, help=RPC_ENV_HELP))


# --- Operator commands: those a governance route may wrap ---


def operator(command: click.Command | None = None, *, refuse_proposal: str | None = None) -> Any:
    """Marks an operator command: its calls go through :meth:`Target.sender`, so `governance
    propose|schedule|execute` may run it (cli.governance lists the commands so marked).
    ``refuse_proposal``: why `governance propose` may not (a command that follows its own
    transactions), said as a usage error."""

    def mark(command: click.Command) -> click.Command:
        command.operator = True  # type: ignore[attr-defined]
        command.refuse_proposal = refuse_proposal  # type: ignore[attr-defined]
        return command

    return mark(command) if command is not None else mark


def is_operator(command: click.Command) -> bool:
    """An operator command, or a group holding one."""
    if getattr(command, "operator", False):
        return True
    return any(is_operator(sub) for sub in getattr(command, "commands", {}).values())


# --- Plans and refusals ---


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
