"""The one table at the end of `make bench`: every target of every benchmark, its measured
figure, the limit, PASS/FAIL, with the run's date, git commit, machine and load average.

Usage:
  ``python benchmarks/summary.py [--run ID | --results FILE] [--expect a,b,…] [--history [MD]]``
  ``python benchmarks/summary.py --start``            (Makefile: before the first benchmark)
  ``python benchmarks/summary.py --exit BENCH CODE``  (Makefile: after each benchmark)

Each benchmark records its targets with ``benchmarks.benchutil.target(...)`` into
``var/bench/results-<run id>.jsonl`` (run id: CCHC_BENCH_RUN, set by the Makefile). This
script reads that file (default: the run of CCHC_BENCH_RUN, else the newest results file)
and prints the table. A benchmark in ``--expect`` that recorded nothing is a row FAIL "did not
run"; one that exited with a non-zero status gets a FAIL row saying so. ``--history`` also
inserts the table in Markdown at the top of the history in docs/benchmarks.md (newest
first, under a heading with the date and commit).

The exit status never depends on timings or verdicts: 0 when the table was printed, 2 for a
bad argument or an unreadable/unwritable file.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# benchmarks/queue.py is named like the standard library's `queue`: drop this folder from the
# path before anything imports `queue`.
HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
ROOT = HERE.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import benchutil  # noqa: E402

# What `make bench` runs, in its order.
BENCHMARKS = ("legaltime", "queue", "indicators", "import", "search", "pages", "report")
HISTORY = ROOT / "docs" / "benchmarks.md"
MARKER = "<!-- benchmarks/summary.py --history inserts each new table below this line -->"
DID_NOT_RUN = "did not run"


class Failure(Exception):
    """A problem with the arguments or a file: message printed, exit status 2."""


@dataclass
class Row:
    bench: str
    target: str
    measured: str
    limit: str
    verdict: str
    load: str
    note: str


# -- machine and run ---------------------------------------------------------------------------


def _commit() -> str:
    """Short commit of the working tree, "+changes" when it differs from it."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{head}+changes" if dirty else head


def _ram_gb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def machine() -> dict[str, Any]:
    return {
        "at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "commit": _commit(),
        "nproc": os.cpu_count() or 0,
        "ram_gb": _ram_gb(),
        "load": benchutil.load_average(),
    }


# -- reading -----------------------------------------------------------------------------------


def _results_file(args: argparse.Namespace) -> Path:
    if args.results:
        path = Path(args.results)
        if not path.is_file():
            raise Failure(f"no results file {path}")
        return path
    run = args.run or os.environ.get(benchutil.RUN_ENV, "").strip()
    if run:
        try:
            return benchutil.results_path(run)
        except ValueError as exc:
            raise Failure(str(exc)) from None
    found = sorted(benchutil.bench_dir().glob("results-*.jsonl"), key=lambda p: p.stat().st_mtime)
    if not found:
        raise Failure(
            f"no results in {benchutil.bench_dir()}: run `make bench` (or give --run/--results)"
        )
    return found[-1]


def read(path: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """The JSON lines of `path` (none when it does not exist: nothing ran) and warnings for
    lines that are not JSON objects."""
    if not path.exists():
        return [], []
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise Failure(f"cannot read {path}: {exc}") from None
    lines, warnings = [], []
    for number, raw in enumerate(text.splitlines(), 1):
        if not raw.strip():
            continue
        try:
            line = json.loads(raw)
        except json.JSONDecodeError:
            line = None
        if not isinstance(line, dict):
            warnings.append(f"{path.name} line {number}: not a JSON object, ignored")
            continue
        lines.append(line)
    return lines, warnings


# -- the table ---------------------------------------------------------------------------------


def number(value: float) -> str:
    """1234567 → "1,234,567"; 123.4 → "123"; 12.34 → "12.3"; 0.8123 → "0.812"; 50.0 → "50"."""
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def _figure(value: Any, unit: str) -> str:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return "—"
    return f"{number(float(value))} {unit}".strip()


def rows(lines: list[dict[str, Any]], expect: list[str]) -> list[Row]:
    """One row per recorded target (benchmarks in `expect` order, then any other, each in
    recording order); a FAIL row for an expected benchmark that recorded nothing and for
    one that exited with a non-zero status."""
    targets: dict[str, list[dict[str, Any]]] = {}
    exits: dict[str, int] = {}
    for line in lines:
        kind = line.get("kind", "target")
        bench = str(line.get("bench") or "?")
        if kind == "target":
            targets.setdefault(bench, []).append(line)
        elif kind == "exit":
            try:
                exits[bench] = int(line.get("code", 0))
            except (TypeError, ValueError):
                exits[bench] = -1
    order = list(expect) + [b for b in (*targets, *exits) if b not in expect]
    out: list[Row] = []
    for bench in dict.fromkeys(order):
        code = exits.get(bench, 0)
        recorded = targets.get(bench, [])
        if not recorded:
            note = DID_NOT_RUN + (f" (exit status {code})" if code else "")
            out.append(Row(bench, "—", "—", "—", "FAIL", "", note))
            continue
        for t in recorded:
            unit = str(t.get("unit") or "")
            limit = t.get("limit")
            shown = _figure(limit, unit)
            out.append(
                Row(
                    bench,
                    str(t.get("target") or "?"),
                    _figure(t.get("measured"), unit),
                    f"{t.get('comparator', '')} {shown}".strip() if shown != "—" else "—",
                    "PASS" if t.get("passed") is True else "FAIL",
                    str(t.get("load") or ""),
                    str(t.get("note") or ""),
                )
            )
        if code:
            out.append(Row(bench, "(whole benchmark)", "—", "—", "FAIL", "", f"exit status {code}"))
    return out


def header(lines: list[dict[str, Any]], run: str, end: dict[str, Any]) -> dict[str, Any]:
    """Date, commit, machine and load at the start (the --start line, else the first target
    recorded) and at the end (now)."""
    start = next((line for line in lines if line.get("kind") == "start"), None)
    first = next((line for line in lines if line.get("kind", "target") == "target"), None)
    info = dict(end)
    info["run"] = run
    info["load_end"] = end["load"]
    info["load_start"] = (start or {}).get("load") or (first or {}).get("load") or "?"
    if start:
        for key in ("at", "commit", "nproc", "ram_gb"):
            if start.get(key) is not None:
                info[key] = start[key]
    return info


def _machine_text(info: dict[str, Any]) -> str:
    ram = info.get("ram_gb")
    ram_text = f"{ram:.1f} GB RAM" if isinstance(ram, int | float) else "RAM unknown"
    return f"{info.get('nproc') or '?'} CPU, {ram_text}"


def text_table(table: list[Row], info: dict[str, Any]) -> str:
    passed = sum(r.verdict == "PASS" for r in table)
    head = (
        f"=== bench run {info['run']}: {info['at']}, commit {info['commit']}, "
        f"{_machine_text(info)}; load average at start {info['load_start']}, "
        f"at end {info['load_end']} ==="
    )
    titles = ("benchmark", "target", "measured", "limit", "result", "load", "note")
    cells = [titles] + [
        (r.bench, r.target, r.measured, r.limit, r.verdict, r.load, r.note) for r in table
    ]
    widths = [max(len(c[i]) for c in cells) for i in range(len(titles))]
    right = {2, 3}  # figures aligned right

    def line(values: tuple[str, ...]) -> str:
        parts = [
            v.rjust(widths[i]) if i in right else v.ljust(widths[i]) for i, v in enumerate(values)
        ]
        return "  ".join(parts).rstrip()

    body = [line(titles), "-" * len(line(titles))] + [line(c) for c in cells[1:]]
    tail = f"{passed}/{len(table)} targets PASS, {len(table) - passed} FAIL"
    return "\n".join([head, *body, tail])


def _md(value: str) -> str:
    return value.replace("|", "\\|") or " "


def markdown(table: list[Row], info: dict[str, Any]) -> str:
    passed = sum(r.verdict == "PASS" for r in table)
    out = [
        f"### {info['at']} — commit {info['commit']}",
        "",
        f"Run `{info['run']}`; machine {_machine_text(info)}; load average at start "
        f"{info['load_start']}, at end {info['load_end']}; "
        f"{passed}/{len(table)} targets PASS.",
        "",
        "| benchmark | target | measured | limit | result | load | note |",
        "|---|---|--:|--:|---|---|---|",
    ]
    for r in table:
        verdict = "PASS" if r.verdict == "PASS" else "**FAIL**"
        out.append(
            f"| {_md(r.bench)} | {_md(r.target)} | {_md(r.measured)} | {_md(r.limit)} | "
            f"{verdict} | {_md(r.load)} | {_md(r.note)} |"
        )
    return "\n".join(out) + "\n"


def add_history(path: Path, section: str) -> None:
    """Insert `section` right under the marker of `path` (newest first); the marker (and a
    History heading) is appended when missing, the file created when absent."""
    try:
        text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    except (OSError, UnicodeDecodeError) as exc:
        raise Failure(f"cannot read {path}: {exc}") from None
    if MARKER not in text:
        text = text.rstrip("\n") + f"\n\n## History\n\n{MARKER}\n"
    before, after = text.split(MARKER, 1)
    older = after.strip("\n")
    text = f"{before}{MARKER}\n\n{section.rstrip()}\n" + (f"\n{older}\n" if older else "")
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise Failure(f"cannot write {path}: {exc}") from None


# -- command -----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", help="run id (default: CCHC_BENCH_RUN, else the newest run)")
    parser.add_argument("--results", help="a results file (instead of --run)")
    parser.add_argument("--expect", default=",".join(BENCHMARKS), help="benchmarks expected")
    parser.add_argument(
        "--history",
        nargs="?",
        const=str(HISTORY),
        help=f"also insert the table in Markdown into this file (default {HISTORY.name})",
    )
    parser.add_argument("--start", action="store_true", help="record the run's start")
    parser.add_argument("--exit", nargs=2, metavar=("BENCH", "CODE"), help="record an exit")
    args = parser.parse_args(argv)
    try:
        if args.run:
            os.environ[benchutil.RUN_ENV] = args.run
        if args.start:
            benchutil.record({"kind": "start", **machine()})
            print(f"bench run {benchutil.run_id()}: results in {benchutil.results_path()}")
            return 0
        if args.exit:
            bench, code = args.exit
            try:
                value = int(code)
            except ValueError:
                raise Failure(f"--exit {bench} {code}: the exit status must be a number") from None
            benchutil.record({"kind": "exit", "bench": bench, "code": value})
            return 0
        path = _results_file(args)
        lines, warnings = read(path)
        expect = [b.strip() for b in args.expect.split(",") if b.strip()]
        table = rows(lines, expect)
        run = path.stem.removeprefix("results-")
        info = header(lines, run, machine())
        for warning in warnings:
            print(f"warning: {warning}", file=sys.stderr)
        print()
        print(text_table(table, info))
        if args.history:
            add_history(Path(args.history), markdown(table, info))
            print(f"table added to {args.history}")
    except (Failure, ValueError) as exc:
        print(f"benchmarks/summary.py: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
