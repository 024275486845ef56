from django.urls import path

from cchc.interop import views

app_name = "interop"

urlpatterns = [
    path("ho-so/", views.dossiers, name="dossiers"),
    path("lich-su-xu-ly/", views.events, name="events"),
    path("chi-so/", views.indicators, name="indicators"),
]
