"""Where the suite's time goes, and the order that keeps two xdist workers equally busy.

- Each process records, per test, the CPU seconds it took (setup, call and teardown; the process's
  own threads and the subprocesses it waited for, e.g. slither) and the wall seconds, into
  reports/test-times-<worker>.json. On a shared machine CPU time is what a change can be judged
  by: wall time grows with everyone else's load.
- `--cpu-durations N` prints the N tests and the N files that took the most CPU, and the total.
  `--cpu-weights-update` rewrites tests/support/file-weights.json from the run.
- Order: brownie schedules whole files on the workers (xdist's LoadFileScheduling), and xdist
  would start with the files that have the most tests, so that a file of two slow tests (the
  static analysis) came last and one worker ran alone for minutes. The files are run heaviest
  first instead (longest-processing-time-first: the other worker takes the next file as soon as it
  is free), heaviest by file-weights.json; a file not listed there goes last, in collection order.
  Only the order changes: every collected test still runs, each file on one worker.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

WEIGHTS = Path(__file__).with_name("file-weights.json")
_TIMES = pytest.StashKey()


def pytest_addoption(parser):
    group = parser.getgroup("somstack timing")
    group.addoption("--cpu-durations", type=int, default=None, metavar="N",
                    help="print the N tests and files that took the most CPU seconds (tests/support/timing.py)")
    group.addoption("--cpu-weights-update", action="store_true", default=False,
                    help="rewrite tests/support/file-weights.json (the order of the files) from this run's CPU times")


def _cpu() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _worker(config) -> str:
    return getattr(config, "workerinput", {}).get("workerid", "main")


def _out_dir(config) -> Path:
    return Path(config.rootpath) / "reports"


def pytest_configure(config):
    config.stash[_TIMES] = {}
    if config.pluginmanager.hasplugin("xdist") and hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False  # the order is this module's (heaviest file first)
    if not hasattr(config, "workerinput"):  # a fresh run: no figures of an earlier one
        for old in _out_dir(config).glob("test-times-*.json"):
            old.unlink(missing_ok=True)


def _weights() -> dict[str, float]:
    try:
        return {k: float(v) for k, v in json.loads(WEIGHTS.read_text()).items()}
    except (OSError, ValueError):
        return {}


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    weights = _weights()
    if not weights:
        return
    rank = {}
    for item in items:
        path = item.path.relative_to(config.rootpath).as_posix()
        rank.setdefault(path, (-weights.get(path, 0.0), len(rank)))
    items.sort(key=lambda item: rank[item.path.relative_to(config.rootpath).as_posix()])


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    cpu, wall = _cpu(), time.monotonic()
    yield
    end = _cpu()
    item.config.stash[_TIMES][item.nodeid] = (round(end - cpu, 3), round(time.monotonic() - wall, 3))
    item.config.stash[_LAST] = (end, time.monotonic())


_LAST = pytest.StashKey()


@pytest.hookimpl(hookwrapper=True)
def pytest_sessionfinish(session):
    """After every other plugin's session end (tests/conftest.py lists this plugin last): the
    session fixtures' teardown and the anvils of tests/support/chains.py stopped then (a
    subprocess's CPU is counted when it is reaped) go in a row of their own."""
    yield
    times = session.config.stash.get(_TIMES, {})
    if not times:
        return
    cpu, wall = session.config.stash.get(_LAST, (_cpu(), time.monotonic()))
    times[f"[session end {_worker(session.config)}]"] = (round(_cpu() - cpu, 3), round(time.monotonic() - wall, 3))
    folder = _out_dir(session.config)
    folder.mkdir(exist_ok=True)
    (folder / f"test-times-{_worker(session.config)}.json").write_text(json.dumps(times, indent=0, sort_keys=True))


def gather(folder: Path) -> dict[str, tuple[float, float]]:
    """nodeid -> (cpu s, wall s) from every reports/test-times-*.json of the last run."""
    times = {}
    for path in sorted(folder.glob("test-times-*.json")):
        times.update({k: tuple(v) for k, v in json.loads(path.read_text()).items()})
    return times


def by_file(times) -> dict[str, list[float]]:
    files: dict[str, list[float]] = {}
    for nodeid, (cpu, wall) in times.items():
        row = files.setdefault(nodeid.split("::")[0], [0.0, 0.0, 0])
        row[0] += cpu
        row[1] += wall
        row[2] += 1
    return files


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter, config):
    if hasattr(config, "workerinput"):
        return
    count, update = config.getoption("--cpu-durations"), config.getoption("--cpu-weights-update")
    if count is None and not update:
        return
    times = gather(_out_dir(config))
    files = by_file(times)
    if update and times:
        WEIGHTS.write_text(json.dumps({k: round(v[0], 1) for k, v in sorted(files.items()) if not k.startswith("[")}, indent=1) + "\n")
        terminalreporter.write_line(f"{WEIGHTS.relative_to(config.rootpath)}: {len(files)} files")
    if count is None:
        return
    terminalreporter.section("CPU seconds (tests/support/timing.py)")
    total_cpu, total_wall = sum(v[0] for v in times.values()), sum(v[1] for v in times.values())
    terminalreporter.write_line(f"{len(times)} tests: {total_cpu:.1f} s CPU in the test processes, {total_wall:.1f} s wall summed over them")
    terminalreporter.write_line("  cpu s   wall s  test")
    for nodeid, (cpu, wall) in sorted(times.items(), key=lambda kv: -kv[1][0])[:count]:
        terminalreporter.write_line(f"{cpu:7.2f} {wall:8.2f}  {nodeid}")
    terminalreporter.write_line("  cpu s   wall s  tests  file")
    for path, (cpu, wall, n) in sorted(files.items(), key=lambda kv: -kv[1][0])[:count]:
        terminalreporter.write_line(f"{cpu:7.1f} {wall:8.1f}  {n:5d}  {path}")
