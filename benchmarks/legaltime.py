"""Benchmark of the legal working-time engine.

Usage: ``python benchmarks/legaltime.py [--rows N] [--single N] [--seed S]``

Prints the bulk due throughput for N random (receipt instant, working-day duration) pairs on
the default calendar, the throughput of ``numpy.busday_offset`` over the same dates at day
granularity (with the holiday list and swapped working days ignored), their ratio, the peak
RSS and the median latency of a single ``due()`` call.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from datetime import date, datetime
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.benchutil import target

from cchc.legaltime import VN_TZ, bulk_due, default_calendar, due


def _best(function, repeat: int = 3) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        begin = time.perf_counter()
        function()
        times.append(time.perf_counter() - begin)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--single", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=20240207)
    args = parser.parse_args()

    calendar = default_calendar()
    rng = np.random.default_rng(args.seed)
    first = int(datetime(2024, 1, 1, tzinfo=VN_TZ).timestamp())
    last = int(datetime(2026, 9, 30, tzinfo=VN_TZ).timestamp())
    received = rng.integers(first, last, size=args.rows, dtype=np.int64)
    amounts = rng.integers(0, 31, size=args.rows).astype(np.float64)

    _ = calendar.table().arrays  # build the cached table outside the timing
    bulk_seconds = _best(lambda: bulk_due(calendar, received, amounts, "wd"))
    bulk_rate = args.rows / bulk_seconds

    holidays = np.array(
        [
            np.datetime64(day.date.isoformat())
            for day in calendar.table().infos
            if not day.working and day.date.weekday() < 5
        ],
        dtype="datetime64[D]",
    )
    days = ((received + 7 * 3600) // 86400).astype("datetime64[D]")
    whole = amounts.astype(np.int64)
    busday_seconds = _best(lambda: np.busday_offset(days, whole, roll="forward", holidays=holidays))
    busday_rate = args.rows / busday_seconds

    samples = []
    rows = [
        (datetime.fromtimestamp(int(s), VN_TZ), f"{int(a)}wd")
        for s, a in zip(received[: args.single], amounts[: args.single], strict=True)
    ]
    for moment, duration in rows:
        begin = time.perf_counter_ns()
        due(calendar, moment, duration)
        samples.append(time.perf_counter_ns() - begin)
    median_us = statistics.median(samples) / 1000

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"rows: {args.rows:,} (receipts {date(2024, 1, 1)} .. {date(2026, 9, 30)}, 0-30 wd)")
    print(f"bulk_due: {bulk_seconds * 1000:.1f} ms = {bulk_rate:,.0f} rows/s")
    print(f"numpy.busday_offset: {busday_seconds * 1000:.1f} ms = {busday_rate:,.0f} rows/s")
    print(f"ratio bulk_due / busday_offset: {bulk_rate / busday_rate:.3f} (target >= 0.2)")
    print(f"peak RSS: {peak_mb:,.0f} MB (target < 1024 MB)")
    print(f"single due() median over {len(samples):,} calls: {median_us:.1f} µs (target < 50 µs)")
    rows = f"{args.rows:,} rows"
    target("legaltime", f"bulk_due / numpy.busday_offset, {rows}", bulk_rate / busday_rate, "×",
           0.2, ">=")  # fmt: skip
    target("legaltime", f"peak RSS, {rows}", peak_mb, "MB", 1024, "<")
    target("legaltime", "single due() median", median_us, "µs", 50, "<")


if __name__ == "__main__":
    main()
