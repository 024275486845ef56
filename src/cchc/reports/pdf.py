"""A `Report` as PDF: an HTML template (`reports/periodic.html`) printed by WeasyPrint
with the Noto Serif files the dossier forms embed (`cchc.dossiers.documents.pdf`), A4 in
the layout of NĐ 30/2020/NĐ-CP. The charts are the same PNG bytes as in the Word file.

Reproducible: the PDF's creation and modification dates are the report's metadata date.
"""

from __future__ import annotations

import base64
from typing import Any

from django.template.loader import render_to_string

from cchc.dossiers.documents.pdf import FONT_DIR, FONT_FAMILY, font_faces
from cchc.reports.document import LEFT_FROM, TEXT, Chart, Paragraph, Report, Table, shown


def _table(table: Table) -> dict[str, Any]:
    cols = table.printed_columns()
    total = sum(table.columns[i].width for i in cols)
    rows = []
    for n, row in enumerate(table.rows):
        cells = []
        for i in cols:
            column = table.columns[i]
            text = shown(row[i], column.kind)
            cells.append({"text": text, "left": column.kind == TEXT and column.width >= LEFT_FROM})
        rows.append({"cells": cells, "strong": n in table.emphasis})
    return {
        "kind": "table",
        "title": table.title,
        "note": table.note,
        "headers": [
            {
                "text": table.columns[i].heading,
                "width": f"{100 * table.columns[i].width / total:.2f}",
            }
            for i in cols
        ],
        "rows": rows,
    }


def _item(item: Paragraph | Table | Chart) -> dict[str, Any] | None:
    if isinstance(item, Paragraph):
        return {"kind": "paragraph", "style": item.style, "text": item.text}
    if isinstance(item, Table):
        return _table(item) if item.printed else None
    return {
        "kind": "chart",
        "title": item.title,
        "alt": item.alt or item.title,
        "width_cm": f"{item.width_cm:.2f}",  # a string: templates localise floats
        "src": "data:image/png;base64," + base64.b64encode(item.png).decode("ascii"),
    }


def render_html(report: Report) -> str:
    sections = []
    for s in report.sections:
        items = [x for x in (_item(i) for i in s.items) if x is not None]
        sections.append({"heading": s.heading, "level": s.level, "items": items})
    return render_to_string(
        "reports/periodic.html",
        {
            "report": report,
            "sections": sections,
            "created": report.metadata_date.isoformat(),
            "font_family": FONT_FAMILY,
            "font_faces": font_faces(),
        },
    )


def render(report: Report) -> bytes:
    from weasyprint import HTML  # loads Pango; imported when a PDF is wanted

    return HTML(string=render_html(report), base_url=str(FONT_DIR)).write_pdf()
