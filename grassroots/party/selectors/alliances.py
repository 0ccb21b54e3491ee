"""Reads for partner units and alliances (党建联盟), every one starting from the actor's scope.

Out of scope is ``NotFound``, never an empty page: an alliance of another community, a pairing
with a community outside the scope, a unit paired only outside the scope.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from django.db.models import Count, Q, QuerySet

from grassroots.core.errors import NotFound
from grassroots.core.scope import Scope
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

OPEN_STATES = (ItemStatus.OPEN, ItemStatus.IN_PROGRESS)
OVERDUE = "overdue"  # a status filter meaning "open or in progress, past its due date"


# --- alliances ----------------------------------------------------------------------------


def alliances(scope: Scope) -> QuerySet[Alliance]:
    """The alliances in scope, each with ``active_members`` (member units that have not left)."""
    return (
        Alliance.objects.in_scope(scope)
        .select_related("area", "lead_org")
        .annotate(active_members=Count("members", filter=Q(members__left_on__isnull=True)))
        .order_by("path", "name")
    )


def alliance_get(scope: Scope, alliance_id: int) -> Alliance:
    alliance = Alliance.objects.in_scope(scope).select_related("area", "lead_org").filter(pk=alliance_id).first()
    if alliance is None:
        raise NotFound()
    return alliance


@dataclass
class AreaCount:
    area_id: int
    name: str
    level: str
    path: str
    alliances: int = 0
    units: int = 0  # distinct member units that have not left, this area and below


@dataclass
class MemberCounts:
    rows: list[AreaCount]  # subdistricts and communities holding alliances, in path order
    total_units: int  # distinct member units in the whole scope (a unit in two alliances counts once)


def member_unit_counts(scope: Scope) -> MemberCounts:
    """成员单位 per community and subdistrict (the documents count 9,748 in Kunming). Two queries."""
    links = list(
        AllianceMember.objects.in_scope(scope).filter(left_on__isnull=True).values_list("path", "unit_id").distinct()
    )
    per_alliance = list(Alliance.objects.in_scope(scope).values_list("area_id", "path"))
    paths = {p for _, p in per_alliance}
    # A subdistrict's row covers its own alliance and its communities' (only when the scope covers it).
    areas = {a for a in {p.rsplit(".", 1)[0] for p in paths} | paths if scope.covers_path(a)}
    nodes = {
        a.path: a
        for a in Area.objects.filter(path__in=areas, level__in=[AreaLevel.SUBDISTRICT, AreaLevel.COMMUNITY]).only(
            "id", "name", "level", "path"
        )
    }
    units: dict[str, set[int]] = defaultdict(set)
    for path, unit_id in links:
        for node in (path, path.rsplit(".", 1)[0]):
            if node in nodes:
                units[node].add(unit_id)
    count_alliances: dict[str, int] = defaultdict(int)
    for _, path in per_alliance:
        for node in {path, path.rsplit(".", 1)[0]}:
            if node in nodes:
                count_alliances[node] += 1
    rows = [
        AreaCount(a.pk, a.name, a.level, a.path, count_alliances[a.path], len(units[a.path]))
        for a in sorted(nodes.values(), key=lambda a: a.path)
    ]
    return MemberCounts(rows=rows, total_units=len({u for _, u in links}))


# --- the alliance page ------------------------------------------------------------------------


@dataclass
class ItemRow:
    item: AllianceItem
    overdue: bool


@dataclass
class CalendarRow:
    duty: RotationDuty
    current: bool
    past: bool


@dataclass
class AlliancePage:
    alliance: Alliance
    members: list[AllianceMember]
    former: list[AllianceMember]
    year: int
    calendar: list[CalendarRow]
    kind: str
    status: str
    items: list[ItemRow]
    tabs: list[dict[str, object]] = field(default_factory=list)


def is_overdue(item: AllianceItem, today: date) -> bool:
    return item.status in OPEN_STATES and item.due_on is not None and item.due_on < today


def items_of(alliance: Alliance, *, kind: str, status: str = "", today: date) -> list[ItemRow]:
    """One list's items, filtered by status (or ``"overdue"``), each flagged when overdue."""
    qs = AllianceItem.objects.filter(alliance=alliance, kind=kind).select_related("owner_unit")
    if status == OVERDUE:
        qs = qs.filter(status__in=OPEN_STATES, due_on__lt=today)
    elif status:
        qs = qs.filter(status=status)
    qs = qs.order_by("due_on", "id")
    return [ItemRow(item, is_overdue(item, today)) for item in qs]


def alliance_page(
    scope: Scope, alliance_id: int, *, year: int, today: date, kind: str = ListKind.INFORMATION, status: str = ""
) -> AlliancePage:
    """Everything the alliance page shows, in a fixed number of queries whatever the sizes."""
    alliance = alliance_get(scope, alliance_id)
    if kind not in ListKind.values:
        kind = ListKind.INFORMATION
    if status not in ItemStatus.values and status != OVERDUE:
        status = ""
    everyone = list(
        AllianceMember.objects.filter(alliance=alliance).select_related("unit").order_by("joined_on", "unit__name")
    )
    duties = RotationDuty.objects.filter(alliance=alliance, starts_on__year=year).select_related("unit")
    calendar = [CalendarRow(d, d.starts_on <= today <= d.ends_on, d.ends_on < today) for d in duties]
    counts = {
        row["kind"]: row
        for row in AllianceItem.objects.filter(alliance=alliance)
        .values("kind")
        .annotate(
            n=Count("id"),
            overdue=Count("id", filter=Q(status__in=OPEN_STATES, due_on__lt=today)),
        )
    }
    tabs: list[dict[str, object]] = [
        {
            "kind": value,
            "label": label,
            "count": counts.get(value, {}).get("n", 0),
            "overdue": counts.get(value, {}).get("overdue", 0),
            "active": value == kind,
        }
        for value, label in ListKind.choices
    ]
    return AlliancePage(
        alliance=alliance,
        members=[m for m in everyone if m.left_on is None],
        former=[m for m in everyone if m.left_on is not None],
        year=year,
        calendar=calendar,
        kind=kind,
        status=status,
        items=items_of(alliance, kind=kind, status=status, today=today),
        tabs=tabs,
    )


def member_get(scope: Scope, alliance: Alliance, member_id: int) -> AllianceMember:
    member = (
        AllianceMember.objects.in_scope(scope).filter(alliance=alliance, pk=member_id).select_related("unit").first()
    )
    if member is None:
        raise NotFound()
    return member


def item_get(scope: Scope, alliance: Alliance, item_id: int) -> AllianceItem:
    item = (
        AllianceItem.objects.in_scope(scope)
        .filter(alliance=alliance, pk=item_id)
        .select_related("alliance", "owner_unit")
        .first()
    )
    if item is None:
        raise NotFound()
    return item


def active_member_units(alliance: Alliance, *, keep: int | None = None) -> QuerySet[Unit]:
    """The alliance's member units that have not left (and ``keep``, an item's owner that has left)."""
    active = AllianceMember.objects.filter(alliance=alliance, left_on__isnull=True).values("unit_id")
    return Unit.objects.filter(Q(pk__in=active) | Q(pk=keep)).order_by("name")


# --- pairings (挂钩结对) -----------------------------------------------------------------------


def pairings(
    scope: Scope, *, community_id: int | None = None, unit_id: int | None = None, live_only: bool = False
) -> QuerySet[Pairing]:
    """Pairings with communities in scope; one community's or one unit's when asked."""
    qs = Pairing.objects.in_scope(scope).select_related("unit", "community")
    if community_id is not None:
        qs = qs.filter(community_id=community_id)
    if unit_id is not None:
        qs = qs.filter(unit_id=unit_id)
    if live_only:
        qs = qs.filter(until__isnull=True)
    return qs.order_by("path", "-since", "id")


def pairing_get(scope: Scope, pairing_id: int) -> Pairing:
    pairing = Pairing.objects.in_scope(scope).select_related("unit", "community").filter(pk=pairing_id).first()
    if pairing is None:
        raise NotFound()
    return pairing


def unit_pairings(scope: Scope, unit_id: int) -> tuple[Unit, list[Pairing]]:
    """A unit's pairings in scope; a unit neither located nor paired in scope is NotFound."""
    rows = list(pairings(scope, unit_id=unit_id))
    if rows:
        return rows[0].unit, rows
    unit = Unit.objects.in_scope(scope).filter(pk=unit_id).first()
    if unit is None:
        raise NotFound()
    return unit, []


# --- choices for forms ------------------------------------------------------------------------


def unit_choices(scope: Scope) -> QuerySet[Unit]:
    """Units a form may offer: located in scope, or already a member or pairing partner in scope."""
    if scope.area_path is None:
        return Unit.objects.none()
    if scope.is_everything:
        return Unit.objects.order_by("name")
    linked = Q(pk__in=AllianceMember.objects.in_scope(scope).values("unit_id")) | Q(
        pk__in=Pairing.objects.in_scope(scope).values("unit_id")
    )
    return Unit.objects.filter(scope.path_q("path") | linked).order_by("name")


def unit_by_credit_code(code: str) -> Unit | None:
    """Credit codes are public (公示), so finding a unit by its code reveals nothing."""
    return Unit.objects.filter(credit_code=code).order_by("id").first() if code else None


def alliance_areas(scope: Scope) -> QuerySet[Area]:
    return Area.objects.in_scope(scope).filter(level__in=[AreaLevel.SUBDISTRICT, AreaLevel.COMMUNITY]).order_by("path")


def communities(scope: Scope) -> QuerySet[Area]:
    return Area.objects.in_scope(scope).filter(level=AreaLevel.COMMUNITY).order_by("path")


def party_orgs(scope: Scope) -> QuerySet[PartyOrg]:
    return PartyOrg.objects.in_scope(scope).filter(is_active=True).order_by("path", "name")
