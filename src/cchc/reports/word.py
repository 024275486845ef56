"""A `Report` as a Word document (python-docx) in the layout of NĐ 30/2020/NĐ-CP: A4,
margins 20/20/30/15 mm, Times New Roman 13 pt, issuer block and national motto side by side,
page numbers from the second page, "Nơi nhận" and the signature block side by side.

Reproducible: the core properties carry the report's metadata date and every ZIP entry a
fixed timestamp, so the same report gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from typing import Any

from docx import Document
from docx.enum.section import WD_SECTION
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

from cchc.reports.document import (
    LEFT_FROM,
    TEXT,
    Chart,
    Paragraph,
    Report,
    Table,
    shown,
)

FONT = "Times New Roman"
BODY_PT = 13
TABLE_PT = 10.5
TEXT_WIDTH_CM = 16.5  # A4 210 mm − 30 mm − 15 mm
ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def _font(run: Any, *, size: float | None = None, bold: bool = False, italic: bool = False):
    run.font.name = FONT
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FONT)
    if size:
        run.font.size = Pt(size)
    run.bold = bold or None
    run.italic = italic or None
    return run


def _para(
    container: Any,
    text: str = "",
    *,
    size: float = BODY_PT,
    bold: bool = False,
    italic: bool = False,
    align: Any = WD_ALIGN_PARAGRAPH.CENTER,
    after: float = 0,
    before: float = 0,
    indent_cm: float | None = None,
    underline: bool = False,
) -> Any:
    p = container.add_paragraph()
    p.alignment = align
    fmt = p.paragraph_format
    fmt.space_after = Pt(after)
    fmt.space_before = Pt(before)
    fmt.line_spacing = 1.0
    if indent_cm is not None:
        fmt.first_line_indent = Cm(indent_cm)
    if text:
        run = _font(p.add_run(text), size=size, bold=bold, italic=italic)
        run.underline = underline or None
    return p


def _short_rule(cell: Any, *, width_fraction: float) -> None:
    """A short centred horizontal line (the rule under the issuer's name, NĐ 30)."""
    p = _para(cell, size=2)
    cell_cm = cell.width.cm if cell.width is not None else 6.5
    side = Cm(max(cell_cm * (1 - width_fraction) / 2, 0))
    p.paragraph_format.left_indent = side
    p.paragraph_format.right_indent = side
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "000000")):
        bottom.set(qn(key), value)
    borders.append(bottom)
    p._p.get_or_add_pPr().append(borders)
    run = p.add_run("\u00a0")
    run.font.size = Pt(2)


def _no_borders(table: Any) -> None:
    props = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{edge}")
        el.set(qn("w:val"), "nil")
        borders.append(el)
    props.append(borders)


def _widths(table: Any, widths_cm: list[float]) -> None:
    """Column widths in the grid (LibreOffice reads these) and in every cell (Word)."""
    table.autofit = False
    for col, width in zip(table._tbl.tblGrid.gridCol_lst, widths_cm, strict=False):
        col.w = Cm(width)
    for row in table.rows:
        for cell, width in zip(row.cells, widths_cm, strict=False):
            cell.width = Cm(width)


def _repeat_header(row: Any) -> None:
    props = row._tr.get_or_add_trPr()
    el = OxmlElement("w:tblHeader")
    el.set(qn("w:val"), "true")
    props.append(el)


def _cant_split(row: Any) -> None:
    props = row._tr.get_or_add_trPr()
    el = OxmlElement("w:cantSplit")
    el.set(qn("w:val"), "true")
    props.append(el)


def _header(doc: Any, report: Report) -> None:
    issuer = report.issuer
    table = doc.add_table(rows=1, cols=2)
    _no_borders(table)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    _widths(table, [6.3, 10.2])
    left, right = table.rows[0].cells
    left.paragraphs[0]._p.getparent().remove(left.paragraphs[0]._p)
    right.paragraphs[0]._p.getparent().remove(right.paragraphs[0]._p)
    if issuer.superior:
        _para(left, issuer.superior, size=12)
    for line in issuer.name_lines:
        _para(left, line, size=12, bold=True)
    _short_rule(left, width_fraction=0.4)
    _para(left, f"Số: {report.number}", size=13, before=4)
    _para(right, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", size=12, bold=True)
    _para(right, "Độc lập - Tự do - Hạnh phúc", size=13, bold=True, underline=True)
    _para(right, report.place_date, size=13, italic=True, before=8)


def _page_numbers(doc: Any) -> None:
    """Page number at the top centre from the second page (NĐ 30/2020)."""
    section = doc.sections[0]
    section.different_first_page_header_footer = True
    p = section.header.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = _font(p.add_run(), size=13)
    for kind, text in (("begin", None), (None, "PAGE"), ("end", None)):
        if kind:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
        else:
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = text
        run._r.append(el)


def _table(doc: Any, table: Table) -> None:
    cols = table.printed_columns()
    _para(doc, table.title, size=12, bold=True, before=6, after=3)
    grid = doc.add_table(rows=1, cols=len(cols))
    grid.style = "Table Grid"
    grid.alignment = WD_TABLE_ALIGNMENT.CENTER
    total = sum(table.columns[i].width for i in cols)
    widths = [TEXT_WIDTH_CM * table.columns[i].width / total for i in cols]
    for cell, i in zip(grid.rows[0].cells, cols, strict=True):
        cell.paragraphs[0]._p.getparent().remove(cell.paragraphs[0]._p)
        _para(cell, table.columns[i].heading, size=TABLE_PT, bold=True)
    _repeat_header(grid.rows[0])
    for n, row in enumerate(table.rows):
        cells = grid.add_row().cells
        _cant_split(grid.rows[-1])
        for cell, i in zip(cells, cols, strict=True):
            column = table.columns[i]
            cell.paragraphs[0]._p.getparent().remove(cell.paragraphs[0]._p)
            text = shown(row[i], column.kind)
            left = column.kind == TEXT and column.width >= LEFT_FROM
            _para(
                cell,
                text,
                size=TABLE_PT,
                bold=n in table.emphasis,
                align=WD_ALIGN_PARAGRAPH.LEFT if left else WD_ALIGN_PARAGRAPH.CENTER,
            )
    if not table.rows:
        cells = grid.add_row().cells
        merged = cells[0].merge(cells[-1])
        merged.paragraphs[0]._p.getparent().remove(merged.paragraphs[0]._p)
        _para(merged, "Không có", size=TABLE_PT, italic=True)
    _widths(grid, widths)
    if table.note:
        _para(
            doc,
            table.note,
            size=11,
            italic=True,
            align=WD_ALIGN_PARAGRAPH.JUSTIFY,
            before=2,
            after=6,
        )


def _chart(doc: Any, chart: Chart) -> None:
    p = _para(doc, before=6)
    p.paragraph_format.keep_with_next = True
    p.add_run().add_picture(io.BytesIO(chart.png), width=Cm(min(chart.width_cm, TEXT_WIDTH_CM)))
    _para(doc, chart.title, size=12, italic=True, after=6)


def _signature(doc: Any, report: Report) -> None:
    issuer = report.issuer
    table = doc.add_table(rows=1, cols=2)
    _no_borders(table)
    _widths(table, [8.0, 8.5])
    left, right = table.rows[0].cells
    _cant_split(table.rows[0])
    left.paragraphs[0]._p.getparent().remove(left.paragraphs[0]._p)
    right.paragraphs[0]._p.getparent().remove(right.paragraphs[0]._p)
    _para(left, "Nơi nhận:", size=12, bold=True, italic=True, align=WD_ALIGN_PARAGRAPH.LEFT)
    for line in report.recipients:
        _para(left, f"- {line}", size=11, align=WD_ALIGN_PARAGRAPH.LEFT)
    if issuer.sign_on_behalf:
        _para(right, issuer.sign_on_behalf, size=13, bold=True)
    _para(right, issuer.sign_title, size=13, bold=True)
    for _ in range(4):
        _para(right, "", size=13)
    _para(right, issuer.signer, size=13, bold=True)


def render(report: Report) -> bytes:
    doc = Document()
    section = doc.sections[0]
    section.start_type = WD_SECTION.NEW_PAGE
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.top_margin = section.bottom_margin = Cm(2)
    section.left_margin, section.right_margin = Cm(3), Cm(1.5)
    section.header_distance = Cm(1)
    normal = doc.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(BODY_PT)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FONT)
    _page_numbers(doc)
    _header(doc, report)
    _para(doc, report.title, size=14, bold=True, before=14)
    _para(doc, report.subject, size=14, bold=True)
    _para(doc, report.data_window, size=13, italic=True, after=10)
    for s in report.sections:
        if s.heading:
            _para(
                doc,
                s.heading,
                size=BODY_PT,
                bold=True,
                align=WD_ALIGN_PARAGRAPH.JUSTIFY,
                before=8 if s.level == 1 else 4,
                after=4,
                indent_cm=1.0,
            ).paragraph_format.keep_with_next = True
        for item in s.items:
            if isinstance(item, Paragraph):
                if item.style == "note":
                    _para(
                        doc,
                        item.text,
                        size=12,
                        italic=True,
                        align=WD_ALIGN_PARAGRAPH.JUSTIFY,
                        after=6,
                        indent_cm=1.0,
                    )
                elif item.style == "bullet":
                    _para(
                        doc,
                        f"- {item.text}",
                        align=WD_ALIGN_PARAGRAPH.JUSTIFY,
                        after=3,
                        indent_cm=1.0,
                    )
                else:
                    _para(doc, item.text, align=WD_ALIGN_PARAGRAPH.JUSTIFY, after=6, indent_cm=1.0)
            elif isinstance(item, Table):
                if item.printed:
                    _table(doc, item)
            elif isinstance(item, Chart):
                _chart(doc, item)
    _para(doc, "", after=6)
    _signature(doc, report)
    _properties(doc, report)
    out = io.BytesIO()
    doc.save(out)
    return _stable_zip(out.getvalue())


def _properties(doc: Any, report: Report) -> None:
    # python-docx writes naive datetimes as UTC ("…Z")
    when = report.metadata_date.astimezone(dt.UTC).replace(tzinfo=None)
    props = doc.core_properties
    props.author = report.issuer.display_name
    props.last_modified_by = report.issuer.display_name
    props.title = f"{report.title} {report.subject}"
    props.subject = report.subject
    props.keywords = f"cải cách hành chính; {report.period_code}"
    props.comments = report.data_window
    props.category = "Báo cáo"
    props.created = when
    props.modified = when
    props.last_printed = when
    props.revision = 1


def _stable_zip(data: bytes) -> bytes:
    """The same package with every entry stamped `ZIP_TIME` (python-docx stamps the clock)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            entry = zipfile.ZipInfo(info.filename, ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = info.external_attr
            dst.writestr(entry, src.read(info.filename))
    return out.getvalue()
