"""URL patterns of the hotspot (未诉先办) and assessment (考核) pages, included by grassroots.insights.urls."""

from __future__ import annotations

from django.urls import URLPattern, path

from grassroots.insights import views_assessment, views_hotspots

urlpatterns: list[URLPattern] = [
    path("hotspots/", views_hotspots.hotspot_list, name="hotspots"),
    path("hotspots/<str:token>/convert/", views_hotspots.hotspot_convert, name="hotspot_convert"),
    path("hotspots/<str:token>/dismiss/", views_hotspots.hotspot_dismiss, name="hotspot_dismiss"),
    path("assessment/", views_assessment.ranking, name="assessment"),
    path("assessment/rate/", views_assessment.rate, name="assessment_rate"),
    path("assessment/weights/", views_assessment.weights, name="assessment_weights"),
    path("assessment/close/", views_assessment.close_month, name="assessment_close"),
]
