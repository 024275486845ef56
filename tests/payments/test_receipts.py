"""Receipts (issue 17, item 7): the amount in Vietnamese words (`cchc.vietnamese`), the
receipt's form number (mẫu số) and series (ký hiệu) from configuration, printed on the PDF."""

from __future__ import annotations

import itertools
import shutil
import subprocess

import pytest
from django.core.exceptions import ImproperlyConfigured
from hypothesis import given
from hypothesis import strategies as st

from cchc.config import build
from cchc.payments import services
from cchc.vietnamese import money_words, number_words

WORDS = {
    0: "không",
    1: "một",
    5: "năm",
    10: "mười",
    11: "mười một",
    14: "mười bốn",
    15: "mười lăm",
    20: "hai mươi",
    21: "hai mươi mốt",
    24: "hai mươi tư",
    25: "hai mươi lăm",
    55: "năm mươi lăm",
    101: "một trăm lẻ một",
    104: "một trăm lẻ bốn",
    105: "một trăm lẻ năm",
    110: "một trăm mười",
    115: "một trăm mười lăm",
    1_001: "một nghìn không trăm lẻ một",
    1_010: "một nghìn không trăm mười",
    1_105: "một nghìn một trăm lẻ năm",
    21_000: "hai mươi mốt nghìn",
    75_000: "bảy mươi lăm nghìn",
    200_000: "hai trăm nghìn",
    1_000_005: "một triệu không trăm lẻ năm",
    1_005_000: "một triệu không trăm lẻ năm nghìn",
    1_500_000: "một triệu năm trăm nghìn",
    105_000_000: "một trăm lẻ năm triệu",
    1_000_000_000: "một tỷ",
    2_000_050_000: "hai tỷ không trăm năm mươi nghìn",
    1_000_000_000_000: "một nghìn tỷ",
    1_234_567_891_011: "một nghìn hai trăm ba mươi tư tỷ năm trăm sáu mươi bảy triệu tám trăm "
    "chín mươi mốt nghìn không trăm mười một",
}


@pytest.mark.parametrize(("n", "words"), sorted(WORDS.items()))
def test_number_words_table(n, words):
    assert number_words(n) == words


def test_linh_for_northern_usage_and_money_words():
    assert number_words(105, odd="linh") == "một trăm linh năm"
    assert money_words(200_000) == "Hai trăm nghìn đồng chẵn"
    assert money_words(1_500) == "Một nghìn năm trăm đồng"
    assert money_words(75_000) == "Bảy mươi lăm nghìn đồng chẵn"
    with pytest.raises(ValueError):
        number_words(-1)


DIGIT = {
    "không": 0, "một": 1, "mốt": 1, "hai": 2, "ba": 3, "bốn": 4, "tư": 4, "năm": 5, "lăm": 5,
    "sáu": 6, "bảy": 7, "tám": 8, "chín": 9,
}  # fmt: skip


def parse(words: list[str]) -> int:
    """An independent reader of the words back to a number (for the round trip)."""
    if "tỷ" in words:
        last = len(words) - 1 - words[::-1].index("tỷ")
        return parse(words[:last]) * 10**9 + parse(words[last + 1 :])
    for scale, value in (("triệu", 10**6), ("nghìn", 10**3)):
        if scale in words:
            at = words.index(scale)
            return parse(words[:at]) * value + parse(words[at + 1 :])
    total = digit = 0
    for word in words:
        if word == "trăm":
            total += digit * 100
            digit = 0
        elif word == "mươi":
            total += digit * 10
            digit = 0
        elif word == "mười":
            total += 10
        elif word == "lẻ":
            continue
        else:
            digit = DIGIT[word]
    return total + digit


@given(st.integers(min_value=0, max_value=10**15))
def test_words_read_back_to_the_number(n):
    words = number_words(n)
    assert parse(words.split()) == n
    assert "  " not in words and words == words.strip()
    # "mốt" and "tư" only after "mươi", "lăm" only after a ten, "lẻ" only after "trăm".
    tokens = words.split()
    for before, word in itertools.pairwise(tokens):
        if word in ("mốt", "tư"):
            assert before == "mươi"
        if word == "lăm":
            assert before in ("mười", "mươi")
        if word == "lẻ":
            assert before == "trăm"


@given(st.integers(min_value=1, max_value=10**13))
def test_money_words_are_capitalised_and_say_dong(amount):
    text = money_words(amount)
    assert text[0].isupper() and " đồng" in text
    assert text.endswith("chẵn") == (amount % 1000 == 0)


def test_form_and_series_settings():
    s = build({"DEBUG": "true"})
    assert (s["CCHC_RECEIPT_FORM"], s["CCHC_RECEIPT_SERIES"]) == ("01BLP0-001", "AA-{yy}E")
    s = build(
        {"DEBUG": "true", "CCHC_RECEIPT_FORM": "02BLP0-001", "CCHC_RECEIPT_SERIES": "BN/{yyyy}E"}
    )
    assert (s["CCHC_RECEIPT_FORM"], s["CCHC_RECEIPT_SERIES"]) == ("02BLP0-001", "BN/{yyyy}E")
    assert build({"DEBUG": "true"})["CCHC_FEES_BEFORE_RESULT"] is True
    assert (
        build({"DEBUG": "true", "CCHC_FEES_BEFORE_RESULT": "false"})["CCHC_FEES_BEFORE_RESULT"]
        is False
    )
    with pytest.raises(ImproperlyConfigured, match="yy"):
        build({"DEBUG": "true", "CCHC_RECEIPT_SERIES": "AA-{nam}E"})
    with pytest.raises(ImproperlyConfigured, match="20"):
        build({"DEBUG": "true", "CCHC_RECEIPT_SERIES": "X" * 21})


@pytest.mark.django_db
def test_a_receipt_keeps_the_form_and_series_it_was_issued_with(pay, settings):
    settings.CCHC_RECEIPT_SERIES = "BN/{yyyy}E"
    receipt = services.record_cash(pay.w.desk_officer, pay.desk_dossier, 150_000)
    year = receipt.issued_at.year
    assert (receipt.form_number, receipt.series) == ("01BLP0-001", f"BN/{year}E")
    settings.CCHC_RECEIPT_SERIES = "CC-{yy}E"
    receipt.refresh_from_db()
    assert receipt.series == f"BN/{year}E"


@pytest.mark.django_db
@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils (pdftotext)")
def test_the_printed_receipt_has_words_form_and_series(client, pay, tmp_path):
    receipt = services.record_cash(pay.w.desk_officer, pay.desk_dossier, 200_000)
    client.force_login(pay.w.desk_officer)
    response = client.get(f"/thanh-toan/bien-lai/{receipt.number}/")
    assert response.status_code == 200
    path = tmp_path / "receipt.pdf"
    path.write_bytes(response.content)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout
    flat = " ".join(text.split())
    yy = receipt.issued_at.year % 100
    assert "Số tiền bằng chữ: Hai trăm nghìn đồng chẵn." in flat
    assert "Mẫu số: 01BLP0-001" in flat and f"Ký hiệu: AA-{yy:02d}E" in flat
    assert f"Số: {receipt.number}" in flat
