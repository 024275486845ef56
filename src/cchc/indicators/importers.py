"""`cchc import published-766 FILE`: published 766 figures for reconciliation, rows saved
through `published.save_published`. Three layouts, told apart by the header row:

- one figure per row: Kỳ, Mã địa bàn, Chỉ số (total / Tổng điểm, 1–5, 4-dvc, 4-tt,
  tru-diem, 1a…), Điểm, Nguồn;
- the national portal's six columns, one row per period and unit: Kỳ, Mã địa bàn, Công khai
  minh bạch, Tiến độ giải quyết, Dịch vụ trực tuyến, Thanh toán trực tuyến, Mức độ hài lòng,
  Số hóa hồ sơ, optionally Tổng điểm and Điểm trừ (technical and synchronisation faults),
  Nguồn — column titles as in `[[portal_columns]]` of the definition, with or without the
  points in brackets ("Số hóa hồ sơ (22)"), in any order;
- the decision's five groups: Kỳ, Mã địa bàn, Công khai, minh bạch, Tiến độ, kết quả giải
  quyết, Số hóa hồ sơ, Cung cấp dịch vụ trực tuyến, Mức độ hài lòng, optionally Tổng điểm
  and Điểm trừ, Nguồn.

In the six-column layout the decision's group 4 is the sum of the two portal columns; it is
stored as well (its source says so) unless the file gives group 4 itself.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils import timezone

from cchc.accounts.policy import RequiresPermission
from cchc.errors import InvalidInput
from cchc.indicators import definitions
from cchc.indicators.published import DEDUCTION, PublishedData, portal_columns, save_published
from cchc.tabular import values
from cchc.tabular.registry import ImportReport
from cchc.tabular.runner import TableImporter, run_rows
from cchc.tabular.tables import Row, read_rows
from cchc.tabular.values import CellError
from cchc.vietnamese import fold

COLUMNS = ("Kỳ", "Mã địa bàn", "Chỉ số", "Điểm", "Nguồn")
KEYS = ("Kỳ", "Mã địa bàn")
SIX = ("1", "2", "4-dvc", "4-tt", "5", "3")
FIVE = ("1", "2", "3", "4", "5")
TOTAL_HEADERS = ("Tổng điểm", "Tổng", "Tổng cộng", "Điểm tổng")
DEDUCTION_HEADERS = ("Điểm trừ", "Trừ điểm", "Điểm bị trừ")


def _code(raw: str) -> str:
    word = raw.strip()
    return "total" if word.lower() in ("total", "tổng", "tổng điểm") else word.lower()


def norm(header: str) -> str:
    """A column title for matching: folded, without bracketed parts ("(18)", "(điểm)"),
    punctuation or extra spaces."""
    text = re.sub(r"\([^)]*\)", " ", fold(str(header)))
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text).split())


def wide_headers() -> dict[str, str]:
    """{normalised column title: code} of the two wide layouts (from the definition in
    force today and the shipped one)."""
    out: dict[str, str] = {}
    d = definitions.current("index766", on=timezone.localdate())
    for g in d.groups:
        out[norm(g.name)] = g.code
    for c in portal_columns(d):
        for title in (c.name, *c.headers):
            out[norm(title)] = c.code
    for title in TOTAL_HEADERS:
        out[norm(title)] = "total"
    out[norm("Chỉ số tổng hợp")] = "total"
    for title in DEDUCTION_HEADERS:
        out[norm(title)] = DEDUCTION
    return out


def _deduction_title(key: str) -> bool:
    # "Điểm trừ do lỗi kỹ thuật", "Trừ điểm đồng bộ"…
    return key.startswith(("diem tru", "tru diem", "diem bi tru"))


@dataclass(frozen=True)
class WideRow:
    """One period and unit of a wide layout: its figures, saved together."""

    period: str
    unit: str
    figures: tuple[tuple[str, Decimal, str], ...]  # (code, value, source)

    @property
    def key(self) -> str:
        return f"{self.period}|{self.unit}"


class PublishedImporter(RequiresPermission, TableImporter):
    name = "published-766"
    title = "Điểm Bộ chỉ số 766 đã công bố (đối chiếu)"
    permission = "indicator.manage"
    columns = COLUMNS
    required = COLUMNS
    layouts = (
        "Kỳ, Mã địa bàn, Chỉ số, Điểm, Nguồn",
        "Kỳ, Mã địa bàn, Công khai minh bạch, Tiến độ giải quyết, Dịch vụ trực tuyến, "
        "Thanh toán trực tuyến, Mức độ hài lòng, Số hóa hồ sơ, [Tổng điểm], [Điểm trừ], Nguồn",
        "Kỳ, Mã địa bàn, Công khai, minh bạch, Tiến độ, kết quả giải quyết, Số hóa hồ sơ, "
        "Cung cấp dịch vụ trực tuyến, Mức độ hài lòng, [Tổng điểm], [Điểm trừ], Nguồn",
    )

    def run(
        self,
        source: Any,
        *,
        actor: Any,
        now: Any,
        dry_run: bool = False,
        filename: str | None = None,
    ) -> ImportReport:
        self.authorize(actor)
        rows = read_rows(source, required=KEYS, known=(*COLUMNS,), filename=filename)
        first = next(rows, None)
        if first is None:
            return ImportReport(dry_run=dry_run)
        parse = self._layout(first)

        def every() -> Iterator[Row]:
            yield first
            yield from rows

        return run_rows(
            every(),
            parse=parse,
            save=lambda data: self.save(data, actor=actor, now=now),
            dry_run=dry_run,
        )

    def _layout(self, first: Row) -> Any:
        """The parser for the file's layout, chosen from its header (the first row's keys)."""
        headers = [h for h in first.cells if h]
        if {"Chỉ số", "Điểm", "Nguồn"} <= set(headers):
            return self.parse
        known = wide_headers()
        found: dict[str, str] = {}  # code -> header as written
        source = None
        for h in headers:
            key = norm(h)
            if key == "nguon":
                source = h
                continue
            code = known.get(key) or (DEDUCTION if _deduction_title(key) else None)
            if code is not None and code not in found:
                found[code] = h
        complete = [c for c in (SIX, FIVE) if set(c) <= set(found)]
        if not complete or source is None:
            d = definitions.current("index766", on=timezone.localdate())
            titles = {g.code: g.name for g in d.groups}
            titles.update({c.code: c.name for c in portal_columns(d) if c.subs})
            lacks = [
                f"{label} còn thiếu: "
                + ", ".join(titles.get(c, c) for c in layout if c not in found)
                for label, layout in (("sáu cột của Cổng DVC", SIX), ("năm nhóm QĐ 766", FIVE))
                if not set(layout) <= set(found)
            ]
            if source is None:
                lacks.append("thiếu cột Nguồn")
            raise InvalidInput(
                "Không nhận ra bố cục tệp điểm 766 (cần: Kỳ, Mã địa bàn, Chỉ số, Điểm, Nguồn; "
                "hoặc Kỳ, Mã địa bàn, sáu cột của Cổng DVC quốc gia hoặc năm nhóm của QĐ 766, "
                "Nguồn): " + "; ".join(lacks) + ".",
                code="indicators.published_layout",
            )
        return lambda row: self.parse_wide(row, found, source)

    def parse(self, row: Row) -> Any:
        def need(column: str) -> str:
            value = values.text(row.get(column))
            if not value:
                raise CellError(f"cột '{column}' bị trống")
            return value

        try:
            score = values.decimal(row.get("Điểm"))
        except CellError as exc:
            raise CellError(f"cột 'Điểm': {exc}") from None
        if score is None:
            raise CellError("cột 'Điểm' bị trống")
        return PublishedData(
            period=need("Kỳ"),
            unit=need("Mã địa bàn"),
            code=_code(need("Chỉ số")),
            value=score,
            source=need("Nguồn"),
        )

    def parse_wide(self, row: Row, found: dict[str, str], source_column: str) -> WideRow:
        def need(column: str) -> str:
            value = values.text(row.get(column))
            if not value:
                raise CellError(f"cột '{column}' bị trống")
            return value

        period, unit = need("Kỳ"), need("Mã địa bàn")
        source = need(source_column)
        figures: dict[str, Decimal] = {}
        for code, header in found.items():
            try:
                value = values.decimal(row.get(header))
            except CellError as exc:
                raise CellError(f"cột '{header}': {exc}") from None
            if value is not None:
                figures[code] = value
        if not figures:
            raise CellError("không có điểm nào trong dòng")
        out = [(code, value, source) for code, value in figures.items()]
        if "4" not in figures and "4-dvc" in figures and "4-tt" in figures:
            out.append(
                (
                    "4",
                    figures["4-dvc"] + figures["4-tt"],
                    f"{source} (nhóm 4 = Dịch vụ trực tuyến + Thanh toán trực tuyến)",
                )
            )
        return WideRow(period, unit, tuple(out))

    def save(self, data: Any, *, actor: Any, now: dt.datetime) -> str:
        if isinstance(data, PublishedData):
            return save_published(actor, data, now=now)[1]
        outcomes = [
            save_published(
                actor, PublishedData(data.period, data.unit, code, value, source), now=now
            )[1]
            for code, value, source in data.figures
        ]
        if "created" in outcomes:
            return "created"
        return "updated" if "updated" in outcomes else "unchanged"


IMPORTERS = (PublishedImporter(),)
