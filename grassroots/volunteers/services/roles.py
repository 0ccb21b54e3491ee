"""Building roles below the grid: 楼栋长 per building, 单元长 per entrance, 中心户.

Appointing a building or entrance head replaces the current one (their term ends the day before
the new one starts), so history is kept and there is never more than one current head (the
database enforces it too). A person who does not live in the building can still be appointed,
with a warning, since the rule prefers residents but a neighbour may have to stand in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db import IntegrityError, transaction

from grassroots.audit.services import audit_record
from grassroots.core.errors import DomainError
from grassroots.places.models import Building, Entrance
from grassroots.registry.models import Person
from grassroots.volunteers.models import BuildingRole, BuildingRoleKind
from grassroots.volunteers.services._common import audit_actor, manage_scope, require_path, today


@dataclass(frozen=True)
class Appointment:
    role: BuildingRole
    replaced: BuildingRole | None = None
    warnings: list[str] = field(default_factory=list)


def _lives_in(person: Person, building: Building) -> bool:
    return person.dwelling_id is not None and person.dwelling is not None and person.dwelling.building_id == building.pk


def building_role_appoint(
    *,
    actor: Any,
    kind: str,
    person: Person,
    building: Building,
    entrance: Entrance | None = None,
    since: date | None = None,
) -> Appointment:
    """Appoint ``person`` as 楼栋长/单元长/中心户 of ``building`` (an entrance for 单元长)."""
    scope = manage_scope(actor)
    require_path(scope, building.path)
    require_path(scope, person.path)
    if kind not in BuildingRoleKind.values:
        raise DomainError(f"未知的楼栋力量类别“{kind}”。", field="kind")
    since = since or today()
    if since > today() + timedelta(days=366):
        raise DomainError("任职日期不能晚于一年以后。", field="since")
    if kind == BuildingRoleKind.ENTRANCE_HEAD and entrance is None:
        raise DomainError("任命单元长时请选择单元。", field="entrance")
    if entrance is not None and entrance.building_id != building.pk:
        raise DomainError("所选单元不属于该楼栋。", field="entrance")
    if kind == BuildingRoleKind.BUILDING_HEAD:
        entrance = None
    warnings = []
    if not _lives_in(person, building):
        warnings.append(f"{person.name} 不是 {building.name} 的住户，建议优先选择本楼住户。")
    with transaction.atomic():
        current = BuildingRole.objects.select_for_update().filter(building=building, kind=kind, until__isnull=True)
        if kind == BuildingRoleKind.ENTRANCE_HEAD:
            current = current.filter(entrance=entrance)
        elif kind == BuildingRoleKind.CENTRAL_HOUSEHOLD:
            current = current.filter(person=person)
        replaced = current.first()
        if replaced is not None:
            if kind == BuildingRoleKind.CENTRAL_HOUSEHOLD or replaced.person_id == person.pk:
                raise DomainError(f"{person.name} 已是该{BuildingRoleKind(kind).label}。", field="person")
            if since <= replaced.since:
                raise DomainError(
                    f"新任职日期应晚于现任 {replaced.person.name} 的任职日期（{replaced.since:%Y-%m-%d}）。",
                    field="since",
                )
            replaced.until = since - timedelta(days=1)
            replaced.save(update_fields=["until"])
        try:
            with transaction.atomic():
                role = BuildingRole.objects.create(
                    person=person, kind=kind, building=building, entrance=entrance, since=since, path=building.path
                )
        except IntegrityError as exc:  # a concurrent appointment won the race
            raise DomainError("刚刚已有他人任命了现任人选，请刷新后重试。") from exc
        audit_record(
            actor=audit_actor(actor),
            action="volunteers.building_role.appoint",
            object_type="building_role",
            object_id=role.pk,
            area_path=role.path,
            detail={
                "kind": kind,
                "person": person.pk,
                "building": building.pk,
                "entrance": entrance.pk if entrance else None,
                "replaced": replaced.pk if replaced else None,
                "resident": not warnings,
            },
        )
    return Appointment(role=role, replaced=replaced, warnings=warnings)


@transaction.atomic
def building_role_end(*, actor: Any, role: BuildingRole, until: date | None = None) -> BuildingRole:
    """End a term (stepping down without a successor); the row stays as history."""
    scope = manage_scope(actor)
    require_path(scope, role.path)
    role = BuildingRole.objects.select_for_update().get(pk=role.pk)
    if role.until is not None:
        raise DomainError("该任职已结束。")
    until = until or today()
    if until < role.since:
        raise DomainError("离任日期不能早于任职日期。", field="until")
    role.until = until
    role.save(update_fields=["until"])
    audit_record(
        actor=audit_actor(actor),
        action="volunteers.building_role.end",
        object_type="building_role",
        object_id=role.pk,
        area_path=role.path,
        detail={"until": until.isoformat()},
    )
    return role
