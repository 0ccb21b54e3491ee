"""Place browser pages (placeholder: to be completed)."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse


@login_required
def browser(request: HttpRequest) -> HttpResponse:
    return HttpResponse("places")


@login_required
def area_detail(request: HttpRequest, area_id: int) -> HttpResponse:
    return HttpResponse("area")


@login_required
def building_detail(request: HttpRequest, building_id: int) -> HttpResponse:
    return HttpResponse("building")


@login_required
def dwelling_detail(request: HttpRequest, dwelling_id: int) -> HttpResponse:
    return HttpResponse("dwelling")


@login_required
def grid_map(request: HttpRequest) -> HttpResponse:
    return HttpResponse("map")
