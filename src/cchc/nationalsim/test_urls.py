"""A urlconf for tests: the site's own patterns plus the national-portal simulator (and
its OIDC provider when present), for ``override_settings(ROOT_URLCONF=...)`` while the
root urlconf does not include them yet. Harmless once it does (the first match wins).

The site's urlconf is included by name: the layers forbid importing `cchc.urls` here."""

from importlib.util import find_spec

from django.urls import include, path

urlpatterns = [path("", include("cchc.nationalsim.urls"))]
if find_spec("cchc.nationalsim.oidc_urls") is not None:  # the helper "sso"'s provider
    urlpatterns.append(path("", include("cchc.nationalsim.oidc_urls")))
urlpatterns.append(path("", include("cchc.urls")))

handler400 = "cchc.web.views.error_400"
handler403 = "cchc.web.views.error_403"
handler404 = "cchc.web.views.error_404"
handler500 = "cchc.web.views.error_500"
