"""pyproject.toml declares every distribution that src/somstack imports directly, pinned as in
constraints.txt; the test and analysis tools are in the `dev` extra, not the runtime list."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def canonical(name):
    return re.sub(r"[-_.]+", "-", name.split("[")[0]).lower()  # psycopg[binary] -> psycopg


def pins(lines):
    return {canonical(name): version for name, version in (line.split("==") for line in lines if "==" in line)}


def imported_top_levels():
    names = set()
    for path in (ROOT / "src" / "somstack").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - {"somstack"}


def test_every_direct_import_is_declared_and_pinned_as_in_constraints():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = pins(project["dependencies"])
    constraints = pins(l.strip() for l in (ROOT / "constraints.txt").read_text().splitlines() if not l.startswith("#"))
    dists = packages_distributions()
    missing = {name: dists.get(name) for name in imported_top_levels()
               if not {canonical(d) for d in dists.get(name, [])} & set(declared)}
    assert not missing, f"imported by src/ but not in pyproject's dependencies: {missing}"
    for name, version in declared.items():
        assert constraints.get(name) == version, (name, version, constraints.get(name))


def test_test_and_analysis_tools_are_a_dev_extra():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime, dev = pins(project["dependencies"]), pins(project["optional-dependencies"]["dev"])
    assert {"pytest", "pytest-xdist", "pytest-rerunfailures", "hypothesis", "slither-analyzer"} <= set(dev)
    assert not set(dev) & set(runtime)
