from django.urls import path

from cchc.payments import views

app_name = "payments"

urlpatterns = [
    path("thanh-toan/ho-so/<str:code>/", views.start, name="start"),
    path("thanh-toan/ho-so/<str:code>/tien-mat/", views.cash, name="cash"),
    path("thanh-toan/ho-so/<str:code>/mien-giam/", views.exemption, name="exemption"),
    path("thanh-toan/giao-dich/<str:txn_ref>/hoan-tra/", views.refund, name="refund"),
    path("thanh-toan/ket-qua/", views.result, name="result"),
    path("thanh-toan/ipn/<str:gateway>/", views.ipn, name="ipn"),
    path("thanh-toan/bien-lai/<str:number>/", views.receipt_pdf, name="receipt"),
    path("gia-lap-thanh-toan/", views.simulator_page, name="simulator"),
    path("gia-lap-thanh-toan/xu-ly/", views.simulator_submit, name="simulator_submit"),
    path("gia-lap-thanh-toan/api/", views.simulator_api, name="simulator_api"),
]
