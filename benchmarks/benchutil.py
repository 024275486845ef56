"""Helpers shared by the benchmarks: throw-away PostgreSQL databases, and `target(...)`, the
record of each target's measured figure for the table of benchmarks/summary.py."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any


def pg_admin(url: str) -> Any:
    import psycopg

    return psycopg.connect(f"{url}/postgres", autocommit=True, connect_timeout=3)


def pg_create(url: str, name: str) -> bool:
    """(Re)create database `name` on the server at `url`; False (and why) if unusable."""
    try:
        with pg_admin(url) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {name}")
    except Exception as exc:
        print(f"PostgreSQL not usable: {exc}")
        return False
    return True


def pg_drop(url: str, name: str) -> None:
    with pg_admin(url) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


# -- one results file per `make bench` run ------------------------------------------------------
#
# Every benchmark records each of its targets with `target(...)`: one JSON line appended to
# var/bench/results-<run id>.jsonl. The run id comes from CCHC_BENCH_RUN (the Makefile sets
# it for the whole `make bench`), else a fresh one is made and put into the environment, so
# the benchmark's child processes write to the same file. benchmarks/summary.py reads the
# file and prints the one table.

RUN_ENV = "CCHC_BENCH_RUN"
COMPARATORS = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def bench_dir() -> Path:
    """var/bench of the project (CCHC_BENCH_DIR overrides it: the tests' own folder)."""
    default = Path(__file__).resolve().parents[1] / "var" / "bench"
    return Path(os.environ.get("CCHC_BENCH_DIR") or default)


def run_id() -> str:
    """The id of this run: CCHC_BENCH_RUN, else a fresh one (kept in the environment)."""
    current = os.environ.get(RUN_ENV, "").strip()
    if not current:
        current = time.strftime("%Y%m%d-%H%M%S", time.gmtime()) + f"-{os.getpid()}"
        os.environ[RUN_ENV] = current
    return _checked(current)


def _checked(run: str) -> str:
    if not all(c.isalnum() or c in "-_." for c in run) or run.startswith("."):
        raise ValueError(f"{RUN_ENV}={run!r}: use letters, digits, '-', '_' and '.'")
    return run


def results_path(run: str | None = None) -> Path:
    return bench_dir() / f"results-{_checked(run) if run else run_id()}.jsonl"


def load_average() -> str:
    """The 1, 5 and 15 minute load averages ("?" where /proc is missing)."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def record(line: dict[str, Any], run: str | None = None) -> Path:
    """Append one JSON line to the run's results file (one write: lines from processes
    writing at the same time do not interleave)."""
    path = results_path(run)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = (json.dumps(line, ensure_ascii=False, default=str) + "\n").encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    return path


def target(
    bench: str,
    name: str,
    measured: float | None,
    unit: str,
    limit: float,
    comparator: str,
    passed: bool | None = None,
    *,
    note: str = "",
) -> bool:
    """Record one target of benchmark `bench`: `measured` (None: it was not measured — a
    skipped or failed leg, shown as FAIL with `note`) against `limit` by `comparator`
    ("<", "<=", ">", ">="). `passed` overrides the comparison (e.g. a page that answered
    with a wrong status). Returns whether it passed; never raises for a timing."""
    if comparator not in COMPARATORS:
        raise ValueError(f"comparator {comparator!r}: one of {', '.join(COMPARATORS)}")
    if measured is None:
        passed = False
        note = note or "did not run"
    elif passed is None:
        passed = bool(COMPARATORS[comparator](measured, limit))
    record(
        {
            "kind": "target",
            "bench": bench,
            "target": name,
            "measured": measured,
            "unit": unit,
            "limit": limit,
            "comparator": comparator,
            "passed": passed,
            "note": note,
            "load": load_average(),
            "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
    )
    return passed
