"""The house rules that only a code change can break, checked at test time (fast lane).

- no function longer than 60 lines in the package or the dashboard: a decision that long
  belongs in plain, unit-tested functions;
- no import cycle among the package's modules, function-level imports included;
- a library's private API (`dagster._…`, `dagster_dbt.…` internals) only in `integrations/`;
- the environment read only by `settings.py` (and extended for one dbt child by the
  dagster-dbt integration, which offers no other way);
- no test module imports another.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "ddrc_platform"
MAX_LINES = 60
# modules of libraries we use whose names say they are internal
PRIVATE = (
    "dagster._",
    "dagster_dbt.core.",
    "dagster_fivetran.resources",
    "dagster_fivetran.constants",
    "dagster_dbt.asset_utils",
    "dagster_dbt.dagster_dbt_translator",
)


def _modules() -> Iterator[tuple[str, Path, ast.Module]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        yield name, path, ast.parse(path.read_text(), str(path))


def _imports(tree: ast.Module, name: str) -> Iterator[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                base = name.split(".")[: -node.level] if node.level else []
                yield ".".join([*base, node.module] if node.module else base)
            elif node.module:
                yield node.module
                yield from (f"{node.module}.{alias.name}" for alias in node.names)


def test_no_function_is_longer_than_sixty_lines():
    long = [
        f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1})"
        for root in (PACKAGE, ROOT / "dashboards")
        for path in root.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno - node.lineno + 1 > MAX_LINES
    ]
    assert not long, long


def test_no_import_cycles_function_level_imports_included():
    modules = {name: tree for name, _, tree in _modules()}
    graph = {
        name: {i for i in _imports(tree, name) if i in modules and i != name}
        for name, tree in modules.items()
    }
    cycles, state = [], {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                cycles.append([*path[path.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert not cycles, cycles


def test_private_library_apis_only_in_integrations():
    found = [
        f"{path.relative_to(ROOT)}: {imported}"
        for name, path, tree in _modules()
        if not name.startswith("ddrc_platform.integrations")
        for imported in _imports(tree, name)
        if imported.startswith(PRIVATE)
    ]
    assert not found, found


# dagster-dbt takes a dbt child's environment only from os.environ (see its docstring); the
# warm dbt hands a caller's whole environment to its fork, reading no variable of it
PASSES_THE_ENVIRONMENT_ON = {
    Path("ddrc_platform/integrations/dagster_dbt.py"),
    Path("ddrc_platform/transform/warm.py"),
}


def test_only_settings_reads_the_environment():
    readers = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for root in (PACKAGE, ROOT / "dashboards")
        for path in root.rglob("*.py")
        if path.name != "settings.py"
        and path.relative_to(PACKAGE.parent) not in PASSES_THE_ENVIRONMENT_ON
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Attribute)
        and node.attr in ("environ", "getenv")
        and isinstance(node.value, ast.Name)
        and node.value.id == "os"
    ]
    assert not readers, readers


def test_no_test_module_imports_another():
    """What several test modules share lives in a support or plugin module (`support.py`,
    `dashboard_home.py`, `daemon.py`, ...): importing a test module runs its tests' module
    fixtures twice and hides which file owns a helper."""
    tests = ROOT / "tests"
    modules = {p.stem for p in tests.glob("test_*.py")}
    found = []
    for path in sorted(tests.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            found += [
                f"{path.name}: {name}"
                for name in names
                if name.removeprefix("tests.").split(".")[0] in modules
            ]
    assert found == []
