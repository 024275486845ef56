"""The simulated national portal (only when CCHC_DVCQG_SIMULATOR is on; otherwise 404).

Included from the root urlconf with ``path("", include("cchc.nationalsim.urls"))``."""

from django.urls import path

from cchc.nationalsim import datastore, views

app_name = "nationalsim"

urlpatterns = [
    path("gia-lap-dvcqg/", views.page, name="page"),
    path("gia-lap-dvcqg/api/", views.api, name="api"),
    path("gia-lap-dvcqg/nop-ho-so/", views.submit, name="submit"),
    path("gia-lap-dvcqg/loi-gia-lap/", views.faults_form, name="faults"),
    path("gia-lap-dvcqg/khoi-tao/", views.seed, name="seed"),
    path("gia-lap-dvcqg/kho-du-lieu/api/", datastore.api, name="datastore_api"),
]
