"""URL patterns of the cases app's resident pages (included by grassroots.cases.urls)."""

from __future__ import annotations

from django.urls import URLPattern, path

from grassroots.cases import resident_subject_requests, resident_views

urlpatterns: list[URLPattern] = [
    path("h5/report/", resident_views.h5_report, name="h5_report"),
    path("h5/grids.geojson", resident_views.h5_grids, name="h5_grids"),
    path("h5/mine/", resident_views.h5_mine, name="h5_mine"),
    path("h5/cases/<int:case_id>/", resident_views.h5_case, name="h5_case"),
    # Personal-information requests (the registry keeps them; see resident_subject_requests).
    path("h5/my-data/", resident_subject_requests.h5_data_requests, name="h5_data_requests"),
    path("h5/my-data/new/", resident_subject_requests.h5_data_request_new, name="h5_data_request_new"),
    path("h5/my-data/<int:request_id>/", resident_subject_requests.h5_data_request, name="h5_data_request"),
    path(
        "h5/my-data/<int:request_id>/copy/",
        resident_subject_requests.h5_data_request_copy,
        name="h5_data_request_copy",
    ),
]
