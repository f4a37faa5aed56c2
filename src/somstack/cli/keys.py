"""`somstack keys ...`: signing keys in an HSM (PKCS#11), somstack.core.hsm."""

from __future__ import annotations

import click

from somstack.cli.common import _hsm, _info, hsm_options


@click.group()
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


COMMANDS = (keys,)
