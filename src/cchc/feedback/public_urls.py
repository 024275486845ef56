"""Citizen-facing PAKN pages, mounted at /dich-vu-cong/phan-anh/ (before the portal)."""

from django.urls import path

from cchc.feedback import public_views as views

app_name = "feedback_public"

urlpatterns = [
    path("", views.published, name="published"),
    path("gui/", views.new, name="new"),
    path("da-gui/", views.sent_latest, name="sent_latest"),
    path("da-gui/<str:code>/", views.sent, name="sent"),
    path("da-gui/<str:code>/xac-nhan/", views.confirm_link, name="confirm_link"),
    path("cua-toi/", views.mine, name="mine"),
    path("cua-toi/<str:code>/", views.detail, name="detail"),
    path("<str:code>/danh-gia/", views.rate, name="rate"),
]
