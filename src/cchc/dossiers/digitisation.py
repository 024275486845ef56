"""Digitisation the system knows (issue 21, item 5): a component scanned at the desk is
recorded per component with its stored file (`DigitisedComponent`); a later dossier of the
same citizen reuses it, found by ID number and component type, instead of a new upload
(`ComponentReuse`). Whether a component is digitised or reused, and the dossier's intake
facts `Dossier.digitised` / `Dossier.reused_data` that 766 group "Số hóa hồ sơ" counts
(sub-indicators 3b and 3d of `indicators/data/index766.toml`), are derived from these rows by
`derive`, never ticked.

Where the flags change:
- at intake, `record_intake` runs in the intake transaction after the components and their
  files are stored and before the dossier's first event, so the receipt event carries them
  to the indicator cells (`dossier_changed`);
- a reuse after intake (`reuse`) changes them inside its own transaction, under the dossier's
  row lock, and appends a "note" event with the snapshot taken before the change, so the
  cell deltas follow the same way.

Signing hook: the desk's signature of a scan signs `DigitisedComponent.file` (a
`StoredFile`); `unsigned_scans` lists the ones still to sign.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from cchc import privacy
from cchc.audit import log
from cchc.catalog import versions
from cchc.catalog.models import Procedure
from cchc.dossiers import access, signals
from cchc.dossiers.models import (
    OPEN_STATES,
    ComponentReuse,
    DigitisedComponent,
    Dossier,
    DossierComponent,
    StoredFile,
)
from cchc.dossiers.services import _append, _lock, _now, _refused
from cchc.errors import DomainError, InvalidInput
from cchc.eventlog import workflow
from cchc.vietnamese import fold

REUSED_AUDIT = "dossier.component_reused"
DIGITISED_AUDIT = "dossier.components_digitised"


def normalise_id(value: str | None) -> str:
    """An ID number as stored for matching: its digits only ("024 190-001234" ->
    "024190001234")."""
    return "".join(ch for ch in str(value or "") if ch.isdigit())[:20]


def type_code_of(name: str, national_code: str = "") -> str:
    """The component type two dossiers must share for a reuse: the national document-type
    code when known, else the folded document name (the same paper under another procedure
    or procedure version has the same name)."""
    code = national_code.strip()
    return code[:220] if code else ("ten:" + fold(name))[:220]


# -- deriving the flags -----------------------------------------------------------------------


def derive(dossier: Dossier) -> None:
    """Set `DossierComponent.digitised` (it has a scanned file or reuses a digitised one),
    `DossierComponent.reused` (it reuses one), `Dossier.digitised` (every component is
    digitised) and `Dossier.reused_data` (some component is reused) from the stored facts,
    in the database and on `dossier`. Three statements. Call it inside the transaction of
    the event that changes them."""
    scanned = StoredFile.objects.filter(component=OuterRef("pk"))
    reused = ComponentReuse.objects.filter(component=OuterRef("pk"))
    DossierComponent.objects.filter(dossier=dossier).update(
        digitised=Exists(scanned) | Exists(reused), reused=Exists(reused)
    )
    flags = DossierComponent.objects.filter(dossier=dossier).aggregate(
        total=_count(Q()), digitised=_count(Q(digitised=True)), reused=_count(Q(reused=True))
    )
    dossier.digitised = bool(flags["total"]) and flags["digitised"] == flags["total"]
    dossier.reused_data = bool(flags["reused"])
    Dossier.objects.filter(pk=dossier.pk).update(
        digitised=dossier.digitised, reused_data=dossier.reused_data
    )


def _count(condition: Q) -> Count:
    return Count("pk", filter=condition)


# -- at intake ----------------------------------------------------------------------------------


def record_intake(
    dossier: Dossier,
    *,
    actor: Any,
    now: dt.datetime,
    reuses: Mapping[int, DigitisedComponent] | None = None,
    valid_until: Mapping[int, dt.date] | None = None,
) -> list[DigitisedComponent]:
    """Record the components of a new `dossier` that have a file (scanned at the desk, or
    uploaded with an online submission) as digitised, link the components the officer gave
    by reusing a digitised one (`reuses`: component position -> `DigitisedComponent`), and
    derive the flags. Runs inside the intake transaction, after the components and files
    are stored and before the dossier's first event. `valid_until`: position -> the last
    day a scanned paper may be reused (an identity card's expiry…)."""
    components = {c.position: c for c in dossier.components.all()}
    first_file: dict[int, StoredFile] = {}
    for stored in StoredFile.objects.filter(dossier=dossier, component__isnull=False).order_by(
        "id"
    ):
        first_file.setdefault(stored.component_id, stored)  # type: ignore[arg-type]
    holder = normalise_id(dossier.applicant_id_number)
    user = workflow.actor_user(actor)
    made = []
    for position, component in sorted(components.items()):
        stored = first_file.get(component.pk)
        if stored is None:
            continue
        made.append(
            DigitisedComponent(
                id_number=holder,
                type_code=type_code_of(component.name),
                name=component.name,
                document_id=component.document_id,
                file=stored,
                dossier=dossier,
                component=component,
                scanned_at=now,
                scanned_by=user,
                valid_until=(valid_until or {}).get(position),
            )
        )
    for row in made:
        row.save()
    for position, source in (reuses or {}).items():
        component = components.get(position)
        if component is None:
            raise InvalidInput(
                "Thành phần hồ sơ cần tái sử dụng không có trong hồ sơ.",
                code="dossier.reuse_component",
            )
        _link(actor, dossier, component, source, now)
    derive(dossier)
    if made:
        log.record(
            DIGITISED_AUDIT,
            actor=user,
            obj=dossier,
            agency_id=dossier.receiving_agency_id,
            at=now,
            data={"components": [[r.component_id, r.file_id] for r in made]},
        )
    return made


# -- reuse ------------------------------------------------------------------------------------


def reusable(
    id_number: str,
    procedure: Procedure,
    *,
    on: dt.date | None = None,
    exclude_dossier: Dossier | None = None,
) -> list[DigitisedComponent]:
    """The digitised components of the citizen `id_number` a dossier of `procedure` (as in
    force on `on`, default today) can reuse: of a type the procedure asks for, still valid,
    newest first. Personal data: the caller has checked the reader may receive dossiers.
    Two queries."""
    holder = normalise_id(id_number)
    if not holder:
        return []
    day = on or timezone.localdate()
    terms = versions.in_force(procedure, day) or procedure
    types = {type_code_of(doc.name) for doc in terms.documents.all()}  # type: ignore[attr-defined]
    qs = (
        DigitisedComponent.objects.filter(id_number=holder, type_code__in=types)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=day))
        .select_related("file", "dossier")
    )
    if exclude_dossier is not None:
        qs = qs.exclude(dossier=exclude_dossier)
    return list(qs)


def reuse(
    actor: Any,
    dossier: Dossier,
    component: DossierComponent,
    digitised: DigitisedComponent,
    *,
    now: dt.datetime | None = None,
    expected_version: int | None = None,
) -> ComponentReuse:
    """Give `component` of `dossier` by reusing `digitised` (no new upload): the link is
    recorded, the digitised component's `reused_count` grows, the flags are derived again
    and a "note" event carries them to the indicators; audited. Refused (InvalidInput, in
    Vietnamese, audited as `dossier.refused`) when the digitised paper belongs to another
    ID number, is of another type, has expired, or the dossier is closed."""
    at = _now(now)
    try:
        access.require(actor, dossier, "receive")
        with transaction.atomic():
            locked = _lock(dossier, expected_version)
            current = DossierComponent.objects.select_for_update().get(pk=component.pk)
            source = DigitisedComponent.objects.select_for_update().get(pk=digitised.pk)
            if locked.state not in OPEN_STATES:
                raise InvalidInput(
                    f"Hồ sơ {locked.code} đã kết thúc; không thể tái sử dụng thành phần đã số hóa.",
                    code="dossier.reuse_closed",
                )
            before = signals.snapshot(locked)
            link = _link(actor, locked, current, source, at)
            derive(locked)
            _append(
                locked,
                "note",
                actor=actor,
                now=at,
                reason=(
                    f"Tái sử dụng thành phần hồ sơ đã số hóa «{source.name}» cho «{current.name}» "
                    f"(số hóa ngày {timezone.localtime(source.scanned_at):%d/%m/%Y})."
                ),
                data={"reuse": {"component": current.pk, "digitised": source.pk}},
                before=before,
            )
    except DomainError as error:
        _refused(actor, dossier, "reuse", error, at)
        raise
    dossier.refresh_from_db()
    return link


def _link(
    actor: Any,
    dossier: Dossier,
    component: DossierComponent,
    source: DigitisedComponent,
    at: dt.datetime,
) -> ComponentReuse:
    """Check and record one reuse (inside the caller's transaction), with its audit."""
    holder = normalise_id(dossier.applicant_id_number)
    if component.dossier_id != dossier.pk:
        raise InvalidInput(
            f"Thành phần «{component.name}» không thuộc hồ sơ {dossier.code}.",
            code="dossier.reuse_component",
        )
    if not holder:
        raise InvalidInput(
            f"Hồ sơ {dossier.code} chưa có số định danh của người nộp nên không thể tái sử "
            "dụng dữ liệu đã số hóa.",
            code="dossier.reuse_no_id",
        )
    if not source.id_number or source.id_number != holder:
        raise InvalidInput(
            f"Giấy tờ đã số hóa «{source.name}» thuộc người có số định danh khác; chỉ tái sử "
            f"dụng được giấy tờ đã số hóa của chính người nộp hồ sơ {dossier.code}.",
            code="dossier.reuse_other_holder",
        )
    if source.dossier_id == dossier.pk:
        raise InvalidInput(
            f"«{source.name}» được số hóa trong chính hồ sơ {dossier.code}.",
            code="dossier.reuse_same_dossier",
        )
    if source.type_code != type_code_of(component.name):
        raise InvalidInput(
            f"Giấy tờ đã số hóa «{source.name}» không cùng loại với thành phần «{component.name}».",
            code="dossier.reuse_type",
        )
    day = timezone.localtime(at).date()
    if source.valid_until is not None and source.valid_until < day:
        raise InvalidInput(
            f"Giấy tờ đã số hóa «{source.name}» đã hết giá trị sử dụng từ ngày "
            f"{source.valid_until:%d/%m/%Y}.",
            code="dossier.reuse_expired",
        )
    if ComponentReuse.objects.filter(component=component).exists():
        raise InvalidInput(
            f"Thành phần «{component.name}» đã được tái sử dụng từ dữ liệu số hóa.",
            code="dossier.reuse_twice",
        )
    if StoredFile.objects.filter(component=component).exists():
        raise InvalidInput(
            f"Thành phần «{component.name}» đã có tệp số hóa riêng; không cần tái sử dụng.",
            code="dossier.reuse_scanned",
        )
    link = ComponentReuse.objects.create(
        component=component,
        dossier=dossier,
        digitised=source,
        reused_at=at,
        reused_by=workflow.actor_user(actor),
    )
    DigitisedComponent.objects.filter(pk=source.pk).update(reused_count=F("reused_count") + 1)
    log.record(
        REUSED_AUDIT,
        actor=workflow.actor_user(actor),
        obj=dossier,
        agency_id=dossier.receiving_agency_id,
        at=at,
        data={
            "component": component.pk,
            "digitised": source.pk,
            "file": source.file_id,
            "from_dossier": source.dossier_id,
        },
    )
    return link


# -- signing hook -----------------------------------------------------------------------------


def unsigned_scans() -> QuerySet[DigitisedComponent]:
    """Scans the desk's signing job has to sign: `DigitisedComponent.file_id` names the
    stored file (issue 21: "signed by the desk"). Until the signing jobs record a signed
    state, every scan is listed; the signing helper filters by its own record."""
    return DigitisedComponent.objects.select_related("file").order_by("id")


# -- the page fragment ------------------------------------------------------------------------


@dataclass(frozen=True)
class ScanRow:
    name: str
    file_id: int
    file_name: str
    scanned_at: dt.datetime
    scanned_by: str
    valid_until: dt.date | None
    reused_count: int


@dataclass(frozen=True)
class ReuseRow:
    component: str
    source: str
    source_dossier: str
    scanned_at: dt.datetime
    reused_at: dt.datetime


@dataclass(frozen=True)
class Fragment:
    holder: str
    scans: list[ScanRow]
    reuses: list[ReuseRow]
    files_visible: bool


def fragment(
    user: Any, dossier: Dossier, *, components: list[DossierComponent] | None = None
) -> Fragment:
    """What `dossiers/_digitised.html` shows for `dossier` to `user`: the components scanned
    in it, the ones reused from earlier scans, the holder's ID number masked unless `user`
    may see personal data. `components`: the dossier's components already read with
    ``select_related("digitisation__file", "digitisation__scanned_by")`` (the dossier page
    has them): then the scans cost no query. The reuses cost one query, only when the
    dossier reused data."""
    full = access.sees_personal_data(user, dossier)
    if components is None:
        components = list(
            DossierComponent.objects.filter(dossier=dossier).select_related(
                "digitisation__file", "digitisation__scanned_by"
            )
        )
    scanned = []
    for component in sorted(components, key=lambda c: c.position):
        try:
            scanned.append(component.digitisation)
        except DigitisedComponent.DoesNotExist:
            continue
    scans = [
        ScanRow(
            name=row.name,
            file_id=row.file_id,
            file_name=privacy.shown(privacy.Field.FILE, row.file.name, full=full),
            scanned_at=row.scanned_at,
            scanned_by=workflow.actor_label(row.scanned_by),
            valid_until=row.valid_until,
            reused_count=row.reused_count,
        )
        for row in scanned
    ]
    reuses = (
        [
            ReuseRow(
                component=row.component.name,
                source=row.digitised.name,
                source_dossier=row.digitised.dossier.code,
                scanned_at=row.digitised.scanned_at,
                reused_at=row.reused_at,
            )
            for row in ComponentReuse.objects.filter(dossier=dossier)
            .select_related("component", "digitised__dossier")
            .order_by("component__position")
        ]
        if dossier.reused_data
        else []
    )
    holder = privacy.shown(
        privacy.Field.ID_NUMBER, normalise_id(dossier.applicant_id_number), full=full
    )
    return Fragment(holder=holder, scans=scans, reuses=reuses, files_visible=full)
