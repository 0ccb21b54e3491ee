"""Partner units and party-building alliances (党建联盟): alliances, member units, pairings (挂钩结对),
the rotation duty (轮值) and the five lists (五张清单).

Every write takes the actor and the actor's ``party.manage`` scope; the place it touches (the
alliance's area, the paired community) must lie inside that scope, else ``NotFound``. Units may
sit anywhere (a district agency joins a community's alliance), so units are not scope-checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from grassroots.audit.services import Actor, audit_record
from grassroots.core import clock
from grassroots.core.errors import DomainError, NotFound
from grassroots.core.scope import Scope
from grassroots.party import rotation
from grassroots.party.models import (
    Alliance,
    AllianceItem,
    AllianceMember,
    ItemStatus,
    ListKind,
    Pairing,
    PartyOrg,
    RotationDuty,
)
from grassroots.places.models import Area, AreaLevel
from grassroots.registry.models import Unit

ALLIANCE_LEVELS = (AreaLevel.COMMUNITY, AreaLevel.SUBDISTRICT)
# How far ahead a joining date may be set (a unit agreed to join from next month).
MAX_JOIN_AHEAD = timedelta(days=366)


def today() -> date:
    return timezone.localdate(clock.now())


def _check_scope(scope: Scope, path: str) -> None:
    if not scope.covers_path(path):
        raise NotFound()


def _clean(value: str, *, field: str, label: str, limit: int, required: bool = True) -> str:
    value = value.strip()
    if required and not value:
        raise DomainError(f"请填写{label}。", field=field)
    if len(value) > limit:
        raise DomainError(f"{label}不能超过{limit}个字。", field=field)
    return value


# --- alliances ----------------------------------------------------------------------------


def _check_lead_org(scope: Scope, lead_org: PartyOrg | None) -> None:
    if lead_org is not None and not scope.covers_path(lead_org.path):
        raise DomainError("牵头党组织不在您的管辖范围内。", field="lead_org")


def alliance_create(*, actor: Actor, scope: Scope, area: Area, name: str, lead_org: PartyOrg | None = None) -> Alliance:
    """A new alliance of a community or a subdistrict inside the actor's scope."""
    _check_scope(scope, area.path)
    if area.level not in ALLIANCE_LEVELS:
        raise DomainError("党建联盟只能建在社区或街道一级。", field="area")
    name = _clean(name, field="name", label="联盟名称", limit=100)
    _check_lead_org(scope, lead_org)
    with transaction.atomic():
        if Alliance.objects.filter(area=area, name=name).exists():
            raise DomainError(f"{area.name}已有名为“{name}”的联盟。", field="name")
        alliance = Alliance.objects.create(
            name=name, area=area, path=area.path, lead_org=lead_org, created_at=clock.now()
        )
        audit_record(
            actor=actor,
            action="party.alliance.create",
            object_type="alliance",
            object_id=alliance.pk,
            area_path=alliance.path,
            detail={"name": name, "area": area.name, "lead_org": lead_org.pk if lead_org else None},
        )
    return alliance


def alliance_update(
    *, actor: Actor, scope: Scope, alliance: Alliance, name: str, lead_org: PartyOrg | None = None
) -> Alliance:
    _check_scope(scope, alliance.path)
    name = _clean(name, field="name", label="联盟名称", limit=100)
    _check_lead_org(scope, lead_org)
    with transaction.atomic():
        if Alliance.objects.filter(area_id=alliance.area_id, name=name).exclude(pk=alliance.pk).exists():
            raise DomainError(f"该区域已有名为“{name}”的联盟。", field="name")
        before = {"name": alliance.name, "lead_org": alliance.lead_org_id}
        alliance.name = name
        alliance.lead_org = lead_org
        alliance.save(update_fields=["name", "lead_org"])
        after = {"name": name, "lead_org": lead_org.pk if lead_org else None}
        audit_record(
            actor=actor,
            action="party.alliance.update",
            object_type="alliance",
            object_id=alliance.pk,
            area_path=alliance.path,
            detail={"before": before, "after": after},
        )
    return alliance


# --- member units -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Joined:
    member: AllianceMember
    rejoined: bool  # True when a unit that had left came back (the row is reused)


def member_add(
    *,
    actor: Actor,
    scope: Scope,
    alliance: Alliance,
    unit: Unit,
    joined_on: date,
    contact_name: str = "",
) -> Joined:
    """A unit joins; a unit that left earlier rejoins on the same row, its history in the audit log."""
    _check_scope(scope, alliance.path)
    contact_name = _clean(contact_name, field="contact_name", label="联络人", limit=50, required=False)
    if joined_on > today() + MAX_JOIN_AHEAD:
        raise DomainError("加入日期不能晚于一年以后。", field="joined_on")
    with transaction.atomic():
        existing = AllianceMember.objects.select_for_update().filter(alliance=alliance, unit=unit).first()
        if existing is None:
            member = AllianceMember.objects.create(
                alliance=alliance, unit=unit, joined_on=joined_on, contact_name=contact_name, path=alliance.path
            )
            audit_record(
                actor=actor,
                action="party.alliance.member.join",
                object_type="alliance_member",
                object_id=member.pk,
                area_path=alliance.path,
                detail={"alliance": alliance.pk, "unit": unit.pk, "unit_name": unit.name, "joined_on": joined_on},
            )
            return Joined(member, rejoined=False)
        if existing.left_on is None:
            raise DomainError(f"“{unit.name}”已是本联盟的成员单位。", field="unit")
        if joined_on < existing.left_on:
            raise DomainError(
                f"“{unit.name}”于 {existing.left_on.isoformat()} 退出，重新加入的日期不能早于退出日期。",
                field="joined_on",
            )
        previous = {"joined_on": existing.joined_on, "left_on": existing.left_on}
        existing.joined_on = joined_on
        existing.left_on = None
        if contact_name:
            existing.contact_name = contact_name
        existing.save(update_fields=["joined_on", "left_on", "contact_name"])
        audit_record(
            actor=actor,
            action="party.alliance.member.rejoin",
            object_type="alliance_member",
            object_id=existing.pk,
            area_path=alliance.path,
            detail={
                "alliance": alliance.pk,
                "unit": unit.pk,
                "unit_name": unit.name,
                "joined_on": joined_on,
                "previous": previous,
            },
        )
        return Joined(existing, rejoined=True)


def member_leave(*, actor: Actor, scope: Scope, member: AllianceMember, left_on: date) -> AllianceMember:
    """A member unit leaves on ``left_on`` (not before it joined, not in the future)."""
    _check_scope(scope, member.path)
    with transaction.atomic():
        member = AllianceMember.objects.select_for_update().select_related("unit").get(pk=member.pk)
        if member.left_on is not None:
            raise DomainError(f"“{member.unit.name}”已于 {member.left_on.isoformat()} 退出。", field="left_on")
        if left_on < member.joined_on:
            raise DomainError("退出日期不能早于加入日期。", field="left_on")
        if left_on > today():
            raise DomainError("退出日期不能晚于今天。", field="left_on")
        member.left_on = left_on
        member.save(update_fields=["left_on"])
        audit_record(
            actor=actor,
            action="party.alliance.member.leave",
            object_type="alliance_member",
            object_id=member.pk,
            area_path=member.path,
            detail={
                "alliance": member.alliance_id,
                "unit": member.unit_id,
                "unit_name": member.unit.name,
                "joined_on": member.joined_on,
                "left_on": left_on,
            },
        )
    return member


# --- pairing (挂钩结对) ------------------------------------------------------------------------


def pairing_create(
    *, actor: Actor, scope: Scope, unit: Unit, community: Area, since: date, content: str = ""
) -> Pairing:
    _check_scope(scope, community.path)
    if community.level != AreaLevel.COMMUNITY:
        raise DomainError("挂钩结对的对象应为社区。", field="community")
    content = _clean(content, field="content", label="结对内容", limit=300, required=False)
    if since > today() + MAX_JOIN_AHEAD:
        raise DomainError("结对日期不能晚于一年以后。", field="since")
    with transaction.atomic():
        live = Pairing.objects.filter(unit=unit, community=community, until__isnull=True).exists()
        if live:
            raise DomainError(f"“{unit.name}”已与{community.name}结对。", field="unit")
        pairing = Pairing.objects.create(
            unit=unit, community=community, path=community.path, since=since, content=content
        )
        audit_record(
            actor=actor,
            action="party.pairing.create",
            object_type="pairing",
            object_id=pairing.pk,
            area_path=pairing.path,
            detail={"unit": unit.pk, "unit_name": unit.name, "community": community.name, "since": since},
        )
    return pairing


def pairing_end(*, actor: Actor, scope: Scope, pairing: Pairing, until: date) -> Pairing:
    _check_scope(scope, pairing.path)
    with transaction.atomic():
        pairing = Pairing.objects.select_for_update().get(pk=pairing.pk)
        if pairing.until is not None:
            raise DomainError(f"该结对已于 {pairing.until.isoformat()} 结束。", field="until")
        if until < pairing.since:
            raise DomainError("结束日期不能早于结对日期。", field="until")
        if until > today():
            raise DomainError("结束日期不能晚于今天。", field="until")
        pairing.until = until
        pairing.save(update_fields=["until"])
        audit_record(
            actor=actor,
            action="party.pairing.end",
            object_type="pairing",
            object_id=pairing.pk,
            area_path=pairing.path,
            detail={"unit": pairing.unit_id, "since": pairing.since, "until": until},
        )
    return pairing


# --- rotation duty (轮值) ---------------------------------------------------------------------


@dataclass(frozen=True)
class RotationResult:
    year: int
    length: str
    kept: int  # periods already started and left as they were
    written: int  # rows written
    unassigned: int  # periods with no eligible unit


def rotation_generate(
    *,
    actor: Actor,
    scope: Scope,
    alliance: Alliance,
    year: int,
    length: str = "month",
    rewrite_past: bool = False,
    on: date | None = None,
) -> RotationResult:
    """Plan the year's rotation and replace the year's rows in one transaction.

    Periods that have already started (``starts_on`` ≤ ``on``, today by default) are kept as they
    are and count toward the fairness of the rest, unless ``rewrite_past`` is set.
    """
    _check_scope(scope, alliance.path)
    if length not in rotation.PERIOD_LENGTHS:
        raise DomainError("轮值周期应为按月或按季度。", field="length")
    if not 2000 <= year <= 2100:
        raise DomainError("年度应在 2000 到 2100 之间。", field="year")
    on = on or today()
    slots = rotation.periods(year, length)
    first, last = date(year, 1, 1), date(year, 12, 31)
    with transaction.atomic():
        Alliance.objects.select_for_update().filter(pk=alliance.pk).first()
        existing = list(RotationDuty.objects.filter(alliance=alliance, starts_on__range=(first, last)))
        by_start = {row.starts_on: row for row in existing}
        fixed: list[int | None] = []
        if not rewrite_past:
            grid = {(s.starts_on, s.ends_on) for s in slots}
            if any((r.starts_on, r.ends_on) not in grid for r in existing if r.starts_on <= on):
                raise DomainError(
                    "已开始的轮值期与所选周期长度不一致；如确需改动，请勾选“重写已开始的期次”。", field="length"
                )
            fixed = [
                by_start[s.starts_on].unit_id if s.starts_on in by_start else None for s in slots if s.starts_on <= on
            ]
        members = list(AllianceMember.objects.filter(alliance=alliance, left_on__isnull=True).order_by("id"))
        if not members:
            raise DomainError("联盟还没有在册的成员单位，无法排轮值。")
        candidates = [rotation.Candidate(m.unit_id, m.joined_on) for m in members]
        last_year = dict(
            RotationDuty.objects.filter(alliance=alliance, starts_on__year=year - 1)
            .values_list("unit_id")
            .annotate(n=Count("id"))
            .values_list("unit_id", "n")
        )
        before = RotationDuty.objects.filter(alliance=alliance, ends_on=first - timedelta(days=1)).first()
        chairs = rotation.schedule(
            candidates,
            slots,
            last_year=last_year,
            previous=before.unit_id if before else None,
            fixed=fixed,
        )
        replaced = [[r.starts_on, r.ends_on, r.unit_id] for r in existing if r.starts_on > on or rewrite_past]
        doomed = [r.pk for r in existing if r.starts_on > on or rewrite_past]
        RotationDuty.objects.filter(pk__in=doomed).delete()
        rows = [
            RotationDuty(alliance=alliance, unit_id=chair, starts_on=slot.starts_on, ends_on=slot.ends_on)
            for index, (slot, chair) in enumerate(zip(slots, chairs, strict=True))
            if index >= len(fixed) and chair is not None
        ]
        RotationDuty.objects.bulk_create(rows)
        audit_record(
            actor=actor,
            action="party.alliance.rotation.generate",
            object_type="alliance",
            object_id=alliance.pk,
            area_path=alliance.path,
            detail={
                "year": year,
                "length": length,
                "rewrite_past": rewrite_past,
                "kept": len(fixed),
                "schedule": [[r.starts_on, r.unit_id] for r in rows],
                "replaced": replaced,
            },
        )
    unassigned = sum(1 for index, chair in enumerate(chairs) if index >= len(fixed) and chair is None)
    return RotationResult(year, length, kept=len(fixed), written=len(rows), unassigned=unassigned)


# --- the five lists (五张清单) -------------------------------------------------------------------


def _check_owner(alliance: Alliance, owner_unit: Unit | None) -> None:
    if owner_unit is None:
        return
    if not AllianceMember.objects.filter(alliance=alliance, unit=owner_unit, left_on__isnull=True).exists():
        raise DomainError(f"“{owner_unit.name}”不是本联盟在册的成员单位。", field="owner_unit")


def item_create(
    *,
    actor: Actor,
    scope: Scope,
    alliance: Alliance,
    kind: str,
    title: str,
    detail: str = "",
    owner_unit: Unit | None = None,
    owner_name: str = "",
    due_on: date | None = None,
) -> AllianceItem:
    _check_scope(scope, alliance.path)
    if kind not in ListKind.values:
        raise DomainError(f"未知的清单“{kind}”。", field="kind")
    title = _clean(title, field="title", label="事项", limit=200)
    detail = _clean(detail, field="detail", label="说明", limit=2000, required=False)
    owner_name = _clean(owner_name, field="owner_name", label="责任人", limit=50, required=False)
    _check_owner(alliance, owner_unit)
    now = clock.now()
    with transaction.atomic():
        item = AllianceItem.objects.create(
            alliance=alliance,
            kind=kind,
            title=title,
            detail=detail,
            owner_unit=owner_unit,
            owner_name=owner_name,
            due_on=due_on,
            path=alliance.path,
            created_at=now,
            updated_at=now,
        )
        audit_record(
            actor=actor,
            action="party.alliance.item.create",
            object_type="alliance_item",
            object_id=item.pk,
            area_path=item.path,
            detail={"alliance": alliance.pk, "kind": kind, "title": title, "due_on": due_on},
        )
    return item


def item_update(
    *,
    actor: Actor,
    scope: Scope,
    item: AllianceItem,
    title: str,
    detail: str = "",
    owner_unit: Unit | None = None,
    owner_name: str = "",
    due_on: date | None = None,
) -> AllianceItem:
    _check_scope(scope, item.path)
    title = _clean(title, field="title", label="事项", limit=200)
    detail = _clean(detail, field="detail", label="说明", limit=2000, required=False)
    owner_name = _clean(owner_name, field="owner_name", label="责任人", limit=50, required=False)
    if owner_unit is not None and owner_unit.pk != item.owner_unit_id:
        _check_owner(item.alliance, owner_unit)
    fields = {
        "title": title,
        "detail": detail,
        "owner_unit_id": owner_unit.pk if owner_unit else None,
        "owner_name": owner_name,
        "due_on": due_on,
    }
    changed = {k: [getattr(item, k), v] for k, v in fields.items() if getattr(item, k) != v}
    if not changed:
        return item
    with transaction.atomic():
        for key, value in fields.items():
            setattr(item, key, value)
        item.updated_at = clock.now()
        item.save(update_fields=[*fields, "updated_at"])
        audit_record(
            actor=actor,
            action="party.alliance.item.update",
            object_type="alliance_item",
            object_id=item.pk,
            area_path=item.path,
            detail={"changed": changed},
        )
    return item


def item_set_status(*, actor: Actor, scope: Scope, item: AllianceItem, status: str, note: str = "") -> AllianceItem:
    """Change an item's status; every change is audited with where it came from."""
    _check_scope(scope, item.path)
    if status not in ItemStatus.values:
        raise DomainError(f"未知的状态“{status}”。", field="status")
    note = _clean(note, field="note", label="说明", limit=300, required=False)
    with transaction.atomic():
        item = AllianceItem.objects.select_for_update().get(pk=item.pk)
        if item.status == status:
            raise DomainError(f"该事项已是“{ItemStatus(status).label}”。", field="status")
        previous = item.status
        item.status = status
        item.updated_at = clock.now()
        item.save(update_fields=["status", "updated_at"])
        audit_record(
            actor=actor,
            action="party.alliance.item.status",
            object_type="alliance_item",
            object_id=item.pk,
            area_path=item.path,
            detail={"from": previous, "to": status, "note": note},
        )
    return item
