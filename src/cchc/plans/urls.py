from django.urls import path

from cchc.plans import register_views, views

app_name = "plans"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("nhiem-vu/", views.task_list, name="tasks"),
    path("nhiem-vu/<int:pk>/", views.task_detail, name="task"),
    path("bao-cao/<int:pk>/tham-dinh/", views.review, name="review"),
    path("minh-chung/<int:pk>/", views.evidence, name="evidence"),
    path("cua-toi/", views.my_tasks, name="my_tasks"),
    path("so-theo-doi/", register_views.register_index, name="registers"),
    path("so-theo-doi/van-ban/", register_views.legal_documents, name="legal_documents"),
    path(
        "so-theo-doi/thu-tuc-noi-bo/",
        register_views.internal_procedures,
        name="internal_procedures",
    ),
    path("so-theo-doi/ho-so-cong-viec/", register_views.work_records, name="work_records"),
    path("so-theo-doi/chi-so/", register_views.external_indices, name="external_indices"),
    path("so-theo-doi/<slug:register>/nhap/", register_views.register_import, name="import"),
    path("cham-diem/", register_views.scorecard, name="scorecard"),
    path("<slug:code>/", views.overview, name="plan"),
]
