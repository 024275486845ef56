"""The refused rows of an import as a CSV download (line, key, reason), one shape for every
import page: the dossier import's run record, the catalogue and the registers.

A refused row quotes the file it came from (its key, the offending value in the reason),
so the CSV goes through `cchc.csvsafe` like every other CSV the system writes."""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any

from django.http import HttpResponse

from cchc import csvsafe


def _field(row: Any, name: str) -> Any:
    return row.get(name, "") if isinstance(row, dict) else getattr(row, name, "")


def refused_csv(rows: Iterable[Any], *, key_header: str = "Mã") -> bytes:
    """UTF-8 CSV (with a byte-order mark, for Excel) of refused rows: `RowError`s or their
    dict form as kept on an `ImportRun`."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csvsafe.writer(buffer)
    writer.writerow(["Dòng", key_header, "Lý do"])
    for row in rows:
        writer.writerow([_field(row, "line"), _field(row, "key"), _field(row, "reason")])
    return buffer.getvalue().encode("utf-8")


def refused_download(rows: Iterable[Any], *, filename: str, key_header: str = "Mã") -> HttpResponse:
    """`refused_csv` as an attachment named `filename` (ASCII)."""
    response = HttpResponse(
        refused_csv(rows, key_header=key_header), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
