from django.contrib import admin
from django.urls import include, path

from cchc.api.root import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("ke-hoach/", include("cchc.plans.urls")),
    path("ho-so/", include("cchc.dossiers.urls")),
    path("", include("cchc.web.urls")),
]

handler400 = "cchc.web.views.error_400"
handler403 = "cchc.web.views.error_403"
handler404 = "cchc.web.views.error_404"
handler500 = "cchc.web.views.error_500"
