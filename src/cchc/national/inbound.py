"""Dossiers submitted on the national portal (Cổng DVCQG), brought into the province's system.

`fetch(now)` (the periodic job ``national-inbound``, ``cchc dvcqg inbound fetch``):

1. asks the portal for the dossiers submitted there and not yet acknowledged
   (`LIST_SERVICE`), and stores each one once by its national code (`InboundDossier`,
   unique): an insert that ignores a code already stored, so a dossier listed twice, or
   fetched by two workers at once, is stored once;
2. claims each stored, unprocessed one (a conditional update inside the transaction that
   creates the dossier: a second worker finds it claimed) and creates the local dossier
   through the same intake service the citizens' portal uses (`intake.submit_online`, the
   online channel, waiting for the desk's check), with its attachments as the dossier's
   components; the origin is recorded in `NationalDossier(inbound=True)`. What cannot be
   created (an unknown procedure, no desk receiving it, an invalid applicant or file) is
   `REFUSED` with the reason in Vietnamese, visible to administrators; never a crash;
3. acknowledges the created ones to the portal (`ACK_SERVICE`: national code → our code);
   an acknowledgement that fails is sent again on the next fetch.

The dossier's first event makes the outbox push it back to the portal with our code, as for
any dossier.

Service and field names marked UNVERIFIED are not confirmed against the portal's
specification (docs/national-platform.md); they follow the OpenCPS integration's shapes.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from django.db import DataError, transaction
from django.db.models import Q

from cchc.accounts import policy
from cchc.accounts.policy import SYSTEM
from cchc.audit import log
from cchc.catalog.models import Procedure
from cchc.dossiers import files, intake
from cchc.dossiers.models import ApplicantKind, Channel, Dossier, ReturnChannel
from cchc.errors import Conflict, DomainError, InvalidInput, NotFound
from cchc.national import client
from cchc.national.models import InboundDossier, InboundState, NationalDossier
from cchc.national.protocol import VN, stamp
from cchc.org.models import Agency, Desk
from cchc.vietnamese import fold, nfc

LIST_SERVICE = "LayDanhSachHoSoMoi"  # UNVERIFIED service name
ACK_SERVICE = "XacNhanHoSo"  # UNVERIFIED service name
# How far back the list is asked for (``TuNgay``); the portal lists only dossiers not yet
# acknowledged, so a long window costs nothing. UNVERIFIED: the parameter's name.
LOOKBACK_DAYS = 30
# The body's fields naming where the dossier is to be handled (agency code or name), tried
# in this order. UNVERIFIED: OpenCPS sends the processing unit as DonViXuLy.
AGENCY_FIELDS = ("MaCoQuan", "MaDonViXuLy", "MaCoQuanTiepNhan", "DonViXuLy", "CoQuanTiepNhan")
OTHER_DOCUMENTS = "Tài liệu khác (nộp trên Cổng DVCQG)"


@dataclass
class Report:
    listed: int = 0
    stored: int = 0  # new national codes stored by this fetch
    created: list[str] = field(default_factory=list)  # our dossier codes
    refused: list[dict[str, str]] = field(default_factory=list)
    acknowledged: int = 0
    ack_error: str = ""

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def fetch(now: dt.datetime, *, actor: Any = SYSTEM) -> Report:
    """Fetch, store, create and acknowledge (see the module). Raises `client.NationalError`
    (or `NotConnected`) only when the list itself cannot be fetched; acknowledgement
    failures are reported and retried next time."""
    report = Report()
    since = now - dt.timedelta(days=LOOKBACK_DAYS)
    listed = client.call(LIST_SERVICE, extra={"TuNgay": stamp(since)})
    items = listed if isinstance(listed, list) else []
    report.listed = len(items)
    report.stored = store(items, now=now)
    for row in InboundDossier.objects.filter(state=InboundState.RECEIVED).order_by("id"):
        outcome = process(row.pk, now=now, actor=actor)
        if outcome is None:
            continue
        if outcome.state == InboundState.CREATED and outcome.dossier_id:
            report.created.append(outcome.dossier.code)
        elif outcome.state == InboundState.REFUSED:
            report.refused.append({"MaHoSoQG": outcome.national_code, "reason": outcome.error})
    report.acknowledged, report.ack_error = acknowledge(now=now)
    return report


def store(items: list[Any], *, now: dt.datetime) -> int:
    """Store each listed dossier once by national code (insert-or-ignore). Returns how many
    were new. An entry without a national code cannot be stored or acknowledged: it is
    skipped (and counted in `listed` only)."""
    rows: dict[str, InboundDossier] = {}
    for item in items:
        if not isinstance(item, dict):
            continue
        code = str(item.get("MaHoSoQG") or "").strip()[:80]
        if code and code not in rows:
            rows[code] = InboundDossier(national_code=code, payload=item, fetched_at=now)
    if not rows:
        return 0
    before = set(
        InboundDossier.objects.filter(national_code__in=list(rows)).values_list(
            "national_code", flat=True
        )
    )
    with transaction.atomic():
        InboundDossier.objects.bulk_create(rows.values(), ignore_conflicts=True)
    return len(set(rows) - before)


def process(pk: int, *, now: dt.datetime, actor: Any = SYSTEM) -> InboundDossier | None:
    """Create the local dossier of stored inbound dossier `pk`, or refuse it with its reason.
    Returns the row, or None when another worker had already claimed it."""
    with transaction.atomic():
        # The claim: only one transaction moves the row out of RECEIVED (on PostgreSQL the
        # second waits for the row lock and then finds nothing to update; on SQLite the
        # write transaction is exclusive).
        claimed = InboundDossier.objects.filter(pk=pk, state=InboundState.RECEIVED).update(
            state=InboundState.CREATED
        )
        if not claimed:
            return None
        row = InboundDossier.objects.get(pk=pk)
        try:
            with transaction.atomic():
                dossier = _create(row, now=now, actor=actor)
                NationalDossier.objects.update_or_create(
                    dossier=dossier,
                    defaults={"national_code": row.national_code, "inbound": True},
                )
                InboundDossier.objects.filter(pk=pk).update(dossier=dossier, error="")
                row.dossier, row.error = dossier, ""
                log.record(
                    "national.inbound.created",
                    actor=actor,
                    obj=row,
                    data={"MaHoSoQG": row.national_code, "dossier": dossier.code},
                    at=now,
                )
        except (DomainError, DataError) as exc:
            # DataError: a value the database refuses (too long, out of range) — the
            # portal's data, not our fault; anything else (the database down) propagates
            # and the row stays RECEIVED for the next fetch.
            reason = (
                exc.message
                if isinstance(exc, DomainError)
                else "Dữ liệu hồ sơ từ Cổng DVCQG không hợp lệ (giá trị quá dài hoặc sai kiểu)."
            )[:500]
            InboundDossier.objects.filter(pk=pk).update(state=InboundState.REFUSED, error=reason)
            row.state, row.error = InboundState.REFUSED, reason
            log.record(
                "national.inbound.refused",
                actor=actor,
                obj=row,
                data={"MaHoSoQG": row.national_code, "reason": reason},
                at=now,
            )
    return row


def retry(actor: Any, pk: int, *, now: dt.datetime) -> InboundDossier:
    """Try a REFUSED inbound dossier again (after the catalogue or the organisation was
    corrected): audited, then processed as a new one. Administrators only."""
    policy.require(actor, "admin.site")
    with transaction.atomic():
        row = InboundDossier.objects.select_for_update().filter(pk=pk).first()
        if row is None:
            raise NotFound(f"Không có hồ sơ nhận từ Cổng DVCQG số {pk}.")
        if row.state != InboundState.REFUSED:
            raise Conflict(
                f"Hồ sơ {row.national_code} đang ở trạng thái «{row.get_state_display()}», "
                "chỉ thử lại hồ sơ không tạo được.",
                code="national.inbound_retry",
            )
        InboundDossier.objects.filter(pk=pk).update(state=InboundState.RECEIVED)
        log.record(
            "national.inbound.retried",
            actor=actor,
            obj=row,
            data={"MaHoSoQG": row.national_code, "previous_error": row.error},
            at=now,
        )
    done = process(pk, now=now, actor=SYSTEM)
    return done if done is not None else InboundDossier.objects.get(pk=pk)


def acknowledge(*, now: dt.datetime) -> tuple[int, str]:
    """Tell the portal which of its dossiers became which of ours (every created, not yet
    acknowledged one). Returns (how many, the error if the call failed)."""
    pending = list(
        InboundDossier.objects.filter(
            state=InboundState.CREATED, acknowledged_at__isnull=True, dossier__isnull=False
        )
        .select_related("dossier")
        .order_by("id")
    )
    if not pending:
        return 0, ""
    data = [{"MaHoSoQG": r.national_code, "MaHoSo": r.dossier.code} for r in pending]
    key = (
        "xacnhan:"
        + hashlib.sha256(
            "|".join(f"{d['MaHoSoQG']}={d['MaHoSo']}" for d in data).encode()
        ).hexdigest()[:40]
    )
    try:
        client.call(ACK_SERVICE, data, key=key)
    except client.NationalError as exc:
        return 0, exc.message
    with transaction.atomic():
        InboundDossier.objects.filter(pk__in=[r.pk for r in pending]).update(acknowledged_at=now)
    return len(pending), ""


# --- from the portal's dossier object to ours ------------------------------------------------
def _text(body: dict[str, Any], *names: str) -> str:
    for name in names:
        value = body.get(name)
        if value not in (None, ""):
            return nfc(str(value)).strip()
    return ""


def _procedure(body: dict[str, Any]) -> Procedure:
    code = _text(body, "MaTTHC")
    if not code:
        raise InvalidInput("Hồ sơ từ Cổng DVCQG không có mã thủ tục (MaTTHC).")
    procedure = Procedure.objects.filter(code=code).first()
    if procedure is None:
        name = _text(body, "TenTTHC")
        raise InvalidInput(
            f"Thủ tục mã «{code}»"
            + (f" ({name})" if name else "")
            + " không có trong danh mục thủ tục hành chính của tỉnh."
        )
    if not procedure.active:
        raise InvalidInput(f"Thủ tục {procedure.code} không còn áp dụng tại tỉnh.")
    return procedure


def _place(body: dict[str, Any], procedure: Procedure, day: dt.date) -> tuple[Desk, Agency]:
    """The desk that receives the procedure and the competent agency: the only one the
    procedure's competence allows, or the one the body names (agency code or name)."""
    options: list[tuple[Desk, Agency]] = []
    for desk in Desk.objects.valid_on(day).select_related("host_agency").order_by("name"):
        for agency in intake.competent_agency_for(desk, procedure, day):
            options.append((desk, agency))
    if not options:
        raise InvalidInput(
            f"Chưa có bộ phận một cửa nào tiếp nhận thủ tục {procedure.code} "
            f"({procedure.name}) cho cơ quan có thẩm quyền."
        )
    hint = _text(body, *AGENCY_FIELDS)
    if hint:
        wanted = fold(hint)
        named = [
            (d, a)
            for d, a in options
            if wanted in (fold(a.code), fold(a.name), fold(a.short_name or ""))
            or wanted == fold(d.host_agency.code)
        ]
        if named:
            options = named
    agencies = {a.pk for _, a in options}
    if len(agencies) > 1:
        names = ", ".join(sorted({a.name for _, a in options}))
        raise InvalidInput(
            f"Không xác định được cơ quan giải quyết thủ tục {procedure.code}: có nhiều cơ "
            f"quan có thẩm quyền ({names}) và Cổng DVCQG không ghi rõ đơn vị xử lý"
            + (f" («{hint}» không khớp)." if hint else ".")
        )
    return options[0]


# The dossier's columns' lengths (cchc.dossiers.models.Dossier.applicant_*).
LIMITS = {"name": (200, "Họ tên người nộp"), "address": (300, "Địa chỉ"),
          "email": (254, "Thư điện tử")}  # fmt: skip


def _applicant(body: dict[str, Any]) -> intake.Applicant:
    kind = _text(body, "LoaiDoiTuong")  # UNVERIFIED codes: 1 công dân, 2 doanh nghiệp/tổ chức
    organisation = kind in ("2", "3") or fold(kind) in ("to chuc", "doanh nghiep")
    applicant = intake.Applicant(
        name=_text(body, "ChuHoSo"),
        kind=ApplicantKind.ORGANISATION if organisation else ApplicantKind.PERSON,
        id_number=_text(body, "SoDinhDanh", "SoCMND", "MaDoiTuong"),
        address=_text(body, "DiaChiChuHoSo", "DiaChi", "ThongTinLienHe"),
        phone=_text(body, "SoDienThoai"),
        email=_text(body, "Email"),
    )
    for name, (limit, label) in LIMITS.items():
        if len(getattr(applicant, name)) > limit:
            raise InvalidInput(f"{label} dài quá {limit} ký tự.")
    return applicant


def _components(body: dict[str, Any], procedure: Procedure, on: dt.datetime) -> list[Any]:
    """The attachments, decoded and checked, grouped by the catalogue document they are for
    (``MaThanhPhanHoSo`` as our document's number or name, or ``TenThanhPhanHoSo``);
    others together as one further component."""
    attachments = body.get("DanhSachTepDinhKem") or []
    if not isinstance(attachments, list):
        raise InvalidInput("Danh sách tệp đính kèm (DanhSachTepDinhKem) không hợp lệ.")
    documents = list(intake.terms_at(procedure, on).documents.all())  # type: ignore[attr-defined]
    by_key: dict[str, Any] = {}
    for doc in documents:
        by_key[str(doc.pk)] = doc
        by_key[fold(doc.name)] = doc
        by_key[f"#{doc.position}"] = doc
    grouped: dict[int | None, list[files.Upload]] = {}
    for n, item in enumerate(attachments, start=1):
        if not isinstance(item, dict):
            raise InvalidInput(f"Tệp đính kèm thứ {n} không hợp lệ.")
        name = _text(item, "TenTepDinhKem") or f"tep-{n}"
        raw = item.get("NoiDungBase64") or ""
        try:
            content = base64.b64decode(str(raw), validate=True)
        except (binascii.Error, ValueError):
            raise InvalidInput(f"Tệp «{name}»: nội dung base64 không hợp lệ.") from None
        upload = files.check(name, content)
        doc = _document(item, by_key)
        grouped.setdefault(doc.pk if doc else None, []).append(upload)
    out = []
    for doc in documents:
        uploads = grouped.get(doc.pk)
        if uploads:
            out.append(
                intake.Component(
                    document_id=doc.pk,
                    originals=doc.originals,
                    copies=doc.copies,
                    digitised=True,
                    uploads=uploads,
                )
            )
    if grouped.get(None):
        out.append(intake.Component(name=OTHER_DOCUMENTS, digitised=True, uploads=grouped[None]))
    return out


def _document(item: dict[str, Any], by_key: dict[str, Any]) -> Any:
    """The catalogue document an attachment is for: MaThanhPhanHoSo as our document's
    number or name, or a national document code ending in "-GT<position>" (the form the
    catalogue sync and the simulator use; UNVERIFIED for the real portal), or
    TenThanhPhanHoSo as its name."""
    key = _text(item, "MaThanhPhanHoSo")
    if key:
        found = by_key.get(key) or by_key.get(fold(key))
        if found is not None:
            return found
        match = re.search(r"-GT(\d+)$", key)
        if match:
            found = by_key.get(f"#{int(match.group(1))}")
            if found is not None:
                return found
    name = _text(item, "TenThanhPhanHoSo")
    return by_key.get(fold(name)) if name else None


def _create(row: InboundDossier, *, now: dt.datetime, actor: Any) -> Dossier:
    body = row.payload if isinstance(row.payload, dict) else {}
    procedure = _procedure(body)
    desk, agency = _place(body, procedure, now.astimezone(VN).date())
    applicant = _applicant(body)
    components = _components(body, procedure, now)
    return intake.submit_online(
        actor,
        desk=desk,
        procedure=procedure,
        applicant=applicant,
        components=components,
        competent_agency=agency,
        matter=_text(body, "TrichYeuHoSo"),
        return_channel=ReturnChannel.ONLINE,
        channel=Channel.ONLINE,
        now=now,
    )


# --- what administrators see ------------------------------------------------------------------
def listing(*, state: str | None = None, limit: int = 200) -> list[InboundDossier]:
    qs = InboundDossier.objects.select_related("dossier")
    if state:
        qs = qs.filter(state=state)
    return list(qs[:limit])


def problems() -> int:
    """How many inbound dossiers are refused or created but not acknowledged."""
    return InboundDossier.objects.filter(
        Q(state=InboundState.REFUSED) | Q(state=InboundState.CREATED, acknowledged_at__isnull=True)
    ).count()
