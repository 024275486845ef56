"""The columnar dossier import: a batch of rows read, validated and written by column.

`cchc.interop.dossier_reader.Reader.parse` reads one row at a time (about 40 µs of Python
per row) and `cchc.dossiers.imported.store` builds its rows one dossier at a time (about
50 µs). Here a whole batch is handled by column (Polars frames):

* every cell of a column is read once per distinct value, with the reader's own functions
  (`Reader.when`, `flag`, `count`, `words`, the directory's look-ups), so the values and the
  refusal messages are exactly the row path's; the organisation look-ups (receiving desk by
  name and day, competent agency by desk, name, procedure type and day) once per distinct
  combination;
* the checks between columns (appointment before receipt, a finished state without a
  result date, payment flags …) are vectorised expressions; a row's refusal is the first
  failing check in the row path's order (`pl.coalesce`);
* duplicates within the file are found as the row path finds them (the first line wins);
* existing dossiers are fetched for the batch's codes in one query and the content digests
  compared in bulk: unchanged rows write nothing; changed rows and rows of another source
  go through `imported.store` (the reference: ``import_update`` events, audit);
* new dossiers: the projection (`replay.project_import`) is computed by column — the
  outcome by `legaltime.bulk.bulk_classify` — the event's JSON by string concatenation
  (byte for byte what ``json.dumps`` writes), and the rows written with one executemany
  (SQLite) or COPY (PostgreSQL) per table (`cchc.dossiers.rows.Writer`).

The row path (`dossier_reader.batches` + `imported.store`) stays as the reference: the
property test `tests/test_import_columnar_property.py` feeds random messy files to both
and compares dossiers, events, results, cells and refusals.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, overload

import polars as pl

from cchc.dossiers.imported import DeskInfo, Facts, ProcedureInfo
from cchc.dossiers.models import (
    State,
)
from cchc.interop.dossier_reader import (
    CHANNEL_WORDS,
    FINISHED,
    HEADERS,
    IMPORTABLE,
    LEVEL_NAMES,
    LEVEL_WORDS,
    RATING_WORDS,
    READING,
    STATE_WORDS,
    Reader,
)
from cchc.tabular.registry import ImportReport, RowError
from cchc.tabular.tables import Row
from cchc.tabular.values import VN, CellError, text

UTC = dt.UTC
EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)
US = 1_000_000
VN_US = 7 * 3600 * US
_STATE_LABELS = {value: str(State(value).label) for value in State.values}


class Key(NamedTuple):
    """What the importer reads of a batch's row: its line and dossier code."""

    line: int
    code: str


def _us(value: dt.datetime | None) -> int | None:
    if value is None:
        return None
    delta = value - EPOCH
    return (delta.days * 86_400 + delta.seconds) * US + delta.microseconds


def _from_us(value: int | None) -> dt.datetime | None:
    if value is None:
        return None
    return (EPOCH + dt.timedelta(microseconds=value)).astimezone(VN)


@dataclass
class Batch(Sequence[Key]):
    """The good rows of a batch: `frame` (one row per dossier, in line order) and the
    procedures and desks its index columns point at."""

    frame: pl.DataFrame
    procedures: list[ProcedureInfo]
    desks: list[DeskInfo]

    def __len__(self) -> int:
        return self.frame.height

    @overload
    def __getitem__(self, index: int) -> Key: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Key]: ...
    def __getitem__(self, index: int | slice) -> Key | Sequence[Key]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return self.keys()[index]

    def keys(self) -> list[Key]:
        """(line, code) of every row (read from the frame once)."""
        keys = self.__dict__.get("_keys")
        if keys is None or len(keys) != self.frame.height:
            lines, codes = self.frame["line"].to_list(), self.frame["code"].to_list()
            keys = self.__dict__["_keys"] = [Key(a, b) for a, b in zip(lines, codes, strict=True)]
        return keys

    def facts(self, indices: Sequence[int] | None = None) -> list[Facts]:
        """The rows `indices` (all by default) as `Facts`, as the row path gives them."""
        frame = self.frame if indices is None else self.frame[list(indices)]
        out = []
        for r in frame.iter_rows(named=True):
            out.append(
                Facts(
                    digest=r["digest"],
                    line=r["line"],
                    code=r["code"],
                    procedure=self.procedures[r["proc"]],
                    desk=self.desks[r["desk"]],
                    receiving_agency_id=r["receiving_id"],
                    competent_agency_id=r["competent_id"],
                    channel=r["channel"],
                    state=r["state"],
                    submitted_at=_from_us(r["submitted"]),  # type: ignore[arg-type]
                    received_at=_from_us(r["received"]),
                    due=_from_us(r["due"]),
                    finished_at=_from_us(r["finished"]),
                    returned_at=_from_us(r["returned"]),
                    supplements=r["supplements"],
                    fee_total=r["fee"],
                    paid_online=r["paid_online"],
                    paid=r["paid"],
                    digitised=r["digitised"],
                    electronic_result=r["electronic"],
                    rating=r["rating"],
                    complaint=r["complaint"],
                    applicant_name=r["applicant_name"],
                    applicant_id_number=r["applicant_id_number"],
                    applicant_address=r["applicant_address"],
                    applicant_phone=r["applicant_phone"],
                    matter=r["matter"],
                )
            )
        return out


# -- reading and checking a batch ----------------------------------------------------------------


def _per_value(values: list[Any], read: Callable[[Any], Any]) -> tuple[list[Any], list[Any]]:
    """`read` once per distinct value of a column: (values, refusal messages or None)."""
    memo: dict[tuple[type, Any], tuple[Any, str | None]] = {}
    out: list[Any] = []
    errors: list[str | None] = []
    for raw in values:
        key = (raw.__class__, raw)
        got = memo.get(key)
        if got is None:
            try:
                got = (read(raw), None)
            except CellError as exc:
                got = (None, str(exc))
            memo[key] = got
        out.append(got[0])
        errors.append(got[1])
    return out, errors


class _Columns:
    """One batch of rows as raw columns and their readings."""

    def __init__(self, reader: Reader, rows: list[Row]) -> None:
        self.reader = reader
        self.n = len(rows)
        self.lines = [row.line for row in rows]
        keys = reader.keys
        self.raw = {h: [row.cells.get(keys[h]) for row in rows] for h in HEADERS}
        channel_key = keys["Kênh nộp"]
        self.has_channel = [channel_key in row.cells for row in rows]
        prefix = READING + "\x1f"
        md5 = hashlib.md5
        self.digests = [
            md5(
                (prefix + "\x1f".join(map(str, row.cells.values()))).encode(),
                usedforsecurity=False,
            ).hexdigest()
            if row.cells
            else md5(READING.encode(), usedforsecurity=False).hexdigest()
            for row in rows
        ]

    def read(self, header: str, read: Callable[[Row], Any]) -> tuple[list[Any], list[Any]]:
        """`read(row)` of the reader, once per distinct cell of `header`."""
        key = self.reader.keys[header]
        return _per_value(self.raw[header], lambda raw: read(Row(0, {key: raw})))


def _check(frame: pl.DataFrame) -> pl.Series:
    """The first failing check of each row, in `Reader.parse`'s order (None: good)."""
    c = pl.col
    state = c("state")
    label = state.replace_strict(_STATE_LABELS, default="", return_dtype=pl.String)
    not_intake = state != State.REFUSED_AT_INTAKE
    finished_state = state.is_in(list(FINISHED))

    def when(cond: pl.Expr, message: pl.Expr | str) -> pl.Expr:
        msg = pl.lit(message) if isinstance(message, str) else message
        return pl.when(cond).then(msg).otherwise(pl.lit(None, dtype=pl.String))

    checks = [
        c("code_err"),
        c("proc_err"),
        c("state_err"),
        c("received_err"),
        when(c("received").is_null(), "thiếu Ngày tiếp nhận"),
        c("due_err"),
        c("finished_err"),
        c("returned_err"),
        c("desk_err"),
        c("reach_err"),
        c("competent_err"),
        c("level_err"),
        c("channel_err"),
        when(not_intake & c("due").is_null(), "thiếu Ngày hẹn trả"),
        when(not_intake & (c("due") < c("received")), "Ngày hẹn trả trước Ngày tiếp nhận"),
        when(
            not_intake & finished_state & c("finished").is_null(),
            pl.format("hồ sơ «{}» cần Ngày có kết quả", label),
        ),
        when(
            not_intake & finished_state & (c("finished") < c("received")),
            "Ngày có kết quả trước Ngày tiếp nhận",
        ),
        when(
            not_intake
            & ~finished_state
            & (c("finished").is_not_null() | c("returned").is_not_null()),
            pl.format("hồ sơ «{}» chưa có kết quả nhưng có ngày kết quả", label),
        ),
        when(
            not_intake & (state == State.RETURNED) & c("returned").is_null(),
            "hồ sơ đã trả kết quả cần Ngày trả kết quả",
        ),
        when(
            not_intake & c("returned").is_not_null() & (state != State.RETURNED),
            pl.format("hồ sơ «{}» có Ngày trả kết quả", label),
        ),
        when(
            not_intake & (c("returned") < c("finished")),
            "Ngày trả kết quả trước Ngày có kết quả",
        ),
        c("paid_online_err"),
        c("paid_err"),
        when(
            c("paid_online") & (c("paid") == pl.lit(False)),
            "Thanh toán trực tuyến ghi Có nhưng Đã thanh toán ghi Không",
        ),
        c("supplements_err"),
        c("fee_err"),
        c("digitised_err"),
        c("electronic_err"),
        c("rating_err"),
        c("complaint_err"),
    ]
    return frame.select(pl.coalesce(checks).alias("reason"))["reason"]


def parse(reader: Reader, rows: list[Row]) -> tuple[Batch, list[RowError]]:
    """The good rows of `rows` (a `Batch`, duplicates not yet removed) and the refused ones
    with `Reader.parse`'s reasons."""
    cols = _Columns(reader, rows)
    n = cols.n
    r = reader
    directory = r.directory

    def stripped(header: str) -> list[str]:
        return cols.read(header, lambda row: text(r.get(row, header)).strip())[0]

    codes = stripped("Mã hồ sơ")
    code_err = [
        "thiếu Mã hồ sơ" if not code else "Mã hồ sơ dài quá 60 ký tự" if len(code) > 60 else None
        for code in codes
    ]
    procedures: list[ProcedureInfo] = []
    proc_index: dict[int, int] = {}

    def procedure(row: Row) -> tuple[int, int]:
        proc_code = text(r.get(row, "Mã TTHC")).strip()
        if not proc_code:
            raise CellError("thiếu Mã TTHC")
        info, proc_type = directory.procedure(proc_code)
        if info.id not in proc_index:
            proc_index[info.id] = len(procedures)
            procedures.append(info)
        return proc_index[info.id], proc_type

    procs, proc_err = cols.read("Mã TTHC", procedure)

    def state_of(row: Row) -> str:
        cell = r.get(row, "Trạng thái")
        raw = text(cell)
        if not raw:
            raise CellError("thiếu Trạng thái")
        state = STATE_WORDS.get(r.fold(cell))
        if state is None or state not in IMPORTABLE:
            raise CellError(f"Trạng thái '{raw}' không nhận biết được")
        return str(state)

    states, state_err = cols.read("Trạng thái", state_of)
    instants: dict[str, tuple[list[dt.datetime | None], list[str | None]]] = {}
    for header, end in (
        ("Ngày tiếp nhận", False),
        ("Ngày hẹn trả", True),
        ("Ngày có kết quả", False),
        ("Ngày trả kết quả", False),
    ):
        instants[header] = cols.read(
            header, lambda row, h=header, e=end: r.when(row, h, end_of_day=e)
        )
    received = instants["Ngày tiếp nhận"][0]

    # The receiving desk per (name, day), the competent agency per combination.
    receiving = stripped("Đơn vị tiếp nhận")
    names = cols.read("Đơn vị xử lý", lambda row: text(r.get(row, "Đơn vị xử lý")))[0]
    desks: list[DeskInfo] = []
    desk_index: dict[int, int] = {}
    desk_memo: dict[tuple[str, dt.date], tuple[Any, str | None, str | None]] = {}
    comp_memo: dict[tuple[Any, ...], tuple[Any, str | None]] = {}
    desk_col: list[int | None] = [None] * n
    receiving_id: list[int | None] = [None] * n
    desk_err: list[str | None] = [None] * n
    reach_err: list[str | None] = [None] * n
    competent_id: list[int | None] = [None] * n
    competent_rank: list[int | None] = [None] * n
    competent_name: list[str | None] = [None] * n
    competent_err: list[str | None] = [None] * n
    for i in range(n):
        when = received[i]
        pr = procs[i]
        if when is None or pr is None:
            continue  # refused earlier in the row path's order
        name = receiving[i]
        if not name:
            desk_err[i] = "thiếu Đơn vị tiếp nhận"
            continue
        day = when.date()
        found = desk_memo.get((name, day))
        if found is None:
            try:
                desk = r._desks.get((name, day))
                if desk is None:
                    desk = r._desks[(name, day)] = directory.desk(name, day)
            except CellError as exc:
                found = (None, str(exc), None)
            else:
                reach = None
                if not r.reach.covers(desk.host_id):
                    reach = f"đơn vị tiếp nhận '{name}' ngoài phạm vi quản lý của bạn"
                found = (desk, None, reach)
            desk_memo[(name, day)] = found
        desk, desk_err[i], reach_err[i] = found
        if desk is None or reach_err[i] is not None:
            continue
        if desk.info.id not in desk_index:
            desk_index[desk.info.id] = len(desks)
            desks.append(desk.info)
        desk_col[i] = desk_index[desk.info.id]
        receiving_id[i] = desk.host_id
        key = (desk.info.id, names[i], pr[1], day, name)
        got = comp_memo.get(key)
        if got is None:
            try:
                agency = r._agencies.get(key)
                if agency is None:
                    agency = r._agencies[key] = r._competent(names[i], desk, pr[1], day, name)
                got = (agency, None)
            except CellError as exc:
                got = (None, str(exc))
            comp_memo[key] = got
        agency, competent_err[i] = got
        if agency is not None:
            competent_id[i] = agency.id
            competent_rank[i] = agency.rank
            competent_name[i] = agency.name

    def level(row: Row) -> int | None:
        cell = r.get(row, "Cấp")
        raw = text(cell)
        if not raw:
            return None
        rank = LEVEL_WORDS.get(r.fold(cell))
        if rank is None:
            raise CellError(f"Cấp '{raw}' không nhận biết được (Tỉnh, Huyện, Xã)")
        return rank

    level_raw = cols.read("Cấp", lambda row: text(r.get(row, "Cấp")))[0]
    ranks, level_err = cols.read("Cấp", level)
    for i in range(n):
        known = level_err[i] is None and ranks[i] is not None and competent_rank[i] is not None
        if known and ranks[i] != competent_rank[i]:
            level_err[i] = (
                f"Cấp '{level_raw[i]}' không khớp với đơn vị xử lý {competent_name[i]} "
                f"({LEVEL_NAMES.get(competent_rank[i] or 0, '')})"
            )

    channels, channel_err = cols.read(
        "Kênh nộp", lambda row: r.words(row, "Kênh nộp", CHANNEL_WORDS, 0)
    )
    for i in range(n):
        if channels[i] == 0:
            if cols.has_channel[i]:
                channel_err[i] = "thiếu Kênh nộp"
            else:
                channels[i] = 1
    paid_online, paid_online_err = cols.read(
        "Thanh toán trực tuyến", lambda row: r.flag(row, "Thanh toán trực tuyến")
    )
    paid, paid_err = cols.read("Đã thanh toán", lambda row: r.maybe(row, "Đã thanh toán"))
    supplements, supplements_err = cols.read(
        "Số lần bổ sung", lambda row: r.count(row, "Số lần bổ sung")
    )
    fees, fee_err = cols.read("Lệ phí", lambda row: r.count(row, "Lệ phí"))
    digitised, digitised_err = cols.read("Số hóa", lambda row: r.flag(row, "Số hóa"))
    electronic, electronic_err = cols.read(
        "Có kết quả điện tử", lambda row: r.flag(row, "Có kết quả điện tử")
    )
    ratings, rating_err = cols.read(
        "Đánh giá", lambda row: str(r.words(row, "Đánh giá", RATING_WORDS, ""))
    )
    complaint, complaint_err = cols.read("Có phản ánh", lambda row: r.flag(row, "Có phản ánh"))

    def clipped(header: str, size: int) -> list[str]:
        return cols.read(header, lambda row: text(r.get(row, header)).strip()[:size])[0]

    i64, s = pl.Int64, pl.String
    data: dict[str, pl.Series] = {
        "line": pl.Series(cols.lines, dtype=i64),
        "code": pl.Series(codes, dtype=s),
        "code_err": pl.Series(code_err, dtype=s),
        "proc": pl.Series([p[0] if p else None for p in procs], dtype=i64),
        "proc_err": pl.Series(proc_err, dtype=s),
        "state": pl.Series(states, dtype=s),
        "state_err": pl.Series(state_err, dtype=s),
        "received": pl.Series([_us(v) for v in received], dtype=i64),
        "received_err": pl.Series(instants["Ngày tiếp nhận"][1], dtype=s),
        "due": pl.Series([_us(v) for v in instants["Ngày hẹn trả"][0]], dtype=i64),
        "due_err": pl.Series(instants["Ngày hẹn trả"][1], dtype=s),
        "finished": pl.Series([_us(v) for v in instants["Ngày có kết quả"][0]], dtype=i64),
        "finished_err": pl.Series(instants["Ngày có kết quả"][1], dtype=s),
        "returned": pl.Series([_us(v) for v in instants["Ngày trả kết quả"][0]], dtype=i64),
        "returned_err": pl.Series(instants["Ngày trả kết quả"][1], dtype=s),
        "desk": pl.Series(desk_col, dtype=i64),
        "desk_err": pl.Series(desk_err, dtype=s),
        "reach_err": pl.Series(reach_err, dtype=s),
        "receiving_id": pl.Series(receiving_id, dtype=i64),
        "competent_id": pl.Series(competent_id, dtype=i64),
        "competent_err": pl.Series(competent_err, dtype=s),
        "level_err": pl.Series(level_err, dtype=s),
        "channel": pl.Series(channels, dtype=i64),
        "channel_err": pl.Series(channel_err, dtype=s),
        "paid_online": pl.Series(paid_online, dtype=pl.Boolean),
        "paid_online_err": pl.Series(paid_online_err, dtype=s),
        "paid": pl.Series(paid, dtype=pl.Boolean),
        "paid_err": pl.Series(paid_err, dtype=s),
        "supplements": pl.Series(supplements, dtype=i64),
        "supplements_err": pl.Series(supplements_err, dtype=s),
        "fee": pl.Series(fees, dtype=i64),
        "fee_err": pl.Series(fee_err, dtype=s),
        "digitised": pl.Series(digitised, dtype=pl.Boolean),
        "digitised_err": pl.Series(digitised_err, dtype=s),
        "electronic": pl.Series(electronic, dtype=pl.Boolean),
        "electronic_err": pl.Series(electronic_err, dtype=s),
        "rating": pl.Series(ratings, dtype=s),
        "rating_err": pl.Series(rating_err, dtype=s),
        "complaint": pl.Series(complaint, dtype=pl.Boolean),
        "complaint_err": pl.Series(complaint_err, dtype=s),
        "applicant_name": pl.Series(clipped("Người nộp", 200), dtype=s),
        "applicant_id_number": pl.Series(clipped("Số giấy tờ", 20), dtype=s),
        "applicant_address": pl.Series(clipped("Địa chỉ", 300), dtype=s),
        "applicant_phone": pl.Series(clipped("Điện thoại", 20), dtype=s),
        "matter": pl.Series(clipped("Nội dung", 500), dtype=s),
        "digest": pl.Series(cols.digests, dtype=s),
    }
    frame = pl.DataFrame(data)
    reason = _check(frame)
    frame = frame.with_columns(reason=reason)
    refused = [
        RowError(line, why, code)
        for line, why, code in frame.filter(pl.col("reason").is_not_null())
        .select("line", "reason", "code")
        .iter_rows()
    ]
    c = pl.col
    intake = c("state") == State.REFUSED_AT_INTAKE
    good = frame.filter(c("reason").is_null()).select(
        "line", "code", "digest", "proc", "desk", "receiving_id", "competent_id", "channel",
        "state",
        submitted=c("received"),
        received=pl.when(intake).then(None).otherwise(c("received")),
        due=pl.when(intake).then(None).otherwise(c("due")),
        finished=pl.when(intake).then(None).otherwise(c("finished")),
        returned=pl.when(intake).then(None).otherwise(c("returned")),
        supplements=c("supplements"), fee=c("fee"), paid_online=c("paid_online"),
        paid=c("paid"), digitised=c("digitised"), electronic=c("electronic"),
        rating=c("rating"), complaint=c("complaint"), applicant_name=c("applicant_name"),
        applicant_id_number=c("applicant_id_number"),
        applicant_address=c("applicant_address"), applicant_phone=c("applicant_phone"),
        matter=c("matter"),
    )  # fmt: skip
    return Batch(good, procedures, desks), refused


def batches(
    reader: Reader,
    rows: Iterator[Row],
    report: ImportReport,
    sample: list[Facts] | None,
    size: int,
) -> Iterator[Batch]:
    """`dossier_reader.batches` by column: batches of up to `size` rows read; refused
    rows and repeated codes (the first line wins, across the whole file) to the report."""
    seen: dict[str, int] = {}
    chunk: list[Row] = []

    def flush() -> Batch | None:
        batch, refused = parse(reader, chunk)
        chunk.clear()
        keep: list[bool] = []
        for line, code in batch.frame.select("line", "code").iter_rows():
            first = seen.get(code)
            if first is None:
                seen[code] = line
                keep.append(True)
            else:
                refused.append(RowError(line, f"Mã hồ sơ {code} trùng với dòng {first}", code))
                keep.append(False)
        if not all(keep):
            batch.frame = batch.frame.filter(pl.Series(keep, dtype=pl.Boolean))
            batch.__dict__.pop("_keys", None)
        refused.sort(key=lambda e: e.line)
        report.rejected.extend(refused)
        if sample is not None and len(sample) < 20 and len(batch):
            sample.extend(batch.facts(range(min(20 - len(sample), len(batch)))))
        return batch if len(batch) else None

    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            batch = flush()
            if batch is not None:
                yield batch
    if chunk:
        batch = flush()
        if batch is not None:
            yield batch


__all__ = ["Batch", "Key", "batches", "parse"]
