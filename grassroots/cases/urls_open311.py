"""Open311 GeoReport v2, mounted at /open311/v2/ by config/urls.py; the format is a suffix."""

from __future__ import annotations

from django.urls import URLPattern, re_path

from grassroots.cases import open311

app_name = "open311"

FMT = r"\.(?P<fmt>[a-z0-9]+)$"

urlpatterns: list[URLPattern] = [
    re_path(r"^discovery" + FMT, open311.discovery, name="discovery"),
    re_path(r"^services" + FMT, open311.services_list, name="services"),
    re_path(r"^services/(?P<code>[^/]+?)" + FMT, open311.service_definition, name="service"),
    re_path(r"^requests" + FMT, open311.requests_collection, name="requests"),
    re_path(r"^requests/(?P<request_id>[^/]+?)" + FMT, open311.request_detail, name="request"),
    re_path(r"^tokens/(?P<token>[^/]+?)" + FMT, open311.token_detail, name="token"),
]
