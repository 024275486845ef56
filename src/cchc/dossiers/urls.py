from django.urls import path

from cchc.dossiers import certified_copy_views, views

app_name = "dossiers"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("tiep-nhan/", views.intake, name="intake"),
    path("so-theo-doi/", views.register, name="register"),
    path("<str:code>/", views.detail, name="detail"),
    path("<str:code>/thao-tac/", views.act, name="act"),
    path("<str:code>/bieu-mau/<str:purpose>/", views.form_pdf, name="form"),
    path("<str:code>/tep/<int:pk>/", views.stored_file, name="file"),
    path(
        "<str:code>/ban-sao-chung-thuc/",
        certified_copy_views.page,
        name="certified_copies",
    ),
    path(
        "<str:code>/ban-sao-chung-thuc/<int:pk>/",
        certified_copy_views.download,
        name="certified_copy_file",
    ),
]
