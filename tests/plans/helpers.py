"""Helpers of the plan tests: reports through the real services at a given day."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from cchc.plans import progress

VN = ZoneInfo("Asia/Ho_Chi_Minh")
PDF = b"%PDF-1.4\n%test\n%%EOF\n"


def at(day: str, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour), tzinfo=VN)


def pdf(name: str = "bao-cao.pdf") -> progress.Upload:
    return progress.Upload(name, PDF)


def report_on(task, user, *, day: str, completed: bool = False, period: str = "", files=()):
    return progress.submit_report(
        user,
        task,
        progress=100 if completed else 50,
        note="Báo cáo thử nghiệm",
        completed=completed,
        period=period,
        files=list(files),
        now=at(day),
    )
