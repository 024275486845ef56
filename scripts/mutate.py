"""Mutation testing of the legal-time core, the dossier replay and the indicator measures.

    python scripts/mutate.py [--area legaltime|replay|measures ...] [--jobs N] [--survivors]

Each mutant is one small change to one source file, made on its syntax tree: an arithmetic
operator swapped (``+``/``-``, ``*``/``/``, ``//``/``/``, ``%``/``/``), a comparison turned
(``<``/``<=``, ``>``/``>=``, ``==``/``!=``, ``in``/``not in``, ``is``/``is not``), ``and``/``or``
swapped, a ``not`` dropped, an integer constant moved by one, ``True``/``False`` flipped, a
string that is a code or a key (no white space: messages are not mutated) changed, ``min``/
``max`` swapped, ``break``/``continue`` swapped, a value ``return`` made to return ``None``.
Docstrings, annotations and f-string text are left alone.

How a mutant is run: a parent process imports pytest, Django and the other third-party
libraries once (never `cchc`), then forks one child per mutant. The child installs an import
hook that serves the mutated file's compiled tree in place of the file, and runs with pytest
only the tests that, in a traced baseline run, called the function holding the change (every
test that touched the file for a change outside functions), fastest first, stopping at the
first failure. A mutant is killed when a test fails or errors, or when the run passes the
timeout (baseline time x 3 + 10 s); it survives when all its tests pass, and is uncovered
when no test calls its function. Database tests use a migrated SQLite file per worker
(``var/mutate/``), kept between runs and rolled back by each test.
"""

from __future__ import annotations

import argparse
import ast
import builtins
import copy
import dataclasses
import enum
import gc
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import traceback
import types
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"
STATE = ROOT / "var" / "mutate"

# Each area: the source files mutated and the tests that may kill their mutants.
AREAS: dict[str, dict[str, list[str]]] = {
    "legaltime": {
        "files": sorted(
            str(p.relative_to(ROOT)) for p in (SRC / "cchc" / "legaltime").glob("*.py")
        ),
        "tests": ["tests/legaltime"],
    },
    "replay": {
        "files": ["src/cchc/dossiers/replay.py"],
        "tests": [
            "tests/dossiers/test_replay_mutants.py",
            "tests/dossiers/test_properties.py",
            "tests/dossiers/test_services.py",
        ],
    },
    "measures": {
        "files": ["src/cchc/indicators/measures.py"],
        "tests": ["tests/indicators"],
    },
}

# -- mutants ----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Mutant:
    file: str  # path relative to ROOT
    number: int  # index among the file's mutants
    line: int
    scope: str  # "module" or the qualified name of the enclosing function
    before: str
    after: str
    top: int = -1  # index of the module-level statement holding the change
    member: int = -1  # index of the class-level statement holding it (-1: not in a class body)

    @property
    def label(self) -> str:
        return f"{self.file}:{self.line} [{self.scope}] {self.before} -> {self.after}"


BINOP_SWAPS: dict[type[ast.operator], type[ast.operator]] = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
    ast.FloorDiv: ast.Div,
    ast.Mod: ast.Div,
    ast.Pow: ast.Mult,
    ast.BitOr: ast.BitAnd,
    ast.BitAnd: ast.BitOr,
}
CMP_SWAPS: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
}


def _docstring_nodes(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def _skipped_nodes(tree: ast.AST) -> set[int]:
    """Nodes never mutated: docstrings, annotations, f-string text, `__all__`."""
    skipped = _docstring_nodes(tree)

    def skip_all(node: ast.AST | None) -> None:
        if node is not None:
            skipped.update(id(n) for n in ast.walk(node))

    for node in ast.walk(tree):
        if isinstance(node, ast.AnnAssign | ast.arg):
            skip_all(node.annotation)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            skip_all(node.returns)
        elif isinstance(node, ast.JoinedStr):
            skipped.update(id(v) for v in node.values if isinstance(v, ast.Constant))
        elif isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            skip_all(node)
    return skipped


def _variants(node: ast.AST) -> Iterator[tuple[str, ast.AST | None, Any]]:
    """(description of the new form, node to change, how) for each mutation of ``node``."""
    if (isinstance(node, ast.BinOp) and type(node.op) in BINOP_SWAPS) or (
        isinstance(node, ast.AugAssign) and type(node.op) in BINOP_SWAPS
    ):
        yield "op", node, BINOP_SWAPS[type(node.op)]()
    elif isinstance(node, ast.Compare):
        for index, op in enumerate(node.ops):
            if type(op) in CMP_SWAPS:
                yield "cmp", node, (index, CMP_SWAPS[type(op)]())
    elif isinstance(node, ast.BoolOp):
        yield "bool", node, ast.Or() if isinstance(node.op, ast.And) else ast.And()
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        yield "not", node, None
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        yield "neg", node, None
    elif isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, bool):
            yield "const", node, not value
        elif isinstance(value, int):
            yield "const", node, value + 1
        elif isinstance(value, float):
            yield "const", node, value + 1.0
        elif isinstance(value, str) and value and not any(c.isspace() for c in value):
            yield "const", node, f"XX{value}XX"
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        if node.func.id in ("min", "max"):
            yield "call", node, "max" if node.func.id == "min" else "min"
    elif isinstance(node, ast.Break):
        yield "flow", node, ast.Continue()
    elif isinstance(node, ast.Continue):
        yield "flow", node, ast.Break()
    elif (
        isinstance(node, ast.Return)
        and node.value is not None
        and not (isinstance(node.value, ast.Constant) and node.value.value is None)
    ):
        yield "return", node, None


def _apply(node: ast.AST, kind: str, how: Any) -> ast.AST:
    """A changed copy of ``node`` (the tree keeps its line numbers)."""
    new = copy.copy(node)
    if kind == "op":
        new.op = how  # type: ignore[attr-defined]
    elif kind == "cmp":
        index, op = how
        ops = list(node.ops)  # type: ignore[attr-defined]
        ops[index] = op
        new.ops = ops  # type: ignore[attr-defined]
    elif kind == "bool":
        new.op = how  # type: ignore[attr-defined]
    elif kind in ("not", "neg"):
        return node.operand  # type: ignore[attr-defined,no-any-return]
    elif kind == "const":
        new.value = how  # type: ignore[attr-defined]
    elif kind == "call":
        new.func = ast.copy_location(ast.Name(id=how, ctx=ast.Load()), node.func)  # type: ignore[attr-defined]
    elif kind == "flow":
        return ast.copy_location(how, node)  # type: ignore[no-any-return]
    elif kind == "return":
        new.value = ast.copy_location(ast.Constant(value=None), node.value)  # type: ignore[attr-defined]
    return new


class _Replace(ast.NodeTransformer):
    def __init__(self, target: ast.AST, replacement: ast.AST) -> None:
        self.target = target
        self.replacement = replacement

    def visit(self, node: ast.AST) -> ast.AST:
        if node is self.target:
            return self.replacement
        return super().visit(node)  # type: ignore[no-any-return]


def _scopes(tree: ast.Module) -> dict[int, str]:
    """Node id -> qualified name of the nearest enclosing function ("module" outside)."""
    owner: dict[int, str] = {}

    def walk(node: ast.AST, scope: str, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                name = f"{prefix}{child.name}"
                for sub in child.decorator_list:
                    for n in ast.walk(sub):
                        owner[id(n)] = scope
                owner[id(child)] = name
                walk(child, name, f"{name}.")
            elif isinstance(child, ast.ClassDef):
                owner[id(child)] = scope
                walk(child, scope, f"{prefix}{child.name}.")
            else:
                owner[id(child)] = scope
                walk(child, scope, prefix)

    walk(tree, "module", "")
    return owner


def function_lines(tree: ast.Module) -> dict[int, str]:
    """First line of each code object (decorator line included) -> enclosing function name,
    so that a traced call can be charged to the function a mutant lives in."""
    owner = _scopes(tree)
    lines: dict[int, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            name = owner[id(node)]
            for line in [node.lineno, *(d.lineno for d in node.decorator_list)]:
                lines.setdefault(line, name)
    for node in ast.walk(tree):
        if isinstance(
            node, ast.Lambda | ast.ListComp | ast.SetComp | ast.DictComp | ast.GeneratorExp
        ):
            lines.setdefault(node.lineno, owner.get(id(node), "module"))
    return lines


def _placement(tree: ast.Module) -> dict[int, tuple[int, int]]:
    """Node id -> (module-level statement index, class-level statement index or -1)."""
    where: dict[int, tuple[int, int]] = {}
    for top, statement in enumerate(tree.body):
        for node in ast.walk(statement):
            where[id(node)] = (top, -1)
        if isinstance(statement, ast.ClassDef):
            for member, child in enumerate(statement.body):
                for node in ast.walk(child):
                    where[id(node)] = (top, member)
    return where


def mutants_of(file: str) -> list[Mutant]:
    """Every mutant of ``file``, numbered in a stable order."""
    source = (ROOT / file).read_text(encoding="utf-8")
    tree = ast.parse(source, filename=file)
    skipped = _skipped_nodes(tree)
    owner = _scopes(tree)
    where = _placement(tree)
    out = []
    number = 0
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        for kind, target, how in _variants(node):
            if target is None:
                continue
            replacement = _apply(target, kind, how)
            before = ast.unparse(target).splitlines()[0][:80]
            after = ast.unparse(replacement).splitlines()[0][:80] if replacement else ""
            mutant = Mutant(
                file=file,
                number=number,
                line=getattr(target, "lineno", 0),
                scope=owner.get(id(target), "module"),
                before=before,
                after=after,
                top=where[id(target)][0],
                member=where[id(target)][1],
            )
            out.append(mutant)
            number += 1
    return out


def mutated_code(mutant: Mutant) -> Any:
    """The compiled module with ``mutant`` applied (re-derived from the file)."""
    source = (ROOT / mutant.file).read_text(encoding="utf-8")
    tree = ast.parse(source, filename=mutant.file)
    skipped = _skipped_nodes(tree)
    number = 0
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        for kind, target, how in _variants(node):
            if target is None:
                continue
            if number == mutant.number:
                new_tree = _Replace(target, _apply(target, kind, how)).visit(tree)
                ast.fix_missing_locations(new_tree)
                return compile(new_tree, str(ROOT / mutant.file), "exec")
            number += 1
    raise LookupError(mutant.label)


def module_name(file: str) -> str:
    parts = Path(file).relative_to("src").with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


# -- applying a mutant ------------------------------------------------------------------------


class _MutantLoader:
    """Meta-path finder and loader serving one module from a compiled, mutated tree (the
    slow path: a fresh interpreter imports the mutated module as the module itself)."""

    def __init__(self, name: str, path: str, code: Any) -> None:
        self.name = name
        self.path = path
        self.code = code

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name != self.name:
            return None
        package = self.path.endswith("__init__.py")
        return importlib.util.spec_from_file_location(
            name,
            self.path,
            loader=self,  # type: ignore[arg-type]
            submodule_search_locations=[os.path.dirname(self.path)] if package else None,
        )

    def create_module(self, spec: Any) -> None:
        return None

    def exec_module(self, module: Any) -> None:
        exec(self.code, module.__dict__)  # noqa: S102 - the point: run the mutated module


class NotPatchable(Exception):
    """The change cannot be made in the running process (the slow path runs it)."""


def _swap_function(old: Any, new: Any) -> None:
    if hasattr(old, "cache_clear"):  # functools.lru_cache
        old.cache_clear()
        old, new = old.__wrapped__, new.__wrapped__
    if not isinstance(old, types.FunctionType) or not isinstance(new, types.FunctionType):
        raise NotPatchable(f"not a function: {old!r}")
    if old.__code__.co_freevars != new.__code__.co_freevars:
        raise NotPatchable(f"closure differs: {old!r}")
    old.__code__ = new.__code__
    old.__defaults__ = new.__defaults__
    old.__kwdefaults__ = new.__kwdefaults__


def _swap_member(old: Any, new: Any) -> None:
    if isinstance(old, property):
        for part in ("fget", "fset", "fdel"):
            if getattr(old, part) is not None:
                _swap_function(getattr(old, part), getattr(new, part))
    elif isinstance(old, classmethod | staticmethod):
        _swap_function(old.__func__, new.__func__)
    else:
        _swap_function(old, new)


def _rebind(module: types.ModuleType, name: str, old: Any, new: Any) -> None:
    """``module.name = new`` and every other cchc/tests binding of the same object."""
    module.__dict__[name] = new
    scalar = isinstance(old, int | float | str | bytes | type(None))
    for other_name, other in list(sys.modules.items()):
        if other is None or not other_name.startswith(("cchc", "tests")):
            continue
        for key, value in list(vars(other).items()):
            if value is old and (not scalar or key == name):
                setattr(other, key, new)
            elif (
                isinstance(value, types.FunctionType)
                and value.__defaults__
                and not scalar
                and any(d is old for d in value.__defaults__)
            ):
                value.__defaults__ = tuple(new if d is old else d for d in value.__defaults__)


def _refresh_defaults(
    module: types.ModuleType, scratch: dict[str, Any], old: Any, new: Any
) -> None:
    """Default arguments evaluated from a rebound constant (``x: int = CONSTANT``) take its
    new value: a default is replaced where it is the old object and the scratch run of the
    same function has the new value in that place."""

    def functions(namespace: dict[str, Any]) -> Iterator[tuple[str, Any]]:
        for name, value in namespace.items():
            if isinstance(value, types.FunctionType):
                yield name, value
            elif isinstance(value, type) and value.__module__ == module.__name__:
                for key, member in vars(value).items():
                    inner = getattr(member, "__func__", getattr(member, "fget", member))
                    if isinstance(inner, types.FunctionType):
                        yield f"{name}.{key}", inner

    fresh = dict(functions(scratch))
    for name, function in functions(module.__dict__):
        counterpart = fresh.get(name)
        if counterpart is None or not function.__defaults__ or not counterpart.__defaults__:
            continue
        pairs = zip(function.__defaults__, counterpart.__defaults__, strict=False)
        function.__defaults__ = tuple(n if (o is old and n == new) else o for o, n in pairs)


def patch_in_process(mutant: Mutant) -> None:
    """Make ``mutant`` live in this process: run the mutated module in a scratch namespace
    and move the changed function code (or rebind the changed value) into the real one."""
    module = sys.modules[module_name(mutant.file)]
    tree = ast.parse((ROOT / mutant.file).read_text(encoding="utf-8"))
    statement = tree.body[mutant.top]
    scratch: dict[str, Any] = {
        "__name__": module.__name__,
        "__file__": module.__file__,
        "__package__": module.__package__,
        "__spec__": module.__spec__,
        "__builtins__": builtins,
    }
    exec(mutated_code(mutant), scratch)  # noqa: S102 - the mutated module, in a scratch namespace
    if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef):
        if mutant.scope == "module":
            raise NotPatchable("decorator of a function")
        _swap_function(module.__dict__[statement.name], scratch[statement.name])
    elif isinstance(statement, ast.ClassDef):
        old_class, new_class = module.__dict__[statement.name], scratch[statement.name]
        if isinstance(old_class, enum.EnumMeta) and (
            mutant.member < 0 or not isinstance(statement.body[mutant.member], ast.FunctionDef)
        ):
            raise NotPatchable("enumeration member")
        if mutant.member < 0:
            raise NotPatchable("class statement")
        member = statement.body[mutant.member]
        if isinstance(member, ast.FunctionDef):
            if mutant.scope == "module":
                raise NotPatchable("decorator of a method")
            _swap_member(old_class.__dict__[member.name], new_class.__dict__[member.name])
        elif isinstance(member, ast.AnnAssign | ast.Assign):
            targets = [member.target] if isinstance(member, ast.AnnAssign) else member.targets
            for target in targets:
                if not isinstance(target, ast.Name):
                    raise NotPatchable("class attribute target")
                name = target.id
                if name in getattr(old_class, "__dataclass_fields__", {}):
                    # a field default lives in the generated __init__'s defaults
                    _swap_function(old_class.__init__, new_class.__init__)
                    old_class.__dataclass_fields__[name] = new_class.__dataclass_fields__[name]
                if name in old_class.__dict__ and not isinstance(
                    old_class.__dict__[name], types.MemberDescriptorType
                ):
                    setattr(old_class, name, new_class.__dict__[name])
        else:
            raise NotPatchable("class-level statement")
    elif isinstance(statement, ast.Assign | ast.AnnAssign):
        targets = [statement.target] if isinstance(statement, ast.AnnAssign) else statement.targets
        for target in targets:
            if not isinstance(target, ast.Name):
                raise NotPatchable("assignment target")
            old, new = module.__dict__[target.id], scratch[target.id]
            _rebind(module, target.id, old, new)
            _refresh_defaults(module, scratch, old, new)
    else:
        raise NotPatchable("module-level statement")
    _forget_cached_results()


def _forget_cached_results() -> None:
    """Results computed before the patch (while collecting) must be computed again."""
    for name, module in list(sys.modules.items()):
        if module is None or not name.startswith("cchc"):
            continue
        for value in list(vars(module).values()):
            if hasattr(value, "cache_clear") and callable(value.cache_clear):
                value.cache_clear()
    schedules = sys.modules.get("cchc.legaltime.schedules")
    if schedules is not None:
        schedules._DEFAULT = None  # type: ignore[attr-defined]
    calendar = sys.modules.get("cchc.legaltime.calendar")
    if calendar is not None:
        for obj in gc.get_objects():
            if isinstance(obj, calendar.Calendar):  # type: ignore[attr-defined]
                obj._table = None
                obj._years = {}


# -- the pytest session that runs the mutants ---------------------------------------------------


def _register_hypothesis_profile() -> None:
    from hypothesis import HealthCheck, settings

    settings.register_profile(
        "mutate",
        database=None,
        derandomize=True,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )


def _use_database_file(path: Path) -> None:
    from django.conf import settings

    settings.DATABASES["default"].setdefault("TEST", {})["NAME"] = str(path)


def _run_items(items: list[Any]) -> int:
    """Run ``items`` in order, stopping at the first failure: 1 if one failed, else 0."""
    from _pytest.runner import runtestprotocol

    for index, item in enumerate(items):
        last = index == len(items) - 1
        reports = runtestprotocol(item, nextitem=None if last else items[index + 1], log=False)
        if any(r.failed for r in reports):
            item.session._setupstate.teardown_exact(None)
            return 1
    return 0


@dataclasses.dataclass
class Selection:
    """Which tests may kill a mutant of each (file, function), fastest first."""

    by_function: dict[tuple[str, str], list[str]]
    by_file: dict[str, list[str]]
    durations: dict[str, float]

    def tests_for(self, mutant: Mutant) -> list[str]:
        if mutant.scope == "module":
            return self.by_file.get(mutant.file, [])
        outer = mutant.scope.split(".")
        for depth in range(len(outer), 0, -1):
            found = self.by_function.get((mutant.file, ".".join(outer[:depth])))
            if found:
                return found
        return []

    def budget(self, tests: list[str]) -> float:
        return 3 * sum(self.durations.get(t, 1.0) for t in tests) + 10


@dataclasses.dataclass
class Outcome:
    mutant: Mutant
    status: str  # killed, timeout, survived, uncovered, error
    seconds: float
    path: str = ""  # "fast" (patched in a forked child) or "slow" (fresh interpreter)


class MutationSession:
    """pytest plugin: collect the area's tests once, then run the baseline and every mutant
    in forked children instead of running the tests in this process."""

    def __init__(self, area: str, *, jobs: int, limit: int | None, only: str | None) -> None:
        self.area = area
        self.jobs = jobs
        self.limit = limit
        self.only = only
        self.outcomes: list[Outcome] = []
        self.files = {str(ROOT / f): f for f in AREAS[area]["files"]}
        self.state = STATE / area  # logs and test databases of this area's workers
        self.state.mkdir(parents=True, exist_ok=True)

    def pytest_collection_modifyitems(self, session: Any, config: Any, items: list[Any]) -> None:
        self.items = {item.nodeid: item for item in items}
        self.order = list(self.items)

    def pytest_runtestloop(self, session: Any) -> bool:
        if session.testsfailed:
            return False
        selection = self.baseline()
        template = self.state / "test-db-0.sqlite3"
        slots = [self.state / f"test-db-{i}.sqlite3" for i in range(self.jobs)]
        for slot in slots[1:]:
            shutil.copyfile(template, slot)
        pending: list[tuple[Mutant, list[str]]] = []
        for file in AREAS[self.area]["files"]:
            if self.only and self.only not in file:
                continue
            for mutant in mutants_of(file):
                tests = selection.tests_for(mutant)
                if tests:
                    pending.append((mutant, tests))
                else:
                    self.outcomes.append(Outcome(mutant, "uncovered", 0.0))
        if self.limit is not None:
            pending = pending[: self.limit]
        total = len(pending)
        print(f"\n[{self.area}] {total} mutants to run, {self.jobs} worker(s)", flush=True)
        running: dict[int, tuple[Mutant, list[str], float, float, int, str]] = {}
        free = list(range(self.jobs))
        done = 0
        started_all = time.monotonic()
        while pending or running:
            while pending and free:
                slot = free.pop()
                mutant, tests = pending.pop(0)
                pid, path = self.start(mutant, tests, slots[slot], slot)
                running[pid] = (
                    mutant,
                    tests,
                    time.monotonic(),
                    selection.budget(tests),
                    slot,
                    path,
                )
            time.sleep(0.005)
            for pid, (mutant, tests, started, budget, slot, path) in list(running.items()):
                waited, status = os.waitpid(pid, os.WNOHANG)
                elapsed = time.monotonic() - started
                if waited == 0:
                    if elapsed <= budget + (15 if path == "slow" else 0):
                        continue
                    os.killpg(pid, signal.SIGKILL)
                    os.waitpid(pid, 0)
                    state = "timeout"
                else:
                    code = os.waitstatus_to_exitcode(status)
                    if code == 99 and path == "fast":
                        # not patchable in this process: a fresh interpreter imports it
                        del running[pid]
                        pid, path = self.start(mutant, tests, slots[slot], slot, slow=True)
                        running[pid] = (mutant, tests, started, budget, slot, path)
                        continue
                    if code == 4 and path == "slow":
                        # the mutant renamed parametrised tests: run their whole files
                        files = sorted({t.split("::")[0] for t in tests})
                        del running[pid]
                        pid, path = self.start(mutant, files, slots[slot], slot, slow=True)
                        running[pid] = (mutant, files, started, budget, slot, path)
                        continue
                    state = {0: "survived", 1: "killed", 2: "killed"}.get(code, "error")
                    if state == "error":
                        log = self.state / f"error-{Path(mutant.file).stem}-{mutant.number}.log"
                        shutil.copyfile(self.state / f"worker-{slot}.log", log)
                del running[pid]
                free.append(slot)
                self.outcomes.append(Outcome(mutant, state, elapsed, path))
                done += 1
                if state in ("survived", "error"):
                    print(f"  {state}: {mutant.label}", flush=True)
                if done % 100 == 0:
                    rate = (time.monotonic() - started_all) / done
                    print(f"[{self.area}] {done}/{total} ({rate:.2f} s each)", flush=True)
        return True

    # -- children ---------------------------------------------------------------------------

    def start(
        self, mutant: Mutant, tests: list[str], db: Path, slot: int, *, slow: bool = False
    ) -> tuple[int, str]:
        log = self.state / f"worker-{slot}.log"
        if not slow and mutant.top >= 0:
            pid = os.fork()
            if pid == 0:
                self._fast_child(mutant, tests, db, log)
            return pid, "fast"
        return self._slow_child(mutant, tests, db, log), "slow"

    def _fast_child(self, mutant: Mutant, tests: list[str], db: Path, log: Path) -> None:
        code = 3
        try:
            _child_output(log)
            try:
                patch_in_process(mutant)
            except NotPatchable:
                os._exit(99)
            except Exception:  # the mutated module fails to run: the tests would fail too
                traceback.print_exc()
                os._exit(1)
            _use_database_file(db)
            code = _run_items([self.items[t] for t in tests])
        except BaseException:
            traceback.print_exc()
            code = 3
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)

    def _slow_child(self, mutant: Mutant, tests: list[str], db: Path, log: Path) -> int:
        command = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--child",
            json.dumps({"mutant": dataclasses.asdict(mutant), "tests": tests, "db": str(db)}),
        ]
        with open(log, "wb") as out:
            process = subprocess.Popen(  # noqa: S603 - this script, with its own arguments
                command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, cwd=ROOT
            )
        return process.pid

    def baseline(self) -> Selection:
        trace = self.state / f"baseline-{self.area}.json"
        log = self.state / f"baseline-{self.area}.log"
        print(f"\n[{self.area}] traced baseline of {len(self.order)} tests ...", flush=True)
        started = time.monotonic()
        pid = os.fork()
        if pid == 0:
            code = 3
            try:
                _child_output(log)
                _use_database_file(self.state / "test-db-0.sqlite3")
                code = self._traced_run(trace)
            except BaseException:
                traceback.print_exc()
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            sys.exit(f"[{self.area}] the baseline failed (exit {code}); see {log}")
        data = json.loads(trace.read_text(encoding="utf-8"))
        print(f"[{self.area}] baseline passed in {time.monotonic() - started:.0f} s", flush=True)
        return self._selection(data)

    def _traced_run(self, trace: Path) -> int:
        from _pytest.runner import runtestprotocol

        calls: dict[str, set[tuple[str, int]]] = defaultdict(set)
        durations: dict[str, float] = defaultdict(float)
        current = ["<collect>"]
        files = self.files

        def tracer(frame: Any, event: str, arg: Any) -> None:
            file = files.get(frame.f_code.co_filename)
            if file is not None:
                calls[current[0]].add((file, frame.f_code.co_firstlineno))

        # calls made while importing happened in the parent: charge them to every test
        for file in files.values():
            calls["<collect>"].add((file, 0))
        failed = 0
        items = [self.items[n] for n in self.order]
        sys.settrace(tracer)
        threading.settrace(tracer)
        try:
            for index, item in enumerate(items):
                current[0] = item.nodeid
                nextitem = items[index + 1] if index + 1 < len(items) else None
                for report in runtestprotocol(item, nextitem=nextitem, log=False):
                    durations[item.nodeid] += report.duration
                    if report.failed:
                        print(f"baseline failure: {item.nodeid}\n{report.longreprtext}")
                        failed += 1
        finally:
            sys.settrace(None)
            threading.settrace(None)  # type: ignore[arg-type]
        data = {"calls": {k: sorted(v) for k, v in calls.items()}, "durations": durations}
        trace.write_text(json.dumps(data), encoding="utf-8")
        return 1 if failed else 0

    def _selection(self, data: dict[str, Any]) -> Selection:
        lines = {
            f: function_lines(ast.parse((ROOT / f).read_text(encoding="utf-8")))
            for f in AREAS[self.area]["files"]
        }
        by_function: dict[tuple[str, str], set[str]] = defaultdict(set)
        by_file: dict[str, set[str]] = defaultdict(set)
        for test, calls in data["calls"].items():
            for file, first_line in calls:
                if test == "<collect>" or file not in lines:
                    continue
                by_function[(file, lines[file].get(first_line, "module"))].add(test)
                by_file[file].add(test)
        durations: dict[str, float] = data["durations"]

        def order(tests: set[str]) -> list[str]:
            return sorted(tests, key=lambda t: (durations.get(t, 0.0), self.order.index(t)))

        return Selection(
            by_function={k: order(v) for k, v in by_function.items()},
            by_file={k: order(v) for k, v in by_file.items()},
            durations=durations,
        )


def _child_output(log: Path) -> None:
    os.setsid()
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)


def _pytest_args(tests: list[str]) -> list[str]:
    return [
        "-q",
        "-x",
        "-p",
        "no:cacheprovider",
        "--reuse-db",
        "--hypothesis-profile=mutate",
        "--no-header",
        *tests,
    ]


def slow_child(payload: str) -> int:
    """A fresh interpreter importing the mutated module itself (for changes the running
    process cannot take: enumeration members, decorators, module-level statements)."""
    import pytest

    request = json.loads(payload)
    mutant = Mutant(**request["mutant"])
    loader = _MutantLoader(module_name(mutant.file), str(ROOT / mutant.file), mutated_code(mutant))
    sys.meta_path.insert(0, loader)  # type: ignore[arg-type]
    _register_hypothesis_profile()

    class FileDatabase:
        def pytest_sessionstart(self, session: Any) -> None:
            _use_database_file(Path(request["db"]))

    try:
        code = int(pytest.main(_pytest_args(request["tests"]), plugins=[FileDatabase()]))
    except Exception:  # the mutated module fails to import: the tests fail
        traceback.print_exc()
        return 1
    return code


# -- the report -------------------------------------------------------------------------------


def report(area: str, outcomes: list[Outcome]) -> dict[str, Any]:
    by_file: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        by_file[outcome.mutant.file].append(outcome)
    print(f"\n== {area}: killed / total per file ==")
    totals = [0, 0]
    summary: dict[str, Any] = {}
    for file, items in sorted(by_file.items()):
        killed = sum(o.status in ("killed", "timeout") for o in items)
        counts: dict[str, int] = defaultdict(int)
        for o in items:
            counts[o.status] += 1
        totals[0] += killed
        totals[1] += len(items)
        detail = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
        share = 100 * killed / len(items)
        print(f"  {file:42} {killed:4}/{len(items):<4} {share:5.1f} %  ({detail})")
        summary[file] = {"killed": killed, "total": len(items), **counts}
    if totals[1]:
        share = 100 * totals[0] / totals[1]
        print(f"  {'all of ' + area:42} {totals[0]:4}/{totals[1]:<4} {share:5.1f} %")
    summary["_total"] = {"killed": totals[0], "total": totals[1]}
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--area", action="append", choices=sorted(AREAS))
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--limit", type=int, help="run only the first N mutants of each area")
    parser.add_argument("--file", help="only source files whose path contains this text")
    parser.add_argument("--list", action="store_true", help="list the mutants and stop")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    os.environ.setdefault("DEBUG", "true")
    os.environ["DATABASE_URL"] = f"sqlite:///{STATE / 'cchc.sqlite3'}"
    sys.path.insert(0, str(ROOT))
    if args.child:
        return slow_child(args.child)
    areas = args.area or list(AREAS)
    if args.list:
        for area in areas:
            for file in AREAS[area]["files"]:
                for mutant in mutants_of(file):
                    print(mutant.label)
        return 0
    STATE.mkdir(parents=True, exist_ok=True)
    import pytest

    _register_hypothesis_profile()
    results: dict[str, Any] = {}
    outcomes: list[Outcome] = []
    for area in areas:
        session = MutationSession(area, jobs=args.jobs, limit=args.limit, only=args.file)
        code = pytest.main(_pytest_args(AREAS[area]["tests"]), plugins=[session])
        if code not in (0, 5):
            print(f"[{area}] collection failed (exit {code})")
            return int(code)
        outcomes += session.outcomes
        results[area] = report(area, session.outcomes)
    survivors = [
        f"{o.status:9} {o.mutant.label}" for o in outcomes if o.status not in ("killed", "timeout")
    ]
    name = "-".join(areas)
    listing = STATE / f"survivors-{name}.txt"
    listing.write_text("\n".join(survivors) + "\n", encoding="utf-8")
    (STATE / f"summary-{name}.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(f"\n{len(survivors)} surviving mutants listed in {listing}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
