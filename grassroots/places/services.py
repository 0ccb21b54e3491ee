"""Writes to the place tree. Each is atomic and audited."""

from __future__ import annotations

import re
from typing import Any

from django.db import transaction

from grassroots.audit.services import Actor, audit_record
from grassroots.core import clock
from grassroots.core.errors import DomainError
from grassroots.core.scope import Scope
from grassroots.places.geo import check_point, parse_polygon
from grassroots.places.models import (
    CHILD_LEVEL,
    Area,
    AreaLevel,
    AreaMode,
    Building,
    Compound,
    CompoundKind,
    Dwelling,
    Entrance,
    GridKind,
    Typology,
)

_CODE = re.compile(r"[0-9A-Za-z]{1,32}\Z")  # \Z: "$" would let a trailing newline into the path


def _geometry_fields(geometry: dict[str, Any] | None) -> dict[str, Any]:
    if geometry is None:
        return {"geometry": None, "lon": None, "lat": None}
    geom = parse_polygon(geometry)
    centre = geom.representative_point()
    return {"geometry": geometry, "lon": round(centre.x, 7), "lat": round(centre.y, 7)}


@transaction.atomic
def area_create(
    *,
    actor: Actor,
    parent: Area | None,
    level: str,
    code: str,
    name: str,
    grid_kind: str = "",
    is_rural: bool = False,
    geometry: dict[str, Any] | None = None,
) -> Area:
    if level not in AreaLevel.values:
        raise DomainError(f"未知的区域层级“{level}”。", field="level")
    if not _CODE.match(code):
        raise DomainError("编码只能由1至32位数字或字母组成。", field="code")
    if not name.strip():
        raise DomainError("名称不能为空。", field="name")
    if parent is not None and parent.retired_at is not None:
        raise DomainError(f"“{parent.name}”已撤销，不能在其下新建区域。", field="parent")
    if parent is None:
        if level != AreaLevel.CITY:
            raise DomainError("只有“市”可以作为顶层区域。", field="parent")
    elif CHILD_LEVEL[AreaLevel(parent.level)] != level:
        raise DomainError(
            f"{AreaLevel(parent.level).label}下只能建{AreaLevel(CHILD_LEVEL[AreaLevel(parent.level)]).label}。",
            field="level",
        )
    if level == AreaLevel.GRID:
        if grid_kind not in GridKind.values:
            raise DomainError("网格必须指定类型：综合网格、专属网格或精微网格。", field="grid_kind")
        if parent is not None and parent.level == AreaLevel.GRID and grid_kind != GridKind.MICRO:
            raise DomainError("网格之下只能划分精微网格。", field="grid_kind")
        if parent is not None and parent.level == AreaLevel.GRID and parent.grid_kind == GridKind.MICRO:
            raise DomainError("精微网格之下不能再划分网格。", field="parent")
        if parent is not None and parent.level == AreaLevel.COMMUNITY and grid_kind == GridKind.MICRO:
            raise DomainError("精微网格必须建在综合网格或专属网格之下。", field="grid_kind")
    elif grid_kind:
        raise DomainError("只有网格才有网格类型。", field="grid_kind")
    if parent is not None and Area.objects.filter(parent=parent, code=code).exists():
        raise DomainError(f"“{parent.name}”下已有编码为 {code} 的区域。", field="code")
    if parent is None and Area.objects.filter(path=code).exists():
        raise DomainError(f"已有编码为 {code} 的顶层区域。", field="code")
    area = Area.objects.create(
        parent=parent,
        level=level,
        grid_kind=grid_kind,
        code=code,
        name=name.strip(),
        path=f"{parent.path}.{code}" if parent else code,
        depth=(parent.depth + 1) if parent else 0,
        is_rural=is_rural,
        **_geometry_fields(geometry),
    )
    audit_record(
        actor=actor,
        action="places.area.create",
        object_type="area",
        object_id=area.pk,
        area_path=area.path,
        detail={"name": area.name, "level": level, "grid_kind": grid_kind},
    )
    return area


@transaction.atomic
def area_set_geometry(*, actor: Actor, area: Area, geometry: dict[str, Any] | None) -> Area:
    for key, value in _geometry_fields(geometry).items():
        setattr(area, key, value)
    area.save()
    audit_record(actor=actor, action="places.area.geometry", object_type="area", object_id=area.pk, area_path=area.path)
    return area


@transaction.atomic
def area_set_mode(*, actor: Actor, area: Area, mode: str, reason: str) -> Area:
    """Switch an area between normal, emergency and drill (平战转换); the whole subtree follows."""
    if mode not in AreaMode.values:
        raise DomainError(f"未知的运行模式“{mode}”。", field="mode")
    if not reason.strip():
        raise DomainError("切换运行模式必须说明原因。", field="reason")
    previous = area.mode
    Area.objects.in_scope(Scope(area_path=area.path)).update(mode=mode)
    area.refresh_from_db()
    audit_record(
        actor=actor,
        action="places.area.mode",
        object_type="area",
        object_id=area.pk,
        area_path=area.path,
        detail={"from": previous, "to": mode, "reason": reason},
    )
    return area


def _what_remains(area: Area) -> list[str]:
    """What still lives in a grid, in words; empty when it may be retired.

    Higher apps' rows are reached through their relations to the place tree (the reverse names
    ``residents`` on a dwelling and ``role_assignments`` on an area), so places imports none of them.
    """
    left = []
    buildings = Building.objects.filter(grid=area).count()
    if buildings:
        left.append(f"{buildings}栋楼栋")
    residents = Dwelling.objects.filter(path=area.path, residents__isnull=False).values("residents").distinct().count()
    if residents:
        left.append(f"{residents}名居住人员")
    holders = list(
        Area.objects.filter(pk=area.pk, role_assignments__isnull=False, role_assignments__until__isnull=True)
        .order_by("role_assignments__kind")
        .values_list("role_assignments__name", flat=True)
    )
    if holders:
        left.append(f"在岗网格四员（{'、'.join(holders)}）")
    children = list(Area.objects.active().filter(parent=area).values_list("name", flat=True))
    if children:
        left.append(f"未撤销的精微网格（{'、'.join(children)}）")
    return left


@transaction.atomic
def area_retire(*, actor: Actor, area: Area, reason: str) -> Area:
    """Retire an empty grid (or micro-grid): it keeps its id, path and history but leaves every live list."""
    area = Area.objects.select_for_update().get(pk=area.pk)
    if area.level != AreaLevel.GRID:
        raise DomainError(f"只能撤销网格，“{area.name}”是{area.kind_label}。", field="area")
    if area.retired_at is not None:
        raise DomainError(f"“{area.name}”已于{area.retired_at:%Y-%m-%d}撤销。", code="conflict")
    if not reason.strip():
        raise DomainError("撤销网格必须说明原因。", field="reason")
    left = _what_remains(area)
    if left:
        raise DomainError(f"“{area.name}”还有{'、'.join(left)}，迁出或调整后才能撤销。", code="conflict")
    area.retired_at = clock.now()
    area.save(update_fields=["retired_at", "updated_at"])
    audit_record(
        actor=actor,
        action="places.area.retire",
        object_type="area",
        object_id=area.pk,
        area_path=area.path,
        detail={"name": area.name, "reason": reason.strip()},
    )
    return area


@transaction.atomic
def area_restore(*, actor: Actor, area: Area, reason: str) -> Area:
    """Bring a retired grid back into use (its parent must still be live)."""
    area = Area.objects.select_for_update().get(pk=area.pk)
    if area.retired_at is None:
        raise DomainError(f"“{area.name}”未撤销。", code="conflict")
    if not reason.strip():
        raise DomainError("恢复网格必须说明原因。", field="reason")
    if area.parent_id is not None and not Area.objects.active().filter(pk=area.parent_id).exists():
        raise DomainError("上级网格已撤销，请先恢复上级网格。", field="area")
    retired_at = area.retired_at
    area.retired_at = None
    area.save(update_fields=["retired_at", "updated_at"])
    audit_record(
        actor=actor,
        action="places.area.restore",
        object_type="area",
        object_id=area.pk,
        area_path=area.path,
        detail={"name": area.name, "reason": reason.strip(), "retired_at": retired_at.isoformat()},
    )
    return area


@transaction.atomic
def compound_create(
    *,
    actor: Actor,
    community: Area,
    name: str,
    kind: str = CompoundKind.COMMODITY,
    built_year: int | None = None,
    geometry: dict[str, Any] | None = None,
) -> Compound:
    if community.level != AreaLevel.COMMUNITY:
        raise DomainError("小区必须隶属于社区。", field="community")
    if kind not in CompoundKind.values:
        raise DomainError(f"未知的小区类型“{kind}”。", field="kind")
    if not name.strip():
        raise DomainError("小区名称不能为空。", field="name")
    compound = Compound.objects.create(
        community=community,
        path=community.path,
        name=name.strip(),
        kind=kind,
        built_year=built_year,
        **_geometry_fields(geometry),
    )
    audit_record(
        actor=actor,
        action="places.compound.create",
        object_type="compound",
        object_id=compound.pk,
        area_path=compound.path,
        detail={"name": compound.name},
    )
    return compound


@transaction.atomic
def building_create(
    *,
    actor: Actor,
    grid: Area,
    name: str,
    typology: str,
    floors: int,
    entrances: int,
    dwellings_per_floor: int,
    lon: float,
    lat: float,
    compound: Compound | None = None,
    address: str = "",
    geometry: dict[str, Any] | None = None,
) -> Building:
    """A residential building with its entrances and dwellings (room = floor × 100 + position)."""
    if grid.level != AreaLevel.GRID:
        raise DomainError("楼栋必须落在网格内。", field="grid")
    if grid.retired_at is not None:
        raise DomainError(f"“{grid.name}”已撤销，不能再建楼栋。", field="grid")
    if compound is not None and not (grid.path + ".").startswith(compound.path + "."):
        raise DomainError("楼栋所在网格不属于该小区所在的社区。", field="compound")
    if typology not in Typology.values:
        raise DomainError(f"未知的楼栋类型“{typology}”。", field="typology")
    if not 1 <= floors <= 200:
        raise DomainError("层数应在1到200之间。", field="floors")
    if not 1 <= entrances <= 50:
        raise DomainError("单元数应在1到50之间。", field="entrances")
    if not 1 <= dwellings_per_floor <= 50:
        raise DomainError("每层户数应在1到50之间。", field="dwellings_per_floor")
    if not name.strip():
        raise DomainError("楼栋名称不能为空。", field="name")
    check_point(lon, lat)
    if geometry is not None:
        parse_polygon(geometry)
    building = Building.objects.create(
        grid=grid,
        compound=compound,
        path=grid.path,
        name=name.strip(),
        address=address,
        typology=typology,
        floors=floors,
        households=floors * entrances * dwellings_per_floor,
        geometry=geometry,
        lon=lon,
        lat=lat,
    )
    for number in range(1, entrances + 1):
        entrance = Entrance.objects.create(building=building, path=grid.path, number=number)
        Dwelling.objects.bulk_create(
            Dwelling(entrance=entrance, building=building, path=grid.path, floor=floor, room=f"{floor}{pos:02d}")
            for floor in range(1, floors + 1)
            for pos in range(1, dwellings_per_floor + 1)
        )
    audit_record(
        actor=actor,
        action="places.building.create",
        object_type="building",
        object_id=building.pk,
        area_path=building.path,
        detail={"name": building.name, "households": building.households},
    )
    return building
