"""The register of dossiers (sổ theo dõi hồ sơ: form 06 under TT 01/2018, 07 under TT 03/2025).

`register_rows` yields one row per dossier received in a date range; the XLSX writer (and a
CSV or web page) renders those rows. Rows stream: events are fetched per chunk of dossiers,
and the workbook is written in XlsxWriter's constant-memory mode. Rows are made for a reader:
the applicant's name, address and phone are masked on dossiers the reader's
`dossier.personal_data` grant does not cover (`access.PersonalData`), and each workbook
written is recorded in the audit log (`dossier.register.downloaded`).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import IO, Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from cchc.audit import log
from cchc.dossiers import access, rules
from cchc.dossiers.documents import wording
from cchc.dossiers.models import Dossier, DossierEvent, Outcome, State
from cchc.errors import InvalidInput
from cchc.legaltime import VN_TZ

CHUNK = 500
HEADER = (
    "STT",
    "Mã hồ sơ",
    "Tên thủ tục",
    "Người nộp",
    "Địa chỉ/Điện thoại",
    "Ngày tiếp nhận",
    "Ngày hẹn trả",
    "Ngày chuyển xử lý",
    "Ngày có kết quả",
    "Ngày trả kết quả",
    "Trạng thái",
    "Kết quả",
    "Ghi chú",
)
WIDTHS = (6, 28, 40, 26, 36, 17, 17, 17, 17, 17, 22, 12, 48)
DATE_COLUMNS = frozenset({5, 6, 7, 8, 9})
# Events that matter to the register's columns and notes.
NOTED = (
    "assign",
    "forward",
    "request_supplement",
    "apologise",
    "refuse",
    "stop",
    "withdraw",
)
ENDING_LABELS = {"refuse": "Từ chối giải quyết", "stop": "Dừng xử lý", "withdraw": "Rút hồ sơ"}


@dataclass(frozen=True)
class RegisterRow:
    """One line of the register; instants are timezone-aware (None when not yet)."""

    number: int
    code: str
    procedure: str
    applicant: str
    contact: str
    received_at: dt.datetime | None
    appointment: dt.datetime | None
    transferred_at: dt.datetime | None
    resolved_at: dt.datetime | None
    returned_at: dt.datetime | None
    state: str
    outcome: str
    notes: str

    def cells(self) -> tuple[Any, ...]:
        return (
            self.number,
            self.code,
            self.procedure,
            self.applicant,
            self.contact,
            self.received_at,
            self.appointment,
            self.transferred_at,
            self.resolved_at,
            self.returned_at,
            self.state,
            self.outcome,
            self.notes,
        )


def _bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    if end < start:
        raise InvalidInput(
            f"Khoảng thời gian không hợp lệ: ngày bắt đầu {start:%d/%m/%Y} sau ngày kết thúc "
            f"{end:%d/%m/%Y}.",
            code="dossier.register_period",
        )
    low = dt.datetime.combine(start, dt.time(), tzinfo=VN_TZ)
    high = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=VN_TZ)
    return low, high


def received_between(
    start: dt.date, end: dt.date, dossiers: QuerySet[Dossier] | None = None
) -> QuerySet[Dossier]:
    """Dossiers received on local dates [start, end], in order of receipt (narrow `dossiers`
    first to what the reader may see)."""
    low, high = _bounds(start, end)
    qs = Dossier.objects.all() if dossiers is None else dossiers
    return (
        qs.filter(received_at__gte=low, received_at__lt=high)
        .select_related("procedure")
        .order_by("received_at", "code")
    )


def register_rows(
    dossiers: Iterable[Dossier], *, start: dt.date, end: dt.date, viewer: Any
) -> Iterator[RegisterRow]:
    """Register rows for the dossiers of `dossiers` received on local dates [start, end]
    (others are skipped), numbered from 1 in the given order, as `viewer` may see them."""
    low, high = _bounds(start, end)
    personal = access.PersonalData.of(viewer)
    number = 0
    source = iter(dossiers)
    while chunk := list(islice(source, CHUNK)):
        kept = [d for d in chunk if d.received_at is not None and low <= d.received_at < high]
        events = _events_of(kept)
        for dossier in kept:
            number += 1
            yield _row(number, dossier, events.get(dossier.pk, []), personal)


def _events_of(dossiers: list[Dossier]) -> dict[int, list[DossierEvent]]:
    out: dict[int, list[DossierEvent]] = {}
    if not dossiers:
        return out
    rows = DossierEvent.objects.filter(
        dossier_id__in=[d.pk for d in dossiers], action__in=NOTED
    ).order_by("dossier_id", "seq")
    for event in rows.only("dossier_id", "seq", "action", "at", "reason", "data"):
        out.setdefault(event.dossier_id, []).append(event)
    return out


def _row(
    number: int, dossier: Dossier, events: list[DossierEvent], personal: access.PersonalData
) -> RegisterRow:
    transferred = next((e.at for e in events if e.action in ("assign", "forward")), None)
    notes = []
    if dossier.supplement_requests:
        notes.append(f"Yêu cầu bổ sung {dossier.supplement_requests} lần")
    apologies = [e for e in events if e.action == "apologise"]
    for event in apologies:
        new_due = (event.data or {}).get("new_due")
        when = wording.short(dt.datetime.fromisoformat(new_due)) if new_due else ""
        notes.append(f"Xin lỗi, hẹn lại {when}".strip())
    if (
        not apologies
        and dossier.due
        and dossier.original_due
        and dossier.due != dossier.original_due
    ):
        notes.append(f"Hạn sau tạm dừng: {wording.short(dossier.due)}")
    for event in events:
        if event.action in ENDING_LABELS:
            notes.append(f"{ENDING_LABELS[event.action]}: {event.reason}".strip(": "))
    applicant = personal.applicant(dossier)
    return RegisterRow(
        number=number,
        code=dossier.code,
        procedure=dossier.procedure.name,
        applicant=applicant.name,
        contact=applicant.contact_line(),
        received_at=dossier.received_at,
        appointment=dossier.original_due,
        transferred_at=transferred,
        resolved_at=dossier.finished_at,
        returned_at=dossier.returned_at,
        state=State(dossier.state).label,
        outcome=Outcome(dossier.outcome).label if dossier.outcome else "",
        notes="; ".join(notes),
    )


def register_form(ruleset_code: str) -> rules.FormSpec:
    try:
        rule_set = rules.ruleset(ruleset_code)
    except KeyError:
        raise InvalidInput(
            f"Không có bộ quy định «{ruleset_code}».", code="dossier.ruleset_unknown"
        ) from None
    spec = rule_set.form("register")
    if spec is None:  # pragma: no cover - both rule sets have one
        raise InvalidInput(f"{rule_set.title} không quy định sổ theo dõi hồ sơ.")
    return spec


def register_filename(*, start: dt.date, end: dt.date, ruleset_code: str) -> str:
    """`06-so-theo-doi-ho-so-20240601-20240630.xlsx`."""
    number = register_form(ruleset_code).number
    return f"{number}-so-theo-doi-ho-so-{start:%Y%m%d}-{end:%Y%m%d}.xlsx"


def write_register(
    output: str | IO[bytes],
    dossiers: Iterable[Dossier],
    *,
    start: dt.date,
    end: dt.date,
    title: str,
    ruleset_code: str,
    viewer: Any,
) -> int:
    """Write the register workbook for `viewer` to `output` (a path or a binary file) and
    record it in the audit log; returns the number of dossier rows. `title` names the agency
    or desk keeping the register."""
    import xlsxwriter  # startup cost: loaded only when a register workbook is written

    spec = register_form(ruleset_code)
    rule_set = rules.ruleset(ruleset_code)
    book = xlsxwriter.Workbook(
        output, {"constant_memory": True, "strings_to_numbers": False, "strings_to_urls": False}
    )
    book.set_properties({"title": f"{spec.title} – {title}", "author": title})
    sheet = book.add_worksheet("Sổ theo dõi")
    font = {"font_name": "Times New Roman", "font_size": 11}
    bold = book.add_format({**font, "bold": True})
    agency = book.add_format({**font, "bold": True, "font_size": 12})
    right = book.add_format({**font, "bold": True, "align": "right"})
    heading = book.add_format({**font, "bold": True, "font_size": 14, "align": "center"})
    centred = book.add_format({**font, "italic": True, "align": "center"})
    head = book.add_format(
        {
            **font,
            "bold": True,
            "border": 1,
            "align": "center",
            "valign": "vcenter",
            "text_wrap": True,
            "bg_color": "#E8EEF7",
        }
    )
    text = book.add_format({**font, "border": 1, "valign": "top", "text_wrap": True})
    number = book.add_format({**font, "border": 1, "valign": "top", "align": "center"})
    when = book.add_format(
        {**font, "border": 1, "valign": "top", "num_format": "dd/mm/yyyy hh:mm", "align": "center"}
    )
    last = len(HEADER) - 1
    for column, width in enumerate(WIDTHS):
        sheet.set_column(column, column, width)
    sheet.write(0, 0, title.upper(), agency)
    sheet.write(0, last, f"Mẫu số {spec.number}", right)
    sheet.merge_range(1, 0, 1, last, spec.title.upper(), heading)
    sheet.merge_range(
        2,
        0,
        2,
        last,
        f"Từ ngày {start:%d/%m/%Y} đến ngày {end:%d/%m/%Y} (theo ngày tiếp nhận) – "
        f"{rule_set.title}",
        centred,
    )
    header_row = 4
    sheet.set_row(header_row, 32)
    for column, name in enumerate(HEADER):
        sheet.write(header_row, column, name, head)
    sheet.freeze_panes(header_row + 1, 0)
    row_index = header_row
    count = 0
    for row in register_rows(dossiers, start=start, end=end, viewer=viewer):
        row_index += 1
        count += 1
        for column, value in enumerate(row.cells()):
            if column in DATE_COLUMNS:
                if value is None:
                    sheet.write_blank(row_index, column, None, when)
                else:
                    naive = value.astimezone(VN_TZ).replace(tzinfo=None)
                    sheet.write_datetime(row_index, column, naive, when)
            elif column == 0:
                sheet.write_number(row_index, column, value, number)
            else:
                sheet.write_string(row_index, column, value, text)
    sheet.autofilter(header_row, 0, max(row_index, header_row), last)
    sheet.write(row_index + 2, 0, f"Tổng số: {count} hồ sơ", bold)
    sheet.set_landscape()
    sheet.set_paper(9)  # A4
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(header_row)
    book.close()
    with transaction.atomic():
        log.record(
            "dossier.register.downloaded",
            actor=viewer,
            at=timezone.now(),
            data={
                "start": start,
                "end": end,
                "ruleset": ruleset_code,
                "rows": count,
                "personal_data": access.PersonalData.of(viewer).any,
            },
        )
    return count


def register_xlsx(
    dossiers: Iterable[Dossier],
    *,
    start: dt.date,
    end: dt.date,
    title: str,
    ruleset_code: str,
    viewer: Any,
) -> bytes:
    """The register as XLSX bytes for `viewer` (see `write_register`; use it with a file for
    very large ranges)."""
    buffer = io.BytesIO()
    write_register(
        buffer,
        dossiers,
        start=start,
        end=end,
        title=title,
        ruleset_code=ruleset_code,
        viewer=viewer,
    )
    return buffer.getvalue()
