"""Deadlines, periods and task status as pure functions (no Django): the plan file's
deadline notation, the periods of a recurring task and the status classes the Government
Office uses (done on time, done late, not yet due, overdue) plus 'in progress'.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from enum import StrEnum

from cchc.vietnamese import fold


class TaskStatus(StrEnum):
    NOT_DUE = "not_due"
    IN_PROGRESS = "in_progress"
    DONE_ON_TIME = "done_on_time"
    DONE_LATE = "done_late"
    OVERDUE = "overdue"

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]


STATUS_LABELS = {
    TaskStatus.NOT_DUE: "Chưa đến hạn",
    TaskStatus.IN_PROGRESS: "Đang thực hiện",
    TaskStatus.DONE_ON_TIME: "Hoàn thành đúng hạn",
    TaskStatus.DONE_LATE: "Hoàn thành quá hạn",
    TaskStatus.OVERDUE: "Quá hạn",
}
DONE = (TaskStatus.DONE_ON_TIME, TaskStatus.DONE_LATE)

RHYTHMS = {
    "monthly": "Hằng tháng",
    "quarterly": "Hằng quý",
    "half_yearly": "6 tháng",
    "yearly": "Hằng năm",
}
_RHYTHM_WORDS = {
    "monthly": "monthly",
    "hang thang": "monthly",
    "quarterly": "quarterly",
    "hang quy": "quarterly",
    "half_yearly": "half_yearly",
    "6 thang": "half_yearly",
    "yearly": "yearly",
    "hang nam": "yearly",
}


class DeadlineError(ValueError):
    """A deadline the plan file writes in a way we cannot read (message is Vietnamese)."""


@dataclass(frozen=True)
class Deadline:
    kind: str  # date | month | quarter | year | recurring
    due: dt.date  # the last day of the deadline (end of the year for recurring tasks)
    label: str  # as shown to users: "30/06/2024", "Tháng 6/2024", "Quý II/2024"…
    rhythm: str = ""


@dataclass(frozen=True)
class Period:
    key: str  # "2024-Q2", "2024-03", "2024-H1", "2024"
    start: dt.date
    end: dt.date
    label: str


ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}


def month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def parse_rhythm(raw: str) -> str:
    try:
        return _RHYTHM_WORDS[fold(raw)]
    except KeyError:
        raise DeadlineError(
            f"định kỳ '{raw}' không hợp lệ, cần monthly, quarterly, half_yearly hoặc yearly"
        ) from None


def parse_deadline(raw: object, *, year: int, rhythm: str = "") -> Deadline:
    """Read a deadline: a date (2024-06-30 or 30/06/2024), a month (2024-06), a quarter
    (2024-Q2), the year ('2024' or 'cả năm') or 'thường xuyên' (recurring, needs `rhythm`).

    Raises DeadlineError (Vietnamese message) for anything else, for a deadline outside
    the plan's `year`, and for a rhythm on a non-recurring deadline.
    """
    if isinstance(raw, dt.datetime):
        raise DeadlineError("thời hạn chỉ ghi ngày, không ghi giờ")
    text = raw.isoformat() if isinstance(raw, dt.date) else str(raw).strip()
    word = fold(text)
    if word in ("thuong xuyen", "recurring"):
        if not rhythm:
            raise DeadlineError("nhiệm vụ thường xuyên cần khai báo 'rhythm' (định kỳ báo cáo)")
        return Deadline("recurring", dt.date(year, 12, 31), "Thường xuyên", parse_rhythm(rhythm))
    if rhythm:
        raise DeadlineError("chỉ nhiệm vụ 'thường xuyên' mới có 'rhythm'")
    deadline = _fixed(text, word, year)
    if deadline.due.year != year:
        raise DeadlineError(f"thời hạn {deadline.label} nằm ngoài năm kế hoạch {year}")
    return deadline


def _fixed(text: str, word: str, year: int) -> Deadline:
    if word in ("ca nam", str(year)) or re.fullmatch(r"\d{4}", word):
        y = int(word) if word.isdigit() else year
        return Deadline("year", dt.date(y, 12, 31), f"Cả năm {y}")
    if match := re.fullmatch(r"(\d{4})-q([1-4])", word):
        y, q = int(match[1]), int(match[2])
        return Deadline("quarter", month_end(y, q * 3), f"Quý {ROMAN[q]}/{y}")
    if match := re.fullmatch(r"(\d{4})-(\d{1,2})", word):
        y, m = int(match[1]), int(match[2])
        if not 1 <= m <= 12:
            raise DeadlineError(f"tháng '{text}' không hợp lệ")
        return Deadline("month", month_end(y, m), f"Tháng {m}/{y}")
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            day = dt.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
        return Deadline("date", day, f"{day:%d/%m/%Y}")
    raise DeadlineError(
        f"thời hạn '{text}' không hợp lệ; cần ngày (2024-06-30), tháng (2024-06), "
        "quý (2024-Q2), năm (2024 hoặc 'cả năm') hoặc 'thường xuyên'"
    )


def periods(year: int, rhythm: str) -> list[Period]:
    """The reporting periods of a recurring task in `year`."""
    if rhythm == "monthly":
        return [
            Period(f"{year}-{m:02d}", dt.date(year, m, 1), month_end(year, m), f"Tháng {m}/{year}")
            for m in range(1, 13)
        ]
    if rhythm == "quarterly":
        return [
            Period(
                f"{year}-Q{q}",
                dt.date(year, q * 3 - 2, 1),
                month_end(year, q * 3),
                f"Quý {ROMAN[q]}/{year}",
            )
            for q in range(1, 5)
        ]
    if rhythm == "half_yearly":
        return [
            Period(f"{year}-H1", dt.date(year, 1, 1), dt.date(year, 6, 30), f"6 tháng đầu {year}"),
            Period(
                f"{year}-H2", dt.date(year, 7, 1), dt.date(year, 12, 31), f"6 tháng cuối {year}"
            ),
        ]
    if rhythm == "yearly":
        return [Period(str(year), dt.date(year, 1, 1), dt.date(year, 12, 31), f"Năm {year}")]
    raise DeadlineError(f"định kỳ '{rhythm}' không hợp lệ")


def classify(
    *, due: dt.date, done_on: dt.date | None, reported: bool, today: dt.date
) -> TaskStatus:
    """Status of one deliverable: done (on time or late) once a completion was accepted,
    dated by its report; otherwise overdue after `due`, in progress if reported, else not due."""
    if done_on is not None:
        return TaskStatus.DONE_ON_TIME if done_on <= due else TaskStatus.DONE_LATE
    if today > due:
        return TaskStatus.OVERDUE
    return TaskStatus.IN_PROGRESS if reported else TaskStatus.NOT_DUE


def combine(statuses: list[TaskStatus]) -> TaskStatus:
    """Overall status of a recurring task from its periods' statuses."""
    if not statuses:
        return TaskStatus.NOT_DUE
    if TaskStatus.OVERDUE in statuses:
        return TaskStatus.OVERDUE
    if all(s in DONE for s in statuses):
        return TaskStatus.DONE_LATE if TaskStatus.DONE_LATE in statuses else TaskStatus.DONE_ON_TIME
    if any(s is not TaskStatus.NOT_DUE for s in statuses):
        return TaskStatus.IN_PROGRESS
    return TaskStatus.NOT_DUE
