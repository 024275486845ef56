"""Demo data of the plan monitor: the shipped Plan 213/2024 (real targets, illustrative
tasks), a few progress reports by the demo focal point reviewed by the demo supervisor,
and illustrative register rows. Idempotent: running it twice adds nothing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cchc.accounts.models import User
from cchc.accounts.policy import SYSTEM
from cchc.plans import progress, services
from cchc.plans.importers import ExternalIndexImporter, LegalDocumentImporter, WorkRecordImporter
from cchc.plans.models import Task, TaskReport

DEMO_DIR = Path(__file__).resolve().parent / "data" / "demo"
VN = services.VN
# A tiny but well-formed PDF used as the demo evidence file.
DEMO_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


@dataclass
class PlanDemoSummary:
    plan: Any = None
    reports: int = 0
    registers: dict[str, Any] = field(default_factory=dict)


def _at(day: str) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(9, 0), tzinfo=VN)


# (task code, period, progress, completed, note, reported on, reviewed on or None)
REPORTS = [
    ("1.2", "", 50, False, "Đã rà soát 120/240 văn bản (minh họa).", "2024-04-15", None),
    (
        "1.2",
        "",
        100,
        True,
        "Hoàn thành rà soát, có báo cáo kết quả (minh họa).",
        "2024-06-25",
        "2024-06-28",
    ),
    (
        "1.1",
        "",
        40,
        False,
        "Đã trình 6/15 văn bản theo chương trình (minh họa).",
        "2024-07-10",
        None,
    ),
]


def load(*, now: dt.datetime) -> PlanDemoSummary:
    summary = PlanDemoSummary()
    summary.plan = services.load_plan(SYSTEM, services.SHIPPED_PLAN, now=now)
    for name, importer in (
        ("legal_documents", LegalDocumentImporter()),
        ("work_records", WorkRecordImporter()),
        ("external_indices", ExternalIndexImporter()),
    ):
        summary.registers[name] = importer.run(str(DEMO_DIR / f"{name}.csv"), actor=SYSTEM, now=now)
    reporter = User.objects.filter(username="daumoi").first()
    reviewer = User.objects.filter(username="giamsat").first()
    if reporter is None or reviewer is None:
        return summary
    plan = summary.plan.plan
    for code, period, pct, completed, note, on, reviewed in REPORTS:
        task = Task.objects.select_related("plan").get(plan=plan, code=code)
        at = _at(on)
        if TaskReport.objects.filter(task=task, period=period, reported_at=at).exists():
            continue
        files = [progress.Upload("bao-cao-minh-hoa.pdf", DEMO_PDF)] if completed else []
        report = progress.submit_report(
            reporter,
            task,
            progress=pct,
            note=note,
            completed=completed,
            period=period,
            files=files,
            now=at,
        )
        summary.reports += 1
        if reviewed:
            progress.review_report(reviewer, report, accept=True, note="", now=_at(reviewed))
    return summary
