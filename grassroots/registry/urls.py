from django.urls import path

from grassroots.registry import views, views_subject_requests

app_name = "registry"
urlpatterns = [
    path("", views.search, name="search"),
    path("person/<int:person_id>/", views.person_detail, name="person"),
    path("person/<int:person_id>/reveal/", views.person_reveal, name="reveal"),
    path("batch/", views.batch, name="batch"),
    path("batch/download/", views.batch_download, name="batch_download"),
    path("export/", views.export, name="export"),
    path("dwelling/<int:dwelling_id>/visit/", views.visit, name="visit"),
    path("separation/", views.separation, name="separation"),
    path("grid/<int:area_id>/", views.grid_residents, name="grid"),
    path("separation/grid/<int:area_id>/", views.grid_separation, name="grid_separation"),
    path("tags/", views.tags, name="tags"),
    path("requests/", views_subject_requests.queue, name="subject_requests"),
    path("requests/<int:request_id>/", views_subject_requests.detail, name="subject_request"),
    path("requests/<int:request_id>/copy/", views_subject_requests.copy, name="subject_request_copy"),
]
