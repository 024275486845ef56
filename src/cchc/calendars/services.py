"""Calendars in the database: building the engine's Calendar for a version, and adding
versions (official schedules, decrees, local overrides) with their sources, audited.

`calendar_for` is the one way the rest of cchc gets a `cchc.legaltime.Calendar`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import Max

from cchc import legaltime
from cchc.accounts import policy
from cchc.audit import log
from cchc.calendars import signals
from cchc.calendars.models import CalendarDay, CalendarVersion, CalendarYear, WorkingCalendar
from cchc.errors import InvalidInput, NotFound
from cchc.legaltime import provenance
from cchc.legaltime.explain import UNVERIFIED_NOTE as UNVERIFIED_MARK

DEFAULT_CALENDAR = "vn-civil-service"

# Built calendars by everything they are built from: the version (never changed once
# written) and the calendar's own settings (sessions, cut-off, flags), which administrators
# may edit — an edit makes a new key, in every process, without any invalidation.
_BUILT: dict[tuple[Any, ...], legaltime.Calendar] = {}


def forget_built_calendars() -> None:
    """Drop built calendars (tests that roll back versions; calendar settings edits)."""
    _BUILT.clear()


def get_calendar(code: str) -> WorkingCalendar:
    found = WorkingCalendar.objects.filter(code=code).first()
    if found is None:
        known = ", ".join(WorkingCalendar.objects.values_list("code", flat=True)) or "(chưa có)"
        raise NotFound(f"Không có lịch làm việc mã '{code}'. Các lịch hiện có: {known}.")
    return found


def version_in_force(calendar: WorkingCalendar, at: dt.date | None = None) -> CalendarVersion:
    """The latest version effective on `at` (default: the latest version of all)."""
    versions = calendar.versions.all()
    if at is not None:
        versions = versions.filter(effective_from__lte=at)
    version = versions.order_by("-number").first()
    if version is None:
        raise NotFound(f"Lịch '{calendar.code}' chưa có dữ liệu ngày nghỉ, ngày làm việc.")
    return version


def _sessions(calendar: WorkingCalendar) -> legaltime.SessionPlan | None:
    if not calendar.sessions:
        return None
    try:
        return legaltime.SessionPlan.from_strings(
            [f"{start}-{end}" for start, end in calendar.sessions]
        )
    except (ValueError, TypeError, legaltime.LegalTimeError) as exc:
        raise InvalidInput(f"Giờ làm việc của lịch '{calendar.code}' không hợp lệ: {exc}") from None


def calendar_for(
    code: str = DEFAULT_CALENDAR,
    *,
    at: dt.date | None = None,
    number: int | None = None,
    saturday_reception: bool = False,
) -> legaltime.Calendar:
    """The engine calendar for `code` as of version `number` (or the version in force on
    `at`, or the latest). Raises NotFound for an unknown calendar or one without data."""
    calendar = get_calendar(code)
    if number is None:
        version = version_in_force(calendar, at)
    else:
        version = calendar.versions.filter(number=number).first()
        if version is None:
            raise NotFound(f"Lịch '{code}' không có phiên bản {number}.")
    key = (
        code,
        version.pk,
        version.created_at.isoformat(),
        saturday_reception,
        repr(calendar.sessions),
        calendar.cutoff,
        calendar.saturday_advances_clock,
        calendar.provisional_years_ok,
    )
    built = _BUILT.get(key)
    if built is not None:
        return built
    overrides = [
        legaltime.DayOverride(
            date=d.date,
            kind=legaltime.DayKind(d.kind),
            name=d.name,
            source=d.source,
            layer=legaltime.Layer(d.layer),
            verified=d.verified,
            note=d.note,
            swapped_with=d.swapped_with,
        )
        for d in _winning_days(calendar, version.number).values()
    ]
    years = set(
        CalendarYear.objects.filter(
            version__calendar=calendar, version__number__lte=version.number
        ).values_list("year", flat=True)
    )
    built = legaltime.Calendar(
        code=code,
        version=f"{code}@v{version.number}",
        sessions=_sessions(calendar),
        overrides=overrides,
        covered_years=sorted(years),
        cutoff=calendar.cutoff,
        saturday_reception=saturday_reception,
        saturday_advances_clock=calendar.saturday_advances_clock,
        provisional_years_ok=calendar.provisional_years_ok,
        name=calendar.name,
    )
    _BUILT[key] = built
    return built


def year_listing(calendar: legaltime.Calendar, year: int) -> list[dict[str, Any]]:
    """The days of `year` that differ from the weekly pattern (`legaltime
    .calendar_year_report`), each with its real source and verified flag: a day the
    ``holidays`` package supplies (layer 2) is never verified and names the act it rests on
    and the package (`legaltime.provenance`); a day of a year without an official schedule
    is marked provisional, with the reason saying so."""
    rows = legaltime.calendar_year_report(calendar, year)
    for row in rows:
        day = dt.date.fromisoformat(row["date"])
        if row["layer"] == legaltime.Layer.STATUTORY.value:
            found = provenance.statutory(day, row["name"])
            row["source"] = found.source
            row["verified"] = False
            row["note"] = found.note
            if UNVERIFIED_MARK not in row["reason"]:
                row["reason"] += f" ({UNVERIFIED_MARK})"
        else:
            row["note"] = calendar.day_info(day).note
        if row["provisional"] and "tạm tính" not in row["reason"]:
            row["reason"] += " (tạm tính)"
    return rows


def coverage_text(calendar: WorkingCalendar) -> str:
    """What the admin shows about a calendar's years: those with an official schedule,
    and what happens to the others (provisional, or refused)."""
    years = sorted(
        set(CalendarYear.objects.filter(version__calendar=calendar).values_list("year", flat=True))
    )
    listed = ", ".join(str(y) for y in years) or "chưa có năm nào"
    text = f"Năm có lịch nghỉ lễ chính thức: {listed}."
    if calendar.provisional_years_ok:
        text += (
            " Các năm khác: TẠM TÍNH — ngày lễ do thư viện holidays "
            f"{provenance.holidays_version()} tính theo Bộ luật Lao động 2019, Điều 112, chưa "
            "đối chiếu văn bản; kết quả tính hạn được ghi «tạm tính»."
        )
    else:
        text += " Các năm khác: không tính hạn (chưa cho phép tạm tính)."
    return text


def _winning_days(calendar: WorkingCalendar, upto: int | None = None) -> dict[dt.date, CalendarDay]:
    """Each date's entry from the highest version (up to `upto`) that mentions it."""
    days = CalendarDay.objects.filter(version__calendar=calendar)
    if upto is not None:
        days = days.filter(version__number__lte=upto)
    return {d.date: d for d in days.order_by("version__number")}


def next_version_number(calendar: WorkingCalendar) -> int:
    return (calendar.versions.aggregate(n=Max("number"))["n"] or 0) + 1


def _row(d: CalendarDay) -> tuple[Any, ...]:
    return (d.kind, d.name, d.source, d.layer, d.verified, d.note, d.swapped_with)


def _as_row(e: legaltime.DayOverride) -> tuple[Any, ...]:
    return (e.kind.value, e.name, e.source, e.layer.value, e.verified, e.note, e.swapped_with)


def add_version(
    actor: Any,
    calendar: WorkingCalendar,
    *,
    title: str,
    source: str,
    effective_from: dt.date,
    days: Iterable[legaltime.DayOverride],
    years: Iterable[tuple[int, str]] = (),
    now: dt.datetime,
) -> CalendarVersion | None:
    """Add a version with the `days` that differ from the calendar's current state and the
    `years` it declares covered. Returns None (and writes nothing) when nothing changes.

    Needs `calendar.manage`. In the same transaction `signals.version_added` is sent: the
    dossier engine records the recompute of open dossiers against the new version (run on
    the worker once committed); closed ones keep their outcome.
    """
    policy.require(actor, "calendar.manage")
    if not title.strip():
        raise InvalidInput("Phiên bản lịch cần có nội dung (tên văn bản điều chỉnh).")
    current = {day: _row(d) for day, d in _winning_days(calendar).items()}
    covered = set(
        CalendarYear.objects.filter(version__calendar=calendar).values_list("year", flat=True)
    )
    changed = [e for e in days if current.get(e.date) != _as_row(e)]
    new_years = [(y, t) for y, t in years if y not in covered]
    if not changed and not new_years:
        return None
    with transaction.atomic():
        WorkingCalendar.objects.select_for_update().filter(pk=calendar.pk).first()
        number = next_version_number(calendar)
        version = CalendarVersion.objects.create(
            calendar=calendar,
            number=number,
            effective_from=effective_from,
            title=title,
            source=source,
            created_at=now,
            created_by=actor if getattr(actor, "pk", None) else None,
        )
        CalendarYear.objects.bulk_create(
            CalendarYear(version=version, year=y, title=t) for y, t in new_years
        )
        CalendarDay.objects.bulk_create(
            CalendarDay(
                version=version,
                date=e.date,
                kind=e.kind.value,
                name=e.name,
                source=e.source,
                layer=e.layer.value,
                verified=e.verified,
                note=e.note,
                swapped_with=e.swapped_with,
            )
            for e in changed
        )
        log.record(
            "calendars.version.created",
            actor=actor,
            obj=version,
            at=now,
            data={
                "calendar": calendar.code,
                "number": number,
                "effective_from": effective_from,
                "source": source,
                "years": [y for y, _ in new_years],
                "days": [[e.date, e.kind.value, e.name, e.source] for e in changed],
            },
        )
        announce_version(version, actor=actor, now=now)
    return version


def announce_version(version: CalendarVersion, *, actor: Any, now: dt.datetime) -> None:
    """Tell the rest of cchc, inside the transaction that adds `version`, that it exists:
    the dossier engine records the recompute of open dossiers on this calendar in that
    same transaction (and runs it on the worker once committed)."""
    with transaction.atomic():
        signals.version_added.send(
            sender=CalendarVersion, calendar_code=version.calendar.code, actor=actor, now=now
        )


def check_dependents(calendar: WorkingCalendar, *, actor: Any, now: dt.datetime) -> list[str]:
    """Ask the apps that depend on `calendar` to make sure the work its version in force
    calls for is recorded and queued (a recompute a crash interrupted is resumed), and to
    say what is pending: one Vietnamese line each (`cchc calendar load` prints them)."""
    with transaction.atomic():
        responses = signals.calendar_checked.send(
            sender=WorkingCalendar, calendar_code=calendar.code, actor=actor, now=now
        )
    return [str(line) for _, line in responses if line]


def load_schedules(
    actor: Any,
    schedules: list[legaltime.YearSchedule],
    *,
    now: dt.datetime,
    effective_from: dt.date | None = None,
) -> CalendarVersion | None:
    """Load official year schedules (TOML files) as one new version of their calendar."""
    if not schedules:
        raise InvalidInput("Không có tệp lịch nào để nạp.")
    codes = {s.calendar for s in schedules}
    if len(codes) != 1:
        raise InvalidInput("Các tệp lịch phải cùng một mã lịch.")
    calendar = get_calendar(codes.pop())
    return add_version(
        actor,
        calendar,
        title="Lịch nghỉ lễ, Tết " + ", ".join(str(s.year) for s in schedules),
        source="; ".join(sorted({e.source for s in schedules for e in s.entries if e.source}))[
            :300
        ],
        effective_from=effective_from or now.date(),
        days=[e for s in schedules for e in s.entries],
        years=[(s.year, s.title) for s in schedules],
        now=now,
    )
