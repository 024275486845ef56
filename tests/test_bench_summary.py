"""benchmarks/summary.py, the one table at the end of `make bench`, and the record its input is
made of (`benchmarks.benchutil.target`). The table is read from a hand-written results file;
the command runs as `make bench` runs it (a separate process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SUMMARY = ROOT / "benchmarks" / "summary.py"

START = {
    "kind": "start",
    "at": "2026-12-08 01:00 UTC",
    "commit": "abc1234",
    "nproc": 2,
    "ram_gb": 23.5,
    "load": "0.50 0.40 0.30",
}
LINES = [
    START,
    {"kind": "target", "bench": "legaltime", "target": "bulk_due / busday_offset",
     "measured": 0.81, "unit": "×", "limit": 0.2, "comparator": ">=", "passed": True,
     "note": "", "load": "0.6 0.4 0.3"},
    {"kind": "target", "bench": "queue", "target": "sqlite 1,000,000: queue page p95",
     "measured": 412.5, "unit": "ms", "limit": 300, "comparator": "<", "passed": False,
     "note": "", "load": "1.9 1.2 0.8"},
    {"kind": "target", "bench": "queue", "target": "postgres 1,000,000: queue page p95",
     "measured": None, "unit": "ms", "limit": 300, "comparator": "<", "passed": False,
     "note": "did not run (no PostgreSQL server)", "load": "2.0 1.3 0.9"},
    {"kind": "exit", "bench": "search", "code": 1},
    {"kind": "target", "bench": "report", "target": "sqlite 1,000,000: province | web pdf",
     "measured": 6.25, "unit": "s", "limit": 10, "comparator": "<", "passed": True,
     "note": "", "load": "1.1 1.0 0.9"},
]  # fmt: skip


def _write(folder: Path, run: str, lines: list[dict], extra: str = "") -> Path:
    path = folder / f"results-{run}.jsonl"
    path.write_text(
        "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines) + extra,
        encoding="utf-8",
    )
    return path


def _summary(folder: Path, *args: str, run: str = "") -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, CCHC_BENCH_DIR=str(folder), CCHC_BENCH_RUN=run)
    return subprocess.run(
        [sys.executable, str(SUMMARY), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _row(output: str, bench: str, text: str) -> str:
    found = [line for line in output.splitlines() if line.startswith(bench) and text in line]
    assert len(found) == 1, output
    return found[0]


def test_the_table_has_every_target_and_a_fail_row_for_what_did_not_run(tmp_path: Path) -> None:
    _write(tmp_path, "r1", LINES, extra="not json at all\n")
    done = _summary(tmp_path, run="r1")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    head = next(line for line in out.splitlines() if line.startswith("=== bench run r1"))
    assert "2026-12-08 01:00 UTC" in head and "commit abc1234" in head
    assert "2 CPU, 23.5 GB RAM" in head
    assert "load average at start 0.50 0.40 0.30" in head
    assert "at end " in head
    legaltime = _row(out, "legaltime", "busday_offset")
    assert "0.81 ×" in legaltime and ">= 0.2 ×" in legaltime and "PASS" in legaltime
    slow = _row(out, "queue", "sqlite")
    assert "412 ms" in slow and "< 300 ms" in slow and "FAIL" in slow
    skipped = _row(out, "queue", "postgres")
    assert "FAIL" in skipped and "did not run (no PostgreSQL server)" in skipped
    # Expected benchmarks that recorded nothing: one FAIL row each, "did not run".
    for bench in ("indicators", "import", "pages"):
        row = _row(out, bench, "did not run")
        assert "FAIL" in row
    assert "did not run (exit status 1)" in _row(out, "search", "FAIL")
    assert "PASS" in _row(out, "report", "web pdf")
    assert "2/8 targets PASS, 6 FAIL" in out
    assert "line 7: not a JSON object, ignored" in done.stderr
    # The table follows make bench's order, not the file's.
    order = [line.split()[0] for line in out.splitlines() if line.split()[:1]]
    benches = [b for b in order if b in ("legaltime", "queue", "indicators", "report", "pages")]
    assert benches == ["legaltime", "queue", "queue", "indicators", "pages", "report"]


def test_a_benchmark_that_recorded_targets_then_crashed_gets_a_fail_row(tmp_path: Path) -> None:
    lines = [*LINES, {"kind": "exit", "bench": "legaltime", "code": 3}]
    _write(tmp_path, "r2", lines)
    done = _summary(tmp_path, "--expect", "legaltime", run="r2")
    assert done.returncode == 0, done.stderr
    assert "PASS" in _row(done.stdout, "legaltime", "busday_offset")
    crashed = _row(done.stdout, "legaltime", "(whole benchmark)")
    assert "FAIL" in crashed and "exit status 3" in crashed
    # Benchmarks outside --expect that did record something are still shown.
    assert "FAIL" in _row(done.stdout, "queue", "sqlite")


def test_history_is_markdown_newest_first_under_date_and_commit(tmp_path: Path) -> None:
    history = tmp_path / "benchmarks.md"
    history.write_text("# Benchmarks\n\nHow to run.\n", encoding="utf-8")
    _write(tmp_path, "old", [dict(START, commit="1111111"), *LINES[1:2]])
    _write(tmp_path, "new", [dict(START, commit="2222222", at="2026-12-09 02:00 UTC"), *LINES[1:]])
    for run in ("old", "new"):
        done = _summary(tmp_path, "--history", str(history), run=run)
        assert done.returncode == 0, done.stderr
    text = history.read_text(encoding="utf-8")
    assert text.startswith("# Benchmarks\n\nHow to run.\n")
    assert text.count("## History") == 1
    newer = text.index("### 2026-12-09 02:00 UTC — commit 2222222")
    older = text.index("### 2026-12-08 01:00 UTC — commit 1111111")
    assert newer < older
    assert "| benchmark | target | measured | limit | result | load | note |" in text
    assert "| legaltime | bulk_due / busday_offset | 0.81 × | >= 0.2 × | PASS |" in text
    assert "| queue | sqlite 1,000,000: queue page p95 | 412 ms | < 300 ms | **FAIL** |" in text
    assert "| pages | — | — | — | **FAIL** |   | did not run |" in text
    # a "|" inside a cell cannot break the Markdown table
    assert "province \\| web pdf" in text


def test_bad_input_gives_a_message_and_exit_status_2(tmp_path: Path) -> None:
    done = _summary(tmp_path, "--results", str(tmp_path / "missing.jsonl"))
    assert done.returncode == 2
    assert "no results file" in done.stderr and "Traceback" not in done.stderr
    done = _summary(tmp_path)  # no run given, no results in the folder
    assert done.returncode == 2 and "no results in" in done.stderr
    done = _summary(tmp_path, run="../etc")
    assert done.returncode == 2 and "CCHC_BENCH_RUN" in done.stderr
    done = _summary(tmp_path, "--exit", "queue", "x", run="r3")
    assert done.returncode == 2 and "must be a number" in done.stderr


def test_a_run_with_no_results_file_yet_lists_every_benchmark_as_did_not_run(
    tmp_path: Path,
) -> None:
    assert _summary(tmp_path, "--start", run="r4").returncode == 0
    done = _summary(tmp_path, run="r4")
    assert done.returncode == 0, done.stderr
    assert "0/7 targets PASS, 7 FAIL" in done.stdout


def test_target_appends_one_line_and_compares(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(ROOT))
    monkeypatch.setenv("CCHC_BENCH_DIR", str(tmp_path))
    monkeypatch.setenv("CCHC_BENCH_RUN", "r5")
    from benchmarks import benchutil

    assert benchutil.target("b", "fast enough", 120.0, "ms", 150, "<") is True
    assert benchutil.target("b", "ratio", 0.1, "×", 0.2, ">=") is False
    assert benchutil.target("b", "bad status", 10.0, "ms", 150, "<", passed=False) is False
    assert benchutil.target("b", "skipped", None, "ms", 150, "<") is False
    with pytest.raises(ValueError, match="comparator"):
        benchutil.target("b", "x", 1.0, "ms", 2, "=")
    lines = [json.loads(line) for line in (tmp_path / "results-r5.jsonl").read_text().splitlines()]
    assert [(x["target"], x["passed"]) for x in lines] == [
        ("fast enough", True),
        ("ratio", False),
        ("bad status", False),
        ("skipped", False),
    ]
    assert lines[3]["note"] == "did not run" and lines[3]["measured"] is None
    assert all(x["bench"] == "b" and x["kind"] == "target" for x in lines)
