"""The weekly ranking page (/chi-so/xep-hang-tuan/): the snapshots the scheduler takes
every Monday (`cchc.indicators.weekly`), one week and one board (province-level agencies or
commune-level People's Committees) at a time, each agency with its change in rank against
the previous snapshot, and the table as CSV/XLSX.

The page reads stored snapshots only, never the engine: the snapshots of the board (for the
week chooser) and the rows of the chosen and the previous snapshot, in one query each, so
its query count is fixed whatever the number of weeks or agencies.

Who sees what. The national portal's board is public, and a rank means little without the
others; still, the dashboard shows an agency's figures only to those whose `indicator.view`
reaches it (`selection.reach`), and this page does the same: a provincial viewer sees the
whole board, an agency leader or focal point the lines of their agencies, with their rank
among all the agencies ranked (the number ranked is stated), so nobody reads another
agency's figures through this page that the dashboard would not show them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from cchc.accounts.access import requires
from cchc.dashboard import selection
from cchc.dashboard.tables import FORMATS, Table, download
from cchc.errors import InvalidInput
from cchc.indicators import weekly
from cchc.indicators.models import RankingEntry, RankingKind, RankingSnapshot

KINDS = [(k.value, weekly.KIND_LABELS[k]) for k in RankingKind]
MEMBERS = {
    RankingKind.AGENCY.value: "cơ quan cấp tỉnh (sở, ban, ngành)",
    RankingKind.COMMUNE.value: "UBND cấp xã",
}
HEADERS = [
    "Hạng",
    "Thay đổi so với tuần trước",
    "Cơ quan",
    "Điểm 766 quy về thang 100",
    "Điểm đạt",
    "Điểm tối đa (chỉ số có dữ liệu)",
    "Giải quyết trước hạn, đúng hạn (%)",
    "Hồ sơ tiếp nhận",
    "Hồ sơ giải quyết xong",
]


@dataclass(frozen=True)
class Line:
    row: RankingEntry
    change: weekly.Change


@dataclass
class Board:
    kind: str
    snapshots: list[RankingSnapshot]
    chosen: RankingSnapshot | None
    previous: RankingSnapshot | None
    lines: list[Line]
    whole: bool  # every line shown (the viewer reaches every agency ranked)

    @property
    def week(self) -> weekly.Week | None:
        return weekly.Week.of(self.chosen.monday) if self.chosen else None

    def table(self) -> Table:
        assert self.chosen is not None and self.week is not None
        week = self.week
        compared = (
            f"so với {weekly.Week.of(self.previous.monday).label}"
            if self.previous
            else "không có tuần trước để so sánh"
        )
        return Table(
            name=f"xep-hang-tuan-{self.kind}-{week.code}",
            title=f"Xếp hạng theo tuần — {dict(KINDS)[self.kind]} — {week.label}",
            headers=HEADERS,
            rows=[
                (
                    line.row.rank,
                    f"{line.change.symbol} ({line.change.words})",
                    line.row.name,
                    line.row.score_100,
                    line.row.points,
                    line.row.max_points,
                    line.row.on_time,
                    line.row.received,
                    line.row.finished,
                )
                for line in self.lines
            ],
            note=(
                f"{week.period.label}; thay đổi hạng {compared}; "
                f"định nghĩa {self.chosen.definition_version}"
            ),
        )


def board(user: Any, kind: str, week: weekly.Week | None) -> Board:
    """The chosen snapshot (the latest without `week`) of `kind`, its lines the viewer may
    see, each with its change against the snapshot before it. NotFound-like InvalidInput
    when `week` has no snapshot."""
    who = selection.reach(user)
    snapshots = list(RankingSnapshot.objects.filter(kind=kind).order_by("-monday"))
    chosen = previous = None
    for n, snap in enumerate(snapshots):
        if week is None or snap.monday == week.monday:
            chosen = snap
            previous = snapshots[n + 1] if n + 1 < len(snapshots) else None
            break
    if week is not None and chosen is None and snapshots:
        raise InvalidInput(
            f"Chưa có ảnh chụp xếp hạng {week.label}; đang hiển thị tuần gần nhất.",
            code="indicators.ranking_snapshot",
        )
    rows: dict[int, list[RankingEntry]] = {}
    if chosen is not None:
        ids = [chosen.pk] + ([previous.pk] if previous else [])
        for r in RankingEntry.objects.filter(snapshot_id__in=ids).order_by("position"):
            rows.setdefault(r.snapshot_id, []).append(r)
    current = rows.get(chosen.pk, []) if chosen else []
    before = rows.get(previous.pk, []) if previous else None
    lines = [Line(r, c) for r, c in weekly.changes(current, before) if who.covers(r.agency_id)]
    return Board(kind, snapshots, chosen, previous, lines, whole=len(lines) == len(current))


@requires("indicator.view")
def ranking(request: HttpRequest) -> HttpResponse:
    kind = request.GET.get("kind") or RankingKind.AGENCY.value
    if kind not in RankingKind.values:
        messages.error(request, "Đối tượng xếp hạng không hợp lệ (Cơ quan hoặc Cấp xã).")
        return redirect("dashboard:weekly")
    here = f"{reverse('dashboard:weekly')}?kind={kind}"
    raw = (request.GET.get("week") or "").strip()
    try:
        found = board(request.user, kind, weekly.parse_week(raw) if raw else None)
    except InvalidInput as exc:
        messages.error(request, exc.message)
        return redirect(here)
    fmt = request.GET.get("format")
    if fmt:
        if fmt not in FORMATS or found.chosen is None:
            raise Http404("Không có bảng hoặc định dạng tải xuống này.")
        return download(found.table(), fmt)
    week = found.week
    return render(
        request,
        "dashboard/weekly.html",
        {
            "board": found,
            "week": week,
            "kinds": KINDS,
            "kind_label": dict(KINDS)[kind],
            "members": MEMBERS[kind],
            "weeks": [(s.week, weekly.Week.of(s.monday).label) for s in found.snapshots],
            "previous_label": weekly.Week.of(found.previous.monday).label if found.previous else "",
            "query": f"kind={kind}&week={week.code}" if week else f"kind={kind}",
            "schedule": weekly.SCHEDULE_TEXT,
        },
    )
