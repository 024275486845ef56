"""Text helpers: composed Unicode, folding for search, money, multi-line reasons."""

import unicodedata

from cchc.vietnamese import fold, money, nfc, nfc_text


def test_nfc_composes_and_collapses_spaces():
    decomposed = unicodedata.normalize("NFD", "  Cấp   giấy phép ")
    assert nfc(decomposed) == "Cấp giấy phép"
    assert nfc(decomposed) == unicodedata.normalize("NFC", "Cấp giấy phép")


def test_nfc_text_keeps_line_breaks_of_a_reason():
    reason = "\n  Thiếu:  \n- bản sao   CCCD\n\n\n\n- tờ khai  \n"
    assert nfc_text(unicodedata.normalize("NFD", reason)) == "Thiếu:\n- bản sao CCCD\n\n- tờ khai"
    assert nfc_text("") == ""


def test_fold_and_money():
    assert fold("Cấp Giấy phép ĐĂNG ký") == "cap giay phep dang ky"
    assert money(1500000) == "1.500.000 đ"
    assert money(0, "đồng") == "0 đồng"
