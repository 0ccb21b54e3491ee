"""URL patterns of the cases app's staff pages (included by grassroots.cases.urls)."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
