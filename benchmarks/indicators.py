"""Benchmark of the indicator engine (spec 04) at 1 M and 10 M dossiers.

Usage: ``python benchmarks/indicators.py [--sizes 1000000,10000000] [--backends sqlite,postgres]
[--runs R] [--procedures P] [--base B] [--verify-max N] [--keep] [--pg URL]``

For each backend it builds a throw-away database (SQLite: ``var/bench/indicators.sqlite3``;
PostgreSQL: database ``cchc_bench_indicators`` on ``--pg`` (default
postgres://postgres@127.0.0.1:5432), created and dropped here; the leg is skipped loudly when
no server answers), migrates it, loads a small organisation, ``--procedures`` procedures, staff
and Plan 213 through the real services, then:

1. generates ``min(--base, smallest size)`` dossiers (default base 1 000 000) received in 2024
   with ``cchc.demo.generator.generate`` (the rows the services would write: dossiers, events,
   components, fees, results);
2. for every size N (ascending) grows the dossier table to N by REPLICATING the generated
   dossier rows with one ``INSERT … SELECT`` per copy: new ids, unique codes (``<code>-R<k>``),
   every instant of a finished dossier moved by the same whole number of weeks (wrapped inside
   2024, so weekdays, durations, outcomes and the year's distributions hold; open dossiers are
   not moved). Their result rows (``dossiers_dossierresult``, read by the "electronic result"
   measure) are replicated with them. Events, components and fees are NOT replicated: the
   indicators read the dossier rows, their results and the maintained aggregates only (so
   ``cchc dossiers verify`` would flag the replicas; ``cchc indicators verify`` does not);
3. runs ANALYZE, then times the engine's FULL REBUILD of the aggregate cells from the dossiers
   (``cchc.indicators.aggregates.rebuild``, what ``cchc indicators rebuild`` runs) and, up to
   ``--verify-max`` dossiers, its verification (``aggregates.verify``);
4. times the dashboard reads through the engine — the whole Plan 213 indicator set
   (``services.plan_results``) and the 766 index (``services.index766``), for the year 2024
   and for one agency-month (Sở Tư pháp, 06/2024), report instant 10/01/2025 — p50/p95 over
   ``--runs`` runs (fewer, at least 3, when a read takes over a second), and under them the
   bare aggregate read (the period's SUM over the cells);
5. baselines measured in the same run on the same data:
   - "plain GROUP BY": the period totals of every cell measure straight from the dossier table
     (one GROUP BY per family, by competent agency, with the engine's measure conditions) —
     what a dashboard without aggregates would run;
   - DuckDB: the dossier rows (the columns the indicators read), their results and the
     procedures are exported to Parquet (pyarrow, streamed in batches of 200 000 rows);
     DuckDB, reading the Parquet files in every query, computes (a) every aggregate cell — the
     equivalent of the full rebuild — and (b) for each dashboard read the figures of the
     engine's "dossiers" source: period sums, derived measures and the dossiers in progress at
     the report instant; for Plan 213 also for the previous period and the year to date, as
     ``plan_results`` does. (The engine's reads also count tasks, registers, the catalogue,
     feedback and external scores; those small tables are not part of DuckDB's work.);
6. checks that the engine's cells equal DuckDB's cell by cell, that the period totals of the
   cells, the plain GROUP BY and DuckDB agree, and that every numerator and denominator of a
   "dossiers" indicator of Plan 213 and the 766 index, evaluated from the definitions in force
   on DuckDB's figures, equals the engine's; any difference is printed as "!!! MISMATCH".

Targets (issue): dashboard reads p95 < 200 ms at 10 M dossiers on SQLite and PostgreSQL; the
full rebuild on PostgreSQL within 5× of DuckDB's time (SQLite's reported too). They are
printed as PASS/FAIL in the final table; the exit status never depends on timings. Each backend
runs in its own process (settings read DATABASE_URL once); the sizes of a backend share its
database. Foreign-key checks are off while replicas are written (they point at existing rows).
The machine's load average is printed with each size: other work makes timings noisier.
"""

from __future__ import annotations

import sys
from pathlib import Path

# benchmarks/queue.py is named like the standard library's `queue`: drop this folder from the
# path before anything imports `queue`.
HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
ROOT = HERE.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import datetime as dt  # noqa: E402
import fcntl  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from decimal import Decimal  # noqa: E402
from typing import Any  # noqa: E402
from zoneinfo import ZoneInfo  # noqa: E402

from benchmarks.benchutil import pg_create, pg_drop, target  # noqa: E402

VN = ZoneInfo("Asia/Ho_Chi_Minh")
READ_TARGET_MS = 200.0
REBUILD_TARGET_RATIO = 5.0
YEAR = 2024
START = dt.datetime(2024, 1, 2, 8, 0, tzinfo=VN)
END = dt.datetime(2024, 12, 31, 17, 0, tzinfo=VN)
NOW = dt.datetime(2025, 1, 10, 10, 0, tzinfo=VN)
YEAR_CODE, MONTH_CODE = "2024", "2024-06"
PG_DEFAULT = "postgres://postgres@127.0.0.1:5432"
BENCH_DB = "cchc_bench_indicators"
BENCH_DIR = ROOT / "var" / "bench"
SQLITE_PATH = BENCH_DIR / "indicators.sqlite3"
READS = ("plan213 year", "plan213 agency-month", "766 year", "766 agency-month")
# Dossier instants moved together when a row is replicated.
INSTANTS = (
    "submitted_at",
    "queue_at",
    "received_at",
    "clock_start",
    "original_due",
    "due",
    "paused_since",
    "step_due",
    "finished_at",
    "returned_at",
    "risk_checked_at",
)


# -- parent: one child process per backend -------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000000,10000000", help="dossier counts, ascending")
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--runs", type=int, default=30, help="timed runs per dashboard read")
    parser.add_argument("--base", type=int, default=1_000_000, help="dossiers generated in bulk")
    parser.add_argument("--procedures", type=int, default=40, help="procedures in the catalogue")
    parser.add_argument(
        "--verify-max", type=int, default=1_000_000, help="run the engine's verify up to N"
    )
    parser.add_argument("--seed", type=int, default=20240213)
    parser.add_argument("--pg", default=os.environ.get("BENCH_PG_URL", PG_DEFAULT))
    parser.add_argument("--keep", action="store_true", help="keep databases and Parquet files")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.size_list = sorted({int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()})
    if not args.size_list or args.size_list[0] < 1:
        parser.error("--sizes: give positive dossier counts")
    if args.child:
        child(args)
        return
    began = time.perf_counter()
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    # Two runs at once would drop each other's databases: one at a time.
    lock = (BENCH_DIR / "indicators.lock").open("w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        sys.exit(f"another benchmarks/indicators.py run holds {BENCH_DIR / 'indicators.lock'}")
    print(
        f"indicator benchmark: sizes {', '.join(f'{n:,}' for n in args.size_list)}; "
        f"backends {args.backends}; {args.runs} runs per read; started "
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        flush=True,
    )
    legs: list[tuple[str, dict[str, Any]]] = []
    for backend in [b.strip() for b in args.backends.split(",") if b.strip()]:
        env = dict(os.environ, DEBUG="true")
        if backend == "sqlite":
            _sqlite_remove()
            env["DATABASE_URL"] = f"sqlite:///{SQLITE_PATH}"
        elif backend == "postgres":
            if not pg_create(args.pg, BENCH_DB):
                print(f"\n!!! SKIPPED: the PostgreSQL leg did not run (no server at {args.pg}).")
                continue
            env["DATABASE_URL"] = f"{args.pg}/{BENCH_DB}"
        else:
            parser.error(f"unknown backend {backend}")
        out = BENCH_DIR / f"indicators-{backend}.json"
        out.unlink(missing_ok=True)
        command = [sys.executable, __file__, "--child", str(out), "--sizes", args.sizes,
                   "--runs", str(args.runs), "--base", str(args.base), "--procedures",
                   str(args.procedures), "--verify-max", str(args.verify_max), "--seed",
                   str(args.seed)] + (["--keep"] if args.keep else [])  # fmt: skip
        try:
            subprocess.run(command, env=env, check=True)
        except subprocess.CalledProcessError as exc:
            print(f"\n!!! the {backend} leg failed (exit {exc.returncode})")
        finally:
            if out.exists():  # written after every size: a failed leg keeps what it measured
                legs.append((backend, json.loads(out.read_text())))
            if backend == "postgres" and not args.keep:
                pg_drop(args.pg, BENCH_DB)
            if backend == "sqlite" and not args.keep:
                _sqlite_remove()
    _report(legs)
    measured = {backend for backend, leg in legs if leg.get("sizes")}
    for backend in [b.strip() for b in args.backends.split(",") if b.strip()]:
        if backend not in measured:  # skipped or failed before its first size
            target("indicators", f"{backend}: dashboard reads p95", None, "ms", READ_TARGET_MS,
                   "<", note="did not run (see the log above)")  # fmt: skip
    print(f"total {time.perf_counter() - began:.0f} s")


def _sqlite_remove() -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{SQLITE_PATH}{suffix}").unlink(missing_ok=True)


def _verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("PASS" if ok else "FAIL")


def _report(legs: list[tuple[str, dict[str, Any]]]) -> None:
    """The whole table: every size x backend x read, the rebuild, the baselines."""
    rows = [(size["n"], backend, size) for backend, leg in legs for size in leg["sizes"]]
    rows.sort(key=lambda r: (r[0], r[1]))
    print("\n=== data ===")
    for backend, leg in legs:
        g = leg["generate"]
        print(
            f"{backend}: {g['n']:,} dossiers ({g['rows']:,} rows) generated by bulk.generate in "
            f"{g['seconds']:.0f} s; larger sizes replicate these dossier rows and their results "
            f"(events, components and fees are not replicated)"
        )
    print(
        "\n=== dashboard reads, ms (cells: the period's SUM over the aggregate cells; plain "
        "GROUP BY: the period's measures from the dossier table; DuckDB: the read's dossier "
        "figures from Parquet; the target is set for 10 M dossiers) ==="
    )
    print(
        f"{'dossiers':>11} {'backend':8} {'read':22} {'p50':>8} {'p95':>8} {'first':>8} "
        f"{'cells p50':>10} "
        f"{'plain GROUP BY':>15} {'DuckDB':>8} {'plain/eng':>10} {'DuckDB/eng':>11}  target"
    )
    for n, backend, size in rows:
        for name in READS:
            read = size["reads"].get(name)
            scope = "year" if name.endswith("year") else "agency-month"
            plain = size["plain"].get(scope, {}).get("p50")
            duck = size["duckdb"].get("figures", {}).get(name, {}).get("p50")
            cells = size["cells_read"].get(scope, {}).get("p50")
            what = f"{backend} {n:,}: dashboard read «{name}» p95"
            if read is None:
                print(f"{n:>11,} {backend:8} {name:22} {'(engine read not available)':>30}")
                target("indicators", what, None, "ms", READ_TARGET_MS, "<",
                       note="engine read not available")  # fmt: skip
                continue
            ok = read["p95"] < READ_TARGET_MS
            target("indicators", what, read["p95"], "ms", READ_TARGET_MS, "<")
            print(
                f"{n:>11,} {backend:8} {name:22} {read['p50']:8.1f} {read['p95']:8.1f} "
                f"{_num(read.get('first'), 8)} {_num(cells, 10)} {_num(plain, 15, 0)} "
                f"{_num(duck, 8)} "
                f"{_ratio(plain, read['p50'])} {_ratio(duck, read['p50'], 11)}  "
                f"p95<{READ_TARGET_MS:.0f}: {_verdict(ok)}"
            )
    print("\n=== full rebuild of the aggregate cells vs DuckDB computing every cell (s) ===")
    print(
        f"{'dossiers':>11} {'backend':8} {'cells':>8} {'rebuild':>9} {'DuckDB':>8} "
        f"{'ratio':>7} {'verify':>8} {'export':>8} {'grow':>8} {'load':>5}  target"
    )
    for n, backend, size in rows:
        rebuild = size.get("rebuild_s")
        duck = size["duckdb"].get("cells", {}).get("p50")
        duck_s = duck / 1000 if duck is not None else None
        ratio = rebuild / duck_s if rebuild is not None and duck_s else None
        verdict = "(reported)"
        if backend == "postgres":
            verdict = f"<= {REBUILD_TARGET_RATIO:.0f}x DuckDB: " + _verdict(
                None if ratio is None else ratio <= REBUILD_TARGET_RATIO
            )
            target("indicators", f"{backend} {n:,}: full rebuild / DuckDB all cells", ratio,
                   "×", REBUILD_TARGET_RATIO, "<=",
                   note="" if ratio is not None else "rebuild or DuckDB not measured")  # fmt: skip
        print(
            f"{n:>11,} {backend:8} {size.get('cells', 0):>8,} {_num(rebuild, 9)} "
            f"{_num(duck_s, 8, 2)} {_num(ratio, 6)}x {_num(size.get('verify_s'), 8)} "
            f"{_num(size.get('export_s'), 8)} {_num(size.get('grow_s'), 8)} "
            f"{_num(size.get('load'), 5)}  {verdict}"
        )
    problems = [(n, b, p) for n, b, size in rows for p in size.get("problems", [])]
    print("\n=== checks ===")
    if not problems:
        print("engine cells = DuckDB cells; period totals of cells = plain GROUP BY = DuckDB")
    for n, backend, problem in problems:
        print(f"!!! MISMATCH {n:,} {backend}: {problem}")
    for n, backend, size in rows:  # the checks as a target too: a wrong figure is a FAIL
        found = len(size.get("problems", []))
        target("indicators", f"{backend} {n:,}: checks engine = DuckDB = plain GROUP BY",
               found, "mismatches", 0, "<=")  # fmt: skip


def _num(value: float | None, width: int, digits: int = 1) -> str:
    if value is None:
        return f"{'-':>{width}}"
    return f"{value:{width},.{digits}f}"


def _ratio(a: float | None, b: float | None, width: int = 10) -> str:
    if a is None or not b:
        return f"{'-':>{width}}"
    return f"{a / b:{width - 1},.1f}x"


# -- child: one backend ------------------------------------------------------------------------


def child(args: argparse.Namespace) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cchc.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    began = time.perf_counter()
    vendor = connection.vendor
    sizes = args.size_list
    base = min(args.base, sizes[0])
    print(
        f"\n=== {vendor}: sizes {', '.join(f'{n:,}' for n in sizes)} "
        f"({base:,} generated, the rest replicated), {args.runs} runs per read ===",
        flush=True,
    )
    call_command("migrate", verbosity=0)
    world = _world(args.procedures)
    settings.DEBUG = False  # no query log (DEBUG=true only to pass the settings checks)
    print(
        f"migrated and set up ({len(world['procedures'])} procedures) in "
        f"{time.perf_counter() - began:.0f} s",
        flush=True,
    )
    generated = _generate(world, base, args.seed)
    summary: dict[str, Any] = {"vendor": vendor, "generate": generated, "sizes": []}
    out = Path(args.child)
    current = base
    for n in sizes:
        grow_s = None
        if n > current:
            grow_s = _grow(generated["first_id"], base, current, n)
            current = n
        size = measure(world, n, args)
        size["grow_s"] = grow_s
        summary["sizes"].append(size)
        out.write_text(json.dumps(summary, indent=1, default=str))
    print(f"{vendor} leg: {time.perf_counter() - began:.0f} s", flush=True)


def _world(procedures: int) -> dict[str, Any]:
    """The small test organisation, `procedures` procedures of both agencies the desk receives
    for (working days with internal steps, same-day, calendar days, months; full, partial and
    no online service; electronic and paper results), staff, and Plan 213."""
    from tests.factories import make_user, small_structure

    from cchc.accounts.policy import SYSTEM
    from cchc.accounts.roles import Role
    from cchc.catalog.services import DocumentData, ProcedureData, StepData, save_procedure
    from cchc.demo import generator as bulk
    from cchc.org.models import Desk

    setup = dt.datetime(2024, 1, 2, 7, 0, tzinfo=VN)
    org = small_structure(setup)
    desk = Desk.objects.get(code="ttpvhcc-bg")
    specs = [
        ("Cấp phiếu lý lịch tư pháp", "so-tu-phap", 10, "wd", 200_000,
         ((4, "Tiếp nhận, chuyển hồ sơ"), (64, "Thẩm định, xử lý"), (8, "Phê duyệt"),
          (4, "Trả kết quả"))),
        ("Chứng thực bản sao từ bản chính", "so-tu-phap", 0, "wd", 2_000, ()),
        ("Đăng ký hoạt động văn phòng công chứng", "so-tu-phap", 5, "wd", 500_000,
         ((4, "Tiếp nhận"), (28, "Thẩm định"), (4, "Phê duyệt"), (4, "Trả kết quả"))),
        ("Cấp lại thẻ công chứng viên", "so-tu-phap", 3, "wd", 0,
         ((2, "Tiếp nhận"), (18, "Xử lý"), (4, "Phê duyệt"))),
        ("Cấp chứng chỉ hành nghề xây dựng", "so-xay-dung", 15, "d", 300_000, ()),
        ("Cấp giấy phép xây dựng công trình", "so-xay-dung", 20, "wd", 150_000,
         ((4, "Tiếp nhận"), (120, "Thẩm định"), (24, "Phê duyệt"), (12, "Trả kết quả"))),
        ("Thẩm định báo cáo nghiên cứu khả thi", "so-xay-dung", 1, "mo", 0, ()),
        ("Cấp bản sao trích lục hộ tịch", "so-tu-phap", 4, "wh", 8_000, ()),
    ]  # fmt: skip
    levels = ("full", "partial", "none")
    results = ("electronic", "paper", "both")
    made = []
    for i in range(max(1, procedures)):
        name, agency_type, time_, unit, fee, steps = specs[i % len(specs)]
        if i >= len(specs):
            name = f"{name} (biến thể {i // len(specs)})"
        procedure, _ = save_procedure(
            SYSTEM,
            ProcedureData(
                code=f"1.{i + 1:06d}",
                name=name,
                field_name="Thử nghiệm hiệu năng",
                levels=("province",),
                agency_type=agency_type,
                processing_time=Decimal(time_),
                processing_time_unit=unit,
                fees=((f"Lệ phí {name.lower()}", fee),) if fee else (),
                documents=(
                    DocumentData(f"Tờ khai {name.lower()}", originals=1),
                    DocumentData("Bản sao giấy tờ tùy thân", copies=1),
                ),
                steps=tuple(StepData(label, Decimal(hours)) for hours, label in steps),
                result_type=results[i % 3],
                online_level=levels[(i // 2) % 3],
            ),
            now=setup,
        )
        made.append(procedure)
    centre = desk.host_agency

    def users(role: str, count: int, **scope: Any) -> list[Any]:
        return [make_user(role, now=setup, **scope) for _ in range(count)]

    justice, construction = org.justice, org.construction
    staff = bulk.Staff(
        desk_officers=users(Role.DESK_OFFICER, 4, agency=centre, desk=desk),
        officers={
            justice.pk: users(Role.PROCESSING_OFFICER, 6, agency=justice),
            construction.pk: users(Role.PROCESSING_OFFICER, 4, agency=construction),
        },
        leaders={
            justice.pk: users(Role.AGENCY_LEADER, 2, agency=justice),
            construction.pk: users(Role.AGENCY_LEADER, 1, agency=construction),
        },
        citizens=users(Role.CITIZEN, 20),
    )
    plan = _load_plan(setup)
    return {
        "desk": desk,
        "procedures": made,
        "agencies": [justice, construction],
        "agency": justice,
        "staff": staff,
        "plan": plan,
    }


def _load_plan(now: dt.datetime) -> str:
    """Plan 213 (its areas and targets) through the plans service. Its illustrative tasks
    name agencies the small test organisation does not have, and the indicators do not read
    tasks: they are left out."""
    from cchc.accounts.policy import SYSTEM
    from cchc.plans import planfile, services

    spec = planfile.read_plan_file(services.SHIPPED_PLAN)
    try:
        services.load_plan(SYSTEM, dataclasses.replace(spec, tasks=[]), now=now)
    except Exception as exc:  # reported; the engine may still read the plan file itself
        print(f"!!! Plan 213 not loaded through plans.services: {exc}")
    return spec.code


# -- data: generation and replication ------------------------------------------------------------


def _generate(world: dict[str, Any], n: int, seed: int) -> dict[str, Any]:
    from django.db import connection

    from cchc.demo import generator as bulk

    if connection.vendor == "sqlite":  # a bigger page cache for the load only
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size = -1048576")
    last = [time.perf_counter()]

    def progress(done: int) -> None:
        if time.perf_counter() - last[0] > 30:
            last[0] = time.perf_counter()
            print(f"  ... {done:,} dossiers", flush=True)

    result = bulk.generate(
        n,
        seed=seed,
        start=START,
        end=END,
        desk=world["desk"],
        procedures=world["procedures"],
        agencies=world["agencies"],
        users=world["staff"],
        now=NOW,
        open_share=0.03,
        batch=25_000,
        progress=progress,
    )
    rows = result.total_rows
    print(
        f"generated {result.dossiers:,} dossiers = {rows:,} rows in {result.seconds:.1f} s "
        f"({result.dossiers / result.seconds:,.0f} dossiers/s; includes whatever the "
        f"generator does for the aggregates)",
        flush=True,
    )
    for table, count in sorted(result.rows.items()):
        print(f"  {table:28} {count:>12,}")
    return {
        "n": result.dossiers,
        "rows": rows,
        "seconds": result.seconds,
        "first_id": result.first_id,
        "states": result.states,
    }


_COPIES = [0]  # replicas made so far (their number suffixes the codes)


def _shift_weeks(k: int) -> int:
    """Whole weeks copy `k` is moved by (varied, never 0): -25 .. +25."""
    weeks = (k * 11) % 51 - 25
    return weeks or 26


def _grow(first: int, count: int, current: int, target: int) -> float:
    """Replicate dossiers [first, first + count) until the table holds `target` rows."""
    from django.core.management.color import no_style
    from django.db import connection, transaction

    from cchc.dossiers.models import Dossier, DossierResult

    began = time.perf_counter()
    pg = connection.vendor == "postgresql"
    dossier_cols = [f.column for f in Dossier._meta.concrete_fields]
    result_cols = [f.column for f in DossierResult._meta.concrete_fields]
    year_start = dt.datetime(YEAR, 1, 1, tzinfo=VN)
    year_end = dt.datetime(YEAR + 1, 1, 1, tzinfo=VN)
    # Django stores aware datetimes on SQLite as UTC text.
    bounds = [year_end, year_start] if pg else [_utc_text(year_end), _utc_text(year_start)]
    print(
        f"growing the dossier table {current:,} -> {target:,} by replicating dossiers "
        f"{first:,}..{first + count - 1:,} (and their results; events, components and fees "
        f"are not replicated)",
        flush=True,
    )
    # The copies point at rows that exist (agencies, procedures, users, result events):
    # foreign-key checks are switched off while they are written (row by row they cost more
    # than the insert itself), and on again afterwards.
    with connection.cursor() as cursor:
        if pg:
            cursor.execute("SET session_replication_role = replica")
        else:
            cursor.execute("PRAGMA cache_size = -1048576")
            connection.disable_constraint_checking()
    while current < target:
        _COPIES[0] += 1
        k = _COPIES[0]
        take = min(count, target - current)
        weeks = _shift_weeks(k)
        days = 7 * weeks
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f'SELECT COALESCE(MAX(id), 0) FROM "{Dossier._meta.db_table}"')
            top = int(cursor.fetchone()[0])
            cursor.execute(f'SELECT COALESCE(MAX(id), 0) FROM "{DossierResult._meta.db_table}"')
            top_result = int(cursor.fetchone()[0])
            delta = top + 1 - first
            if pg:
                shifted = f"submitted_at + make_interval(days => {days})"
            else:
                shifted = f"datetime(submitted_at, '{days:+d} days')"
            shift = (
                f"CASE WHEN is_open THEN 0 WHEN {shifted} >= %s THEN {days - 364} "
                f"WHEN {shifted} < %s THEN {days + 364} ELSE {days} END"
            )
            source = (
                f'SELECT d.*, {shift} AS bench_shift FROM "{Dossier._meta.db_table}" d '
                f"WHERE d.id >= {first} AND d.id < {first + take}"
            )

            def moved(column: str, alias: str = "s") -> str:
                if pg:
                    return f"{alias}.{column} + make_interval(days => s.bench_shift)"
                return f"datetime({alias}.{column}, s.bench_shift || ' days')"

            picks = []
            for column in dossier_cols:
                if column == "id":
                    picks.append(f"s.id + {delta}")
                elif column == "code":
                    picks.append(f"s.code || '-R{k}'")
                elif column in INSTANTS:
                    picks.append(moved(column))
                else:
                    picks.append(f"s.{column}")
            cursor.execute(
                f'INSERT INTO "{Dossier._meta.db_table}" ({", ".join(dossier_cols)}) '
                f"SELECT {', '.join(picks)} FROM ({source}) s",
                bounds,
            )
            picks = []
            for column in result_cols:
                if column == "id":
                    picks.append(f"r.id + {top_result}")
                elif column == "dossier_id":
                    picks.append(f"r.dossier_id + {delta}")
                elif column == "code":
                    picks.append(f"r.code || '-R{k}'")
                elif column == "issued_at":
                    picks.append(moved(column, "r"))
                else:
                    picks.append(f"r.{column}")
            cursor.execute(
                f'INSERT INTO "{DossierResult._meta.db_table}" ({", ".join(result_cols)}) '
                f"SELECT {', '.join(picks)} FROM ({source}) s "
                f'JOIN "{DossierResult._meta.db_table}" r ON r.dossier_id = s.id',
                bounds,
            )
        current += take
        print(
            f"  ... {current:,} dossiers (copy {k}, finished ones moved {weeks:+d} weeks) "
            f"{time.perf_counter() - began:.0f} s",
            flush=True,
        )
    with connection.cursor() as cursor:
        if pg:
            cursor.execute("SET session_replication_role = DEFAULT")
            for sql in connection.ops.sequence_reset_sql(no_style(), [Dossier, DossierResult]):
                cursor.execute(sql)
        else:
            connection.enable_constraint_checking()
            cursor.execute("PRAGMA cache_size = -2000")
    seconds = time.perf_counter() - began
    print(f"grown to {target:,} dossiers in {seconds:.0f} s", flush=True)
    return seconds


def _utc_text(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def _analyze() -> float:
    from django.db import connection

    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return time.perf_counter() - began


# -- measurements ------------------------------------------------------------------------------


def _percentiles(samples: list[float]) -> dict[str, float]:
    samples = sorted(samples)
    p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
    return {"p50": statistics.median(samples), "p95": p95, "runs": float(len(samples))}


def _timed(function: Callable[[], Any], runs: int, warmup: int = 3) -> dict[str, float]:
    """p50/p95 in ms over `runs` runs after `warmup` runs, and the first (cold) run. After a
    first run over a second, fewer runs (at least 3, about 30 s in all), so that a 10 M leg ends
    in reasonable time."""
    begin = time.perf_counter()
    function()
    first = (time.perf_counter() - begin) * 1000
    if first > 1000:
        warmup, runs = 0, max(3, min(runs, int(30_000 / first)))
    for _ in range(max(0, warmup - 1)):
        function()
    samples = []
    for _ in range(runs):
        begin = time.perf_counter()
        function()
        samples.append((time.perf_counter() - begin) * 1000)
    return {**_percentiles(samples), "first": first}


def _timed_slow(function: Callable[[], Any], runs: int) -> tuple[dict[str, float], Any]:
    """For baselines that may take seconds: the first run is timed too (cold); more runs
    only while the total stays reasonable (at least 2 runs, at most `runs`)."""
    samples = []
    value = None
    spent = 0.0
    while len(samples) < max(2, runs):
        begin = time.perf_counter()
        value = function()
        took = time.perf_counter() - begin
        samples.append(took * 1000)
        spent += took
        if len(samples) >= 2 and spent > 20:
            break
    return _percentiles(samples), value


def measure(world: dict[str, Any], n: int, args: argparse.Namespace) -> dict[str, Any]:
    from django.db import connection

    from cchc.dossiers.models import Dossier

    vendor = connection.vendor
    count = Dossier.objects.count()
    print(f"\n--- {vendor}, {count:,} dossiers ---", flush=True)
    size: dict[str, Any] = {"n": n, "problems": [], "reads": {}, "plain": {}, "duckdb": {}}
    if count != n:
        size["problems"].append(f"the dossier table holds {count:,} rows, expected {n:,}")
    size["analyze_s"] = _analyze()
    size["load"] = os.getloadavg()[0]
    print(
        f"ANALYZE in {size['analyze_s']:.1f} s; machine load average {size['load']:.1f} "
        f"on {os.cpu_count()} cores (other work on the machine makes timings noisier)",
        flush=True,
    )
    engine = Engine.load(world)

    # Full rebuild of the maintained aggregates (timed), then its verification.
    if engine.rebuild is not None:
        began = time.perf_counter()
        engine.rebuild()
        size["rebuild_s"] = time.perf_counter() - began
        _analyze()
        size["cells"] = _cell_count()
        print(f"full rebuild: {size['cells']:,} cells in {size['rebuild_s']:.1f} s", flush=True)
    else:
        size["cells"] = _cell_count()
        print(f"!!! no rebuild function in cchc.indicators; {size['cells']:,} cells as maintained")
    if engine.verify is not None and n <= args.verify_max:
        began = time.perf_counter()
        clean, detail = engine.verify()
        size["verify_s"] = time.perf_counter() - began
        print(f"verify: {'clean' if clean else detail} in {size['verify_s']:.1f} s", flush=True)
        if not clean:
            size["problems"].append(f"engine verify: {detail}")
    elif engine.verify is not None:
        print(f"verify skipped above {args.verify_max:,} dossiers (the DuckDB cell check below)")

    scopes = _scopes(world)
    # The engine's dashboard reads.
    for name, function in engine.reads().items():
        size["reads"][name] = _timed(function, args.runs)
        print(
            f"  engine {name:22} p50 {size['reads'][name]['p50']:8.1f} ms  "
            f"p95 {size['reads'][name]['p95']:8.1f} ms  ({int(size['reads'][name]['runs'])} runs; "
            f"first {size['reads'][name]['first']:,.1f} ms)",
            flush=True,
        )
    # The bare aggregate read under them, and the plain GROUP BY over the dossiers.
    size["cells_read"] = {}
    cell_totals: dict[str, dict[str, int]] = {}
    plain_totals: dict[str, dict[str, int]] = {}
    for name, scope in scopes.items():
        start, end, ids = scope.period.start, scope.period.end, scope.ids
        size["cells_read"][name] = _timed(lambda s=start, e=end, i=ids: _cells_sum(s, e, i), 10)
        cell_totals[name] = _cells_sum(start, end, ids)
        timing, plain_totals[name] = _timed_slow(
            lambda s=start, e=end, i=ids: _plain_group_by(s, e, i), 5
        )
        size["plain"][name] = timing
        print(
            f"  cells SUM    {name:12} p50 {size['cells_read'][name]['p50']:8.1f} ms; "
            f"plain GROUP BY over dossiers p50 {timing['p50']:10.1f} ms "
            f"({int(timing['runs'])} runs)",
            flush=True,
        )
    # The engine's figures, for the check against DuckDB.
    results = engine.results()

    # DuckDB over a Parquet export of the same rows.
    export = _export_parquet(n)
    size["export_s"] = export["seconds"]
    size["parquet_mb"] = export["bytes"] / 1e6
    duck = _duckdb(export, scopes, runs=args.runs)
    size["duckdb"] = duck["timings"]
    if not args.keep:
        for path in export["files"]:
            Path(path).unlink(missing_ok=True)

    # Checks.
    problems = size["problems"]
    stored = _stored_cells()
    problems += _compare_cells(stored, duck["cells"])
    for name in scopes:
        for label, other in (
            ("plain GROUP BY", plain_totals[name]),
            ("DuckDB", duck["values"][name]),
        ):
            for measure_name, value in cell_totals[name].items():
                got = int(other.get(measure_name, 0))
                if got != int(value):
                    problems.append(f"{name} {measure_name}: cells {value:,} != {label} {got:,}")
    compared, engine_problems = engine.check(results, scopes, duck["values"])
    problems += engine_problems
    size["totals"] = cell_totals
    size["figures"] = {name: _flatten(value) for name, value in results.items()}
    for problem in problems:
        print(f"!!! MISMATCH: {problem}")
    if not problems:
        print(
            f"checks: {len(stored):,} cells equal DuckDB's; period totals equal in cells, "
            f"plain GROUP BY and DuckDB; {compared} engine numerators/denominators of dossier "
            f"indicators equal DuckDB's",
            flush=True,
        )
    return size


class Scope:
    """A dashboard scope: the period, the agencies selected (None: all) and the instant."""

    def __init__(self, period: Any, ids: list[int] | None, now: dt.datetime) -> None:
        from cchc.indicators import periods

        self.period = period
        self.ids = ids
        self.now = now
        self.previous = periods.previous(period)
        today = now.astimezone(VN).date()
        start = min(period.start, dt.date(period.end.year, 1, 1))
        end = max(start, min(period.end, today))
        self.ytd = dataclasses.replace(period, code=f"{period.end.year}-YTD", start=start, end=end)


def _scopes(world: dict[str, Any]) -> dict[str, Scope]:
    """The year for every agency, and one agency-month, with the agency ids the engine's
    read-time mapping selects for the agency (its subtree and predecessors)."""
    from cchc.indicators import periods

    year, month = periods.parse(YEAR_CODE), periods.parse(MONTH_CODE)
    ids: list[int] | None = [world["agency"].pk]
    try:
        from cchc.indicators.measures import Context
        from cchc.indicators.services import Filters

        ids = Context(month, Filters(agency_id=world["agency"].pk), now=NOW).ids
    except (ImportError, AttributeError, TypeError) as exc:
        print(f"  (agency mapping of the engine not available: {exc}; the agency alone)")
    return {"year": Scope(year, None, NOW), "agency-month": Scope(month, ids, NOW)}


def _measures() -> tuple[tuple[str, ...], tuple[str, ...]]:
    from cchc.indicators.models import FINISHED_MEASURES, RECEIVED_MEASURES

    return tuple(RECEIVED_MEASURES), tuple(FINISHED_MEASURES)


def _cell_count() -> int:
    from cchc.indicators.models import Cell

    return Cell.objects.count()


def _cells_sum(start: dt.date, end: dt.date, ids: list[int] | None) -> dict[str, int]:
    """Period totals from the maintained cells (what any dashboard read sums at least)."""
    from django.db.models import Sum

    from cchc.indicators.models import Cell

    out: dict[str, int] = {}
    for kind, measures in zip(("r", "f"), _measures(), strict=True):
        qs = Cell.objects.filter(kind=kind, day__gte=start, day__lte=end)
        if ids is not None:
            qs = qs.filter(competent_agency_id__in=ids)
        sums = qs.aggregate(**{m: Sum(m) for m in measures})
        out.update({m: int(v or 0) for m, v in sums.items()})
    return out


def _local_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=VN)


def _plain_group_by(start: dt.date, end: dt.date, ids: list[int] | None) -> dict[str, int]:
    """The same period totals straight from the dossier table: one GROUP BY (by competent
    agency, as a dashboard without aggregates would) per family, with the engine's own
    measure conditions."""
    from django.db import connection
    from django.db.models import Case, IntegerField, Sum, When
    from django.db.models.expressions import RawSQL

    from cchc.dossiers.models import Dossier
    from cchc.indicators import resolved
    from cchc.indicators.aggregates import DEFINITIONS

    lo, hi = _local_start(start), _local_start(end + dt.timedelta(days=1))
    if connection.vendor == "postgresql":
        seconds = (
            "EXTRACT(EPOCH FROM date_trunc('second', finished_at))::bigint"
            " - EXTRACT(EPOCH FROM date_trunc('second', received_at))::bigint"
        )
    else:
        seconds = (
            "CAST(strftime('%%s', finished_at) AS INTEGER)"
            " - CAST(strftime('%%s', received_at) AS INTEGER)"
        )
    out: dict[str, int] = {}
    for column, measures in zip(("received_at", "finished_at"), _measures(), strict=True):
        qs = Dossier.objects.filter(
            received_at__isnull=False, **{f"{column}__gte": lo, f"{column}__lt": hi}
        )
        if column == "finished_at":  # the finished cells count resolved dossiers only
            qs = qs.filter(resolved.q())
        if ids is not None:
            qs = qs.filter(competent_agency_id__in=ids)
        sums: dict[str, Any] = {}
        for m in measures:
            if m == "processing_seconds":
                sums[m] = Sum(RawSQL(seconds, [], output_field=IntegerField()))
            else:
                condition = DEFINITIONS[m][1]
                sums[m] = Sum(Case(When(condition, then=1), default=0, output_field=IntegerField()))
        for row in qs.order_by().values("competent_agency_id").annotate(**sums):
            for m in measures:
                out[m] = out.get(m, 0) + int(row[m] or 0)
    for measures in _measures():
        for m in measures:
            out.setdefault(m, 0)
    return out


def _stored_cells() -> dict[tuple[Any, ...], tuple[int, ...]]:
    from cchc.indicators.models import KEY, Cell

    received, finished = _measures()
    out = {}
    for kind, measures in (("r", received), ("f", finished)):
        rows = Cell.objects.filter(kind=kind).values_list(*KEY, *measures)
        for row in rows.iterator(chunk_size=10_000):
            out[tuple(row[: len(KEY)])] = tuple(int(v) for v in row[len(KEY) :])
    return out


def _compare_cells(
    stored: dict[tuple[Any, ...], tuple[int, ...]], duck: dict[tuple[Any, ...], tuple[int, ...]]
) -> list[str]:
    out = []
    missing = [k for k in duck if k not in stored]
    extra = [k for k in stored if k not in duck]
    differ = [k for k in stored if k in duck and stored[k] != duck[k]]
    if missing:
        out.append(f"{len(missing):,} cells computed by DuckDB are not stored, e.g. {missing[0]}")
    if extra:
        out.append(f"{len(extra):,} stored cells are not in DuckDB's result, e.g. {extra[0]}")
    if differ:
        k = differ[0]
        out.append(
            f"{len(differ):,} cells differ from DuckDB's, e.g. {k}: {stored[k]} != {duck[k]}"
        )
    return out


# -- Parquet export and DuckDB -------------------------------------------------------------------

# Columns of the dossier rows the indicators read (epoch seconds for instants).
EXPORT = (
    ("id", "int64"),
    ("received_at", "ts"),
    ("finished_at", "ts"),
    ("due", "ts"),
    ("competent_agency_id", "int64"),
    ("receiving_agency_id", "int64"),
    ("procedure_id", "int64"),
    ("channel", "int16"),
    ("online_level", "str"),
    ("return_channel", "str"),
    ("fee_total", "int64"),
    ("paid_amount", "int64"),
    ("payment_channel", "str"),
    ("digitised", "bool"),
    ("reused_data", "bool"),
    ("state", "str"),
    ("is_open", "bool"),
    ("outcome", "str"),
    ("has_apology", "bool"),
    ("supplement_requests", "int32"),
    ("rating", "str"),
    ("has_complaint", "bool"),
)
RESULT_EXPORT = (("dossier_id", "int64"), ("electronic", "bool"))
PROCEDURE_EXPORT = (("id", "int64"), ("online_level", "str"), ("result_type", "str"))


def _arrow_type(kind: str) -> Any:
    import pyarrow as pa

    return {
        "int64": pa.int64(),
        "int32": pa.int32(),
        "int16": pa.int16(),
        "str": pa.string(),
        "bool": pa.bool_(),
        "ts": pa.timestamp("s"),  # UTC, naive (epoch seconds in transit)
    }[kind]


def _select(table: str, columns: tuple[tuple[str, str], ...], pg: bool) -> str:
    picks = []
    for name, kind in columns:
        if kind == "ts":
            picks.append(
                f"EXTRACT(EPOCH FROM {name})::bigint"
                if pg
                else f"CAST(strftime('%s', {name}) AS INTEGER)"
            )
        else:
            picks.append(name)
    return f'SELECT {", ".join(picks)} FROM "{table}"'


def _export_parquet(n: int) -> dict[str, Any]:
    """Stream the dossier rows (the indicator columns), their results and the procedures to
    Parquet files, in batches (bounded memory)."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from django.db import connection

    from cchc.catalog.models import Procedure
    from cchc.dossiers.models import Dossier, DossierResult

    began = time.perf_counter()
    pg = connection.vendor == "postgresql"
    files = []
    total_bytes = 0
    for table, columns, stem in (
        (Dossier._meta.db_table, EXPORT, "dossiers"),
        (DossierResult._meta.db_table, RESULT_EXPORT, "results"),
        (Procedure._meta.db_table, PROCEDURE_EXPORT, "procedures"),
    ):
        path = BENCH_DIR / f"indicators-{connection.vendor}-{n}-{stem}.parquet"
        schema = pa.schema([pa.field(name, _arrow_type(kind)) for name, kind in columns])
        with pq.ParquetWriter(path, schema, compression="snappy") as writer:
            for batch in _batches(_select(table, columns, pg), pg):
                arrays = []
                for (_name, kind), values in zip(columns, batch, strict=True):
                    if kind == "ts":
                        arrays.append(pa.array(values, pa.int64()).cast(pa.timestamp("s")))
                    elif kind == "bool":
                        arrays.append(pa.array([bool(v) for v in values], pa.bool_()))
                    else:
                        arrays.append(pa.array(values, _arrow_type(kind)))
                writer.write_batch(pa.record_batch(arrays, schema=schema))
        files.append(str(path))
        total_bytes += path.stat().st_size
    seconds = time.perf_counter() - began
    print(
        f"Parquet export: {total_bytes / 1e6:,.0f} MB in {seconds:.1f} s ({n / seconds:,.0f} "
        f"dossiers/s)",
        flush=True,
    )
    return {"files": files, "bytes": total_bytes, "seconds": seconds}


def _batches(sql: str, pg: bool, size: int = 200_000) -> Any:
    """Column lists of `size` rows at a time (a server-side cursor on PostgreSQL)."""
    from django.db import connection

    connection.ensure_connection()
    raw = connection.connection
    if pg:
        with raw.transaction(), raw.cursor(name="bench_export") as cursor:
            cursor.itersize = size
            cursor.execute(sql)
            while rows := cursor.fetchmany(size):
                yield list(zip(*rows, strict=True))
    else:
        cursor = raw.cursor()
        try:
            cursor.execute(sql)
            while rows := cursor.fetchmany(size):
                yield list(zip(*rows, strict=True))
        finally:
            cursor.close()


def _duck_measures() -> dict[str, str]:
    """The engine's measure conditions (`cchc.indicators.aggregates.DEFINITIONS`) in DuckDB
    SQL over the exported columns (`electronic`: the dossier has an electronic result)."""
    overdue_766 = "(outcome = 'overdue' OR supplement_requests > 1)"
    return {
        "received": "TRUE",
        "online": "channel = 2",
        "online_paper_return": "channel = 2 AND return_channel <> 'online'",
        "full_online": "channel = 2 AND online_level = 'full'",
        "fee_bearing": "fee_total > 0",
        "paid": "fee_total > 0 AND paid_amount > 0",
        "paid_online": "fee_total > 0 AND paid_amount > 0 AND payment_channel IN ('1', '2')",
        "digitised": "digitised",
        "reused": "reused_data",
        "finished": "TRUE",
        "early": "outcome = 'early'",
        "on_time": "outcome = 'on_time'",
        "overdue": "outcome = 'overdue'",
        "overdue_apology": "outcome = 'overdue' AND has_apology",
        "overdue_766": overdue_766,
        "returned": "state = 'returned'",
        "electronic_result": "state = 'returned' AND electronic",
        "rated": "rating <> ''",
        "dissatisfied": "rating = 'dissatisfied'",
        "with_complaint": "has_complaint",
        "unsatisfactory": f"(rating = 'dissatisfied' OR has_complaint OR {overdue_766})",
        # derived measures of the "dossiers" source (cchc.indicators.measures)
        "online_service_received": "proc_online_level <> 'none'",
        "online_counted": (
            "channel = 2 AND NOT (proc_result_type = 'paper' AND return_channel <> 'online')"
        ),
    }


def _count(condition: str, name: str) -> str:
    return f"SUM(CASE WHEN {condition} THEN 1 ELSE 0 END)::BIGINT AS {name}"


def _duck_sums(measures: tuple[str, ...]) -> str:
    known = _duck_measures()
    parts = []
    for m in measures:
        if m == "processing_seconds":
            parts.append(
                "SUM(epoch(finished_at) - epoch(received_at))::BIGINT AS processing_seconds"
            )
        elif m in known:
            parts.append(_count(known[m], m))
        else:
            raise KeyError(f"measure {m!r} of the engine has no DuckDB definition here")
    return ", ".join(parts)


def _utc_naive(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC).replace(tzinfo=None)


def _resolved_sql() -> str:
    """`cchc.indicators.resolved.q()` as a DuckDB condition on `d`: the finished cells count
    only the dossiers finished in a state counted as resolved by the version in force."""
    from cchc.indicators import resolved

    versions = resolved.definition().versions
    parts = []
    for n, version in enumerate(versions):
        states = ", ".join(f"'{s}'" for s in sorted(version.counted))
        cond = [f"d.state IN ({states})"]
        if n > 0:
            cond.append(f"d.f_day >= DATE '{version.effective_from}'")
        if n + 1 < len(versions):
            cond.append(f"d.f_day < DATE '{versions[n + 1].effective_from}'")
        parts.append("(" + " AND ".join(cond) + ")")
    return " OR ".join(parts) or "FALSE"


def _duckdb(export: dict[str, Any], scopes: dict[str, Scope], runs: int) -> dict[str, Any]:
    import duckdb

    received, finished = _measures()
    dossiers, results, procedures = export["files"]
    db = duckdb.connect()
    db.execute(f"SET threads = {os.cpu_count() or 1}")
    # Views: every query reads the Parquet files (nothing is loaded in advance). `d`: the
    # received dossiers with their local days; `df`: the finished ones with "has an electronic
    # result"; `dp`: the received ones with their procedure's online level and result type.
    db.execute(
        "CREATE VIEW d AS SELECT *, CAST(received_at + INTERVAL 7 HOUR AS DATE) AS r_day, "
        "CAST(finished_at + INTERVAL 7 HOUR AS DATE) AS f_day "
        f"FROM read_parquet('{dossiers}') WHERE received_at IS NOT NULL"
    )
    db.execute(
        "CREATE VIEW df AS SELECT d.*, e.dossier_id IS NOT NULL AS electronic FROM d "
        f"LEFT JOIN (SELECT DISTINCT dossier_id FROM read_parquet('{results}') "
        "WHERE electronic) e ON e.dossier_id = d.id WHERE d.finished_at IS NOT NULL "
        f"AND ({_resolved_sql()})"
    )
    db.execute(
        "CREATE VIEW dp AS SELECT d.*, pr.online_level AS proc_online_level, "
        f"pr.result_type AS proc_result_type FROM d JOIN read_parquet('{procedures}') pr "
        "ON pr.id = d.procedure_id"
    )
    keys = "competent_agency_id, receiving_agency_id, procedure_id, channel, online_level"
    cells_sql = {
        "r": f"SELECT r_day, {keys}, {_duck_sums(received)} FROM d GROUP BY ALL",
        "f": f"SELECT f_day, {keys}, {_duck_sums(finished)} FROM df GROUP BY ALL",
    }

    def arrow(sql: str) -> Any:  # the result materialised as an Arrow table (no Python rows)
        relation = db.sql(sql)
        fetch = getattr(relation, "to_arrow_table", None) or relation.arrow
        return fetch()

    def all_cells() -> dict[str, Any]:
        return {kind: arrow(sql) for kind, sql in cells_sql.items()}

    timings: dict[str, Any] = {}
    timings["cells"] = _timed(all_cells, runs=3, warmup=1)
    cells: dict[tuple[Any, ...], tuple[int, ...]] = {}
    for kind, table in all_cells().items():
        for row in table.to_pylist():
            values = list(row.values())
            cells[(kind, *values[:6])] = tuple(int(v or 0) for v in values[6:])
    print(
        f"DuckDB: every cell ({len(cells):,}) from Parquet p50 {timings['cells']['p50']:,.0f} ms",
        flush=True,
    )

    def values(period: Any, ids: list[int] | None, now: dt.datetime) -> dict[str, Any]:
        """The "dossiers" source of `cchc.indicators.measures.Context` for one period."""
        where = "" if ids is None else f" AND competent_agency_id IN ({', '.join(map(str, ids))})"
        r_extra = ("online_service_received", "online_counted")
        out: dict[str, Any] = {}
        for sql, names in (
            (
                f"SELECT {_duck_sums(received + r_extra)} FROM dp "
                f"WHERE r_day BETWEEN $1 AND $2{where}",
                received + r_extra,
            ),
            (
                f"SELECT {_duck_sums(finished)} FROM df WHERE f_day BETWEEN $1 AND $2{where}",
                finished,
            ),
        ):
            row = db.execute(sql, [period.start, period.end]).fetchone()
            out.update({m: int(v or 0) for m, v in zip(names, row, strict=True)})
        out["finished_on_time_766"] = out["finished"] - out["overdue_766"]
        out["processing_hours"] = Decimal(out["processing_seconds"]) / 3600
        # In progress at the report instant (received, not finished).
        end = _local_start(period.end + dt.timedelta(days=1))
        instant = min(now, end)
        still = "is_open" if instant >= now else "(is_open OR finished_at >= $1)"
        row = db.execute(
            f"SELECT COUNT(*), {_count('due >= $1 AND supplement_requests <= 1', 'on_time')} "
            f"FROM read_parquet('{dossiers}') WHERE received_at IS NOT NULL "
            f"AND received_at < $1 AND {still}{where}",
            [_utc_naive(instant)],
        ).fetchone()
        out["in_progress"], out["in_progress_on_time"] = int(row[0]), int(row[1] or 0)
        return out

    timings["figures"] = {}
    out_values: dict[str, dict[str, Any]] = {}
    for name, scope in scopes.items():
        # 766: the period; Plan 213: the period, the previous one and the year to date.
        for read, periods in (
            (f"766 {name}", (scope.period,)),
            (f"plan213 {name}", (scope.period, scope.previous, scope.ytd)),
        ):

            def compute(periods: tuple[Any, ...] = periods, scope: Scope = scope) -> Any:
                return [values(p, scope.ids, scope.now) for p in periods]

            timings["figures"][read] = _timed(compute, runs=min(runs, 10), warmup=1)
            print(
                f"DuckDB: {read:22} figures from Parquet p50 "
                f"{timings['figures'][read]['p50']:8.1f} ms",
                flush=True,
            )
        out_values[name] = values(scope.period, scope.ids, scope.now)
    db.close()
    return {"timings": timings, "cells": cells, "values": out_values}


# -- the engine's entry points (contract of cchc.indicators) --------------------------------------


class Engine:
    """Finds the engine's functions; every missing one is reported, never faked."""

    def __init__(self, world: dict[str, Any]) -> None:
        self.world = world
        self.rebuild: Callable[[], Any] | None = None
        self.verify: Callable[[], tuple[bool, str]] | None = None
        self.services: Any = None
        self.periods: Any = None

    @classmethod
    def load(cls, world: dict[str, Any]) -> Engine:
        engine = cls(world)
        from cchc.indicators import aggregates, periods

        engine.periods = periods
        engine.rebuild = getattr(aggregates, "rebuild", None)
        check = getattr(aggregates, "verify", None)
        if check is not None:

            def verify() -> tuple[bool, str]:
                report = check()
                clean = bool(getattr(report, "clean", False))
                differences = getattr(report, "differences", [])
                return clean, f"{len(differences)} differences, e.g. {differences[:1]}"

            engine.verify = verify
        try:
            from cchc.indicators import services

            engine.services = services
        except ImportError as exc:
            print(f"!!! cchc.indicators.services not available ({exc}): no engine reads")
        return engine

    def reads(self) -> dict[str, Callable[[], Any]]:
        services = self.services
        if services is None:
            return {}
        everything = services.Filters()
        agency = services.Filters(agency_id=self.world["agency"].pk)
        year, month = self.periods.parse(YEAR_CODE), self.periods.parse(MONTH_CODE)
        plan = self.world["plan"]
        out: dict[str, Callable[[], Any]] = {}
        if hasattr(services, "plan_results"):
            out["plan213 year"] = lambda: services.plan_results(plan, year, everything, now=NOW)
            out["plan213 agency-month"] = lambda: services.plan_results(
                plan, month, agency, now=NOW
            )
        if hasattr(services, "index766"):
            out["766 year"] = lambda: services.index766(year, everything, now=NOW)
            out["766 agency-month"] = lambda: services.index766(month, agency, now=NOW)
        return out

    def results(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, function in self.reads().items():
            try:
                out[name] = function()
            except Exception as exc:
                out[name] = exc
        return out

    def check(
        self, results: dict[str, Any], scopes: dict[str, Scope], duck: dict[str, dict[str, Any]]
    ) -> tuple[int, list[str]]:
        """Every numerator and denominator of a "dossiers" indicator (Plan 213 and 766),
        evaluated from its definition on DuckDB's figures, equals the engine's."""
        from cchc.indicators import definitions

        problems: list[str] = []
        compared = 0
        for name, value in results.items():
            if isinstance(value, Exception):
                problems.append(f"engine {name} failed: {value!r}")
                continue
            scope_name = "year" if name.endswith("year") else "agency-month"
            period = scopes[scope_name].period
            if name.startswith("plan213"):
                d = definitions.current("plan", self.world["plan"], on=period.end)
                specs = {i.code: i for i in d.indicators}
                items = list(value)
            else:
                d = definitions.current("index766", on=period.end)
                specs = {s.code: s for s in d.subs}
                items = [s for g in value.groups for s in g.subs]
            for item in items:
                spec = specs.get(item.code)
                if spec is None or spec.source != "dossiers":
                    continue
                for part in ("numerator", "denominator"):
                    expected = self.services.evaluate(getattr(spec, part), duck[scope_name])
                    got = getattr(item, part)
                    compared += 1
                    if (got is None) != (expected is None) or (
                        got is not None and Decimal(str(got)) != Decimal(str(expected))
                    ):
                        problems.append(
                            f"{name} {item.code} {part}: engine {got} != DuckDB {expected}"
                        )
        return compared, problems


def _flatten(value: Any) -> dict[str, Any]:
    """Plan results and the 766 index as {code: [value, numerator, denominator]}."""
    if isinstance(value, Exception):
        return {"error": repr(value)}
    items = list(value) if isinstance(value, list) else [s for g in value.groups for s in g.subs]
    out: dict[str, Any] = {}
    for item in items:
        shown = getattr(item, "value", getattr(item, "rate", None))
        out[item.code] = [_text(shown), _text(item.numerator), _text(item.denominator)]
    if not isinstance(value, list):
        out["total"] = [_text(value.total), None, None]
    return out


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


if __name__ == "__main__":
    main()
