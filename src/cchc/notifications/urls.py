from django.urls import path

from cchc.notifications import views

app_name = "notifications"
urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("<int:pk>/mo/", views.open_message, name="open"),
    path("da-doc-het/", views.read_all, name="read_all"),
]
