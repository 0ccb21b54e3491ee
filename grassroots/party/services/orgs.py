"""The organisation tree: create, edit and deactivate party organisations; committee seats.

The tree mirrors the place tree. Each level sits on an area of a given level and hangs under the
organisation of the area above it:

    街道党工委 (subdistrict)  → 社区党委/大党委 (community) → 网格党支部 (comprehensive or dedicated grid)
                              → 楼栋党小组 (a building of that grid; a micro-grid's building hangs under
                                the branch of the grid that holds the micro-grid)
    驻区单位党组织 (a unit, at any area from the subdistrict down, optionally under a committee above it)

Micro-grids (精微网格) get no branch of their own: they are covered by their grid's branch.
"""

from __future__ import annotations

from datetime import date

from django.db import transaction

from grassroots.audit.services import Actor, audit_record
from grassroots.core import clock
from grassroots.core.errors import DomainError, NotFound
from grassroots.core.scope import Scope
from grassroots.party.models import CommitteeSeat, OrgLevel, PartyOrg
from grassroots.places.models import Area, AreaLevel, Building, GridKind
from grassroots.registry.models import Person, Unit

# Grid kinds that must each have their own organisation (一网格一组织).
BRANCH_GRID_KINDS = (GridKind.COMPREHENSIVE, GridKind.DEDICATED)
# The levels of which an area holds at most one active organisation.
ONE_PER_AREA = (OrgLevel.WORKING_COMMITTEE, OrgLevel.COMMUNITY_COMMITTEE, OrgLevel.GRID_BRANCH)
AREA_LEVEL = {
    OrgLevel.WORKING_COMMITTEE: AreaLevel.SUBDISTRICT,
    OrgLevel.COMMUNITY_COMMITTEE: AreaLevel.COMMUNITY,
    OrgLevel.GRID_BRANCH: AreaLevel.GRID,
}
PARENT_LEVEL = {
    OrgLevel.COMMUNITY_COMMITTEE: OrgLevel.WORKING_COMMITTEE,
    OrgLevel.GRID_BRANCH: OrgLevel.COMMUNITY_COMMITTEE,
    OrgLevel.BUILDING_GROUP: OrgLevel.GRID_BRANCH,
}
SEAT_POSTS = ("书记", "副书记", "委员", "兼职委员")


def _clean_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 100:
        raise DomainError("组织名称不能为空，且不超过100个字。", field="name")
    return name


def _check_name_free(name: str, parent: PartyOrg | None, area: Area, exclude: int | None = None) -> None:
    siblings = PartyOrg.objects.filter(name=name)
    # Top-level organisations have no parent: their names are unique within the same area.
    siblings = siblings.filter(parent=parent) if parent is not None else siblings.filter(parent=None, area=area)
    if exclude is not None:
        siblings = siblings.exclude(pk=exclude)
    if siblings.exists():
        raise DomainError(f"同一上级组织下已有名为“{name}”的组织。", field="name")


def _branch_grid(grid: Area) -> Area:
    """The grid whose branch covers ``grid``: itself, or the grid holding a micro-grid."""
    if grid.grid_kind == GridKind.MICRO and grid.parent_id is not None:
        parent = Area.objects.get(pk=grid.parent_id)
        if parent.level == AreaLevel.GRID:
            return parent
    return grid


def _expected_parent_area(level: str, area: Area) -> Area | None:
    if level in (OrgLevel.COMMUNITY_COMMITTEE, OrgLevel.GRID_BRANCH):
        return Area.objects.filter(pk=area.parent_id).first() if area.parent_id is not None else None
    if level == OrgLevel.BUILDING_GROUP:
        return _branch_grid(area)
    return None


def expected_parent(level: str, area: Area) -> PartyOrg | None:
    """The active organisation a new one at ``area`` hangs under (it may lie above the actor's scope)."""
    parent_area = _expected_parent_area(level, area)
    if parent_area is None or level not in PARENT_LEVEL:
        return None
    return PartyOrg.objects.filter(level=PARENT_LEVEL[OrgLevel(level)], area=parent_area, is_active=True).first()


def _check_placement(
    level: str, area: Area, parent: PartyOrg | None, building: Building | None, unit: Unit | None
) -> None:
    if level not in OrgLevel.values:
        raise DomainError(f"未知的组织层级“{level}”。", field="level")
    wanted = AREA_LEVEL.get(OrgLevel(level))
    if wanted is not None and area.level != wanted:
        raise DomainError(
            f"{OrgLevel(level).label}应设在{AreaLevel(wanted).label}，“{area.name}”是{area.kind_label}。", field="area"
        )
    if level == OrgLevel.GRID_BRANCH and area.grid_kind not in BRANCH_GRID_KINDS:
        raise DomainError("精微网格不单独设立党支部，由所在网格的党支部覆盖。", field="area")
    if level == OrgLevel.BUILDING_GROUP:
        if building is None:
            raise DomainError("楼栋党小组须指定楼栋。", field="building")
        if building.grid_id != area.pk:
            raise DomainError("楼栋不在所选网格内。", field="building")
    elif building is not None:
        raise DomainError("只有楼栋党小组需要指定楼栋。", field="building")
    if level == OrgLevel.UNIT:
        if unit is None:
            raise DomainError("驻区单位党组织须指定所属单位。", field="unit")
        if area.level in (AreaLevel.CITY, AreaLevel.DISTRICT):
            raise DomainError("驻区单位党组织应设在街道、社区或网格。", field="area")
    elif unit is not None:
        raise DomainError("只有驻区单位党组织需要指定所属单位。", field="unit")
    # The parent: the organisation of the area above, at the level above.
    if level == OrgLevel.WORKING_COMMITTEE:
        if parent is not None:
            raise DomainError("街道党工委是组织树的顶层，不设上级党组织。", field="parent")
        return
    if level == OrgLevel.UNIT:
        if parent is None:
            return
        if parent.level not in (OrgLevel.WORKING_COMMITTEE, OrgLevel.COMMUNITY_COMMITTEE) or not (
            area.path == parent.path or area.path.startswith(parent.path + ".")
        ):
            raise DomainError("驻区单位党组织的上级应为所在街道党工委或社区党委。", field="parent")
        if not parent.is_active:
            raise DomainError("上级党组织已撤销。", field="parent")
        return
    parent_level = PARENT_LEVEL[OrgLevel(level)]
    parent_area = _expected_parent_area(level, area)
    if parent is None or parent.level != parent_level or parent_area is None or parent.area_id != parent_area.pk:
        where = parent_area.name if parent_area is not None else "上一级区域"
        raise DomainError(f"{OrgLevel(level).label}的上级应为{where}的{OrgLevel(parent_level).label}。", field="parent")
    if not parent.is_active:
        raise DomainError("上级党组织已撤销。", field="parent")


@transaction.atomic
def org_create(
    *,
    actor: Actor,
    scope: Scope,
    level: str,
    name: str,
    area: Area,
    parent: PartyOrg | None = None,
    building: Building | None = None,
    unit: Unit | None = None,
    secretary: Person | None = None,
    founded_on: date | None = None,
) -> PartyOrg:
    """A new organisation at ``area`` (in the actor's scope), placed where the tree says."""
    if not scope.covers_path(area.path):
        raise NotFound()
    name = _clean_name(name)
    if parent is None and level in PARENT_LEVEL and level in OrgLevel.values:
        parent = expected_parent(level, area)
    _check_placement(level, area, parent, building, unit)
    if level in ONE_PER_AREA and PartyOrg.objects.filter(level=level, area=area, is_active=True).exists():
        raise DomainError(f"“{area.name}”已有有效的{OrgLevel(level).label}。", field="area")
    if (
        level == OrgLevel.BUILDING_GROUP
        and PartyOrg.objects.filter(level=level, building=building, is_active=True).exists()
    ):
        raise DomainError("该楼栋已有有效的楼栋党小组。", field="building")
    _check_secretary(scope, secretary)
    if founded_on is not None and founded_on > clock.today():
        raise DomainError("成立日期不能晚于今天。", field="founded_on")
    _check_name_free(name, parent, area)
    now = clock.now()
    org = PartyOrg.objects.create(
        parent=parent,
        level=level,
        name=name,
        area=area,
        building=building,
        unit=unit,
        path=area.path,
        secretary=secretary,
        founded_on=founded_on,
        created_at=now,
        updated_at=now,
    )
    audit_record(
        actor=actor,
        action="party.org.create",
        object_type="party_org",
        object_id=org.pk,
        area_path=org.path,
        detail={"level": level, "name": name, "parent": parent.pk if parent else None},
    )
    return org


def _check_secretary(scope: Scope, secretary: Person | None) -> None:
    if secretary is not None and not scope.covers_path(secretary.path):
        raise DomainError("书记须为管辖范围内登记的人员。", field="secretary")


@transaction.atomic
def org_update(
    *,
    actor: Actor,
    scope: Scope,
    org: PartyOrg,
    name: str,
    secretary: Person | None = None,
    founded_on: date | None = None,
) -> PartyOrg:
    """Rename an organisation, set its secretary and founding date (its place in the tree stays)."""
    if not scope.covers_path(org.path):
        raise NotFound()
    if not org.is_active:
        raise DomainError("已撤销的组织不能修改。")
    name = _clean_name(name)
    _check_name_free(name, org.parent, org.area, exclude=org.pk)
    _check_secretary(scope, secretary)
    if founded_on is not None and founded_on > clock.today():
        raise DomainError("成立日期不能晚于今天。", field="founded_on")
    changed = {
        f: str(v)
        for f, v in (("name", name), ("secretary", secretary.pk if secretary else None), ("founded_on", founded_on))
        if getattr(org, "secretary_id" if f == "secretary" else f) != v
    }
    org.name, org.secretary, org.founded_on, org.updated_at = name, secretary, founded_on, clock.now()
    org.save(update_fields=["name", "secretary", "founded_on", "updated_at"])
    audit_record(
        actor=actor,
        action="party.org.update",
        object_type="party_org",
        object_id=org.pk,
        area_path=org.path,
        detail={"changed": sorted(changed)},
    )
    return org


@transaction.atomic
def org_deactivate(*, actor: Actor, scope: Scope, org: PartyOrg, reason: str) -> PartyOrg:
    """Dissolve an organisation that has no active sub-organisations and no active members left."""
    if not scope.covers_path(org.path):
        raise NotFound()
    if not org.is_active:
        raise DomainError("该组织已撤销。")
    if len(reason.strip()) < 2:
        raise DomainError("请填写撤销原因。", field="reason")
    if org.children.filter(is_active=True).exists():
        raise DomainError("请先撤销或调整其下级党组织。")
    if org.members.filter(is_active=True).exists():
        raise DomainError("该组织仍有党员，请先转接组织关系。")
    org.is_active = False
    org.updated_at = clock.now()
    org.save(update_fields=["is_active", "updated_at"])
    org.seats.filter(until=None).update(until=clock.today())
    audit_record(
        actor=actor,
        action="party.org.deactivate",
        object_type="party_org",
        object_id=org.pk,
        area_path=org.path,
        detail={"reason": reason.strip()[:200]},
    )
    return org


@transaction.atomic
def seat_add(
    *,
    actor: Actor,
    scope: Scope,
    org: PartyOrg,
    name: str,
    post: str,
    since: date,
    part_time: bool = False,
    person: Person | None = None,
    from_unit: Unit | None = None,
    from_department: str = "",
) -> CommitteeSeat:
    """A seat on a committee; a part-time member (兼职委员) names the unit or department they come from."""
    if not scope.covers_path(org.path):
        raise NotFound()
    if not org.is_active:
        raise DomainError("已撤销的组织不能增加委员。")
    if org.level not in (OrgLevel.WORKING_COMMITTEE, OrgLevel.COMMUNITY_COMMITTEE, OrgLevel.GRID_BRANCH):
        raise DomainError("只有党工委、社区党委和网格党支部设委员。", field="org")
    name = (person.name if person is not None and not name.strip() else name).strip()
    if not name or len(name) > 50:
        raise DomainError("请填写委员姓名（不超过50个字）。", field="name")
    if post not in SEAT_POSTS:
        raise DomainError(f"职务应为：{'、'.join(SEAT_POSTS)}。", field="post")
    if post == "兼职委员":
        part_time = True
    from_department = from_department.strip()[:100]
    if part_time and from_unit is None and not from_department:
        raise DomainError("兼职委员须注明来自的单位或部门（如派出所、城管中队、共建单位）。", field="from_department")
    if since > clock.today():
        raise DomainError("任职日期不能晚于今天。", field="since")
    if person is not None and org.seats.filter(person=person, until=None).exists():
        raise DomainError("此人已在该组织任职。", field="person")
    if post == "书记" and org.seats.filter(post="书记", until=None).exists():
        raise DomainError("该组织已有在任书记。", field="post")
    seat = CommitteeSeat.objects.create(
        org=org,
        person=person,
        name=name,
        post=post,
        part_time=part_time,
        from_unit=from_unit,
        from_department=from_department,
        since=since,
        path=org.path,
    )
    audit_record(
        actor=actor,
        action="party.seat.add",
        object_type="party_seat",
        object_id=seat.pk,
        area_path=org.path,
        detail={"org": org.pk, "post": post, "part_time": part_time},
    )
    return seat


@transaction.atomic
def seat_end(*, actor: Actor, scope: Scope, seat: CommitteeSeat, until: date) -> CommitteeSeat:
    if not scope.covers_path(seat.path):
        raise NotFound()
    if seat.until is not None:
        raise DomainError("该委员已离任。")
    if until < seat.since:
        raise DomainError("离任日期不能早于任职日期。", field="until")
    seat.until = until
    seat.save(update_fields=["until"])
    audit_record(actor=actor, action="party.seat.end", object_type="party_seat", object_id=seat.pk, area_path=seat.path)
    return seat
