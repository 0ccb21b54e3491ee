"""URL patterns of the cases app's measures pages (included by grassroots.cases.urls)."""

from __future__ import annotations

from django.urls import URLPattern, path

from grassroots.cases import measures_views

urlpatterns: list[URLPattern] = [
    path("measures/", measures_views.measures_page, name="measures"),
]
