"""Navigation: the menu shows only what the signed-in user may open."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse

from cchc.accounts import policy
from cchc.accounts.middleware import second_step_pending
from cchc.notifications.services import unread_count

# (label, url name, permission or None for any signed-in officer). Later issues append.
MENU: list[tuple[str, str, str | None]] = [
    ("Trang chủ", "web:home", None),
    ("Hồ sơ", "dossiers:queue", "dossier.view"),
    ("Phản ánh, kiến nghị", "feedback:queue", "feedback.view"),
    ("Thủ tục hành chính", "web:procedures", "catalog.view"),
    ("Thủ tục nội bộ", "web:internal_procedures", "catalog.view"),
    ("Cơ quan", "web:agencies", "org.view"),
    ("Đơn vị hành chính", "web:units", "org.view"),
    ("Nhật ký", "web:audit", "audit.view"),
    ("Kế hoạch CCHC", "plans:overview", "plan.view"),
    ("Nhiệm vụ của tôi", "plans:my_tasks", "plan.report"),
    ("Sổ theo dõi", "plans:registers", "plan.view"),
    ("Chỉ số, đánh giá", "dashboard:overview", "indicator.view"),
    ("Nhập hồ sơ", "imports:dossiers", "dossier.import"),
]


# Citizen portal links (cchc.portal): for visitors not signed in (the first two) and for
# citizens (all three).
PORTAL_MENU: list[tuple[str, str]] = [
    ("Dịch vụ công", "portal:home"),
    ("Tra cứu hồ sơ", "portal:track"),
    ("Hồ sơ của tôi", "portal:dossiers"),
]


def _portal_items(request: HttpRequest, citizen: bool) -> list[dict[str, Any]]:
    entries = PORTAL_MENU if citizen else PORTAL_MENU[:2]
    out = []
    for label, name in entries:
        url = reverse(name)
        out.append({"label": label, "url": url, "active": request.path == url})
    return out


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    base = {"htmx_available": bool(settings.STATICFILES_DIRS)}
    if user is None or not user.is_authenticated:
        return {**base, "menu": _portal_items(request, False), "role_labels": []}
    if second_step_pending(request):
        # Before the second step every page but the step itself redirects: offer none.
        return {**base, "menu": [], "role_labels": [], "second_step_pending": True}
    items = []
    for label, name, permission in MENU:
        if permission is None or policy.can(user, permission):
            url = reverse(name)
            items.append(
                {
                    "label": label,
                    "url": url,
                    "active": request.path == url or (url != "/" and request.path.startswith(url)),
                }
            )
    if policy.has_role(user, "citizen"):
        items.extend(_portal_items(request, True))
    if policy.can(user, "admin.site"):
        items.append({"label": "Quản trị", "url": reverse("admin:index"), "active": False})
    labels = [
        a.get_role_display()
        + (
            f" — {a.agency.short_name or a.agency.name}"
            if a.agency
            else f" — {a.unit.name}"
            if a.unit
            else ""
        )
        for a in policy.assignments(user)
    ]
    if user.is_superuser and not labels:
        labels = ["Quản trị hệ thống"]
    return {**base, "menu": items, "role_labels": labels, "unread_count": unread_count(user)}
