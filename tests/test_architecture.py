"""The package's shape, checked from the source: the core imports no concrete stage, model,
format or writer, and no module imports itself back through others."""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

PKG = Path(__file__).resolve().parents[1] / "discourse"


def _module(path: Path) -> str:
    parts = path.relative_to(PKG.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, modules: set[str]) -> set[str]:
    """Every discourse module ``path`` imports at run time (type-checking-only imports excluded)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip.update(id(n) for child in node.body for n in ast.walk(child))
    out: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("discourse"))
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("discourse"):
            for a in node.names:
                sub = f"{node.module}.{a.name}"
                out.add(sub if sub in modules else node.module)
    return {m for m in out if m in modules}


def _graph() -> nx.DiGraph:
    files = [p for p in PKG.rglob("*.py") if "tests" not in p.parts]
    modules = {_module(p) for p in files}
    g = nx.DiGraph()
    for p in files:
        g.add_node(_module(p))
        for m in _imports(p, modules):
            if m != _module(p):
                g.add_edge(_module(p), m)
    return g


def test_the_core_knows_no_concrete_stage_model_format_or_writer() -> None:
    g = _graph()
    core = [m for m in g if m.startswith("discourse.core")]
    assert len(core) >= 8
    for m in core:
        bad = [t for t in g.successors(m) if not t.startswith("discourse.core")]
        assert not bad, f"{m} imports {bad}"


def test_stages_do_not_reach_into_the_front_end() -> None:
    g = _graph()
    front = ("discourse.api", "discourse.batch", "discourse.cli", "discourse.report", "discourse.train")
    for m in (m for m in g if m.startswith(("discourse.stages", "discourse.models", "discourse.formats"))):
        bad = [t for t in g.successors(m) if t.startswith(front)]
        assert not bad, f"{m} imports {bad}"


def test_there_is_no_import_cycle() -> None:
    assert list(nx.simple_cycles(_graph())) == []


def test_every_package_is_in_the_wheel() -> None:
    import tomllib

    listed = set(tomllib.loads((PKG.parent / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {_module(p) for p in PKG.rglob("__init__.py") if "tests" not in p.parts}
    assert found - listed == set(), "add these to [tool.setuptools] packages in pyproject.toml"
