"""The import layers of driftloop's packages, and its modules' import graph, checked over the
source's syntax trees.

Every ``import`` counts: at module level, inside a function (a lazy import is still a
dependency), and under ``TYPE_CHECKING``. A package may import its own layer's packages when that
makes no cycle, and any lower layer; never a higher one. No module imports itself back through
others: a file-level cycle kept alive by an import inside a function is still a cycle.
"""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "driftloop"

# Lowest first. `config` is the pipeline's YAML model: it reads the engine's detection settings
# and data identifiers, and everything that runs a pipeline reads it.
LAYERS: list[set[str]] = [
    {"errors", "redaction", "lazy"},
    {"drift"},
    {"data", "report", "profiles", "spark"},  # profiles: summaries; spark: built on a cluster
    {"config"},
    {"actions"},  # alerts, outbox, publishers: they know nothing of models
    {"model", "history"},  # model: the retrain lifecycle publishes through actions.publish
    {"pipeline"},
    {"service", "cli", "export", "demo", "demo_performance", "__init__", "__main__"},
]
RANK = {unit: i for i, layer in enumerate(LAYERS) for unit in layer}


def unit_of(module: str) -> str:
    """The package or top-level module of ``driftloop.x.y`` (``__init__`` for the facade)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(node: ast.AST, here: str, package: bool = False) -> list[str]:
    """The driftloop modules an import statement names in module ``here``, relative imports
    resolved (``package``: ``here`` is a package's ``__init__``)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    if not isinstance(node, ast.ImportFrom):
        return []
    base = node.module or ""
    if node.level:
        parts = here.split(".") if package else here.split(".")[:-1]
        parts = parts[: len(parts) - node.level + 1]
        base = ".".join([*parts, base] if base else parts)
    if base == "driftloop":  # `from driftloop import redaction` names a module, not the facade
        return [
            f"driftloop.{a.name}"
            if (SRC / f"{a.name}.py").exists() or (SRC / a.name).is_dir()
            else "driftloop"
            for a in node.names
        ]
    return [base]


def edges() -> dict[tuple[str, str], list[str]]:
    """(importer unit, imported unit) -> the modules where it happens."""
    found: dict[tuple[str, str], list[str]] = defaultdict(list)
    for path in sorted(SRC.rglob("*.py")):
        here, package = module_name(path), path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            for target in imported(node, here, package):
                if target == "driftloop" or target.startswith("driftloop."):
                    pair = (unit_of(here), unit_of(target))
                    if pair[0] != pair[1]:
                        found[pair].append(here)
    return found


def test_every_package_has_a_layer() -> None:
    units = {unit_of(module_name(p)) for p in SRC.rglob("*.py")}
    assert units - set(RANK) == set(), "add the new package to LAYERS (and docs/architecture.md)"


def test_no_upward_import() -> None:
    upward = [
        f"{src} imports {dst} (in {', '.join(sorted(set(where)))})"
        for (src, dst), where in edges().items()
        if RANK[dst] > RANK[src]
    ]
    assert upward == []


def test_no_cycle_between_packages() -> None:
    graph: dict[str, set[str]] = defaultdict(set)
    for src, dst in edges():
        graph[src].add(dst)
    cycles = []
    for start in list(graph):
        stack = [(start, [start])]
        while stack:
            node, path = stack.pop()
            for nxt in graph[node]:
                if nxt == start:
                    cycles.append(" -> ".join([*path, start]))
                elif nxt not in path:
                    stack.append((nxt, [*path, nxt]))
    assert cycles == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from driftloop.report.html import render_html", ["driftloop.report.html"]),
        ("from driftloop import redaction", ["driftloop.redaction"]),
        ("from driftloop import detect", ["driftloop"]),
        ("import driftloop.data.sql as sql", ["driftloop.data.sql"]),
        ("from .records import now", ["driftloop.pipeline.records"]),
        ("from ..data import store", ["driftloop.data"]),
        ("def f():\n    from driftloop.pipeline import records", ["driftloop.pipeline"]),
    ],
    ids=["absolute", "module-of-facade", "facade-name", "import-as", "relative", "parent", "lazy"],
)
def test_the_checker_sees_every_form_of_import(source: str, expected: list[str]) -> None:
    found = [
        name
        for node in ast.walk(ast.parse(source))
        for name in imported(node, "driftloop.pipeline.runner")
    ]
    assert found == expected


MODULES = {module_name(p): p for p in SRC.rglob("*.py")}


def module_targets(node: ast.AST, here: str, package: bool = False) -> list[str]:
    """The driftloop modules (files) an import statement names: ``from a.b import c`` names
    module ``a.b.c`` when that is a file or package, else ``a.b``; a name below a module (``import
    a.b.c.d`` where ``d`` is not one) counts as the module that holds it."""
    found = []
    for name in imported(node, here, package):
        if isinstance(node, ast.ImportFrom):
            subs = [f"{name}.{a.name}" for a in node.names if f"{name}.{a.name}" in MODULES]
            if len(subs) == len(node.names):
                found.extend(subs)
                continue
            found.extend(subs)
        while name not in MODULES and "." in name:
            name = name.rsplit(".", 1)[0]
        if name in MODULES:
            found.append(name)
    return found


def module_graph() -> dict[str, set[str]]:
    """Each driftloop module -> the driftloop modules it imports, anywhere in its file."""
    graph: dict[str, set[str]] = {}
    for here, path in MODULES.items():
        package = path.name == "__init__.py"
        graph[here] = {
            target
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            for target in module_targets(node, here, package)
            if target != here
        }
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    group = stack[stack.index(node) :]
                    del stack[stack.index(node) :]
                    if len(group) > 1:
                        found.append(sorted(group))
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                work.append((child, iter(sorted(graph.get(child, ())))))
            elif child in stack:
                low[node] = min(low[node], index[child])
    return found


def test_no_cycle_between_modules() -> None:
    assert cycles(module_graph()) == []


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"a": "import driftloop.b", "b": "def f():\n    from driftloop import a"}, [["a", "b"]]),
        ({"a": "from driftloop.b import x", "b": "from driftloop.c import y", "c": "import os"}, []),
        (
            {"a": "from driftloop import b", "b": "from typing import TYPE_CHECKING\n"
             "if TYPE_CHECKING:\n    from driftloop.c import C", "c": "from . import a"},
            [["a", "b", "c"]],
        ),
    ],
    ids=["lazy-import", "a-chain", "type-checking"],
)  # fmt: skip
def test_the_cycle_check_sees_lazy_and_type_checking_imports(
    files: dict[str, str], expected: list[list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    names = {f"driftloop.{n}": n for n in files}
    monkeypatch.setattr(
        sys.modules[__name__], "MODULES", {m: SRC / f"{n}.py" for m, n in names.items()}
    )
    graph = {
        f"driftloop.{n}": {
            t
            for node in ast.walk(ast.parse(source))
            for t in module_targets(node, f"driftloop.{n}")
            if t != f"driftloop.{n}"
        }
        for n, source in files.items()
    }
    assert [[names[m] for m in group] for group in cycles(graph)] == expected


def test_the_engine_imports_only_errors_and_lazy() -> None:
    # the statistics engine stays importable and testable alone
    assert {dst for (src, dst) in edges() if src == "drift"} <= {"errors", "lazy"}
