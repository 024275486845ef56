from django.urls import path

from cchc.interop import import_views

app_name = "imports"

urlpatterns = [
    path("ho-so/", import_views.import_dossiers, name="dossiers"),
    path("ho-so/lan-nhap/<int:pk>/", import_views.import_run, name="run"),
    path("ho-so/mau.csv", import_views.template_file, name="template"),
    path("ho-so/anh-xa-mau.toml", import_views.mapping_example, name="mapping_example"),
]
