"""URL patterns of the dashboards and the big screen (included by grassroots.insights.urls)."""

from __future__ import annotations

from django.urls import URLPattern, path

from grassroots.insights import views_dashboards

urlpatterns: list[URLPattern] = [
    path("dashboard/", views_dashboards.dashboard, name="dashboard"),
    path("bigscreen/", views_dashboards.bigscreen, name="bigscreen"),
]
