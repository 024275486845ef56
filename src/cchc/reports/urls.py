from django.urls import path

from cchc.reports import views

app_name = "reports"

urlpatterns = [
    path("", views.periodic, name="periodic"),
]
