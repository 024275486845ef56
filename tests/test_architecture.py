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
