"""Fast generation of many realistic dossiers (hồ sơ mẫu số lượng lớn) for benchmarks.

`generate` writes what the services would write for each dossier — the `Dossier` row, its
events (the same actions, actors, data payloads and order as `intake.receive_at_desk`,
`submit_online` and `act`), components, fees, results and the code counter — but with raw
bulk inserts (PostgreSQL COPY, SQLite executemany in one transaction) instead of one
service call per event. The projection columns are computed with the vectorised legal-time
path (`cchc.legaltime.bulk_*`), so that `services.project(dossier).stored()` reproduces them
exactly; the few dossiers with an apology (form 04) are projected by `replay.project` itself.

Not written: audit-log entries and citizen notifications (side records of the services,
not part of the dossier or its projection), uploaded files. The generator assumes it is the
only writer while it runs (it allocates ids and code numbers itself).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import numpy as np
import numpy.typing as npt
from django.core.management.color import no_style
from django.db import connection, transaction

from cchc import legaltime
from cchc.calendars.services import DEFAULT_CALENDAR, calendar_for
from cchc.dossiers import replay, rules, signals
from cchc.dossiers.models import (
    OPEN_STATES,
    PAUSED_STATES,
    CodeCounter,
    Dossier,
    DossierComponent,
    DossierEvent,
    DossierFee,
    DossierResult,
    State,
)
from cchc.legaltime import NO_INSTANT, UNIT_CODES, bulk_due, bulk_elapsed, bulk_start
from cchc.legaltime.instants import from_epoch
from cchc.vietnamese import fold

I64 = npt.NDArray[np.int64]
HOUR = 3600
DAY = 86400
VN_OFFSET = 7 * HOUR

# -- lifecycles ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Lifecycle:
    """One shape of a dossier's life: the actions after `submit`, in order."""

    name: str
    actions: tuple[str, ...]
    finished: bool
    weight: float  # share among the finished (or among the open) dossiers
    online_only: bool = False
    fallback: str = ""  # used when the timeline does not fit (too recent, too short)


FINISHED = (
    Lifecycle("returned", ("receive", "assign", "propose", "approve", "return_result"), True, 0.78),
    Lifecycle(
        "returned_supplement",
        (
            "receive",
            "assign",
            "request_supplement",
            "supplement_received",
            "propose",
            "approve",
            "return_result",
        ),
        True,
        0.08,
    ),
    Lifecycle(
        "returned_obligation",
        (
            "receive",
            "assign",
            "request_obligation",
            "obligation_met",
            "propose",
            "approve",
            "return_result",
        ),
        True,
        0.03,
    ),
    Lifecycle(
        "returned_apology",
        ("receive", "assign", "apologise", "propose", "approve", "return_result"),
        True,
        0.005,
        fallback="returned",
    ),
    Lifecycle("resolved", ("receive", "assign", "propose", "approve"), True, 0.025),
    Lifecycle("refused", ("receive", "assign", "refuse"), True, 0.025),
    Lifecycle("refused_at_intake", ("refuse_intake",), True, 0.02, online_only=True),
    Lifecycle("withdrawn", ("receive", "withdraw"), True, 0.01),
    Lifecycle("stopped", ("receive", "assign", "request_supplement", "stop"), True, 0.005),
)
OPEN = (
    Lifecycle("submitted", (), False, 0.08, online_only=True),
    Lifecycle("received", ("receive",), False, 0.12),
    Lifecycle("in_progress", ("receive", "assign"), False, 0.42, fallback="received"),
    Lifecycle(
        "in_progress_supplemented",
        ("receive", "assign", "request_supplement", "supplement_received"),
        False,
        0.06,
        fallback="received",
    ),
    Lifecycle(
        "awaiting_approval", ("receive", "assign", "propose"), False, 0.15, fallback="received"
    ),
    Lifecycle(
        "awaiting_supplement",
        ("receive", "assign", "request_supplement"),
        False,
        0.1,
        fallback="received",
    ),
    Lifecycle(
        "awaiting_obligation",
        ("receive", "assign", "request_obligation"),
        False,
        0.05,
        fallback="received",
    ),
    Lifecycle(
        "open_apology", ("receive", "assign", "apologise"), False, 0.02, fallback="in_progress"
    ),
)
LIFECYCLES = FINISHED + OPEN
BY_NAME = {c.name: c for c in LIFECYCLES}
INDEX = {c.name: i for i, c in enumerate(LIFECYCLES)}
MAX_EVENTS = 1 + max(len(c.actions) for c in LIFECYCLES)

REASONS = {
    "refuse_intake": (
        "Hồ sơ không thuộc thẩm quyền tiếp nhận của cơ quan.",
        "Hồ sơ trực tuyến thiếu bản chụp giấy tờ bắt buộc.",
    ),
    "request_supplement": (
        "Đề nghị bổ sung bản sao giấy tờ tùy thân còn hiệu lực.",
        "Tờ khai chưa ghi đầy đủ thông tin; đề nghị hoàn thiện.",
        "Đề nghị bổ sung văn bản ủy quyền có chứng thực.",
    ),
    "request_obligation": ("Chờ người nộp nộp lệ phí, thuế theo thông báo.",),
    "refuse": ("Không đủ điều kiện theo quy định của pháp luật.",),
    "stop": ("Người nộp không bổ sung hồ sơ trong thời hạn quy định.",),
    "withdraw": ("Người nộp đề nghị rút hồ sơ.",),
    "apologise": ("Hồ sơ cần xác minh thêm tại cơ quan liên quan.",),
}
DESK_ACTIONS = frozenset(
    {"receive", "refuse_intake", "supplement_received", "obligation_met", "return_result",
     "withdraw"}
)  # fmt: skip
LEADER_ACTIONS = frozenset({"assign", "approve", "refuse", "stop"})
NEXT_STATE = {
    "submit": State.SUBMITTED,
    "receive": State.RECEIVED,
    "refuse_intake": State.REFUSED_AT_INTAKE,
    "assign": State.IN_PROGRESS,
    "request_supplement": State.AWAITING_SUPPLEMENT,
    "supplement_received": State.IN_PROGRESS,
    "request_obligation": State.AWAITING_OBLIGATION,
    "obligation_met": State.IN_PROGRESS,
    "propose": State.AWAITING_APPROVAL,
    "approve": State.RESOLVED,
    "return_result": State.RETURNED,
    "refuse": State.REFUSED,
    "stop": State.STOPPED,
    "withdraw": State.WITHDRAWN,
    "apologise": None,
}


def _steps_after(actions: Sequence[str], steps: int) -> list[int | None]:
    """The `step` each action writes in its data (None: no step), as `services._prepare`
    computes it for a procedure with `steps` internal steps."""
    index = 0
    out: list[int | None] = []
    state = State.SUBMITTED
    for action in actions:
        step: int | None = None
        if action == "assign" and state == State.RECEIVED:
            step = min(index + 1, max(steps - 1, 0))
        elif action == "approve":
            step = max(steps - 1, 0)
        elif action == "propose":
            step = max(index + 1, steps - 2)
            if steps and not (0 <= step < steps):
                step = steps - 1
        if step is not None:
            index = step
        out.append(step)
        state = NEXT_STATE[action] or state
    return out


# -- inputs -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Staff:
    """Who acts: desk officers of the desk, and per competent agency its processing officers
    and leaders (agency id -> users); citizens submit online (anonymous if none)."""

    desk_officers: Sequence[Any]
    officers: Mapping[int, Sequence[Any]]
    leaders: Mapping[int, Sequence[Any]]
    citizens: Sequence[Any] = ()


@dataclass(frozen=True)
class Seasonality:
    """Relative intake per receipt day: a factor per calendar month (January first), times
    a factor for the weeks around Tết (`tet_weeks`: (first day, last day, factor) with days
    counted from mùng 1 Tết), on working days of the desk's calendar only (holidays, Tết
    included, and weekends get nothing)."""

    months: tuple[float, ...] = (1.0,) * 12
    tet: dt.date | None = None
    tet_weeks: tuple[tuple[int, int, float], ...] = ()

    def weights(self, days: I64, cal: legaltime.Calendar) -> npt.NDArray[np.float64]:
        """Weight of each local day (days since 1970-01-01)."""
        epoch = dt.date(1970, 1, 1)
        out = np.zeros(days.size, dtype=np.float64)
        for i, number in enumerate(days.tolist()):
            day = epoch + dt.timedelta(days=number)
            if not cal.is_working_day(day):
                continue
            factor = self.months[day.month - 1]
            if self.tet is not None:
                offset = (day - self.tet).days
                for first, last, value in self.tet_weeks:
                    if first <= offset <= last:
                        factor *= value
            out[i] = factor
        return out


@dataclass(frozen=True)
class Profile:
    """Calibration of the generated mix (spec 04 figures; see `cchc.demo.scale`). The
    defaults reproduce the original generator draw for draw; every new behaviour is off.

    `channels` — shares of (direct, online, postal). With `online_needs_service`, the online
    share applies to the dossiers of procedures offering an online service (indicator T9's
    denominator); the others are direct or postal. `outcomes` — target shares of (early,
    on time, overdue) among finished dossiers (None: the original mix); a target that the
    timeline cannot give (early for a same-day procedure) falls to the next possible one.
    `weights` — lifecycle weights by name, overriding `Lifecycle.weight`. `zipf` — exponent
    of procedure popularity by rank in `procedures`. `intake` — receipt-day seasonality
    (None: uniform over all days, as originally). `digitised` — share of desk and postal
    dossiers whose components are scanned at intake (None: only online ones, as originally);
    `reused` — share of digitised dossiers reusing a document from the citizen's data store.
    `paid` — share of fee-bearing received dossiers whose fees are paid (a `pay` event with
    its receipt), `paid_online` — of those submitted online, the share paid through the
    gateway right after submission (the others pay cash at the desk on receipt). `rated` —
    share of returned dossiers with an applicant account that rate the service, `ratings` —
    shares of (satisfied, neutral, dissatisfied)."""

    channels: tuple[float, float, float] = (0.55, 0.4, 0.05)
    online_needs_service: bool = False
    outcomes: tuple[float, float, float] | None = None
    weights: Mapping[str, float] = field(default_factory=dict)
    zipf: float = 1.0
    intake: Seasonality | None = None
    digitised: float | None = None
    reused: float = 0.0
    paid: float = 0.0
    paid_online: float = 0.0
    rated: float = 0.0
    ratings: tuple[float, float, float] = (0.9, 0.08, 0.02)

    def weight(self, cycle: Lifecycle) -> float:
        return float(self.weights.get(cycle.name, cycle.weight))


DEFAULT_PROFILE = Profile()
RATINGS = ("satisfied", "neutral", "dissatisfied")


@dataclass
class Generated:
    dossiers: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    states: dict[str, int] = field(default_factory=dict)
    overdue_open: int = 0
    at_risk: int = 0
    first_id: int = 0
    last_id: int = 0

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


@dataclass
class _Proc:
    obj: Any
    agencies: list[int]
    amount: float
    unit: int
    steps: int
    step_plan: str
    targets: list[int] | None  # cumulative working seconds per step; None if not working units
    budgets: list[str]
    docs: list[tuple[int, str, int, int]]
    fees: list[tuple[str, int]]
    fee_total: int
    electronic: bool
    result_title: str  # JSON-encoded
    result_plain: str
    folded: str
    matter: str


def _label(user: Any) -> str:
    if user is None or getattr(user, "pk", None) is None:
        return "hệ thống"
    return getattr(user, "full_name", "") or user.username


FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi",
          "Đỗ", "Hồ", "Ngô", "Dương", "Lý", "Giáp", "Thân", "Chu", "Đào")  # fmt: skip
MIDDLE = ("Văn", "Thị", "Hữu", "Đức", "Thu", "Minh", "Ngọc", "Quang", "Thanh", "Xuân", "Hồng")
GIVEN = ("An", "Bình", "Chi", "Dũng", "Giang", "Hà", "Hải", "Hạnh", "Hòa", "Hùng", "Hương",
         "Khánh", "Lan", "Linh", "Long", "Mai", "Minh", "Nam", "Nga", "Phong", "Phương", "Quân",
         "Sơn", "Tâm", "Thảo", "Thắng", "Trang", "Trung", "Tuấn", "Yến")  # fmt: skip
COMPANY = ("Công ty TNHH {} Bắc Giang", "Công ty cổ phần {} Kinh Bắc", "Hợp tác xã {}")
TRADE = ("Xây dựng Hưng Thịnh", "Thương mại Minh Phát", "Vận tải Đông Bắc", "Nông sản Lục Ngạn",
         "Dịch vụ An Khang", "Cơ khí Việt Yên")  # fmt: skip
STREETS = ("Hoàng Văn Thụ", "Nguyễn Văn Cừ", "Lê Lợi", "Trần Phú", "Ngô Gia Tự", "Xương Giang")


# -- time helpers -------------------------------------------------------------------------------


def _shift(cal: legaltime.Calendar, instants: I64, seconds: npt.ArrayLike) -> I64:
    """Instants moved later by working seconds (as `legaltime.due` with a working-hours
    duration: a start after the cut-off counts from the next working day)."""
    work = np.asarray(seconds, dtype=np.int64)
    out = instants.copy()
    rows = np.flatnonzero(work > 0)
    if rows.size:
        out[rows] = bulk_due(cal, instants[rows], work[rows] / 3600.0, "wh")
    return out


def _epoch(moment: dt.datetime) -> int:
    return int(moment.timestamp())


def _stamps(values: I64, postgres: bool) -> list[str | None]:
    """Epoch seconds to the text the backend stores for an aware datetime (UTC)."""
    missing = values == NO_INSTANT
    text = np.datetime_as_string(np.where(missing, 0, values).astype("datetime64[s]"), unit="s")
    suffix = "+00" if postgres else ""
    out: list[str | None] = [f"{t[:10]} {t[11:]}{suffix}" for t in text.tolist()]
    for i in np.flatnonzero(missing).tolist():
        out[i] = None
    return out


_EPOCH = dt.datetime(1970, 1, 1)


def _stamp(value: int, postgres: bool) -> str:
    """One epoch instant as `_stamps` writes it."""
    text = (_EPOCH + dt.timedelta(seconds=value)).strftime("%Y-%m-%d %H:%M:%S")
    return f"{text}+00" if postgres else text


def _working_snap(rng: np.random.Generator, local_days: I64) -> I64:
    """An instant (epoch) in office hours on each local day, weekends moved to Monday."""
    weekday = (local_days + 3) % 7  # 1970-01-01 was a Thursday (Mon = 0)
    days = local_days + np.where(weekday == 5, 2, np.where(weekday == 6, 1, 0))
    seconds = rng.integers(7 * HOUR + 40 * 60, 16 * HOUR + 50 * 60, size=days.size)
    result: I64 = days * DAY - VN_OFFSET + seconds
    return result


# -- generation ---------------------------------------------------------------------------------


class _Plan:
    """Everything decided per dossier before writing: lifecycle, procedure, agency, channel,
    event instants (matrix: one column per position of the lifecycle's event list)."""

    def __init__(self, n: int) -> None:
        self.cycle = np.zeros(n, dtype=np.int16)
        self.proc = np.zeros(n, dtype=np.int32)
        self.agency = np.zeros(n, dtype=np.int64)
        self.channel = np.ones(n, dtype=np.int8)
        self.times = np.full((n, MAX_EVENTS), NO_INSTANT, dtype=np.int64)
        self.received = np.full(n, NO_INSTANT, dtype=np.int64)
        self.clock = np.full(n, NO_INSTANT, dtype=np.int64)
        self.original_due = np.full(n, NO_INSTANT, dtype=np.int64)
        self.due = np.full(n, NO_INSTANT, dtype=np.int64)
        self.paused = np.zeros(n, dtype=np.int64)
        self.pause_start = np.full(n, NO_INSTANT, dtype=np.int64)
        self.pause_end = np.full(n, NO_INSTANT, dtype=np.int64)
        self.exact: dict[int, tuple[list[dict[str, Any]], dict[str, Any]]] = {}
        # Profile extras: payment (0 none, 1 cash at receipt, 2 online after submission),
        # rating (index into RATINGS + 1; 0 none), their instants, digitisation, reuse.
        self.pay = np.zeros(n, dtype=np.int8)
        self.pay_at = np.full(n, NO_INSTANT, dtype=np.int64)
        self.rating = np.zeros(n, dtype=np.int8)
        self.rate_at = np.full(n, NO_INSTANT, dtype=np.int64)
        self.digitised: npt.NDArray[np.bool_] | None = None  # None: online ones (original)
        self.reused = np.zeros(n, dtype=bool)
        self.profile = DEFAULT_PROFILE


def generate(
    n: int,
    *,
    seed: int,
    start: dt.datetime,
    end: dt.datetime,
    desk: Any,
    procedures: Sequence[Any],
    agencies: Sequence[Any],
    users: Staff,
    now: dt.datetime,
    open_share: float = 0.1,
    batch: int = 20_000,
    progress: Callable[[int], None] | None = None,
    profile: Profile = DEFAULT_PROFILE,
    is_demo: bool = False,
    notify: bool = True,
) -> Generated:
    """Write `n` dossiers received at `desk` between `start` and `now` (open ones in the weeks
    before `now`, finished ones spread over `start` .. `end`), with their events.

    `procedures` must be competent at some of `agencies` (matched on agency type and the
    desk's `receives_for`). `profile` calibrates the mix (the default is the original one);
    `is_demo` flags the dossiers as demo data. `notify=False` leaves sending
    `dossiers_bulk_loaded` to the caller (one rebuild after several desks). Raises
    ValueError when the inputs cannot produce valid dossiers (desk not valid in the period,
    more than 9 999 codes in a day, no officer at an agency).
    """
    began = time.perf_counter()
    rng = np.random.default_rng(seed)
    # Draws of the profile's extras come from a second stream, so that the default profile
    # reproduces the original dossiers exactly.
    extra = np.random.default_rng([seed, 0x5CA1E])
    cal_code = desk.calendar.code if desk.calendar_id else DEFAULT_CALENDAR
    cal = calendar_for(cal_code, saturday_reception=desk.saturday_reception)
    version = int(cal.version.rsplit("@v", 1)[1])
    receiving = desk.host_agency
    procs = _procedures(procedures, agencies, desk, start, now, cal)
    for p in procs:
        for agency_id in p.agencies:
            if not users.officers.get(agency_id) or not users.leaders.get(agency_id):
                raise ValueError(f"no processing officer or leader for agency {agency_id}")
    if not users.desk_officers:
        raise ValueError("no desk officer")
    for day in (start.date(), now.date()):
        if not desk.is_valid_on(day):
            raise ValueError(f"desk {desk.code} is not valid on {day}")

    plan = _plan(
        n,
        rng,
        cal,
        procs,
        users,
        start=start,
        end=end,
        now=now,
        open_share=open_share,
        profile=profile,
    )
    _exact_rows(plan, rng, cal, procs, users, now=now, version=version)
    order = np.argsort(plan.times[:, 0], kind="stable")  # ids follow submission time
    _permute(plan, order)
    _extras(plan, extra, procs, profile, now_s=_epoch(now))
    codes, counters = _codes(plan.times[:, 0], receiving.code)

    result = Generated(dossiers=n)
    with transaction.atomic():
        writer = _Writer()
        models = [Dossier, DossierEvent, DossierComponent, DossierFee, DossierResult]
        payments = _Payments.load() if (plan.pay > 0).any() else None
        if payments is not None:
            models += [payments.Receipt, payments.PaymentOrder]
        ids = {m: writer.next_id(m) for m in models}
        result.first_id = ids[Dossier]
        builder = _RowBuilder(plan, procs, users, cal, desk, receiving, codes, version, now, rng)
        builder.is_demo = is_demo
        builder.payments = payments
        builder.extra = extra
        for lo in range(0, n, batch):
            hi = min(n, lo + batch)
            tables = builder.rows(lo, hi, ids)
            for model, rows in tables.items():
                writer.insert(model, _COLUMNS.get(model) or _columns(model), rows)
                result.rows[model._meta.db_table] = result.rows.get(model._meta.db_table, 0) + len(
                    rows
                )
                ids[model] += len(rows)
            if progress is not None:
                progress(hi)
        writer.finish()
        _save_counters(receiving.code, counters)
        result.rows[CodeCounter._meta.db_table] = len(counters)
        if payments is not None:
            payments.save_counters()
        result.last_id = ids[Dossier] - 1
        result.states = builder.states
        result.overdue_open = builder.overdue_open
        result.at_risk = builder.at_risk
        # Derived data kept by other apps (the indicator aggregates) is recomputed in the
        # same transaction.
        if notify:
            signals.dossiers_bulk_loaded.send(
                sender=Dossier, first_id=result.first_id, last_id=result.last_id
            )
    result.seconds = time.perf_counter() - began
    return result


def _procedures(
    procedures: Sequence[Any],
    agencies: Sequence[Any],
    desk: Any,
    start: dt.datetime,
    now: dt.datetime,
    cal: legaltime.Calendar,
) -> list[_Proc]:
    out = []
    standard = cal.standard_day_seconds
    # `intake.competent_agency_for` on both days, with the desk's agencies read once.
    received = [
        {(a.pk, a.agency_type_id) for a in desk.receives_for.valid_on(day)}
        for day in (start.date(), now.date())
    ]
    both = received[0] & received[1]
    for proc in procedures:
        allowed = {pk for pk, kind in both if kind == proc.competent_agency_type_id}
        chosen = sorted(a.pk for a in agencies if a.pk in allowed)
        if not chosen:
            raise ValueError(f"no agency among `agencies` is competent for {proc.code}")
        if not proc.active:
            raise ValueError(f"procedure {proc.code} is not active")
        parsed = legaltime.parse_duration(proc.duration_spec)
        steps = list(proc.steps.all())
        budgets = [s.duration_spec for s in steps]
        targets: list[int] | None = []
        total = 0
        for budget in budgets:
            duration = legaltime.parse_duration(budget)
            if not duration.is_working:
                targets = None
                break
            total += duration.working_seconds(standard)
            targets.append(total)  # type: ignore[union-attr]
        plan = [{"name": s.name, "budget": s.duration_spec} for s in steps]
        out.append(
            _Proc(
                obj=proc,
                agencies=chosen,
                amount=float(parsed.amount),
                unit=UNIT_CODES[parsed.unit],
                steps=len(steps),
                step_plan=json.dumps(plan),
                targets=targets,
                budgets=budgets,
                docs=[
                    (d.pk, d.name, d.originals, d.copies)
                    for d in proc.documents.all()
                    if d.mandatory
                ],
                fees=[(f.name, f.amount) for f in proc.fees.all()],
                fee_total=sum(f.amount for f in proc.fees.all()),
                electronic=proc.result_type != "paper",
                result_title=json.dumps(f"Kết quả giải quyết: {proc.name}"[:300]),
                result_plain=f"Kết quả giải quyết: {proc.name}"[:300],
                folded=fold(f"{proc.code} {proc.name}"),
                matter=proc.name[:500],
            )
        )
    return out


def _plan(
    n: int,
    rng: np.random.Generator,
    cal: legaltime.Calendar,
    procs: list[_Proc],
    users: Staff,
    *,
    start: dt.datetime,
    end: dt.datetime,
    now: dt.datetime,
    open_share: float,
    profile: Profile = DEFAULT_PROFILE,
) -> _Plan:
    plan = _Plan(n)
    plan.profile = profile
    now_s = _epoch(now)
    is_open = rng.random(n) < open_share
    for group, cycles in ((~is_open, FINISHED), (is_open, OPEN)):
        rows = np.flatnonzero(group)
        weights = np.array([profile.weight(c) for c in cycles])
        pick = rng.choice(len(cycles), size=rows.size, p=weights / weights.sum())
        plan.cycle[rows] = np.array([INDEX[c.name] for c in cycles])[pick]
    # A few procedures carry most of the load (Zipf-like), like a real catalogue.
    popularity = 1.0 / np.arange(1, len(procs) + 1) ** profile.zipf
    plan.proc = rng.choice(len(procs), size=n, p=popularity / popularity.sum()).astype(np.int32)
    plan.agency = np.array(
        [procs[p].agencies[rng.integers(len(procs[p].agencies))] for p in plan.proc.tolist()],
        dtype=np.int64,
    )
    online_only = np.isin(plan.cycle, [INDEX[c.name] for c in LIFECYCLES if c.online_only])
    if not profile.online_needs_service:
        plan.channel = rng.choice(
            np.array([1, 2, 3], dtype=np.int8), size=n, p=list(profile.channels)
        )
        plan.channel[online_only & (plan.channel == 1)] = 2
    else:
        _direct, online, postal = profile.channels  # direct: the rest
        offered = np.array([p.obj.online_level != "none" for p in procs])[plan.proc]
        roll = rng.random(n)
        plan.channel = np.where(
            roll < postal, 3, np.where(offered & (roll < postal + online), 2, 1)
        ).astype(np.int8)
        # Online-only lives need an online service: without one, the desk received it.
        swap = {"submitted": "received", "refused_at_intake": "refused"}
        for name, other in swap.items():
            rows = (plan.cycle == INDEX[name]) & ~offered
            plan.cycle[rows] = INDEX[other]
        online_only = np.isin(plan.cycle, [INDEX[c.name] for c in LIFECYCLES if c.online_only])
        plan.channel[online_only & (plan.channel == 1)] = 2

    # Receipt instants: finished ones over [start, end], open ones in the weeks before now.
    first_day = (_epoch(start) + VN_OFFSET) // DAY
    last_day = (min(_epoch(end), now_s) + VN_OFFSET) // DAY
    finished = ~is_open
    if profile.intake is None:
        days = rng.integers(first_day, last_day + 1, size=n)
        received = _working_snap(rng, days)
        back = np.minimum(rng.exponential(6 * DAY, size=n), 60 * DAY).astype(np.int64) + 1800
        received[is_open] = now_s - back[is_open]
    else:
        # Working days only, weighted by the season; open ones in the last weeks.
        span = np.arange(first_day, last_day + 1, dtype=np.int64)
        weights = profile.intake.weights(span, cal)
        days = rng.choice(span, size=n, p=weights / weights.sum())
        recent = span[span >= (now_s + VN_OFFSET) // DAY - 60]
        fresh = profile.intake.weights(recent, cal) > 0
        recent = recent[fresh]
        decay = np.exp(-(recent[-1] - recent) / 6.0)
        days[is_open] = rng.choice(recent, size=int(is_open.sum()), p=decay / decay.sum())
        seconds = rng.integers(7 * HOUR + 40 * 60, 16 * HOUR + 50 * 60, size=n)
        received = days * DAY - VN_OFFSET + seconds
        late = is_open & (received > now_s - 1800)
        received[late] = now_s - rng.integers(1800, 4 * HOUR, size=int(late.sum()))
    received = np.minimum(received, now_s - 600)
    received[finished] = np.maximum(received[finished], _epoch(start))
    plan.received = received
    _timelines(plan, rng, cal, procs, now_s=now_s, start_s=_epoch(start))
    return plan


def _timelines(
    plan: _Plan,
    rng: np.random.Generator,
    cal: legaltime.Calendar,
    procs: list[_Proc],
    *,
    now_s: int,
    start_s: int,
) -> None:
    """Event instants and clocks, one lifecycle at a time (vectorised over its dossiers)."""
    standard = cal.standard_day_seconds
    amounts = np.array([p.amount for p in procs])
    units = np.array([p.unit for p in procs], dtype=np.int8)
    online = plan.channel != 1
    received = plan.received
    submitted = received - np.where(
        online, rng.integers(600, 2 * DAY, size=received.size), 0
    ).astype(np.int64)
    for _attempt in range(8):
        todo = np.flatnonzero(plan.times[:, 0] == NO_INSTANT)
        if not todo.size:
            return
        # Finished dossiers whose timeline ran past `now` last time start earlier this time.
        for cycle in LIFECYCLES:
            rows = todo[plan.cycle[todo] == INDEX[cycle.name]]
            if not rows.size:
                continue
            if not cycle.actions or cycle.actions[0] != "receive":
                # Never received: submitted only, or refused at intake.
                times = plan.times[rows]
                times[:, 0] = submitted[rows]
                if cycle.actions:
                    times[:, 1] = submitted[rows] + rng.integers(HOUR, 3 * DAY, size=rows.size)
                keep = times[:, len(cycle.actions)] < now_s
                plan.times[rows[keep]] = times[keep]
                _retry(plan, rows[~keep], received, submitted, rng, start_s)
                continue
            fits = _received_cycle(
                plan, rows, cycle, rng, cal, amounts, units, standard, submitted, now_s
            )
            if cycle.finished:
                _retry(plan, rows[~fits], received, submitted, rng, start_s)
            elif not fits.all():
                plan.cycle[rows[~fits]] = INDEX[cycle.fallback]
    if (plan.times[:, 0] == NO_INSTANT).any():
        raise ValueError("could not fit every finished dossier's timeline before `now`")


def _pause_actions(actions: Sequence[str]) -> tuple[str | None, str | None]:
    """The lifecycle's pausing request and its resumption (None where absent)."""
    begin = next((a for a in actions if a.startswith("request_")), None)
    end = next((a for a in actions if a in replay.RESUMING), None)
    return begin, end


def _place_pause(
    actions: Sequence[str],
    work: dict[str, I64],
    start: I64,
    budget: I64,
    standard: int,
    u: Callable[[int], npt.NDArray[np.float64]],
) -> I64:
    """Place a finished lifecycle's pause after `start` working seconds (the request within
    the first 40 % of the budget, the resumption 0.5–8 working days later) in `work`;
    returns the working seconds of the last action placed."""
    pause_begin, pause_end = _pause_actions(actions)
    k = start.size
    last = start
    if pause_begin:
        last = start + 600 + (u(k) * 0.4 * budget).astype(np.int64)
        work[pause_begin] = last
        if pause_end:
            length = (u(k) * 7.5 + 0.5) * standard
            last = last + length.astype(np.int64)
            work[pause_end] = last
    return last


def _due_after_pause(
    cal: legaltime.Calendar,
    clock: I64,
    received: I64,
    amounts: npt.NDArray[np.float64],
    units: npt.NDArray[np.int8],
    actions: Sequence[str],
    work: dict[str, I64],
    due: I64,
) -> I64:
    """`due` moved by the lifecycle's closed pause, if it has one (as the replay does)."""
    pause_begin, pause_end = _pause_actions(actions)
    if not (pause_begin and pause_end):
        return due
    begin = _shift(cal, clock, work[pause_begin])
    finish = _shift(cal, clock, work[pause_end])
    return bulk_due(cal, received, amounts, units, paused=bulk_elapsed(cal, begin, finish))


def _targeted_finish(
    rows: npt.NDArray[np.intp],
    cycle: Lifecycle,
    rng: np.random.Generator,
    cal: legaltime.Calendar,
    clock: I64,
    received: I64,
    budget: I64,
    amounts: npt.NDArray[np.float64],
    units: npt.NDArray[np.int8],
    targets: tuple[float, float, float],
) -> tuple[dict[str, I64], I64]:
    """Working seconds after the clock start of each action of a finished lifecycle, with
    the finishing action placed to give the target outcome: early (a working day before
    the due's day), on time (on the due's day, not after the due) or overdue. Returns the
    offsets and the due (after the pause, if any)."""
    k = rows.size
    u = rng.random
    standard = cal.standard_day_seconds
    actions = cycle.actions
    work: dict[str, I64] = {}
    # Same-day procedures are assigned within minutes; others within hours.
    w = np.minimum(rng.integers(900, 4 * HOUR, size=k), np.maximum(budget // 6, 300))
    if "assign" in actions:
        work["assign"] = w
    if "apologise" in actions:
        work["apologise"] = w + 60
    last = _place_pause(actions, work, w, budget, standard, u)
    due = _due_after_pause(
        cal, clock, received, amounts, units, actions, work, bulk_due(cal, received, amounts, units)
    )
    total = bulk_elapsed(cal, clock, due)
    day_start = ((due + VN_OFFSET) // DAY) * DAY - VN_OFFSET
    before_day = bulk_elapsed(cal, clock, np.maximum(day_start, clock))
    gap = np.minimum(2 * HOUR, np.maximum((total - last) // 4, 120))
    low = last + gap
    early_high = before_day - 60  # still on a working day before the due's day
    on_low = np.maximum(low, before_day + 60)
    on_high = total - 60
    can_early = early_high > low
    can_on_time = on_high > on_low
    # Dossiers that can finish early take the early share of those that cannot (same-day
    # procedures), so that the batch's shares meet the targets; the rest is split between
    # on time and overdue in the targets' proportion.
    early, on_time, overdue = targets
    possible = float(can_early.mean()) if k else 0.0
    p_early = np.where(can_early, min(early / possible, 1.0) if possible else 0.0, 0.0)
    p_on = (1.0 - p_early) * (on_time / max(on_time + overdue, 1e-12))
    roll = u(k)
    want = np.where(roll < p_early, 0, np.where(roll < p_early + p_on, 1, 2))
    want = np.where((want == 1) & ~can_on_time, np.where(can_early, 0, 2), want)
    spread = u(k)
    late_low = np.maximum(low, total + 60)
    finish_at = np.where(
        want == 0,
        low + ((early_high - low) * spread).astype(np.int64),
        np.where(
            want == 1,
            on_low + ((on_high - on_low) * spread).astype(np.int64),
            late_low + (spread * 0.5 * np.maximum(total, standard)).astype(np.int64),
        ),
    )
    end_action = next(a for a in ("approve", "refuse", "stop", "withdraw") if a in actions)
    if end_action == "stop":
        finish_at = last + HOUR + (u(k) * 3 * standard).astype(np.int64)
    if "propose" in actions:
        work["propose"] = last + ((finish_at - last) * (0.3 + 0.6 * u(k))).astype(np.int64)
    work[end_action] = finish_at
    if "return_result" in actions:
        work["return_result"] = finish_at + rng.integers(900, 2 * standard, size=k)
    return work, due


def _retry(
    plan: _Plan,
    rows: npt.NDArray[np.intp],
    received: I64,
    submitted: I64,
    rng: np.random.Generator,
    start_s: int,
) -> None:
    """Move receipts of `rows` earlier (by 2-6 weeks) for another attempt."""
    if not rows.size:
        return
    back = rng.integers(14 * DAY, 42 * DAY, size=rows.size)
    moved = np.maximum(received[rows] - back, start_s)
    delta = received[rows] - moved
    received[rows] = moved
    submitted[rows] -= delta
    plan.times[rows] = NO_INSTANT


def _received_cycle(
    plan: _Plan,
    rows: npt.NDArray[np.intp],
    cycle: Lifecycle,
    rng: np.random.Generator,
    cal: legaltime.Calendar,
    amounts: npt.NDArray[np.float64],
    units: npt.NDArray[np.int8],
    standard: int,
    submitted: I64,
    now_s: int,
) -> npt.NDArray[np.bool_]:
    """Instants of a received lifecycle; returns which rows fit before `now`."""
    k = rows.size
    r = plan.received[rows]
    proc = plan.proc[rows]
    clock = bulk_start(cal, r)
    original = bulk_due(cal, r, amounts[proc], units[proc])
    budget = np.maximum(bulk_elapsed(cal, clock, original), HOUR)
    actions = cycle.actions
    work: dict[str, I64] = {}  # action -> working seconds after the clock start
    u = rng.random
    pause_begin, pause_end = _pause_actions(actions)
    apology = "apologise" in actions
    due = original
    targets = plan.profile.outcomes
    if cycle.finished and targets is not None:
        work, due = _targeted_finish(
            rows, cycle, rng, cal, clock, r, budget, amounts[proc], units[proc], targets
        )
    elif cycle.finished:
        w = rng.integers(900, 4 * HOUR, size=k)
        if "assign" in actions:
            work["assign"] = w
        if apology:  # placed by _exact_rows once the due before the apology is known
            work["apologise"] = w + 60
        last = _place_pause(actions, work, w, budget, standard, u)
        due = _due_after_pause(cal, clock, r, amounts[proc], units[proc], actions, work, due)
        total = np.maximum(bulk_elapsed(cal, clock, due), HOUR)
        # Outcome mix: most early, some on the due day, some late.
        roll = u(k)
        fraction = np.where(
            roll < 0.7, 0.2 + 0.7 * u(k), np.where(roll < 0.9, 0.9 + 0.1 * u(k), 1.0 + 0.6 * u(k))
        )
        end_action = next(a for a in ("approve", "refuse", "stop", "withdraw") if a in actions)
        finish_at = np.maximum((fraction * total).astype(np.int64), last + 2 * HOUR)
        if end_action == "stop":
            finish_at = last + HOUR + (u(k) * 3 * standard).astype(np.int64)
        if "propose" in actions:
            work["propose"] = last + ((finish_at - last) * (0.3 + 0.6 * u(k))).astype(np.int64)
        work[end_action] = finish_at
        if "return_result" in actions:
            work["return_result"] = finish_at + rng.integers(900, 2 * standard, size=k)
    else:
        available = bulk_elapsed(cal, clock, np.full(k, now_s, dtype=np.int64)) - 600
        fits = available > 4 * HOUR if len(actions) > 1 else np.ones(k, dtype=bool)
        room = np.maximum(available, 4 * HOUR)
        w = np.minimum(rng.integers(900, 4 * HOUR, size=k), room // 5)
        if "assign" in actions:
            work["assign"] = w
        last = w
        for action in actions[2:]:
            step = ((room - last) * (0.2 + 0.6 * u(k))).astype(np.int64) + 60
            last = last + step
            work[action] = last
        due = _due_after_pause(cal, clock, r, amounts[proc], units[proc], actions, work, due)
    times = np.full((k, MAX_EVENTS), NO_INSTANT, dtype=np.int64)
    times[:, 0] = np.where(plan.channel[rows] == 1, r, submitted[rows])
    times[:, 1] = r
    for position, action in enumerate(actions[1:], start=2):
        times[:, position] = _shift(cal, clock, work[action])
    last_time = times[:, len(actions)]
    ok = last_time < now_s
    if not cycle.finished:
        ok &= fits
    keep = rows[ok]
    plan.times[keep] = times[ok]
    plan.clock[keep] = clock[ok]
    plan.original_due[keep] = original[ok]
    plan.due[keep] = due[ok]
    if pause_begin:
        plan.pause_start[keep] = times[ok, actions.index(pause_begin) + 1]
    if pause_end:
        plan.pause_end[keep] = times[ok, actions.index(pause_end) + 1]
        plan.paused[keep] = bulk_elapsed(cal, plan.pause_start[keep], plan.pause_end[keep])
    return ok


def _permute(plan: _Plan, order: npt.NDArray[np.intp]) -> None:
    for name in ("cycle", "proc", "agency", "channel", "times", "received", "clock",
                 "original_due", "due", "paused", "pause_start", "pause_end"):  # fmt: skip
        setattr(plan, name, getattr(plan, name)[order])
    inverse = np.empty_like(order)
    inverse[order] = np.arange(order.size)
    plan.exact = {int(inverse[i]): v for i, v in plan.exact.items()}


def _extras(
    plan: _Plan, extra: np.random.Generator, procs: list[_Proc], profile: Profile, *, now_s: int
) -> None:
    """Payments, ratings and digitisation (profile extras), decided once the timelines are
    final. Draws come from `extra` only, in a fixed order."""
    n = plan.cycle.size
    if not n:
        return
    channel = plan.channel
    online = channel == 2
    has_docs = np.array([bool(p.docs) for p in procs], dtype=bool)[plan.proc]
    if profile.digitised is not None:
        scanned = extra.random(n) < profile.digitised
        plan.digitised = has_docs & (online | scanned)
        plan.reused = plan.digitised & (extra.random(n) < profile.reused)
    fee = np.array([p.fee_total for p in procs], dtype=np.int64)[plan.proc]
    received = np.array([bool(c.actions) and c.actions[0] == "receive" for c in LIFECYCLES])
    # Fees are paid on dossiers that are (or will be) resolved: not on refused, stopped or
    # withdrawn ones.
    payable = np.array(
        [received[i] and ("approve" in c.actions or not c.finished)
         for i, c in enumerate(LIFECYCLES)]
    )  # fmt: skip
    pays = payable[plan.cycle] & (fee > 0) & (extra.random(n) < profile.paid)
    gateway = pays & online & (extra.random(n) < profile.paid_online)
    cash = pays & ~gateway
    submitted, receipt = plan.times[:, 0], plan.times[:, 1]
    # Online: a few minutes after submission, before the desk receives it. Cash: at the
    # desk right after receipt, before the next event (at least 5 working minutes later).
    plan.pay[gateway] = 2
    plan.pay_at[gateway] = submitted[gateway] + np.minimum(
        300, (receipt[gateway] - submitted[gateway]) // 2
    )
    plan.pay[cash] = 1
    plan.pay_at[cash] = receipt[cash] + extra.integers(60, 240, size=int(cash.sum()))
    # Ratings after the return, by the applicant's account (checked when writing rows).
    returned = np.array(["return_result" in c.actions for c in LIFECYCLES])[plan.cycle]
    rates = returned & (channel != 1) & (extra.random(n) < profile.rated)
    picks = extra.choice(3, size=n, p=list(profile.ratings)) + 1
    last = plan.times.max(axis=1)
    at = last + extra.integers(600, 3 * DAY, size=n)
    rates &= at < now_s - 60
    plan.rating[rates] = picks[rates]
    plan.rate_at[rates] = at[rates]


class _Payments:
    """Receipts (and, for online payments, the paid gateway orders) that
    `cchc.payments.services` writes with a `pay` event; imported lazily (the payments app
    builds on the dossier engine, not the reverse)."""

    def __init__(self) -> None:
        from django.conf import settings

        from cchc.payments import models

        self.Receipt = models.Receipt
        self.PaymentOrder = models.PaymentOrder
        self.ReceiptCounter = models.ReceiptCounter
        gateways = getattr(settings, "CCHC_PAYMENT_GATEWAYS", {}) or {}
        name = next(iter(gateways), "vnpay")
        self.gateway = name
        self.channel = str(gateways.get(name, {}).get("channel", "2"))
        self.label = f"Cổng thanh toán {name.upper()}"
        self.minutes = int(getattr(settings, "CCHC_PAYMENT_ORDER_MINUTES", 15))
        self.counters: dict[int, int] = dict(
            self.ReceiptCounter.objects.values_list("year", "last")
        )

    @classmethod
    def load(cls) -> _Payments:
        return cls()

    def number(self, year: int) -> tuple[int, str]:
        """The next receipt number of `year` (as `payments.services._next_receipt_number`)."""
        last = self.counters.get(year, 0) + 1
        self.counters[year] = last
        return last, f"{year}-{last:06d}"

    def save_counters(self) -> None:
        self.ReceiptCounter.objects.bulk_create(
            [self.ReceiptCounter(year=y, last=last) for y, last in self.counters.items()],
            update_conflicts=True,
            unique_fields=["year"],
            update_fields=["last"],
        )


def _codes(submitted: I64, prefix: str) -> tuple[list[str], dict[dt.date, int]]:
    """Codes `<prefix>-YYMMDD-XXXX` continuing each day's counter (rows sorted by time)."""
    days = (submitted + VN_OFFSET) // DAY
    unique, first, counts = np.unique(days, return_index=True, return_counts=True)
    dates = [dt.date(1970, 1, 1) + dt.timedelta(days=int(d)) for d in unique.tolist()]
    existing = dict(
        CodeCounter.objects.filter(prefix=prefix, day__in=dates).values_list("day", "last")
    )
    offsets = np.array([existing.get(d, 0) for d in dates], dtype=np.int64)
    if (offsets + counts > 9999).any():
        raise ValueError("more than 9 999 dossiers in a day for one receiving unit")
    day_slot = np.searchsorted(unique, days)
    seq = np.arange(days.size) - first[day_slot] + 1 + offsets[day_slot]
    labels = [rules.ruleset_on(d).dossier_code(prefix, d, 1)[:-4] for d in dates]
    codes = [f"{labels[s]}{q:04d}" for s, q in zip(day_slot.tolist(), seq.tolist(), strict=True)]
    counters = {d: int(o + c) for d, o, c in zip(dates, offsets.tolist(), counts.tolist(),
                                                 strict=True)}  # fmt: skip
    return codes, counters


def _save_counters(prefix: str, counters: dict[dt.date, int]) -> None:
    CodeCounter.objects.bulk_create(
        [CodeCounter(prefix=prefix, day=d, last=last) for d, last in counters.items()],
        update_conflicts=True,
        unique_fields=["prefix", "day"],
        update_fields=["last"],
        batch_size=500,
    )


# -- apologies: projected by the single path ----------------------------------------------------


def _exact_rows(
    plan: _Plan,
    rng: np.random.Generator,
    cal: legaltime.Calendar,
    procs: list[_Proc],
    users: Staff,
    *,
    now: dt.datetime,
    version: int,
) -> None:
    """Dossiers with an apology: the apology's payload (new appointment from the remaining
    step budgets, `legaltime.extend`) and the projection come from the services' own code."""
    from cchc.dossiers import services
    from cchc.org.models import Agency

    now_s = _epoch(now)
    policy = services.apology_policy()
    agencies = {a.pk: a for a in Agency.objects.filter(pk__in=set(plan.agency.tolist()))}
    standard = cal.standard_day_seconds
    for name in ("returned_apology", "open_apology"):
        cycle = BY_NAME[name]
        for row in np.flatnonzero(plan.cycle == INDEX[name]).tolist():
            proc = procs[plan.proc[row]]
            times = plan.times[row]
            agency = agencies[int(plan.agency[row])]
            before = plan.due[row]
            assign_at = int(times[2])
            # The apology at least 1.5 working days before the due (not late), or halfway.
            said = int(_shift(cal, np.array([assign_at]), [HOUR])[0])
            ahead = int(bulk_elapsed(cal, np.array([said]), np.array([before]))[0])
            if ahead > 2 * standard:
                said = int(_shift(cal, np.array([said]), [ahead - int(1.5 * standard)])[0])
            if said >= now_s - 60:
                plan.cycle[row] = INDEX[cycle.fallback]
                _truncate(plan, row, BY_NAME[cycle.fallback])
                continue
            steps = _steps_after(("receive", "assign"), proc.steps)
            index = steps[-1] or 0
            remaining = sum(
                legaltime.parse_duration(b).working_seconds(standard)
                for b in proc.budgets[index:]
                if legaltime.parse_duration(b).is_working
            )
            base = max(said, int(before))
            new_due = replay.shift(cal, from_epoch(base), max(remaining, standard))
            try:
                ext = legaltime.extend(
                    cal,
                    current_due=from_epoch(int(before)),
                    new_due=new_due,
                    apology_at=from_epoch(said),
                    extensions_so_far=0,
                    policy=policy,
                )
            except legaltime.ExtensionRefused:
                plan.cycle[row] = INDEX[cycle.fallback]
                _truncate(plan, row, BY_NAME[cycle.fallback])
                continue
            payload = {
                "new_due": ext.due.isoformat(),
                "previous_due": ext.previous_due.isoformat(),
                "agency_at_fault": agency.pk,
                "signer_name": agency.head_name or "",
                "signer_title": agency.head_title or f"Thủ trưởng {agency.name}",
                "delivery": "in_person",
                "reference": "",
                "late": ext.late_apology,
                "warnings": list(ext.warnings),
            }
            times[3] = said
            if cycle.finished:
                new_s = _epoch(ext.due)
                span = max(int(bulk_elapsed(cal, np.array([said]), np.array([new_s]))[0]), HOUR)
                finish = int(
                    _shift(cal, np.array([said]), [int(span * (0.3 + 0.65 * rng.random()))])[0]
                )
                times[4] = int(_shift(cal, np.array([said]), [HOUR // 2])[0])
                times[4] = min(times[4], finish - 60)
                times[5] = finish
                times[6] = int(
                    _shift(cal, np.array([finish]), [int(rng.integers(900, 4 * HOUR))])[0]
                )
                if times[6] >= now_s or times[4] <= said:
                    plan.cycle[row] = INDEX[cycle.fallback]
                    _truncate(plan, row, BY_NAME[cycle.fallback])
                    continue
            plan.exact[row] = ([payload], {})


def _truncate(plan: _Plan, row: int, cycle: Lifecycle) -> None:
    """Fall back to a shorter lifecycle with the same first events (apology rows)."""
    # returned_apology -> returned: drop the apology column; open_apology -> in_progress.
    times = plan.times[row].copy()
    if cycle.name == "returned":
        plan.times[row, 3:6] = times[4:7]
        plan.times[row, 6:] = NO_INSTANT
    else:
        plan.times[row, 3:] = NO_INSTANT


# -- rows ---------------------------------------------------------------------------------------


def _columns(model: Any) -> list[str]:
    return [f.column for f in model._meta.concrete_fields]


_COLUMNS = {
    m: _columns(m) for m in (Dossier, DossierEvent, DossierComponent, DossierFee, DossierResult)
}


class _RowBuilder:
    def __init__(
        self,
        plan: _Plan,
        procs: list[_Proc],
        users: Staff,
        cal: legaltime.Calendar,
        desk: Any,
        receiving: Any,
        codes: list[str],
        version: int,
        now: dt.datetime,
        rng: np.random.Generator,
    ) -> None:
        self.plan, self.procs, self.users, self.cal = plan, procs, users, cal
        self.desk, self.receiving, self.codes, self.version = desk, receiving, codes, version
        self.now_s = _epoch(now)
        self.rng = rng
        self.postgres = connection.vendor == "postgresql"
        self.cal_code = desk.calendar.code if desk.calendar_id else DEFAULT_CALENDAR
        self.states: dict[str, int] = {}
        self.overdue_open = 0
        self.at_risk = 0
        self.labels: dict[int | None, tuple[str, str]] = {}
        self.steps_cache: dict[tuple[str, int], list[int | None]] = {}
        self.rulesets: dict[int, str] = {}
        self.folded: dict[str, str] = {}
        self.risk_note = "Thời gian còn lại ít hơn thời gian xử lý thông thường của thủ tục."
        self.is_demo = False
        self.payments: _Payments | None = None
        self.extra: np.random.Generator | None = None
        self.sequences: dict[tuple[str, int, bool], tuple[tuple[str, int], ...]] = {}

    def _user(self, user: Any) -> tuple[int | None, str, str]:
        pk = getattr(user, "pk", None)
        if pk not in self.labels:
            label = _label(user)
            self.labels[pk] = (label, json.dumps(label))
        return pk, *self.labels[pk]

    def _steps(self, cycle: Lifecycle, steps: int) -> list[int | None]:
        key = (cycle.name, steps)
        if key not in self.steps_cache:
            self.steps_cache[key] = _steps_after(cycle.actions, steps)
        return self.steps_cache[key]

    def rows(self, lo: int, hi: int, ids: dict[Any, int]) -> dict[Any, list[tuple[Any, ...]]]:
        plan, cal, pg, rng = self.plan, self.cal, self.postgres, self.rng
        k = hi - lo
        sl = slice(lo, hi)
        times = plan.times[sl]
        stamp = np.array(_stamps(times.reshape(-1), pg), dtype=object).reshape(times.shape)
        received = plan.received[sl].copy()
        cycles = [LIFECYCLES[c] for c in plan.cycle[sl].tolist()]
        got_received = np.array([bool(c.actions) and c.actions[0] == "receive" for c in cycles])
        received[~got_received] = NO_INSTANT

        # Projection arrays (vectorised per lifecycle), then per-row assembly.
        finished_at = np.full(k, NO_INSTANT, dtype=np.int64)
        returned_at = np.full(k, NO_INSTANT, dtype=np.int64)
        cycle_codes = plan.cycle[sl]
        for code in np.unique(cycle_codes).tolist():
            cycle = LIFECYCLES[code]
            mask = cycle_codes == code
            if cycle.actions and cycle.actions[0] == "receive":
                finishing = [p for p, a in enumerate(cycle.actions, 1) if a in replay.FINISHING]
                if finishing:
                    finished_at[mask] = times[mask, finishing[0]]
            if "return_result" in cycle.actions:
                returned_at[mask] = times[mask, cycle.actions.index("return_result") + 1]
        proc_list = plan.proc[sl].tolist()
        step_list = [
            next((s for s in reversed(self._steps(c, self.procs[p].steps)) if s is not None), 0)
            for c, p in zip(cycles, proc_list, strict=True)
        ]
        due = plan.due[sl]
        original = plan.original_due[sl]
        paused = plan.paused[sl]
        pause_start = plan.pause_start[sl]
        pause_end = plan.pause_end[sl]
        done = np.flatnonzero(finished_at != NO_INSTANT)
        outcome = np.full(k, "", dtype=object)
        outcome_original = np.full(k, "", dtype=object)
        names = np.array(["early", "on_time", "overdue"], dtype=object)
        if done.size:
            outcome[done] = names[legaltime.bulk_classify(due[done], finished_at[done], 0)]
            base = _shift(cal, original[done], paused[done])
            outcome_original[done] = names[legaltime.bulk_classify(base, finished_at[done], 0)]
        # Current step's due for open received dossiers (as `replay.project`).
        step_due = np.full(k, NO_INSTANT, dtype=np.int64)
        candidates = np.flatnonzero((finished_at == NO_INSTANT) & (received != NO_INSTANT))
        rows = [
            i
            for i in candidates.tolist()
            if (t := self.procs[proc_list[i]].targets) and step_list[i] < len(t)
        ]
        if rows:
            idx = np.array(rows)
            targets = np.array(
                [self.procs[proc_list[i]].targets[step_list[i]] for i in rows],  # type: ignore[index]
                dtype=np.int64,
            )
            plain = _shift(cal, received[idx], targets)
            zero = targets == 0
            if zero.any():
                plain[zero] = bulk_start(cal, received[idx][zero])
            closed = pause_end[idx] != NO_INSTANT
            before = np.where(closed & (pause_start[idx] < plain), paused[idx], 0)
            step_due[idx] = _shift(cal, plain, before)
        is_open = np.array([not c.finished for c in cycles])
        overdue = is_open & (due != NO_INSTANT) & (due < self.now_s)
        self.overdue_open += int(overdue.sum())
        risk = np.zeros(k, dtype=bool)
        running = np.flatnonzero(is_open & (due != NO_INSTANT) & ~overdue)
        if running.size:
            left = bulk_elapsed(
                cal, np.full(running.size, self.now_s, dtype=np.int64), due[running]
            )
            whole = np.maximum(bulk_elapsed(cal, plan.clock[sl][running], due[running]), 1)
            risk[running] = left < 0.25 * whole
        self.at_risk += int(risk.sum())

        stamps = {
            "received": _stamps(received, pg),
            "clock": _stamps(np.where(got_received, plan.clock[sl], NO_INSTANT), pg),
            "original": _stamps(np.where(got_received, original, NO_INSTANT), pg),
            "due": _stamps(np.where(got_received, due, NO_INSTANT), pg),
            "finished": _stamps(finished_at, pg),
            "returned": _stamps(returned_at, pg),
            "step_due": _stamps(step_due, pg),
            "pause_start": _stamps(pause_start, pg),
        }
        now_text = _stamps(np.array([self.now_s]), pg)[0]
        cal_version = cal.version

        dossiers, events, components, fees, results = [], [], [], [], []
        dossier_id = ids[Dossier]
        event_id = ids[DossierEvent]
        component_id = ids[DossierComponent]
        fee_id = ids[DossierFee]
        result_id = ids[DossierResult]
        desk_users = self.users.desk_officers
        citizens = self.users.citizens
        picks = rng.integers(0, 1 << 30, size=(k, 8)).tolist()
        stamp_rows = stamp.tolist()
        agency_list = plan.agency[sl].tolist()
        channel_list = plan.channel[sl].tolist()
        paused_list = paused.tolist()
        risk_list = risk.tolist()
        got_list = got_received.tolist()
        day_list = ((times[:, 0] + VN_OFFSET) // DAY).tolist()
        outcome_list = outcome.tolist()
        outcome_original_list = outcome_original.tolist()
        exact_rows = plan.exact
        pay_list = plan.pay[sl].tolist()
        pay_at = plan.pay_at[sl]
        pay_text = _stamps(pay_at, pg)
        pay_local = ((pay_at + VN_OFFSET) // DAY).tolist()
        rating_list = plan.rating[sl].tolist()
        rate_text = _stamps(plan.rate_at[sl], pg)
        digitised_list = None if plan.digitised is None else plan.digitised[sl].tolist()
        reused_list = plan.reused[sl].tolist()
        receipts: list[tuple[Any, ...]] = []
        orders: list[tuple[Any, ...]] = []
        payments = self.payments
        receipt_id = ids.get(payments.Receipt, 0) if payments else 0
        order_id = ids.get(payments.PaymentOrder, 0) if payments else 0
        for i in range(k):
            row = lo + i
            cycle = cycles[i]
            proc = self.procs[proc_list[i]]
            agency_id = agency_list[i]
            channel = channel_list[i]
            row_stamps = stamp_rows[i]
            pick = picks[i]
            code = self.codes[row]
            desk_user = self._user(desk_users[pick[0] % len(desk_users)])
            officers = self.users.officers[agency_id]
            leaders = self.users.leaders[agency_id]
            officer = self._user(officers[pick[1] % len(officers)])
            leader = self._user(leaders[pick[2] % len(leaders)])
            citizen = citizens[pick[3] % len(citizens)] if citizens and channel != 1 else None
            submitter = self._user(citizen) if channel != 1 else desk_user
            submitted_day = day_list[i]
            ruleset = self.rulesets.get(submitted_day)
            if ruleset is None:
                day = dt.date(1970, 1, 1) + dt.timedelta(days=submitted_day)
                ruleset = self.rulesets[submitted_day] = rules.ruleset_on(day).code
            person = pick[5] % 10 != 0
            if person:
                name = (
                    f"{FAMILY[pick[5] % len(FAMILY)]} {MIDDLE[pick[6] % len(MIDDLE)]} "
                    f"{GIVEN[pick[7] % len(GIVEN)]}"
                )
                id_number = f"0241{pick[6] % 100:02d}{pick[7] % 1000000:06d}"
            else:
                name = COMPANY[pick[6] % len(COMPANY)].format(TRADE[pick[7] % len(TRADE)])
                id_number = f"24{pick[7] % 100000000:08d}"
            # events
            exact = exact_rows.get(row) if exact_rows else None
            steps = self._steps(cycle, proc.steps)
            pay_kind = pay_list[i]
            rating = rating_list[i] if citizen is not None else 0
            sequence = self._sequence(cycle, pay_kind, bool(rating))
            previous = ""
            seq = 0
            event_rows: list[tuple[Any, ...]] = []
            approve_id = None
            receipt_number = ""
            for action, position in sequence:
                seq += 1
                at = row_stamps[position] if position >= 0 else None
                reason = ""
                if action in REASONS:
                    options = REASONS[action]
                    reason = options[pick[4] % len(options)]
                if action == "submit":
                    actor = submitter
                    data = '{"channel": %d}' % channel if channel == 1 else "{}"
                elif action == "receive":
                    actor = desk_user
                    data = (
                        '{"calendar_version": %d, "appointment_rule": "%s"}'
                        % (self.version, ruleset)
                        if channel == 1
                        else '{"calendar_version": %d}' % self.version
                    )
                elif action == "assign":
                    actor = leader
                    data = '{"assignee": %d, "receiver_label": %s, "handoff": true, "step": %d}' % (
                        officer[0],
                        officer[2],
                        steps[position - 1],
                    )
                elif action == "propose":
                    actor = officer
                    data = '{"receiver_label": %s, "step": %d}' % (
                        _RECEIVER_LEADER,
                        steps[position - 1],
                    )
                elif action == "approve":
                    actor = leader
                    approve_id = event_id + len(event_rows)
                    data = (
                        '{"step": %d, "receiver_label": %s, "results": [{"number": 1, '
                        '"code": "%s-KQ1", "title": %s}]}'
                        % (steps[position - 1], _RECEIVER_DESK, code, proc.result_title)
                    )
                elif action == "apologise":
                    actor = officer
                    assert exact is not None
                    data = json.dumps(exact[0][0])
                elif action == "pay":
                    # As `payments.services.record_cash` / `_settle`: a receipt, and for an
                    # online payment the paid gateway order, then the `pay` event.
                    assert payments is not None
                    at = pay_text[i]
                    day = dt.date(1970, 1, 1) + dt.timedelta(days=pay_local[i])
                    number, receipt_number = payments.number(day.year)
                    if pay_kind == 1:
                        actor = desk_user
                        data = '{"amount": %d, "channel": "cash", "receipt": "%s"}' % (
                            proc.fee_total,
                            receipt_number,
                        )
                        order = None
                        issuer, issuer_label = desk_user[0], desk_user[1]
                    else:
                        actor = self._user(None)
                        paid_s = int(pay_at[i])
                        stamp_local = from_epoch(paid_s)
                        txn = f"TT{stamp_local:%y%m%d%H%M%S}{dossier_id & 0xFFFFFF:06X}"
                        data = '{"amount": %d, "channel": "%s", "order": "%s", "receipt": "%s"}' % (
                            proc.fee_total,
                            payments.channel,
                            txn,
                            receipt_number,
                        )
                        # The citizen opened the order half a minute after submitting.
                        created_s = int(plan.times[row, 0]) + 30
                        created = _stamp(created_s, pg)
                        expires = _stamp(created_s + 60 * payments.minutes, pg)
                        order = order_id
                        orders.append(
                            (
                                order_id,
                                dossier_id,
                                txn,
                                proc.fee_total,
                                payments.gateway,
                                payments.channel,
                                "paid",
                                getattr(citizen, "pk", None),
                                created,
                                expires,
                                at,
                                at,
                                f"{14000000 + dossier_id % 86000000:08d}",
                                "NCB",
                                f"{stamp_local:%Y%m%d%H%M%S}",
                                "00",
                                0,
                                False,
                                False,
                                False,
                                True,
                            )
                        )
                        order_id += 1
                        issuer, issuer_label = None, payments.label
                    receipts.append(
                        (
                            receipt_id,
                            receipt_number,
                            day.year,
                            number,
                            dossier_id,
                            order,
                            proc.fee_total,
                            "cash" if pay_kind == 1 else payments.channel,
                            name,
                            at,
                            issuer,
                            issuer_label,
                        )
                    )
                    receipt_id += 1
                elif action == "rate":
                    actor = self._user(citizen)
                    at = rate_text[i]
                    data = '{"rating": "%s", "comment": ""}' % RATINGS[rating - 1]
                elif action in DESK_ACTIONS:
                    actor = desk_user
                    data = "{}"
                elif action in LEADER_ACTIONS:
                    actor = leader
                    data = "{}"
                else:
                    actor = officer
                    data = "{}"
                target = NEXT_STATE.get(action) or previous
                event_rows.append(
                    (
                        event_id + len(event_rows),
                        dossier_id,
                        seq,
                        action,
                        previous,
                        str(target),
                        actor[0],
                        actor[1],
                        at,
                        reason,
                        data,
                    )
                )
                previous = str(target)
            events.extend(event_rows)
            final_state = previous
            self.states[final_state] = self.states.get(final_state, 0) + 1

            # projection
            has_receipt = got_list[i]
            if exact is not None:
                proj = self._exact_projection(row, proc, agency_id, event_rows)
                assignee = proj["assignee_id"]
                values = [
                    self._text(proj["received_at"]),
                    self._text(proj["clock_start"]),
                    self._text(proj["original_due"]),
                    self._text(proj["due"]),
                    proj["paused_seconds"],
                    self._text(proj["paused_since"]),
                    proj["calendar_version"],
                    proj["extensions"],
                    proj["supplement_requests"],
                    proj["step_index"],
                    self._text(proj["step_due"]),
                    proj["current_agency_id"],
                    assignee,
                    self._text(proj["finished_at"]),
                    self._text(proj["returned_at"]),
                    proj["outcome"],
                    proj["outcome_original"],
                    proj["has_apology"],
                ]
                paid = (
                    proj["paid_amount"],
                    proj["payment_channel"],
                    proj["rating"],
                    proj["has_complaint"],
                )
            else:
                paid = (
                    proc.fee_total if pay_kind else 0,
                    ("cash" if pay_kind == 1 else payments.channel)
                    if payments and pay_kind
                    else "",
                    RATINGS[rating - 1] if rating else "",
                    False,
                )
                values = [
                    stamps["received"][i],
                    stamps["clock"][i],
                    stamps["original"][i],
                    stamps["due"][i],
                    paused_list[i] if has_receipt else 0,
                    stamps["pause_start"][i] if final_state in PAUSED_STATES else None,
                    cal_version if has_receipt else "",
                    0,
                    cycle.actions.count("request_supplement"),
                    step_list[i],
                    stamps["step_due"][i],
                    agency_id,
                    officer[0] if "assign" in cycle.actions else None,
                    stamps["finished"][i],
                    stamps["returned"][i],
                    outcome_list[i],
                    outcome_original_list[i],
                    False,
                ]
            # Queue order (replay.project): the due once received, else the submission.
            queue_at = values[3] if values[3] is not None else row_stamps[0]
            folded_name = self.folded.get(name)
            if folded_name is None:
                folded_name = self.folded[name] = fold(name)
            folded = f"{code.lower()} {folded_name} {proc.folded}"
            online = channel == 2
            # Originally only components sent online were scanned.
            digitised = bool(proc.docs) and online if digitised_list is None else digitised_list[i]
            reused = reused_list[i]
            dossiers.append(
                (
                    dossier_id,
                    code,
                    ruleset,
                    proc.obj.pk,
                    self.desk.pk,
                    self.receiving.pk,
                    agency_id,
                    channel,
                    proc.obj.online_level if online else "none",
                    "person" if person else "organisation",
                    name,
                    id_number,
                    f"Số {pick[4] % 200 + 1} đường {STREETS[pick[4] % len(STREETS)]}",
                    f"09{pick[3] % 100000000:08d}",
                    "" if pick[2] % 3 else f"nguoinop{pick[3] % 100000}@example.vn",
                    getattr(citizen, "pk", None),
                    proc.matter,
                    1,
                    "desk" if channel == 1 else ("online" if online else "post"),
                    proc.obj.duration_spec,
                    proc.step_plan,
                    self.cal_code,
                    bool(self.desk.saturday_reception),
                    row_stamps[0],
                    folded[:800],
                    self.is_demo,
                    proc.fee_total,
                    digitised,
                    reused,
                    "",  # source: generated here, not imported
                    "",
                    seq,
                    final_state,
                    final_state in OPEN_STATES,
                    queue_at,
                    *values,
                    *paid,
                    risk_list[i],
                    self.risk_note if risk_list[i] else "",
                    now_text if risk_list[i] else None,
                )
            )
            for position, (doc_id, doc_name, originals, copies) in enumerate(proc.docs):
                components.append(
                    (
                        component_id,
                        dossier_id,
                        position,
                        doc_id,
                        doc_name,
                        originals,
                        copies,
                        digitised,
                        reused and position == 0,
                    )
                )
                component_id += 1
            for fee_name, amount in proc.fees:
                fees.append((fee_id, dossier_id, fee_name, amount))
                fee_id += 1
            if approve_id is not None:
                results.append(
                    (
                        result_id,
                        dossier_id,
                        1,
                        f"{code}-KQ1",
                        proc.result_plain,
                        proc.electronic,
                        None,
                        approve_id,
                        event_rows[approve_id - event_id][8],
                    )
                )
                result_id += 1
            event_id += len(event_rows)
            dossier_id += 1
        return {
            Dossier: dossiers,
            DossierEvent: events,
            DossierComponent: components,
            DossierFee: fees,
            DossierResult: results,
            **(
                {payments.PaymentOrder: orders, payments.Receipt: receipts}
                if payments is not None
                else {}
            ),
        }

    def _sequence(self, cycle: Lifecycle, pay: int, rate: bool) -> tuple[tuple[str, int], ...]:
        """The events of a dossier as (action, position in the lifecycle's instants;
        -1 for the profile's extras, whose instants are kept apart)."""
        key = (cycle.name, pay, rate)
        cached = self.sequences.get(key)
        if cached is None:
            out = [("submit", 0)]
            if pay == 2:
                out.append(("pay", -1))
            for position, action in enumerate(cycle.actions, start=1):
                out.append((action, position))
                if action == "receive" and pay == 1:
                    out.append(("pay", -1))
            if rate:
                out.append(("rate", -1))
            cached = self.sequences[key] = tuple(out)
        return cached

    @staticmethod
    def _final_state(cycle: Lifecycle) -> str:
        state = State.SUBMITTED
        for action in cycle.actions:
            state = NEXT_STATE[action] or state
        return str(state)

    def _text(self, value: dt.datetime | None) -> str | None:
        if value is None:
            return None
        return _stamps(np.array([_epoch(value)]), self.postgres)[0]

    def _exact_projection(
        self, row: int, proc: _Proc, agency_id: int, event_rows: list[tuple[Any, ...]]
    ) -> dict[str, Any]:
        # Instants of the lifecycle's events by position; the extras' from their own arrays.
        plan = self.plan
        instants = []
        base = 0
        for e in event_rows:
            if e[3] == "pay":
                instants.append(from_epoch(int(plan.pay_at[row])))
            elif e[3] == "rate":
                instants.append(from_epoch(int(plan.rate_at[row])))
            else:
                instants.append(from_epoch(int(plan.times[row, base])))
                base += 1
        events = [
            SimpleNamespace(
                seq=e[2],
                action=e[3],
                to_state=e[5],
                at=instants[e[2] - 1],
                data=json.loads(e[10]),
                actor_label=e[7],
            )
            for e in event_rows
        ]
        projection = replay.project(
            duration_spec=proc.obj.duration_spec,
            step_plan=json.loads(proc.step_plan),
            competent_agency_id=agency_id,
            events=events,
            calendar=lambda number: self.cal,
        )
        return projection.stored()


_RECEIVER_DESK = json.dumps("Bộ phận tiếp nhận và trả kết quả")
_RECEIVER_LEADER = json.dumps("Lãnh đạo cơ quan")


# -- writing ------------------------------------------------------------------------------------


class _Writer:
    """Raw bulk inserts in the current transaction: COPY on PostgreSQL, executemany on
    SQLite. Ids are given explicitly; sequences are moved past them at the end."""

    def __init__(self) -> None:
        connection.ensure_connection()
        self.vendor = connection.vendor
        self.raw = connection.connection
        self.models: set[Any] = set()

    def next_id(self, model: Any) -> int:
        with connection.cursor() as cursor:
            cursor.execute(f'SELECT COALESCE(MAX(id), 0) + 1 FROM "{model._meta.db_table}"')
            return int(cursor.fetchone()[0])

    def insert(self, model: Any, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        self.models.add(model)
        table = model._meta.db_table
        names = ", ".join(f'"{c}"' for c in columns)
        if self.vendor == "postgresql":
            with (
                self.raw.cursor() as cursor,
                cursor.copy(f'COPY "{table}" ({names}) FROM STDIN') as copy,
            ):
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" for _ in columns)
            cursor = self.raw.cursor()
            cursor.executemany(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', rows)
            cursor.close()

    def finish(self) -> None:
        if self.vendor != "postgresql" or not self.models:
            return  # SQLite AUTOINCREMENT follows explicit ids by itself
        statements = connection.ops.sequence_reset_sql(no_style(), list(self.models))
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)
