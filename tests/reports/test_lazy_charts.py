"""The report's charts are drawn when a file that embeds them is rendered, once: a report
made only as XLSX draws none (benchmarks/report.py: drawing the three charts was about half
the CPU time of such a report)."""

from __future__ import annotations

import io

import pytest

from cchc.accounts.policy import SYSTEM
from cchc.reports import services, word, workbook
from tests.reports.conftest import AS_OF, ISSUE

pytestmark = pytest.mark.django_db
PNG = b"\x89PNG\r\n\x1a\n"


def test_the_workbook_draws_no_chart_the_word_file_draws_each_once(data):
    report = services.build(SYSTEM, period="2024-Q2", issuer="24", now=AS_OF, issue_date=ISSUE)
    charts = report.charts()
    assert [c.key for c in charts] == ["chi-tieu", "theo-cap", "chi-so-766"]
    assert workbook.render(report).startswith(b"PK")  # an XLSX (zip) file
    assert all(c._png is None for c in charts)  # nothing drawn for the workbook
    from docx import Document

    doc = Document(io.BytesIO(word.render(report)))
    drawn = [c._png for c in charts]
    assert all(png is not None and png.startswith(PNG) for png in drawn)
    embedded = sorted(r.target_part.blob for r in doc.part.rels.values() if "image" in r.reltype)
    assert embedded == sorted(drawn)  # the Word file carries exactly the drawn PNGs
    assert all(c.png is png for c, png in zip(charts, drawn, strict=True))  # drawn once
