"""The site's URLconf with the probes mounted (if the site does not mount them yet) and two
views that fail on purpose, for the log and error-report tests."""

from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse
from django.urls import include, path

from cchc import urls as site


def boom(request: HttpRequest, code: str) -> HttpResponse:
    """Fails the way a database refusal does, quoting a row value on a DETAIL line."""
    raise IntegrityError(
        'duplicate key value violates unique constraint "accounts_user_email_key"\n'
        "DETAIL:  Key (email)=(nguyen.van.a@example.vn) already exists."
    )


def hello(request: HttpRequest, code: str) -> HttpResponse:
    return HttpResponse("xin chào")


urlpatterns = [
    path("thu-loi/<str:code>/", boom, name="boom"),
    path("thu-chao/<str:code>/", hello, name="hello"),
    *site.urlpatterns,
]
if not any(getattr(p, "namespace", None) == "ops" for p in site.urlpatterns):
    urlpatterns.insert(0, path("", include("cchc.ops.urls")))

handler400 = site.handler400
handler403 = site.handler403
handler404 = site.handler404
handler500 = site.handler500
