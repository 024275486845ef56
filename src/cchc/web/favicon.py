"""/favicon.ico: browsers, bookmark tools and crawlers ask for it whatever the page links,
so it answers (a permanent redirect to the SVG icon every page links) instead of a 404
in the access log on every first visit."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

ICON = "cchc/favicon.svg"


@require_safe
@cache_control(public=True, max_age=7 * 24 * 3600)
def ico(request: HttpRequest) -> HttpResponsePermanentRedirect:
    return HttpResponsePermanentRedirect(static(ICON))
