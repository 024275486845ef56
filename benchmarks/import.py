"""Benchmark of `cchc import dossiers` on a large export, next to a plain bulk insert.

Usage: ``python benchmarks/import.py [--rows N] [--backends sqlite,postgres] [--pg URL]``

1. Writes (once, reused while N and the seed are the same) an export of N rows in the
   canonical layout — ``var/bench/import-<N>.csv``, a province-year over the demo
   organisation's 2024 desks and the demo catalogue, with a title block above the header
   like real exports, mixed date formats and thousands separators.
2. For each backend, in its own process (settings read DATABASE_URL once), on a fresh
   database (SQLite ``var/bench/import.sqlite3``; PostgreSQL database ``cchc_bench_import``
   on ``--pg``, created and dropped here, the leg skipped loudly when no server answers)
   with the demo organisation and catalogue loaded:
   - the baseline: the same rows, unvalidated, into a table of text columns with a plain
     ``executemany`` in one transaction (SQLite) or ``COPY`` (PostgreSQL);
   - the import with full validation, events, projections and indicator cells;
   - the re-import of the same file (every row unchanged: a no-op);
   - the import of the same export with one row in ten changed (``import_update`` each);
   - a check of a sample: `dossiers verify` on 2 000 imported dossiers and the indicator
     cells against a full recomputation.
   It prints rows/s of each next to the baseline's, the ratio, rows per CPU-second of the
   process (comparable on a busy machine; on SQLite the database works in the process
   too), and the process's peak memory. The targets of issue 22 (import >= 20 000 rows/s
   and >= 0.1× the plain insert, < 1 GB peak; re-import >= 100 000 rows/s; the changed
   file >= 10 000 rows/s) are printed as PASS/FAIL per backend; the exit status never
   depends on timings.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
ROOT = HERE.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

import argparse  # noqa: E402
import csv  # noqa: E402
import datetime as dt  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402

from benchmarks.benchutil import pg_create, pg_drop, target  # noqa: E402

VN = dt.timezone(dt.timedelta(hours=7))
NOW = dt.datetime(2025, 3, 1, 9, 0, tzinfo=VN)
YEAR = 2024
PG_DEFAULT = "postgres://postgres@127.0.0.1:5432"
BENCH_DB = "cchc_bench_import"
TARGET_ROWS_S = 20_000
TARGET_PEAK_MB = 1024
TARGET_REIMPORT_S = 100_000
TARGET_CHANGED_S = 10_000
VAR = ROOT / "var" / "bench"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--pg", default=PG_DEFAULT)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(Path(args.child))))
        return

    VAR.mkdir(parents=True, exist_ok=True)
    export = VAR / f"import-{args.rows}-{args.seed}.csv"
    if not export.exists():
        # Django only for the layout's names (no database is opened here).
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cchc.settings")
        os.environ.setdefault("DATABASE_URL", f"sqlite:///{VAR / 'unused.sqlite3'}")
        import django

        django.setup()
        began = time.perf_counter()
        write_export(export, args.rows, args.seed)
        print(f"export written: {export} ({export.stat().st_size / 1e6:.0f} MB) in "
              f"{time.perf_counter() - began:.0f} s")  # fmt: skip
    print(f"dossier import benchmark: {args.rows:,} rows")
    for backend in [b.strip() for b in args.backends.split(",") if b.strip()]:
        env = dict(os.environ, DEBUG="true")
        if backend == "sqlite":
            db = VAR / "import.sqlite3"
            for suffix in ("", "-wal", "-shm"):
                Path(f"{db}{suffix}").unlink(missing_ok=True)
            env["DATABASE_URL"] = f"sqlite:///{db}"
        elif backend in ("postgres", "postgresql"):
            if not pg_create(args.pg, BENCH_DB):
                print("!!! SKIPPED: the PostgreSQL leg did not run (no server answered).")
                target("import", f"{backend} {args.rows:,}: import with validation", None,
                       "rows/s", TARGET_ROWS_S, ">=",
                       note="did not run (no PostgreSQL server)")  # fmt: skip
                continue
            env["DATABASE_URL"] = f"{args.pg}/{BENCH_DB}"
        else:
            raise SystemExit(f"unknown backend {backend}")
        try:
            out = subprocess.run(
                [sys.executable, __file__, "--child", str(export)],
                env=env, check=True, capture_output=True, text=True,
            )  # fmt: skip
        except subprocess.CalledProcessError as exc:
            print(exc.stdout, exc.stderr)
            raise
        finally:
            if backend != "sqlite":
                pg_drop(args.pg, BENCH_DB)
        report(backend, json.loads(out.stdout.strip().splitlines()[-1]), args.rows)


def report(backend: str, r: dict[str, Any], rows: int) -> None:
    base = r["baseline_rows_s"]
    print(f"\n== {backend} ==")
    print(f"  plain {r['baseline_how']} of the same rows (no validation): {base:12,.0f} rows/s "
          f"({r['baseline_cpu_rows_s']:,.0f} per CPU-second)")  # fmt: skip
    floor = r["floor_rows_s"]
    print(
        f"  the rows it wrote, copied by the database into the same indexes: {floor:12,.0f} rows/s"
    )
    for key, title in (
        ("import", "import with validation"),
        ("reimport", "re-import (no-op)"),
        ("changed", "import, one row in ten changed"),
    ):
        rate = r[f"{key}_rows_s"]
        print(
            f"  {title:<38}: {rate:12,.0f} rows/s  ({rate / base:.2f}× the plain insert, "
            f"{rate / floor:.2f}× the indexed copy; {r[key + '_cpu_rows_s']:,.0f} rows per "
            "CPU-second of this process)"
        )
    print(f"  imported {r['created']:,}, rejected {r['rejected']:,}; re-import unchanged "
          f"{r['unchanged']:,}; changed file: {r['updated']:,} of {r['changed_rows']:,} "
          f"changed rows updated ({r['updated_rows_s']:,.0f} changed rows/s)")  # fmt: skip
    print(f"  sample check: {r['verify']}")
    print(f"  peak memory of the process: {r['peak_mb']:.0f} MB")
    targets = (
        (f"import >= {TARGET_ROWS_S:,} rows/s", r["import_rows_s"] >= TARGET_ROWS_S),
        ("import >= 0.1x the plain insert", r["import_rows_s"] >= 0.1 * base),
        (f"peak memory < {TARGET_PEAK_MB} MB", r["peak_mb"] < TARGET_PEAK_MB),
        (f"re-import >= {TARGET_REIMPORT_S:,} rows/s", r["reimport_rows_s"] >= TARGET_REIMPORT_S),
        (f"changed rows >= {TARGET_CHANGED_S:,} rows/s", r["changed_rows_s"] >= TARGET_CHANGED_S),
    )
    for title, ok in targets:
        print(f"  target {title}: {'PASS' if ok else 'FAIL'}")
    name = f"{backend} {rows:,}"
    target("import", f"{name}: import with validation", r["import_rows_s"], "rows/s",
           TARGET_ROWS_S, ">=")  # fmt: skip
    target("import", f"{name}: import / plain insert", r["import_rows_s"] / base, "×", 0.1, ">=")
    target("import", f"{name}: peak memory", r["peak_mb"], "MB", TARGET_PEAK_MB, "<")
    target("import", f"{name}: re-import (unchanged rows)", r["reimport_rows_s"], "rows/s",
           TARGET_REIMPORT_S, ">=")  # fmt: skip
    target("import", f"{name}: changed rows", r["changed_rows_s"], "rows/s",
           TARGET_CHANGED_S, ">=")  # fmt: skip


# -- the export ---------------------------------------------------------------------------------


def _combinations() -> list[tuple[str, str, str, str, int]]:
    """(desk name, competent agency name, procedure code, level word, fee) that validate,
    read from the demo organisation and catalogue files (no database needed)."""
    from cchc.demo.loader import DATA_DIR

    org = json.loads((DATA_DIR / "org.json").read_text(encoding="utf-8"))
    types = {t["code"]: t for t in org["agency_types"]}
    agencies = {a["code"]: a for a in org["agencies"]}
    type_names = {t["name"]: code for code, t in types.items()}
    words = {"province": "Tỉnh", "district": "Huyện", "commune": "Xã"}
    procedures: dict[str, list[tuple[str, int]]] = {}
    with (DATA_DIR / "procedures.csv").open(encoding="utf-8-sig") as f:
        for row in csv.DictReader(f):
            digits = "".join(ch for ch in row["Phí lệ phí"].split(";")[0] if ch.isdigit())
            kind = type_names.get(row["Cơ quan thực hiện"]) or next(
                (c for c, t in types.items() if t["name"] == row["Cơ quan thực hiện"]), None
            )
            if kind is None:  # catalogue names the agency itself
                named = row["Cơ quan thực hiện"]
                kind = next((a["type"] for a in org["agencies"] if a["short_name"] == named), None)
            if kind:
                procedures.setdefault(kind, []).append((row["Mã TTHC"], int(digits or 0)))
    out = []
    for desk in org["desks"]:
        if not (
            desk["valid_from"] <= f"{YEAR}-01-01" and (desk["valid_to"] or "9999") > f"{YEAR}-12-31"
        ):
            continue
        for code in desk["receives_for"]:
            agency = agencies[code]
            level = words[types[agency["type"]]["level"]]
            for proc, fee in procedures.get(agency["type"], []):
                out.append((desk["name"], agency["name"], proc, level, fee))
    return out


STATES = (("Đã trả kết quả", 0.80), ("Đã có kết quả", 0.04), ("Đang xử lý", 0.10),
          ("Chờ bổ sung", 0.03), ("Từ chối", 0.02), ("Rút hồ sơ", 0.01))  # fmt: skip


def write_export(path: Path, rows: int, seed: int) -> None:
    from cchc.interop.dossiers import HEADERS

    rng = random.Random(seed)
    combos = _combinations()
    weights = [1 / (i + 1) for i in range(len(combos))]
    rng.shuffle(combos)
    states = [s for s, _ in STATES]
    state_weights = [w for _, w in STATES]
    picks = rng.choices(range(len(combos)), weights=weights, k=rows)
    start = dt.datetime(YEAR, 1, 2, tzinfo=VN)
    assert HEADERS[13:16] == ("Thanh toán trực tuyến", "Đã thanh toán", "Lệ phí"), HEADERS
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(["UBND TỈNH BẮC GIANG"])
        w.writerow([f"DANH SÁCH HỒ SƠ THỦ TỤC HÀNH CHÍNH NĂM {YEAR}"])
        w.writerow([])
        w.writerow(HEADERS)
        for i, pick in enumerate(picks):
            desk, agency, proc, level, fee = combos[pick]
            received = start + dt.timedelta(minutes=rng.randrange(0, 360 * 24 * 60))
            received = received.replace(hour=rng.randrange(7, 17))
            due = received + dt.timedelta(days=rng.choice((1, 3, 5, 7, 10, 15)))
            state = rng.choices(states, state_weights)[0]
            finished = returned = ""
            if state not in ("Đang xử lý", "Chờ bổ sung"):
                done = received + (due - received) * rng.uniform(0.2, 1.15)
                finished = done.strftime("%d/%m/%Y %H:%M")
                if state == "Đã trả kết quả":
                    returned = (done + dt.timedelta(hours=rng.randrange(1, 48))).strftime(
                        "%d/%m/%Y %H:%M"
                    )
            online = rng.random() < 0.6
            w.writerow(
                (
                    f"BG{YEAR}-{i:08d}",
                    proc,
                    "",
                    desk,
                    agency,
                    level,
                    "Trực tuyến" if online else "Trực tiếp",
                    received.strftime("%d/%m/%Y %H:%M" if i % 5 else "%Y-%m-%d %H:%M:%S"),
                    due.strftime("%d/%m/%Y"),
                    finished,
                    returned,
                    state,
                    "1" if state == "Chờ bổ sung" else "0",
                    "Có" if fee and online and rng.random() < 0.7 else "Không",
                    "",  # Đã thanh toán: not said (a returned dossier's fee counts as paid)
                    f"{fee:,}".replace(",", ".") if fee else "0",
                    "Có" if rng.random() < 0.8 else "Không",
                    "Có" if online and state == "Đã trả kết quả" else "Không",
                    rng.choice(("", "", "Hài lòng", "Hài lòng", "Bình thường", "Không hài lòng")),
                    "",
                    f"Người nộp {i % 9973}",
                    "",
                    "",
                    "",
                    "",
                )[: len(HEADERS)]
            )  # fmt: skip
        w.writerow([])
    tmp.replace(path)


def write_changed(export: Path, target: Path) -> int:
    """`export` with "Số lần bổ sung" raised on every tenth data row; returns how many."""
    changed = 0
    with (
        export.open(encoding="utf-8-sig", newline="") as f,
        target.open("w", encoding="utf-8-sig", newline="") as g,
    ):
        reader, writer = csv.reader(f), csv.writer(g)
        at = None
        for i, row in enumerate(reader):
            if at is None and row and row[0] == "Mã hồ sơ":
                at = row.index("Số lần bổ sung")
                start = i
            elif at is not None and len(row) > at and (i - start) % 10 == 0:
                row[at] = str(int(row[at] or 0) + 1)
                changed += 1
            writer.writerow(row)
    return changed


# -- child: one backend --------------------------------------------------------------------------


def child(export: Path) -> dict[str, Any]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cchc.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from cchc.accounts.policy import SYSTEM
    from cchc.catalog.importers import ProcedureImporter
    from cchc.demo.loader import DATA_DIR
    from cchc.dossiers import verify
    from cchc.dossiers.models import Dossier
    from cchc.indicators import aggregates
    from cchc.interop.dossiers import DossierImporter
    from cchc.org.structure import load_structure

    call_command("migrate", verbosity=0)
    load_structure(SYSTEM, DATA_DIR / "org.json", now=NOW, demo=True)
    ProcedureImporter().run(str(DATA_DIR / "procedures.csv"), actor=SYSTEM, now=NOW)
    out: dict[str, Any] = {}

    importer = DossierImporter()
    began, cpu = time.perf_counter(), time.process_time()
    first = importer.run(str(export), actor=SYSTEM, now=NOW, source_name="Hệ thống cũ")
    seconds = time.perf_counter() - began
    n = first.created + first.updated + first.unchanged + len(first.rejected)
    out["import_rows_s"] = n / seconds
    out["import_cpu_rows_s"] = n / (time.process_time() - cpu)
    out["created"], out["rejected"] = first.created, len(first.rejected)
    began, cpu = time.perf_counter(), time.process_time()
    again = importer.run(str(export), actor=SYSTEM, now=NOW, source_name="Hệ thống cũ")
    out["reimport_rows_s"] = n / (time.perf_counter() - began)
    out["reimport_cpu_rows_s"] = n / (time.process_time() - cpu)
    out["unchanged"] = again.unchanged
    # A later export with one row in ten changed (a supplement recorded since): those get
    # an ``import_update`` each, the others are unchanged.
    changed_export = export.with_name(export.stem + "-changed.csv")
    out["changed_rows"] = write_changed(export, changed_export)
    began, cpu = time.perf_counter(), time.process_time()
    third = importer.run(str(changed_export), actor=SYSTEM, now=NOW, source_name="Hệ thống cũ")
    seconds = time.perf_counter() - began
    out["changed_rows_s"] = n / seconds
    out["changed_cpu_rows_s"] = n / (time.process_time() - cpu)
    out["updated_rows_s"] = third.updated / seconds
    out["updated"] = third.updated
    changed_export.unlink(missing_ok=True)
    # Peak memory of the imports (everything above); the baselines below stream too.
    out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out), file=sys.stderr, flush=True)  # kept if a baseline fails

    # Baseline 1: the export's rows, as text, in one plain bulk insert (no validation, no
    # index): what reading and writing the file costs at the least.
    def records() -> Any:
        with export.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.reader(f)
            for row in reader:
                if row and row[0] == "Mã hồ sơ":
                    break
            for row in reader:
                if any(row):
                    yield row

    width = len(next(records()))
    cols = ", ".join(f"c{i} TEXT" for i in range(width))
    began, cpu = time.perf_counter(), time.process_time()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE bench_raw ({cols})")
        if connection.vendor == "postgresql":
            raw = connection.connection
            with raw.cursor() as c, c.copy("COPY bench_raw FROM STDIN") as copy:
                for r in records():
                    copy.write_row(r)
            out["baseline_how"] = "COPY"
        else:
            marks = ", ".join("?" for _ in range(width))
            connection.connection.executemany(f"INSERT INTO bench_raw VALUES ({marks})", records())
            out["baseline_how"] = "executemany"
    out["baseline_rows_s"] = n / (time.perf_counter() - began)
    out["baseline_cpu_rows_s"] = n / (time.process_time() - cpu)

    # Baseline 2: the rows the import wrote (dossiers, events, results), copied by the
    # database itself into empty tables with the same indexes: the cost of the schema's
    # index maintenance alone, without any Python.
    tables = ("dossiers_dossier", "dossiers_dossierevent", "dossiers_dossierresult")
    with connection.cursor() as cursor:
        for table in tables:
            if connection.vendor == "postgresql":
                cursor.execute(f"CREATE TABLE bench_{table} (LIKE {table} INCLUDING INDEXES)")
            else:
                cursor.execute(f"CREATE TABLE bench_{table} AS SELECT * FROM {table} WHERE 0")
                cursor.execute(
                    "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s "
                    "AND sql IS NOT NULL",
                    [table],
                )
                for (sql,) in cursor.fetchall():
                    # Names quoted or not, as the index was created.
                    sql = re.sub(rf'\bON\s+"?{table}"?', f'ON "bench_{table}"', sql, count=1)
                    sql = re.sub(
                        r'INDEX\s+(IF NOT EXISTS\s+)?"?(\w+)"?', r'INDEX "bench_\2"', sql, count=1
                    )
                    cursor.execute(sql)
                cursor.execute(f"CREATE UNIQUE INDEX bench_{table}_pk ON bench_{table} (id)")
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size = -262144")  # as the import has it
    began = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"INSERT INTO bench_{table} SELECT * FROM {table}")
    out["floor_rows_s"] = n / (time.perf_counter() - began)

    ids = list(Dossier.objects.order_by("?").values_list("pk", flat=True)[:2000])
    mismatches = verify.verify(queryset=Dossier.objects.filter(pk__in=ids)).mismatches
    cells = aggregates.verify()
    out["verify"] = (
        f"{len(ids)} dossiers replayed, {len(mismatches)} mismatches; indicator cells "
        f"{'equal to' if cells.clean else 'DIFFERENT from'} a full recomputation"
    )
    return out


if __name__ == "__main__":
    main()
