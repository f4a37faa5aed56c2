"""The package's layers (README, Layout): imports run down, never up, and no module imports one
that imports it back. Every import counts, the ones inside functions too."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "src" / "somstack"

# lower number = lower layer; a module may import its own layer or any lower one
LAYERS = {
    "core": 0,
    "system": 1,
    "ops": 2,
    "relay": 3,
    "report": 3,
    "monitor": 3,
    "cli": 4,
    "dev": 5,
}
# services (layer 3) are independent of each other
SIBLINGS_APART = {"relay", "report", "monitor"}


def _module(path: Path) -> str:
    parts = list(path.relative_to(PKG.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    module = _module(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target == "somstack" or target.startswith("somstack."):
                found.add(target)
                found.update(f"{target}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("somstack."))
    return found


def _modules() -> dict[str, Path]:
    return {_module(p): p for p in PKG.rglob("*.py")}


def _layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in LAYERS else None


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    graph = {}
    for name, path in modules.items():
        graph[name] = {t for t in _imports(path) if t in modules and t != name}
    return graph


def test_every_module_sits_in_a_layer():
    loose = sorted(m for m in _modules() if _layer(m) is None and m != "somstack")
    assert not loose, f"modules outside every layer (put each in core, system, ops, a service, dev or cli): {loose}"


def test_no_import_runs_up_a_layer():
    upward = []
    for name, targets in _graph().items():
        mine = _layer(name)
        for target in targets:
            theirs = _layer(target)
            if mine is None or theirs is None:
                continue
            if LAYERS[theirs] > LAYERS[mine] or (mine != theirs and {mine, theirs} <= SIBLINGS_APART):
                upward.append(f"{name} -> {target}")
    assert not upward, "imports that run up a layer:\n" + "\n".join(sorted(upward))


def test_no_import_cycle():
    graph = _graph()
    # package __init__ modules that only re-export are edges of their children: leave them out
    state: dict[str, int] = {}
    cycles = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                cycles.append(" -> ".join(stack[stack.index(target):] + [target]))
            elif target not in state:
                visit(target, stack + [target])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


@pytest.mark.parametrize("upward", ["from somstack.cli import main", "from ...cli import main"])
def test_the_check_sees_an_upward_import(tmp_path, monkeypatch, upward):
    """The check itself: a core module importing the CLI is reported."""
    fake = tmp_path / "somstack"
    (fake / "core").mkdir(parents=True)
    (fake / "cli").mkdir()
    (fake / "__init__.py").write_text("")
    (fake / "core" / "__init__.py").write_text("")
    (fake / "core" / "sub").mkdir()
    (fake / "core" / "sub" / "__init__.py").write_text("")
    (fake / "core" / "sub" / "x.py").write_text(upward + "\n")
    (fake / "cli" / "__init__.py").write_text("main = None\n")
    monkeypatch.setattr(__import__(__name__), "PKG", fake)
    with pytest.raises(AssertionError, match=r"somstack\.core\.sub\.x -> somstack\.cli"):
        test_no_import_runs_up_a_layer()
