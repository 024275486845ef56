from django.urls import path

from cchc.portal import (
    certified_copy_views,
    datastore_views,
    password_views,
    verify_views,
    views,
)

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("thu-tuc/", views.catalogue, name="catalogue"),
    path("thu-tuc/<str:code>/", views.procedure, name="procedure"),
    path("thu-tuc/<str:code>/nop/", views.submit_new, name="submit"),
    path("nhap/", views.drafts, name="drafts"),
    path("nhap/<int:pk>/", views.draft, name="draft"),
    path("nhap/<int:pk>/xoa/", views.draft_discard, name="draft_discard"),
    path("nhap/<int:pk>/tep/<int:file_pk>/", views.draft_file, name="draft_file"),
    path("tra-cuu/", views.track, name="track"),
    path("ho-so/", views.my_dossiers, name="dossiers"),
    path("ho-so/<str:code>/", views.dossier, name="dossier"),
    path("ho-so/<str:code>/thao-tac/", views.dossier_act, name="dossier_act"),
    path("ho-so/<str:code>/tep/<int:pk>/", views.dossier_file, name="dossier_file"),
    path("ho-so/<str:code>/ket-qua/<int:number>/", views.dossier_result, name="dossier_result"),
    path(
        "ho-so/<str:code>/ban-sao-chung-thuc/<int:pk>/",
        certified_copy_views.download,
        name="dossier_certified_copy",
    ),
    path("kho-du-lieu/", datastore_views.my_store, name="datastore"),
    path("kho-du-lieu/<int:pk>/", datastore_views.my_store_file, name="datastore_file"),
    path("dang-ky/", views.register, name="register"),
    path("quen-mat-khau/", password_views.request_link, name="password_reset"),
    path("quen-mat-khau/da-gui/", password_views.sent, name="password_reset_sent"),
    path(
        "quen-mat-khau/<str:uidb64>/<str:token>/",
        password_views.confirm,
        name="password_reset_confirm",
    ),
    path("dang-nhap/", views.PortalLogin.as_view(), name="login"),
    path("dang-nhap/vneid/", views.vneid_start, name="vneid"),
    path("dang-nhap/vneid/ve/", views.vneid_callback, name="vneid_callback"),
    path("xac-thuc/", verify_views.lookup, name="verify_lookup"),
    path("xac-thuc/<str:token>/", verify_views.verify, name="verify"),
]
