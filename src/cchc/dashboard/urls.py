from django.urls import path

from cchc.dashboard import views

app_name = "dashboard"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("co-quan/<int:pk>/", views.agency, name="agency"),
    path("chi-tiet/<str:code>/", views.drill, name="drill"),
    path("doi-chieu/", views.reconcile, name="reconcile"),
]
