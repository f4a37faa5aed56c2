"""The development tools' commands, apart from the operator CLI: `python -m somstack.dev demo`
(`make demo`) and `python -m somstack.dev bench` (`make bench`). They drive the system as an
operator would, so they sit above the CLI and the CLI knows nothing of them."""

from __future__ import annotations

import sys

import click

from somstack.cli import _info, main
from somstack.core.artifacts import compile_project


@click.group()
def dev() -> None:
    """SomStack's development tools (not for operators)."""


@dev.command()
def demo() -> None:
    """Start a local chain, deploy, and walk KGST through its life (what `make demo` runs)."""
    import contextlib
    import io

    from somstack.core.config import load_settings
    from somstack.dev.demo import run_demo

    listing = io.StringIO()
    with contextlib.redirect_stdout(listing):  # brownie lists every compiled source: one line instead
        compile_project(load_settings().root)
    compiled = [line for line in listing.getvalue().splitlines() if line.strip().startswith("- ")]
    if compiled:
        click.echo(f"compiled {len(compiled)} contract source(s) (`brownie compile` lists them)")
    run_demo(click.echo)


@dev.command()
@click.option("--only", type=click.Choice(["make-test"]), default=None,
              help="make-test: time `make test` again (BENCH_TEST_RUNS, default 3) and keep every other figure of gas.json.")
def bench(only: str | None) -> None:
    """Measure gas (ours and the reference tokens') and harness speed; write
    benchmarks/results/gas.md and gas.json (what `make bench` runs)."""
    from somstack.dev.bench import rerun_make_test, run_bench
    from somstack.dev.redemption_bench import run_redemption_bench

    if only == "make-test":
        md, _ = rerun_make_test(_info)
        _info(f"wrote {md} (the make test row)")
        return
    run_bench(_info)
    _info("redemption queue gas -> benchmarks/results/redemption.md")
    run_redemption_bench(_info)


if __name__ == "__main__":
    sys.exit(main(group=dev, prog_name="python -m somstack.dev"))
