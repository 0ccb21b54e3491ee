"""Place browser pages: the area tree, buildings, dwellings and the grid map.

Thin: every read goes through a selector that starts from the request's scope, so an
object outside it raises NotFound and the middleware shows the same 404 page as for
a missing one. The children list doubles as an htmx fragment for expanding in place.

``places`` sits below ``accounts`` and ``registry``: the scope comes from the request
(accounts' ScopeMiddleware), and the grid's four roles and the residents come from
template tags those apps provide (``accounts_pages``, ``registry_pages``), never from
an upward import here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from grassroots.core.errors import Forbidden
from grassroots.core.scope import Scope, request_scope
from grassroots.places import selectors
from grassroots.places.models import Area, AreaLevel, Dwelling

BROWSE = "places.browse"

View = Callable[..., HttpResponse]


def browse_required(view: View) -> View:
    """Signed in and holding places.browse; refused before any object is looked up."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # The empty scope means the role lacks places.browse (or has no area at all).
        if request_scope(request, BROWSE).area_path is None:
            raise Forbidden("您的角色无权浏览地点信息。")
        return view(request, *args, **kwargs)

    return login_required(wrapper)


def _scope(request: HttpRequest) -> Scope:
    return request_scope(request, BROWSE)


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


@browse_required
def browser(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    roots = selectors.area_roots(scope=scope)
    # Household totals are left off the roots: each would be a sum over a whole subtree.
    return render(request, "places/browser.html", {"roots": roots, "root_rows": [(r, None) for r in roots]})


def _children_context(scope: Scope, area: Area) -> dict[str, Any]:
    children = selectors.area_children(scope=scope, area=area)
    counts = selectors.children_household_counts(scope=scope, area=area)
    return {
        "area": area,
        "children": [(c, counts.get(c.pk, 0)) for c in children],
    }


@browse_required
def area_detail(request: HttpRequest, area_id: int) -> HttpResponse:
    scope = _scope(request)
    area = selectors.area_get(scope=scope, area_id=area_id)
    if _is_htmx(request) and request.GET.get("fragment") == "children":
        return render(request, "places/_children.html", _children_context(scope, area))
    is_grid = area.level == AreaLevel.GRID
    context = {
        **_children_context(scope, area),
        "breadcrumb": selectors.area_breadcrumb(scope=scope, area=area),
        "stats": selectors.area_stats(scope=scope, area=area),
        "is_grid": is_grid,
        "buildings": selectors.building_list(scope=scope, grid=area) if is_grid else [],
        "geojson_url": reverse("api:grid_geojson", kwargs={"area_id": area.pk}),
    }
    return render(request, "places/area.html", context)


@dataclass
class FloorRow:
    floor: int
    dwellings: list[Dwelling] = field(default_factory=list)


@dataclass
class EntranceBlock:
    number: int
    floors: list[FloorRow] = field(default_factory=list)


def layout_dwellings(dwellings: list[Dwelling]) -> list[EntranceBlock]:
    """Group dwellings (ordered by entrance, floor descending, room) into entrance × floor rows."""
    blocks: list[EntranceBlock] = []
    for d in dwellings:
        if not blocks or blocks[-1].number != d.entrance.number:
            blocks.append(EntranceBlock(number=d.entrance.number))
        block = blocks[-1]
        if not block.floors or block.floors[-1].floor != d.floor:
            block.floors.append(FloorRow(floor=d.floor))
        block.floors[-1].dwellings.append(d)
    return blocks


@browse_required
def building_detail(request: HttpRequest, building_id: int) -> HttpResponse:
    scope = _scope(request)
    building = selectors.building_get(scope=scope, building_id=building_id)
    dwellings = selectors.building_dwellings(scope=scope, building=building)
    context = {
        "building": building,
        "breadcrumb": selectors.area_breadcrumb(scope=scope, area=building.grid),
        "dwellings": dwellings,  # resident counts: {% resident_counts %} (registry_pages)
        "entrances": layout_dwellings(dwellings),
    }
    return render(request, "places/building.html", context)


@browse_required
def dwelling_detail(request: HttpRequest, dwelling_id: int) -> HttpResponse:
    scope = _scope(request)
    dwelling = selectors.dwelling_get(scope=scope, dwelling_id=dwelling_id)
    grid = selectors.area_get_by_path(scope=scope, path=dwelling.building.path)
    context = {
        "dwelling": dwelling,
        "building": dwelling.building,
        "breadcrumb": selectors.area_breadcrumb(scope=scope, area=grid),
        # The residents (an audited read) come from {% dwelling_residents_panel %} (registry_pages).
    }
    return render(request, "places/dwelling.html", context)


@browse_required
def grid_map(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    roots = selectors.area_roots(scope=scope)
    raw = request.GET.get("area", "")
    if raw.isdigit():
        area = selectors.area_get(scope=scope, area_id=int(raw))
    elif roots:
        area = roots[0]
    else:
        # A browsing role with no area assigned: nothing to draw, and nothing to reveal.
        return render(request, "places/map.html", {"area": None, "roots": []})
    # Areas one can switch to: the scope roots, the way up to here, and the next level down
    # (grids are drawn on the map itself, so only non-grid children are offered).
    breadcrumb = selectors.area_breadcrumb(scope=scope, area=area)
    children = [c for c in selectors.area_children(scope=scope, area=area) if c.level != AreaLevel.GRID]
    context = {
        "area": area,
        "roots": roots,
        "breadcrumb": breadcrumb,
        "choices": _map_choices(roots, breadcrumb, children),
        "geojson_url": reverse("api:grid_geojson", kwargs={"area_id": area.pk}),
    }
    return render(request, "places/map.html", context)


def _map_choices(roots: list[Area], breadcrumb: list[tuple[Area, bool]], children: list[Area]) -> list[Area]:
    seen: set[int] = set()
    choices: list[Area] = []
    for a in [*roots, *(a for a, allowed in breadcrumb if allowed), *children]:
        if a.pk not in seen:
            seen.add(a.pk)
            choices.append(a)
    return choices
