from django.contrib import admin
from django.urls import include, path

from cchc.api.root import api

urlpatterns = [
    # Probes and metrics for operators: /healthz, /readyz, /metrics (cchc.ops).
    path("", include("cchc.ops.urls")),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("ke-hoach/", include("cchc.plans.urls")),
    path("ho-so/", include("cchc.dossiers.urls")),
    path("thong-bao/", include("cchc.notifications.urls")),
    # Two-factor sign-in: the second step, enrolment, "Bảo mật tài khoản".
    path("bao-mat/", include("cchc.accounts.twofactor_urls")),
    path("chi-so/bao-cao/", include("cchc.reports.urls")),
    path("chi-so/", include("cchc.dashboard.urls")),
    path("xuat-du-lieu/", include("cchc.interop.urls")),
    path("nhap-du-lieu/", include("cchc.interop.import_urls")),
    # PAKN: the citizen pages come before the portal's /dich-vu-cong/ include.
    path("dich-vu-cong/phan-anh/", include("cchc.feedback.public_urls")),
    path("phan-anh/", include("cchc.feedback.urls")),
    path("dich-vu-cong/", include("cchc.portal.urls")),
    # Payments: /thanh-toan/… and the development simulator /gia-lap-thanh-toan/….
    path("", include("cchc.payments.urls")),
    # The national portal: the administrators' catalogue review and inbound dossiers.
    path("quan-tri-dvcqg/", include("cchc.national.urls")),
    # The national-portal simulator and its VNeID provider (404 unless CCHC_DVCQG_SIMULATOR).
    path("", include("cchc.nationalsim.urls")),
    path("", include("cchc.nationalsim.oidc_urls")),
    path("", include("cchc.web.urls")),
]

handler400 = "cchc.web.views.error_400"
handler403 = "cchc.web.views.error_403"
handler404 = "cchc.web.views.error_404"
handler500 = "cchc.web.views.error_500"
