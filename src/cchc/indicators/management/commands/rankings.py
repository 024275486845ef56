"""`cchc rankings snapshot [--week 2026-W49] [--dry-run] [--json]` — take the weekly ranking
snapshots (`cchc.indicators.weekly`); `cchc rankings show [--week] [--kind]` — print one.

Exit codes: 0 taken or already taken (a re-run is a no-op, reported); 2 a malformed week,
a week the year does not have, or a week that has not ended yet; 4 no snapshot to show.
The scheduler runs `snapshot --json` every Monday at 06:00 (job `indicators-weekly-ranking`).
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from cchc import legaltime
from cchc.accounts.policy import SYSTEM
from cchc.errors import DomainError, NotFound
from cchc.indicators import weekly
from cchc.indicators.figures import fmt
from cchc.indicators.models import RankingEntry, RankingKind, RankingSnapshot

OUTCOMES = {
    "created": "đã chụp",
    "exists": "đã có từ trước, giữ nguyên (không chụp lại)",
    "dry-run": "đã tính thử, không ghi",
}


class Command(BaseCommand):
    help = "Xếp hạng theo tuần: chụp bảng xếp hạng cơ quan và cấp xã theo Bộ chỉ số 766."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        snap = sub.add_parser(
            "snapshot", help="take the snapshots of a week that has ended (default: last week)"
        )
        snap.add_argument("--week", help="ISO week, e.g. 2026-W49 (default: the week just ended)")
        snap.add_argument("--dry-run", action="store_true", help="compute and print, write nothing")
        snap.add_argument("--now", help="ISO instant (default: now)")
        snap.add_argument("--json", action="store_true")
        show = sub.add_parser("show", help="print a stored snapshot with the changes in rank")
        show.add_argument("--week", help="ISO week (default: the latest snapshot)")
        show.add_argument("--kind", choices=RankingKind.values, default=RankingKind.AGENCY)
        show.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            getattr(self, f"_{opts['action']}")(opts)
        except DomainError as exc:
            raise CommandError(exc.message, returncode=exc.exit_code) from None

    def _snapshot(self, opts: dict[str, Any]) -> None:
        now = legaltime.parse_instant(opts["now"]) if opts.get("now") else timezone.now()
        week = weekly.parse_week(opts["week"]) if opts.get("week") else weekly.last_ended(now)
        taken = weekly.take(week, actor=SYSTEM, now=now, dry_run=opts["dry_run"])
        if opts["json"]:
            report = {
                "week": week.code,
                "created": sum(t.outcome == "created" for t in taken),
                "already": sum(t.outcome == "exists" for t in taken),
                "dry_run": sum(t.outcome == "dry-run" for t in taken),
                "ranked": sum(len(t.rows) for t in taken if t.outcome != "exists"),
                "snapshots": [t.as_dict() for t in taken],
            }
            self.stdout.write(json.dumps(report, ensure_ascii=False))
            return
        self.stdout.write(f"{week.label} — {week.period.label}")
        for t in taken:
            kind = RankingKind(t.kind).label
            count = t.snapshot.ranked if t.outcome == "exists" and t.snapshot else len(t.rows)
            self.stdout.write(f"{kind}: {OUTCOMES[t.outcome]} ({count} cơ quan).")
            if t.outcome == "dry-run":
                for r in t.rows:
                    self._line(r, None)

    def _show(self, opts: dict[str, Any]) -> None:
        kind = opts["kind"]
        snaps = RankingSnapshot.objects.filter(kind=kind).order_by("-monday")
        week = weekly.parse_week(opts["week"]) if opts.get("week") else None
        if week is not None:
            snaps = snaps.filter(monday__lte=week.monday)
        pair = list(snaps[:2])
        if not pair or (week is not None and pair[0].monday != week.monday):
            which = f"tuần {week.code}" if week is not None else "tuần nào"
            raise NotFound(
                f"Chưa có ảnh chụp xếp hạng {which} ({RankingKind(kind).label}).",
                code="indicators.ranking_snapshot",
            )
        rows: dict[int, list[RankingEntry]] = {s.pk: [] for s in pair}
        for r in RankingEntry.objects.filter(snapshot__in=pair).order_by("position"):
            rows[r.snapshot_id].append(r)
        listed = weekly.changes(rows[pair[0].pk], rows[pair[1].pk] if len(pair) > 1 else None)
        if opts["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "week": pair[0].week,
                        "kind": kind,
                        "rows": [
                            {
                                "rank": r.rank,
                                "change": c.symbol,
                                "agency_id": r.agency_id,
                                "name": r.name,
                                "score_100": None if r.score_100 is None else float(r.score_100),
                            }
                            for r, c in listed
                        ],
                    },
                    ensure_ascii=False,
                    indent=2,
                )
            )
            return
        self.stdout.write(f"{RankingKind(kind).label} — tuần {pair[0].week}")
        for r, c in listed:
            self._line(r, c)

    def _line(self, r: RankingEntry, c: weekly.Change | None) -> None:
        rank = "—" if r.rank is None else str(r.rank)
        moved = f" {c.symbol:>4}" if c is not None else ""
        self.stdout.write(
            f"{rank:>3}.{moved} {r.name}: {fmt(r.score_100)} "
            f"(T4 {fmt(r.on_time)}{'%' if r.on_time is not None else ''}; "
            f"{r.received}/{r.finished} hồ sơ)"
        )
