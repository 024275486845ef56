"""`cchc import published-766 FILE`: published 766 figures (Kỳ, Mã địa bàn, Chỉ số, Điểm,
Nguồn) for reconciliation; rows saved through `published.save_published`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from cchc.accounts.policy import RequiresPermission
from cchc.indicators.published import PublishedData, save_published
from cchc.tabular import values
from cchc.tabular.runner import TableImporter
from cchc.tabular.tables import Row
from cchc.tabular.values import CellError

COLUMNS = ("Kỳ", "Mã địa bàn", "Chỉ số", "Điểm", "Nguồn")


def _code(raw: str) -> str:
    word = raw.strip()
    return "total" if word.lower() in ("total", "tổng", "tổng điểm") else word.lower()


class PublishedImporter(RequiresPermission, TableImporter):
    name = "published-766"
    title = "Điểm Bộ chỉ số 766 đã công bố (đối chiếu)"
    permission = "indicator.manage"
    columns = COLUMNS
    required = COLUMNS

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

    def save(self, data: Any, *, actor: Any, now: dt.datetime) -> str:
        return save_published(actor, data, now=now)[1]


IMPORTERS = (PublishedImporter(),)
