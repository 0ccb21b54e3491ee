"""Grid planning in the platform (issue 9): run the planner on an area's buildings, store the
proposal, accept it (new grids through the places services, buildings moved, old plan kept) or
discard it.

The engine is ``grassroots.places.planning`` (pure); the input comes from
``selectors/planning.py``. Every write is atomic and audited.
"""

from __future__ import annotations

import logging
import math
from collections import Counter, defaultdict
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.db import transaction
from shapely import transform
from shapely.geometry import mapping

from grassroots.accounts.models import GridRoleAssignment
from grassroots.accounts.services import grid_role_end
from grassroots.audit.services import Actor, actor_of, audit_record
from grassroots.core import clock
from grassroots.core.errors import DomainError
from grassroots.insights.models import PlanProposal, ProposalStatus
from grassroots.insights.selectors.planning import PlanningInput, planning_input
from grassroots.insights.services.rollups import registry_rollup_refresh
from grassroots.places import services as places
from grassroots.places.models import Area, AreaLevel, Building, GridKind
from grassroots.places.planning import GRID, NoPlanError, atoms_from_buildings, plan
from grassroots.places.replan import building_move
from grassroots.registry.models import Person
from grassroots.registry.services.relocate import residents_follow_building

log = logging.getLogger(__name__)
EARTH_RADIUS = 6_371_008.8  # the radius of ``project_lonlat``


def _who(actor: Any) -> Actor:
    return actor if isinstance(actor, Actor) else actor_of(actor)


def _user(actor: Any) -> Any:
    return None if isinstance(actor, Actor) or not getattr(actor, "is_authenticated", False) else actor


@dataclass(frozen=True)
class PlanParams:
    floor: int = GRID.floor
    ceiling: int = GRID.ceiling

    def check(self) -> None:
        if not 0 < self.floor <= self.ceiling:
            raise DomainError("户数下限必须大于0且不超过上限。", field="floor")


def _to_lonlat(origin: tuple[float, float]) -> Any:
    """The inverse of ``project_lonlat`` around ``origin``, on a coordinate array."""
    lon0, lat0 = origin
    k = math.cos(math.radians(lat0))

    def back(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(
            (lon0 + np.degrees(xy[:, 0] / (EARTH_RADIUS * k)), lat0 + np.degrees(xy[:, 1] / EARTH_RADIUS))
        ).round(7)

    return back


def compute(data: PlanningInput, params: PlanParams) -> dict[str, Any]:
    """Run the planner on ``data``; the proposal's ``result`` (JSON). Raises ``NoPlanError``."""
    params.check()
    atoms = atoms_from_buildings(data.buildings, split_above=params.ceiling)
    existing: dict[Hashable, Hashable] = {}
    for a in atoms:
        key = a.building if a.building is not None else a.id
        if key in data.existing:
            existing[a.id] = data.existing[int(key)]  # type: ignore[call-overload]
    result = plan(atoms, floor=params.floor, ceiling=params.ceiling, existing=existing)
    back = _to_lonlat(data.origin)
    # A building over the ceiling is planned by entrances; stored buildings have one grid: the unit
    # with most of its households takes it.
    share: dict[int, Counter[str]] = defaultdict(Counter)
    for a in atoms:
        building = int(a.building if a.building is not None else a.id)  # type: ignore[call-overload]
        share[building][result.assignment[a.id]] += a.households
    assignment = {b: c.most_common(1)[0][0] for b, c in share.items()}
    units = []
    for i, u in enumerate(sorted(result.units, key=lambda u: (str(u.parent), u.label)), start=1):
        kept = bool(u.existing) and u.label in data.grid_names
        units.append(
            {
                "label": u.label,
                "name": data.grid_names[u.label] if kept else f"新网格{i}",
                "existing": kept,
                "community": data.parents.get(str(u.parent)),
                "community_name": str(u.parent or ""),
                "households": u.households,
                "residents": u.residents,
                "within_bounds": u.within_bounds,
                "contiguous": u.contiguous,
                "compactness": None if u.compactness is None else round(u.compactness, 3),
                "compounds_split": u.compounds_split,
                "boundary_on_roads": round(u.boundary_on_roads, 3),
                "boundary_on_walls": round(u.boundary_on_walls, 3),
                "households_moved": u.households_moved,
                "buildings": sorted(b for b, label in assignment.items() if label == u.label),
                "polygon": mapping(transform(u.polygon, back)) if u.polygon is not None else None,
            }
        )
    return {
        "units": units,
        "assignment": {str(b): label for b, label in assignment.items()},
        "before": {str(b): path for b, path in data.existing.items()},
        "floor": params.floor,
        "ceiling": params.ceiling,
        "lower_bound": result.lower_bound,
        "compounds_split": result.compounds_split,
        "compounds_split_avoidable": result.compounds_split_avoidable,
        "households_moved": result.households_moved,
        "households": sum(b.households for b in data.buildings),
        "buildings": len(data.buildings),
        "seconds": round(result.seconds, 3),
    }


@transaction.atomic
def proposal_create(*, actor: Any, area: Area, floor: int = GRID.floor, ceiling: int = GRID.ceiling) -> PlanProposal:
    """Plan ``area`` and store the proposal. Raises ``NoPlanError`` (nothing stored) where no plan exists."""
    params = PlanParams(floor, ceiling)
    data = planning_input(area)
    if not data.buildings:
        raise DomainError("该区域的综合网格中没有楼栋，无法规划。", field="area")
    try:
        result = compute(data, params)
    except NoPlanError as error:
        log.info("no grid plan for %s: %s", area.path, error)
        raise
    proposal = PlanProposal.objects.create(
        area=area,
        path=area.path,
        params={"floor": floor, "ceiling": ceiling},
        result=result,
        created_by=_user(actor),
        created_at=clock.now(),
    )
    audit_record(
        actor=_who(actor),
        action="insights.plan.propose",
        object_type="plan_proposal",
        object_id=proposal.pk,
        area_path=area.path,
        detail={"floor": floor, "ceiling": ceiling, "units": len(result["units"])},
    )
    return proposal


def _new_code(community: Area, taken: set[str]) -> str:
    n = 1
    while f"P{n:02d}" in taken:
        n += 1
    code = f"P{n:02d}"
    taken.add(code)
    return code


def _retire_emptied(
    *, actor: Actor, grids: list[Area], proposal: PlanProposal
) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """Retire the old grids the plan left without buildings, so they leave the live lists.

    Their role holders' terms end today (who they were and where they are suggested to go is in
    ``proposal.staff``). A grid that still has people placed on it without a dwelling, or that
    cannot be retired for another reason, stays live and is reported with the reason.
    """
    today = clock.today()
    retired: list[dict[str, str]] = []
    kept: list[dict[str, str]] = []
    for grid in grids:
        people = Person.objects.filter(path=grid.path).count()
        if people:
            kept.append({"path": grid.path, "name": grid.name, "reason": f"仍有{people}名人员登记在该网格"})
            continue
        try:
            with transaction.atomic():  # a refusal also undoes the ended terms
                for row in GridRoleAssignment.objects.select_for_update().filter(grid=grid, until__isnull=True):
                    grid_role_end(actor=actor, assignment=row, until=today, reason=f"plan proposal {proposal.pk}")
                places.area_retire(actor=actor, area=grid, reason=f"网格划分方案{proposal.pk}采纳后已无楼栋")
        except DomainError as error:
            kept.append({"path": grid.path, "name": grid.name, "reason": error.message})
            continue
        retired.append({"path": grid.path, "name": grid.name})
    return retired, kept


@transaction.atomic
def proposal_accept(*, actor: Any, proposal: PlanProposal) -> PlanProposal:
    """Create the new grids, move the buildings, keep the old assignment and suggest staff moves.

    Refuses a proposal that is not pending, or whose buildings changed grid since it was made.
    """
    proposal = PlanProposal.objects.select_for_update().get(pk=proposal.pk)
    if proposal.status != ProposalStatus.PROPOSED:
        raise DomainError(f"该方案{proposal.get_status_display()}，不能再次采纳。", code="conflict")
    assignment: dict[str, str] = proposal.result.get("assignment", {})
    buildings = {
        b.pk: b for b in Building.objects.filter(pk__in=[int(k) for k in assignment]).select_related("compound")
    }
    previous = {str(pk): b.path for pk, b in buildings.items()}
    grids_before = {g.path: g for g in Area.objects.filter(path__in=set(previous.values()))}
    # Stale: a building moved or disappeared since the proposal was computed.
    units = proposal.result["units"]
    before: dict[str, str] = proposal.result.get("before", {})
    if len(buildings) != len(assignment) or any(before.get(k) != v for k, v in previous.items()):
        raise DomainError("方案生成后楼栋已有变化，请重新生成方案。", code="conflict")
    communities = {c.pk: c for c in Area.objects.filter(pk__in={u["community"] for u in units})}
    target: dict[str, Area] = {}
    for u in units:
        if u["existing"]:
            grid = Area.objects.grids().filter(path=u["label"]).first()
            if grid is None:
                raise DomainError(f"原网格「{u['name']}」已不存在，请重新生成方案。", code="conflict")
            target[u["label"]] = grid
    for u in units:
        if u["existing"]:
            continue
        community = communities[u["community"]]
        taken = set(Area.objects.filter(parent=community).values_list("code", flat=True))
        grid = places.area_create(
            actor=_who(actor),
            parent=community,
            level=AreaLevel.GRID,
            code=_new_code(community, taken),
            name=u["name"],
            grid_kind=GridKind.COMPREHENSIVE,
            geometry=u["polygon"],
        )
        target[u["label"]] = grid
    for u in units:
        if u["existing"] and u["polygon"]:
            places.area_set_geometry(actor=_who(actor), area=target[u["label"]], geometry=u["polygon"])
    moved = 0
    old_to_new: dict[str, Counter[str]] = defaultdict(Counter)
    for key, label in assignment.items():
        b = buildings[int(key)]
        grid = target[label]
        old_to_new[b.path][grid.path] += b.households
        if b.path != grid.path:
            building_move(actor=_who(actor), building=b, grid=grid, reason=f"plan proposal {proposal.pk}")
            residents_follow_building(actor=_who(actor), building=b)
            moved += 1
    # The dashboards' households per grid follow the buildings at once (the registry rollup).
    registry_rollup_refresh(sorted(set(previous.values()) | {g.path for g in target.values()}))
    names = {g.path: g.name for g in target.values()}
    staff = []
    for assignment_row in GridRoleAssignment.objects.filter(
        grid__path__in=list(grids_before), until__isnull=True
    ).select_related("grid"):
        counts = old_to_new.get(assignment_row.grid.path)
        suggestion = counts.most_common(1)[0][0] if counts else ""
        staff.append(
            {
                "name": assignment_row.name,
                "kind": assignment_row.get_kind_display(),
                "user_id": assignment_row.user_id,
                "old_grid": assignment_row.grid.name,
                "old_path": assignment_row.grid.path,
                "suggested_path": suggestion,
                "suggested_grid": names.get(suggestion, ""),
                "stays": suggestion == assignment_row.grid.path,
            }
        )
    emptied = sorted(p for p in grids_before if p not in names)
    retired, kept = _retire_emptied(actor=_who(actor), grids=[grids_before[p] for p in emptied], proposal=proposal)
    proposal.previous = {
        "buildings": previous,
        "grids": {p: g.name for p, g in grids_before.items()},
        "emptied": emptied,
        "retired": retired,
        "not_retired": kept,
        "buildings_moved": moved,
    }
    proposal.staff = staff
    proposal.status = ProposalStatus.ACCEPTED
    proposal.decided_by = _user(actor)
    proposal.decided_at = clock.now()
    proposal.result = {**proposal.result, "grid_paths": {label: g.path for label, g in target.items()}}
    proposal.save()
    audit_record(
        actor=_who(actor),
        action="insights.plan.accept",
        object_type="plan_proposal",
        object_id=proposal.pk,
        area_path=proposal.path,
        detail={
            "buildings_moved": moved,
            "grids_created": sum(1 for u in units if not u["existing"]),
            "emptied": emptied,
            "retired": [r["path"] for r in retired],
        },
    )
    return proposal


@transaction.atomic
def proposal_discard(*, actor: Any, proposal: PlanProposal) -> PlanProposal:
    proposal = PlanProposal.objects.select_for_update().get(pk=proposal.pk)
    if proposal.status != ProposalStatus.PROPOSED:
        raise DomainError(f"该方案{proposal.get_status_display()}，不能放弃。", code="conflict")
    proposal.status = ProposalStatus.DISCARDED
    proposal.decided_by = _user(actor)
    proposal.decided_at = clock.now()
    proposal.save(update_fields=["status", "decided_by", "decided_at"])
    audit_record(
        actor=_who(actor),
        action="insights.plan.discard",
        object_type="plan_proposal",
        object_id=proposal.pk,
        area_path=proposal.path,
    )
    return proposal
