"""Instants of the generator: epoch seconds (UTC) in numpy arrays, moved by working time with
the vectorised legal-time path, and written as the text the database stores."""

from __future__ import annotations

import datetime as dt

import numpy as np
import numpy.typing as npt

from cchc import legaltime
from cchc.legaltime import NO_INSTANT, bulk_due

I64 = npt.NDArray[np.int64]
HOUR = 3600
DAY = 86400
VN_OFFSET = 7 * HOUR
EPOCH = dt.datetime(1970, 1, 1)
EPOCH_DAY = dt.date(1970, 1, 1)


def shift(cal: legaltime.Calendar, instants: I64, seconds: npt.ArrayLike) -> I64:
    """Instants moved later by working seconds (as `legaltime.due` with a working-hours
    duration: a start after the cut-off counts from the next working day)."""
    work = np.asarray(seconds, dtype=np.int64)
    out = instants.copy()
    rows = np.flatnonzero(work > 0)
    if rows.size:
        out[rows] = bulk_due(cal, instants[rows], work[rows] / 3600.0, "wh")
    return out


def epoch(moment: dt.datetime) -> int:
    return int(moment.timestamp())


def stamps(values: I64, postgres: bool) -> list[str | None]:
    """Epoch seconds to the text the backend stores for an aware datetime (UTC)."""
    missing = values == NO_INSTANT
    text = np.datetime_as_string(np.where(missing, 0, values).astype("datetime64[s]"), unit="s")
    suffix = "+00" if postgres else ""
    out: list[str | None] = [f"{t[:10]} {t[11:]}{suffix}" for t in text.tolist()]
    for i in np.flatnonzero(missing).tolist():
        out[i] = None
    return out


def stamp(value: int, postgres: bool) -> str:
    """One epoch instant as `_stamps` writes it."""
    text = (EPOCH + dt.timedelta(seconds=value)).strftime("%Y-%m-%d %H:%M:%S")
    return f"{text}+00" if postgres else text


def working_snap(rng: np.random.Generator, local_days: I64) -> I64:
    """An instant (epoch) in office hours on each local day, weekends moved to Monday."""
    weekday = (local_days + 3) % 7  # 1970-01-01 was a Thursday (Mon = 0)
    days = local_days + np.where(weekday == 5, 2, np.where(weekday == 6, 1, 0))
    seconds = rng.integers(7 * HOUR + 40 * 60, 16 * HOUR + 50 * 60, size=days.size)
    result: I64 = days * DAY - VN_OFFSET + seconds
    return result
