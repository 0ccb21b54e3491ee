"""Reads for grid planning (issue 9): the area, its buildings as planner input, the current grids
and the proposals, all from the actor's scope.

The planner itself is the pure engine ``grassroots.places.planning``; this module only turns stored
buildings into its ``BuildingInput`` rows (households from ``Building.households``, residents from
the persons whose dwelling is in the building, the compound, the community as parent).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Sum

from grassroots.accounts.scopes import can, scope_for
from grassroots.core.errors import DomainError, NotFound
from grassroots.core.scope import Scope
from grassroots.insights.models import PlanProposal
from grassroots.places.models import Area, AreaLevel, Building, GridKind
from grassroots.places.planning import BuildingInput, project_lonlat
from grassroots.registry.models import Person

VIEW, EDIT = "insights.view", "places.edit"
PLANNABLE_LEVELS = (AreaLevel.COMMUNITY, AreaLevel.SUBDISTRICT)


def find_area(ref: str | int) -> Area | None:
    """An area by id or by code path ("3205.320583.001.001"); no scope check (commands)."""
    text = str(ref).strip()
    if text.isdigit() and "." not in text:
        area = Area.objects.filter(pk=int(text)).first()
        if area is not None:
            return area
    return Area.objects.filter(path=text).first()


def area_for(*, user: Any, area_id: int | str | None, capability: str = VIEW) -> Area:
    """The area the page is about (default: the user's own), NotFound outside the user's scope."""
    scope = scope_for(user, capability)
    if area_id in (None, ""):
        area = getattr(user, "area", None)
        if area is None:
            area = Area.objects.filter(scope.path_q("path")).order_by("depth", "path").first()
    else:
        try:
            area = Area.objects.filter(pk=int(str(area_id))).first()
        except (TypeError, ValueError):
            area = None
    if area is None or not scope.covers_path(area.path):
        raise NotFound()
    return area


def may_plan(user: Any, area: Area) -> bool:
    return can(user, EDIT) and scope_for(user, EDIT).covers_path(area.path)


def communities_of(area: Area) -> list[Area]:
    if area.level == AreaLevel.COMMUNITY:
        return [area]
    if area.level == AreaLevel.SUBDISTRICT:
        return list(Area.objects.active().filter(parent=area, level=AreaLevel.COMMUNITY).order_by("code"))
    raise DomainError("只能对社区或街道进行网格规划，请选择一个社区或街道。", field="area")


@dataclass(frozen=True)
class PlanningInput:
    area: Area
    communities: list[Area]
    buildings: list[BuildingInput]
    existing: dict[int, str]  # building id -> current grid path
    origin: tuple[float, float]  # (lon0, lat0) of the projection
    grid_names: dict[str, str]  # grid path -> name
    parents: dict[str, int]  # planner parent label -> community id
    building_names: dict[int, str]


def planning_input(area: Area) -> PlanningInput:
    """Buildings of the comprehensive grids of each community of ``area`` (three queries)."""
    communities = communities_of(area)
    # The parent label is the community's name, so the planner's explanations name it.
    names = Counter(c.name for c in communities)
    label = {c.pk: c.name if names[c.name] == 1 else f"{c.name}({c.code})" for c in communities}
    grids = {
        g.pk: g
        for g in Area.objects.grids()
        .filter(parent__in=communities, grid_kind=GridKind.COMPREHENSIVE)
        .only("id", "path", "name", "parent_id")
    }
    rows = list(
        Building.objects.filter(grid_id__in=grids)
        .select_related("compound")
        .only("id", "name", "lon", "lat", "households", "grid_id", "compound_id", "compound__name")
        .order_by("id")
    )
    residents = Counter(
        dict(
            Person.objects.filter(dwelling__building_id__in=[b.pk for b in rows])
            .order_by()
            .values("dwelling__building_id")
            .annotate(n=Count("pk"))
            .values_list("dwelling__building_id", "n")
        )
    )
    if rows:
        lon0 = sum(b.lon for b in rows) / len(rows)
        lat0 = sum(b.lat for b in rows) / len(rows)
    else:
        lon0, lat0 = area.lon or 0.0, area.lat or 0.0
    buildings = []
    for b in rows:
        x, y = project_lonlat(b.lon, b.lat, lon0=lon0, lat0=lat0)
        grid = grids[b.grid_id]
        buildings.append(
            BuildingInput(
                id=b.pk,
                x=x,
                y=y,
                households=b.households,
                residents=residents.get(b.pk, 0),
                compound=b.compound_id,
                parent=label.get(grid.parent_id),
            )
        )
    return PlanningInput(
        area=area,
        communities=communities,
        buildings=buildings,
        existing={b.pk: grids[b.grid_id].path for b in rows},
        origin=(lon0, lat0),
        grid_names={g.path: g.name for g in grids.values()},
        parents={name: pk for pk, name in label.items()},
        building_names={b.pk: str(b) for b in rows},
    )


def current_grids(area: Area) -> list[dict[str, Any]]:
    """The comprehensive grids below ``area`` with their stored households and shapes."""
    communities = communities_of(area)
    counts = dict(
        Building.objects.filter(grid__parent__in=communities)
        .order_by()
        .values("grid_id")
        .annotate(n=Count("pk"))
        .values_list("grid_id", "n")
    )
    sums = dict(
        Building.objects.filter(grid__parent__in=communities)
        .order_by()
        .values("grid_id")
        .annotate(h=Sum("households"))
        .values_list("grid_id", "h")
    )
    out = []
    for g in Area.objects.grids().filter(parent__in=communities, grid_kind=GridKind.COMPREHENSIVE):
        out.append(
            {
                "id": g.pk,
                "path": g.path,
                "name": g.name,
                "buildings": counts.get(g.pk, 0),
                "households": sums.get(g.pk) or 0,
                "geometry": g.geometry,
            }
        )
    return out


def proposals_for(*, user: Any, area: Area, limit: int = 20) -> list[PlanProposal]:
    scope = scope_for(user, VIEW)
    if not scope.covers_path(area.path):
        raise NotFound()
    return list(PlanProposal.objects.filter(area=area).select_related("created_by", "decided_by")[:limit])


def proposal_for(*, user: Any, pk: int, capability: str = VIEW) -> PlanProposal:
    proposal = PlanProposal.objects.select_related("area").filter(pk=pk).first()
    if proposal is None or not scope_for(user, capability).covers_path(proposal.path):
        raise NotFound()
    return proposal


def in_scope(scope: Scope, area: Area) -> bool:
    return scope.covers_path(area.path)
