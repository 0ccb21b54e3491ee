"""URL patterns of the cases app's staff pages (included by grassroots.cases.urls)."""

from __future__ import annotations

from django.urls import URLPattern, path

from grassroots.cases import staff_views

urlpatterns: list[URLPattern] = [
    path("queue/", staff_views.queue, name="queue"),
    path("inbox/", staff_views.inbox, name="inbox"),
    path("patrol/", staff_views.patrol, name="patrol"),
    path("verify/", staff_views.verify_list, name="verify_list"),
    path("all/", staff_views.case_list, name="list"),
    path("<int:case_id>/", staff_views.case_page, name="case"),
]
