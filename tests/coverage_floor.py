"""The coverage floor of the production contracts, from brownie's coverage data (`--coverage`).

brownie reports coverage per compiled contract, mixing OpenZeppelin's code in and leaving out
contracts a run never called. Here the unit is the production source file (contracts/*.sol and
contracts/{token,libraries,governance,proxy}/, not contracts/test/ or benchmarks/): its
statements and branches are gathered from the coverage map of every compiled contract that
includes it, executed or not (a contract nobody called counts with 0%), keyed by source offsets,
and a branch or statement counts as covered when any contract's run covered it. A branch has two
sides (taken, not taken), as in brownie: branch coverage = sides hit / (2 x branches).

tests/conftest.py calls `evaluate` at the end of a pytest run with `--coverage --coverage-floor N`
(what `make test` runs): the table is printed and written to reports/coverage-floor.txt, and the
run fails when a production file with branches is below N% of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

PRODUCTION_DIRS = ("contracts", "contracts/token", "contracts/libraries", "contracts/governance", "contracts/proxy")


def is_production(path: str) -> bool:
    return path.endswith(".sol") and str(Path(path).parent) in PRODUCTION_DIRS


@dataclass
class FileCoverage:
    statements: set = field(default_factory=set)  # (start, end)
    statements_hit: set = field(default_factory=set)
    branches: set = field(default_factory=set)  # (start, end)
    sides_hit: set = field(default_factory=set)  # ((start, end), taken: bool)
    missed: dict = field(default_factory=dict)  # (start, end) -> function name, for the report

    @property
    def branch_pct(self) -> float | None:
        return 100.0 * len(self.sides_hit) / (2 * len(self.branches)) if self.branches else None

    @property
    def statement_pct(self) -> float | None:
        return 100.0 * len(self.statements_hit) / len(self.statements) if self.statements else None


def gather(build, coverage_eval) -> dict[str, FileCoverage]:
    """Per production file: what every contract's coverage map holds, and what the run hit.

    build: brownie's project build (`project._build`); coverage_eval: brownie's merged eval,
    {contract: {source id: [statement ids, branch ids taken, branch ids not taken]}}."""
    files: dict[str, FileCoverage] = {}
    for name, artifact in build.items():
        paths = artifact.get("allSourcePaths") or {}
        coverage_map = artifact.get("coverageMap")
        if not coverage_map:
            continue
        hits = coverage_eval.get(name, {})

        def production(kind):
            """(file entry, this contract's hits in it, {function: items}) per production source."""
            for source_id, functions in coverage_map[kind].items():
                path = paths.get(source_id)
                if path and is_production(path):
                    yield files.setdefault(path, FileCoverage()), hits.get(source_id, [set(), set(), set()]), functions

        for entry, hit, functions in production("branches"):
            for fn, branches in functions.items():
                for branch_id, (start, end, _jump) in branches.items():
                    key = (start, end)
                    entry.branches.add(key)
                    for side, ids in ((True, hit[1]), (False, hit[2])):
                        if int(branch_id) in ids:
                            entry.sides_hit.add((key, side))
                    entry.missed.setdefault(key, fn)
        for entry, hit, functions in production("statements"):
            for statements in functions.values():
                for statement_id, (start, end) in statements.items():
                    entry.statements.add((start, end))
                    if int(statement_id) in hit[0]:
                        entry.statements_hit.add((start, end))
    return files


def _fmt(pct: float | None) -> str:
    return "   n/a" if pct is None else f"{pct:5.1f}%"


def render(files: dict[str, FileCoverage], floor: float, sources: dict[str, bytes]) -> tuple[list[str], list[str], list[str]]:
    """The summary lines, the branch sides never hit, and the files below the floor."""
    lines = [f"Branch coverage floor {floor:g}% of production contracts (statements, branches):"]
    details = ["Branch sides never hit:"]
    below = []
    for path in sorted(files):
        entry = files[path]
        pct = entry.branch_pct
        mark = ""
        if pct is not None and pct < floor:
            below.append(path)
            mark = "  BELOW FLOOR"
        sides = f"{len(entry.sides_hit)}/{2 * len(entry.branches)}"
        lines.append(f"  {path:<46} {_fmt(entry.statement_pct)}  {_fmt(pct)} ({sides} sides){mark}")
        for key in sorted(entry.branches):
            taken = [side for side in (True, False) if (key, side) not in entry.sides_hit]
            if taken and path in sources:
                text = sources[path]  # solc's offsets count bytes
                line = text.count(b"\n", 0, key[0]) + 1
                snippet = " ".join(text[key[0] : key[1]].decode(errors="replace").split())[:70]
                sides_missing = " and ".join("true" if s else "false" for s in taken)
                details.append(f"  {path}:{line} {entry.missed[key]}: never {sides_missing}: {snippet}")
    total_branches = sum(len(e.branches) for e in files.values())
    total_hit = sum(len(e.sides_hit) for e in files.values())
    if total_branches:
        lines.append(f"  {'all production contracts':<46}         {100.0 * total_hit / (2 * total_branches):5.1f}%")
    return lines, details, below


def evaluate(floor: float, root: Path) -> tuple[list[str], bool]:
    """Gathers brownie's coverage data of this run; returns the report lines and whether every
    production file is at or above `floor`. Writes the report to reports/coverage-floor.txt."""
    from brownie.project import get_loaded_projects
    from brownie.test import coverage

    project = get_loaded_projects()[0]
    build = {name: artifact for name, artifact in project._build.items()}
    evaluation = coverage.get_merged_coverage_eval() if coverage.get_coverage_eval() else {}
    files = gather(build, evaluation)
    sources = {path: (root / path).read_bytes() for path in files if (root / path).exists()}
    lines, details, below = render(files, floor, sources)
    report = root / "reports" / "coverage-floor.txt"
    report.parent.mkdir(exist_ok=True)
    report.write_text("\n".join(lines + details) + "\n")
    if below:
        lines.append(f"FAILED: below the {floor:g}% branch floor: {', '.join(below)}")
    lines.append(f"Coverage report: {report.relative_to(root)} (brownie's: reports/coverage.json)")
    return lines, not below


def eval_from_report(build, report) -> dict:
    """brownie's coverage eval, rebuilt from a saved reports/coverage.json (its highlights: a
    statement green or red, a branch green, red, or yellow/orange for one side, which side
    depending on the branch's jump flag; see brownie.test.output._branch_color)."""
    out: dict = {}
    for name, paths in report["highlights"]["branches"].items():
        coverage_map = (build.get(name) or {}).get("coverageMap")
        if not coverage_map:
            continue
        statements_seen = report["highlights"]["statements"].get(name, {})
        for source_id in coverage_map["branches"]:
            colors = {(h[0], h[1]): h[2] for h in paths.get(source_id, [])}
            green = {(h[0], h[1]) for h in statements_seen.get(source_id, []) if h[2] == "green"}
            hit = out.setdefault(name, {}).setdefault(source_id, [set(), set(), set()])
            for statements in coverage_map["statements"].get(source_id, {}).values():
                hit[0].update(int(i) for i, (start, end) in statements.items() if (start, end) in green)
            for branches in coverage_map["branches"][source_id].values():
                for i, (start, end, jump) in branches.items():
                    color = colors.get((start, end), "red")
                    false_side = (color == "yellow") == bool(jump)
                    if color == "green" or (color in ("yellow", "orange") and not false_side):
                        hit[1].add(int(i))
                    if color == "green" or (color in ("yellow", "orange") and false_side):
                        hit[2].add(int(i))
    return out


if __name__ == "__main__":  # python tests/coverage_floor.py [floor]: the table of the last --coverage run
    import json
    import sys

    root = Path(__file__).resolve().parents[1]
    build = {p.stem: json.loads(p.read_text()) for p in (root / "build" / "contracts").glob("*.json")}
    report = json.loads((root / "reports" / "coverage.json").read_text())
    files = gather(build, eval_from_report(build, report))
    sources = {path: (root / path).read_bytes() for path in files if (root / path).exists()}
    summary, details, below = render(files, float(sys.argv[1]) if len(sys.argv) > 1 else 95.0, sources)
    print("\n".join(summary + details))
    sys.exit(1 if below else 0)
