"""Error types of the legal working-time engine.

Every error carries a Vietnamese, user-facing ``message`` and a stable machine-readable
``code`` (for example ``"legaltime.bad_duration"``) that callers can map to HTTP errors,
CLI exit codes or translations without parsing the message.
"""

from __future__ import annotations


class LegalTimeError(Exception):
    """Base class of every error raised by :mod:`cchc.legaltime`."""

    code: str = "legaltime.error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return self.message


class BadInstant(LegalTimeError):
    """An instant is naive, unparseable or otherwise unusable."""

    code = "legaltime.bad_instant"


class BadDuration(LegalTimeError):
    """A duration is unparseable, negative or uses an unknown unit."""

    code = "legaltime.bad_duration"


class BadPause(LegalTimeError):
    """A pause interval is inverted, overlapping, unordered or outside the dossier's life."""

    code = "legaltime.bad_pause"


class BadCalendar(LegalTimeError):
    """A calendar definition or a schedule data file is inconsistent."""

    code = "legaltime.bad_calendar"


class CalendarCoverageError(LegalTimeError):
    """A computation needs a day of a year the calendar has no decreed schedule for."""

    code = "legaltime.calendar_coverage"

    def __init__(self, message: str, *, year: int, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.year = year


class ExtensionRefused(LegalTimeError):
    """A re-appointment (extension) is not allowed."""

    code = "legaltime.extension_refused"
