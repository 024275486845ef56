"""The visible signature stamp (issue 21 leftovers, item 2): a real receipt form issued and
signed by the worker with `"stamp": true`; the stamp's text is read back from the PDF (the
widget's appearance stream decoded through the embedded font's ToUnicode map: Vietnamese
letters, no .notdef glyph), the page is rendered with pdftoppm and compared pixel by pixel
with the unsigned page (the stamp changes only its own box, which was blank: no text and no
QR code covered), and the signature still validates. Off by default, refused when the font
file is missing."""

# ruff: noqa: F811  (the signing tests' fixtures, imported below, are parameters here)
from __future__ import annotations

import re
import shutil
import subprocess
from io import BytesIO
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fontTools.ttLib import TTFont
from PIL import Image
from pyhanko.pdf_utils.generic import ArrayObject, DictionaryObject, StreamObject
from pyhanko.pdf_utils.reader import PdfFileReader

from cchc.dossiers import issued, signing_jobs
from cchc.dossiers.documents.forms import issued_form
from cchc.dossiers.models import IssuedDocument, SignState
from cchc.signing import SigningError, sign_pdf, verify_pdf
from cchc.signing.appearance import MM
from cchc.signing.profiles import DEFAULT_STAMP_FONT, parse_config
from tests.dossiers.conftest import at
from tests.signing.conftest import (  # noqa: F401  # fixtures of the signing tests
    desk_p12,
    pki,
    signing_config,
)
from tests.signing.pki import Pki

pytestmark = pytest.mark.django_db

DPI = 100


@pytest.fixture(autouse=True)
def _files(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "files"
    settings.CCHC_SITE_URL = "https://dichvucong.example.gov.vn"


@pytest.fixture
def stamped(settings: Any, pki: Pki, desk_p12: str) -> dict[str, Any]:
    config = signing_config(pki, desk_p12)
    config["profiles"]["desk"]["stamp"] = True
    settings.CCHC_SIGNING = config
    settings.CCHC_SIGNING_TRUST_ROOTS = [str(pki.files["root.pem"])]
    return config


def receipt(world: Any) -> IssuedDocument:
    d = world.intake(at=at("2024-06-07", "15:30"))
    return issued_form(d, "receipt", actor=world.desk_officer)


# -- reading the stamp back -------------------------------------------------------------------


def _to_unicode(font: DictionaryObject) -> dict[int, str]:
    cmap = font["/ToUnicode"].data.decode("latin-1")
    out: dict[int, str] = {}
    for block in re.findall(r"beginbfchar(.*?)endbfchar", cmap, re.S):
        for src, dst in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            out[int(src, 16)] = bytes.fromhex(dst).decode("utf-16-be")
    for block in re.findall(r"beginbfrange(.*?)endbfrange", cmap, re.S):
        for lo, hi, dst in re.findall(
            r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*(<[0-9A-Fa-f]+>|\[[^\]]*\])", block
        ):
            codes = range(int(lo, 16), int(hi, 16) + 1)
            if dst.startswith("["):  # one destination per code
                targets = re.findall(r"<([0-9A-Fa-f]+)>", dst)
                for code, target in zip(codes, targets, strict=True):
                    out[code] = bytes.fromhex(target).decode("utf-16-be")
            else:  # consecutive destinations
                start = bytes.fromhex(dst[1:-1]).decode("utf-16-be")
                for i, code in enumerate(codes):
                    out[code] = start[:-1] + chr(ord(start[-1]) + i)
    return out


def _text_of(xobject: StreamObject, codes: list[int], names: list[str]) -> list[str]:
    """The lines a form XObject shows (nested XObjects followed), decoded by its fonts."""
    lines: list[str] = []
    resources = xobject.get("/Resources") or DictionaryObject()
    fonts = resources.get("/Font") or DictionaryObject()
    names.extend(str(fonts[name]["/BaseFont"]) for name in fonts)
    maps = {name: _to_unicode(fonts[name]) for name in fonts}
    content = xobject.data.decode("latin-1")
    current: dict[int, str] = {}
    for token in re.finditer(
        r"(/[\w.+-]+)\s+[\d.]+\s+Tf|(<[0-9A-Fa-f]*>\s*Tj|\[[^\]]*\]\s*TJ)|(/[\w.+-]+)\s+Do",
        content,
    ):
        if token.group(1):
            current = maps.get(token.group(1), {})
        elif token.group(2) is not None:
            gids = []
            for part in re.findall(r"<([0-9A-Fa-f]*)>", token.group(2)):
                raw = bytes.fromhex(part)
                gids += [int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw), 2)]
            codes.extend(gids)
            lines.append("".join(current.get(g, "\ufffd") for g in gids))
        else:
            inner = (resources.get("/XObject") or DictionaryObject())[token.group(3)]
            lines.extend(_text_of(inner, codes, names))
    return lines


def stamp_of(data: bytes) -> tuple[list[str], list[int], list[float], int, str]:
    """(lines, glyph codes, /Rect, page index, embedded font name) of the signature widget."""
    reader = PdfFileReader(BytesIO(data))
    pages = reader.root["/Pages"]
    count = int(pages["/Count"])
    for ix in range(count):
        page_ref, _ = reader.find_page_for_modification(ix)
        page = page_ref.get_object()
        for annot in page.get("/Annots", ArrayObject()):
            annot = annot.get_object()
            if str(annot.get("/T", "")).startswith("ChuKySo_"):
                rect = [float(v) for v in annot["/Rect"]]
                ap = annot["/AP"]["/N"]
                codes: list[int] = []
                names: list[str] = []
                lines = _text_of(ap, codes, names)
                return lines, codes, rect, ix, " ".join(names)
    raise AssertionError("no signature widget")


def render(data: bytes, tmp_path: Path, name: str) -> np.ndarray:
    src = tmp_path / f"{name}.pdf"
    src.write_bytes(data)
    subprocess.run(
        ["pdftoppm", "-r", str(DPI), "-l", "99", "-gray", "-png", str(src), str(tmp_path / name)],
        check=True,
        timeout=60,
    )
    pngs = sorted(tmp_path.glob(f"{name}-*.png"))
    return np.asarray(Image.open(pngs[-1]).convert("L"))  # the last page


# -- the tests --------------------------------------------------------------------------------


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils (pdftoppm) needed")
def test_the_signed_receipt_shows_the_stamp_in_vietnamese_without_covering_anything(
    world: Any, stamped: dict[str, Any], pki: Pki, tmp_path: Path
) -> None:
    doc = receipt(world)
    unsigned = issued.content(doc)
    assert signing_jobs.sign_document(doc.pk) == signing_jobs.SIGNED
    doc.refresh_from_db()
    assert doc.signed == SignState.SIGNED
    signed = issued.content(doc)
    (sig,) = verify_pdf(signed).signatures
    assert sig.verdict == "valid"
    lines, codes, rect, page_ix, font = stamp_of(signed)
    assert lines[0] == "Ký bởi: Bộ phận Một cửa Thử Nghiệm"
    assert lines[1] == "Cơ quan: Tỉnh Thử Nghiệm"
    assert re.fullmatch(r"Thời gian ký: \d\d/\d\d/\d{4} \d\d:\d\d", lines[2])
    # Vietnam time (UTC+7) of the signing.
    from django.utils import timezone

    assert doc.signed_at is not None
    local = timezone.localtime(doc.signed_at).strftime("%d/%m/%Y")
    assert lines[2].startswith(f"Thời gian ký: {local}")
    # No tofu: every glyph drawn exists in the embedded font (never gid 0, .notdef), and the
    # font has every letter of the text.
    assert codes and 0 not in codes and "NotoSans" in font
    cmap = TTFont(DEFAULT_STAMP_FONT).getBestCmap()
    assert all(ord(c) in cmap for line in lines for c in line)
    # On the last page, inside the bottom margin (15 mm), right of the binding margin.
    reader = PdfFileReader(BytesIO(signed))
    assert page_ix == int(reader.root["/Pages"]["/Count"]) - 1
    assert rect[1] >= 2 * MM and rect[3] <= 15 * MM and rect[0] > 25 * MM
    # Rendered: the stamp's box was blank before signing and has ink now; nothing else moved.
    before = render(unsigned, tmp_path, "before")
    after = render(signed, tmp_path, "after")
    assert before.shape == after.shape
    height = before.shape[0]
    scale = DPI / 72
    x0, x1 = int(rect[0] * scale) - 2, int(rect[2] * scale) + 2
    y0, y1 = height - int(rect[3] * scale) - 2, height - int(rect[1] * scale) + 2
    box_before = before[y0:y1, x0:x1]
    box_after = after[y0:y1, x0:x1]
    assert (box_before > 250).all()  # nothing was there: no text, no QR code
    assert (box_after < 128).sum() > 300  # border and three lines of text
    outside = np.abs(before.astype(int) - after.astype(int))
    outside[y0:y1, x0:x1] = 0
    assert outside.max() == 0  # the rest of the page is unchanged
    # The QR code (page 1, left margin) is still there, untouched: its region has ink.
    first = np.asarray(Image.open(sorted(tmp_path.glob("after-*.png"))[0]).convert("L"))
    assert (first[: int(50 * MM * scale), : int(25 * MM * scale)] < 128).sum() > 500


def test_without_stamp_the_signature_is_invisible(
    world: Any, settings: Any, pki: Pki, desk_p12: str
) -> None:
    settings.CCHC_SIGNING = signing_config(pki, desk_p12)
    settings.CCHC_SIGNING_TRUST_ROOTS = [str(pki.files["root.pem"])]
    doc = receipt(world)
    signed = sign_pdf(issued.content(doc), profile="desk", purpose="receipt")
    reader = PdfFileReader(BytesIO(signed))
    (sig,) = reader.embedded_regular_signatures
    widget = sig.sig_field
    rect = [float(v) for v in widget.get("/Rect", [0, 0, 0, 0])]
    assert rect[2] - rect[0] == 0 and rect[3] - rect[1] == 0


def test_a_missing_stamp_font_is_a_configuration_error(
    world: Any, settings: Any, pki: Pki, desk_p12: str, tmp_path: Path
) -> None:
    config = signing_config(pki, desk_p12)
    config["profiles"]["desk"].update(stamp=True, stamp_font=str(tmp_path / "khong-co.ttf"))
    settings.CCHC_SIGNING = config
    doc = receipt(world)
    with pytest.raises(SigningError) as caught:
        sign_pdf(issued.content(doc), profile="desk")
    assert "không có tệp phông chữ" in caught.value.message and caught.value.code == (
        "signing_config"
    )
    # The worker stops at once (a configuration error) and says why.
    assert signing_jobs.sign_document(doc.pk) == signing_jobs.STOPPED
    doc.refresh_from_db()
    assert "phông chữ" in doc.sign_error


@pytest.mark.parametrize(
    ("spec", "message"),
    [({"stamp": "yes"}, "stamp phải là true hoặc false"), ({"stamp_font": ""}, "stamp_font")],
)
def test_stamp_settings_are_checked(spec: dict[str, Any], message: str) -> None:
    raw = {"profiles": {"desk": {"backend": "pkcs12", "path": "/x.p12", **spec}}}
    with pytest.raises(SigningError) as caught:
        parse_config(raw)
    assert message in caught.value.message
    assert (
        parse_config({"profiles": {"desk": {"backend": "pkcs12", "path": "/x"}}})
        .profile("desk")
        .stamp
        is False
    )
