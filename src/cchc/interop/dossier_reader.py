"""Reading the rows of a dossier export from another one-stop system (CSV or XLSX).

The canonical layout has Vietnamese headers (`COLUMNS`); any other layout is read through a
mapping file (TOML: the source's column names, value translations, date formats — see
`load_mapping` and data/dossier-mapping-example.toml). `Reader.parse` validates one row and
resolves it to the organisation and catalogue (`Directory`), giving the `Facts` that
`cchc.dossiers.imported.store` writes; `batches` groups the good rows for the importer
(`cchc.interop.dossiers`) and reports the bad ones with their line and reason.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from cchc.calendars.services import DEFAULT_CALENDAR
from cchc.catalog.models import Procedure
from cchc.dossiers.imported import DeskInfo, Facts, ProcedureInfo
from cchc.dossiers.models import Rating, State
from cchc.errors import InvalidInput
from cchc.org.models import Agency, Desk
from cchc.tabular.registry import ImportReport, RowError
from cchc.tabular.tables import Row, open_source
from cchc.tabular.values import CellError, boolean, instant, integer, text
from cchc.vietnamese import fold, nfc

_MISSING = object()


@dataclass(frozen=True)
class Column:
    header: str
    required: bool
    meaning: str  # Vietnamese, for the documentation and the web page


COLUMNS: tuple[Column, ...] = (
    Column("Mã hồ sơ", True, "Mã hồ sơ trên hệ thống nguồn (duy nhất)"),
    Column("Mã TTHC", True, "Mã thủ tục hành chính trong danh mục (ví dụ 1.001193)"),
    Column("Tên TTHC", False, "Tên thủ tục (chỉ để đối chiếu)"),
    Column("Đơn vị tiếp nhận", True, "Mã định danh, tên cơ quan hoặc tên bộ phận một cửa"),
    Column("Đơn vị xử lý", False, "Cơ quan có thẩm quyền giải quyết (bỏ trống nếu suy ra được)"),
    Column("Cấp", False, "Tỉnh / Huyện / Xã — đối chiếu với cấp của đơn vị xử lý"),
    Column("Kênh nộp", False, "Trực tiếp / Trực tuyến / Bưu chính (mặc định Trực tiếp)"),
    Column("Ngày tiếp nhận", True, "dd/mm/yyyy HH:MM, dd/mm/yyyy, yyyy-mm-dd hoặc ngày Excel"),
    Column("Ngày hẹn trả", False, "Ngày hẹn trả kết quả (bắt buộc với hồ sơ đã tiếp nhận)"),
    Column("Ngày có kết quả", False, "Thời điểm có kết quả (hồ sơ đã giải quyết xong)"),
    Column("Ngày trả kết quả", False, "Thời điểm trả kết quả cho người nộp"),
    Column("Trạng thái", True, "Đang xử lý, Chờ bổ sung, Đã trả kết quả, Từ chối, …"),
    Column("Số lần bổ sung", False, "Số lần yêu cầu bổ sung hồ sơ (mặc định 0)"),
    Column("Thanh toán trực tuyến", False, "Có / Không: phí, lệ phí đã nộp trực tuyến"),
    Column(
        "Đã thanh toán",
        False,
        "Có / Không: đã nộp phí, lệ phí — trực tuyến nếu cột trên ghi Có, nếu không thì tại "
        "bộ phận một cửa. Bỏ trống: hồ sơ đã trả kết quả coi là đã nộp",
    ),
    Column("Lệ phí", False, "Tổng phí, lệ phí (đồng), ví dụ 1.500.000"),
    Column("Số hóa", False, "Thành phần hồ sơ đã số hóa: Có / Không"),
    Column("Có kết quả điện tử", False, "Có / Không"),
    Column("Đánh giá", False, "Hài lòng / Bình thường / Không hài lòng (trống: chưa đánh giá)"),
    Column("Có phản ánh", False, "Có / Không — người nộp có phản ánh, kiến nghị về hồ sơ"),
    Column("Người nộp", False, "Họ tên người nộp hoặc tên tổ chức (dữ liệu cá nhân)"),
    Column("Số giấy tờ", False, "Số định danh cá nhân / mã số thuế (dữ liệu cá nhân)"),
    Column("Địa chỉ", False, "Địa chỉ người nộp (dữ liệu cá nhân)"),
    Column("Điện thoại", False, "Điện thoại người nộp (dữ liệu cá nhân)"),
    Column("Nội dung", False, "Nội dung yêu cầu giải quyết"),
)
HEADERS = tuple(c.header for c in COLUMNS)
REQUIRED = tuple(c.header for c in COLUMNS if c.required)

# Words of the source systems' states (folded) -> state.
STATE_WORDS: dict[str, str] = {
    **{fold(label): value for value, label in State.choices},
    **{value: value for value in State.values},
    "moi tiep nhan": State.RECEIVED,
    "tiep nhan": State.RECEIVED,
    "cho xu ly": State.RECEIVED,
    "dang giai quyet": State.IN_PROGRESS,
    "dang xu ly": State.IN_PROGRESS,
    "cho bo sung": State.AWAITING_SUPPLEMENT,
    "yeu cau bo sung": State.AWAITING_SUPPLEMENT,
    "cho thuc hien nghia vu tai chinh": State.AWAITING_OBLIGATION,
    "cho nop phi": State.AWAITING_OBLIGATION,
    "cho phe duyet": State.AWAITING_APPROVAL,
    "cho ky duyet": State.AWAITING_APPROVAL,
    "trinh ky": State.AWAITING_APPROVAL,
    "da co ket qua": State.RESOLVED,
    "cho tra ket qua": State.RESOLVED,
    "da giai quyet": State.RESOLVED,
    "hoan thanh": State.RETURNED,
    "da hoan thanh": State.RETURNED,
    "da tra": State.RETURNED,
    "tu choi": State.REFUSED,
    "khong giai quyet": State.REFUSED,
    "tra lai": State.REFUSED,
    "dung xu ly": State.STOPPED,
    "rut ho so": State.WITHDRAWN,
    "cong dan rut ho so": State.WITHDRAWN,
}
# The version of the rules that turn a row into facts, part of every row's digest: when
# the same row comes to mean other facts (2: fees not paid online are paid at the desk,
# issue 19), importing a file again re-reads its rows — those whose facts changed get an
# ``import_update``, the others only their new digest.
READING = "2"
IMPORTABLE = frozenset(State.values) - {State.SUBMITTED, State.AWAITING_COMPLETION}
FINISHED = frozenset(
    {State.RESOLVED, State.RETURNED, State.REFUSED, State.STOPPED, State.WITHDRAWN}
)
CHANNEL_WORDS = {
    "1": 1, "truc tiep": 1, "tai bo phan mot cua": 1, "nop truc tiep": 1,
    "2": 2, "truc tuyen": 2, "qua mang": 2, "dich vu cong truc tuyen": 2, "nop truc tuyen": 2,
    "3": 3, "buu chinh": 3, "buu chinh cong ich": 3, "bcci": 3, "qua buu chinh": 3,
}  # fmt: skip
RATING_WORDS = {
    "": "",
    "rat hai long": Rating.SATISFIED,
    "hai long": Rating.SATISFIED,
    "binh thuong": Rating.NEUTRAL,
    "chap nhan duoc": Rating.NEUTRAL,
    "khong hai long": Rating.DISSATISFIED,
    **{value: value for value in Rating.values},
}
LEVEL_WORDS = {"tinh": 1, "cap tinh": 1, "huyen": 2, "cap huyen": 2, "xa": 3, "cap xa": 3}
LEVEL_NAMES = {1: "cấp tỉnh", 2: "cấp huyện", 3: "cấp xã"}


# -- mapping files -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mapping:
    """How another layout maps onto the canonical one."""

    source: str = ""
    columns: dict[str, str] = field(default_factory=dict)  # canonical header -> file header
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # header -> folded -> value
    date_formats: tuple[str, ...] = ()

    def header(self, canonical: str) -> str:
        return self.columns.get(canonical, canonical)


def load_mapping(source: str | Path | IO[bytes] | bytes) -> Mapping:
    """Read a TOML mapping file; raises InvalidInput naming what is wrong."""
    _, stream = open_source(source, "mapping.toml")
    try:
        data = tomllib.loads(stream.read().decode("utf-8-sig"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"Tệp ánh xạ không đọc được: {exc}", code="import.bad_mapping") from None
    known = {fold(h): h for h in HEADERS}

    def canonical(name: str, where: str) -> str:
        found = known.get(fold(name))
        if found is None:
            raise InvalidInput(
                f"Tệp ánh xạ, mục [{where}]: '{name}' không phải cột của mẫu chuẩn "
                f"(các cột: {', '.join(HEADERS)}).",
                code="import.bad_mapping",
            )
        return found

    unknown = set(data) - {"source", "columns", "values", "dates"}
    if unknown:
        raise InvalidInput(
            f"Tệp ánh xạ có mục không biết: {', '.join(sorted(unknown))} "
            "(dùng source, [columns], [values.<cột>], [dates]).",
            code="import.bad_mapping",
        )
    columns = {canonical(k, "columns"): nfc(str(v)) for k, v in data.get("columns", {}).items()}
    values = {
        canonical(k, "values"): {fold(str(a)): nfc(str(b)) for a, b in table.items()}
        for k, table in data.get("values", {}).items()
    }
    formats = data.get("dates", {}).get("formats", [])
    if not isinstance(formats, list) or not all(isinstance(f, str) for f in formats):
        raise InvalidInput(
            "Tệp ánh xạ, mục [dates]: formats phải là danh sách mẫu ngày, ví dụ "
            '["%d-%m-%Y %H:%M"].',
            code="import.bad_mapping",
        )
    return Mapping(nfc(str(data.get("source", ""))), columns, values, tuple(formats))


# -- resolving names to the organisation and catalogue ---------------------------------------


@dataclass(frozen=True)
class _Agency:
    id: int
    name: str
    type_id: int
    rank: int
    valid_from: dt.date
    valid_to: dt.date | None

    def valid_on(self, day: dt.date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day < self.valid_to)


@dataclass(frozen=True)
class _Desk:
    info: DeskInfo
    name: str
    host_id: int
    valid_from: dt.date
    valid_to: dt.date | None

    def valid_on(self, day: dt.date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day < self.valid_to)


class Directory:
    """Procedures, agencies and desks by the names and codes exports use (read once)."""

    def __init__(self) -> None:
        self.procedures: dict[str, tuple[ProcedureInfo, int]] = {}
        for p in Procedure.objects.only(
            "id", "code", "name", "processing_time", "processing_time_unit", "online_level",
            "competent_agency_type_id",
        ):  # fmt: skip
            info = ProcedureInfo(
                p.pk, p.code, p.name, p.duration_spec, p.online_level, fold(f"{p.code} {p.name}")
            )
            self.procedures[p.code.strip().upper()] = (info, p.competent_agency_type_id)
        self.agencies: dict[str, list[_Agency]] = {}
        self.by_id: dict[int, _Agency] = {}
        for a in Agency.objects.values(
            "id", "code", "name", "short_name", "agency_type_id", "agency_type__level__rank",
            "valid_from", "valid_to",
        ):  # fmt: skip
            agency = _Agency(
                a["id"], a["name"], a["agency_type_id"], a["agency_type__level__rank"],
                a["valid_from"], a["valid_to"],
            )  # fmt: skip
            self.by_id[agency.id] = agency
            for key in {fold(a["code"]), fold(a["name"]), fold(a["short_name"] or "")} - {""}:
                self.agencies.setdefault(key, []).append(agency)
        self.desks: dict[str, list[_Desk]] = {}
        self.hosted: dict[int, list[_Desk]] = {}
        for d in Desk.objects.values(
            "id", "code", "name", "host_agency_id", "calendar__code", "saturday_reception",
            "valid_from", "valid_to",
        ).order_by("id"):  # fmt: skip
            desk = _Desk(
                DeskInfo(d["id"], d["calendar__code"] or DEFAULT_CALENDAR, d["saturday_reception"]),
                d["name"], d["host_agency_id"], d["valid_from"], d["valid_to"],
            )  # fmt: skip
            for key in {fold(d["code"]), fold(d["name"])}:
                self.desks.setdefault(key, []).append(desk)
            self.hosted.setdefault(desk.host_id, []).append(desk)
        self.serves: dict[int, set[int]] = {}
        for desk_id, agency_id in Desk.receives_for.through.objects.values_list(
            "desk_id", "agency_id"
        ):
            self.serves.setdefault(desk_id, set()).add(agency_id)

    def procedure(self, code: str) -> tuple[ProcedureInfo, int]:
        found = self.procedures.get(code.strip().upper())
        if found is None:
            raise CellError(f"mã TTHC '{code}' không có trong danh mục thủ tục")
        return found

    def agency(self, name: str, day: dt.date, what: str) -> _Agency:
        candidates = [a for a in self.agencies.get(fold(name), ()) if a.valid_on(day)]
        if not candidates:
            if self.agencies.get(fold(name)):
                raise CellError(f"{what} '{name}' không còn hoạt động ngày {day:%d/%m/%Y}")
            raise CellError(f"{what} '{name}' không có trong cơ cấu tổ chức")
        if len(candidates) > 1:
            raise CellError(
                f"{what} '{name}' trùng tên với {len(candidates)} cơ quan; hãy dùng mã định danh"
            )
        return candidates[0]

    def desk(self, name: str, day: dt.date) -> _Desk:
        """The one-stop desk: named directly, or the desk its host agency runs."""
        desks = [d for d in self.desks.get(fold(name), ()) if d.valid_on(day)]
        if not desks:
            host = self.agency(name, day, "Đơn vị tiếp nhận")
            desks = [d for d in self.hosted.get(host.id, ()) if d.valid_on(day)]
            if not desks:
                raise CellError(
                    f"đơn vị tiếp nhận '{name}' không có bộ phận một cửa hoạt động ngày "
                    f"{day:%d/%m/%Y}"
                )
        return desks[0]


# -- reading rows ----------------------------------------------------------------------------------


@dataclass
class Reader:
    """Turns rows of one file into `Facts` (one instance per import run)."""

    directory: Directory
    mapping: Mapping
    now: dt.datetime
    reach: Any  # accounts.policy.Grant of dossier.import

    def __post_init__(self) -> None:
        self.keys = {h: self.mapping.header(h) for h in HEADERS}
        # Exports repeat a few values (agencies, states, channels, flags, fees) millions of
        # times: each distinct cell is read once.
        self._folded: dict[Any, str] = {}
        self._cached: dict[tuple[str, Any], Any] = {}
        self._desks: dict[tuple[str, dt.date], _Desk] = {}
        self._agencies: dict[tuple[int, str, int, dt.date, str], _Agency] = {}

    def fold(self, raw: Any) -> str:
        word = self._folded.get(raw)
        if word is None:
            word = fold(text(raw))
            if len(self._folded) < 200_000:
                self._folded[raw] = word
        return word

    def cached(self, header: str, raw: Any, read: Callable[[Any], Any]) -> Any:
        """`read(raw)` once per distinct (column, value); CellError is cached too."""
        key = (header, raw)
        found = self._cached.get(key, _MISSING)
        if found is _MISSING:
            try:
                found = read(raw)
            except CellError as exc:
                found = exc
            if len(self._cached) < 200_000:
                self._cached[key] = found
        if isinstance(found, CellError):
            raise CellError(str(found))
        return found

    def get(self, row: Row, header: str) -> Any:
        raw = row.cells.get(self.keys[header])
        if raw is not None and header in self.mapping.values:
            word = self.fold(raw)
            table = self.mapping.values[header]
            if word in table:
                return table[word]
        return raw

    def has(self, row: Row, header: str) -> bool:
        return self.keys[header] in row.cells

    def when(self, row: Row, header: str, *, end_of_day: bool = False) -> dt.datetime | None:
        try:
            value = instant(
                self.get(row, header), formats=self.mapping.date_formats, end_of_day=end_of_day
            )
        except CellError as exc:
            raise CellError(f"{header}: {exc}") from None
        if value is not None and value > self.now and header != "Ngày hẹn trả":
            raise CellError(f"{header} {value:%d/%m/%Y %H:%M} sau thời điểm nhập dữ liệu")
        return value

    def words(self, row: Row, header: str, table: dict[str, Any], default: Any) -> Any:
        raw = self.get(row, header)
        word = self.fold(raw)
        if word == "":
            return default
        if word not in table:
            raise CellError(f"{header} '{text(raw)}' không nhận biết được")
        return table[word]

    def flag(self, row: Row, header: str) -> bool:
        def read(raw: Any) -> bool:
            try:
                return boolean(raw)
            except CellError as exc:
                raise CellError(f"{header}: {exc}") from None

        return bool(self.cached(header, self.get(row, header), read))

    def maybe(self, row: Row, header: str) -> bool | None:
        """A Có / Không cell; None when empty (or the column is absent)."""

        def read(raw: Any) -> bool | None:
            if text(raw).strip() == "":
                return None
            try:
                return boolean(raw)
            except CellError as exc:
                raise CellError(f"{header}: {exc}") from None

        found = self.cached(header, self.get(row, header), read)
        return None if found is None else bool(found)

    def count(self, row: Row, header: str) -> int:
        def read(raw: Any) -> int:
            try:
                value = integer(raw)
            except CellError as exc:
                raise CellError(f"{header}: {exc}") from None
            if value is not None and value < 0:
                raise CellError(f"{header} không được âm")
            return value or 0

        return int(self.cached(header, self.get(row, header), read))

    def parse(self, row: Row) -> Facts:
        code = text(self.get(row, "Mã hồ sơ")).strip()
        if not code:
            raise CellError("thiếu Mã hồ sơ")
        if len(code) > 60:
            raise CellError("Mã hồ sơ dài quá 60 ký tự")
        proc_code = text(self.get(row, "Mã TTHC")).strip()
        if not proc_code:
            raise CellError("thiếu Mã TTHC")
        procedure, proc_type = self.directory.procedure(proc_code)
        state_cell = self.get(row, "Trạng thái")
        state_raw = text(state_cell)
        if not state_raw:
            raise CellError("thiếu Trạng thái")
        state = STATE_WORDS.get(self.fold(state_cell))
        if state is None or state not in IMPORTABLE:
            raise CellError(f"Trạng thái '{state_raw}' không nhận biết được")
        received = self.when(row, "Ngày tiếp nhận")
        if received is None:
            raise CellError("thiếu Ngày tiếp nhận")
        due = self.when(row, "Ngày hẹn trả", end_of_day=True)
        finished = self.when(row, "Ngày có kết quả")
        returned = self.when(row, "Ngày trả kết quả")
        day = received.date()
        receiving = text(self.get(row, "Đơn vị tiếp nhận")).strip()
        if not receiving:
            raise CellError("thiếu Đơn vị tiếp nhận")
        desk = self._desks.get((receiving, day))
        if desk is None:
            desk = self._desks[(receiving, day)] = self.directory.desk(receiving, day)
        if not self.reach.covers(desk.host_id):
            raise CellError(f"đơn vị tiếp nhận '{receiving}' ngoài phạm vi quản lý của bạn")
        name = text(self.get(row, "Đơn vị xử lý"))
        key = (desk.info.id, name, proc_type, day, receiving)
        competent = self._agencies.get(key)
        if competent is None:
            competent = self._agencies[key] = self._competent(name, desk, proc_type, day, receiving)
        level_cell = self.get(row, "Cấp")
        level_raw = text(level_cell)
        if level_raw:
            rank = LEVEL_WORDS.get(self.fold(level_cell))
            if rank is None:
                raise CellError(f"Cấp '{level_raw}' không nhận biết được (Tỉnh, Huyện, Xã)")
            if rank != competent.rank:
                raise CellError(
                    f"Cấp '{level_raw}' không khớp với đơn vị xử lý {competent.name} "
                    f"({LEVEL_NAMES.get(competent.rank, '')})"
                )
        channel = self.words(row, "Kênh nộp", CHANNEL_WORDS, 0)
        if channel == 0:
            if self.has(row, "Kênh nộp"):
                raise CellError("thiếu Kênh nộp")
            channel = 1

        if state == State.REFUSED_AT_INTAKE:
            submitted, received, due = received, None, None
            finished = returned = None
        else:
            submitted = received
            if due is None:
                raise CellError("thiếu Ngày hẹn trả")
            if due < received:
                raise CellError("Ngày hẹn trả trước Ngày tiếp nhận")
            label = State(state).label
            if state in FINISHED:
                if finished is None:
                    raise CellError(f"hồ sơ «{label}» cần Ngày có kết quả")
                if finished < received:
                    raise CellError("Ngày có kết quả trước Ngày tiếp nhận")
            elif finished is not None or returned is not None:
                raise CellError(f"hồ sơ «{label}» chưa có kết quả nhưng có ngày kết quả")
            if state == State.RETURNED and returned is None:
                raise CellError("hồ sơ đã trả kết quả cần Ngày trả kết quả")
            if returned is not None and state != State.RETURNED:
                raise CellError(f"hồ sơ «{label}» có Ngày trả kết quả")
            if returned is not None and finished is not None and returned < finished:
                raise CellError("Ngày trả kết quả trước Ngày có kết quả")
        paid_online = self.flag(row, "Thanh toán trực tuyến")
        paid = self.maybe(row, "Đã thanh toán")
        if paid_online and paid is False:
            raise CellError("Thanh toán trực tuyến ghi Có nhưng Đã thanh toán ghi Không")
        raw = "\x1f".join([READING, *map(str, row.cells.values())])
        return Facts(
            digest=hashlib.md5(raw.encode(), usedforsecurity=False).hexdigest(),
            line=row.line,
            code=code,
            procedure=procedure,
            desk=desk.info,
            receiving_agency_id=desk.host_id,
            competent_agency_id=competent.id,
            channel=channel,
            state=state,
            submitted_at=submitted,
            received_at=received,
            due=due,
            finished_at=finished,
            returned_at=returned,
            supplements=self.count(row, "Số lần bổ sung"),
            fee_total=self.count(row, "Lệ phí"),
            paid_online=paid_online,
            paid=paid,
            digitised=self.flag(row, "Số hóa"),
            electronic_result=self.flag(row, "Có kết quả điện tử"),
            rating=self.words(row, "Đánh giá", RATING_WORDS, ""),
            complaint=self.flag(row, "Có phản ánh"),
            applicant_name=text(self.get(row, "Người nộp")).strip()[:200],
            applicant_id_number=text(self.get(row, "Số giấy tờ")).strip()[:20],
            applicant_address=text(self.get(row, "Địa chỉ")).strip()[:300],
            applicant_phone=text(self.get(row, "Điện thoại")).strip()[:20],
            matter=text(self.get(row, "Nội dung")).strip()[:500],
        )

    def _competent(
        self, name: str, desk: _Desk, proc_type: int, day: dt.date, receiving: str
    ) -> _Agency:
        served = self.directory.serves.get(desk.info.id, set())
        if name:
            agency = self.directory.agency(name, day, "Đơn vị xử lý")
            if agency.id not in served:
                raise CellError(f"'{receiving}' không tiếp nhận hồ sơ cho {agency.name}")
            return agency
        candidates = [
            a
            for a in (self.directory.by_id[i] for i in served)
            if a.type_id == proc_type and a.valid_on(day)
        ]
        if len(candidates) != 1:
            raise CellError("thiếu Đơn vị xử lý (không suy ra được từ đơn vị tiếp nhận và thủ tục)")
        return candidates[0]


def batches(
    reader: Reader,
    rows: Iterator[Row],
    report: ImportReport,
    sample: list[Facts] | None,
    size: int,
) -> Iterator[list[Facts]]:
    """Parsed rows in batches; rows that fail to parse, or repeat a code seen earlier in
    the file, go to the report."""
    seen: dict[str, int] = {}
    batch: list[Facts] = []
    for row in rows:
        try:
            facts = reader.parse(row)
        except CellError as exc:
            key = text(reader.get(row, "Mã hồ sơ")).strip()
            report.rejected.append(RowError(row.line, str(exc), key))
            continue
        first = seen.get(facts.code)
        if first is not None:
            report.rejected.append(
                RowError(row.line, f"Mã hồ sơ {facts.code} trùng với dòng {first}", facts.code)
            )
            continue
        seen[facts.code] = row.line
        if sample is not None and len(sample) < 20:
            sample.append(facts)
        batch.append(facts)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
