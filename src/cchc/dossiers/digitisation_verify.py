"""`cchc digitisation verify [--year Y]`: the stored digitisation flags against the facts
(issue 21, item 5). Only reads.

For a dossier of this system (`source` empty) the flags are derived from the facts exactly
as `digitisation.derive` derives them:
- `DossierComponent.digitised` = the component has a stored file (`StoredFile.component`)
  or reuses a digitised component (`ComponentReuse`); `DossierComponent.reused` = it reuses;
- `Dossier.digitised` = it has components and every one is digitised;
  `Dossier.reused_data` = some component is reused.
Each reuse is also checked: the digitised paper belongs to the dossier's applicant (same ID
number, digits only), is of the component's type, comes from another dossier and was
scanned before the reuse.

A dossier imported from another system (`source` set) has no components here: its
"digitised" flag is that system's fact, carried by its `import` / `import_update` event
(`data.digitised`), and it never reuses data of this system. For those the stored flag must
equal the latest import event's, and `reused_data` must be false.

Counts are computed in the database (a few queries whatever the number of dossiers); only
the mismatching rows and the reuse links are read into Python.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from cchc import legaltime
from cchc.dossiers.digitisation import normalise_id, type_code_of
from cchc.dossiers.models import (
    ComponentReuse,
    DigitisedComponent,
    Dossier,
    DossierComponent,
    DossierEvent,
    StoredFile,
)

LISTED = 50  # mismatches kept in the report (all are counted)
IMPORT_ACTIONS = ("import", "import_update")


@dataclass(frozen=True)
class Mismatch:
    code: str  # the dossier's code
    what: str  # field, or "tái sử dụng" for a reuse link
    stored: Any
    derived: Any

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "what": self.what,
            "stored": self.stored,
            "derived": self.derived,
        }

    def __str__(self) -> str:
        return (
            f"{self.code}: {self.what} đang lưu {self.stored!r}, "
            f"tính lại từ dữ liệu số hóa {self.derived!r}"
        )


@dataclass
class Report:
    year: int | None
    dossiers: int = 0
    imported: int = 0
    components: int = 0
    scans: int = 0
    reuses: int = 0
    count: int = 0  # mismatches found
    mismatches: list[Mismatch] = field(default_factory=list)  # the first LISTED

    @property
    def clean(self) -> bool:
        return self.count == 0

    def add(self, mismatch: Mismatch) -> None:
        self.count += 1
        if len(self.mismatches) < LISTED:
            self.mismatches.append(mismatch)

    def as_dict(self) -> dict[str, Any]:
        return {
            "year": self.year,
            "dossiers": self.dossiers,
            "imported": self.imported,
            "components": self.components,
            "scans": self.scans,
            "reuses": self.reuses,
            "mismatches": self.count,
            "listed": [m.as_dict() for m in self.mismatches],
            "clean": self.clean,
        }


def scope(year: int | None) -> QuerySet[Dossier]:
    """The dossiers checked: all, or those submitted in `year` (Vietnamese local time)."""
    qs = Dossier.objects.all()
    if year is None:
        return qs
    start = dt.datetime(year, 1, 1, tzinfo=legaltime.VN_TZ)
    return qs.filter(submitted_at__gte=start, submitted_at__lt=start.replace(year=year + 1))


def _has_file() -> Exists:
    return Exists(StoredFile.objects.filter(component=OuterRef("pk")))


def _has_reuse() -> Exists:
    return Exists(ComponentReuse.objects.filter(component=OuterRef("pk")))


def verify(year: int | None = None) -> Report:
    """Compare the stored flags of the dossiers in `scope(year)` with the facts."""
    report = Report(year=year)
    dossiers = scope(year)
    native = dossiers.filter(source="")
    report.dossiers = native.count()
    components = DossierComponent.objects.filter(dossier__in=native.values("pk"))
    report.components = components.count()
    report.scans = DigitisedComponent.objects.filter(dossier__in=native.values("pk")).count()
    _components(report, components)
    _dossiers(report, native)
    _reuses(report, native)
    _imported(report, dossiers.exclude(source=""))
    return report


def _components(report: Report, components: QuerySet[DossierComponent]) -> None:
    facts = components.annotate(f=_has_file(), r=_has_reuse())
    wrong = facts.filter(
        Q(digitised=True, f=False, r=False)
        | Q(digitised=False, f=True)
        | Q(digitised=False, r=True)
        | Q(reused=True, r=False)
        | Q(reused=False, r=True)
    )
    for code, position, digitised, reused, f, r in wrong.order_by(
        "dossier_id", "position"
    ).values_list("dossier__code", "position", "digitised", "reused", "f", "r"):
        what = f"thành phần {position + 1}"
        if digitised != (f or r):
            report.add(Mismatch(code, f"{what}: đã số hóa", digitised, bool(f or r)))
        if reused != r:
            report.add(Mismatch(code, f"{what}: tái sử dụng", reused, bool(r)))


def _dossiers(report: Report, native: QuerySet[Dossier]) -> None:
    undigitised = DossierComponent.objects.filter(dossier=OuterRef("pk")).filter(
        ~Exists(StoredFile.objects.filter(component=OuterRef("pk"))),
        ~Exists(ComponentReuse.objects.filter(component=OuterRef("pk"))),
    )
    facts = native.annotate(
        any_component=Exists(DossierComponent.objects.filter(dossier=OuterRef("pk"))),
        missing=Exists(undigitised),
        any_reuse=Exists(ComponentReuse.objects.filter(dossier=OuterRef("pk"))),
    )
    all_digitised = Q(any_component=True, missing=False)
    wrong = facts.filter(
        (Q(digitised=True) & ~all_digitised)
        | (Q(digitised=False) & all_digitised)
        | Q(reused_data=True, any_reuse=False)
        | Q(reused_data=False, any_reuse=True)
    )
    for code, digitised, reused, any_component, missing, any_reuse in wrong.order_by(
        "pk"
    ).values_list("code", "digitised", "reused_data", "any_component", "missing", "any_reuse"):
        derived = bool(any_component and not missing)
        if digitised != derived:
            report.add(Mismatch(code, "hồ sơ đã số hóa", digitised, derived))
        if reused != any_reuse:
            report.add(Mismatch(code, "hồ sơ tái sử dụng dữ liệu", reused, bool(any_reuse)))


def _reuses(report: Report, native: QuerySet[Dossier]) -> None:
    links = (
        ComponentReuse.objects.filter(dossier__in=native.values("pk"))
        .order_by("pk")
        .values_list(
            "dossier__code",
            "dossier__applicant_id_number",
            "component__name",
            "reused_at",
            "dossier_id",
            "digitised__id_number",
            "digitised__type_code",
            "digitised__dossier_id",
            "digitised__scanned_at",
        )
    )
    for row in links.iterator(chunk_size=2000):
        report.reuses += 1
        code, applicant, name, reused_at, dossier_id = row[:5]
        holder, type_code, source_dossier, scanned_at = row[5:]
        problems = []
        if not holder or holder != normalise_id(applicant):
            problems.append("giấy tờ của người khác")
        if type_code != type_code_of(name):
            problems.append("khác loại giấy tờ")
        if source_dossier == dossier_id:
            problems.append("số hóa trong chính hồ sơ")
        if scanned_at >= reused_at:
            problems.append("số hóa sau thời điểm tái sử dụng")
        if problems:
            report.add(Mismatch(code, "tái sử dụng", name, "; ".join(problems)))


def _imported(report: Report, imported: QuerySet[Dossier]) -> None:
    report.imported = imported.count()
    if not report.imported:
        return
    latest: dict[int, tuple[int, bool]] = {}
    events = DossierEvent.objects.filter(
        dossier__in=imported.values("pk"), action__in=IMPORT_ACTIONS
    ).values_list("dossier_id", "seq", "data")
    for dossier_id, seq, data in events.iterator(chunk_size=2000):
        if dossier_id not in latest or seq > latest[dossier_id][0]:
            latest[dossier_id] = (seq, bool((data or {}).get("digitised")))
    rows = imported.order_by("pk").values_list("pk", "code", "digitised", "reused_data")
    for pk, code, digitised, reused in rows.iterator(chunk_size=2000):
        said = latest.get(pk, (0, False))[1]
        if digitised != said:
            report.add(Mismatch(code, "hồ sơ đã số hóa (theo hệ thống nguồn)", digitised, said))
        if reused:
            report.add(Mismatch(code, "hồ sơ tái sử dụng dữ liệu (hồ sơ nhập)", True, False))
