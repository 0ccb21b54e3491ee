from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from grassroots.estates import views

app_name = "estates"

urlpatterns: list[URLPattern | URLResolver] = [
    path("committees/", views.committee_list, name="committees"),
    path("committees/new/", views.committee_create, name="committee_create"),
    path("committees/<int:committee_id>/", views.committee_detail, name="committee"),
    path("committees/<int:committee_id>/members/new/", views.member_add, name="member_add"),
    path("committees/<int:committee_id>/cross/", views.cross, name="cross"),
    path("red-committees/", views.red_committees, name="red_committees"),
    path("companies/", views.company_list, name="companies"),
    path("companies/new/", views.company_create, name="company_create"),
    path("companies/<int:company_id>/", views.company_detail, name="company"),
    path("compounds/<int:compound_id>/", views.compound_detail, name="compound"),
    path("surveys/<int:survey_id>/", views.survey_detail, name="survey"),
    path("red-black/", views.red_black, name="red_black"),
    path("reports/", views.reports, name="reports"),
    path("dormitories/", views.dormitories, name="dormitories"),
    path("dormitories/compound/<int:compound_id>/", views.zone_edit, name="zone_edit"),
    path("dormitories/<int:zone_id>/", views.dormitory, name="dormitory"),
    path("h5/surveys/", views.h5_surveys, name="h5_surveys"),
    path("h5/surveys/<int:survey_id>/", views.h5_survey, name="h5_survey"),
]
