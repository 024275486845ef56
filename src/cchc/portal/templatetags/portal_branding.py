"""`{% portal_name %}`: the portal's public name (`cchc.portal.branding`), worked out once per
request even though the header and the page title both show it."""

from __future__ import annotations

from typing import Any

from django import template

from cchc.portal import branding

register = template.Library()


@register.simple_tag(takes_context=True)
def portal_name(context: Any) -> str:
    request = context.get("request")
    cached = getattr(request, "_portal_name", None)
    if cached is not None:
        return str(cached)
    name = branding.portal_name()
    if request is not None:
        request._portal_name = name
    return name


@register.simple_tag
def portal_tagline() -> str:
    return branding.TAGLINE
