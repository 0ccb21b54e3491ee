"""URL patterns of the cases app's resident pages (included by grassroots.cases.urls)."""

from __future__ import annotations

from django.urls import URLPattern, path

from grassroots.cases import resident_views

urlpatterns: list[URLPattern] = [
    path("h5/report/", resident_views.h5_report, name="h5_report"),
    path("h5/grids.geojson", resident_views.h5_grids, name="h5_grids"),
    path("h5/mine/", resident_views.h5_mine, name="h5_mine"),
    path("h5/cases/<int:case_id>/", resident_views.h5_case, name="h5_case"),
]
