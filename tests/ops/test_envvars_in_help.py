"""Every environment variable that feeds an option (`envvar=`, the SOMSTACK_* ones) is named in
the `--help` of each command that takes the option: a walk of every command, in process."""

from __future__ import annotations

import click

from somstack.cli import cli
from clihelp import run


def commands(group, path=()):
    for name, command in sorted(group.commands.items()):
        yield (*path, name), command
        if isinstance(command, click.Group):
            yield from commands(command, (*path, name))


def envvars_of(command):
    for param in command.params:
        if isinstance(param, click.Option) and param.envvar:
            yield from [param.envvar] if isinstance(param.envvar, str) else param.envvar


def test_every_envvar_of_an_option_is_shown_in_the_help(capsys):
    checked = 0
    for path, command in commands(cli):
        wanted = list(envvars_of(command))
        if not wanted:
            continue
        code, out, err = run(capsys, *path, "--help")
        assert code == 0, err
        text = " ".join(out.split())  # click wraps "[env var: X; default: y]" across lines
        for name in wanted:
            assert name.startswith("SOMSTACK_"), (path, name)
            assert f"env var: {name}" in text, (" ".join(path), name)
            checked += 1
    assert checked >= 25  # --network on the reading and sending commands, --safe, --url, monitor's


def test_the_pkcs11_options_name_the_variables_they_fall_back_to(capsys):
    code, out, _err = run(capsys, "deploy", "--help")
    text = " ".join(out.split())
    assert code == 0
    for name in ("SOMSTACK_PKCS11_PIN_FILE", "SOMSTACK_PKCS11_TOKEN", "SOMSTACK_PKCS11_MODULE"):
        assert name in text
