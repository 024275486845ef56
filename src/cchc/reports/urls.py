from django.urls import path

from cchc.reports import views

app_name = "reports"

urlpatterns = [
    path("", views.periodic, name="periodic"),
    path("yeu-cau/<int:pk>/", views.request_page, name="request"),
    path("yeu-cau/<int:pk>/tai-ve/", views.download, name="download"),
]
