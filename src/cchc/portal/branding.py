"""The portal's public name: «Cổng Dịch vụ công tỉnh …», the province's public-service portal
(as citizens know it), not the internal system's name that officers see.

`CCHC_PORTAL_NAME` gives the whole name; otherwise it is «Cổng Dịch vụ công» followed by
`CCHC_PROVINCE_NAME`, or by the province-level unit of the organisation in force today
("Tỉnh Bắc Ninh" → "tỉnh Bắc Ninh") when exactly one exists (a demo or a single-province
deployment needs no setting).
"""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from cchc.org.models import AdministrativeUnit

BASE_NAME = "Cổng Dịch vụ công"
TAGLINE = "Thông tin và giải quyết thủ tục hành chính cho người dân, doanh nghiệp"


def province_name() -> str:
    """The province as written after «Cổng Dịch vụ công» ("" when it cannot be told)."""
    configured = getattr(settings, "CCHC_PROVINCE_NAME", "")
    if configured:
        return str(configured)
    names = list(
        AdministrativeUnit.objects.valid_on(timezone.localdate())
        .filter(level__rank=1)
        .values_list("name", flat=True)[:2]
    )
    if len(names) != 1:
        return ""
    name = names[0]
    # "Tỉnh Bắc Ninh" reads "Cổng Dịch vụ công tỉnh Bắc Ninh": the kind in lower case.
    return name[:1].lower() + name[1:] if name[:1].isupper() and " " in name else name


def portal_name() -> str:
    """The portal's name for its header, page titles and messages."""
    configured = getattr(settings, "CCHC_PORTAL_NAME", "")
    if configured:
        return str(configured)
    return f"{BASE_NAME} {province_name()}".strip()
