"""The monitor's figures for `make bench`: `monitor scan` over 100,000 and 1,000,000 synthetic
transfers with every rule on (wall time, peak memory of the scanning process, DuckDB limited to
2 threads), and the recall/precision table per rule -> benchmarks/results/monitor.md.

Each scan runs in a child process of its own (``python -m somstack.monitor.bench DIR``), so its
peak resident memory is the scan's, not the generator's. BENCH_MONITOR_SIZES (comma-separated)
changes the sizes.
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
    from ..config import load_settings
    from .scan import default_rules
    from .synth import evaluate

    quality = evaluate(data_dir, default_rules(load_settings().raw), threads=THREADS)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"rows": quality.rows, "background": quality.background, "seconds": quality.seconds, "peak_bytes": peak,
            "per_rule": quality.per_rule, "false_alerts": quality.false_alerts, "false_per_10k": quality.false_per_10k}


def measure(size: int, seed: int, work: Path, log: Callable[[str], None]) -> dict[str, Any]:
    from .synth import generate

    folder = work / f"synth-{size}"
    start = time.perf_counter()
    generate(folder, seed=seed, background=size)
    log(f"monitor bench: {size:,} background transfers generated in {time.perf_counter() - start:.1f} s; scanning")
    out = subprocess.run([sys.executable, "-m", "somstack.monitor.bench", str(folder)], check=True, capture_output=True, text=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    log(f"monitor bench: {result['rows']:,} transfers scanned in {result['seconds']:.1f} s, peak {result['peak_bytes'] / 2**20:,.0f} MiB")
    return result


def render(results: list[dict[str, Any]], meta: dict[str, Any]) -> str:
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
    meta = {"generated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "cores": os.cpu_count(),
            "platform": f"{platform.system()} {platform.machine()}, Python {platform.python_version()}"}
    path = root / RESULTS
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(results, meta))
    log(f"wrote {RESULTS}")
    return path


if __name__ == "__main__":
    print(json.dumps(_scan_child(Path(sys.argv[1]))))
