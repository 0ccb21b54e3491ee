from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from grassroots.estates import views

app_name = "estates"

urlpatterns: list[URLPattern | URLResolver] = [
    path("committees/", views.committee_list, name="committees"),
    path("committees/new/", views.committee_create, name="committee_create"),
    path("committees/<int:committee_id>/", views.committee_detail, name="committee"),
    path("committees/<int:committee_id>/members/new/", views.member_add, name="member_add"),
]
