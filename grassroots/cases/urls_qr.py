"""URL patterns of the cases app's qr pages (included by grassroots.cases.urls)."""

from __future__ import annotations

from django.urls import URLPattern, path

from grassroots.cases import qr

# kind: "buildings" or "compounds" (anything else is a 404).
urlpatterns: list[URLPattern] = [
    path("qr/<str:kind>/<int:pk>.pdf", qr.qr_sheet, name="qr_sheet"),
    path("qr/<str:kind>/<int:pk>/", qr.qr_preview, name="qr_preview"),
]
