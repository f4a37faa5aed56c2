"""The relayer's bench (`make bench` calls :func:`run_relay_bench`; results in
benchmarks/results/relay.md): accepted and confirmed per second and the p50/p99 accept latency
of `somstack relay serve` processes, for one instance on SQLite, one and two on PostgreSQL, at
16 and 32 concurrent clients; each run posts 1,000 authorizations from 100 senders (10 each)
over the loopback, spread over the instances in turn, and waits until all are confirmed.

Everything is local: an anvil of its own (automine), SomStack deployed on it by `somstack
deploy`, a PostgreSQL server of its own (somstack.dev.devpg). Ports: BENCH_RELAY_PORT (default
SOMSTACK_TEST_PORT + 40, else 8585) for anvil, the next one for PostgreSQL, the next ones for
the relayers.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import requests

Log = Callable[[str], None]
UNIT = 10**18
SENDERS, PER_SENDER = 100, 10
HOLDER = 11  # dev account holding the minted KGST (as the relay tests)
LIMITS = ("--sender-burst", "100", "--global-burst", "100000", "--global-rate", "100000", "--client-burst", "100000",
          "--client-rate", "100000", "--max-connections", "256")
SCENARIOS = [("SQLite", 1), ("PostgreSQL", 1), ("PostgreSQL", 2)]
CLIENTS = (16, 32)
TARGET = 150.0  # [accepted/s] with two instances (issue 17)
BLOCK_TIME = 1  # [s] anvil mines a block every second


@dataclass
class Run:
    store: str
    instances: int
    clients: int
    accepted_per_s: float
    confirmed_per_s: float
    p50_ms: float
    p99_ms: float
    refused: int
    cpu_ms: dict[str, float] | None = None  # CPU time per authorization [ms], by process group

    def row(self) -> str:
        cpu = self.cpu_ms or {}
        cells = " | ".join(f"{cpu[g]:.1f}" if g in cpu else "-" for g in CPU_GROUPS)
        return (f"| {self.store} | {self.instances} | {self.clients} | {self.accepted_per_s:.0f} | {self.confirmed_per_s:.0f} | "
                f"{self.p50_ms:.0f} | {self.p99_ms:.0f} | {self.refused} | {cells} |")


CPU_GROUPS = ("relayers", "anvil", "PostgreSQL", "client")


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes and their children [s]."""
    import psutil

    total = 0.0
    for pid in pids:
        try:
            process = psutil.Process(pid)
            for p in [process, *process.children(recursive=True)]:
                times = p.cpu_times()
                total += times.user + times.system
        except psutil.Error:
            continue
    return total


def _postmaster(port: int) -> list[int]:
    """The PostgreSQL server listening on ``port`` (its backends are its children)."""
    import psutil

    found = []
    for p in psutil.process_iter(["cmdline"]):
        cmdline = p.info["cmdline"] or []
        if cmdline and cmdline[0].endswith("postgres") and "-p" in cmdline and str(port) in cmdline:
            found.append(p.pid)
    return found


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@contextmanager
def _environment(changes: dict[str, str]) -> Iterator[None]:
    prior = {k: os.environ.get(k) for k in changes}
    os.environ.update(changes)
    try:
        yield
    finally:
        for k, v in prior.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _post_all(urls: list[str], bodies: list[dict[str, Any]], clients: int) -> tuple[list[int], list[float], float]:
    """Posts every body (in turn to each url), ``clients`` at a time; statuses, latencies [s], wall time [s]."""
    import aiohttp

    async def main() -> tuple[list[int], list[float], float]:
        gate = asyncio.Semaphore(clients)
        statuses: list[int] = []
        latencies: list[float] = []
        connector = aiohttp.TCPConnector(limit=clients)
        async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=300)) as session:

            async def one(n: int, body: dict[str, Any]) -> None:
                async with gate:
                    start = time.monotonic()
                    async with session.post(urls[n % len(urls)] + "/v1/transfers", json=body) as reply:
                        await reply.read()
                        statuses.append(reply.status)
                    latencies.append(time.monotonic() - start)

            started = time.monotonic()
            await asyncio.gather(*(one(n, b) for n, b in enumerate(bodies)))
            return statuses, latencies, time.monotonic() - started

    return asyncio.run(main())


@contextmanager
def relay_process(env: dict[str, str], args: list[str], port: int, log_path: Path, probe: str = "/readyz",
                  timeout: float = 90) -> Iterator[tuple[str, int]]:
    """A `somstack relay serve` process on ``port`` (``args`` follow `serve`), its output in
    ``log_path``: yields its URL and pid once ``probe`` answers 200; stopped on the way out.
    BENCH_RELAY_PROFILE (a folder) runs it under cProfile, its stats there."""
    profile = os.environ.get("BENCH_RELAY_PROFILE")
    runner = ["-m", "cProfile", "-o", str(Path(profile) / f"relay-{port}.prof")] if profile else []
    cmd = [sys.executable, *runner, "-m", "somstack.cli", "relay", "serve", *args, "--port", str(port)]
    with open(log_path, "wb") as out:
        process = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the relayer exited: {log_path.read_text()[-500:]}")
            try:
                if requests.get(url + probe, timeout=2).status_code == 200:
                    break
            except requests.exceptions.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the relayer did not start within {timeout:.0f} s")
            time.sleep(0.2)
        yield url, process.pid
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(15)


def _relay(env: dict[str, str], key_hex: str, port: int, db: str, log_path: Path) -> Any:
    args = ["--network", "local", "--key-env", "RELAYER_KEY", "--db", db, *LIMITS]
    return relay_process({**env, "RELAYER_KEY": key_hex}, args, port, log_path)


@dataclass
class _Chain:
    """The bench's anvil with SomStack deployed, KGST handed to the senders, blocks on a timer."""

    folder: Path  # the manifest, the SQLite stores, the relayers' logs
    node: Any  # the LocalNode
    w3: Any
    env: dict[str, str]  # what the relayer processes see: the RPC, the deployments folder
    kgst: Any
    domain: Any  # KGST's EIP-712 domain
    senders: list[Any]  # SENDERS keys holding KGST
    recipients: list[str]


def run_relay_bench(log: Log = print, out_dir: Path | None = None) -> Path:
    from somstack.core.config import load_settings
    from somstack.dev.devpg import postgres_server

    settings = load_settings()
    root = settings.root
    base = int(os.environ.get("BENCH_RELAY_PORT") or (int(os.environ["SOMSTACK_TEST_PORT"]) + 40
                                                      if os.environ.get("SOMSTACK_TEST_PORT") else 8585))
    runs: list[Run] = []
    with ExitStack() as stack:
        chain = _start_chain(stack, settings, base, log)
        pg = stack.enter_context(postgres_server(base + 1, durable=True))  # commits reach the disk, as SQLite's
        only = os.environ.get("BENCH_RELAY_ONLY")  # e.g. "PostgreSQL:2" to measure one scenario
        for store_kind, instances in SCENARIOS:
            if only and only != f"{store_kind}:{instances}":
                continue
            for clients in CLIENTS:
                run = _measure(chain, pg, base, store_kind, instances, clients, len(runs))
                log(f"relay bench: {store_kind}, {instances} instance(s), {clients} clients: {run.accepted_per_s:.0f} "
                    f"accepted/s, {run.confirmed_per_s:.0f} confirmed/s, p50 {run.p50_ms:.0f} ms, p99 {run.p99_ms:.0f} ms, "
                    f"{run.refused} refused; CPU ms per authorization: "
                    + ", ".join(f"{g} {v:.1f}" for g, v in (run.cpu_ms or {}).items()))
                runs.append(run)
    path = (out_dir or root / "benchmarks" / "results") / "relay.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(report(runs))
    log(f"wrote {path}")
    return path


def _start_chain(stack: ExitStack, settings: Any, base: int, log: Log) -> _Chain:
    """An anvil on port ``base`` with SomStack deployed and funded by the CLI, KGST sent to
    SENDERS fresh keys, then interval mining (its node and folder closed with ``stack``)."""
    from eth_account import Account
    from web3 import Web3

    from somstack.cli import main as cli_main
    from somstack.core.artifacts import Artifacts
    from somstack.core.chain import LocalNode
    from somstack.core.manifest import Manifest
    from somstack.core.signatures import Domain

    chain_id = settings.network("local").chain_id
    folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="relaybench-")))
    node = stack.enter_context(LocalNode(settings, chain_id, port=base))
    env = {"SOMSTACK_RPC_LOCAL": node.url, "SOMSTACK_DEPLOYMENTS_DIR": str(folder)}
    log(f"relay bench: anvil at {node.url}, deploying SomStack")
    w3 = Web3(Web3.HTTPProvider(node.url))
    accounts = w3.eth.accounts
    with _environment(env):
        for argv in (["deploy", "--network", "local"], ["reserve", "set-rate", "--rate", "87.5"],
                     ["reserve", "deposit", "--asset", "BNB", "--amount", "1000"],
                     ["reserve", "attest", "--amount", "50000000", "--as-of", "now", "--report-hash", "0x" + "ab" * 32, "--uri", "ipfs://bench"],
                     ["minter", "set", accounts[1], "--allowance", "100000000"],
                     ["mint", accounts[HOLDER], "10000000", "--ref", "relay-bench"]):
            if cli_main(argv) != 0:
                raise RuntimeError(f"somstack {' '.join(argv)} failed")
    manifest = Manifest.load(folder / f"{chain_id}.json", chain_id)
    kgst = Artifacts(settings.root).get("Stablecoin").contract(w3, manifest.address("Stablecoin"))
    domain = Domain.of(kgst)
    senders = [Account.create() for _ in range(SENDERS)]
    hashes = [kgst.functions.transfer(s.address, 1_000 * UNIT).transact({"from": accounts[HOLDER]}) for s in senders]
    for h in hashes:
        w3.eth.wait_for_transaction_receipt(h)
    recipients = [Account.create().address for _ in range(50)]
    # blocks every second, as a chain has them (BSC: 0.75-3 s), not one block per transaction
    w3.provider.make_request("evm_setAutomine", [False])  # type: ignore[arg-type]
    w3.provider.make_request("evm_setIntervalMining", [BLOCK_TIME])  # type: ignore[arg-type]
    return _Chain(folder, node, w3, env, kgst, domain, senders, recipients)


def _measure(chain: _Chain, pg: Any, base: int, store_kind: str, instances: int, clients: int, number: int) -> Run:
    """One run (the ``number``-th): PER_SENDER authorizations of every sender posted by ``clients``
    concurrent clients over ``instances`` fresh relayers sharing one fresh store, until all
    accepted are confirmed."""
    from eth_account import Account

    from somstack.dev.devpg import fresh_database
    from somstack.relay.client import authorization
    from somstack.relay.run import open_store
    from somstack.relay.store import CONFIRMED

    w3, folder, node = chain.w3, chain.folder, chain.node
    child_env = {**os.environ, **chain.env}
    bodies = [authorization(s, chain.domain, chain.kgst.address, chain.recipients[(i * SENDERS + j) % 50], UNIT + i, 3600)
              for i in range(PER_SENDER) for j, s in enumerate(chain.senders)]
    db = fresh_database(pg) if store_kind == "PostgreSQL" else str(folder / f"r{number}.sqlite")
    keys = [Account.create() for _ in range(instances)]
    for k in keys:
        w3.provider.make_request("anvil_setBalance", [k.address, hex(1000 * UNIT)])  # type: ignore[arg-type]
    with ExitStack() as relays:
        served = [relays.enter_context(_relay(child_env, k.key.hex(), base + 2 + n, db,
                                              folder / f"relay{number}-{n}.log")) for n, k in enumerate(keys)]
        urls = [url for url, _ in served]
        groups = {"relayers": [pid for _, pid in served], "anvil": [node.process.pid] if node.process else [],
                  "PostgreSQL": _postmaster(base + 1)}
        cpu_before = {g: _cpu_seconds(p) for g, p in groups.items()}
        client_before = time.process_time()
        started = time.monotonic()
        statuses, latencies, posted = _post_all(urls, bodies, clients)
        store = open_store(db, "0xbench")
        try:
            deadline = time.monotonic() + 600
            while store.counts().get(CONFIRMED, 0) < statuses.count(202) and time.monotonic() < deadline:
                time.sleep(0.1)
            confirmed = store.counts().get(CONFIRMED, 0)
        finally:
            store.close()
        elapsed = time.monotonic() - started
        cpu = {g: 1000 * (_cpu_seconds(p) - cpu_before[g]) / len(bodies) for g, p in groups.items()}
        cpu["client"] = 1000 * (time.process_time() - client_before) / len(bodies)
    return Run(store_kind, instances, clients, statuses.count(202) / posted, confirmed / elapsed,
               1000 * _percentile(latencies, 0.5), 1000 * _percentile(latencies, 0.99),
               len(statuses) - statuses.count(202), cpu)


def report(runs: list[Run]) -> str:
    best_two = max((r.accepted_per_s for r in runs if r.instances == 2), default=0.0)
    lines = [
        "# Relayer throughput",
        "",
        f"Generated by `make bench` (somstack.dev.relaybench) on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
        f"{os.cpu_count()} cores; anvil (a block every {BLOCK_TIME} s), PostgreSQL, the relayers and the clients all on "
        "this machine.",
        f"Each run: {SENDERS * PER_SENDER:,} signed EIP-3009 authorizations from {SENDERS} senders posted over the "
        "loopback, spread over the instances in turn, then waited for until all are confirmed. Accepted/s: 202 answers "
        "over the posting time; confirmed/s: confirmations over the time from the first post to the last "
        "confirmation; latency: of each POST, as the client sees it; CPU: user + system time of each group of processes "
        "over the run, per authorization (where 2 cores go).",
        "",
        "| store | instances | clients | accepted/s | confirmed/s | accept p50 [ms] | accept p99 [ms] | not 202 | "
        + " | ".join(f"CPU {g} [ms/auth]" for g in CPU_GROUPS) + " |",
        "|---|---|---|---|---|---|---|---|" + "---|" * len(CPU_GROUPS),
        *(r.row() for r in runs),
        "",
        f"Target (issue 17): at least {TARGET:.0f} accepted/s with two instances: "
        f"{'met' if best_two >= TARGET else 'not met'} ({best_two:.0f}/s at best).",
        "",
        "Caveat: the machine's cores are shared by anvil, the relayers, PostgreSQL, the client and whatever else runs "
        f"at the time (load average {os.getloadavg()[0]:.1f} when this was written): figures vary from run to run, and "
        "instances can add throughput only where there are cores to run them.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    run_relay_bench()


if __name__ == "__main__":
    main()
