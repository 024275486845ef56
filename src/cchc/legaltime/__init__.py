"""Legal working-time engine for Vietnamese one-stop administrative dossiers.

Pure Python (stdlib + ``holidays`` + ``numpy``); nothing here imports Django or other
``cchc`` packages. Instants are aware datetimes in Asia/Ho_Chi_Minh (+07:00); naive input is
rejected.
"""

from __future__ import annotations

from .bulk import (
    CALENDAR_CUTOFF,
    NO_INSTANT,
    bulk_classify,
    bulk_due,
    bulk_elapsed,
    bulk_start,
    cutoff_array,
    from_epoch_array,
    outcomes,
    to_epoch_array,
)
from .calendar import Calendar, DayInfo, DayKind, DayOverride, Layer, WeeklyPattern
from .cliparse import calendar_year_report, due_report, parse_instant, parse_pause
from .durations import UNIT_CODES, Duration, Unit, parse_duration
from .engine import (
    OUTCOME_CODES,
    DueResult,
    ExtensionPolicy,
    ExtensionResult,
    Granularity,
    LateApology,
    Outcome,
    Pause,
    classify,
    due,
    due_with_pauses,
    elapsed,
    elapsed_duration,
    explain_due,
    explain_elapsed,
    explain_start,
    explain_steps,
    extend,
    start_of_clock,
    step_dues,
)
from .errors import (
    BadCalendar,
    BadDuration,
    BadInstant,
    BadPause,
    CalendarCoverageError,
    ExtensionRefused,
    LegalTimeError,
)
from .explain import Explanation, ExplanationItem, ItemKind
from .instants import VN_TZ
from .schedules import (
    YearSchedule,
    calendar_from_schedules,
    default_calendar,
    load_schedule,
    parse_schedule,
    shipped_schedules,
)
from .sessions import SeasonalSessions, Session, SessionPlan

__all__ = [
    "CALENDAR_CUTOFF",
    "NO_INSTANT",
    "OUTCOME_CODES",
    "UNIT_CODES",
    "VN_TZ",
    "BadCalendar",
    "BadDuration",
    "BadInstant",
    "BadPause",
    "Calendar",
    "CalendarCoverageError",
    "DayInfo",
    "DayKind",
    "DayOverride",
    "DueResult",
    "Duration",
    "Explanation",
    "ExplanationItem",
    "ExtensionPolicy",
    "ExtensionRefused",
    "ExtensionResult",
    "Granularity",
    "ItemKind",
    "LateApology",
    "Layer",
    "LegalTimeError",
    "Outcome",
    "Pause",
    "SeasonalSessions",
    "Session",
    "SessionPlan",
    "Unit",
    "WeeklyPattern",
    "YearSchedule",
    "bulk_classify",
    "bulk_due",
    "bulk_elapsed",
    "bulk_start",
    "calendar_from_schedules",
    "calendar_year_report",
    "classify",
    "cutoff_array",
    "default_calendar",
    "due",
    "due_report",
    "due_with_pauses",
    "elapsed",
    "elapsed_duration",
    "explain_due",
    "explain_elapsed",
    "explain_start",
    "explain_steps",
    "extend",
    "from_epoch_array",
    "load_schedule",
    "outcomes",
    "parse_duration",
    "parse_instant",
    "parse_pause",
    "parse_schedule",
    "shipped_schedules",
    "start_of_clock",
    "step_dues",
    "to_epoch_array",
]
