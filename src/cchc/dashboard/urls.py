from django.urls import path

from cchc.dashboard import views, weekly

app_name = "dashboard"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("co-quan/<int:pk>/", views.agency, name="agency"),
    path("co-quan/<int:pk>/cham/", views.leader_steps, name="leader-steps"),
    path("co-quan/<int:pk>/ho-so/", views.leader_dossiers, name="leader-dossiers"),
    path("chi-tiet/<str:code>/", views.drill, name="drill"),
    path("doi-chieu/", views.reconcile, name="reconcile"),
    path("xep-hang/", views.ranking, name="ranking"),
    path("xep-hang-tuan/", weekly.ranking, name="weekly"),
]
