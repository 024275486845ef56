"""Architecture rules: a Django-free domain core, thin adapters."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "cchc"
ADAPTERS = ["views.py", "api.py"]
# ORM writes that belong in services, never in a page or API handler.
WRITE_CALLS = {
    "save",
    "delete",
    "create",
    "update",
    "bulk_create",
    "bulk_update",
    "get_or_create",
    "update_or_create",
}


def test_import_contracts_hold():
    linter = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(linter)], capture_output=True, text=True, cwd=SRC.parent.parent)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_adapters_do_not_write_to_the_database():
    offenders = []
    for path in SRC.rglob("*.py"):
        if path.name not in ADAPTERS and path.parent.name != "commands":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in WRITE_CALLS
            ):
                offenders.append(f"{path.relative_to(SRC)}:{node.lineno} .{node.func.attr}()")
    assert offenders == []


def test_no_code_reads_the_shared_folder():
    marker = "/".join(["..", "shared"])  # spelled so that this file does not match itself
    hits = [p for p in SRC.rglob("*.py") if marker in p.read_text(encoding="utf-8")]
    assert hits == []


def _app_graph():
    """The import graph of `src/cchc` folded to its top-level modules (apps): app → the
    apps it imports (function-local imports included), with one example import per edge."""
    import grimp

    graph = grimp.build_graph("cchc")
    edges: dict[str, dict[str, str]] = {}
    for module in graph.modules:
        parts = module.split(".")
        if len(parts) < 2:
            continue
        for imported in graph.find_modules_directly_imported_by(module):
            if not imported.startswith("cchc."):
                continue
            target = imported.split(".")[1]
            if target != parts[1]:
                edges.setdefault(parts[1], {}).setdefault(target, f"{module} -> {imported}")
    return edges


# The one group of apps allowed to import each other (see the layers contract in
# pyproject.toml for the reason): roles scoped over the organisation, agencies' calendars.
ALLOWED_CYCLE = {"accounts", "org", "calendars"}


def test_no_app_level_import_cycle():
    """No two apps import each other, directly or through others, except the one declared
    group. (The layers contract says the same from above; this names the loop if one comes
    back.)"""
    edges = _app_graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    components: list[set[str]] = []

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in edges.get(node, {}):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = set()
            while True:
                top = stack.pop()
                component.add(top)
                if top == node:
                    break
            components.append(component)

    for node in list(edges):
        if node not in index:
            visit(node)
    loops = [c for c in components if len(c) > 1 and c != ALLOWED_CYCLE]
    detail = [
        f"{a} -> {b}: {edges[a][b]}"
        for c in loops
        for a in sorted(c)
        for b in edges.get(a, {})
        if b in c
    ]
    assert loops == [], "\n".join(detail)


# The URL shell routes to every app's pages (the sign-in page is the accounts app's).
SHELL_URLS = ("cchc.urls", "cchc.web.urls")


def test_no_app_imports_another_apps_pages():
    """Views are adapters: only their own app (its urls, its other views) and the URL shell
    import them. A feature that needs another's logic imports the module beneath the view."""
    import grimp

    graph = grimp.build_graph("cchc")
    offenders = []
    for module in graph.modules:
        parts = module.split(".")
        if len(parts) < 3 or not any(p.endswith("views") for p in parts[2:]):
            continue
        for importer in graph.find_modules_that_directly_import(module):
            if importer.split(".")[1] != parts[1] and importer not in SHELL_URLS:
                offenders.append(f"{importer} -> {module}")
    assert sorted(offenders) == []


def test_every_app_is_on_the_map():
    """docs/architecture.md names every top-level module of cchc (the layers contract is
    exhaustive, so a new app must be placed there too)."""
    doc = (SRC.parent.parent / "docs" / "architecture.md").read_text(encoding="utf-8")
    names = sorted(
        p.stem if p.suffix == ".py" else p.name
        for p in SRC.iterdir()
        if (p.suffix == ".py" and p.stem != "__init__") or (p / "__init__.py").exists()
    )
    missing = [name for name in names if f"`{name}`" not in doc]
    assert missing == []


def _local_imports(path: Path) -> list[tuple[int, str]]:
    """Imports inside functions in `path`: (line, the import's first line)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found: dict[int, str] = {}
    for node in ast.walk(ast.parse("\n".join(lines))):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for sub in ast.walk(node):
                if isinstance(sub, ast.Import | ast.ImportFrom):
                    found[sub.lineno] = lines[sub.lineno - 1]
    return sorted(found.items())


def test_function_local_imports_say_why():
    """An import inside a function hides a dependency from readers (and once hid import
    cycles); each one carries its reason: a comment on its line, or on the line just above
    the block of imports it belongs to (Django's app registry, startup cost, an optional
    dependency)."""
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        lines = path.read_text(encoding="utf-8").splitlines()
        for lineno, text in _local_imports(path):
            above = lineno - 2
            # walk up over the other imports of the same block to the comment above it
            while above >= 0 and lines[above].strip().startswith(("from ", "import ")):
                above -= 1
            if "#" in text or (above >= 0 and lines[above].strip().startswith("#")):
                continue
            offenders.append(f"{path.relative_to(SRC)}:{lineno}: {text.strip()}")
    assert offenders == [], f"{len(offenders)} function-local imports without a reason:\n" + (
        "\n".join(offenders)
    )


def test_no_module_over_800_lines():
    """A module past 800 lines is several modules; split it by what its parts do."""
    long = [
        f"{path.relative_to(SRC)}: {n} lines"
        for path in sorted(SRC.rglob("*.py"))
        if "migrations" not in path.parts
        and (n := len(path.read_text(encoding="utf-8").splitlines())) > 800
    ]
    assert long == []
