"""Reads for one-tap mobilisation (一键动员): who is called, the live roster, drill figures.

``roster_candidates`` answers the deduplicated list of people a mobilisation calls, in a fixed
order, so a fan-out that restarts after a crash walks the same list. Pages start from the
user's scope for ``mobilise``: a mobilisation outside it is ``NotFound``.
"""

from __future__ import annotations

import hashlib
import math
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Count, Q

from grassroots.accounts.models import GridRoleAssignment, GridRoleKind, Role, User
from grassroots.accounts.scopes import scope_for
from grassroots.core.errors import NotFound
from grassroots.core.scope import Scope
from grassroots.party.models import Checkin, CheckinState
from grassroots.places.models import Area, AreaLevel
from grassroots.registry.sealing import PHONE_CONTEXT
from grassroots.registry.services.units import UNIT_PHONE_CONTEXT
from grassroots.volunteers.models import (
    Audience,
    BuildingRole,
    BuildingRoleKind,
    Mobilisation,
    MobilisationMode,
    Recipient,
    Volunteer,
)

CAPABILITY = "mobilise"
# The order of calling: a person in several audiences is called once, under the first.
AUDIENCE_ORDER: tuple[str, ...] = tuple(Audience.values)


@dataclass(frozen=True)
class Candidate:
    """One person to call. ``key`` is stable across runs: ``p<person>``, ``u<user>``, ``g<assignment>``, ``n<unit>``."""

    key: str
    name: str
    audience: str
    person_id: int | None = None
    user_id: int | None = None
    grid_id: int | None = None
    path: str = ""
    phone: str = ""  # in clear (a grid worker's public work phone)
    phone_cipher: bytes | None = None  # sealed (a resident's or a unit contact's phone)
    phone_context: str = ""

    @property
    def reachable(self) -> bool:
        return self.user_id is not None or bool(self.phone) or bool(self.phone_cipher)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- scope ----------------------------------------------------------------------------------


def mobilisable_areas(*, user: Any) -> list[Area]:
    """The areas ``user`` may mobilise: their own and everything below it."""
    scope = scope_for(user, CAPABILITY)
    if scope.area_path is None:
        return []
    return list(Area.objects.active().in_scope(scope).order_by("path"))


def area_for_mobilisation(*, user: Any, area_id: int) -> Area:
    scope = scope_for(user, CAPABILITY)
    area = Area.objects.in_scope(scope).filter(pk=area_id).first()
    if area is None:
        raise NotFound()
    return area


def mobilisation_get(*, user: Any, mobilisation_id: int) -> Mobilisation:
    scope = scope_for(user, CAPABILITY)
    found = Mobilisation.objects.in_scope(scope).select_related("area", "started_by").filter(pk=mobilisation_id).first()
    if found is None:
        raise NotFound()
    return found


def mobilisations_for(*, user: Any, mode: str | None = None, limit: int = 50) -> list[Mobilisation]:
    scope = scope_for(user, CAPABILITY)
    rows = Mobilisation.objects.in_scope(scope).select_related("area")
    if mode:
        rows = rows.filter(mode=mode)
    return list(rows.annotate(recipient_count=Count("recipients"))[:limit])


def recipient_by_token(token: str) -> Recipient:
    """The recipient a link's token names; an unknown or malformed token is ``NotFound``."""
    if not token or len(token) > 128:
        raise NotFound()
    found = Recipient.objects.select_related("mobilisation").filter(token_hash=token_hash(token)).first()
    if found is None:
        raise NotFound()
    return found


# --- who is called --------------------------------------------------------------------------


def _prefixes(path: str) -> list[str]:
    parts = path.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts) + 1)]


def _ancestor_community_paths(area: Area) -> list[str]:
    """The area itself and, below community level, its community: whose workers and partners also answer."""
    levels = [AreaLevel.COMMUNITY, AreaLevel.GRID]
    return list(Area.objects.filter(path__in=_prefixes(area.path), level__in=levels).values_list("path", flat=True))


class _GridIndex:
    """Maps a path to the grid (within the mobilised area) it lies in."""

    def __init__(self, area: Area) -> None:
        grids = Area.objects.in_scope(Scope(area_path=area.path)).filter(level=AreaLevel.GRID)
        self.by_path = {g.path: g.pk for g in grids.only("pk", "path")}
        self.names = {g.pk: g.name for g in grids.only("pk", "name")}

    def grid_of(self, path: str) -> int | None:
        parts = path.split(".")
        for i in range(len(parts), 0, -1):
            found = self.by_path.get(".".join(parts[:i]))
            if found is not None:
                return found
        return None


def roster_candidates(mobilisation: Mobilisation) -> list[Candidate]:
    """Everyone the mobilisation calls, deduplicated, in a fixed order (by ``key``)."""
    area = mobilisation.area
    scope = Scope(area_path=area.path)
    grids = _GridIndex(area)
    wanted = set(mobilisation.audiences)
    found: dict[str, Candidate] = {}
    persons_seen: set[int] = set()
    users_seen: set[int] = set()
    above = _ancestor_community_paths(area)

    def add(candidate: Candidate) -> None:
        if candidate.person_id is not None:
            if candidate.person_id in persons_seen:
                return
            persons_seen.add(candidate.person_id)
        if candidate.user_id is not None:
            if candidate.user_id in users_seen:
                return
            users_seen.add(candidate.user_id)
        found.setdefault(candidate.key, candidate)

    def with_grid(path: str) -> tuple[int | None, str]:
        grid = grids.grid_of(path)
        return grid, path if grid is not None else area.path

    for audience in AUDIENCE_ORDER:
        if audience not in wanted:
            continue
        if audience == Audience.GRID_WORKERS:
            for gra in (
                GridRoleAssignment.objects.in_scope(scope)
                .filter(kind=GridRoleKind.GRID_WORKER, until__isnull=True)
                .order_by("pk")
            ):
                grid = grids.grid_of(gra.path)
                key = f"u{gra.user_id}" if gra.user_id is not None else f"g{gra.pk}"
                add(
                    Candidate(
                        key=key,
                        name=gra.name,
                        audience=audience,
                        user_id=gra.user_id,
                        grid_id=grid,
                        path=gra.path,
                        phone=gra.phone if gra.user_id is None else "",
                    )
                )
            for user in (
                User.objects.filter(role=Role.GRID_WORKER, is_active=True)
                .filter(scope.path_q("area__path"))
                .select_related("area")
                .order_by("pk")
            ):
                assert user.area is not None
                add(
                    Candidate(
                        key=f"u{user.pk}",
                        name=str(user),
                        audience=audience,
                        user_id=user.pk,
                        grid_id=grids.grid_of(user.area.path),
                        path=user.area.path,
                    )
                )
        elif audience == Audience.COMMUNITY_WORKERS:
            # The community's workers, also when the area called is one of its grids.
            workers = User.objects.filter(role=Role.COMMUNITY_WORKER, is_active=True).filter(
                scope.path_q("area__path") | Q(area__path__in=above)
            )
            for user in workers.select_related("area").order_by("pk"):
                assert user.area is not None
                grid, path = with_grid(user.area.path)
                add(
                    Candidate(
                        key=f"u{user.pk}", name=str(user), audience=audience, user_id=user.pk, grid_id=grid, path=path
                    )
                )
        elif audience == Audience.PARTY_MEMBERS:
            checkins = (
                Checkin.objects.filter(state=CheckinState.CONFIRMED, member__is_active=True)
                .filter(scope.path_q("path") | scope.path_q("member__path"))
                .select_related("member__person")
                .order_by("member__person_id")
            )
            for checkin in checkins:
                person = checkin.member.person
                grid, path = with_grid(person.path or checkin.member.path)
                add(_person_candidate(person, audience, grid, path))
        elif audience == Audience.VOLUNTEERS:
            for volunteer in (
                Volunteer.objects.in_scope(scope).filter(is_active=True).select_related("person").order_by("person_id")
            ):
                grid, path = with_grid(volunteer.path)
                add(_person_candidate(volunteer.person, audience, grid, path))
        elif audience == Audience.BUILDING_HEADS:
            for role in (
                BuildingRole.objects.in_scope(scope)
                .filter(kind__in=[BuildingRoleKind.BUILDING_HEAD, BuildingRoleKind.ENTRANCE_HEAD], until__isnull=True)
                .select_related("person")
                .order_by("person_id")
            ):
                grid, path = with_grid(role.path)
                add(_person_candidate(role.person, audience, grid, path))
        elif audience == Audience.UNIT_CONTACTS:
            for unit_id, name, contact, cipher, path in _partner_units(scope, above):
                grid, where = with_grid(path)
                add(
                    Candidate(
                        key=f"n{unit_id}",
                        name=f"{contact}（{name}）"[:50] if contact else name[:50],
                        audience=audience,
                        grid_id=grid,
                        path=where,
                        phone_cipher=cipher,
                        phone_context=UNIT_PHONE_CONTEXT,
                    )
                )
    return sorted(found.values(), key=lambda c: c.key)


def _person_candidate(person: Any, audience: str, grid: int | None, path: str) -> Candidate:
    cipher = person.phone_cipher
    return Candidate(
        key=f"p{person.pk}",
        name=person.name,
        audience=audience,
        person_id=person.pk,
        grid_id=grid,
        path=path,
        phone_cipher=bytes(cipher) if cipher else None,
        phone_context=PHONE_CONTEXT,
    )


def _partner_units(scope: Scope, above: list[str]) -> Iterable[tuple[int, str, str, bytes | None, str]]:
    """Units paired with (挂钩结对) or members of an alliance of the area, its community or below."""
    from grassroots.party.models import AllianceMember, Pairing

    seen: set[int] = set()
    where = scope.path_q("path") | Q(path__in=above)
    pairings = Pairing.objects.filter(where, until__isnull=True).select_related("unit").order_by("unit_id")
    members = AllianceMember.objects.filter(where, left_on__isnull=True).select_related("unit").order_by("unit_id")
    for row in [*pairings, *members]:
        unit = row.unit
        if unit.pk in seen:
            continue
        seen.add(unit.pk)
        cipher = unit.contact_phone_cipher
        yield unit.pk, unit.name, unit.contact_name, bytes(cipher) if cipher else None, row.path


# --- the live roster ------------------------------------------------------------------------


@dataclass
class GridRow:
    grid_id: int | None
    name: str
    notified: int = 0
    acknowledged: int = 0
    declined: int = 0
    arrived: int = 0
    missing: int = 0
    total: int = 0


@dataclass
class Roster:
    rows: list[GridRow]
    totals: GridRow
    missing: list[Recipient] = field(default_factory=list)
    missing_more: int = 0


_NO_REPLY = Q(acknowledged_at__isnull=True, declined=False, arrived_at__isnull=True)


def roster(mobilisation: Mobilisation, *, missing_limit: int = 200) -> Roster:
    """Counts per grid (notified / acknowledged / declined / arrived / missing) and who has not answered.

    "acknowledged" counts everyone on the way or there (收到); "missing" those who have not answered at all.
    """
    counts = (
        Recipient.objects.filter(mobilisation=mobilisation)
        .values("grid_id")
        .annotate(
            n_total=Count("id"),
            n_notified=Count("id", filter=Q(notified_at__isnull=False)),
            n_acknowledged=Count("id", filter=Q(acknowledged_at__isnull=False, declined=False)),
            n_declined=Count("id", filter=Q(declined=True)),
            n_arrived=Count("id", filter=Q(arrived_at__isnull=False)),
            n_missing=Count("id", filter=_NO_REPLY),
        )
        .order_by()
    )
    names = dict(Area.objects.filter(pk__in=[c["grid_id"] for c in counts if c["grid_id"]]).values_list("pk", "name"))
    rows = []
    totals = GridRow(grid_id=None, name="合计")
    for c in counts:
        row = GridRow(
            grid_id=c["grid_id"],
            name=names.get(c["grid_id"], f"{mobilisation.area.name}（未分网格）"),
            notified=c["n_notified"],
            acknowledged=c["n_acknowledged"],
            declined=c["n_declined"],
            arrived=c["n_arrived"],
            missing=c["n_missing"],
            total=c["n_total"],
        )
        rows.append(row)
        for name in ("notified", "acknowledged", "declined", "arrived", "missing", "total"):
            setattr(totals, name, getattr(totals, name) + getattr(row, name))
    rows.sort(key=lambda r: (r.grid_id is None, r.name))
    missing_qs = Recipient.objects.filter(_NO_REPLY, mobilisation=mobilisation).order_by("path", "name", "id")
    missing = list(missing_qs[:missing_limit])
    more = max(0, totals.missing - len(missing))
    return Roster(rows=rows, totals=totals, missing=missing, missing_more=more)


# --- drill figures --------------------------------------------------------------------------


def _percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..1) of a list; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[rank - 1]


@dataclass
class ResponseFigures:
    name: str
    called: int = 0
    acknowledged: int = 0
    arrived: int = 0
    ack_median: float | None = None  # seconds from the start
    ack_p90: float | None = None
    arrive_median: float | None = None
    arrive_p90: float | None = None


def _figures(name: str, rows: list[tuple[datetime, datetime | None, datetime | None]]) -> ResponseFigures:
    acks = [(a - s).total_seconds() for s, a, _ in rows if a is not None]
    arrivals = [(r - s).total_seconds() for s, _, r in rows if r is not None]
    return ResponseFigures(
        name=name,
        called=len(rows),
        acknowledged=len(acks),
        arrived=len(arrivals),
        ack_median=statistics.median(acks) if acks else None,
        ack_p90=_percentile(acks, 0.9),
        arrive_median=statistics.median(arrivals) if arrivals else None,
        arrive_p90=_percentile(arrivals, 0.9),
    )


@dataclass
class DrillReport:
    mobilisation: Mobilisation
    overall: ResponseFigures
    grids: list[ResponseFigures]


def response_figures(mobilisation: Mobilisation) -> DrillReport:
    """Time to acknowledge and to arrive (median, p90 in seconds) per grid and overall.

    Times run from the moment the person was notified (the start when not recorded);
    a declined person has no acknowledgement time.
    """
    per_grid: dict[int | None, list[tuple[datetime, datetime | None, datetime | None]]] = {}
    rows = Recipient.objects.filter(mobilisation=mobilisation).values_list(
        "grid_id", "notified_at", "acknowledged_at", "declined", "arrived_at"
    )
    for grid_id, notified_at, acknowledged_at, declined, arrived_at in rows:
        start = notified_at or mobilisation.started_at
        ack = None if declined else acknowledged_at
        per_grid.setdefault(grid_id, []).append((start, ack, arrived_at))
    names = dict(Area.objects.filter(pk__in=[g for g in per_grid if g]).values_list("pk", "name"))
    loose = f"{mobilisation.area.name}（未分网格）"
    grids = [_figures(names.get(g, loose) if g else loose, r) for g, r in per_grid.items()]
    grids.sort(key=lambda f: f.name)
    overall = _figures("合计", [r for rs in per_grid.values() for r in rs])
    return DrillReport(mobilisation=mobilisation, overall=overall, grids=grids)


def drills_for(*, user: Any, limit: int = 20) -> list[DrillReport]:
    """Past and current drills in the user's scope, newest first, with their response figures."""
    return [response_figures(m) for m in mobilisations_for(user=user, mode=MobilisationMode.DRILL, limit=limit)]


def active_emergencies_over(area: Area, *, exclude_id: int | None = None) -> list[Mobilisation]:
    """Active emergency mobilisations at ``area``, above it or below it."""
    ancestors = _prefixes(area.path)
    rows = Mobilisation.objects.filter(mode=MobilisationMode.EMERGENCY, ended_at__isnull=True).filter(
        Q(path__in=ancestors) | Scope(area_path=area.path).path_q("path")
    )
    if exclude_id is not None:
        rows = rows.exclude(pk=exclude_id)
    return list(rows.select_related("area"))


__all__ = [
    "AUDIENCE_ORDER",
    "CAPABILITY",
    "Candidate",
    "DrillReport",
    "GridRow",
    "ResponseFigures",
    "Roster",
    "active_emergencies_over",
    "area_for_mobilisation",
    "drills_for",
    "mobilisable_areas",
    "mobilisation_get",
    "mobilisations_for",
    "recipient_by_token",
    "response_figures",
    "roster",
    "roster_candidates",
    "token_hash",
]
