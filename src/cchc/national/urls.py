"""The administrators' pages for the national portal's catalogue and inbound dossiers.

Included from the root urlconf with ``path("quan-tri-dvcqg/", include("cchc.national.urls"))``."""

from django.urls import path

from cchc.national import views

app_name = "national"

urlpatterns = [
    path("danh-muc/", views.catalogue_page, name="catalogue"),
    path("danh-muc/<int:pk>/", views.catalogue_page, name="catalogue_sync"),
    path("danh-muc/<int:pk>/xem-xet/", views.catalogue_decide, name="catalogue_decide"),
    path("ho-so-nhan/", views.inbound_page, name="inbound"),
]
