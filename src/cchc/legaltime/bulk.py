"""Vectorised (numpy) legal-time operations over arrays of dossiers.

Instants are ``int64`` epoch seconds (use :func:`to_epoch_array` / :func:`from_epoch_array`);
durations are an ``amounts`` array plus one unit for the whole call or an array of unit codes
(:data:`UNIT_CODES`). Results are identical to the single-dossier functions of
:mod:`cchc.legaltime.engine` (same per-day table, same rules); amounts in working units are
converted to whole seconds with ``numpy.rint`` (half-even, like the single path).
A batch needing a day outside the calendar's coverage raises
:class:`~cchc.legaltime.errors.CalendarCoverageError` for the whole batch.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, time

import numpy as np
import numpy.typing as npt

from .calendar import Calendar
from .durations import UNIT_CODES, Unit
from .engine import OUTCOME_CODES, Granularity, Outcome
from .errors import BadDuration, BadInstant
from .instants import DAY_SECONDS, UTC_OFFSET_SECONDS, from_epoch, local_date, to_epoch
from .table import DayTable, NeedYear, TableArrays

I64 = npt.NDArray[np.int64]
I8 = npt.NDArray[np.int8]
F64 = npt.NDArray[np.float64]

#: Marker for "no instant" (e.g. an open dossier's finish) in int64 instant arrays.
NO_INSTANT = np.iinfo(np.int64).min
#: Marker for "the calendar's own cut-off" in per-row cut-off arrays.
CALENDAR_CUTOFF = -1

_WD, _WH, _D, _MO = (
    UNIT_CODES[u] for u in (Unit.WORKING_DAYS, Unit.WORKING_HOURS, Unit.DAYS, Unit.MONTHS)
)


def to_epoch_array(values: Iterable[datetime | None]) -> I64:
    """Aware datetimes to int64 epoch seconds (``None`` becomes :data:`NO_INSTANT`)."""
    return np.fromiter((NO_INSTANT if v is None else to_epoch(v) for v in values), dtype=np.int64)


def from_epoch_array(values: npt.ArrayLike) -> list[datetime]:
    return [from_epoch(int(v)) for v in np.asarray(values, dtype=np.int64)]


def _instants(values: npt.ArrayLike, what: str) -> I64:
    array = np.asarray(values)
    if array.dtype.kind == "M":
        array = array.astype("datetime64[s]").astype(np.int64)
    if array.dtype.kind not in "iu":
        raise BadInstant(f"{what}: cần mảng số nguyên giây epoch (int64).")
    return np.ascontiguousarray(array, dtype=np.int64).reshape(-1)


def _locate(table: DayTable, seconds: I64) -> tuple[I64, I64]:
    rel = seconds - table.midnight0
    index = rel // DAY_SECONDS
    sec = rel - index * DAY_SECONDS
    if index.size:
        outside = (index < 0) | (index >= table.n)
        if outside.any():
            first = int(seconds[int(np.argmax(outside))])
            raise NeedYear(local_date(first).year)
    return index, sec


def _work_at(table: DayTable, arrays: TableArrays, seconds: I64) -> I64:
    """``W(t)`` for each instant."""
    work, _, _ = _work_parts(table, arrays, seconds)
    return work


def _work_parts(table: DayTable, arrays: TableArrays, seconds: I64) -> tuple[I64, I64, I64]:
    """(``W(t)``, day index, seconds after midnight)."""
    index, sec = _locate(table, seconds)
    work: I64 = arrays.cum[index]
    for start_col, length_col in zip(arrays.start_cols, arrays.length_cols, strict=True):
        work = work + np.clip(sec - start_col[index], 0, length_col[index])
    return work, index, sec


def _check_need(mask: npt.NDArray[np.bool_], table: DayTable) -> None:
    if mask.any():
        raise NeedYear(table.last_year + 1)


def _clock_work(
    table: DayTable, arrays: TableArrays, seconds: I64, cutoffs: I64 | None = None
) -> tuple[I64, I64]:
    """(``W`` at the clock start, receipt day index).

    The clock start itself is ``at_work(W + 1) - 1``: the first second at which working
    time resumes at or after the receipt (instants are whole seconds, sessions last >= 1 s).
    A receipt after the cut-off on a working day counts from the next local midnight; the
    cut-off is the row's own (``cutoffs``, :data:`CALENDAR_CUTOFF` for the calendar's) or
    the calendar's.
    """
    work, index, sec = _work_parts(table, arrays, seconds)
    limit: I64 | int | None = table.cutoff
    if cutoffs is not None:
        fallback = DAY_SECONDS if table.cutoff is None else table.cutoff
        limit = np.where(cutoffs == CALENDAR_CUTOFF, fallback, cutoffs)
    if limit is not None:
        late = arrays.working[index] & (sec > limit)
        work = np.where(late, arrays.cum[index + 1], work)
    return work, index


def cutoff_array(values: Iterable[time | None]) -> I64:
    """Per-row reception cut-offs (a procedure's own, ``None`` for the calendar's) as
    seconds after local midnight, for ``bulk_start``/``bulk_due``."""
    return np.fromiter(
        (
            CALENDAR_CUTOFF if v is None else v.hour * 3600 + v.minute * 60 + v.second
            for v in values
        ),
        dtype=np.int64,
    )


def _cutoffs(values: npt.ArrayLike | None, size: int) -> I64 | None:
    if values is None:
        return None
    array = np.ascontiguousarray(np.asarray(values), dtype=np.int64).reshape(-1)
    if array.size != size:
        raise BadInstant("Mảng giờ chốt nhận hồ sơ phải cùng độ dài với mảng thời điểm tiếp nhận.")
    if array.size and (
        ((array < 0) & (array != CALENDAR_CUTOFF)).any() or (array >= DAY_SECONDS).any()
    ):
        raise BadInstant(
            "Giờ chốt nhận hồ sơ phải là số giây sau nửa đêm (0–86399), hoặc -1 để dùng giờ "
            "chốt của lịch."
        )
    return array


def _at_work(table: DayTable, arrays: TableArrays, target: I64) -> I64:
    """Smallest instant with ``W >= target`` for each target (all targets > 0)."""
    if target.size == 0:
        return np.empty(0, dtype=np.int64)
    _check_need(target > arrays.cum[table.n], table)
    if arrays.lookup is not None:
        k = arrays.lookup[target // arrays.bucket]
        k = k + (arrays.work_end[k] < target)
    else:
        k = np.searchsorted(arrays.work_end, target, side="left")
    index = arrays.work_day[k]
    rest = target - arrays.work_begin[k]
    clock = arrays.start_cols[0][index] + rest
    for number, gap_col in enumerate(arrays.gap_cols, start=1):
        clock = clock + np.where(rest > arrays.in_day_cols[number][index], gap_col[index], 0)
    result: I64 = table.midnight0 + index * DAY_SECONDS + clock
    return result


def _clock_start(table: DayTable, arrays: TableArrays, work: I64) -> tuple[I64, I64]:
    """(clock start instant, its day index) from ``W`` at the clock start."""
    start = _at_work(table, arrays, work + 1) - 1
    day: I64 = (start - table.midnight0) // DAY_SECONDS
    return start, day


def _check_span(table: DayTable, arrays: TableArrays, first: I64, last: I64) -> None:
    if table.all_allowed or not first.size:
        return
    bad = arrays.bad[last + 1] - arrays.bad[first] > 0
    if bad.any():
        row = int(np.argmax(bad))
        table.check_span(int(first[row]), int(last[row]))


def _unit_codes(unit: str | Unit | npt.ArrayLike, size: int) -> npt.NDArray[np.int8]:
    if isinstance(unit, str):
        try:
            code = UNIT_CODES[Unit(unit)]
        except ValueError:
            raise BadDuration(
                f'Đơn vị thời hạn không hợp lệ "{unit}": chỉ chấp nhận wd, wh, d, mo.',
                code="legaltime.unknown_unit",
            ) from None
        return np.full(size, code, dtype=np.int8)
    codes = np.asarray(unit).reshape(-1)
    if codes.size != size:
        raise BadDuration("Mảng đơn vị thời hạn phải cùng độ dài với mảng số lượng.")
    if codes.size and (codes.min() < 0 or codes.max() > 3):
        raise BadDuration(
            "Mã đơn vị thời hạn không hợp lệ: chỉ chấp nhận 0 (wd), 1 (wh), 2 (d), 3 (mo).",
            code="legaltime.unknown_unit",
        )
    return codes.astype(np.int8)


def _amounts(amounts: npt.ArrayLike, codes: npt.NDArray[np.int8]) -> F64:
    values = np.asarray(amounts, dtype=np.float64).reshape(-1)
    if values.size != codes.size:
        raise BadDuration("Mảng thời hạn phải cùng độ dài với mảng thời điểm tiếp nhận.")
    if values.size:
        if not np.isfinite(values).all() or (values < 0).any():
            raise BadDuration(
                "Thời hạn không được âm hoặc vô hạn.", code="legaltime.negative_duration"
            )
        calendar_units = codes >= _D
        if (calendar_units & (values != np.floor(values))).any():
            raise BadDuration(
                "Thời hạn tính theo ngày hoặc tháng phải là số nguyên.",
                code="legaltime.fractional_duration",
            )
    return values


def _due(
    table: DayTable,
    received: I64,
    values: F64,
    codes: npt.NDArray[np.int8],
    standard: int,
    paused: I64 | None,
    cutoffs: I64 | None = None,
) -> I64:
    arrays = table.arrays
    work, received_index = _clock_work(table, arrays, received, cutoffs)
    if codes.size and codes.max() <= _WH:
        scale: F64 | float
        if codes.max() == _WD:
            scale = float(standard)
        elif codes.min() == _WH:
            scale = 3600.0
        else:
            scale = np.where(codes == _WD, float(standard), 3600.0)
        seconds = np.rint(values * scale).astype(np.int64)
        special = seconds == 0
    else:
        scale = np.where(codes == _WD, float(standard), 3600.0)
        seconds = np.where(codes <= _WH, np.rint(values * scale), 0).astype(np.int64)
        special = (seconds == 0) | (codes >= _D)
    # Working-unit rows: the smallest instant whose W reaches W(start) + duration.
    due = _at_work(table, arrays, work + np.where(special, 1, seconds))
    rows = np.flatnonzero(special)
    if rows.size:
        _, start_index = _clock_start(table, arrays, work[rows])
        row_values = values[rows]
        row_codes = codes[rows]
        zero = row_values == 0
        whole = np.where(zero, 0, row_values).astype(np.int64)
        nominal = start_index + np.where(row_codes == _D, whole, 0)
        months = (row_codes == _MO) & ~zero
        if months.any():
            day = (start_index[months] + arrays.day0).astype("datetime64[D]")
            month = day.astype("datetime64[M]")
            day_of_month = (day - month.astype("datetime64[D]")).astype(np.int64)
            target_month = month + whole[months].astype("timedelta64[M]")
            month_start = target_month.astype("datetime64[D]")
            month_days = ((target_month + 1).astype("datetime64[D]") - month_start).astype(np.int64)
            target = month_start + np.minimum(day_of_month, month_days - 1)
            nominal[months] = target.astype(np.int64) - arrays.day0
        beyond = nominal >= table.n
        if beyond.any():
            raise NeedYear(table.date_of(int(nominal[int(np.argmax(beyond))])).year)
        moved = arrays.next_work[nominal]
        _check_need(moved >= table.n, table)
        due[rows] = table.midnight0 + moved * DAY_SECONDS + arrays.last_end[moved]
    if paused is not None and paused.size:
        shifted = np.flatnonzero(paused > 0)
        if shifted.size:
            due[shifted] = _at_work(
                table, arrays, _work_at(table, arrays, due[shifted]) + paused[shifted]
            )
    due_index = (due - table.midnight0) // DAY_SECONDS
    _check_span(table, arrays, received_index, due_index)
    return due


def bulk_start(
    calendar: Calendar, received: npt.ArrayLike, *, cutoffs: npt.ArrayLike | None = None
) -> I64:
    """Clock start (epoch seconds) for each receipt instant; ``cutoffs`` gives each row's
    reception cut-off (:func:`cutoff_array`; default: the calendar's for every row)."""
    seconds = _instants(received, "Thời điểm tiếp nhận")
    limits = _cutoffs(cutoffs, seconds.size)

    def run(table: DayTable) -> I64:
        arrays = table.arrays
        work, received_index = _clock_work(table, arrays, seconds, limits)
        start, start_index = _clock_start(table, arrays, work)
        _check_span(table, arrays, received_index, start_index)
        return start

    return calendar.run(run)


def bulk_due(
    calendar: Calendar,
    received: npt.ArrayLike,
    amounts: npt.ArrayLike,
    unit: str | Unit | npt.ArrayLike = Unit.WORKING_DAYS,
    *,
    paused: npt.ArrayLike | None = None,
    cutoffs: npt.ArrayLike | None = None,
) -> I64:
    """Due instants (epoch seconds); ``paused`` adds working seconds spent in pauses;
    ``cutoffs`` gives each row's reception cut-off (:func:`cutoff_array`)."""
    seconds = _instants(received, "Thời điểm tiếp nhận")
    limits = _cutoffs(cutoffs, seconds.size)
    codes = _unit_codes(unit, seconds.size)
    values = _amounts(amounts, codes)
    extra = None
    if paused is not None:
        extra = np.asarray(paused, dtype=np.int64).reshape(-1)
        if extra.size != seconds.size or (extra < 0).any():
            raise BadDuration("Mảng thời gian tạm dừng phải cùng độ dài và không âm.")
    standard = calendar.standard_day_seconds
    return calendar.run(lambda table: _due(table, seconds, values, codes, standard, extra, limits))


def bulk_elapsed(calendar: Calendar, start: npt.ArrayLike, end: npt.ArrayLike) -> I64:
    """Working seconds between paired instants (negative when end < start)."""
    a = _instants(start, "Thời điểm bắt đầu")
    b = _instants(end, "Thời điểm kết thúc")
    if a.size != b.size:
        raise BadInstant("Hai mảng thời điểm phải cùng độ dài.")

    def run(table: DayTable) -> I64:
        arrays = table.arrays
        wa = _work_at(table, arrays, a)
        wb = _work_at(table, arrays, b)
        first = (np.minimum(a, b) - table.midnight0) // DAY_SECONDS
        last = (np.maximum(a, b) - table.midnight0) // DAY_SECONDS
        _check_span(table, arrays, first, last)
        result: I64 = wb - wa
        return result

    return calendar.run(run)


def _local_days(values: I64) -> I64:
    result: I64 = (values + UTC_OFFSET_SECONDS) // DAY_SECONDS
    return result


def bulk_classify(
    due: npt.ArrayLike,
    finished: npt.ArrayLike,
    at: int | npt.ArrayLike,
    *,
    overdue_granularity: Granularity = Granularity.TIMESTAMP,
    early_granularity: Granularity = Granularity.DATE,
) -> I8:
    """Outcome codes (:data:`OUTCOME_CODES`); ``finished == NO_INSTANT`` marks open dossiers."""
    limit = _instants(due, "Hạn giải quyết")
    done = _instants(finished, "Thời điểm hoàn thành")
    now = np.broadcast_to(np.asarray(at, dtype=np.int64), limit.shape)
    if done.size != limit.size:
        raise BadInstant("Mảng hạn và mảng thời điểm hoàn thành phải cùng độ dài.")
    open_rows = done == NO_INSTANT
    overdue_date = Granularity(overdue_granularity) is Granularity.DATE
    early_date = Granularity(early_granularity) is Granularity.DATE
    limit_day = _local_days(limit)
    done_safe = np.where(open_rows, limit, done)
    if overdue_date:
        late = _local_days(done_safe) > limit_day
        late_open = _local_days(now) > limit_day
    else:
        late = done_safe > limit
        late_open = now > limit
    early = _local_days(done_safe) < limit_day if early_date else done_safe < limit
    codes = np.full(limit.shape, OUTCOME_CODES[Outcome.ON_TIME], dtype=np.int8)
    codes[early] = OUTCOME_CODES[Outcome.EARLY]
    codes[late] = OUTCOME_CODES[Outcome.OVERDUE]
    codes[open_rows] = OUTCOME_CODES[Outcome.IN_PROGRESS]
    codes[open_rows & late_open] = OUTCOME_CODES[Outcome.OVERDUE_IN_PROGRESS]
    return codes


def outcomes(codes: Sequence[int] | npt.ArrayLike) -> list[Outcome]:
    """Outcome members of bulk classification codes."""
    members = list(Outcome)
    return [members[int(c)] for c in np.asarray(codes).reshape(-1)]
