"""`cchc index766 --period 2024-06 [--json]`: the 766 index, group and sub-indicator points."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cchc.errors import DomainError
from cchc.indicators import periods, services
from cchc.indicators.management.commands.indicators import add_filters, filters_from, now_from


class Command(BaseCommand):
    help = "Bộ chỉ số 766: điểm theo nhóm và chỉ số thành phần của một kỳ."

    def add_arguments(self, parser: CommandParser) -> None:
        add_filters(parser)

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            period = periods.parse(opts["period"])
            idx = services.index766(period, filters_from(opts), now=now_from(opts))
        except DomainError as exc:
            raise CommandError(exc.message, returncode=exc.exit_code) from None
        if opts["json"]:
            self.stdout.write(json.dumps(idx.as_dict(), ensure_ascii=False, indent=2))
            return
        f = services.fmt
        self.stdout.write(
            f"Bộ chỉ số 766 — {period.label}: {f(idx.total)}/{f(idx.max_total)} điểm "
            f"(quy về thang 100: {f(idx.total_100)}; {idx.definition_version})"
        )
        for g in idx.groups:
            self.stdout.write(
                f"{g.code}. {g.name}: {f(g.points)}/{f(g.max_points)} (tối đa {f(g.nominal_max)})"
            )
            for s in g.subs:
                points = f(s.points) if s.points is not None else "—"
                self.stdout.write(
                    f"   {s.code} [{s.evidence}] {s.name}: {points}/{f(s.max_points)} — {s.formula}"
                )
