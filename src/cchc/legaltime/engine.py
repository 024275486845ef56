"""Single-dossier operations: clock start, due, elapsed, pauses, extension, outcome, steps."""

from __future__ import annotations

from calendar import monthrange
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from .calendar import Calendar
from .durations import Duration, Unit, as_duration
from .errors import BadDuration, BadInstant, BadPause, ExtensionRefused
from .explain import (
    Explanation,
    ExplanationItem,
    ItemKind,
    day_items,
    format_date,
    format_instant,
    format_working_time,
    provisional_items,
    start_item,
)
from .instants import DAY_SECONDS, day_number, from_epoch, to_epoch
from .table import DayTable

Pause = tuple[datetime, datetime]


def add_months(day: date, months: int) -> date:
    """Same day-of-month ``months`` later, or the last day of that month (BLDS 2015 Art. 148)."""
    years, month0 = divmod(day.month - 1 + months, 12)
    year, month = day.year + years, month0 + 1
    return date(year, month, min(day.day, monthrange(year, month)[1]))


# -- internal single-path kernels (epoch seconds, on a table) ---------------------------------


@dataclass(frozen=True, slots=True)
class _DueParts:
    received: int
    received_index: int
    start: int
    start_index: int
    due: int
    due_index: int
    nominal_index: int  # last day of a d/mo period before moving off a rest day; -1 otherwise


def _clock(table: DayTable, received: int) -> tuple[int, int, int]:
    """(received day index, clock start, clock start day index), span checked."""
    received_index = table.locate(received)[0]
    start, start_index = table.start_of_clock(received)
    table.check_span(received_index, start_index)
    return received_index, start, start_index


def _span(table: DayTable, a: int, b: int) -> tuple[int, int]:
    """Day indexes of the earlier and later of two instants, span checked."""
    first, last = table.locate(min(a, b))[0], table.locate(max(a, b))[0]
    table.check_span(first, last)
    return first, last


def _due_parts(table: DayTable, received: int, duration: Duration, standard: int) -> _DueParts:
    received_index, start, start_index = _clock(table, received)
    nominal = -1
    if duration.amount == 0:
        due_index = start_index
        due = table.end_of_day(start_index)
    elif duration.unit.is_working:
        due = table.at_work(table.work_at(start) + duration.working_seconds(standard))
        due_index = (due - table.midnight0) // DAY_SECONDS
    else:
        if duration.unit is Unit.DAYS:
            nominal = start_index + duration.whole
        else:
            last_day = add_months(table.date_of(start_index), duration.whole)
            nominal = day_number(last_day) - table.day0
        due_index = table.next_working(nominal)
        due = table.end_of_day(due_index)
    table.check_span(received_index, due_index)
    return _DueParts(received, received_index, start, start_index, due, due_index, nominal)


def _pause_seconds(
    table: DayTable, start: int, pauses: Sequence[tuple[int, int]]
) -> list[tuple[int, int, int]]:
    """Validate pauses (epoch seconds) and return (start, end, working seconds) triples."""
    result = []
    previous_end: int | None = None
    for begin, end in pauses:
        if end <= begin:
            raise BadPause(
                f"Khoảng tạm dừng không hợp lệ: thời điểm kết thúc {format_instant(end)} phải sau "
                f"thời điểm bắt đầu {format_instant(begin)}.",
                code="legaltime.pause_inverted",
            )
        if begin < start:
            raise BadPause(
                f"Khoảng tạm dừng bắt đầu {format_instant(begin)} nằm ngoài vòng đời hồ sơ: phải "
                f"từ thời điểm bắt đầu tính thời hạn {format_instant(start)} trở đi.",
                code="legaltime.pause_outside_dossier",
            )
        if previous_end is not None and begin < previous_end:
            raise BadPause(
                "Các khoảng tạm dừng phải theo thứ tự thời gian và không chồng lấn: khoảng "
                f"bắt đầu {format_instant(begin)} trước khi khoảng trước kết thúc "
                f"({format_instant(previous_end)}).",
                code="legaltime.pause_overlap",
            )
        first_index = table.locate(begin)[0]
        last_index = table.locate(end)[0]
        table.check_span(first_index, last_index)
        result.append((begin, end, table.work_at(end) - table.work_at(begin)))
        previous_end = end
    return result


def _epoch_pauses(pauses: Iterable[Pause]) -> list[tuple[int, int]]:
    converted = []
    for pause in pauses:
        try:
            begin, end = pause
        except (TypeError, ValueError):
            raise BadPause(
                f"Khoảng tạm dừng không hợp lệ: {pause!r} (cần cặp thời điểm bắt đầu, kết thúc).",
                code="legaltime.pause_shape",
            ) from None
        converted.append(
            (
                to_epoch(begin, "Thời điểm bắt đầu tạm dừng"),
                to_epoch(end, "Thời điểm kết thúc tạm dừng"),
            )
        )
    return converted


# -- public API -------------------------------------------------------------------------------


def start_of_clock(calendar: Calendar, received: datetime) -> datetime:
    """When counting starts for a dossier received at ``received``."""
    seconds = to_epoch(received, "Thời điểm tiếp nhận")

    return from_epoch(calendar.run(lambda table: _clock(table, seconds)[1]))


def explain_start(calendar: Calendar, received: datetime) -> Explanation:
    seconds = to_epoch(received, "Thời điểm tiếp nhận")

    def run(table: DayTable) -> Explanation:
        received_index, start, start_index = _clock(table, seconds)
        items = [start_item(table, seconds, start)]
        items += provisional_items(table, received_index, start_index)
        items += day_items(table, received_index, start_index)
        return Explanation(tuple(items))

    return calendar.run(run)


def due(calendar: Calendar, received: datetime, duration: Duration | str) -> datetime:
    """The due instant of a dossier received at ``received`` with a legal ``duration``."""
    seconds = to_epoch(received, "Thời điểm tiếp nhận")
    parsed = as_duration(duration)
    standard = calendar.sessions.standard_day_seconds
    return from_epoch(calendar.run(lambda table: _due_parts(table, seconds, parsed, standard).due))


@dataclass(frozen=True, slots=True)
class DueResult:
    """Result of :func:`due_with_pauses` / :func:`explain_due`."""

    received: datetime
    start: datetime
    duration: Duration
    original_due: datetime
    due: datetime
    paused_seconds: int
    provisional: bool
    calendar_code: str
    calendar_version: str
    explanation: Explanation | None = None

    @property
    def paused(self) -> Duration:
        return Duration.from_working_seconds(self.paused_seconds)


def due_with_pauses(
    calendar: Calendar,
    received: datetime,
    duration: Duration | str,
    pauses: Iterable[Pause] = (),
    *,
    explain: bool = False,
) -> DueResult:
    """Due instant moved later by exactly the working time spent in ``pauses``."""
    seconds = to_epoch(received, "Thời điểm tiếp nhận")
    parsed = as_duration(duration)
    pause_list = _epoch_pauses(pauses)
    standard = calendar.sessions.standard_day_seconds

    def run(table: DayTable) -> DueResult:
        parts = _due_parts(table, seconds, parsed, standard)
        checked = _pause_seconds(table, parts.start, pause_list)
        paused = sum(p[2] for p in checked)
        final = parts.due
        if paused:
            final = table.at_work(table.work_at(parts.due) + paused)
        final_index = (final - table.midnight0) // DAY_SECONDS
        last_index = max([final_index, *((p[1] - table.midnight0) // DAY_SECONDS for p in checked)])
        table.check_span(parts.received_index, last_index)
        provisional = table.is_provisional(parts.received_index, last_index)
        explanation = None
        if explain:
            explanation = _due_explanation(table, parts, parsed, checked, final, last_index)
        return DueResult(
            received=from_epoch(seconds),
            start=from_epoch(parts.start),
            duration=parsed,
            original_due=from_epoch(parts.due),
            due=from_epoch(final),
            paused_seconds=paused,
            provisional=provisional,
            calendar_code=calendar.code,
            calendar_version=calendar.version,
            explanation=explanation,
        )

    return calendar.run(run)


def explain_due(
    calendar: Calendar,
    received: datetime,
    duration: Duration | str,
    pauses: Iterable[Pause] = (),
) -> DueResult:
    """:func:`due_with_pauses` with its explanation."""
    return due_with_pauses(calendar, received, duration, pauses, explain=True)


def _due_explanation(
    table: DayTable,
    parts: _DueParts,
    duration: Duration,
    pauses: list[tuple[int, int, int]],
    final: int,
    last_index: int,
) -> Explanation:
    items = [start_item(table, parts.received, parts.start)]
    items += provisional_items(table, parts.received_index, last_index)
    if not duration.unit.is_working and duration.amount != 0:
        receipt_day = table.date_of(parts.start_index)
        nominal_day = table.date_of(parts.nominal_index)
        text = (
            f"Thời hạn {duration.label} tính theo Bộ luật Dân sự 2015 (Điều 147, 148): không tính "
            f"ngày tiếp nhận {format_date(receipt_day, title=False)}; ngày cuối cùng của thời hạn "
            f"là {format_date(nominal_day, title=False)}"
        )
        if duration.unit is Unit.MONTHS and nominal_day.day != receipt_day.day:
            text += f" (tháng không có ngày {receipt_day.day} nên lấy ngày cuối tháng)"
        if parts.due_index != parts.nominal_index:
            due_day = table.date_of(parts.due_index)
            text += (
                f", trùng ngày nghỉ nên hạn chuyển sang hết ngày làm việc tiếp theo "
                f"{format_date(due_day, title=False)}"
            )
        else:
            text += ", hạn là hết giờ làm việc của ngày đó"
        items.append(ExplanationItem(kind=ItemKind.RULE, text=text + ".", date=nominal_day))
    items += day_items(table, parts.received_index, last_index)
    for begin, end, worked in pauses:
        items.append(
            ExplanationItem(
                kind=ItemKind.PAUSE,
                text=(
                    f"Tạm dừng từ {format_instant(begin)} đến {format_instant(end)}: "
                    f"{format_working_time(worked)} không tính vào thời hạn."
                ),
                date=from_epoch(begin).date(),
                reason="tạm dừng",
            )
        )
    if duration.amount == 0:
        what = "giải quyết ngay trong ngày"
    else:
        what = f"{duration.label} tính từ {format_instant(parts.start)}"
    text = f"Hạn giải quyết: {format_instant(parts.due)} ({what})."
    if pauses:
        paused = sum(p[2] for p in pauses)
        text = (
            f"Hạn ban đầu: {format_instant(parts.due)} ({what}); cộng thời gian tạm dừng "
            f"{format_working_time(paused)}: hạn giải quyết {format_instant(final)}."
        )
    items.append(ExplanationItem(kind=ItemKind.RESULT, text=text, date=from_epoch(final).date()))
    return Explanation(tuple(items))


def elapsed(calendar: Calendar, start: datetime, end: datetime) -> int:
    """Working seconds between two instants (negative when ``end`` is before ``start``)."""
    a = to_epoch(start, "Thời điểm bắt đầu")
    b = to_epoch(end, "Thời điểm kết thúc")

    def run(table: DayTable) -> int:
        _span(table, a, b)
        return table.work_at(b) - table.work_at(a)

    return calendar.run(run)


def elapsed_duration(calendar: Calendar, start: datetime, end: datetime) -> Duration:
    """Working time between two instants as a duration in working hours (``end >= start``)."""
    seconds = elapsed(calendar, start, end)
    if seconds < 0:
        raise BadInstant(
            f"Thời điểm kết thúc {format_instant(end)} trước thời điểm bắt đầu "
            f"{format_instant(start)}.",
            code="legaltime.inverted_interval",
        )
    return Duration.from_working_seconds(seconds)


def explain_elapsed(calendar: Calendar, start: datetime, end: datetime) -> Explanation:
    a = to_epoch(start, "Thời điểm bắt đầu")
    b = to_epoch(end, "Thời điểm kết thúc")

    def run(table: DayTable) -> Explanation:
        first, last = _span(table, a, b)
        worked = table.work_at(b) - table.work_at(a)
        items = provisional_items(table, first, last) + day_items(table, first, last)
        items.append(
            ExplanationItem(
                kind=ItemKind.RESULT,
                text=(
                    f"Thời gian làm việc từ {format_instant(a)} đến {format_instant(b)}: "
                    f"{format_working_time(worked, calendar.standard_day_seconds)}."
                ),
                date=from_epoch(b).date(),
            )
        )
        return Explanation(tuple(items))

    return calendar.run(run)


# -- steps -------------------------------------------------------------------------------------


def _step_targets(budgets: Sequence[Duration | str], standard: int) -> list[int]:
    total = 0
    targets = []
    for number, budget in enumerate(budgets, start=1):
        parsed = as_duration(budget)
        if not parsed.is_working:
            raise BadDuration(
                f"Thời hạn bước {number} ({parsed.label}) phải tính bằng ngày hoặc giờ làm việc "
                "(wd, wh).",
                code="legaltime.not_working_unit",
            )
        total += parsed.working_seconds(standard)
        targets.append(total)
    return targets


def _step_instants(table: DayTable, seconds: int, targets: list[int]) -> tuple[int, list[int]]:
    """(clock start, cumulative step due instants) for working-second ``targets``."""
    first_index, clock, _ = _clock(table, seconds)
    base = table.work_at(clock)
    result = [table.at_work(base + t) if t else clock for t in targets]
    if result:
        table.check_span(first_index, (result[-1] - table.midnight0) // DAY_SECONDS)
    return clock, result


def step_dues(
    calendar: Calendar, start: datetime, budgets: Sequence[Duration | str]
) -> list[datetime]:
    """Cumulative due instants of ordered steps with working-time budgets."""
    seconds = to_epoch(start, "Thời điểm bắt đầu")
    targets = _step_targets(budgets, calendar.standard_day_seconds)
    instants = calendar.run(lambda table: _step_instants(table, seconds, targets)[1])
    return [from_epoch(s) for s in instants]


def explain_steps(
    calendar: Calendar, start: datetime, budgets: Sequence[Duration | str]
) -> Explanation:
    seconds = to_epoch(start, "Thời điểm bắt đầu")
    targets = _step_targets(budgets, calendar.standard_day_seconds)

    def run(table: DayTable) -> Explanation:
        clock, instants = _step_instants(table, seconds, targets)
        first = table.locate(seconds)[0]
        last = table.locate(instants[-1])[0] if instants else first
        items = [start_item(table, seconds, clock)]
        items += provisional_items(table, first, last) + day_items(table, first, last)
        for number, (budget, moment) in enumerate(zip(budgets, instants, strict=True), start=1):
            items.append(
                ExplanationItem(
                    kind=ItemKind.RESULT,
                    text=(
                        f"Bước {number} ({as_duration(budget).label}): hạn "
                        f"{format_instant(moment)}."
                    ),
                    date=from_epoch(moment).date(),
                )
            )
        return Explanation(tuple(items))

    return calendar.run(run)


# -- extension ---------------------------------------------------------------------------------


class LateApology(StrEnum):
    WARN = "warn"
    REFUSE = "refuse"


# Cited when the caller names no act: the engine does not know which rule set a dossier
# falls under (that is the dossier's rule set, `cchc.dossiers.rules`), so it never guesses one.
GENERIC_EXTENSION_BASIS = (
    "quy định về thực hiện thủ tục hành chính theo cơ chế một cửa, một cửa liên thông "
    "áp dụng cho hồ sơ"
)


@dataclass(frozen=True, slots=True)
class ExtensionPolicy:
    """Re-appointment rules: how many extensions, the apology's notice, and the act they
    come from. ``legal_basis`` is the citation printed in messages and explanations; the
    dossier's rule set supplies it (``RuleSet.extension_policy``): NĐ 61/2018 as amended
    by NĐ 107/2021 for dossiers received before 1/7/2025, NĐ 118/2025 (as amended) from
    then on. ``legal_basis_verified`` says whether that citation was checked against the
    act's text."""

    late_apology: LateApology = LateApology.WARN
    max_extensions: int = 1
    notice: Duration = field(default_factory=lambda: Duration(Decimal(1), Unit.WORKING_DAYS))
    legal_basis: str = ""
    legal_basis_verified: bool = False

    @property
    def basis(self) -> str:
        return self.legal_basis or GENERIC_EXTENSION_BASIS


@dataclass(frozen=True, slots=True)
class ExtensionResult:
    previous_due: datetime
    due: datetime
    apology_at: datetime
    extension_number: int
    late_apology: bool
    warnings: tuple[str, ...]
    explanation: Explanation | None = None


def extend(
    calendar: Calendar,
    *,
    current_due: datetime,
    new_due: datetime,
    apology_at: datetime,
    extensions_so_far: int = 0,
    policy: ExtensionPolicy | None = None,
    explain: bool = False,
) -> ExtensionResult:
    """Apology + new appointment: allowed once; a late apology warns or refuses per policy."""
    rules = policy if policy is not None else ExtensionPolicy()
    current = to_epoch(current_due, "Hạn giải quyết hiện tại")
    proposed = to_epoch(new_due, "Hạn hẹn lại")
    apology = to_epoch(apology_at, "Thời điểm gửi văn bản xin lỗi")
    if extensions_so_far >= rules.max_extensions:
        raise ExtensionRefused(
            f"Hồ sơ đã được hẹn lại ngày trả kết quả {extensions_so_far} lần; không được gia hạn "
            f"thêm (tối đa {rules.max_extensions} lần theo {rules.basis}).",
            code="legaltime.extension_limit",
        )
    if proposed <= current:
        raise ExtensionRefused(
            f"Hạn hẹn lại {format_instant(proposed)} phải sau hạn hiện tại "
            f"{format_instant(current)}.",
            code="legaltime.extension_not_later",
        )
    notice = rules.notice.working_seconds(calendar.standard_day_seconds)
    ahead = elapsed(calendar, apology_at, current_due)
    late = ahead < notice
    warnings: list[str] = []
    if late:
        message = (
            f"Văn bản xin lỗi và hẹn lại gửi lúc {format_instant(apology)}, muộn hơn thời hạn "
            f"chậm nhất {rules.notice.label} trước hạn giải quyết {format_instant(current)} "
            f"({rules.basis})."
        )
        if rules.late_apology is LateApology.REFUSE:
            raise ExtensionRefused(message, code="legaltime.extension_late_apology")
        warnings.append(message)
    number = extensions_so_far + 1
    explanation = None
    if explain:
        items = [
            ExplanationItem(
                kind=ItemKind.EXTENSION,
                text=(
                    f"Hẹn lại ngày trả kết quả lần {number} (văn bản xin lỗi gửi lúc "
                    f"{format_instant(apology)}): hạn giải quyết chuyển từ "
                    f"{format_instant(current)} sang {format_instant(proposed)}."
                ),
                date=from_epoch(proposed).date(),
                reason="hẹn lại ngày trả kết quả",
                source=rules.basis,
                verified=rules.legal_basis_verified,
            )
        ]
        items += [ExplanationItem(kind=ItemKind.WARNING, text=w) for w in warnings]
        explanation = Explanation(tuple(items))
    return ExtensionResult(
        previous_due=from_epoch(current),
        due=from_epoch(proposed),
        apology_at=from_epoch(apology),
        extension_number=number,
        late_apology=late,
        warnings=tuple(warnings),
        explanation=explanation,
    )


# -- outcome -----------------------------------------------------------------------------------


class Outcome(StrEnum):
    EARLY = "early"
    ON_TIME = "on_time"
    OVERDUE = "overdue"
    IN_PROGRESS = "in_progress"
    OVERDUE_IN_PROGRESS = "overdue_in_progress"

    @property
    def label(self) -> str:
        return OUTCOME_LABELS[self]

    @property
    def code_number(self) -> int:
        return OUTCOME_CODES[self]


OUTCOME_LABELS = {
    Outcome.EARLY: "trước hạn",
    Outcome.ON_TIME: "đúng hạn",
    Outcome.OVERDUE: "quá hạn",
    Outcome.IN_PROGRESS: "đang xử lý",
    Outcome.OVERDUE_IN_PROGRESS: "quá hạn đang xử lý",
}
OUTCOME_CODES = {outcome: number for number, outcome in enumerate(Outcome)}
OUTCOME_BY_CODE = dict(enumerate(Outcome))


class Granularity(StrEnum):
    TIMESTAMP = "timestamp"
    DATE = "date"


def _at(seconds: int, granularity: Granularity) -> int:
    """The instant compared at ``granularity``: itself, or its local (UTC+7) day number."""
    if Granularity(granularity) is Granularity.DATE:
        return (seconds + 7 * 3600) // DAY_SECONDS
    return seconds


def classify(
    due: datetime,
    *,
    finished: datetime | None = None,
    at: datetime | None = None,
    overdue_granularity: Granularity = Granularity.TIMESTAMP,
    early_granularity: Granularity = Granularity.DATE,
) -> Outcome:
    """Outcome of a finished dossier, or of an open one at report instant ``at``."""
    limit = to_epoch(due, "Hạn giải quyết")
    if finished is not None:
        done = to_epoch(finished, "Thời điểm hoàn thành")
        if _at(done, overdue_granularity) > _at(limit, overdue_granularity):
            return Outcome.OVERDUE
        if _at(done, early_granularity) < _at(limit, early_granularity):
            return Outcome.EARLY
        return Outcome.ON_TIME
    if at is None:
        raise BadInstant(
            "Cần thời điểm hoàn thành (hồ sơ đã giải quyết) hoặc thời điểm báo cáo (hồ sơ đang "
            "xử lý) để phân loại.",
            code="legaltime.missing_instant",
        )
    now = to_epoch(at, "Thời điểm báo cáo")
    if _at(now, overdue_granularity) > _at(limit, overdue_granularity):
        return Outcome.OVERDUE_IN_PROGRESS
    return Outcome.IN_PROGRESS
