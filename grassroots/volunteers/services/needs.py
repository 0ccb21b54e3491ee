"""Needs ↔ resources: record them, propose the best assignment, accept or decline, run projects.

``matches_propose`` hands the open needs and the spare capacity of a scope to the pure engine in
``volunteers/matching.py`` (min-cost max-flow: most demand covered, then least distance) and
writes its pairings as proposed ``Match`` rows, replacing the proposals it made before. A person
accepting a match turns it into a ``Project``; its progress reaching 100 % completes it, and the
need is closed once every accepted match of it is done.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, cast

from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from grassroots.audit.services import audit_record
from grassroots.core import clock
from grassroots.core.errors import DomainError
from grassroots.core.scope import Scope
from grassroots.places.models import Area
from grassroots.registry.models import Person, Unit
from grassroots.volunteers import matching
from grassroots.volunteers.models import Match, MatchState, MatchStatus, Need, Project, Resource, Skill, Volunteer
from grassroots.volunteers.services._common import audit_actor, manage_scope, require_path

PROPOSABLE = (MatchState.OPEN, MatchState.PROPOSED)


def _position(*candidates: tuple[float | None, float | None]) -> tuple[float | None, float | None]:
    for lon, lat in candidates:
        if lon is not None and lat is not None:
            return lon, lat
    return None, None


def _person_position(person: Person | None) -> tuple[float | None, float | None]:
    if person is None or person.dwelling_id is None or person.dwelling is None:
        return None, None
    building = person.dwelling.building
    return building.lon, building.lat


def _check_lon_lat(lon: float | None, lat: float | None) -> None:
    if (lon is None) != (lat is None):
        raise DomainError("经度和纬度应同时填写。", field="lon")
    if lon is not None and lat is not None and not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise DomainError("经纬度超出范围。", field="lon")


@transaction.atomic
def need_create(
    *,
    actor: Any,
    title: str,
    skill: Skill,
    area: Area,
    demand: int = 1,
    detail: str = "",
    raised_by: Person | None = None,
    due_on: date | None = None,
    lon: float | None = None,
    lat: float | None = None,
) -> Need:
    scope = manage_scope(actor)
    require_path(scope, area.path)
    title = title.strip()
    if not title or len(title) > 200:
        raise DomainError("需求不能为空，且不超过200个字。", field="title")
    if demand < 1 or demand > 1000:
        raise DomainError("需要数量应在 1 到 1000 之间。", field="demand")
    if raised_by is not None:
        require_path(scope, raised_by.path)
    _check_lon_lat(lon, lat)
    lon, lat = _position((lon, lat), _person_position(raised_by), (area.lon, area.lat))
    need = Need.objects.create(
        title=title,
        detail=detail.strip(),
        skill=skill,
        area=area,
        path=area.path,
        lon=lon,
        lat=lat,
        demand=demand,
        raised_by=raised_by,
        due_on=due_on,
        created_at=clock.now(),
    )
    audit_record(
        actor=audit_actor(actor),
        action="volunteers.need.create",
        object_type="need",
        object_id=need.pk,
        area_path=need.path,
        detail={"title": title, "skill": skill.code, "demand": demand},
    )
    return need


@transaction.atomic
def need_close(*, actor: Any, need: Need) -> Need:
    scope = manage_scope(actor)
    require_path(scope, need.path)
    need = Need.objects.select_for_update().get(pk=need.pk)
    if need.state == MatchState.CLOSED:
        raise DomainError("该需求已关闭。")
    need.state = MatchState.CLOSED
    need.save(update_fields=["state"])
    Match.objects.filter(need=need, status=MatchStatus.PROPOSED).delete()
    audit_record(
        actor=audit_actor(actor),
        action="volunteers.need.close",
        object_type="need",
        object_id=need.pk,
        area_path=need.path,
    )
    return need


@transaction.atomic
def resource_create(
    *,
    actor: Any,
    title: str,
    skill: Skill,
    area: Area,
    capacity: int = 1,
    unit: Unit | None = None,
    volunteer: Volunteer | None = None,
    lon: float | None = None,
    lat: float | None = None,
) -> Resource:
    """What a partner unit, a talent or a volunteer offers; the position defaults to theirs."""
    scope = manage_scope(actor)
    require_path(scope, area.path)
    title = title.strip()
    if not title or len(title) > 200:
        raise DomainError("资源名称不能为空，且不超过200个字。", field="title")
    if capacity < 1 or capacity > 1000:
        raise DomainError("可提供数量应在 1 到 1000 之间。", field="capacity")
    if unit is not None and volunteer is not None:
        raise DomainError("资源提供方请在单位和志愿者中选一个。", field="unit")
    if unit is not None:
        require_path(scope, unit.path)
    if volunteer is not None:
        require_path(scope, volunteer.path)
        if not volunteer.is_active:
            raise DomainError("该志愿者已不在册。", field="volunteer")
    _check_lon_lat(lon, lat)
    lon, lat = _position(
        (lon, lat),
        (unit.lon, unit.lat) if unit is not None else (None, None),
        _person_position(volunteer.person) if volunteer is not None else (None, None),
        (area.lon, area.lat),
    )
    resource = Resource.objects.create(
        title=title,
        skill=skill,
        unit=unit,
        volunteer=volunteer,
        area=area,
        path=area.path,
        lon=lon,
        lat=lat,
        capacity=capacity,
        created_at=clock.now(),
    )
    audit_record(
        actor=audit_actor(actor),
        action="volunteers.resource.create",
        object_type="resource",
        object_id=resource.pk,
        area_path=resource.path,
        detail={"title": title, "skill": skill.code, "capacity": capacity},
    )
    return resource


@transaction.atomic
def resource_retire(*, actor: Any, resource: Resource) -> Resource:
    scope = manage_scope(actor)
    require_path(scope, resource.path)
    resource.is_active = False
    resource.save(update_fields=["is_active"])
    Match.objects.filter(resource=resource, status=MatchStatus.PROPOSED).delete()
    audit_record(
        actor=audit_actor(actor),
        action="volunteers.resource.retire",
        object_type="resource",
        object_id=resource.pk,
        area_path=resource.path,
    )
    return resource


# --- proposing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Proposal:
    matches: list[Match]
    needs: int  # open needs considered
    demand: int  # their remaining demand
    covered: int  # of which the proposals cover


def _sums(rows: Any, key: str) -> dict[int, int]:
    return {r[key]: r["n"] or 0 for r in rows.values(key).annotate(n=Sum("amount"))}


def matches_propose(*, actor: Any, area: Area | None = None, max_distance_m: float | None = None) -> Proposal:
    """Propose the best assignment for the open needs at or below ``area`` (default: the actor's scope).

    Resources offered anywhere in the actor's scope may serve them. Earlier proposals for these
    needs are replaced; a pairing once declined is not proposed again; capacity already promised
    by accepted matches of unfinished projects, or proposed for needs outside this run, is spare no more.
    """
    scope = manage_scope(actor)
    if area is not None:
        require_path(scope, area.path)
    target = Scope(area_path=area.path) if area is not None else scope
    if max_distance_m is not None and max_distance_m <= 0:
        raise DomainError("最远距离应大于 0。", field="max_distance_m")
    now = clock.now()
    with transaction.atomic():
        needs = list(Need.objects.select_for_update().filter(target.path_q(), state__in=PROPOSABLE).order_by("id"))
        need_ids = [n.pk for n in needs]
        Match.objects.filter(need_id__in=need_ids, status=MatchStatus.PROPOSED).delete()
        resources = list(Resource.objects.filter(scope.path_q(), is_active=True).order_by("id"))
        resource_ids = [r.pk for r in resources]
        accepted_for_need = _sums(Match.objects.filter(need_id__in=need_ids, status=MatchStatus.ACCEPTED), "need_id")
        promised = _sums(
            Match.objects.filter(resource_id__in=resource_ids).filter(
                Q(status=MatchStatus.ACCEPTED, project__done_at__isnull=True) | Q(status=MatchStatus.PROPOSED)
            ),
            "resource_id",
        )
        declined = set(
            Match.objects.filter(need_id__in=need_ids, status=MatchStatus.DECLINED).values_list(
                "need_id", "resource_id"
            )
        )
        demands = [
            matching.Demand(
                n.pk,
                n.skill_id,
                max(0, n.demand - accepted_for_need.get(n.pk, 0)),
                (n.lon, n.lat) if n.lon is not None and n.lat is not None else None,
            )
            for n in needs
        ]
        offers = [
            matching.Offer(
                r.pk,
                r.skill_id,
                max(0, r.capacity - promised.get(r.pk, 0)),
                (r.lon, r.lat) if r.lon is not None and r.lat is not None else None,
            )
            for r in resources
        ]
        result = matching.propose(demands, offers, max_distance_m=max_distance_m, forbidden=declined)
        need_by_id = {n.pk: n for n in needs}
        created = Match.objects.bulk_create(
            [
                Match(
                    need_id=cast(int, p.need),
                    resource_id=cast(int, p.resource),
                    amount=p.amount,
                    distance_m=round(p.distance_m, 1) if p.distance_m is not None else None,
                    score=matching.score(p.distance_m),
                    path=need_by_id[cast(int, p.need)].path,
                    created_at=now,
                )
                for p in result.pairings
            ]
        )
        proposed_ids = {p.need for p in result.pairings}
        now_proposed = [n.pk for n in needs if n.pk in proposed_ids and n.state == MatchState.OPEN]
        now_open = [n.pk for n in needs if n.pk not in proposed_ids and n.state == MatchState.PROPOSED]
        Need.objects.filter(pk__in=now_proposed).update(state=MatchState.PROPOSED)
        Need.objects.filter(pk__in=now_open).update(state=MatchState.OPEN)
        audit_record(
            actor=audit_actor(actor),
            action="volunteers.match.propose",
            object_type="match",
            area_path=target.area_path or "",
            detail={
                "needs": len(needs),
                "resources": len(resources),
                "matches": len(created),
                "covered": result.covered,
                "max_distance_m": max_distance_m,
            },
        )
    return Proposal(matches=created, needs=len(needs), demand=sum(d.amount for d in demands), covered=result.covered)


# --- deciding ----------------------------------------------------------------------------------


def _locked_match(scope: Scope, match: Match) -> Match:
    require_path(scope, match.path)
    locked = Match.objects.select_for_update().select_related("need", "resource").get(pk=match.pk)
    if locked.status != MatchStatus.PROPOSED:
        raise DomainError(f"该对接已{locked.get_status_display()}，不能再处理。")
    return locked


@transaction.atomic
def match_accept(*, actor: Any, match: Match, title: str = "") -> Project:
    """Accept a proposal: the match is accepted, the need matched, and a project starts."""
    scope = manage_scope(actor)
    match = _locked_match(scope, match)
    need = Need.objects.select_for_update().get(pk=match.need_id)
    if need.state == MatchState.CLOSED:
        raise DomainError("该需求已关闭。")
    if not match.resource.is_active:
        raise DomainError("该资源已停用。")
    now = clock.now()
    match.status = MatchStatus.ACCEPTED
    match.decided_at = now
    match.save(update_fields=["status", "decided_at"])
    need.state = MatchState.MATCHED
    need.save(update_fields=["state"])
    project = Project.objects.create(
        match=match,
        title=(title.strip() or f"{need.title} · {match.resource.title}")[:200],
        path=need.path,
        created_at=now,
        updated_at=now,
    )
    audit_record(
        actor=audit_actor(actor),
        action="volunteers.match.accept",
        object_type="match",
        object_id=match.pk,
        area_path=match.path,
        detail={"need": need.pk, "resource": match.resource_id, "amount": match.amount, "project": project.pk},
    )
    return project


@transaction.atomic
def match_decline(*, actor: Any, match: Match) -> Match:
    """Decline a proposal; the pairing is not proposed again, and a need left without one is open again."""
    scope = manage_scope(actor)
    match = _locked_match(scope, match)
    match.status = MatchStatus.DECLINED
    match.decided_at = clock.now()
    match.save(update_fields=["status", "decided_at"])
    others = Match.objects.filter(need_id=match.need_id).exclude(pk=match.pk)
    if match.need.state == MatchState.PROPOSED and not others.filter(status=MatchStatus.PROPOSED).exists():
        Need.objects.filter(pk=match.need_id).update(state=MatchState.OPEN)
    audit_record(
        actor=audit_actor(actor),
        action="volunteers.match.decline",
        object_type="match",
        object_id=match.pk,
        area_path=match.path,
        detail={"need": match.need_id, "resource": match.resource_id},
    )
    return match


@transaction.atomic
def project_update(*, actor: Any, project: Project, progress: int, note: str = "") -> Project:
    """Record progress (0–100 %, never backwards); 100 % completes the project."""
    scope = manage_scope(actor)
    require_path(scope, project.path)
    project = Project.objects.select_for_update().select_related("match").get(pk=project.pk)
    if project.done_at is not None:
        raise DomainError("该项目已完成。")
    if progress < 0 or progress > 100:
        raise DomainError("进度应在 0 到 100 之间。", field="progress")
    if progress < project.progress:
        raise DomainError(f"进度不能倒退（当前 {project.progress}%）。", field="progress")
    now = clock.now()
    text = note.strip()
    if text:
        stamp = f"[{timezone.localtime(now):%Y-%m-%d %H:%M} · {progress}%] {text}"
        project.note = f"{project.note}\n{stamp}".strip()
    project.progress = progress
    project.updated_at = now
    if progress == 100:
        project.done_at = now
    project.save(update_fields=["progress", "note", "updated_at", "done_at"])
    if project.done_at is not None:
        need_id = project.match.need_id
        unfinished = Match.objects.filter(
            need_id=need_id, status=MatchStatus.ACCEPTED, project__done_at__isnull=True
        ).exists()
        if not unfinished:
            Need.objects.filter(pk=need_id, state=MatchState.MATCHED).update(state=MatchState.CLOSED)
            Match.objects.filter(need_id=need_id, status=MatchStatus.PROPOSED).delete()
    audit_record(
        actor=audit_actor(actor),
        action="volunteers.project.update",
        object_type="project",
        object_id=project.pk,
        area_path=project.path,
        detail={"progress": progress, "done": project.done_at is not None},
    )
    return project
