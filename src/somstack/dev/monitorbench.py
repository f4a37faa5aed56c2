"""The monitor's figures for `make bench`: `monitor scan` over 100,000 and 1,000,000 synthetic
transfers with every rule on (wall time, peak memory of the scanning process, DuckDB limited to
2 threads), the recall/precision table per rule, and the delay from a transfer's confirming block
to its alert in `monitor run` on anvil -> benchmarks/results/monitor.md.

Each scan runs in a child process of its own (``python -m somstack.monitor.bench DIR``), so its
peak resident memory is the scan's, not the generator's. BENCH_MONITOR_SIZES (comma-separated)
changes the sizes; BENCH_MONITOR_LATENCY=0 skips the anvil part, BENCH_MONITOR_PORT sets its port.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

RESULTS = Path("benchmarks") / "results" / "monitor.md"
SIZES = (100_000, 1_000_000)
THREADS = 2


def _scan_child(data_dir: Path) -> dict[str, Any]:
    from somstack.core.config import load_settings
    from somstack.monitor.scan import default_rules
    from somstack.monitor.synth import evaluate

    quality = evaluate(data_dir, default_rules(load_settings().raw), threads=THREADS)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"rows": quality.rows, "background": quality.background, "seconds": quality.seconds, "peak_bytes": peak,
            "per_rule": quality.per_rule, "false_alerts": quality.false_alerts, "false_per_10k": quality.false_per_10k}


def measure(size: int, seed: int, work: Path, log: Callable[[str], None]) -> dict[str, Any]:
    from somstack.monitor.synth import generate

    folder = work / f"synth-{size}"
    start = time.perf_counter()
    generate(folder, seed=seed, background=size)
    log(f"monitor bench: {size:,} background transfers generated in {time.perf_counter() - start:.1f} s; scanning")
    out = subprocess.run([sys.executable, "-m", "somstack.monitor.bench", str(folder)], check=True, capture_output=True, text=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    log(f"monitor bench: {result['rows']:,} transfers scanned in {result['seconds']:.1f} s, peak {result['peak_bytes'] / 2**20:,.0f} MiB")
    return result


def measure_latency(log: Callable[[str], None], confirmations: int = 3, rounds: int = 5) -> dict[str, Any]:
    """`monitor run` on anvil: seconds from the block that brings a transfer to the confirmation
    depth being mined to its alert being in the store (the follower polling every 0.1 s)."""
    import threading
    from decimal import Decimal
    from unittest import mock

    from eth_account import Account
    from web3 import Web3

    from somstack.cli import main
    from somstack.core import logs
    from somstack.core.artifacts import Artifacts
    from somstack.core.chain import LocalNode
    from somstack.core.config import load_settings
    from somstack.core.manifest import Manifest
    from somstack.monitor.follow import Follower, Runner
    from somstack.monitor.settings import load_rules
    from somstack.monitor.store import Store

    settings = load_settings()
    port = int(os.environ["BENCH_MONITOR_PORT"]) if os.environ.get("BENCH_MONITOR_PORT") else None
    with LocalNode(settings, 31337, port=port) as node, tempfile.TemporaryDirectory() as work:
        env = {"SOMSTACK_RPC_LOCAL": node.url, "SOMSTACK_DEPLOYMENTS_DIR": work}
        with mock.patch.dict(os.environ, env):
            w3 = Web3(Web3.HTTPProvider(node.url))
            holder = w3.eth.accounts[11]
            for argv in (["deploy", "--network", "local"], ["reserve", "set-rate", "--rate", "87.45"],
                         ["reserve", "deposit", "--asset", "BNB", "--amount", "1000"],
                         ["reserve", "attest", "--amount", "50000000", "--as-of", "now", "--report-hash", "0x" + "ab" * 32, "--uri", "ipfs://bench"],
                         ["minter", "set", w3.eth.accounts[1], "--allowance", "100000000"], ["mint", holder, "10000000", "--ref", "bench"]):
                if main(argv) != 0:
                    raise RuntimeError(f"monitor bench: `somstack {' '.join(argv)}` failed")
        manifest = Manifest.load(Path(work) / "31337.json", 31337)
        kgst = Artifacts(settings.root).get("Stablecoin").contract(w3, manifest.address("Stablecoin"))
        store = Store(Path(work) / "monitor.sqlite")
        follower = Follower(w3, manifest, Artifacts(settings.root), store, confirmations)
        runner = Runner(follower, store, load_rules({}, None, Decimal("87.45")), [], Path(work))
        with logs.silenced("somstack.monitor"):  # each round's alerts: the latency is the figure
            runner.step()
        stop = threading.Event()

        def loop() -> None:
            while not stop.is_set():
                with logs.silenced("somstack.monitor"):
                    runner.step()
                time.sleep(0.1)

        thread = threading.Thread(target=loop, daemon=True)
        thread.start()
        seconds = []
        try:
            for _ in range(rounds):
                receipt = w3.eth.wait_for_transaction_receipt(
                    kgst.functions.transfer(Account.create().address, 200_000 * 10**18).transact({"from": holder}))
                tx_hash = "0x" + bytes(receipt["transactionHash"]).hex()
                w3.provider.make_request("anvil_mine", [hex(confirmations - 1)])
                time.sleep(0.3)
                w3.provider.make_request("anvil_mine", ["0x1"])  # this block brings the transfer to the depth
                mined = time.perf_counter()
                reader = Store(store.path)
                while (not any(tx_hash in a["record"]["tx_hashes"] for a in reader.alerts())
                       and time.perf_counter() - mined < 30):
                    time.sleep(0.02)
                seconds.append(time.perf_counter() - mined)
                reader.close()
        finally:
            stop.set()
            thread.join(10)
            store.close()
    log(f"monitor bench: alert latency after the confirming block, {rounds} rounds: max {max(seconds):.2f} s")
    return {"confirmations": confirmations, "seconds": seconds}


def render(results: list[dict[str, Any]], meta: dict[str, Any], latency: dict[str, Any] | None = None) -> str:
    lines = ["# Transaction monitoring: scan speed and detection quality", "",
             f"Generated {meta['generated']} by `make bench` (src/somstack/monitor/bench.py) on {meta['platform']}, "
             f"{meta['cores']} cores shared with other work; DuckDB limited to {THREADS} threads. Synthetic histories from "
             "`somstack monitor synth` (seed = size / 100,000), default rules and rate.", "",
             "## `monitor scan`, every rule on", "",
             "| transfers | wall time [s] | peak memory [MiB] | transfers/s |", "|---:|---:|---:|---:|"]
    for r in results:
        lines.append(f"| {r['rows']:,} | {r['seconds']:.1f} | {r['peak_bytes'] / 2**20:,.0f} | {r['rows'] / r['seconds']:,.0f} |")
    if len(results) >= 2:
        a, b = results[0], results[-1]
        lines += ["", f"From {a['rows']:,} to {b['rows']:,} transfers ({b['rows'] / a['rows']:.1f}x) the time grows "
                      f"{b['seconds'] / a['seconds']:.1f}x and the peak memory {b['peak_bytes'] / a['peak_bytes']:.1f}x. "
                      "Target: 1,000,000 in at most 60 s under 2 GB."]
    if latency:
        values = sorted(latency["seconds"])
        lines += ["", "## `monitor run` on anvil: from the confirming block to the alert", "",
                  f"{len(values)} transfers of 200,000 KGST without a reference, {latency['confirmations']} confirmations, "
                  f"the follower polling every 0.1 s over a fresh deployment: median {values[len(values) // 2]:.2f} s, "
                  f"max {values[-1]:.2f} s (target: 2 s)."]
    for r in results:
        lines += ["", f"## Detection quality, {r['rows']:,} transfers ({r['background']:,} background)", "",
                  "| rule | planted | found | recall | alerts | true | collateral | false | precision |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for rule, s in r["per_rule"].items():
            recall = "-" if s["recall"] is None else f"{s['recall']:.0%}"
            precision = "-" if s["precision"] is None else f"{s['precision']:.0%}"
            lines.append(f"| {rule} | {s['labels']} | {s['found']} | {recall} | {s['alerts']} | {s['true']} | {s['collateral']} | "
                         f"{s['false']} | {precision} |")
        lines += ["", f"False alerts: {r['false_alerts']} ({r['false_per_10k']:.2f} per 10,000 background transfers; target at most 1)."]
    lines += ["", "An alert is *true* when its rule and subject match a planted instance and it shares a transfer with it; "
                  "*collateral* when it touches planted transfers without being that instance (another rule's view "
                  "of a planted pattern); *false* when it rests on background transfers only. "
                  "What the background leaves out (payroll runs, exchanges, heavy users, one-off large retail purchases) "
                  "is listed in src/somstack/monitor/synth.py: the false-alert figure does not cover those.", ""]
    return "\n".join(lines)


def run_monitor_bench(root: Path, log: Callable[[str], None] = print) -> Path:
    sizes = tuple(int(s) for s in os.environ.get("BENCH_MONITOR_SIZES", "").split(",") if s.strip()) or SIZES
    with tempfile.TemporaryDirectory(prefix="somstack-monitor-bench-") as work:
        results = [measure(size, max(1, size // 100_000), Path(work), log) for size in sizes]
    latency = measure_latency(log) if os.environ.get("BENCH_MONITOR_LATENCY", "1") != "0" else None
    meta = {"generated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "cores": os.cpu_count(),
            "platform": f"{platform.system()} {platform.machine()}, Python {platform.python_version()}"}
    path = root / RESULTS
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(results, meta, latency))
    log(f"wrote {RESULTS}")
    return path


if __name__ == "__main__":
    print(json.dumps(_scan_child(Path(sys.argv[1]))))
