"""/healthz, /readyz and /metrics: mount at the root (`path("", include("cchc.ops.urls"))`)."""

from django.urls import path

from cchc.ops import views

app_name = "ops"

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("metrics", views.metrics_view, name="metrics"),
]
