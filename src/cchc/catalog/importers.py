"""CSV/XLSX import of the procedure catalogue and the internal-procedure catalogue.

The canonical layout (Vietnamese headers) is documented in the README; `COLUMNS` is the
list. Rows are parsed here and saved through `catalog.services`, keyed by code, so a
re-import changes nothing and an updated file updates only what changed.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace
from decimal import Decimal
from typing import Any

from cchc.accounts.policy import RequiresPermission
from cchc.catalog.models import OnlineLevel, ResultType, TimeUnit
from cchc.catalog.services import (
    DocumentData,
    InternalProcedureData,
    ProcedureData,
    StepData,
    save_internal_procedure,
    save_procedure,
)
from cchc.tabular import values
from cchc.tabular.runner import TableImporter
from cchc.tabular.tables import Row
from cchc.tabular.values import CellError
from cchc.vietnamese import fold

PROCEDURE_COLUMNS = (
    "Mã TTHC",
    "Tên TTHC",
    "Lĩnh vực",
    "Cấp thực hiện",
    "Cơ quan thực hiện",
    "Thời hạn giải quyết",
    "Đơn vị thời hạn",
    "Phí lệ phí",
    "Thành phần hồ sơ",
    "Loại kết quả",
    "Mức độ DVC trực tuyến",
    "Đủ điều kiện toàn trình",
    "Kết nối CSDL dân cư",
    "Số QĐ công bố",
    "Ngày QĐ công bố",
    "Quy trình nội bộ",
    # The procedure's own reception cut-off and its legal basis (empty: the calendar's).
    "Giờ chốt tiếp nhận",
    "Căn cứ giờ chốt",
    "Giờ chốt đã xác minh",
    # The version: from when the row applies (empty: today) and the document behind it.
    "Hiệu lực từ",
    "Văn bản căn cứ",
    # Whether the row's documents must carry a valid digital signature (issue 21): Có /
    # Không for every document of the row; empty or absent: each keeps its local value.
    "Yêu cầu ký số",
)
REQUIRED_PROCEDURE_COLUMNS = PROCEDURE_COLUMNS[:7]

_UNITS = {
    "ngay lam viec": TimeUnit.WORKING_DAY,
    "gio lam viec": TimeUnit.WORKING_HOUR,
    "gio": TimeUnit.WORKING_HOUR,
    "ngay": TimeUnit.CALENDAR_DAY,
    "thang": TimeUnit.MONTH,
}
_ONLINE = {
    "toan trinh": OnlineLevel.FULL,
    "mot phan": OnlineLevel.PARTIAL,
    "khong": OnlineLevel.NONE,
    "": OnlineLevel.NONE,
}
_RESULT = {
    "giay": ResultType.PAPER,
    "dien tu": ResultType.ELECTRONIC,
    "giay va dien tu": ResultType.BOTH,
    "": ResultType.PAPER,
}


def _required(row: Row, column: str) -> str:
    value = values.text(row.get(column))
    if not value:
        raise CellError(f"cột '{column}' bị trống")
    return value


def _choice(row: Row, column: str, table: dict[str, str]) -> str:
    raw = values.text(row.get(column))
    try:
        return table[fold(raw)]
    except KeyError:
        allowed = ", ".join(f"'{k}'" for k in table if k)
        raise CellError(
            f"cột '{column}': giá trị '{raw}' không hợp lệ (không dấu: {allowed})"
        ) from None


def _unit(raw: str, column: str) -> str:
    try:
        return _UNITS[fold(raw)]
    except KeyError:
        raise CellError(
            f"cột '{column}': đơn vị '{raw}' không hợp lệ, cần Ngày làm việc, Giờ làm việc, "
            "Ngày hoặc Tháng"
        ) from None


def _fees(raw: Any) -> tuple[tuple[str, int], ...]:
    """'' / '0' -> no fee; '50000' -> one 'Lệ phí'; 'Lệ phí: 100.000; Phí: 5.000' -> lines."""
    text = values.text(raw)
    if not text:
        return ()
    if ":" not in text:
        amount = values.integer(text) or 0
        return (("Lệ phí", amount),) if amount else ()
    out = []
    for part in re.split(r"[;\n]", text):
        if not part.strip():
            continue
        name, sep, amount_text = part.rpartition(":")
        if not sep or not name.strip():
            raise CellError(
                f"cột 'Phí lệ phí': không hiểu '{part.strip()}', cần 'Tên phí: số tiền'"
            )
        amount = values.integer(amount_text)
        if amount is None:
            raise CellError(f"cột 'Phí lệ phí': thiếu số tiền của '{name.strip()}'")
        out.append((values.text(name), amount))
    return tuple(out)


_DOC = re.compile(r"^(?P<name>.*?)\s*(\[(?P<spec>[^\]]*)\])?\s*$")


def _documents(raw: Any) -> tuple[DocumentData, ...]:
    """One document per line: 'Tờ khai [1 bản chính, 1 bản sao]', '(nếu có)' = optional."""
    docs = []
    for item in values.items(raw):
        match = _DOC.match(item)
        assert match is not None  # the pattern matches any string
        name, spec = match["name"], fold(match["spec"] or "")
        originals = re.search(r"(\d+)\s*ban chinh", spec)
        copies = re.search(r"(\d+)\s*ban sao", spec)
        optional = "(nếu có)" in name or "(neu co)" in fold(name)
        name = re.sub(r"\s*\((nếu có|Nếu có)\)\s*", " ", name).strip()
        if not name:
            raise CellError("cột 'Thành phần hồ sơ': có giấy tờ không có tên")
        docs.append(
            DocumentData(
                name=name,
                originals=int(originals.group(1)) if originals else 0,
                copies=int(copies.group(1)) if copies else 0,
                mandatory=not optional,
            )
        )
    return tuple(docs)


def _steps(raw: Any) -> tuple[StepData, ...]:
    """One step per line: 'Thẩm định hồ sơ: 2 ngày làm việc' or '...: 4 giờ làm việc'."""
    steps = []
    for item in values.items(raw):
        name, sep, budget = item.rpartition(":")
        match = re.fullmatch(r"\s*([\d.,]+)\s+(.+?)\s*", budget)
        if not sep or not name.strip() or not match:
            raise CellError(
                f"cột 'Quy trình nội bộ': không hiểu bước '{item}', cần 'Tên bước: 4 giờ làm việc'"
            )
        amount = values.decimal(match.group(1))
        unit = _unit(match.group(2), "Quy trình nội bộ")
        steps.append(StepData(name=name.strip(), budget=amount or Decimal(0), unit=unit))
    return tuple(steps)


_CLOCK = re.compile(r"^(\d{1,2})\s*(?::|h|g|giờ|gio)\s*(\d{1,2})?\s*(?:phút|phut|p)?$")


def _clock(row: Row, column: str) -> dt.time | None:
    """'15:00', '15h', '15 giờ', '15h30' or a spreadsheet time cell; empty: none."""
    raw = row.get(column)
    if isinstance(raw, dt.datetime):
        raw = raw.time()
    if isinstance(raw, dt.time):
        return raw.replace(tzinfo=None, microsecond=0)
    text = values.text(raw).lower()
    if not text:
        return None
    if re.fullmatch(r"\d{1,2}:\d{2}:\d{2}", text):
        text = text[:-3]
    match = _CLOCK.match(text)
    hour, minute = (int(match.group(1)), int(match.group(2) or 0)) if match else (99, 99)
    if hour > 23 or minute > 59:
        raise CellError(f"cột '{column}': giờ '{text}' không hợp lệ, cần dạng 15:00")
    return dt.time(hour, minute)


def parse_procedure(row: Row) -> ProcedureData:
    time = values.decimal(row.get("Thời hạn giải quyết"))
    if time is None:
        raise CellError("cột 'Thời hạn giải quyết' bị trống")
    if time < 0:
        raise CellError("cột 'Thời hạn giải quyết': thời hạn không được âm")
    return ProcedureData(
        code=_required(row, "Mã TTHC"),
        name=_required(row, "Tên TTHC"),
        field_name=_required(row, "Lĩnh vực"),
        levels=tuple(values.items(_required(row, "Cấp thực hiện"), separators=";,\n")),
        agency_type=_required(row, "Cơ quan thực hiện"),
        processing_time=time,
        processing_time_unit=_unit(_required(row, "Đơn vị thời hạn"), "Đơn vị thời hạn"),
        fees=_fees(row.get("Phí lệ phí")),
        documents=_signature(row, _documents(row.get("Thành phần hồ sơ"))),
        result_type=_choice(row, "Loại kết quả", _RESULT),
        online_level=_choice(row, "Mức độ DVC trực tuyến", _ONLINE),
        eligible_full_online=_bool(row, "Đủ điều kiện toàn trình"),
        population_data_connected=_bool(row, "Kết nối CSDL dân cư"),
        decision_number=values.text(row.get("Số QĐ công bố")),
        decision_date=_date(row, "Ngày QĐ công bố"),
        steps=_steps(row.get("Quy trình nội bộ")),
        cutoff=_clock(row, "Giờ chốt tiếp nhận"),
        cutoff_source=values.text(row.get("Căn cứ giờ chốt")),
        cutoff_verified=_bool(row, "Giờ chốt đã xác minh"),
        effective_from=_date(row, "Hiệu lực từ"),
        basis=values.text(row.get("Văn bản căn cứ")),
    )


def _bool(row: Row, column: str) -> bool:
    try:
        return values.boolean(row.get(column))
    except CellError as exc:
        raise CellError(f"cột '{column}': {exc}") from None


def _signature(row: Row, documents: tuple[DocumentData, ...]) -> tuple[DocumentData, ...]:
    """The row's documents with "Yêu cầu ký số" applied: Có/Không sets every document's
    `signature_required`; an empty cell leaves it unknown (None: kept from the catalogue)."""
    column = "Yêu cầu ký số"
    raw = values.text(row.get(column))
    if not raw:
        return documents
    try:
        required = values.boolean(raw)
    except CellError:
        raise CellError(
            f"cột '{column}': giá trị '{raw}' không hợp lệ, cần 'Có' (mọi giấy tờ của thủ tục "
            "phải ký số) hoặc 'Không', hoặc để trống để giữ nguyên"
        ) from None
    if required and not documents:
        raise CellError(f"cột '{column}' là 'Có' nhưng cột 'Thành phần hồ sơ' không có giấy tờ nào")
    return tuple(replace(d, signature_required=required) for d in documents)


def _date(row: Row, column: str) -> dt.date | None:
    try:
        return values.date(row.get(column))
    except CellError as exc:
        raise CellError(f"cột '{column}': {exc}") from None


class ProcedureImporter(RequiresPermission, TableImporter):
    name = "procedures"
    title = "Danh mục thủ tục hành chính"
    permission = "catalog.manage"
    columns = PROCEDURE_COLUMNS
    required = REQUIRED_PROCEDURE_COLUMNS

    def parse(self, row: Row) -> ProcedureData:
        return parse_procedure(row)

    def save(self, data: ProcedureData, *, actor: Any, now: dt.datetime) -> str:
        return save_procedure(actor, data, now=now)[1]


INTERNAL_COLUMNS = (
    "Mã",
    "Tên thủ tục nội bộ",
    "Lĩnh vực",
    "Cấp thực hiện",
    "Cơ quan chủ trì",
    "Đã công bố",
    "Số QĐ công bố",
    "Ngày công bố",
    "Đã rà soát đơn giản hóa",
    "Ngày rà soát",
)


def parse_internal(row: Row) -> InternalProcedureData:
    return InternalProcedureData(
        code=_required(row, "Mã"),
        name=_required(row, "Tên thủ tục nội bộ"),
        field_name=_required(row, "Lĩnh vực"),
        levels=tuple(values.items(_required(row, "Cấp thực hiện"), separators=";,\n")),
        lead_agency_code=_required(row, "Cơ quan chủ trì"),
        published=_bool(row, "Đã công bố"),
        decision_number=values.text(row.get("Số QĐ công bố")),
        published_on=_date(row, "Ngày công bố"),
        reviewed=_bool(row, "Đã rà soát đơn giản hóa"),
        reviewed_on=_date(row, "Ngày rà soát"),
    )


class InternalProcedureImporter(RequiresPermission, TableImporter):
    name = "internal-procedures"
    title = "Danh mục thủ tục hành chính nội bộ"
    permission = "catalog.manage"
    columns = INTERNAL_COLUMNS
    required = INTERNAL_COLUMNS[:5]

    def parse(self, row: Row) -> InternalProcedureData:
        return parse_internal(row)

    def save(self, data: InternalProcedureData, *, actor: Any, now: dt.datetime) -> str:
        return save_internal_procedure(actor, data, now=now)[1]
