"""Issue 17 (citizen): the portal carries the province's public-service portal name from
configuration — header and page title — while staff pages keep the system's own name."""

from __future__ import annotations

import re

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def _title(html: str) -> str:
    return re.search(r"<title>([^<]*)</title>", html).group(1)


def test_the_portal_is_named_after_the_province_of_the_organisation(portal, client):
    # The fixture's clock is in 2024: the province in force is Bắc Giang.
    html = client.get("/dich-vu-cong/").content.decode()
    assert "<strong>Cổng Dịch vụ công tỉnh Bắc Giang</strong>" in html
    assert _title(html).endswith("· Cổng Dịch vụ công tỉnh Bắc Giang")
    assert "Hệ thống CCHC" not in html
    assert 'href="/dich-vu-cong/"' in re.search(
        r'<div class="brand[^>]*>.*?</div>', html, re.S
    ).group(0)


def test_configured_names_win(portal, client, settings):
    settings.CCHC_PROVINCE_NAME = "tỉnh Bắc Ninh"
    html = client.get("/dich-vu-cong/tra-cuu/").content.decode()
    assert "<strong>Cổng Dịch vụ công tỉnh Bắc Ninh</strong>" in html
    assert _title(html) == "Tra cứu hồ sơ · Cổng Dịch vụ công tỉnh Bắc Ninh"
    settings.CCHC_PORTAL_NAME = "Cổng DVC Bắc Ninh"
    html = client.get("/dich-vu-cong/thu-tuc/").content.decode()
    assert "<strong>Cổng DVC Bắc Ninh</strong>" in html


def test_staff_pages_keep_the_system_name(portal):
    staff = Client()
    staff.force_login(portal.desk_officer)
    html = staff.get("/ho-so/").content.decode()
    assert "<strong>Hệ thống CCHC</strong>" in html
    assert "Cổng Dịch vụ công" not in _title(html)


def test_portal_name_costs_at_most_one_query_per_page(portal, client, django_assert_num_queries):
    from cchc.portal import branding

    with django_assert_num_queries(1):
        assert branding.portal_name() == "Cổng Dịch vụ công tỉnh Bắc Giang"


def test_settings_are_documented():
    from pathlib import Path

    from cchc.config import SETTINGS_DOC

    root = Path(__file__).resolve().parents[2]
    readme = (root / "README.md").read_text()
    example = (root / "deploy" / "cchc.env.example").read_text()
    for name in ("CCHC_PORTAL_NAME", "CCHC_PROVINCE_NAME"):
        assert name in SETTINGS_DOC and f"`{name}`" in readme and name in example
