from django.urls import path

from grassroots.registry.imports import views

app_name = "imports"
urlpatterns = [
    path("", views.job_list, name="list"),
    path("new/", views.upload, name="upload"),
    path("<int:job_id>/", views.job_detail, name="detail"),
    path("<int:job_id>/mapping/", views.mapping, name="mapping"),
    path("<int:job_id>/progress/", views.progress, name="progress"),
    path("<int:job_id>/rejected.xlsx", views.rejected_download, name="rejected"),
    path("<int:job_id>/retry/", views.retry, name="retry"),
]
