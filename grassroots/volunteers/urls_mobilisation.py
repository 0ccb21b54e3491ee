"""URL patterns of one-tap mobilisation (included by grassroots.volunteers.urls, namespace ``volunteers``)."""

from __future__ import annotations

from django.urls import URLPattern, path

from grassroots.volunteers import mobilisation_views as views

urlpatterns: list[URLPattern] = [
    path("mobilisations/", views.mobilisation_index, name="mobilisation_index"),
    path("mobilisations/new/", views.mobilisation_start, name="mobilisation_start"),
    path("mobilisations/drills/", views.mobilisation_drills, name="mobilisation_drills"),
    path("mobilisations/<int:mobilisation_id>/", views.mobilisation_detail, name="mobilisation_detail"),
    path("mobilisations/<int:mobilisation_id>/roster/", views.mobilisation_roster, name="mobilisation_roster"),
    path("mobilisations/<int:mobilisation_id>/end/", views.mobilisation_end, name="mobilisation_end"),
    path("m/<str:token>/", views.mobilisation_link, name="mobilisation_link"),
]
