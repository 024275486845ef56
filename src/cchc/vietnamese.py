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


_DIGITS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")
# Scales of three digits under a billion; a billion (tỷ) repeats: nghìn tỷ, triệu tỷ, tỷ tỷ.
_SCALES = ("", "nghìn", "triệu")


def _three(n: int, *, full: bool, odd: str) -> list[str]:
    """Words of 0 < n < 1000. `full`: a group after a higher one, read with all its places
    ("không trăm", "lẻ") as accounting documents do: 1 005 000 = "một triệu không trăm lẻ
    năm nghìn"."""
    hundreds, tens, ones = n // 100, n // 10 % 10, n % 10
    words: list[str] = []
    if hundreds or full:
        words += [_DIGITS[hundreds], "trăm"]
    if tens == 0:
        if ones and words:
            words.append(odd)  # một trăm lẻ năm
        if ones:
            words.append(_DIGITS[ones])
        return words
    words += ["mười"] if tens == 1 else [_DIGITS[tens], "mươi"]
    if ones == 1:
        words.append("mốt" if tens > 1 else "một")  # hai mươi mốt, mười một
    elif ones == 4:
        words.append("tư" if tens > 1 else "bốn")  # hai mươi tư, mười bốn
    elif ones == 5:
        words.append("lăm")  # mười lăm, hai mươi lăm
    elif ones:
        words.append(_DIGITS[ones])
    return words


def _below_billion(n: int, *, full: bool, odd: str) -> list[str]:
    words: list[str] = []
    groups = [n // 1_000_000, n // 1000 % 1000, n % 1000]
    for index, group in enumerate(groups):
        scale = _SCALES[2 - index]
        if group == 0:
            continue
        words += _three(group, full=full or bool(words), odd=odd)
        if scale:
            words.append(scale)
    return words


def number_words(n: int, *, odd: str = "lẻ") -> str:
    """A whole number in Vietnamese words, lower case: 0 → "không", 15 → "mười lăm",
    21 → "hai mươi mốt", 24 → "hai mươi tư", 105 → "một trăm lẻ năm" (`odd="linh"` for the
    northern "một trăm linh năm"), 1 000 000 000 → "một tỷ", 10¹² → "một nghìn tỷ".
    Raises ValueError for a negative number."""
    if n < 0:
        raise ValueError("number_words: negative numbers are not read")
    if n == 0:
        return _DIGITS[0]

    def read(value: int, full: bool) -> list[str]:
        billions, rest = divmod(value, 1_000_000_000)
        words: list[str] = []
        if billions:
            words += [*read(billions, full), "tỷ"]
        if rest:
            words += _below_billion(rest, full=full or bool(words), odd=odd)
        return words

    return " ".join(read(n, False))


def money_words(amount: int, *, odd: str = "lẻ") -> str:
    """An amount in đồng as written on receipts ("Số tiền bằng chữ"): capitalised, with
    "đồng", and "chẵn" when it is a round number of thousands: 200 000 → "Hai trăm nghìn
    đồng chẵn"; 1 500 → "Một nghìn năm trăm đồng"."""
    text = number_words(int(amount), odd=odd) + " đồng"
    if amount and amount % 1000 == 0:
        text += " chẵn"
    return text[0].upper() + text[1:]
