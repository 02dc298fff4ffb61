"""The package's import graph: no module-level cycle, no import of a higher layer, no TensorFlow where
the design forbids it. Read from the source (AST), so it costs no imports and guards every module."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "harness"

# Lower layers never import higher ones (function-level imports included). Same rank: allowed.
RANK = {
    "errors": 0, "schema": 0, "keyvalue": 0, "run_meta": 0, "axis": 0,
    "regression.gates": 0,  # gates parsed from text: the suite validates its [gate] table with them
    "carbon": 0, "data": 0, "timing_names": 0, "axis_names": 0,  # leaf modules (issue 26)
    "components": 1, "results": 1,
    "suite": 2, "tuning": 2,
    "engines": 3, "collectors": 3,
    "profiling": 4,
    "runner": 5, "analysis": 5, "regression": 5,
    "report": 6, "site": 6, "tensorboard": 6,  # tensorboard: the logdir writer, TensorFlow allowed (tf.summary)
    "commands": 7, "cli": 7, "pytest_plugin": 7, "__main__": 7,
}
NO_TENSORFLOW = ("suite", "tuning", "collectors", "results", "analysis", "regression", "regression.gates", "report", "site",
                 "schema", "run_meta", "carbon", "timing_names", "axis_names")


def _modules() -> dict[str, Path]:
    out = {}
    for f in ROOT.rglob("*.py"):
        rel = f.relative_to(ROOT.parent).with_suffix("")
        out[".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)] = f
    return out


MODULES = _modules()


def _area(module: str) -> str:
    """The rank table's key for ``module``: ``area.module`` where the table ranks it apart, else its area."""
    parts = module.split(".")
    if len(parts) > 2 and ".".join(parts[1:3]) in RANK:
        return ".".join(parts[1:3])
    return parts[1] if len(parts) > 1 else ""


def _imports(module: str, path: Path, top_level_only: bool) -> set[str]:
    """Modules imported by ``module`` (``from pkg import sub`` counts as ``pkg.sub``)."""
    base = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out: set[str] = set()

    def visit(nodes: list[ast.stmt]) -> None:
        for n in nodes:
            if isinstance(n, ast.If) and "TYPE_CHECKING" in ast.unparse(n.test):
                visit(n.orelse)
                continue
            if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and top_level_only:
                continue
            if isinstance(n, ast.Import):
                out.update(a.name for a in n.names)
            elif isinstance(n, ast.ImportFrom):
                name = n.module or ""
                if n.level:
                    name = ".".join(base.split(".")[: len(base.split(".")) - n.level + 1] + ([n.module] if n.module else []))
                out.update(f"{name}.{a.name}" if f"{name}.{a.name}" in MODULES else name for a in n.names)
            for child in ast.iter_child_nodes(n):
                if isinstance(child, ast.stmt):
                    visit([child])
                elif isinstance(child, ast.ExceptHandler):
                    visit(child.body)

    visit(ast.parse(path.read_text()).body)
    return out


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in graph:
        if v not in index:
            connect(v)
    return found


def test_no_module_level_import_cycle():
    graph = {m: {d for d in _imports(m, f, True) if d in MODULES and d != m} for m, f in MODULES.items()}
    assert _cycles(graph) == []


def test_the_cycle_detector_finds_a_planted_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_every_area_has_a_rank():
    assert {_area(m) for m in MODULES} - {""} <= set(RANK)


@pytest.mark.parametrize("module", sorted(m for m in MODULES if _area(m)))
def test_no_upward_import(module):
    mine = RANK[_area(module)]
    upward = sorted(d for d in _imports(module, MODULES[module], False)
                    if d.startswith("harness.") and RANK.get(_area(d), -1) > mine)
    assert upward == [], f"{module} (rank {mine}) imports a higher layer: {upward}"


@pytest.mark.parametrize("area", NO_TENSORFLOW)
def test_no_tensorflow_where_forbidden(area):
    offenders = sorted(m for m in MODULES if _area(m) == area
                       for d in _imports(m, MODULES[m], False) if d.split(".")[0] in ("tensorflow", "keras"))
    assert offenders == []
