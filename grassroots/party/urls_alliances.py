"""Alliance pages (党建联盟); included by ``grassroots/party/urls.py`` into the ``party`` namespace."""

from __future__ import annotations

from django.urls import URLPattern, path

from grassroots.party import views_alliances as views

urlpatterns: list[URLPattern] = [
    path("alliances/", views.alliance_list, name="alliances"),
    path("alliances/new/", views.alliance_create, name="alliance_create"),
    path("alliances/<int:alliance_id>/", views.alliance_detail, name="alliance"),
    path("alliances/<int:alliance_id>/edit/", views.alliance_edit, name="alliance_edit"),
    path("alliances/<int:alliance_id>/members/add/", views.member_add, name="alliance_member_add"),
    path(
        "alliances/<int:alliance_id>/members/<int:member_id>/leave/",
        views.member_leave,
        name="alliance_member_leave",
    ),
    path("alliances/<int:alliance_id>/rotation/", views.rotation_generate, name="alliance_rotation"),
    path("alliances/<int:alliance_id>/items/add/", views.item_create, name="alliance_item_add"),
    path("alliances/<int:alliance_id>/items/<int:item_id>/", views.item_edit, name="alliance_item_edit"),
    path("alliances/<int:alliance_id>/items/<int:item_id>/status/", views.item_status, name="alliance_item_status"),
    path("pairings/", views.pairing_list, name="pairings"),
    path("pairings/new/", views.pairing_create, name="pairing_create"),
    path("pairings/<int:pairing_id>/end/", views.pairing_end, name="pairing_end"),
    path("pairings/unit/<int:unit_id>/", views.unit_pairings, name="unit_pairings"),
]
