"""Services for re-planning grids: move a building (with its entrances and dwellings) to another grid.

Kept beside ``services.py`` (a module, not a package). Atomic and audited like the other place
writes. Rows of higher apps that carry the building's grid path (registry persons, households and
residences) are re-pathed by their own app's service; this module only touches the place tree.
"""

from __future__ import annotations

from django.db import transaction

from grassroots.audit.services import Actor, audit_record
from grassroots.core.errors import DomainError
from grassroots.places.models import Area, AreaLevel, Building, Dwelling, Entrance


@transaction.atomic
def building_move(*, actor: Actor, building: Building, grid: Area, reason: str = "") -> Building:
    """Put ``building`` in ``grid``: the building, its entrances and its dwellings take the grid's path."""
    if grid.level != AreaLevel.GRID:
        raise DomainError("楼栋只能移入网格。", field="grid")
    if grid.retired_at is not None:
        raise DomainError(f"“{grid.name}”已撤销，不能移入楼栋。", field="grid")
    if building.compound_id is not None:
        compound_path = building.compound.path if building.compound else ""
        if compound_path and not (grid.path + ".").startswith(compound_path + "."):
            raise DomainError("楼栋所属小区不在目标网格所在的社区内。", field="grid")
    old = building.path
    if building.grid_id == grid.pk and old == grid.path:
        return building
    building.grid = grid
    building.path = grid.path
    building.save(update_fields=["grid", "path"])
    Entrance.objects.filter(building=building).update(path=grid.path)
    Dwelling.objects.filter(building=building).update(path=grid.path)
    audit_record(
        actor=actor,
        action="places.building.move",
        object_type="building",
        object_id=building.pk,
        area_path=grid.path,
        detail={"from": old, "to": grid.path, "reason": reason},
    )
    return building
