"""One JSON error envelope for every API failure (shape pinned here)."""

from __future__ import annotations

import pytest

from cchc.accounts.roles import Role

pytestmark = pytest.mark.django_db


def assert_envelope(response, status, code):
    assert response.status_code == status
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]


def test_unauthenticated(client):
    assert_envelope(client.get("/api/org/agencies"), 401, "unauthenticated")


def test_forbidden(client, org, make_user):
    client.force_login(make_user(Role.CITIZEN))
    error = assert_envelope(client.get("/api/catalog/procedures"), 403, "forbidden")
    assert error["message"] == "Bạn không có quyền thực hiện thao tác này."


def test_not_found(client, org, make_user):
    client.force_login(make_user(Role.DESK_OFFICER, agency=org.justice))
    assert_envelope(client.get("/api/catalog/procedures/9.999"), 404, "not_found")


def test_schema_validation(client, org, make_user):
    client.force_login(make_user(Role.ADMINISTRATOR))
    error = assert_envelope(
        client.put("/api/catalog/procedures/1.1", {"name": "x"}, content_type="application/json"),
        422,
        "invalid",
    )
    assert error["details"]["errors"]


def test_domain_validation(client, org, make_user):
    client.force_login(make_user(Role.ADMINISTRATOR))
    payload = {
        "name": "Thủ tục thử",
        "field": "Hộ tịch",
        "levels": ["province"],
        "agency_type": "so-tu-phap",
        "processing_time": "-1",
    }
    error = assert_envelope(
        client.put("/api/catalog/procedures/1.1", payload, content_type="application/json"),
        400,
        "invalid",
    )
    assert "không được âm" in error["message"]


def test_put_creates_then_is_idempotent(client, org, make_user):
    client.force_login(make_user(Role.ADMINISTRATOR))
    payload = {
        "name": "Thủ tục thử",
        "field": "Hộ tịch",
        "levels": ["province"],
        "agency_type": "so-tu-phap",
        "processing_time": "2.5",
        "steps": [{"name": "Thụ lý", "budget": "20", "unit": "wh"}],
    }
    first = client.put("/api/catalog/procedures/1.1", payload, content_type="application/json")
    assert first.status_code == 200 and first.json()["outcome"] == "created"
    assert first.json()["procedure"]["duration"] == "2.5wd"
    again = client.put("/api/catalog/procedures/1.1", payload, content_type="application/json")
    assert again.json()["outcome"] == "unchanged"


def test_openapi_is_published(client, org, make_user):
    schema = client.get("/api/openapi.json").json()
    assert "/api/catalog/procedures/{code}" in schema["paths"]
    assert "/api/org/agencies" in schema["paths"]
