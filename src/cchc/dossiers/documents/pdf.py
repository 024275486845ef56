"""HTML → PDF for printed forms (WeasyPrint), with the serif font embedded.

The font is named explicitly by file so that every PDF carries it (a subset) and prints the
same everywhere, whatever fonts the reader's machine has. Debian's `fonts-noto-core`
provides it; without the files rendering stops with `FontsMissing` rather than silently
falling back to another font.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.template.loader import render_to_string

FONT_DIR = Path("/usr/share/fonts/truetype/noto")
FONT_FAMILY = "CCHC NotoSerif"  # not a system family name, so only the @font-face files match
# (weight, style) -> file name in FONT_DIR
FONT_FILES = {
    ("normal", "normal"): "NotoSerif-Regular.ttf",
    ("bold", "normal"): "NotoSerif-Bold.ttf",
    ("normal", "italic"): "NotoSerif-Italic.ttf",
    ("bold", "italic"): "NotoSerif-BoldItalic.ttf",
}


class FontsMissing(RuntimeError):
    """The serif font the forms embed is not installed (a deployment error, not the user's)."""


def font_faces(font_dir: Path | None = None) -> list[dict[str, str]]:
    """The @font-face rules' data; raises FontsMissing naming every missing file."""
    folder = Path(font_dir or FONT_DIR)
    faces, missing = [], []
    for (weight, style), name in FONT_FILES.items():
        path = folder / name
        if not path.is_file():
            missing.append(str(path))
            continue
        faces.append({"weight": weight, "style": style, "url": path.resolve().as_uri()})
    if missing:
        raise FontsMissing(
            "Không in được biểu mẫu: thiếu phông chữ Noto Serif (" + ", ".join(missing) + "). "
            "Cài gói fonts-noto-core (apt-get install fonts-noto-core). / "
            "Missing the Noto Serif font files; install Debian's fonts-noto-core."
        )
    return faces


def render_html(template: str, context: dict[str, Any]) -> str:
    """The form's HTML (fonts checked first, so a preview fails the same way as the PDF)."""
    return render_to_string(
        template, {**context, "font_family": FONT_FAMILY, "font_faces": font_faces()}
    )


def html_to_pdf(html: str) -> bytes:
    """PDF bytes of `html` (A4 comes from the stylesheet)."""
    from weasyprint import HTML  # imported late: it loads Pango, ~0.3 s

    return HTML(string=html, base_url=str(FONT_DIR)).write_pdf()
