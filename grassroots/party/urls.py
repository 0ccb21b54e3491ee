from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from grassroots.party import urls_alliances, views

app_name = "party"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.tree, name="tree"),
    path("orgs/new/", views.org_create, name="org_create"),
    path("orgs/<int:org_id>/", views.org_detail, name="org"),
    path("members/", views.member_list, name="members"),
    path("members/new/", views.member_create, name="member_create"),
    path("members/<int:member_id>/", views.member_detail, name="member"),
    path("members/<int:member_id>/deactivate/", views.member_deactivate, name="member_deactivate"),
    path("checkin/", views.checkin_start, name="checkin_start"),
    path("checkin/<int:community_id>/", views.checkin, name="checkin"),
    path("checkin/<int:community_id>/qr.pdf", views.checkin_qr, name="checkin_qr"),
    path("checkins/", views.checkin_queue, name="checkins"),
    path("checkins/<int:checkin_id>/decide/", views.checkin_decide, name="checkin_decide"),
    path("services/", views.service_list, name="services"),
    path("services/<int:record_id>/confirm/", views.service_confirm, name="service_confirm"),
    path("targets/", views.targets, name="targets"),
    path("reports/unit/", views.unit_report, name="unit_report"),
    *urls_alliances.urlpatterns,
]
