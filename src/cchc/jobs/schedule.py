"""The schedule of periodic commands, as data. Each entry runs one management command on
the worker, and every run is recorded (`runner.run`).

The defaults below are what a province needs out of the box; `CCHC_SCHEDULE` changes them
without code: `name=15m;name=daily@07:00;name=weekly@mon@06:00;name=off` (separated by
`;`). The scheduler (`cchc scheduler`) writes the effective schedule into django-q2's
Schedule table at start, so administrators see it in the admin, and a run missed while the
scheduler was down is caught up once (django-q2 with `catch_up` off), not once per missed
slot.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

VIETNAM = dt.timezone(dt.timedelta(hours=7))
RUNNER = "cchc.jobs.runner.run_scheduled"
PREFIX = "cchc:"


@dataclass(frozen=True)
class PeriodicJob:
    """One periodic command: every `minutes` (aligned to the clock: 15 → :00, :15, …),
    daily at `at`, or weekly on `weekday` (0 = Monday) at `at` (Vietnamese time). `argv` is
    the management command and its arguments."""

    name: str
    argv: tuple[str, ...]
    description: str
    minutes: int | None = None
    at: dt.time | None = None
    weekday: int | None = None

    @property
    def every(self) -> str:
        if self.minutes is not None:
            return f"{self.minutes}m"
        assert self.at is not None
        if self.weekday is not None:
            return f"weekly@{WEEKDAYS[self.weekday]}@{self.at:%H:%M}"
        return f"daily@{self.at:%H:%M}"

    @property
    def command(self) -> str:
        return "cchc " + " ".join(self.argv)

    def next_run(self, now: dt.datetime) -> dt.datetime:
        """The first slot strictly after `now` (aware), in UTC."""
        local = now.astimezone(VIETNAM)
        if self.minutes is not None:
            midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
            elapsed = int((local - midnight).total_seconds() // 60)
            slot = midnight + dt.timedelta(minutes=(elapsed // self.minutes + 1) * self.minutes)
            return slot.astimezone(dt.UTC)
        assert self.at is not None
        slot = local.replace(hour=self.at.hour, minute=self.at.minute, second=0, microsecond=0)
        if self.weekday is not None:
            slot += dt.timedelta(days=(self.weekday - slot.weekday()) % 7)
            if slot <= local:
                slot += dt.timedelta(days=7)
            return slot.astimezone(dt.UTC)
        if slot <= local:
            slot += dt.timedelta(days=1)
        return slot.astimezone(dt.UTC)


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _daily(hhmm: str) -> dt.time:
    return dt.time.fromisoformat(hhmm)


# The documented periodic commands. Times are Vietnamese time; reminders go out before the
# working day starts, checks run at night when the database is quiet.
PERIODIC: tuple[PeriodicJob, ...] = (
    PeriodicJob(
        "notifications-send",
        ("notifications", "send", "--json"),
        "gửi thư điện tử/SMS đang chờ và gửi lại thư lỗi đến hạn thử lại",
        minutes=1,
    ),
    PeriodicJob(
        "documents-sign",
        ("documents", "sign", "--json"),
        "ký số văn bản đã phát hành đang chờ và ký lại văn bản lỗi đến hạn thử lại",
        minutes=1,
    ),
    PeriodicJob(
        "datastore-deliver",
        ("datastore", "deliver", "--json"),
        "gửi kết quả điện tử đã ký số vào kho dữ liệu của người nộp và gửi lại khi đến hạn",
        minutes=1,
    ),
    PeriodicJob(
        "dossiers-recompute",
        ("dossiers", "recompute", "--json"),
        "tiếp tục tính lại hạn hồ sơ khi phiên bản lịch làm việc thay đổi",
        minutes=1,
    ),
    PeriodicJob(
        "payments-reconcile",
        ("payments", "reconcile", "--json"),
        "đối soát các lệnh thanh toán trực tuyến đang chờ với cổng thanh toán",
        minutes=15,
    ),
    PeriodicJob(
        "signatures-check",
        ("signatures", "check", "--json"),
        "kiểm tra chữ ký số của tệp PDF mới tải lên; kiểm tra lại khi danh sách tin cậy thay đổi",
        minutes=5,
    ),
    PeriodicJob(
        "dossiers-scan",
        ("dossiers", "scan", "--json"),
        "quét hồ sơ có nguy cơ trễ hạn",
        minutes=60,
    ),
    PeriodicJob(
        "dashboard-judge",
        ("dashboard", "judge", "--json"),
        "đánh giá đúng hạn/chậm các lượt chuyển bước của hồ sơ có sự kiện mới (điểm nghẽn)",
        minutes=15,
    ),
    PeriodicJob(
        "catalog-apply-versions",
        ("catalog", "apply-versions", "--json"),
        "áp dụng phiên bản thủ tục hành chính đến ngày hiệu lực",
        at=_daily("00:05"),
    ),
    PeriodicJob(
        "indicators-snapshot",
        ("indicators", "snapshot"),
        "đếm hồ sơ đang giải quyết tại các thời điểm báo cáo vừa qua",
        at=_daily("00:20"),
    ),
    PeriodicJob(
        "reports-prune",
        ("reports", "prune", "--json"),
        "xoá tệp báo cáo lập trên web đã quá thời hạn lưu",
        at=_daily("01:00"),
    ),
    PeriodicJob(
        "backup",
        ("backup", "--json"),
        "sao lưu cơ sở dữ liệu và tệp, giữ các bản mới nhất",
        at=_daily("01:30"),
    ),
    PeriodicJob(
        "dossiers-verify",
        ("dossiers", "verify", "--json"),
        "dựng lại mọi hồ sơ từ nhật ký sự kiện và so sánh",
        at=_daily("02:30"),
    ),
    PeriodicJob(
        "indicators-verify",
        ("indicators", "verify", "--json"),
        "so sánh các ô chỉ số với phép tính lại toàn bộ",
        at=_daily("03:30"),
    ),
    PeriodicJob(
        "audit-verify",
        ("audit", "verify", "--json"),
        "kiểm tra chuỗi băm của nhật ký kiểm toán",
        at=_daily("04:00"),
    ),
    PeriodicJob(
        "indicators-weekly-ranking",
        ("rankings", "snapshot", "--json"),
        "chụp bảng xếp hạng cơ quan, cấp xã theo Bộ chỉ số 766 của tuần vừa qua",
        at=_daily("06:00"),
        weekday=0,  # Monday: the week just ended, after the night's counts and checks
    ),
    PeriodicJob(
        "feedback-remind",
        ("feedback", "remind", "--json"),
        "nhắc hạn xử lý phản ánh, kiến nghị",
        at=_daily("07:00"),
    ),
    PeriodicJob(
        "plans-remind",
        ("plans", "remind"),
        "nhắc hạn nhiệm vụ kế hoạch cải cách hành chính",
        at=_daily("07:05"),
    ),
    PeriodicJob(
        "dossiers-digest",
        ("dossiers", "digest", "--json"),
        "bản tin hằng ngày cho lãnh đạo: hồ sơ sắp đến hạn, quá hạn chưa xin lỗi",
        at=_daily("07:10"),
    ),
    PeriodicJob(
        "dvcqg-send",
        ("dvcqg", "send", "--json"),
        "đồng bộ hồ sơ lên Cổng DVC quốc gia: gửi bản ghi đang chờ, gửi lại bản ghi lỗi đến hạn",
        minutes=1,
    ),
    PeriodicJob(
        "dvcqg-reconcile",
        ("dvcqg", "reconcile", "--json"),
        "đối soát trạng thái hồ sơ với Cổng DVC quốc gia (TraCuuHoSo), gửi lại hồ sơ lệch",
        at=_daily("03:00"),
    ),
    PeriodicJob(
        "national-inbound",
        ("dvcqg", "inbound", "fetch", "--json"),
        "lấy hồ sơ nộp trên Cổng DVCQG, tạo hồ sơ và xác nhận với Cổng",
        minutes=5,
    ),
    PeriodicJob(
        "national-catalogue",
        ("dvcqg", "catalogue", "fetch", "--json"),
        "so sánh danh mục TTHC với CSDL quốc gia, lưu khác biệt chờ quản trị viên xem xét",
        at=_daily("02:30"),
    ),
)

_SPEC = re.compile(
    r"^(?:(?P<m>\d{1,4})m|daily@(?P<at>\d{2}:\d{2})"
    r"|weekly@(?P<day>mon|tue|wed|thu|fri|sat|sun)@(?P<wat>\d{2}:\d{2})|(?P<off>off))$"
)


def parse_overrides(raw: str) -> dict[str, str]:
    """`CCHC_SCHEDULE` as {name: spec}; refuses unknown names and malformed specs."""
    known = {job.name for job in PERIODIC}
    result: dict[str, str] = {}
    for item in raw.split(";"):
        if not item.strip():
            continue
        name, sep, spec = item.partition("=")
        name, spec = name.strip(), spec.strip()
        if not sep or name not in known:
            raise ImproperlyConfigured(
                f"CCHC_SCHEDULE: unknown job {name!r} (known: {', '.join(sorted(known))})"
            )
        match = _SPEC.match(spec)
        if not match or (match["m"] is not None and not 1 <= int(match["m"]) <= 1440):
            raise ImproperlyConfigured(
                f"CCHC_SCHEDULE: {name}={spec!r} is not Nm (1..1440), daily@HH:MM, "
                "weekly@DAY@HH:MM (DAY: mon…sun) or off"
            )
        hhmm = match["at"] or match["wat"]
        if hhmm is not None:
            try:
                _daily(hhmm)
            except ValueError:
                raise ImproperlyConfigured(
                    f"CCHC_SCHEDULE: {name}={spec!r}: {hhmm} is not a time of day"
                ) from None
        result[name] = spec
    return result


def effective(overrides: Mapping[str, str] | None = None) -> list[PeriodicJob]:
    """The schedule in force: the defaults with `CCHC_SCHEDULE` applied, minus jobs off."""
    if overrides is None:
        overrides = parse_overrides(getattr(settings, "CCHC_SCHEDULE", "") or "")
    jobs: list[PeriodicJob] = []
    for job in PERIODIC:
        spec = overrides.get(job.name)
        if spec is None:
            jobs.append(job)
            continue
        match = _SPEC.match(spec)
        assert match is not None
        if match["off"]:
            continue
        if match["m"] is not None:
            jobs.append(replace(job, minutes=int(match["m"]), at=None, weekday=None))
        elif match["day"] is not None:
            day = WEEKDAYS.index(match["day"])
            jobs.append(replace(job, minutes=None, at=_daily(match["wat"]), weekday=day))
        else:
            jobs.append(replace(job, minutes=None, at=_daily(match["at"]), weekday=None))
    return jobs


def find(name: str, jobs: Iterable[PeriodicJob] | None = None) -> PeriodicJob | None:
    for job in effective() if jobs is None else jobs:
        if job.name == name:
            return job
    return None
