"""The visible signature stamp (issue 21 leftovers): a box on the last page that says who
signed, for which agency, and when, in Vietnamese — for a reader who never opens the
signature panel of a PDF viewer.

    Ký bởi: <CN of the signer certificate>
    Cơ quan: <O of the signer certificate>
    Thời gian ký: dd/mm/yyyy HH:MM   (Vietnam time, UTC+7)

Turned on per profile (`"stamp": true` in CCHC_SIGNING, docs/signing.md); the text is set
in an embedded subset of an OpenType/TrueType font (`stamp_font`, default Noto Sans from
Debian's fonts-noto-core) so that Vietnamese letters never render as boxes.

Where: in the bottom margin of the last page, right-aligned. The printed forms
(dossiers/documents) keep a 15 mm bottom margin with nothing in it, put their QR code in
the left (binding) margin of the FIRST page and page numbers at the top, so the box covers
neither text nor the QR code. The box stays inside the lowest 14 mm of the page.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pyhanko.pdf_utils.font.opentype import GlyphAccumulatorFactory
from pyhanko.pdf_utils.generic import ArrayObject
from pyhanko.pdf_utils.layout import AxisAlignment, InnerScaling, Margins, SimpleBoxLayoutRule
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.stamp import TextStampStyle

from cchc.signing.errors import SigningError

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
MM = 72 / 25.4
STAMP_TEXT = "Ký bởi: %(ky_boi)s\nCơ quan: %(co_quan)s\nThời gian ký: %(thoi_gian)s"
# Box size in points: 85 mm wide, 11.5 mm high, 3 mm above the bottom edge, 15 mm from the
# right edge (the forms' right margin): 3 lines of 7 pt text; a longer name is shrunk to fit.
WIDTH, HEIGHT, BOTTOM, RIGHT = 85 * MM, 11.5 * MM, 3 * MM, 15 * MM
A4 = (0.0, 0.0, 595.28, 841.89)


def _media_box(reader: PdfFileReader, page_ix: int) -> tuple[float, float, float, float]:
    """The last page's MediaBox (inherited from the page tree when the page has none)."""
    try:
        page_ref, _resources = reader.find_page_for_modification(page_ix)
        node: Any = page_ref.get_object()
        while node is not None:
            box = node.get("/MediaBox")
            if box is not None:
                if isinstance(box, ArrayObject) and len(box) == 4:
                    x0, y0, x1, y1 = (float(v) for v in box)
                    return min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)
                break
            parent = node.get("/Parent")
            node = parent.get_object() if parent is not None else None
    except (AttributeError, KeyError, IndexError, TypeError, ValueError):
        pass
    return A4


def stamp_box(reader: PdfFileReader) -> tuple[int, int, int, int]:
    """(x1, y1, x2, y2) of the stamp on the last page, in that page's user space."""
    x0, y0, x1, _y1 = _media_box(reader, -1)
    right = x1 - RIGHT
    left = max(x0 + 2 * MM, right - WIDTH)
    return (round(left), round(y0 + BOTTOM), round(right), round(y0 + BOTTOM + HEIGHT))


def stamp_style(font_path: str, profile: str) -> TextStampStyle:
    """The stamp's style: a thin border, three lines in the embedded font."""
    path = Path(font_path)
    if not path.is_file():
        raise SigningError(
            f"Hồ sơ ký {profile!r}: không có tệp phông chữ {path} cho dấu chữ ký hiển thị "
            "(cài gói fonts-noto-core hoặc đặt stamp_font).",
            code="signing_config",
        )
    return TextStampStyle(
        stamp_text=STAMP_TEXT,
        border_width=1,
        inner_content_layout=SimpleBoxLayoutRule(
            x_align=AxisAlignment.ALIGN_MIN,
            y_align=AxisAlignment.ALIGN_MID,
            margins=Margins(4, 2, 2, 2),
            inner_content_scaling=InnerScaling.SHRINK_TO_FIT,
        ),
        text_box_style=TextBoxStyle(
            font=GlyphAccumulatorFactory(str(path)),
            font_size=7,
            leading=9,
            box_layout_rule=SimpleBoxLayoutRule(
                x_align=AxisAlignment.ALIGN_MIN,
                y_align=AxisAlignment.ALIGN_MID,
                margins=Margins(0, 0, 0, 0),
            ),
        ),
    )


def stamp_params(signing_cert: Any, when: dt.datetime) -> dict[str, str]:
    """The stamp's three values: the certificate subject's CN and O, the local time."""
    subject: dict[str, Any] = {}
    with contextlib.suppress(AttributeError, TypeError, ValueError):
        subject = dict(signing_cert.subject.native)

    def first(key: str) -> str:
        value = subject.get(key, "")
        if isinstance(value, list | tuple):
            value = ", ".join(str(v) for v in value)
        return str(value or "").strip() or "—"

    return {
        "ky_boi": first("common_name"),
        "co_quan": first("organization_name"),
        "thoi_gian": f"{when.astimezone(VIETNAM):%d/%m/%Y %H:%M}",
    }
