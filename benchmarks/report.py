"""Benchmark of the periodic reform report for a province-year (issue 22, item 5): what the
user waits for at N dossiers, next to the same report on an empty database in the same run.

Usage: ``python benchmarks/report.py [--n N] [--runs R] [--backends sqlite,postgres]
[--pg URL] [--formats pdf,xlsx,docx] [--issuer CODE] [--agency CODE] [--drop]``

The databases are those of benchmarks/pages.py — EMPTY (the demo set of `cchc demo`) and
the same plus a province-year of N generated dossiers (`cchc demo --dossiers N --year 2024`),
SQLite ``var/bench/pages-<N>.sqlite3``, PostgreSQL ``cchc_bench_pages_<N>`` on ``--pg``.
They are reused when present (so the two benchmarks share the 1 M database: about 15 min of
one core to generate), else made by running pages.py itself (``--keep --reuse --no-load``,
measuring no page), and kept afterwards unless ``--drop``. A PostgreSQL leg whose server
does not answer is skipped loudly (and recorded as "did not run").

For the province (the People's Committee of unit ``--issuer``, default 24, as it was at
the end of 2024) and one agency (``--agency``, default the agency of that unit with the
most dossiers in 2024) the report for the year 2024 is made, as the provincial supervisor
(giamsat), with an empty cache (as after any dossier event changed the cells):

- "web <format>": what the page /chi-so/bao-cao/ makes the user wait for, through Django's
  test Client (middleware, sessions, permissions, templates): the POST of the form (the job
  runs at once, in the request: CCHC_JOBS_SYNC, as the worker would run it), the request's
  page, and the download of the file. (In production the request's page reloads itself
  every 3 s while the worker works: add up to 3 s.)
- "cli docx+pdf+xlsx": ``services.generate`` with every format — what ``cchc report`` runs.

Each is run ``--runs`` times (default 3); the median is compared with the target (< 10 s,
the issue's figure) and recorded with ``benchutil.target``; the worst run is printed. The
exit status never depends on timings. Each database is measured in its own process
(settings read DATABASE_URL once). The reports and their audit entries are written to the
measured database (as on the page); the files go to ``var/bench/report-files/``.
"""

from __future__ import annotations

import sys
from pathlib import Path

# benchmarks/queue.py is named like the standard library's `queue`: drop this folder from
# the path before anything imports `queue` (concurrent.futures, asgiref, Django).
HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
ROOT = HERE.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402

from benchmarks import benchutil  # noqa: E402
from benchmarks.benchutil import load_average, pg_admin, pg_drop, target  # noqa: E402

PG_DEFAULT = "postgres://postgres@127.0.0.1:5432"
BENCH_DIR = ROOT / "var" / "bench"
PERIOD = "2024"
TARGET_S = 10.0
FORMATS = ("pdf", "xlsx", "docx")
CLI = "cli docx+pdf+xlsx"
INCOMPLETE = 3  # exit status of a child whose database is not (yet) a whole province-year


def _sqlite_path(n: int) -> Path:
    return BENCH_DIR / f"pages-{n}.sqlite3"


def _pg_name(n: int) -> str:
    return f"cchc_bench_pages_{n}"


# -- parent ------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="dossiers of the province-year")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per report")
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--pg", default=os.environ.get("BENCH_PG_URL", PG_DEFAULT))
    parser.add_argument("--formats", default=",".join(FORMATS), help="web formats to time")
    parser.add_argument("--issuer", default="24", help="unit code of the province")
    parser.add_argument("--agency", default="", help="agency code (default: the busiest)")
    parser.add_argument("--drop", action="store_true", help="drop the databases afterwards")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    if any(f not in FORMATS for f in formats):
        parser.error(f"--formats: choose among {', '.join(FORMATS)}")
    if args.n < 1 or args.runs < 1:
        parser.error("--n and --runs must be positive")
    if args.child:
        child(args, formats)
        return
    benchutil.run_id()  # one run id for this process and its children
    began = time.perf_counter()
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    for backend in backends:
        if backend not in ("sqlite", "postgres"):
            parser.error(f"unknown backend {backend}")
    for backend in backends:
        results: dict[int, dict[str, Any]] = {}
        why = _ensure(backend, args)
        agency = args.agency  # the N database chooses it, the empty one gets the same
        for size in (args.n, 0) if not why else ():
            env = dict(os.environ, DEBUG="true", CCHC_JOBS_SYNC="true")
            env["DATABASE_URL"] = (
                f"sqlite:///{_sqlite_path(size)}"
                if backend == "sqlite"
                else f"{args.pg}/{_pg_name(size)}"
            )
            out = BENCH_DIR / f"report-{backend}-{size}.json"
            out.unlink(missing_ok=True)
            command = [sys.executable, __file__, "--child", str(out), "--size", str(size),
                       "--runs", str(args.runs), "--formats", ",".join(formats),
                       "--issuer", args.issuer, "--agency", agency]  # fmt: skip
            try:
                subprocess.run(command, env=env, check=True)
                results[size] = json.loads(out.read_text())
                agency = results[size]["codes"]["agency"]
            except subprocess.CalledProcessError as exc:
                why = (
                    f"did not run: the database of {size:,} is incomplete"
                    if exc.returncode == INCOMPLETE
                    else f"did not run: the {backend} leg at {size:,} exited {exc.returncode}"
                )
                print(f"\n!!! {why}")
                break
            except (OSError, ValueError) as exc:
                why = f"did not run: no result from the {backend} leg at {size:,} ({exc})"
                print(f"\n!!! {why}")
                break
        if len(results) == 2:
            _table(backend, results[0], results[args.n], args.n)
            _record(backend, results[args.n], args.n)
        else:
            _record_missing(backend, args, formats, why or "did not run")
        if args.drop:
            _drop(backend, args)
    print(f"\ntotal {time.perf_counter() - began:.0f} s")


def _exists(backend: str, size: int, args: argparse.Namespace) -> bool:
    if backend == "sqlite":
        return _sqlite_path(size).exists()
    with pg_admin(args.pg) as conn:
        return bool(
            conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (_pg_name(size),)
            ).fetchone()
        )


def _ensure(backend: str, args: argparse.Namespace) -> str:
    """Make the empty and the N database with benchmarks/pages.py unless both exist; the
    reason they are not usable, or ""."""
    try:
        present = all(_exists(backend, size, args) for size in (0, args.n))
    except Exception as exc:
        why = f"did not run (no PostgreSQL server at {args.pg}: {type(exc).__name__})"
        print(f"\n!!! SKIPPED: the {backend} leg {why}.")
        return why
    if present:
        print(f"\n{backend}: reusing the databases of benchmarks/pages.py (0 and {args.n:,})")
        return ""
    print(f"\n{backend}: generating the databases with benchmarks/pages.py (0 and {args.n:,})")
    command = [sys.executable, str(HERE / "pages.py"), "--n", str(args.n), "--backends",
               backend, "--pg", args.pg, "--keep", "--reuse", "--no-load", "--runs", "1",
               "--only", "(no page: generate only)"]  # fmt: skip
    done = subprocess.run(command, check=False)
    if done.returncode != 0 or not all(_exists(backend, s, args) for s in (0, args.n)):
        why = f"did not run (generating the {backend} databases failed)"
        print(f"\n!!! {why}")
        return why
    return ""


def _drop(backend: str, args: argparse.Namespace) -> None:
    for size in (0, args.n):
        if backend == "postgres":
            try:
                pg_drop(args.pg, _pg_name(size))
            except Exception as exc:
                print(f"could not drop {_pg_name(size)}: {exc}")
        else:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{_sqlite_path(size)}{suffix}").unlink(missing_ok=True)


def _table(backend: str, empty: dict[str, Any], loaded: dict[str, Any], n: int) -> None:
    print(
        f"\n=== {backend}: periodic report {PERIOD}, empty database vs {n:,} dossiers "
        f"({loaded['dossiers']:,} in the database; load average empty {empty['load']}, "
        f"at N {loaded['load']}) ==="
    )
    head = (
        f"{'issuer':44} {'what':18} {'empty s':>8} {'N med s':>8} {'N max s':>8} "
        f"{'N CPU s':>8} {'ratio':>6} {'queries':>8}  target"
    )
    print(head)
    print("-" * len(head))
    for key, value in loaded["timings"].items():
        scope, what = key.split("|")
        base = empty["timings"].get(key)
        ratio = f"{value['median'] / base['median']:5.1f}x" if base and base["median"] else "     -"
        verdict = "PASS" if value["ok"] and value["median"] < TARGET_S else "FAIL"
        if not value["ok"]:
            verdict += f" ({value['error']})"
        label = loaded["scopes"][scope]
        print(
            f"{label[:44]:44} {what:18} "
            f"{(base or {}).get('median', float('nan')):8.2f} {value['median']:8.2f} "
            f"{value['max']:8.2f} {value.get('cpu', float('nan')):8.2f} {ratio} "
            f"{value.get('queries', 0):8d}  "
            f"< {TARGET_S:.0f} s {verdict}"
        )


def _record(backend: str, loaded: dict[str, Any], n: int) -> None:
    for key, value in loaded["timings"].items():
        scope, what = key.split("|")
        target(
            "report",
            f"{backend} {n:,}: {scope} {PERIOD} {what} (median)",
            value["median"] if value["ok"] else None,
            "s",
            TARGET_S,
            "<",
            note=f"max {value['max']:.1f} s, CPU {value['cpu']:.1f} s"
            if value["ok"]
            else f"failed: {value['error']}",
        )


def _record_missing(backend: str, args: argparse.Namespace, formats: list[str], why: str) -> None:
    what = ", ".join([f"web {f}" for f in formats] + [CLI])
    target(
        "report",
        f"{backend} {args.n:,}: province and agency {PERIOD} ({what})",
        None,
        "s",
        TARGET_S,
        "<",
        note=why,
    )


# -- child: one database -----------------------------------------------------------------------


def child(args: argparse.Namespace, formats: list[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cchc.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from cchc.dossiers.models import Dossier

    call_command("migrate", verbosity=0)
    settings.DEBUG = False  # no query log (DEBUG=true only to pass the settings checks)
    settings.ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
    settings.MEDIA_ROOT = BENCH_DIR / "report-files"
    dossiers = Dossier.objects.count()
    generated = Dossier.objects.filter(code__isnull=False).count()
    if generated < args.size:  # pages.py's own test of a finished database
        print(
            f"the database of {args.size:,} holds only {generated:,} dossiers: still being "
            "generated, or its generation was stopped (delete it to make it again)",
            file=sys.stderr,
        )
        sys.exit(INCOMPLETE)
    print(
        f"\n=== {connection.vendor}: periodic report {PERIOD} on {dossiers:,} dossiers "
        f"(database of {args.size:,}) ===",
        flush=True,
    )
    scopes = _scopes(args)
    load = load_average()
    timings: dict[str, Any] = {}
    for scope, (code, label) in scopes.items():
        for fmt in formats:
            timings[f"{scope}|web {fmt}"] = _measure(lambda c=code, f=fmt: _web(c, f), args.runs)
            _show(label, f"web {fmt}", timings[f"{scope}|web {fmt}"])
        timings[f"{scope}|{CLI}"] = _measure(lambda c=code: _cli(c), args.runs)
        _show(label, CLI, timings[f"{scope}|{CLI}"])
    result = {
        "size": args.size,
        "dossiers": dossiers,
        "vendor": connection.vendor,
        "load": f"{load} → {load_average()}",
        "scopes": {k: f"{label} ({code})" for k, (code, label) in scopes.items()},
        "codes": {k: code for k, (code, _) in scopes.items()},
        "timings": timings,
    }
    Path(args.child).write_text(json.dumps(result, indent=1))


def _scopes(args: argparse.Namespace) -> dict[str, tuple[str, str]]:
    """The province (unit `--issuer`) and the agency (`--agency`, else the agency of that
    unit with the most dossiers received in the period), each as (code, name)."""
    from django.db.models import Count

    from cchc.dossiers.models import Dossier
    from cchc.indicators import periods
    from cchc.org.models import Agency
    from cchc.reports import issuer

    period = periods.parse(PERIOD)
    province = issuer.resolve(args.issuer, period)
    code = args.agency
    if not code:
        busiest = (
            Dossier.objects.filter(
                competent_agency__unit=province.unit,
                received_at__date__gte=period.start,
                received_at__date__lte=period.end,
            )
            .values("competent_agency")
            .annotate(n=Count("pk"))
            .order_by("-n")
            .first()
        )
        agencies = Agency.objects.filter(unit=province.unit).exclude(name__istartswith="ubnd")
        if busiest:
            agencies = agencies.filter(pk=busiest["competent_agency"])
        found = agencies.order_by("code").values_list("code", flat=True).first()
        code = found or args.issuer
    agency = issuer.resolve(code, period)
    return {
        "province": (args.issuer, province.issuer.display_name),
        "agency": (code, agency.issuer.display_name),
    }


def _measure(function: Any, runs: int) -> dict[str, Any]:
    """`runs` timed calls of `function` (-> SQL queries), each with an empty cache."""
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    samples: list[float] = []
    cpu: list[float] = []
    queries = 0
    for _ in range(runs):
        cache.clear()
        began, began_cpu = time.perf_counter(), time.process_time()
        try:
            with CaptureQueriesContext(connection) as captured:
                function()
        except Exception as exc:  # recorded as a failed target, the run goes on
            return {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:200], "median": 0.0,
                    "max": 0.0, "samples": samples}  # fmt: skip
        samples.append(time.perf_counter() - began)
        cpu.append(time.process_time() - began_cpu)
        queries = len(captured.captured_queries)
    return {
        "ok": True,
        "error": "",
        "median": statistics.median(samples),
        "max": max(samples),
        "cpu": statistics.median(cpu),
        "samples": samples,
        "queries": queries,
    }


def _show(label: str, what: str, value: dict[str, Any]) -> None:
    if value["ok"]:
        print(
            f"  {label[:44]:44} {what:18} median {value['median']:7.2f} s  max "
            f"{value['max']:7.2f} s  CPU {value['cpu']:6.2f} s  {value['queries']:6d} queries",
            flush=True,
        )
    else:
        print(f"  {label[:44]:44} {what:18} FAILED: {value['error']}", flush=True)


def _supervisor() -> Any:
    from cchc.accounts.models import User

    return User.objects.get(username="giamsat")


def _web(code: str, fmt: str) -> None:
    """The page's round trip: POST the form (the job runs in it), the request's page, the
    download. Raises unless each step answers as it should."""
    from django.test import Client

    client = Client()
    client.force_login(_supervisor())
    form = {"period": PERIOD, "issuer": code, "format": fmt, "number": "", "date": "2025-01-15"}
    posted = client.post("/chi-so/bao-cao/", form)
    if posted.status_code != 303:
        raise RuntimeError(f"POST /chi-so/bao-cao/ answered {posted.status_code}")
    page = client.get(posted["Location"])
    if page.status_code != 200:
        raise RuntimeError(f"GET {posted['Location']} answered {page.status_code}")
    download = client.get(f"{posted['Location']}tai-ve/")
    if download.status_code != 200:
        raise RuntimeError(f"download answered {download.status_code} (report not made?)")
    size = sum(len(chunk) for chunk in download.streaming_content)  # type: ignore[attr-defined]
    if size < 1000:
        raise RuntimeError(f"the {fmt} file has only {size} bytes")


def _cli(code: str) -> None:
    """What `cchc report --period 2024 --issuer CODE` computes and renders."""
    from cchc.reports import services

    outputs = services.generate(
        _supervisor(), period=PERIOD, issuer=code, formats=("docx", "pdf", "xlsx")
    )
    if len(outputs) != 3 or min(len(o.content) for o in outputs) < 1000:
        raise RuntimeError("the report's files are missing or empty")


if __name__ == "__main__":
    main()
