"""URL patterns of the cases app's hotline pages (included by grassroots.cases.urls)."""

from __future__ import annotations

from django.urls import URLPattern, path

from grassroots.cases import hotline_views

urlpatterns: list[URLPattern] = [
    path("hotline/import/", hotline_views.hotline_import, name="hotline_import"),
    path("hotline/import/confirm/", hotline_views.hotline_import_confirm, name="hotline_import_confirm"),
    path("hotline/import/report/", hotline_views.hotline_import_report, name="hotline_import_report"),
]
