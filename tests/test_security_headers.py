"""Content-Security-Policy and Permissions-Policy on every response the application renders
(pages, API, API docs, admin, error pages, PDFs), scripts only by source or nonce, and the
access rule of the API documentation (CCHC_API_DOCS)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.http import HttpRequest
from django.test import Client
from django.urls import include, path

from cchc.accounts.roles import Role
from tests.dossiers.conftest import world  # noqa: F401 - fixture re-exported

pytestmark = pytest.mark.django_db

SRC = Path(__file__).resolve().parents[1] / "src" / "cchc"


def boom(request: HttpRequest):
    raise RuntimeError("a bug")


# This module doubles as a URLconf (pytest.mark.urls) adding a view that fails with a 500.
urlpatterns = [path("loi-thu/", boom), path("", include("cchc.urls"))]
handler404 = "cchc.web.views.error_404"
handler500 = "cchc.web.views.error_500"


def directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {
        part.split()[0]: part.split()[1:] for part in (p.strip() for p in header.split(";")) if part
    }


def assert_policies(response) -> None:
    """Both headers present; scripts restricted to our origin and the nonce."""
    assert "Content-Security-Policy" in response, response.request["PATH_INFO"]
    csp = directives(response)
    script_src = csp["script-src"]
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    assert set(script_src) <= {"'self'"} | {s for s in script_src if s.startswith("'nonce-")}
    assert csp["default-src"] == ["'self'"] and csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"] and csp["base-uri"] == ["'self'"]
    assert csp["form-action"][0] == "'self'"
    policy = response["Permissions-Policy"]
    for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
        assert f"{feature}=()" in policy


def assert_no_inline_code(response) -> None:
    """Every <script> is loaded from a file or carries this response's nonce; every <style>
    carries the nonce; no inline event handler or javascript: URL."""
    html = response.content.decode()
    nonces = {s[len("'nonce-") : -1] for s in directives(response).get("script-src", [])}
    nonces.discard("")
    for tag in re.findall(r"<script\b[^>]*>", html):
        if "src=" in tag:
            continue
        if 'type="application/json"' in tag:  # data, never executed
            continue
        match = re.search(r'nonce="([^"]+)"', tag)
        assert match and match[1] in nonces, tag
    style_nonces = {s[len("'nonce-") : -1] for s in directives(response).get("style-src", [])}
    for tag in re.findall(r"<style\b[^>]*>", html):
        match = re.search(r'nonce="([^"]+)"', tag)
        assert match and match[1] in style_nonces, tag
    assert not re.search(r"<[^>]+\son[a-z]+\s*=", html), "inline event handler"
    assert "javascript:" not in html.lower()


def test_every_kind_of_response_carries_both_policies(
    client,
    world,  # noqa: F811
    make_user,
    settings,
):
    settings.CCHC_2FA_REQUIRED_ROLES = ()  # the admin pages are under test here, not 2FA
    anonymous = Client()
    responses = {
        "login page": anonymous.get("/dang-nhap/"),
        "citizen portal": anonymous.get("/dich-vu-cong/"),
        "PAKN page with a <style>": anonymous.get("/dich-vu-cong/phan-anh/"),
        "API 401": anonymous.get("/api/dossiers/"),
        "API docs": anonymous.get("/api/docs"),
        "OpenAPI schema": anonymous.get("/api/openapi.json"),
        "404": anonymous.get("/khong-co-trang-nay/"),
    }
    client.force_login(world.desk_officer)
    dossier = world.intake()
    responses["home"] = client.get("/")
    responses["dossier page"] = client.get(f"/ho-so/{dossier.code}/")
    responses["PDF form"] = client.get(f"/ho-so/{dossier.code}/bieu-mau/receipt/")
    responses["403"] = client.get("/nhat-ky/")
    admin = Client()
    admin.force_login(make_user(Role.ADMINISTRATOR))
    responses["admin"] = admin.get("/admin/")
    responses["admin change list"] = admin.get("/admin/org/agency/")
    statuses = {name: r.status_code for name, r in responses.items()}
    assert statuses == {
        "login page": 200,
        "citizen portal": 200,
        "PAKN page with a <style>": 200,
        "API 401": 401,
        "API docs": 200,
        "OpenAPI schema": 200,
        "admin": 200,
        "admin change list": 200,
        "404": 404,
        "home": 200,
        "dossier page": 200,
        "PDF form": 200,
        "403": 403,
    }
    assert responses["PDF form"]["Content-Type"] == "application/pdf"
    for response in responses.values():
        assert_policies(response)
        if response["Content-Type"].startswith("text/html"):
            assert_no_inline_code(response)
    # the nonce is used where a page has a <style>, and differs between responses
    pakn = directives(responses["PAKN page with a <style>"])["style-src"]
    again = directives(anonymous.get("/dich-vu-cong/phan-anh/"))["style-src"]
    assert any(s.startswith("'nonce-") for s in pakn) and pakn != again


@pytest.mark.urls(__name__)
def test_server_errors_carry_both_policies():
    response = Client(raise_request_exception=False).get("/loi-thu/")
    assert response.status_code == 500
    assert_policies(response)


def test_api_docs_are_served_from_our_own_static_files(client):
    html = client.get("/api/docs").content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert not re.search(r'(src|href)="(https?:)?//', html)  # nothing from a CDN


# Printed by WeasyPrint from render_to_string, never sent to a browser: no CSP applies.
PRINT_ONLY = {
    "dossiers/forms/base.html",
    "dossiers/certified_copy_images.html",
    "dossiers/certified_copy_pdf.html",
    "dossiers/certified_copy_stamp.html",
    "payments/receipt_pdf.html",
    "portal/result_pdf.html",
    "reports/periodic.html",
}


def test_templates_have_no_inline_scripts_or_handlers():
    """Scripts come from static files, <script>/<style> elements carry the nonce: a template
    that adds an inline script, a bare <style> or an on…= handler would be refused by the
    browser, so refuse it here."""
    offenders = []
    for template in SRC.rglob("templates/**/*.html"):
        name = template.relative_to(SRC).parts
        if "/".join(name[name.index("templates") + 1 :]) in PRINT_ONLY:
            continue
        # template tags and comments out first: `{% if online == code %}` is no `on…=`
        text = re.sub(r"{%.*?%}|{{.*?}}|{#.*?#}", "", template.read_text(encoding="utf-8"))
        for tag in re.findall(r"<script\b[^>]*>", text):
            if "src=" not in tag and "nonce=" not in tag:
                offenders.append(f"{template.relative_to(SRC)}: {tag}")
        for tag in re.findall(r"<style\b[^>]*>", text):
            if "nonce=" not in tag:
                offenders.append(f"{template.relative_to(SRC)}: {tag}")
        for match in re.finditer(r"<[^>]+\s(on[a-z]+)\s*=|javascript:", text):
            offenders.append(f"{template.relative_to(SRC)}: {match[0][:60]}")
    assert offenders == []


# -- who may read the API documentation (CCHC_API_DOCS) ----------------------------------------


@pytest.fixture
def people(make_user):
    return {"official": make_user(Role.AUDITOR), "citizen": make_user(Role.CITIZEN)}


def get_docs(user=None) -> tuple[object, object]:
    c = Client()
    if user is not None:
        c.force_login(user)
    return c.get("/api/docs"), c.get("/api/openapi.json")


def test_staff_mode_keeps_the_api_docs_from_anonymous_users_and_citizens(settings, people):
    settings.CCHC_API_DOCS = "staff"
    page, schema = get_docs()
    assert page.status_code == 302 and page["Location"].startswith("/dang-nhap/?next=/api/docs")
    assert schema.status_code == 401 and schema.json()["error"]["code"] == "unauthenticated"

    page, schema = get_docs(people["citizen"])
    assert page.status_code == 403 and schema.status_code == 403
    assert schema.json()["error"]["message"] == "Chỉ cán bộ, công chức được xem tài liệu API."

    page, schema = get_docs(people["official"])
    assert page.status_code == 200 and "swagger-ui" in page.content.decode()
    assert schema.status_code == 200 and schema.json()["info"]["title"] == "cchc API"


def test_off_mode_hides_the_api_docs_from_everyone(settings, people):
    settings.CCHC_API_DOCS = "off"
    page, schema = get_docs(people["official"])
    assert page.status_code == 404 and schema.status_code == 404
    assert schema.json()["error"]["message"] == "Tài liệu API không được công bố."


def test_public_mode_serves_the_api_docs_to_anyone(settings):
    settings.CCHC_API_DOCS = "public"
    page, schema = get_docs()
    assert page.status_code == 200 and schema.status_code == 200
