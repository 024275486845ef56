"""Issue 17 (citizen): an empty tracking form asks for the code instead of answering "not
found", and is not counted by the rate limit."""

from __future__ import annotations

import pytest

from tests.portal.conftest import submitted

pytestmark = pytest.mark.django_db
URL = "/dich-vu-cong/tra-cuu/"


def test_empty_form_asks_for_the_code(portal, client):
    response = client.post(URL, {"code": "  ", "factor": ""})
    text = response.content.decode()
    assert response.status_code == 400
    assert "Nhập mã hồ sơ để tra cứu" in text
    assert "Không tìm thấy" not in text
    assert 'aria-invalid="true" aria-describedby="code-err"' in text


def test_code_without_phone_asks_for_the_phone_and_keeps_the_code(portal, client):
    response = client.post(URL, {"code": "000.00.30.H06-240603-0001", "factor": ""})
    text = response.content.decode()
    assert response.status_code == 400
    assert "Nhập số điện thoại hoặc số định danh" in text
    assert 'value="000.00.30.H06-240603-0001"' in text
    assert "Không tìm thấy" not in text


def test_empty_queries_are_not_counted_by_the_rate_limit(portal, client, settings):
    settings.PORTAL_LOOKUP_LIMIT = 2
    dossier = submitted(portal)
    for _ in range(5):
        assert client.post(URL, {"code": "", "factor": ""}).status_code == 400
        assert client.post(URL, {"code": dossier.code, "factor": " "}).status_code == 400
    found = client.post(URL, {"code": dossier.code, "factor": "0912345678"})
    assert found.status_code == 200
    assert "đang chờ bộ phận một cửa kiểm tra" in found.content.decode()


def test_the_service_refuses_an_incomplete_lookup_without_counting_it(portal, settings):
    from cchc.errors import InvalidInput
    from cchc.portal import services

    settings.PORTAL_LOOKUP_LIMIT = 1
    dossier = submitted(portal)
    for _ in range(3):
        with pytest.raises(InvalidInput, match="Nhập mã hồ sơ để tra cứu"):
            services.lookup(" ", "0912345678", address="9.9.9.9")
    assert services.lookup(dossier.code, "0912345678", address="9.9.9.9").pk == dossier.pk
