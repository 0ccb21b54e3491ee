"""URL patterns of the grid planning page and the compliance report, included by grassroots.insights.urls."""

from __future__ import annotations

from django.urls import URLPattern, path

from grassroots.insights import views_planning

urlpatterns: list[URLPattern] = [
    path("planning/", views_planning.planning, name="planning"),
    path("planning/propose/", views_planning.planning_propose, name="planning_propose"),
    path(
        "planning/<int:pk>/<str:decision>/",
        views_planning.planning_decide,
        name="planning_decide",
    ),
    path("compliance/", views_planning.compliance, name="compliance"),
]
