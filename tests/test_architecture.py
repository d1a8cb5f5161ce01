"""The layout holds: no import circles, core never reaches up to the dashboard, pages reach the engine only
through the job queue, and every source file stays short."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("core", "dashboard")
MAX_LINES = 400
MAX_CORE_TOP_MODULES = 12
# What a page may not import: the engine's insides, any method and any model (the catalog has their facts).
PAGE_FORBIDDEN = ("core.engine.generations", "core.engine.runner", "core.methods", "core.models")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_modules() -> dict[str, Path]:
    return {_module_name(p): p for package in PACKAGES for p in (ROOT / package).rglob("*.py")}


def imports_of(path: Path, modules: dict[str, Path]) -> set[str]:
    """Every module imported anywhere in the file (top level or inside a function); a ``from X import Y`` names
    X.Y when that is a module, else X. Names outside the project are kept too (for the streamlit check)."""
    found: set[str] = set()
    package = _module_name(path) if path.name == "__init__.py" else _module_name(path).rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.add(candidate if candidate in modules else base)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = project_modules()
    return {name: {m for m in imports_of(path, modules) if m in modules and m != name}
            for name, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), i.e. the import circles."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_cycle_finder_finds_a_planted_circle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_circles_among_the_project_modules():
    graph = import_graph()
    assert len(graph) > 50  # the scan sees the whole project
    assert cycles(graph) == []


def test_core_never_imports_streamlit_or_the_dashboard():
    modules = project_modules()
    offenders = {name: sorted(m for m in imports_of(path, modules)
                              if m.split(".")[0] in ("streamlit", "dashboard"))
                 for name, path in modules.items() if name.startswith("core")}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_pages_reach_the_engine_only_through_the_job_queue():
    modules = project_modules()
    offenders = {name: sorted(m for m in imports_of(path, modules) if m.startswith(PAGE_FORBIDDEN))
                 for name, path in modules.items() if name.startswith("dashboard")}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_core_keeps_few_top_level_modules_and_sweeps_is_a_package():
    top = sorted(p.name for p in (ROOT / "core").glob("*.py"))
    assert len(top) <= MAX_CORE_TOP_MODULES, top
    assert (ROOT / "core" / "sweeps" / "__init__.py").exists()


SOURCES = sorted(p.relative_to(ROOT).as_posix() for package in ("core", "dashboard", "tests", "bench")
                 for p in (ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("path", SOURCES)
def test_no_source_file_is_over_the_line_cap(path):
    assert len((ROOT / path).read_text().splitlines()) <= MAX_LINES


def test_the_app_imports_pandas_and_plotly_before_any_page_or_the_warm_up():
    """Regression: a page's plotly and the warm-up thread importing pandas at once broke cold starts."""
    tree = ast.parse((ROOT / "dashboard" / "app.py").read_text())
    order = [alias.name for node in tree.body if isinstance(node, ast.Import) for alias in node.names]
    assert "pandas" in order and "plotly.graph_objects" in order
    first_call = next(i for i, node in enumerate(tree.body) if isinstance(node, (ast.Expr, ast.Try, ast.Assign))
                      and "st." in ast.unparse(node))
    last_import = max(i for i, node in enumerate(tree.body) if isinstance(node, ast.Import)
                      and node.names[0].name in ("pandas", "plotly.graph_objects"))
    assert last_import < first_call
