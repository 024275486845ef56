from django.contrib.auth import views as auth_views
from django.urls import path

from cchc.accounts.twofactor_views import SignIn
from cchc.web import favicon, views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    # The password step; staff who need a second factor continue at /bao-mat/xac-thuc/.
    path("dang-nhap/", SignIn.as_view(), name="login"),
    path("dang-xuat/", auth_views.LogoutView.as_view(), name="logout"),
    path("thu-tuc/", views.procedures, name="procedures"),
    path("thu-tuc/nhap/", views.procedure_import, name="procedure_import"),
    path("thu-tuc/<str:code>/", views.procedure_detail, name="procedure"),
    path("thu-tuc-noi-bo/", views.internal_procedures, name="internal_procedures"),
    path("co-quan/", views.agencies, name="agencies"),
    path("co-quan/<int:pk>/", views.agency_detail, name="agency"),
    path("co-quan/<int:pk>/sua/", views.agency_edit, name="agency_edit"),
    path("don-vi-hanh-chinh/", views.units, name="units"),
    path("don-vi-hanh-chinh/<int:pk>/", views.unit_detail, name="unit"),
    path("nhat-ky/", views.audit, name="audit"),
    path("favicon.ico", favicon.ico, name="favicon"),
]
