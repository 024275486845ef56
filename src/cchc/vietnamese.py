"""Vietnamese text handling: Unicode normalisation and diacritic-insensitive folding."""

from __future__ import annotations

import unicodedata

WEEKDAYS = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật")


def nfc(text: str) -> str:
    """Composed form (NFC) with outer white space removed and inner runs collapsed."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def nfc_text(text: str) -> str:
    """Like `nfc` for multi-line text (reasons, answers): each line's spaces are collapsed,
    line breaks are kept (at most one blank line in a row), outer blank lines removed."""
    lines = [nfc(line) for line in unicodedata.normalize("NFC", text).splitlines()]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip("\n")


def _fold_slow(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    stripped = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return " ".join(stripped.lower().split())


# Every precomposed Latin letter (Vietnamese ones included) -> its folded ASCII form, so
# that composed text folds with one C-level `str.translate` instead of a loop per character.
_FOLD_TABLE = {
    code: _fold_slow(chr(code))
    for code in range(0xC0, 0x1EFA)
    if _fold_slow(chr(code)).isascii() and _fold_slow(chr(code)).isalpha()
}


def fold(text: str) -> str:
    """Lower-case ASCII-ish form for search: 'Cấp giấy phép' -> 'cap giay phep'."""
    quick = text.translate(_FOLD_TABLE)
    if quick.isascii():
        return " ".join(quick.lower().split())
    return _fold_slow(text)  # decomposed marks or other scripts


def money(amount: int, unit: str = "đ") -> str:
    """Integer đồng with Vietnamese thousands separators: 1500000 -> '1.500.000 đ' (printed
    forms spell the unit out: `unit="đồng"`)."""
    return f"{int(amount):,}".replace(",", ".") + f" {unit}"
