"""CSV/XLSX import of the registers (`cchc import legal-documents | work-records |
external-indices FILE`). Rows are parsed here and saved through `cchc.plans.registers`;
bad rows are reported with their spreadsheet line, good rows land, re-import is a no-op.
Internal procedures use the catalogue's importer (`cchc import internal-procedures`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from cchc.accounts.policy import RequiresPermission
from cchc.plans.models import IndexName, LegalDocType
from cchc.plans.registers import (
    ExternalIndexData,
    LegalDocumentData,
    WorkRecordData,
    save_external_index,
    save_legal_document,
    save_work_record_stat,
)
from cchc.tabular import values
from cchc.tabular.runner import TableImporter
from cchc.tabular.tables import Row
from cchc.tabular.values import CellError
from cchc.vietnamese import fold


def _required(row: Row, column: str) -> str:
    value = values.text(row.get(column))
    if not value:
        raise CellError(f"cột '{column}' bị trống")
    return value


def _cell(parser, row: Row, column: str) -> Any:
    try:
        return parser(row.get(column))
    except CellError as exc:
        raise CellError(f"cột '{column}': {exc}") from None


_DOC_TYPES = {
    "nghi quyet": LegalDocType.RESOLUTION,
    "nghi quyet hdnd": LegalDocType.RESOLUTION,
    "nq": LegalDocType.RESOLUTION,
    "quyet dinh": LegalDocType.DECISION,
    "quyet dinh ubnd": LegalDocType.DECISION,
    "qd": LegalDocType.DECISION,
}

LEGAL_COLUMNS = (
    "Số ký hiệu",
    "Ngày ban hành",
    "Loại văn bản",
    "Trích yếu",
    "Cơ quan chủ trì soạn thảo",
    "Đã thẩm định",
    "Đã lấy ý kiến",
    "Đã đăng công báo",
    "Ghi chú",
)


class LegalDocumentImporter(RequiresPermission, TableImporter):
    name = "legal-documents"
    title = "Sổ theo dõi văn bản quy phạm pháp luật"
    permission = "plan.register"
    columns = LEGAL_COLUMNS
    required = LEGAL_COLUMNS[:5]

    def parse(self, row: Row) -> LegalDocumentData:
        raw_type = _required(row, "Loại văn bản")
        doc_type = _DOC_TYPES.get(fold(raw_type))
        if doc_type is None:
            raise CellError(
                f"cột 'Loại văn bản': '{raw_type}' không hợp lệ, cần 'Nghị quyết' hoặc 'Quyết định'"
            )
        issued = _cell(values.date, row, "Ngày ban hành")
        if issued is None:
            raise CellError("cột 'Ngày ban hành' bị trống")
        return LegalDocumentData(
            number=_required(row, "Số ký hiệu"),
            issued_on=issued,
            doc_type=doc_type,
            title=_required(row, "Trích yếu"),
            drafting_agency=_required(row, "Cơ quan chủ trì soạn thảo"),
            appraised=_cell(values.boolean, row, "Đã thẩm định"),
            consulted=_cell(values.boolean, row, "Đã lấy ý kiến"),
            published=_cell(values.boolean, row, "Đã đăng công báo"),
            note=values.text(row.get("Ghi chú")),
        )

    def save(self, data: LegalDocumentData, *, actor: Any, now: dt.datetime) -> str:
        return save_legal_document(actor, data, now=now)[1]


WORK_COLUMNS = ("Cơ quan", "Kỳ", "Tổng số hồ sơ công việc", "Xử lý trên môi trường mạng", "Ghi chú")


class WorkRecordImporter(RequiresPermission, TableImporter):
    name = "work-records"
    title = "Thống kê hồ sơ công việc"
    permission = "plan.register"
    columns = WORK_COLUMNS
    required = WORK_COLUMNS[:4]

    def parse(self, row: Row) -> WorkRecordData:
        total = _cell(values.integer, row, "Tổng số hồ sơ công việc")
        online = _cell(values.integer, row, "Xử lý trên môi trường mạng")
        if total is None or online is None:
            raise CellError("cột số hồ sơ bị trống")
        return WorkRecordData(
            agency=_required(row, "Cơ quan"),
            period=_required(row, "Kỳ"),
            total=total,
            online=online,
            note=values.text(row.get("Ghi chú")),
        )

    def save(self, data: WorkRecordData, *, actor: Any, now: dt.datetime) -> str:
        return save_work_record_stat(actor, data, now=now)[1]


INDEX_COLUMNS = ("Chỉ số", "Năm", "Mã tỉnh", "Điểm", "Xếp hạng", "Nhóm", "Nguồn")
_INDEX = {fold(v.replace("_", " ")): v for v in IndexName.values} | {"par index": "PAR_INDEX"}


class ExternalIndexImporter(RequiresPermission, TableImporter):
    name = "external-indices"
    title = "Chỉ số PCI, PAPI, PAR INDEX, SIPAS"
    permission = "plan.manage"
    columns = INDEX_COLUMNS
    required = ("Chỉ số", "Năm", "Mã tỉnh", "Nguồn")

    def parse(self, row: Row) -> ExternalIndexData:
        raw = _required(row, "Chỉ số")
        index = _INDEX.get(fold(raw.replace("_", " ")))
        if index is None:
            raise CellError(f"cột 'Chỉ số': '{raw}' không hợp lệ, cần PCI, PAPI, PAR INDEX, SIPAS")
        year = _cell(values.integer, row, "Năm")
        if year is None:
            raise CellError("cột 'Năm' bị trống")
        return ExternalIndexData(
            index=index,
            year=year,
            unit=_required(row, "Mã tỉnh"),
            score=_cell(values.decimal, row, "Điểm"),
            rank=_cell(values.integer, row, "Xếp hạng"),
            group=values.text(row.get("Nhóm")),
            source=_required(row, "Nguồn"),
        )

    def save(self, data: ExternalIndexData, *, actor: Any, now: dt.datetime) -> str:
        return save_external_index(actor, data, now=now)[1]


IMPORTERS = (LegalDocumentImporter(), WorkRecordImporter(), ExternalIndexImporter())
