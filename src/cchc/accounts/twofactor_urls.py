from django.urls import path

from cchc.accounts import twofactor_views as views

app_name = "twofactor"

urlpatterns = [
    path("", views.security, name="security"),
    path("xac-thuc/", views.verify, name="verify"),
    path("dang-ky/", views.enrol, name="enrol"),
    path("ma-khoi-phuc/", views.recovery_codes, name="recovery_codes"),
    path("tat/", views.remove, name="remove"),
]
