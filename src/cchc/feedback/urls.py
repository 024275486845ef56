from django.urls import path

from cchc.feedback import views

app_name = "feedback"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("<str:code>/", views.detail, name="detail"),
    path("<str:code>/thao-tac/", views.action, name="action"),
    path("<str:code>/tep/<int:file_id>/", views.download, name="file"),
]
