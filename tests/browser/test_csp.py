"""Content-Security-Policy in a real browser: an injected inline script is refused (and the
`page` fixture notices), while the pages that load third-party code we serve ourselves —
Swagger UI for the API docs, the Django admin — still work under the policy."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(pg, live_server, user) -> None:
    """Put a logged-in session cookie into the browser (the login form is tested elsewhere)."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    cookie = client.cookies["sessionid"]
    pg.context.add_cookies([{"name": "sessionid", "value": cookie.value, "url": live_server.url}])


def test_an_injected_inline_script_is_refused_and_reported(page):
    page.goto("/dang-nhap/")
    with page.expect_console_message(lambda m: "Content Security Policy" in m.text):
        page.evaluate(
            """() => {
                const s = document.createElement('script');
                s.textContent = 'window.injected = true';
                document.head.appendChild(s);
            }"""
        )
    assert page.evaluate("window.injected") is None
    assert any("script-src" in v for v in page.csp_violations)
    page.csp_violations.clear()  # expected here; any other violation still fails the test


def test_api_docs_work_under_the_policy(page):
    page.goto("/api/docs")
    page.locator(".swagger-ui .info .title").filter(has_text="cchc API").wait_for()
    page.locator(".opblock").first.wait_for()  # the operations, from /api/openapi.json
    assert "Hồ sơ" in page.locator(".opblock-tag").all_inner_texts()
    page.shot("api-docs")


def test_admin_works_under_the_policy(page, live_server, settings):
    settings.CCHC_2FA_REQUIRED_ROLES = ()  # the admin's scripts are under test here, not 2FA
    from django.utils import timezone

    from cchc.accounts.roles import Role
    from tests.factories import make_user

    sign_in(page, live_server, make_user(Role.ADMINISTRATOR, now=timezone.now()))
    page.goto("/admin/accounts/user/")
    page.locator("#result_list").wait_for()
    # the admin's own scripts run: its theme switch changes the page's colour scheme
    before = page.evaluate("document.documentElement.dataset.theme")
    page.locator("button.theme-toggle").first.click()
    assert page.evaluate("document.documentElement.dataset.theme") != before
    page.shot("admin-users")
