"""A province-year of demo dossiers at scale (`cchc demo --dossiers N --year 2024`).

Splits N dossiers among the levels of the demo organisation (provincial public-service
centre, district one-stop desks, commune desks — communes without a desk of their own are
served by their district's desk) by the level shares of the calibration file, then among
the desks of a level by the number of agencies they receive for, and writes each desk's
share with `cchc.demo.generator.generate` (the rows the services would write) calibrated by
`data/calibration-<year>.toml`. Staff missing for an agency or desk is created through the
accounts services. Every dossier is flagged `is_demo`. Complaints (PAKN) about a few
returned dossiers are filed through the feedback service afterwards, so that they carry
their own PAKN records. Deterministic for a given seed, N and database content.
"""

from __future__ import annotations

import datetime as dt
import time
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from django.db import connection, transaction
from django.db.models import Count
from django.db.models.functions import ExtractMonth

from cchc import legaltime
from cchc.accounts import services as accounts
from cchc.accounts.models import User
from cchc.accounts.policy import SYSTEM
from cchc.accounts.roles import Role
from cchc.catalog.models import Procedure
from cchc.demo import generator
from cchc.dossiers import signals, verify
from cchc.dossiers.models import Dossier, DossierEvent
from cchc.errors import Conflict, InvalidInput
from cchc.feedback import linking
from cchc.feedback import services as feedback
from cchc.org.models import Agency, Desk

DATA_DIR = Path(__file__).resolve().parent / "data"
VN = legaltime.VN_TZ
LEVELS = ("province", "district", "commune")
LEVEL_NAMES = {"province": "cấp tỉnh", "district": "cấp huyện", "commune": "cấp xã"}
# Staff created per agency of each level: processing officers, leaders; desk officers.
OFFICERS = {"province": 3, "district": 3, "commune": 2}
LEADERS = {"province": 2, "district": 1, "commune": 1}
DESK_OFFICERS = {"province": 4, "district": 3, "commune": 2}
CITIZENS = 60
PREFIX = "mau."  # user names of the staff created here (demo accounts, no password)


# -- calibration ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Calibration:
    """The figures of a calibration file (see `data/calibration-2024.toml`)."""

    year: int
    level_shares: dict[str, float]
    profiles: dict[str, generator.Profile]
    popular: dict[str, list[str]]
    open_share: float
    complaints: float
    path: Path


def calibration_path(year: int) -> Path:
    return DATA_DIR / f"calibration-{year}.toml"


def load_calibration(path: Path) -> Calibration:
    """Read a calibration file; raises InvalidInput (Vietnamese) when it is missing or bad."""
    if not path.exists():
        raise InvalidInput(
            f"Chưa có tệp hiệu chỉnh dữ liệu mẫu {path.name}: hiện chỉ có dữ liệu cho năm 2024.",
            code="demo.calibration_missing",
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        levels = {name: float(data["levels"][name]["share"]) for name in LEVELS}
        intake = data["intake"]
        tet = intake.get("tet", {})
        season = generator.Seasonality(
            months=tuple(float(m) for m in intake["months"]),
            tet=dt.date.fromisoformat(tet["date"]) if tet.get("date") else None,
            tet_weeks=tuple((int(a), int(b), float(f)) for a, b, f in tet.get("weeks", [])),
        )
        if len(season.months) != 12:
            raise ValueError("intake.months needs 12 values")
        finished_weight = sum(c.weight for c in generator.FINISHED)
        supplement = float(data["supplements"]["share"]) * finished_weight
        sat = data["satisfaction"]
        profiles = {}
        for name in LEVELS:
            out, ch = data["outcomes"][name], data["channels"][name]
            online, postal = float(ch["online"]), float(ch["postal"])
            profiles[name] = generator.Profile(
                channels=(max(1.0 - online - postal, 0.0), online, postal),
                online_needs_service=True,
                outcomes=(float(out["early"]), float(out["on_time"]), float(out["overdue"])),
                weights={"returned_supplement": supplement},
                zipf=float(data["popularity"]["zipf"]),
                intake=season,
                digitised=float(data["digitisation"]["desk_scanned"]),
                reused=float(data["digitisation"]["reused"]),
                paid=float(data["payments"]["paid"]),
                paid_online=float(data["payments"]["paid_online_of_online"]),
                rated=float(sat["rated"]),
                ratings=(
                    float(sat["satisfied"]),
                    float(sat["neutral"]),
                    float(sat["dissatisfied"]),
                ),
            )
            if abs(sum(profiles[name].outcomes or ()) - 1.0) > 1e-6:
                raise ValueError(f"outcomes.{name} do not add up to 1")
        if abs(sum(levels.values()) - 1.0) > 0.01:
            raise ValueError("level shares do not add up to 1")
        return Calibration(
            year=int(data["year"]),
            level_shares=levels,
            profiles=profiles,
            popular={name: list(data["popularity"].get(name, [])) for name in LEVELS},
            open_share=float(data["open"]["share"]),
            complaints=float(data["complaints"]["share"]),
            path=path,
        )
    except (KeyError, TypeError, ValueError, tomllib.TOMLDecodeError) as exc:
        raise InvalidInput(
            f"Tệp hiệu chỉnh {path.name} không hợp lệ: {exc}", code="demo.calibration_invalid"
        ) from None


# -- the organisation of the year ------------------------------------------------------------


@dataclass
class Group:
    """One call of the generator: a desk, the agencies it receives for at one level, the
    procedures competent there (most popular first)."""

    level: str
    desk: Desk
    agencies: list[Agency]
    procedures: list[Procedure] = field(default_factory=list)
    start: dt.datetime | None = None
    n: int = 0


def _level(agency: Agency) -> str:
    return str(agency.agency_type.level.code)


def groups_for(year: int, calibration: Calibration, *, now: dt.datetime) -> list[Group]:
    """The desks and agencies of the year's organisation, grouped by level."""
    first, last = dt.date(year, 1, 1), now.astimezone(VN).date()
    desks = list(
        Desk.objects.filter(valid_from__lte=last)
        .exclude(valid_to__isnull=False, valid_to__lte=last)
        .select_related("host_agency__agency_type__level", "calendar")
        .order_by("code")
    )
    if not desks:
        raise InvalidInput(
            f"Cơ cấu tổ chức mẫu không có bộ phận một cửa nào hoạt động đến ngày "
            f"{last:%d/%m/%Y}: chạy `cchc demo` để nạp dữ liệu mẫu, hoặc chọn năm 2024.",
            code="demo.no_desks",
        )
    starts = {d.pk: max(d.valid_from, first) for d in desks}
    received: dict[int, list[Agency]] = {}
    own_desk: dict[int, Desk] = {}  # commune agency -> its own commune desk
    for desk in desks:
        day = starts[desk.pk]
        agencies = [
            a
            for a in desk.receives_for.valid_on(day).select_related("agency_type__level")
            if a.is_valid_on(last)
        ]
        received[desk.pk] = sorted(agencies, key=lambda a: a.code)
        if _level(desk.host_agency) == "commune":
            for agency in agencies:
                own_desk.setdefault(agency.pk, desk)
    groups: list[Group] = []
    for desk in desks:
        by_level: dict[str, list[Agency]] = {}
        for agency in received[desk.pk]:
            level = _level(agency)
            if level == "commune" and own_desk.get(agency.pk, desk) != desk:
                continue  # served by its own commune desk
            by_level.setdefault(level, []).append(agency)
        for level, agencies in sorted(by_level.items()):
            start = dt.datetime.combine(starts[desk.pk], dt.time(0, 0), tzinfo=VN)
            group = Group(level, desk, agencies, start=start)
            group.procedures = _procedures(group, calibration.popular.get(level, []))
            if group.procedures:
                groups.append(group)
    return groups


def _procedures(group: Group, popular: list[str]) -> list[Procedure]:
    # The group's agencies are received for by the desk over the whole period, so a
    # procedure is competent there when its agency type is theirs
    # (`intake.competent_agency_for`).
    types = {a.agency_type_id for a in group.agencies}
    out = list(
        Procedure.objects.filter(active=True, competent_agency_type_id__in=types)
        .prefetch_related("steps", "documents", "fees")
        .order_by("pk")
    )
    rank = {code: i for i, code in enumerate(popular)}
    out.sort(key=lambda p: rank.get(p.code, len(rank)))  # stable: the rest in file order
    return out


def split(n: int, weights: list[float]) -> list[int]:
    """`n` split by `weights` into integers adding up to `n` (largest remainders)."""
    total = sum(weights)
    if n <= 0 or total <= 0:
        return [0] * len(weights)
    exact = [n * w / total for w in weights]
    out = [int(x) for x in exact]
    order = sorted(range(len(weights)), key=lambda i: (out[i] - exact[i], i))
    for i in order[: n - sum(out)]:
        out[i] += 1
    return out


# -- staff -----------------------------------------------------------------------------------


def _name(seed: int) -> str:
    family, middle, given = generator.FAMILY, generator.MIDDLE, generator.GIVEN
    return (
        f"{family[seed % len(family)]} {middle[(seed // 7) % len(middle)]} "
        f"{given[(seed // 77) % len(given)]}"
    )


def _user(
    username: str,
    full_name: str,
    role: str,
    *,
    now: dt.datetime,
    agency: Agency | None = None,
    desk: Desk | None = None,
) -> User:
    """An existing demo account, or a new one through the accounts services (no password:
    these accounts only act in generated events)."""
    user = User.objects.filter(username=username).first()
    if user is not None:
        return user
    user = accounts.create_user(
        SYSTEM,
        username=username,
        password=None,
        full_name=full_name,
        email=f"{username}@demo.cchc.local",
        now=now,
        check_password=False,
    )
    accounts.grant_role(SYSTEM, user, role, agency=agency, desk=desk, now=now)
    return user


def staff_for(groups: list[Group], *, now: dt.datetime) -> dict[int, generator.Staff]:
    """Staff of every group (by desk id and level), created when missing."""
    officers: dict[int, list[User]] = {}
    leaders: dict[int, list[User]] = {}
    desk_officers: dict[int, list[User]] = {}
    citizens = [
        _user(f"{PREFIX}congdan{i:02d}", _name(i * 31 + 5), Role.CITIZEN, now=now)
        for i in range(1, CITIZENS + 1)
    ]
    out = {}
    for index, group in enumerate(groups):
        for agency in group.agencies:
            if agency.pk in officers:
                continue
            code = agency.code.lower()
            officers[agency.pk] = [
                _user(
                    f"{PREFIX}{code}.thuly{i}",
                    _name(agency.pk * 13 + i),
                    Role.PROCESSING_OFFICER,
                    agency=agency,
                    now=now,
                )
                for i in range(1, OFFICERS[group.level] + 1)
            ]
            leaders[agency.pk] = [
                _user(
                    f"{PREFIX}{code}.lanhdao{i}",
                    _name(agency.pk * 17 + i),
                    Role.AGENCY_LEADER,
                    agency=agency,
                    now=now,
                )
                for i in range(1, LEADERS[group.level] + 1)
            ]
        desk = group.desk
        if desk.pk not in desk_officers:
            host_level = _level(desk.host_agency)
            desk_officers[desk.pk] = [
                _user(
                    f"{PREFIX}{desk.code}.motcua{i}",
                    _name(desk.pk * 19 + i),
                    Role.DESK_OFFICER,
                    agency=desk.host_agency,
                    desk=desk,
                    now=now,
                )
                for i in range(1, DESK_OFFICERS[host_level] + 1)
            ]
        out[index] = generator.Staff(
            desk_officers=desk_officers[desk.pk],
            officers={a.pk: officers[a.pk] for a in group.agencies},
            leaders={a.pk: leaders[a.pk] for a in group.agencies},
            citizens=citizens,
        )
    return out


# -- the year --------------------------------------------------------------------------------


@dataclass
class YearResult:
    year: int
    dossiers: int = 0
    rows: int = 0
    seconds: float = 0.0
    generate_seconds: float = 0.0
    first_id: int = 0
    last_id: int = 0
    complaints: int = 0
    groups: list[tuple[str, str, int]] = field(default_factory=list)  # level, desk, n


def year_end(year: int, now: dt.datetime | None = None) -> dt.datetime:
    """The instant the year is generated up to: the year's last evening, or `now` when the
    year is still running."""
    end = dt.datetime(year, 12, 31, 22, 0, tzinfo=VN)
    if now is not None and now < end:
        return now.astimezone(VN)
    return end


def existing(year: int, desks: list[Desk]) -> int:
    """Demo dossiers already received in `year` at `desks`."""
    start = dt.datetime(year, 1, 1, tzinfo=VN)
    return Dossier.objects.filter(
        is_demo=True,
        desk__in=desks,
        submitted_at__gte=start,
        submitted_at__lt=start.replace(year=year + 1),
    ).count()


def generate_year(
    n: int,
    *,
    year: int,
    seed: int,
    now: dt.datetime,
    calibration: Calibration | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> YearResult:
    """Write `n` demo dossiers for `year` across every desk of the demo organisation.

    Raises Conflict when the year already holds generated demo dossiers (they are never
    duplicated; events cannot be deleted, so start from a new database), InvalidInput when
    the organisation or the calibration is missing.
    """
    began = time.perf_counter()
    if n <= 0:
        raise InvalidInput("Số hồ sơ cần sinh phải lớn hơn 0.", code="demo.count")
    calibration = calibration or load_calibration(calibration_path(year))
    upto = year_end(year, now)
    groups = groups_for(year, calibration, now=upto)
    already = existing(year, [g.desk for g in groups])
    if already:
        raise Conflict(
            f"Năm {year} đã có {already:,} hồ sơ mẫu được sinh tại các bộ phận một cửa của "
            "tỉnh; không sinh thêm để tránh trùng lặp. Hãy dùng một cơ sở dữ liệu mới (hồ sơ "
            "và nhật ký sự kiện không xóa được).".replace(",", "."),
            code="demo.year_exists",
        )
    by_level = dict(
        zip(LEVELS, split(n, [calibration.level_shares[x] for x in LEVELS]), strict=True)
    )
    for level in LEVELS:
        members = [g for g in groups if g.level == level]
        if by_level[level] and not members:
            raise InvalidInput(
                f"Cơ cấu tổ chức mẫu không có bộ phận tiếp nhận hồ sơ {LEVEL_NAMES[level]}.",
                code="demo.no_level",
            )
        for group, count in zip(
            members, split(by_level[level], [len(g.agencies) for g in members]), strict=True
        ):
            group.n = count
    result = YearResult(year=year)
    with transaction.atomic(), _big_cache():
        staff = staff_for(groups, now=dt.datetime(year, 1, 1, 7, 0, tzinfo=VN))
        done = 0
        generate_began = time.perf_counter()
        for index, group in enumerate(groups):
            if not group.n:
                continue
            base = done

            def step(count: int, base: int = base) -> None:
                if progress is not None:
                    progress(base + count, n)

            generated = generator.generate(
                group.n,
                seed=seed * 1009 + index,
                start=group.start,
                end=upto,
                desk=group.desk,
                procedures=group.procedures,
                agencies=group.agencies,
                users=staff[index],
                now=upto,
                open_share=calibration.open_share,
                batch=20_000,
                progress=step,
                profile=calibration.profiles[group.level],
                is_demo=True,
                notify=False,
            )
            done += group.n
            result.rows += generated.total_rows
            result.first_id = result.first_id or generated.first_id
            result.last_id = generated.last_id
            result.groups.append((group.level, group.desk.code, group.n))
        result.generate_seconds = time.perf_counter() - generate_began
        # One rebuild of the derived aggregates for the whole year.
        signals.dossiers_bulk_loaded.send(
            sender=Dossier, first_id=result.first_id, last_id=result.last_id
        )
        leaders = {a: users[0] for s in staff.values() for a, users in s.leaders.items() if users}
        result.complaints = _complaints(result, calibration, leaders=leaders, seed=seed, now=upto)
    result.dossiers = n
    result.seconds = time.perf_counter() - began
    return result


@contextmanager
def _big_cache() -> Iterator[None]:
    """SQLite: a 1 GiB page cache while loading, so that index pages stay in memory instead
    of being spilled to the WAL again and again (4× fewer bytes written at 1 M dossiers)."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        before = int(cursor.fetchone()[0])
        cursor.execute("PRAGMA cache_size = -1048576")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {before}")


def _complaints(
    result: YearResult,
    calibration: Calibration,
    *,
    leaders: dict[int, User],
    seed: int,
    now: dt.datetime,
) -> int:
    """File a few complaints (PAKN) about returned dossiers through the feedback service,
    addressed to the competent agency, whose leader then confirms the dossier they name (a
    PAKN counts against a dossier only once its link is proven: the `complaint` event, cells
    kept by its signal)."""
    returned = Dossier.objects.filter(
        pk__gte=result.first_id, pk__lte=result.last_id, state="returned"
    )
    count = round(returned.count() * calibration.complaints)
    if not count:
        return 0
    rng = np.random.default_rng([seed, 0xC0])
    ids = list(returned.order_by("pk").values_list("pk", flat=True))
    chosen = sorted(rng.choice(len(ids), size=min(count, len(ids)), replace=False).tolist())
    made = 0
    for position in chosen:
        dossier = Dossier.objects.get(pk=ids[position])
        last = DossierEvent.objects.filter(dossier=dossier).order_by("-seq").first()
        assert last is not None
        at = last.at + dt.timedelta(days=1 + int(rng.integers(0, 5)), hours=int(rng.integers(0, 6)))
        confirmed = at + dt.timedelta(minutes=30)
        leader = leaders.get(dossier.competent_agency_id)
        if confirmed >= now or leader is None:
            continue
        pakn = feedback.submit(
            SYSTEM,
            feedback.Submission(
                name=dossier.applicant_name,
                subject=f"Phản ánh về việc giải quyết hồ sơ {dossier.code}",
                content="Dữ liệu minh họa: người nộp phản ánh thời gian và cách hướng dẫn "
                "khi giải quyết hồ sơ.",
                phone=dossier.applicant_phone,
                agency_id=dossier.competent_agency_id,
                dossier_code=dossier.code,
            ),
            now=at,
            is_demo=True,
        )
        linking.confirm_by_officer(leader, pakn, now=confirmed)
        made += 1
    return made


# -- summary ---------------------------------------------------------------------------------


@dataclass
class Summary:
    total: int = 0
    levels: dict[str, int] = field(default_factory=dict)
    states: dict[str, int] = field(default_factory=dict)
    outcomes: dict[str, int] = field(default_factory=dict)
    outcomes_by_level: dict[str, dict[str, int]] = field(default_factory=dict)
    channels: dict[int, int] = field(default_factory=dict)
    online_offered: tuple[int, int] = (0, 0)  # online, all (procedures with an online service)
    months: dict[int, int] = field(default_factory=dict)
    paid: tuple[int, int, int] = (0, 0, 0)  # fee-bearing, paid, paid online
    digitised: int = 0

    def share(self, part: int, whole: int) -> float:
        return part / whole if whole else 0.0


def summarise(first_id: int, last_id: int) -> Summary:
    """Counts of the generated dossiers (one GROUP BY; months of receipt in Python)."""
    qs = Dossier.objects.filter(pk__gte=first_id, pk__lte=last_id)
    out = Summary()
    rows = qs.values(
        "competent_agency__agency_type__level__code",
        "state",
        "outcome",
        "channel",
        "online_level",
        "procedure__online_level",
        "digitised",
    ).annotate(n=Count("pk"))
    for row in rows:
        n = row["n"]
        level = row["competent_agency__agency_type__level__code"]
        out.total += n
        out.levels[level] = out.levels.get(level, 0) + n
        out.states[row["state"]] = out.states.get(row["state"], 0) + n
        if row["outcome"]:
            out.outcomes[row["outcome"]] = out.outcomes.get(row["outcome"], 0) + n
            per = out.outcomes_by_level.setdefault(level, {})
            per[row["outcome"]] = per.get(row["outcome"], 0) + n
        out.channels[row["channel"]] = out.channels.get(row["channel"], 0) + n
        if row["procedure__online_level"] != "none":
            online, total = out.online_offered
            out.online_offered = (online + (n if row["channel"] == 2 else 0), total + n)
        if row["digitised"]:
            out.digitised += n
    fee = qs.filter(fee_total__gt=0)
    out.paid = (
        fee.count(),
        fee.filter(paid_amount__gt=0).count(),
        fee.filter(paid_amount__gt=0, payment_channel__in=("1", "2")).count(),
    )
    months = (
        qs.filter(received_at__isnull=False)
        .annotate(month=ExtractMonth("received_at", tzinfo=VN))
        .values("month")
        .annotate(n=Count("pk"))
    )
    out.months = {row["month"]: row["n"] for row in months}
    return out


def verify_sample(first_id: int, last_id: int, *, size: int, seed: int) -> Any:
    """`cchc dossiers verify` on `size` dossiers drawn at random from the id range."""
    span = last_id - first_id + 1
    rng = np.random.default_rng([seed, 0x7E])
    picked = rng.choice(span, size=min(size, span), replace=False) + first_id
    return verify.verify(queryset=Dossier.objects.filter(pk__in=picked.tolist()))
